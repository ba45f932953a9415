"""The benchmark as its smoke tests run it: `python -m attendance_bot.bench` in a process of its own,
its Markdown table and figure lines read back. One run per test module, so that --dist loadfile
gives each run to a worker of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
# A developer's .env values must not reach the bench's bots: each sets its own.
CLEARED = ("CODE_ROTATION_INTERVAL", "CODE_GRACE_SECONDS", "DATABASE_PATH", "DATABASE_URL", "GUILD_ID", "WEB_PORT")


def run_bench(*args: str, quick: bool = True, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`python -m attendance_bot.bench [--quick --markdown] ARGS` from the checkout; what it printed."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for name in CLEARED:
        env.pop(name, None)
    switches = ("--quick", "--markdown") if quick else ()
    return subprocess.run(
        [sys.executable, "-m", "attendance_bot.bench", *switches, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def table(stdout: str) -> list[dict[str, str]]:
    """The rows of the Markdown table, each by column name."""
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]]


def extras(stdout: str, prefix: str) -> dict[str, str]:
    """The figure lines of one row (`<scenario> (<bot>): name: value`), by name."""
    return {
        key: value
        for key, _, value in (
            line.removeprefix(prefix).partition(": ") for line in stdout.splitlines() if line.startswith(prefix)
        )
    }


def all_recorded(row: dict[str, str], count: str) -> None:
    """Every student of the row answered, accepted and stored (once, for our bots)."""
    assert row["answered"] == row["sent"] == row["ok"] == count and row["lost"] == "0", row
    if row["bot"] != "bare" and not row["bot"].startswith("bare+"):
        assert row["duplicates"] == "0", row


def postgres_or_skip(request: pytest.FixtureRequest) -> Any:
    """The throwaway server of tests/conftest.py's `postgres` fixture (skipped with its reason where
    PostgreSQL is missing)."""
    try:
        return request.getfixturevalue("postgres")
    except pytest.FixtureLookupError:
        pytest.skip("the `postgres` fixture (tests/conftest.py) is not there")
