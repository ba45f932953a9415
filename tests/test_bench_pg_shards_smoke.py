"""Two shard processes of our bot share one PostgreSQL database in the benchmark (issue 10), tiny."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from _bench import all_recorded, extras, postgres_or_skip, run_bench, table

SHARDS_ROW = "40 in 20 courses, 2 shards"


@pytest.fixture(scope="module")
def postgres_server(request: pytest.FixtureRequest) -> Any:
    """The tests' throwaway PostgreSQL server (skipped with its reason where it is missing)."""
    return postgres_or_skip(request)


@pytest.fixture(scope="module")
def postgres_shards_run(postgres_server: Any) -> subprocess.CompletedProcess[str]:
    """`--quick --scenarios shards:40 --bots ours-pg --postgres URL`: two shard processes on one PostgreSQL database."""
    return run_bench("--scenarios", "shards:40", "--bots", "ours-pg", "--postgres", postgres_server.url("postgres"))


def test_shards_share_one_postgres_database(postgres_shards_run: subprocess.CompletedProcess[str]) -> None:
    """Both shard processes answer their servers' students; every one stored once in the shared database."""
    assert postgres_shards_run.returncode == 0, postgres_shards_run.stderr[-3000:]
    rows = table(postgres_shards_run.stdout)
    assert [(r["scenario"], r["bot"]) for r in rows] == [(SHARDS_ROW, "ours-pg")]
    all_recorded(rows[0], "40")
    figures = extras(postgres_shards_run.stdout, f"{SHARDS_ROW} (ours-pg): ")
    assert figures["shards"] == (
        "shard 0 (process 1): 5 servers, 20 students; shard 1 (process 2): 5 servers, 20 students"
    ), figures
