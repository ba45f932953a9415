"""What every storage module shares: the statements' helpers, failures, transactions, the ping.

Peewee builds each query's SQL in Python on every call; for a whole class checking in at once
that was most of the database thread's time (see the benchmark in docs/DEVELOPMENT.md). The hot path's
statements are therefore prepared once, derived from the models (a renamed table or column
follows) and from the row types below: a row's fields are the statement's columns, in the same
order, so a row and its statement cannot disagree. The SQLite-specific parts (the IMMEDIATE
transaction, the statements' variable limit) live here too.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, TypeVar

import peewee

from ..errors import StorageError
from ..models import UTCDateTimeField, backend, database

T = TypeVar("T")
log = logging.getLogger("attendance_bot.storage")

# S608 below: only identifiers from the models are interpolated; every value is a bound parameter.

# Each write is one multi-row statement per chunk, not executemany: executemany steps SQLite once
# per row and hands the GIL back to the event loop each time, which a busy loop pays for.
MAX_VARIABLES = 900  # bound variables per statement, under SQLite's old limit of 999
# The upsert says which rows it wrote with RETURNING (PostgreSQL; SQLite from 3.35). Without it
# (an older SQLite) every row is written: the IMMEDIATE transaction holds the write lock from the
# batch's read to its commit, so no instructor's mark can land in between.
SQLITE_HAS_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)


_UTC_FIELD = UTCDateTimeField()
_from_db = _UTC_FIELD.python_value


def stored_time(moment: datetime) -> str:
    """An aware datetime as the database stores it (sortable UTC text)."""
    return _UTC_FIELD.db_value(moment)  # type: ignore[no-any-return]


def _table(model: type) -> str:
    return '"%s"' % model._meta.table_name  # type: ignore[attr-defined]


def _col(model: type, field: str) -> str:
    return '"%s"' % model._meta.fields[field].column_name  # type: ignore[attr-defined]


def _columns(model: type, row: type[tuple[Any, ...]]) -> str:
    """The column list of a row type, in its field order (a KeyError at import if a field is not a column)."""
    return ", ".join(_col(model, name) for name in row._fields)  # type: ignore[attr-defined]


# -- failures ---------------------------------------------------------------------------------


def _root_cause(exc: BaseException) -> BaseException:
    """The error that started it: when SQLite has rolled back by itself (disk full, I/O error),
    peewee's own ROLLBACK fails with 'no transaction is active' and hides the real cause."""
    seen: BaseException | None = exc
    while seen is not None:
        if "no transaction is active" not in str(seen):
            return seen
        seen = seen.__context__
    return exc


def failure(action: str, exc: BaseException) -> StorageError:
    """The one way a database error becomes what a user is told: logged with its real cause, and a
    StorageError saying what could not be done (and that nothing changed)."""
    log.error("Database error while %s: %s", action, _root_cause(exc))
    drop_broken_connection()
    return StorageError("database_failure", action=action)


def drop_broken_connection() -> None:
    """After a failure on PostgreSQL, let go of this thread's connection (the server may have
    restarted under it), so the next call takes a fresh one from the pool and recording resumes by
    itself when the server is back. Never inside a transaction still open."""
    if backend() != "postgresql" or database.is_closed() or database.in_transaction():
        return
    try:
        database.close()
    except Exception as exc:  # a dead connection may fail to close: it is dropped either way
        log.debug("Closing the failed connection: %s", exc)


# -- transactions ---------------------------------------------------------------------------


def immediate() -> AbstractContextManager[Any]:
    """A write transaction: on SQLite it takes the write lock at once (no upgrade from a read lock
    to fail); on PostgreSQL a plain transaction, where the unique indexes are the final word on one
    open session per course and one record per student per session."""
    if backend() == "sqlite":
        return database.atomic("IMMEDIATE")
    return database.atomic()


# PostgreSQL's advisory lock key for opening sessions ("attn" in ASCII): any number, the same in every process.
_OPENING_LOCK = 0x6174746E


def lock_for_opening() -> None:
    """Inside immediate(): hold the right to open sessions until the transaction ends. SQLite's
    IMMEDIATE transaction holds it already (one writer); on PostgreSQL another process could read
    the same open sessions meanwhile and give its session the same window offset."""
    if backend() == "postgresql":
        _run("SELECT pg_advisory_xact_lock(?)", (_OPENING_LOCK,))


def _run(sql: str, params: Sequence[object] = ()) -> Any:
    """Execute one of this module's statements, written with `?` placeholders, in the open
    database's own placeholder style; the cursor."""
    return database.execute_sql(_placeholders(sql, database.param), params)


@functools.lru_cache(maxsize=512)
def _placeholders(sql: str, param: str) -> str:
    return sql if param == "?" else sql.replace("?", param)


def ping() -> bool:
    """Whether the database answers `SELECT 1` (a failure lets go of a broken connection)."""
    try:
        return _run("SELECT 1").fetchone() is not None
    except peewee.PeeweeException:
        drop_broken_connection()
        return False


def has_returning() -> bool:
    """Whether a statement can say which rows it wrote (RETURNING): PostgreSQL, or SQLite from 3.35."""
    return backend() == "postgresql" or SQLITE_HAS_RETURNING


# -- multi-row statements -------------------------------------------------------------------


def _values(columns: int, rows: int) -> str:
    one = f"({', '.join('?' * columns)})"
    return ", ".join([one] * rows)


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write_rows(statement: Callable[[int], str], width: int, rows: Sequence[tuple[object, ...]]) -> None:
    for chunk in _chunks(list(rows), MAX_VARIABLES // width):
        _run(statement(len(chunk)), [value for row in chunk for value in row])


def _insert_many(model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Plain inserts of rows named by the model's fields, as few statements as the variable limit allows."""
    if not rows:
        return
    width = max(len(row) for row in rows)
    for chunk in _chunks(list(rows), max(1, MAX_VARIABLES // width)):
        model.insert_many(chunk).execute()
