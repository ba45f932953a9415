"""The flood and export benchmark scenarios run end to end, tiny: honest students all recorded."""

from __future__ import annotations

import subprocess

import pytest
from _bench import run_bench, table


@pytest.fixture(scope="module")
def modes_run() -> subprocess.CompletedProcess[str]:
    """`--quick --scenarios flood:20,export:20`: the flood of an 8-hour-old session and the export, tiny."""
    return run_bench("--scenarios", "flood:20,export:20", timeout=120)


def test_flood_and_export_scenarios_run_and_print_their_figures(modes_run: subprocess.CompletedProcess[str]) -> None:
    """Our bot only; honest students all recorded; the flood is throttled and the code message kept on time."""
    assert modes_run.returncode == 0, modes_run.stderr[-3000:]
    rows = table(modes_run.stdout)
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
