"""The benchmark's scale-out options (issue 10) run end to end: our bot on PostgreSQL beside SQLite and
the bare bot, two shard processes sharing one database, and the bots with uvloop and orjson. Nothing
lost or duplicated; no timing is asserted (the bench prints figures)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _bench import all_recorded, postgres_or_skip, run_bench, table

from attendance_bot import speedups

REPO = Path(__file__).resolve().parent.parent
SHARDS_ROW = "40 in 20 courses, 2 shards"


# -- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_server(request: pytest.FixtureRequest) -> Any:
    """The tests' throwaway PostgreSQL server (skipped with its reason where it is missing)."""
    return postgres_or_skip(request)


def _bench_databases(server: Any) -> list[str]:
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'attendance_bench_%'")]


@pytest.fixture(scope="module")
def postgres_run(postgres_server: Any) -> subprocess.CompletedProcess[str]:
    """`--quick --scenarios 50 --postgres URL`: ours, ours-pg and bare, 50 at once."""
    return run_bench("--scenarios", "50", "--postgres", postgres_server.url("postgres"))


def test_postgres_row_beside_sqlite_and_bare(postgres_run: subprocess.CompletedProcess[str]) -> None:
    """--postgres adds ours-pg to the default bots; every student answered, accepted and stored once on each."""
    assert postgres_run.returncode == 0, postgres_run.stderr[-3000:]
    rows = table(postgres_run.stdout)
    assert [(r["scenario"], r["bot"]) for r in rows] == [
        ("50 at once", "ours"),
        ("50 at once", "ours-pg"),
        ("50 at once", "bare"),
    ]
    for row in rows:
        all_recorded(row, "50")
    for row in rows[:2]:
        assert row["throughput ours/bare"] not in ("", "-") and row["p99 ours/bare"] not in ("", "-"), row
    assert postgres_run.stderr.startswith("PostgreSQL "), postgres_run.stderr[:300]  # the server's version, first
    assert "note:" not in postgres_run.stderr, postgres_run.stderr[-3000:]


def test_postgres_databases_are_dropped_after_the_run(
    postgres_server: Any, postgres_run: subprocess.CompletedProcess[str]
) -> None:
    """Each ours-pg run had a database of its own on the server; none is left behind."""
    assert postgres_run.returncode == 0, postgres_run.stderr[-3000:]
    assert _bench_databases(postgres_server) == []


# -- shards on SQLite --------------------------------------------------------------------------


def test_shards_scenario_parses() -> None:
    """`shards` is the issue's 3,000 students; `:N` and `--courses` scale it down; too few students is refused."""
    from attendance_bot.bench.load import SHARDS, Scenario, parse_scenarios
    from attendance_bot.bench.runner import parse_args

    assert parse_scenarios("shards") == [Scenario(3000, mode=SHARDS, courses=20)]
    assert parse_scenarios("shards:40", courses=4) == [Scenario(40, mode=SHARDS, courses=4)]
    assert Scenario(3000, mode=SHARDS, courses=20).name == "3000 in 20 courses, 2 shards"
    with pytest.raises(SystemExit):
        parse_args(["--scenarios", "shards:10"])


# -- uvloop and orjson -------------------------------------------------------------------------


def test_bots_are_named_by_backend_and_speed_ups() -> None:
    """ours, ours-pg, bare, each with +uvloop and/or +orjson in a fixed order; anything else refused."""
    from attendance_bot.bench.procs import parse_kind

    assert parse_kind("ours-pg").postgres and parse_kind("ours-pg").name == "ours-pg"
    assert parse_kind("ours+orjson+uvloop").name == "ours+uvloop+orjson"
    assert parse_kind("ours+uvloop").env() == {"UVLOOP": "on", "ORJSON": "off"}
    assert parse_kind("bare").env() == {"UVLOOP": "off", "ORJSON": "off"}
    for bad in ("theirs", "ours+fast", "ours+uvloop+uvloop", "bare-pg"):
        with pytest.raises(ValueError, match="bad bot"):
            parse_kind(bad)


def test_postgres_option_adds_the_row_and_is_required_by_it() -> None:
    """--postgres makes the default bots ours, ours-pg, bare; ours-pg without --postgres is refused."""
    from attendance_bot.bench.runner import parse_args

    url = "postgresql://postgres@127.0.0.1:5432/postgres"
    assert [b.name for b in parse_args(["--postgres", url]).bots] == ["ours", "ours-pg", "bare"]
    assert [b.name for b in parse_args([]).bots] == ["ours", "bare"]
    with pytest.raises(SystemExit):
        parse_args(["--bots", "ours-pg"])
    with pytest.raises(SystemExit):
        parse_args(["--postgres", "mysql://x@127.0.0.1/db"])


