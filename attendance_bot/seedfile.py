"""The seed bot's SQLite database, read: read-only, bounded, checked whole (the first half of moving
from the seed bot; seedimport.py plans and writes the import).

The seed's `attendance` table is `id, user_id, username, timestamp, date_id, session_id` and, in
later versions, `status`; its `students` table (later versions) is `user_id, student_id,
student_name, registered_at`. The seed wrote local time: its times are read in TIMEZONE and given
in UTC, as every other time here. The file is refused whole (one error, nothing imported) if it is
not such a database or holds a value that cannot be imported as it is (an unknown status, a time
that is not a time).

A hostile file is refused too: only real tables are read (a view, a virtual table or computed
columns named like the seed's are refused before a row is read), at most MAX_SEED_ROWS rows a table
and MAX_SEED_SECONDS of reading (SQLite's progress handler stops it). Usernames and session ids
come in without control or format characters (a session id with nothing else refuses the file).
"""

from __future__ import annotations

import os
import sqlite3
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .errors import AttendanceError
from .records import STATUSES, Status

SEED_COLUMNS = ("id", "user_id", "username", "timestamp", "date_id", "session_id")
STUDENT_COLUMNS = ("user_id", "student_id")  # student_name and registered_at may be missing
# What only this bot's own database (of any release) has.
_OWN_TABLES = {"schema_migration", "wrong_attempt", "roster_entry"}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_MAX_USER_ID = 2**63 - 1
MAX_SEED_ROWS = 1_000_000  # rows a table of the seed file may have (a seed bot's course has thousands)
MAX_SEED_SECONDS = 120.0  # reading the seed file (a million rows take seconds); longer is refused
_PROGRESS_STEPS = 10_000  # SQLite instructions between looks at the clock
_MAX_VALUE_BYTES = 1_000_000  # the longest value the seed connection reads (SQLITE_LIMIT_LENGTH)
# What never comes in from a seed file's usernames and session ids: control characters (C0, C1),
# format characters (bidi overrides and isolates, zero-width characters) and line separators.
_DROPPED = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))


class SeedError(AttendanceError):
    """A seed database refused (the sentence says why); nothing was imported."""


@dataclass(frozen=True)
class SeedRecord:
    """One attendance row of the seed file, as it will be stored (time in UTC, status known)."""

    row_id: object  # the seed's `id`, to name the row in a refusal and an event
    user_id: int
    username: str
    at: datetime  # aware, UTC
    session_id: str
    status: str


@dataclass(frozen=True)
class SeedRegistration:
    """One row of the seed's `students` table, as read (the id is checked when it is planned)."""

    user_id: int
    student_id: str | None
    name: str | None
    registered_at: datetime | None  # aware, UTC; None if the seed had none


@dataclass(frozen=True)
class SeedFile:
    """What a seed database holds: one record per student per session (the latest of the file's
    rows for it), its registrations in file order, and how many rows repeated a student's session."""

    path: Path
    records: tuple[SeedRecord, ...]
    registrations: tuple[SeedRegistration, ...]
    duplicates: int = 0
    has_status: bool = True
    has_students: bool = True


# -- the file -------------------------------------------------------------------------------------


def read_seed(path: Path | str, tz: ZoneInfo, *, own_database: Path | None = None) -> SeedFile:
    """The seed database at `path`, read whole through a read-only connection; SeedError (one
    sentence) if it is not a seed bot's database or holds a value that cannot be imported.

    `own_database` is this bot's database (DATABASE_PATH): never a seed, however it is spelled.
    """
    path = Path(path)
    shown = str(path)
    _check_file(path, own_database)
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        connection = sqlite3.connect(uri, uri=True)
    except (sqlite3.Error, ValueError, OSError) as exc:
        raise SeedError("seed_unreadable", path=shown, reason=str(exc)) from exc
    deadline = _Deadline(time.monotonic() + MAX_SEED_SECONDS)
    try:
        connection.set_progress_handler(deadline.passed, _PROGRESS_STEPS)
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, _MAX_VALUE_BYTES)
        connection.execute("PRAGMA trusted_schema = OFF")  # no function of the file's schema runs
        return _read(connection, path, tz)
    except sqlite3.Error as exc:  # a damaged file, or one SQLite cannot read, or the time is up
        if deadline.stopped:
            raise SeedError("seed_too_slow", path=shown, seconds=MAX_SEED_SECONDS) from exc
        raise SeedError("seed_unreadable", path=shown, reason=str(exc)) from exc
    finally:
        connection.close()


