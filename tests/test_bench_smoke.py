"""The burst benchmark runs end to end: real bot and bare bot as processes, nothing lost or duplicated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _bench import run_bench, table

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
    return run_bench(timeout=120)


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
    rows = table(quick_run.stdout)
    assert set(COLUMNS) <= set(rows[0])
    assert [(r["scenario"], r["bot"]) for r in rows] == [
        ("50 at once", "ours"),
        ("50 at once", "bare"),
        ("200 / window", "ours"),
        ("200 / window", "bare"),
    ]


def test_every_student_is_answered_accepted_and_stored_once(quick_run: subprocess.CompletedProcess[str]) -> None:
    """Nothing lost, no duplicate rows, every /here accepted with the code read from the code message."""
    for row in table(quick_run.stdout):
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


def test_courses_scenario_parses() -> None:
    """`courses` is the issue's 3,000 students in 20 courses; `:N` and `--courses` scale it down."""
    from attendance_bot.bench.load import COURSES, Scenario, parse_scenarios

    assert parse_scenarios("courses") == [Scenario(3000, mode=COURSES, courses=20)]
    assert parse_scenarios("courses:60", courses=6) == [Scenario(60, mode=COURSES, courses=6)]
    assert Scenario(3000, mode=COURSES, courses=20).name == "3000 in 20 courses"
    with pytest.raises(ValueError, match="courses"):
        parse_scenarios("courses:0")


@pytest.mark.parametrize(
    ("students", "courses", "shares"),
    [(3000, 20, [150] * 20), (61, 20, [4] + [3] * 19), (5, 3, [2, 2, 1])],
)
def test_students_are_shared_evenly_among_the_courses(students: int, courses: int, shares: list[int]) -> None:
    """Each course gets its even share; the first courses take what is left over."""
    from attendance_bot.bench.multicourse import share

    assert [share(students, courses, i) for i in range(courses)] == shares


@pytest.mark.parametrize(
    ("edits", "lags"),
    [
        ([17.6, 33.0, 47.6], [0.1, 0.5, 0.1]),  # one edit after each boundary
        ([17.6, 31.0, 47.6], [0.1, None, 0.1]),  # the edit at 31.0 is before the boundary at 32.5
        ([17.6, 18.0, 40.0], [0.1, 7.5, None]),  # the first edit after a boundary counts; none before 62.5
    ],
)
def test_edit_lag_is_measured_from_each_sessions_own_boundaries(edits: list[float], lags: list[float | None]) -> None:
    """Windows of 15 s starting 2.5 s past the multiples: boundaries 17.5, 32.5 and 47.5 between 10 and 50."""
    from attendance_bot.bench.multicourse import boundary_lags

    found = boundary_lags(edits, 15, 2.5, 10, 50)
    assert [b for b, _ in found] == [17.5, 32.5, 47.5]
    assert [lag for _, lag in found] == [pytest.approx(x) if x is not None else None for x in lags]


def test_repeated_rounds_without_a_bare_run_print_medians_of_their_own_figures() -> None:
    """`--repeat` of a scenario the bare bot does not run: medians of our p99 and the scenario's figures."""
    from attendance_bot.bench.load import COURSES, Result, Scenario
    from attendance_bot.bench.report import render, rows

    courses = Scenario(3000, mode=COURSES, courses=20)
    runs = [
        Result(courses, "ours", latencies=[p99], answer_latencies=[p99], figures={"edit lag p99 ms": lag, "429s": 0.0})
        for p99, lag in ((0.9, 120.0), (1.1, 80.0), (1.0, 300.0))
    ]
    assert [row[-2:] for row in rows(runs)] == [["-", "-"]] * 3
    assert render(runs).splitlines()[-1] == (
        "3000 in 20 courses, 3 rounds: p99 ms median 1000 (900-1100), answer p99 ms median 1000 (900-1100), "
        "lost median 0 (0-0), edit lag p99 ms median 120 (80-300), 429s median 0 (0-0)"
    )


def test_late_edits_and_429s_are_named_in_the_courses_figures() -> None:
    """An edit 1.5 s after its boundary and one 429 fail their targets and are said, with when they happened."""
    from types import SimpleNamespace

    from attendance_bot.bench.load import COURSES, Result, Scenario
    from attendance_bot.bench.multicourse import Course, Opened, judge
    from attendance_bot.bench.seed import Place

    course = Course("Course 01", Place(1, 2, 3), None, ())  # type: ignore[arg-type]
    opened = [Opened(course, "S1", 42, 15, 2.5)]
    log = [
        (17.6, "PATCH", "/channels/3/messages/42", 200),
        (20.0, "POST", "/channels/3/messages", 429),
        (34.0, "PATCH", "/channels/3/messages/42", 200),
        (47.6, "PATCH", "/channels/3/messages/42", 200),
    ]
    emu = SimpleNamespace(request_log=log, rest=SimpleNamespace(request_log=SimpleNamespace(maxlen=20000)))
    result = Result(Scenario(3, mode=COURSES, courses=1), "ours", answer_latencies=[0.5])
    judge(result, emu, opened, [(opened[0], ["a", "b", "c"])], since=10, until=50, began=0, windows=3, answered=3.0)  # type: ignore[arg-type]
    assert result.extras["edit lag p99"] == "1500 ms"
    assert result.extras["late edits"] == (
        "1 at least 1000 ms late: 1500 ms after the boundary 22.5 s from the burst's start "
        "(the burst's last answer came 3.0 s from its start)"
    )
    assert result.extras["429 responses"].startswith("1 (0 to edits) of the bot's 4 REST requests")
    assert "edit lag p99 under 1000 ms: MISSED" in result.extras["issue targets"]
    assert "no 429: MISSED" in result.extras["issue targets"]
    assert result.figures["429s"] == 1 and result.figures["edits missed"] == 0


def test_button_scenario_parses() -> None:
    """`button` is the issue's 1,000; `button:N` another number."""
    from attendance_bot.bench.load import BUTTON, Scenario, parse_scenarios

    assert parse_scenarios("button") == [Scenario(1000, mode=BUTTON)]
    assert parse_scenarios("button:7") == [Scenario(7, mode=BUTTON)]


def test_projector_scenario_parses() -> None:
    """`projector` is 1,000 at once beside the same with the pages open; `:N` scales it down."""
    from attendance_bot.bench.load import PROJECTOR, Scenario, parse_scenarios

    assert parse_scenarios("projector") == [Scenario(1000), Scenario(1000, mode=PROJECTOR)]
    assert parse_scenarios("projector:5") == [Scenario(5), Scenario(5, mode=PROJECTOR)]
    assert Scenario(5, mode=PROJECTOR).name == "5 at once, 200 pages"
    with pytest.raises(ValueError, match="projector"):
        parse_scenarios("projector:0")