def test_each_bot_is_compared_with_the_bare_run_of_its_own_round() -> None:
    """With ours, ours-pg and bare per round, each row's ratio is to its round's bare run, and the
    medians are one line per bot."""
    from attendance_bot.bench.load import Result, Scenario
    from attendance_bot.bench.report import render, rows

    burst = Scenario(1000)
    runs = []
    for index, (ours, pg, bare) in enumerate(((900.0, 800.0, 1000.0), (1000.0, 700.0, 500.0), (950.0, 850.0, 1000.0))):
        runs += [
            Result(burst, "ours", throughput=ours, latencies=[0.3], round=index),
            Result(burst, "ours-pg", throughput=pg, latencies=[0.6], round=index),
            Result(burst, "bare", throughput=bare, latencies=[0.3], round=index),
        ]
    assert [row[-2] for row in rows(runs)][:6] == ["0.90", "0.80", "", "2.00", "1.40", ""]
    tail = render(runs).splitlines()[-2:]
    assert tail == [
        "1000 at once, 3 rounds: throughput ours/bare median 0.95 (0.90-2.00), p99 ours/bare median 1.00 (1.00-1.00)",
        "1000 at once (ours-pg), 3 rounds: throughput ours-pg/bare median 0.85 (0.80-1.40), "
        "p99 ours-pg/bare median 2.00 (2.00-2.00)",
    ]


def _nextcord_json(**switches: bool) -> str:
    """Which JSON nextcord picked in a fresh interpreter after speedups.apply(**switches)."""
    code = (
        "from attendance_bot.speedups import apply\n"
        f"lines = [str(notice) for notice in apply(**{switches!r})]\n"
        "import asyncio, nextcord.utils\n"
        "print(nextcord.utils.HAS_ORJSON, type(asyncio.new_event_loop()).__module__, lines)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.skipif(
    not (speedups.installed("orjson") and speedups.installed("uvloop")),
    reason="uvloop and orjson are not installed here (pip install -r requirements-bench.txt)",
)
def test_speed_ups_are_off_unless_switched_on_even_where_installed() -> None:
    """Off: nextcord uses the standard json and asyncio's loop although both packages are installed;
    on: orjson and uvloop, each said in one line."""
    off = _nextcord_json(uvloop=False, orjson=False)
    assert off.startswith("False asyncio") and off.endswith("[]"), off
    on = _nextcord_json(uvloop=True, orjson=True)
    assert on.startswith("True uvloop"), on
    assert "Using orjson " in on and "Using uvloop " in on, on


def test_speed_up_settings_are_on_or_off() -> None:
    """UVLOOP and ORJSON: off unless set; on/off (1/0, true/false, yes/no); anything else is refused by name;
    on with the package missing is a warning that names it."""
    from attendance_bot.errors import ConfigurationError
    from attendance_bot.settings import load_settings

    def load(**env: str) -> Any:
        return load_settings(None, environ=env, base_dir=REPO, require_discord=False)

    assert (load().uvloop, load().orjson) == (False, False)
    settings = load(UVLOOP="on", ORJSON="0")
    assert (settings.uvloop, settings.orjson) == (True, False)
    with pytest.raises(ConfigurationError, match="UVLOOP must be on or off, not 'fast'"):
        load(UVLOOP="fast")
    missing = [w for w in load(UVLOOP="yes", ORJSON="yes").warnings if "is not installed" in w]
    expected = {f"{n}=on" for n, m in speedups.SWITCHES.items() if not speedups.installed(m)}
    assert {w.split(" ")[0] for w in missing} == expected


@pytest.fixture(scope="module")
def speedups_run() -> subprocess.CompletedProcess[str]:
    """`--quick --scenarios 50 --bots ours,ours+uvloop,ours+orjson,bare+uvloop+orjson,bare`."""
    return run_bench("--scenarios", "50", "--bots", "ours,ours+uvloop,ours+orjson,bare+uvloop+orjson,bare")


@pytest.mark.skipif(
    not (speedups.installed("orjson") and speedups.installed("uvloop")),
    reason="uvloop and orjson are not installed here (pip install -r requirements-bench.txt)",
)
def test_bots_run_with_each_speed_up(speedups_run: subprocess.CompletedProcess[str]) -> None:
    """Each bot with its speed-ups (the bench refuses a bot that does not say it uses them): a row each, nothing lost."""
    assert speedups_run.returncode == 0, speedups_run.stderr[-3000:]
    rows = table(speedups_run.stdout)
    assert [r["bot"] for r in rows] == ["ours", "ours+uvloop", "ours+orjson", "bare+uvloop+orjson", "bare"]
    for row in rows:
        all_recorded(row, "50")
        if row["bot"] != "bare":
            assert row["throughput ours/bare"] not in ("", "-"), row
