"""The courses benchmark scenario runs end to end, tiny: 20 courses in 3 servers, every student recorded, no 429."""

from __future__ import annotations

import subprocess

import pytest
from _bench import run_bench, table


@pytest.fixture(scope="module")
def courses_run() -> subprocess.CompletedProcess[str]:
    """`--quick --scenarios courses:60`: 20 courses in 3 servers, 3 students each, edits judged over 2 windows of 5 s."""
    return run_bench("--scenarios", "courses:60", timeout=120)


def test_courses_scenario_runs_and_prints_its_figures(courses_run: subprocess.CompletedProcess[str]) -> None:
    """Our bot only, no bare comparison ("-"); every student of every course recorded; no 429; the edits' lag printed."""
    assert courses_run.returncode == 0, courses_run.stderr[-3000:]
    assert courses_run.stdout.startswith("Machine: ")
    rows = table(courses_run.stdout)
    assert [(r["scenario"], r["bot"]) for r in rows] == [("60 in 20 courses", "ours")]
    row = rows[0]
    assert row["answered"] == row["sent"] == row["ok"] == "60" and row["lost"] == "0" and row["duplicates"] == "0", row
    assert row["throughput ours/bare"] == row["p99 ours/bare"] == "-", row
    extras = {
        key: value
        for key, _, value in (
            line.removeprefix("60 in 20 courses (ours): ").partition(": ")
            for line in courses_run.stdout.splitlines()
            if line.startswith("60 in 20 courses (ours): ")
        )
    }
    assert extras["courses"].startswith("20 in 3 servers, 3 students each"), extras
    assert extras["edit lag p99"].endswith(" ms"), extras
    assert "over 40 window boundaries of 20 code messages" in extras["edit lag max"], extras
    assert extras["429 responses"].startswith("0 (0 to edits) of the bot's "), extras
    assert "lost 0: met" in extras["issue targets"] and "no 429: met" in extras["issue targets"], extras
    notes = [line for line in courses_run.stderr.splitlines() if "note:" in line]
    assert all("code-message edits late" in n for n in notes), notes  # timing on a busy machine may vary; nothing else