class _Deadline:
    """The seed connection's progress handler: stops the statement running once the time is up."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.stopped = False

    def passed(self) -> int:
        if time.monotonic() > self.at:
            self.stopped = True
        return int(self.stopped)


def _check_file(path: Path, own_database: Path | None) -> None:
    shown = str(path)
    try:
        if not path.exists():
            raise SeedError("seed_missing", path=shown)
        if path.is_dir():
            raise SeedError("seed_is_folder", path=shown)
        if not path.is_file():
            raise SeedError("seed_not_sqlite", path=shown)
        if own_database is not None and _same_file(path, own_database):
            raise SeedError("seed_is_this_bot", path=shown)
        with path.open("rb") as file:
            magic = file.read(len(_SQLITE_MAGIC))
    except ValueError as exc:  # a NUL in the name
        raise SeedError("seed_unreadable", path=shown, reason="not a usable file name") from exc
    except OSError as exc:
        raise SeedError("seed_unreadable", path=shown, reason=exc.strerror or "not a readable file") from exc
    if magic != _SQLITE_MAGIC:
        raise SeedError("seed_not_sqlite", path=shown)


def _same_file(path: Path, other: Path) -> bool:
    if os.path.realpath(path) == os.path.realpath(other):
        return True
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def _columns(connection: sqlite3.Connection, table: str, shown: str) -> list[str]:
    """The table's column names; SeedError if one is computed at read (a generated column)."""
    rows = list(connection.execute(f"PRAGMA table_xinfo({table})"))
    if any(row[6] in (2, 3) for row in rows):  # hidden 2 and 3: generated (virtual, stored)
        raise SeedError("seed_not_a_table", path=shown, table=table, kind="table with computed columns")
    return [str(row[1]).casefold() for row in rows]


