"""The report benchmark runs end to end on a tiny generated semester and prints its figures."""

from __future__ import annotations

import re

from _bench import run_bench


def test_report_bench_prints_the_machine_and_its_timings() -> None:
    """`python -m attendance_bot.bench report` on 12 students x 3 sessions: exit 0, the machine, one figure line."""
    done = run_bench("report", "--students", "12", "--sessions", "3", "--repeat", "1", quick=False, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines[0].startswith("Machine: ")
    assert re.fullmatch(
        r"report of 12 students x 3 sessions \(median of 1\): read \d+ ms, CSV \d+ ms, PNG \d+ ms \(1 page, \d+ KB\), "
        r"total \d+ ms: (within|OVER) the 2 s target",
        lines[1],
    ), lines[1]


def test_report_bench_has_help() -> None:
    """`python -m attendance_bot.bench report --help` explains its options."""
    done = run_bench("report", "--help", quick=False, timeout=60)
    assert done.returncode == 0 and "--students" in done.stdout and "--sessions" in done.stdout
