"""The shards benchmark scenario runs end to end on SQLite, tiny: two bot processes over ten servers."""

from __future__ import annotations

import subprocess

import pytest
from _bench import all_recorded, extras, run_bench, table

SHARDS_ROW = "40 in 20 courses, 2 shards"


@pytest.fixture(scope="module")
def shards_run() -> subprocess.CompletedProcess[str]:
    """`--quick --scenarios shards:40`: 20 courses in 10 servers over 2 shards, one bot process per shard."""
    return run_bench("--scenarios", "shards:40")


def test_shards_scenario_runs_two_processes_over_ten_servers(shards_run: subprocess.CompletedProcess[str]) -> None:
    """Our bot only; the servers spread evenly over both shards; every student recorded once in the
    shared SQLite file; the figures of the courses scenario and the edits per window printed."""
    assert shards_run.returncode == 0, shards_run.stderr[-3000:]
    rows = table(shards_run.stdout)
    assert [(r["scenario"], r["bot"]) for r in rows] == [(SHARDS_ROW, "ours")]
    all_recorded(rows[0], "40")
    assert rows[0]["throughput ours/bare"] == rows[0]["p99 ours/bare"] == "-", rows[0]
    figures = extras(shards_run.stdout, f"{SHARDS_ROW} (ours): ")
    assert figures["courses"].startswith("20 in 10 servers, 2 students each"), figures
    assert figures["shards"] == (
        "shard 0 (process 1): 5 servers, 20 students; shard 1 (process 2): 5 servers, 20 students"
    ), figures
    assert "over 40 window boundaries of 20 code messages" in figures["edit lag max"], figures
    assert "beyond one per window boundary over 40 boundaries" in figures["edits per window"], figures
    assert "lost 0: met" in figures["issue targets"], figures
