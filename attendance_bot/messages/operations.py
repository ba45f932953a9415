"""Shards and moving a database (copy-db), PostgreSQL's check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .text import MANAGE

if TYPE_CHECKING:
    pass


# -- shards (SHARD_COUNT, SHARD_IDS; bot/app.py) --------------------------------------------------


def shards_refused(code: int, shard_count: int | None, shard_ids: tuple[int, ...] | None) -> str:
    """The start-up line when Discord closes the gateway over the shards: 4010 (invalid shard) or 4011
    (sharding required: more shards than asked for)."""
    running = f"shard(s) {','.join(map(str, shard_ids))} of " if shard_ids is not None else ""
    asked = f"{running}SHARD_COUNT={shard_count}" if shard_count is not None else "one connection without SHARD_COUNT"
    if code == 4011:
        return (
            f"Discord refused {asked} (gateway close 4011, sharding required): set SHARD_COUNT to the count "
            "Discord recommends (`shards` in GET /gateway/bot), the same in every process."
        )
    return (
        f"Discord refused {asked} as an invalid shard (gateway close {code}): SHARD_IDS must list shards "
        "below SHARD_COUNT, for example SHARD_COUNT=2 with SHARD_IDS=0 in one process and SHARD_IDS=1 in another."
    )


# -- moving a database (manage.py copy-db; attendance_bot/copydb.py) and check on PostgreSQL -------


def copy_target_not_empty(held: dict[str, int]) -> str:
    rows = ", ".join(f"{table} {count}" for table, count in held.items())
    return (
        f"The target database already holds rows ({rows}): copy into an empty database, or add --force to "
        "empty its tables first (in the same transaction as the copy)."
    )


def copy_counts_differ(table: str, expected: int, found: int) -> str:
    return (
        f"The copy of table {table} holds {found} row(s) instead of the source's {expected}: nothing was written "
        "to the target."
    )


def copy_same_database(shown: str) -> str:
    return f"--to {shown} is the configured database itself: name another database to copy it into."


def copy_bad_target(problem: str) -> str:
    return f"--to: {problem}"


def copy_source_not_latest(shown: str, version: int | None, latest: int) -> str:
    if version is None:
        return f"The configured database {shown} is empty (no tables): there is nothing to copy."
    return (
        f"The configured database {shown} has schema version {version}, not the latest ({latest}): run "
        f"`{MANAGE} migrate` first, then copy it."
    )


def copy_failed(table: str, error: object) -> str:
    return f"Copying table {table} failed ({error}); nothing was written to the target."


def copied_table(table: str, rows: int) -> str:
    return f"  {table + ':':<18} {rows} row(s), as in the source"


def copy_done(rows: int, source: str, target: str) -> str:
    return f"Copied {rows} row(s) from {source} to {target}; the row counts match table by table."


def postgres_database_ok(shown: str, state: str) -> str:
    return f"Database OK: {shown} ({state})"


def postgres_empty_schema() -> str:
    return f"none yet: the tables are made when the bot starts, or by `{MANAGE} migrate`"


# -- the log (LOG_LEVEL, LOG_FORMAT; bot/logs.py) ------------------------------------------------


def log_setting_unknown(name: str, typed: str, choices: tuple[str, ...]) -> str:
    return f"{name} must be one of {', '.join(choices)} (in any case), not {typed!r}: for example {name}={choices[1]}"