def _tables(connection: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    """The file's tables and views by folded name: (type, its CREATE statement)."""
    query = "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view')"
    return {str(name).casefold(): (str(kind), str(sql or "")) for kind, name, sql in connection.execute(query)}


def _check_table(tables: dict[str, tuple[str, str]], table: str, shown: str) -> None:
    """SeedError unless `table` is a plain table: a view or a virtual table runs code of the file's choosing."""
    kind, sql = tables[table]
    if kind != "table":
        raise SeedError("seed_not_a_table", path=shown, table=table, kind=kind)
    if " ".join(sql.split()[:2]).casefold() == "create virtual":
        raise SeedError("seed_not_a_table", path=shown, table=table, kind="virtual table")


def _too_many(rows: int, shown: str) -> None:
    if rows > MAX_SEED_ROWS:
        raise SeedError("seed_too_many_rows", path=shown, limit=MAX_SEED_ROWS)


def _read(connection: sqlite3.Connection, path: Path, tz: ZoneInfo) -> SeedFile:
    shown = str(path)
    tables = _tables(connection)
    if tables.keys() & _OWN_TABLES:
        raise SeedError("seed_is_this_bot", path=shown)
    if "attendance" not in tables:
        raise SeedError("seed_no_attendance", path=shown)
    _check_table(tables, "attendance", shown)
    has_students = "students" in tables
    if has_students:
        _check_table(tables, "students", shown)
    columns = _columns(connection, "attendance", shown)
    if "submitted_at" in columns:  # this bot's table (a copy of its database)
        raise SeedError("seed_is_this_bot", path=shown)
    missing = [name for name in SEED_COLUMNS if name not in columns]
    if missing:
        raise SeedError("seed_missing_columns", path=shown, table="attendance", missing=missing)
    has_status = "status" in columns
    status = "status" if has_status else "NULL"
    cursor = connection.execute(
        f"SELECT id, user_id, username, timestamp, session_id, {status} FROM attendance ORDER BY id"  # noqa: S608
    )
    latest: dict[tuple[int, str], SeedRecord] = {}
    rows = 0
    for row_id, user_id, username, stamp, session_id, typed_status in cursor:
        rows += 1
        _too_many(rows, shown)
        record = SeedRecord(
            row_id=row_id,
            user_id=_user_id(user_id, "attendance", row_id),
            username=_text(username, "username", row_id),
            at=_time(stamp, tz, "attendance", "timestamp", row_id),
            session_id=_session_id(session_id, row_id),
            status=_status(typed_status, row_id),
        )
        key = (record.user_id, record.session_id)
        kept = latest.get(key)
        if kept is None or record.at >= kept.at:  # the latest row of a student's session wins
            latest[key] = record
    registrations: list[SeedRegistration] = []
    if has_students:
        registrations = _registrations(connection, shown, tz)
    return SeedFile(
        path=path,
        records=tuple(latest.values()),
        registrations=tuple(registrations),
        duplicates=rows - len(latest),
        has_status=has_status,
        has_students=has_students,
    )


def _registrations(connection: sqlite3.Connection, shown: str, tz: ZoneInfo) -> list[SeedRegistration]:
    columns = _columns(connection, "students", shown)
    missing = [name for name in STUDENT_COLUMNS if name not in columns]
    if missing:
        raise SeedError("seed_missing_columns", path=shown, table="students", missing=missing)
    name = "student_name" if "student_name" in columns else "NULL"
    registered = "registered_at" if "registered_at" in columns else "NULL"
    cursor = connection.execute(f"SELECT user_id, student_id, {name}, {registered} FROM students")  # noqa: S608
    found: list[SeedRegistration] = []
    for user_id, student_id, student_name, registered_at in cursor:
        _too_many(len(found) + 1, shown)
        found.append(
            SeedRegistration(
                user_id=_user_id(user_id, "students", None),
                student_id=None if student_id is None else str(student_id),
                name=None if student_name is None else str(student_name),
                registered_at=None
                if registered_at is None
                else _time(registered_at, tz, "students", "registered_at", user_id),
            )
        )
    return found


def _user_id(value: Any, table: str, row_id: object) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not 0 < number <= _MAX_USER_ID:
        raise SeedError("seed_bad_user_id", table=table, row_id=row_id, value=value)
    return number


def _plain(text: str) -> str:
    """Text as it comes in from the seed: control, format and line-separator characters dropped."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED)


def _text(value: Any, column: str, row_id: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        raise SeedError("seed_bad_value", table="attendance", row_id=row_id, column=column, value=value)
    return _plain(str(value))


def _session_id(value: Any, row_id: object) -> str:
    text = "" if value is None or isinstance(value, bytes) else _plain(str(value)).strip()
    if not text:
        raise SeedError("seed_bad_value", table="attendance", row_id=row_id, column="session_id", value=value)
    return text


def _status(value: Any, row_id: object) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Status.PRESENT.value  # a row written before the seed had statuses
    word = str(value).strip().casefold() if isinstance(value, str) else None
    if word not in STATUSES:
        raise SeedError("seed_unknown_status", value=value, row_id=row_id)
    return word


def _time(value: Any, tz: ZoneInfo, table: str, column: str, row_id: object) -> datetime:
    """A seed time (`YYYY-MM-DD HH:MM:SS`, the seed's local time: TIMEZONE) as an aware UTC datetime."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        if len(text) < 16 or text[10] not in " T":  # a date and a time, at least to the minute
            raise ValueError(text)
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise SeedError("seed_bad_value", table=table, row_id=row_id, column=column, value=value) from exc
