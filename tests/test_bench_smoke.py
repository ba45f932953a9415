"""The burst benchmark runs end to end: real bot and bare bot as processes, nothing lost or duplicated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COLUMNS = (
    "scenario",
    "bot",
    "answered",
    "lost",
    "duplicates",
    "late",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "throughput/s",
    "peak RSS MB",
    "throughput ours/bare",
    "p99 ours/bare",
)


@pytest.fixture(scope="module")
def quick_run() -> subprocess.CompletedProcess[str]:
    """One `python -m attendance_bot.bench --quick --markdown` (50 at once, 200 over one 5 s window)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for name in ("CODE_ROTATION_INTERVAL", "CODE_GRACE_SECONDS", "DATABASE_PATH", "GUILD_ID"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "attendance_bot.bench", "--quick", "--markdown"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _table(stdout: str) -> list[dict[str, str]]:
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]]


def test_quick_bench_exits_cleanly(quick_run: subprocess.CompletedProcess[str]) -> None:
    """The quick run exits 0 (it exits 1 when anything is lost or duplicated)."""
    assert quick_run.returncode == 0, quick_run.stderr[-3000:]


def test_the_table_names_the_machine_it_was_measured_on(quick_run: subprocess.CompletedProcess[str]) -> None:
    """The table starts with the CPU and the Python build: figures of two machines never compare."""
    first = next(line for line in quick_run.stdout.splitlines() if line.strip())
    assert first.startswith("Machine: ")
    assert f"Python {sys.version.split()[0]}" in first
    assert "CPU(s)" in first


def test_table_has_the_expected_columns_and_rows(quick_run: subprocess.CompletedProcess[str]) -> None:
    """One row per scenario and bot, with every column the issue asks for."""
    rows = _table(quick_run.stdout)
    assert set(COLUMNS) <= set(rows[0])
    assert [(r["scenario"], r["bot"]) for r in rows] == [
        ("50 at once", "ours"),
        ("50 at once", "bare"),
        ("200 / window", "ours"),
        ("200 / window", "bare"),
    ]


def test_every_student_is_answered_accepted_and_stored_once(quick_run: subprocess.CompletedProcess[str]) -> None:
    """Nothing lost, no duplicate rows, every /here accepted with the code read from the code message."""
    for row in _table(quick_run.stdout):
        assert row["lost"] == "0", row
        assert row["answered"] == row["sent"] == row["ok"], row
        if row["bot"] == "ours":
            assert row["duplicates"] == "0", row
            assert row["throughput ours/bare"] not in ("", "-"), row


def test_a_repeated_scenario_is_compared_with_the_bare_run_of_its_own_round() -> None:
    """With `--scenarios 1000,1000` each of our rows gets the ratio to the bare run right after it."""
    from attendance_bot.bench.load import Result, Scenario
    from attendance_bot.bench.report import rows

    burst = Scenario(1000)
    runs = [
        Result(burst, "ours", throughput=900.0),
        Result(burst, "bare", throughput=1000.0),
        Result(burst, "ours", throughput=900.0),
        Result(burst, "bare", throughput=600.0),
    ]
    ratios = [row[-2] for row in rows(runs)]
    assert ratios == ["0.90", "", "1.50", ""]


def test_repeated_rounds_print_the_median_ratio_and_its_range() -> None:
    """`--repeat` rounds end with one line per scenario: the median ours/bare ratio and the spread of rounds."""
    from attendance_bot.bench.load import Result, Scenario
    from attendance_bot.bench.report import render

    burst = Scenario(1000)
    runs = []
    for ours, bare in ((880.0, 1000.0), (950.0, 1000.0), (1100.0, 1000.0)):
        runs += [
            Result(burst, "ours", throughput=ours, latencies=[0.3]),
            Result(burst, "bare", throughput=bare, latencies=[0.25]),
        ]
    assert render(runs).splitlines()[-1] == (
        "1000 at once, 3 rounds: throughput ours/bare median 0.95 (0.88-1.10), p99 ours/bare median 1.20 (1.20-1.20)"
    )
    assert "rounds" not in render(runs[:2])


@pytest.fixture(scope="module")
def modes_run() -> subprocess.CompletedProcess[str]:
    """`--quick --scenarios flood:20,export:20`: the flood of an 8-hour-old session and the export, tiny."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for name in ("CODE_ROTATION_INTERVAL", "CODE_GRACE_SECONDS", "DATABASE_PATH", "GUILD_ID"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "attendance_bot.bench", "--quick", "--markdown", "--scenarios", "flood:20,export:20"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_flood_and_export_scenarios_run_and_print_their_figures(modes_run: subprocess.CompletedProcess[str]) -> None:
    """Our bot only; honest students all recorded; the flood is throttled and the code message kept on time."""
    assert modes_run.returncode == 0, modes_run.stderr[-3000:]
    rows = _table(modes_run.stdout)
    assert [(r["scenario"], r["bot"]) for r in rows] == [
        ("20 during a flood", "ours"),
        ("20 at once, 800 rows", "ours"),
        ("20 at once + export", "ours"),
    ]
    for row in rows:
        assert row["answered"] == row["sent"] == row["ok"] == "20" and row["duplicates"] == "0", row
    assert "note:" not in modes_run.stderr, modes_run.stderr[-3000:]
    extras = [line for line in modes_run.stdout.splitlines() if line.startswith("20 ")]
    assert any("code message:" in line and "on time" in line for line in extras), extras
    assert any(line.startswith("20 during a flood (ours): flood:") and "⏳" in line for line in extras), extras
    assert any("export: 800 rows answered" in line for line in extras), extras


def test_flood_and_export_scenarios_parse() -> None:
    """`flood` and `export` name the issue's sizes; `:N` picks another; the default set is unchanged."""
    from attendance_bot.bench.load import DEFAULT_SCENARIOS, EXPORT, FLOOD, SEEDED, Scenario, parse_scenarios

    assert parse_scenarios("flood,export") == [
        Scenario(200, mode=FLOOD),
        Scenario(1000, mode=SEEDED),
        Scenario(1000, mode=EXPORT),
    ]
    assert parse_scenarios("flood:5") == [Scenario(5, mode=FLOOD)]
    assert all(not s.mode for s in parse_scenarios(DEFAULT_SCENARIOS))
    with pytest.raises(ValueError, match="flood"):
        parse_scenarios("flood:x")


def test_edit_lateness_counts_late_edits_and_missed_windows() -> None:
    """Lateness is measured from the window boundary; a window with no edit of its own is missed."""
    from attendance_bot.bench.load import edit_lateness

    assert edit_lateness([15.02, 30.4, 45.01], 15, 10, 59) == (pytest.approx(0.4), 0)
    assert edit_lateness([15.02, 49.0], 15, 10, 59) == (pytest.approx(4.0), 1)
