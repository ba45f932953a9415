"""The presence benchmark scenarios run end to end, tiny: the Check in button beside the bare bot's, and a
burst with 200 projector pages open."""

from __future__ import annotations

import subprocess

import pytest
from _bench import run_bench, table


@pytest.fixture(scope="module")
def button_run() -> subprocess.CompletedProcess[str]:
    """`--quick --scenarios button:20`: 20 at once through the Check in button and its form, beside the
    bare bot's own button and form."""
    return run_bench("--scenarios", "button:20", timeout=120)


def test_button_scenario_runs_beside_the_bare_bots_own_button(button_run: subprocess.CompletedProcess[str]) -> None:
    """Every press opens a form, every form checks in once (0 lost), and the row has its ratio to the bare bot
    running the same button and form."""
    assert button_run.returncode == 0, button_run.stderr[-3000:]
    rows = table(button_run.stdout)
    assert [(r["scenario"], r["bot"]) for r in rows] == [("20 at once, button", "ours"), ("20 at once, button", "bare")]
    ours = rows[0]
    assert ours["answered"] == ours["sent"] == ours["ok"] == "20" and ours["lost"] == ours["duplicates"] == "0", ours
    assert ours["throughput ours/bare"] not in ("", "-") and ours["p99 ours/bare"] not in ("", "-")
    assert "note:" not in button_run.stderr, button_run.stderr[-3000:]
    lines = button_run.stdout.splitlines()
    for bot in ("ours", "bare"):
        assert any(line.startswith(f"20 at once, button ({bot}): form: 20/20 forms opened") for line in lines), lines


@pytest.fixture(scope="module")
def projector_run() -> subprocess.CompletedProcess[str]:
    """`--quick --scenarios projector:20`: 20 at once, then 20 at once with 200 projector pages open on the session."""
    return run_bench("--scenarios", "projector:20", timeout=180)


def test_projector_scenario_runs_beside_the_plain_burst(projector_run: subprocess.CompletedProcess[str]) -> None:
    """The plain burst (ours and bare) and the same with 200 pages open (ours); every student recorded; the
    pages' figure printed: each page got each new code, and how late after its boundary."""
    assert projector_run.returncode == 0, projector_run.stderr[-3000:]
    rows = table(projector_run.stdout)
    assert [(r["scenario"], r["bot"]) for r in rows] == [
        ("20 at once", "ours"),
        ("20 at once", "bare"),
        ("20 at once, 200 pages", "ours"),
    ]
    for row in rows:
        assert row["answered"] == row["sent"] == row["ok"] == "20" and row["lost"] == "0", row
    figures = [line for line in projector_run.stdout.splitlines() if line.startswith("20 at once, 200 pages (ours): ")]
    assert len(figures) == 1 and "projector: 200 pages, " in figures[0], projector_run.stdout[-2000:]
    assert " 0 missed: " in figures[0], figures
    notes = [line for line in projector_run.stderr.splitlines() if "note:" in line]
    assert all("projector page more than 1 s" in n for n in notes), notes  # timing on a busy machine may vary
