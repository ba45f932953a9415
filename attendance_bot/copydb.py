"""`manage.py copy-db`: every table of one database copied into another (SQLite to PostgreSQL, or back),
ids and values kept, in one transaction on the target, the row counts checked table by table.

Two databases are open at once this way: the models' `database` proxy points at the target (init_db
made or upgraded its schema with the same migration steps, and storage writes to it), while the
source is a second peewee database object, read with plain SQL in chunks of rows ordered by id
inside one read-only snapshot (a consistent copy even while a bot writes to the source).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import peewee

from . import storage
from .errors import CopyRefused
from .migrations import HISTORY_TABLE
from .models import MODELS, backend, database

# Parents before the rows that name them (session.course_id references course), then the
# migration history, so the target's schema version is the source's.
TABLES: tuple[str, ...] = tuple(model._meta.table_name for model in MODELS)  # type: ignore[attr-defined]
COPIED: tuple[str, ...] = (*TABLES, HISTORY_TABLE)
CHUNK_ROWS = 2000  # rows read from the source at a time (a semester is tens of thousands)


@dataclass(frozen=True)
class Copied:
    """One table copied: how many rows the source holds and the target now holds (the same)."""

    table: str
    rows: int


def copy_into_target(source: peewee.Database, *, force: bool) -> list[Copied]:
    """Copy every table of `source` into the database `models.database` is open on (its schema
    already the latest), in one transaction; each table's row count, in copy order.

    CopyRefused if the target holds rows and not `force` (with `force` its tables are emptied first,
    in the same transaction), or if a table's count differs after the copy: then nothing is written.
    """
    source.connect(reuse_if_open=True)
    try:
        with source.atomic():
            if isinstance(source, peewee.PostgresqlDatabase):  # the first statement: one snapshot for all
                source.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            expected = {table: _count(source, table) for table in COPIED}
            with storage.immediate():
                held = {table: rows for table in TABLES if (rows := _count(database, table))}
                if held and not force:
                    raise CopyRefused("copy_target_not_empty", held=held)
                # The history is always replaced: init_db wrote the target's own when it made the schema.
                storage.empty_tables([*reversed(TABLES), HISTORY_TABLE])
                for table in COPIED:
                    _copy_table(source, table)
                storage.advance_id_sequences(COPIED)
                copied = [Copied(table, _count(database, table)) for table in COPIED]
                for done in copied:
                    if done.rows != expected[done.table]:
                        raise CopyRefused(
                            "copy_counts_differ", table=done.table, expected=expected[done.table], found=done.rows
                        )
    finally:
        source.close()
    return copied


def _copy_table(source: peewee.Database, table: str) -> None:
    """One table's rows, chunk by chunk; a row the target refuses is CopyRefused naming the table."""
    described = database.get_columns(table)
    columns = [column.name for column in described]
    # SQLite keeps a boolean (student.confirmed) as 0 or 1; PostgreSQL's boolean column takes no integer.
    flags = {i for i, column in enumerate(described) if column.data_type.lower() == "boolean"}
    try:
        for rows in _read(source, table, columns):
            if flags:
                rows = [_as_booleans(row, flags) for row in rows]
            storage.insert_copied_rows(table, columns, rows)
    except peewee.DatabaseError as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CopyRefused("copy_failed", table=table, error=reason) from exc


def _as_booleans(row: tuple[object, ...], flags: set[int]) -> tuple[object, ...]:
    return tuple(bool(value) if i in flags and value is not None else value for i, value in enumerate(row))


def _count(db: peewee.Database, table: str) -> int:
    return int(db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])  # noqa: S608 - our table names


def _read(source: peewee.Database, table: str, columns: Sequence[str]) -> Iterator[list[tuple[object, ...]]]:
    """The source's rows of a table in id order, CHUNK_ROWS at a time (keyset: each read starts past
    the last id, so memory stays one chunk whatever the table's size), as the target stores them."""
    names = ", ".join(f'"{name}"' for name in columns)
    last = columns.index("id")
    sql = f'SELECT {names} FROM "{table}" WHERE "id" > {source.param} ORDER BY "id" LIMIT {CHUNK_ROWS}'  # noqa: S608
    to_sqlite = backend() == "sqlite"
    after = -1
    while rows := source.execute_sql(sql, (after,)).fetchall():
        after = rows[-1][last]
        yield [_for_sqlite(row) for row in rows] if to_sqlite else rows


def _for_sqlite(row: tuple[object, ...]) -> tuple[object, ...]:
    """PostgreSQL hands back its timestamp columns (the migration history's) as datetimes: SQLite
    stores them as the text peewee writes."""
    return tuple(str(value) if isinstance(value, (datetime, date)) else value for value in row)
