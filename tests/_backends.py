"""The database as another process sees it, on either backend: a separate plain connection (sqlite3 or
psycopg), the schema's columns, triggers that make a write fail, the environment naming the database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from attendance_bot.models import is_postgres
from attendance_bot.settings import Settings

Target = Path | str  # an SQLite file, or a postgresql:// URL (what init_db takes)


def kind(target: Target) -> str:
    return "postgresql" if is_postgres(target) else "sqlite"


@contextmanager
def connect(target: Target, *, read_only: bool = False) -> Iterator[Any]:
    """A separate DB-API connection in autocommit mode: each statement is committed at once."""
    if is_postgres(target):
        import psycopg

        options = "-c default_transaction_read_only=on" if read_only else ""
        with psycopg.connect(str(target), autocommit=True, options=options) as conn:
            yield conn
    else:
        where, uri = (f"file:{target}?mode=ro", True) if read_only else (str(target), False)
        with closing(sqlite3.connect(where, isolation_level=None, uri=uri)) as conn:
            yield conn


def placeholders(target: Target, sql: str) -> str:
    return sql.replace("?", "%s") if is_postgres(target) else sql


def fetch(target: Target, sql: str, params: Sequence[object] = (), *, read_only: bool = False) -> list[tuple[Any, ...]]:
    """The rows of one query (with `?` placeholders) on a separate connection."""
    with connect(target, read_only=read_only) as conn:
        return [tuple(row) for row in conn.execute(placeholders(target, sql), tuple(params)).fetchall()]


def execute(target: Target, *statements: str, params: Sequence[object] = ()) -> None:
    """Run statements (with `?` placeholders) on a separate connection, each committed."""
    with connect(target) as conn:
        for sql in statements:
            conn.execute(placeholders(target, sql), tuple(params))


def integrity_errors() -> tuple[type[Exception], ...]:
    """What a separate connection raises when a constraint refuses a row, on either backend."""
    errors: list[type[Exception]] = [sqlite3.IntegrityError]
    try:
        import psycopg
    except ImportError:
        pass
    else:
        errors.append(psycopg.errors.IntegrityError)
    return tuple(errors)


def columns(target: Target, table: str) -> list[str]:
    """The table's columns in their stored order."""
    if is_postgres(target):
        sql = (
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
        )
        return [row[0] for row in fetch(target, sql, (table,))]
    return [row[1] for row in fetch(target, f"PRAGMA table_info({table})")]


def refusing_trigger(backend: str, name: str, table: str, verb: str, message: str, *, temp: bool = False) -> list[str]:
    """Statements that make every `verb` (INSERT, UPDATE, DELETE) on `table` fail with `message`.

    `temp` on SQLite: a TEMP trigger, for the connection that runs it only; PostgreSQL has no
    temporary triggers, so there it is a plain one (each test has a database of its own).
    """
    if backend == "postgresql":
        return [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$",
            f"CREATE TRIGGER {name} BEFORE {verb} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    where = "main." if temp else ""
    return [
        f"CREATE {'TEMP ' if temp else ''}TRIGGER {name} BEFORE {verb} ON {where}{table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    ]


def dropping_trigger(backend: str, name: str, table: str) -> list[str]:
    """Statements that remove what refusing_trigger made."""
    if backend == "postgresql":
        return [f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}()"]
    return [f"DROP TRIGGER {name}"]


def environ(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that names the same database as `settings` (for manage.py and subprocesses)."""
    found = {"DATABASE_URL": settings.database_url} if settings.database_url else {}
    found = found or {"DATABASE_PATH": str(settings.database_path)}
    return {**found, **extra}
