"""Moving from the seed bot: its SQLite database read (read-only, bounded) and checked whole, the plan
of what to bring into a course, and the import in short transactions with an event per record and registration.

The seed's `attendance` table is `id, user_id, username, timestamp, date_id, session_id` and, in
later versions, `status`; its `students` table (later versions) is `user_id, student_id,
student_name, registered_at`. The seed wrote local time: its times are read in TIMEZONE and stored
in UTC, as every other time here. The file is refused whole (one sentence, nothing imported) if it
is not such a database or holds a value that cannot be imported as it is (an unknown status, a
time that is not a time); what is already in the course (sessions, records, registrations) is left
as it is, so a second import of the same file changes nothing.

A hostile file is refused too: only real tables are read (a view, a virtual table or computed
columns named like the seed's are refused before a row is read), at most MAX_SEED_ROWS rows a table
and MAX_SEED_SECONDS of reading (SQLite's progress handler stops it). Usernames and session ids
come in without control or format characters (a session id with nothing else refuses the file).
The import writes SEED_CHUNK records (or registrations) per transaction, each with its events, so a
running bot's check-ins wait for one chunk at most; a run that was interrupted is finished by
running it again.
"""

from __future__ import annotations

import os
import sqlite3
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import peewee

from . import codes, storage
from .clock import Clock, utc_now
from .courses import CourseService
from .errors import AttendanceError
from .models import Attendance, Course, Session, Student
from .records import STATUSES, CourseInfo, Source, Status
from .roster import clean_roster_name
from .settings import Settings
from .students import StudentError, clean_student_id, student_key

ACTOR = "import-seed"
ACTION = "import-seed"
SEED_COLUMNS = ("id", "user_id", "username", "timestamp", "date_id", "session_id")
STUDENT_COLUMNS = ("user_id", "student_id")  # student_name and registered_at may be missing
# What only this bot's own database (of any release) has.
_OWN_TABLES = {"schema_migration", "wrong_attempt", "roster_entry"}
_SQLITE_MAGIC = b"SQLite format 3\x00"
_MAX_USER_ID = 2**63 - 1
_CHUNK = 500  # ids per IN (...) of a read
MAX_SEED_ROWS = 1_000_000  # rows a table of the seed file may have (a seed bot's course has thousands)
MAX_SEED_SECONDS = 120.0  # reading the seed file (a million rows take seconds); longer is refused
SEED_CHUNK = 1_000  # records (or registrations) written per transaction: the write lock is held that long
_PROGRESS_STEPS = 10_000  # SQLite instructions between looks at the clock
_MAX_VALUE_BYTES = 1_000_000  # the longest value the seed connection reads (SQLITE_LIMIT_LENGTH)
# What never comes in from a seed file's usernames and session ids: control characters (C0, C1),
# format characters (bidi overrides and isolates, zero-width characters) and line separators.
_DROPPED = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))

# Why a registration of the seed file is not brought in (the keys of SeedReport.skipped).
SKIP_INVALID_ID = "invalid id"
SKIP_ID_TAKEN = "id taken"
SKIP_OTHER_ID = "other id"
SKIP_NO_SERVER = "no server"


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


@dataclass(frozen=True)
class NewSession:
    """A seed session the course does not have yet: a closed session from its first to its last record."""

    session_id: str
    opened_at: datetime
    closed_at: datetime


@dataclass(frozen=True)
class NewRegistration:
    """A seed registration that will be written."""

    user_id: int
    student_id: str
    key: str
    name: str | None
    registered_at: datetime | None


@dataclass
class SeedPlan:
    """What an import of a seed file into a course will write, and what it leaves as it is."""

    sessions: list[NewSession] = field(default_factory=list)
    records: list[SeedRecord] = field(default_factory=list)
    records_there: int = 0
    registrations: list[NewRegistration] = field(default_factory=list)
    registrations_there: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    names_left_out: int = 0


@dataclass(frozen=True)
class SeedReport:
    """What an import did (the counts the shell prints)."""

    sessions_created: int
    records_imported: int
    records_there: int
    duplicates: int
    registrations_imported: int
    registrations_there: int
    skipped: tuple[tuple[str, int], ...]  # (reason key, how many), in a fixed order
    names_left_out: int

    @property
    def changed(self) -> bool:
        return bool(self.sessions_created or self.records_imported or self.registrations_imported)


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


def _source(status: str) -> str:
    """The source an imported record of `status` gets: `code` for one a check-in gives (present,
    late), else `manual` (an instructor set excused and absent)."""
    return Source.CODE if Status(status).by_code else Source.MANUAL


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


# -- the plan -------------------------------------------------------------------------------------


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _spans(records: Iterable[SeedRecord]) -> dict[str, tuple[datetime, datetime]]:
    """Each seed session's first and last record time: the times of a session the import creates."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for record in records:
        first, last = spans.get(record.session_id, (record.at, record.at))
        spans[record.session_id] = (min(first, record.at), max(last, record.at))
    return spans


def check_sessions(course: CourseInfo, session_ids: Sequence[str]) -> dict[str, int | None]:
    """The course of each of these session ids the database has; SeedError if one is another course's."""
    existing: dict[str, int | None] = {}
    for chunk in _chunks(sorted(session_ids)):
        query = Session.select(Session.session_id, Session.course).where(Session.session_id.in_(list(chunk)))
        existing.update(query.tuples())
    for session_id, owner in sorted(existing.items()):
        if owner != course.id:
            other = Course.get_or_none(Course.id == owner) if owner is not None else None
            raise SeedError(
                "seed_session_of_another_course", session_id=session_id, course_name=other.name if other else None
            )
    return existing


def plan_records(
    course: CourseInfo, records: Sequence[SeedRecord], spans: dict[str, tuple[datetime, datetime]]
) -> SeedPlan:
    """What importing these records into `course` writes (their sessions the course lacks, the records
    not there yet), read from the database now: call it inside the chunk's transaction."""
    plan = SeedPlan()
    session_ids = sorted({r.session_id for r in records})
    existing = check_sessions(course, session_ids)
    plan.sessions = [NewSession(sid, *spans[sid]) for sid in session_ids if sid not in existing]
    there: set[tuple[int | None, str]] = set()
    users = sorted({r.user_id for r in records})
    for chunk in _chunks(session_ids):
        for accounts in _chunks(users):  # these accounts only: a chunk never reads a whole large session
            query = Attendance.select(Attendance.user_id, Attendance.session_id).where(
                Attendance.session_id.in_(list(chunk)) & Attendance.user_id.in_(list(accounts))
            )
            there.update(query.tuples())
    for record in records:
        if (record.user_id, record.session_id) in there:
            plan.records_there += 1
        else:
            plan.records.append(record)
    return plan


def plan_registrations(course: CourseInfo, registrations: Sequence[SeedRegistration]) -> SeedPlan:
    """What importing these registrations into the course's server writes, and what it skips (why),
    read from the database now: call it inside the chunk's transaction."""
    plan = SeedPlan()
    if course.guild_id is None:
        plan.skipped[SKIP_NO_SERVER] += len(registrations)
        return plan
    by_user: dict[int, str] = {}
    by_key: dict[str, int] = {}
    users = sorted({r.user_id for r in registrations})
    for chunk in _chunks(users):
        query = Student.select(Student.user_id, Student.student_key).where(
            (Student.guild_id == course.guild_id) & Student.user_id.in_(list(chunk))
        )
        by_user.update(query.tuples())
    keys: set[str] = set()
    cleaned: list[tuple[SeedRegistration, str | None]] = []
    for registration in registrations:
        try:
            sid = clean_student_id(registration.student_id or "")
        except StudentError:
            sid = None
        cleaned.append((registration, sid))
        if sid is not None:
            keys.add(student_key(sid))
    for chunk in _chunks(sorted(keys)):
        query = Student.select(Student.student_key, Student.user_id).where(
            (Student.guild_id == course.guild_id) & Student.student_key.in_(list(chunk))
        )
        by_key.update(query.tuples())
    for registration, sid in cleaned:
        if sid is None:
            plan.skipped[SKIP_INVALID_ID] += 1
            continue
        key = student_key(sid)
        held_by = by_key.get(key)
        has = by_user.get(registration.user_id)
        if has == key and held_by == registration.user_id:
            plan.registrations_there += 1
        elif held_by is not None and held_by != registration.user_id:
            plan.skipped[SKIP_ID_TAKEN] += 1
        elif has is not None:
            plan.skipped[SKIP_OTHER_ID] += 1
        else:
            typed = (registration.name or "").strip()
            name = clean_roster_name(typed) if typed else None
            if typed and name is None:  # a control character or a line break, or over 100 characters
                plan.names_left_out += 1
            plan.registrations.append(NewRegistration(registration.user_id, sid, key, name, registration.registered_at))
            by_key[key] = registration.user_id  # a later row of the file with this id or account is a conflict
            by_user[registration.user_id] = key
    return plan


# -- the import -----------------------------------------------------------------------------------


class SeedImportService:
    """Imports a seed database into a course; holds settings and a clock, no state."""

    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.courses = CourseService(settings, clock)

    def import_seed(self, course_id: int, seed: SeedFile) -> SeedReport:
        """Bring a seed file's registrations, then its sessions and records into a course, each with
        its event, SEED_CHUNK at a time, each chunk in a transaction of its own: a failure keeps the
        chunks written before it, and running the import again brings in the rest (what is there
        already stays as it is). A seed session of another course refuses the file before any write."""
        course = self.courses.get(course_id)
        now = self.clock()
        done = SeedPlan()
        records = sorted(seed.records, key=lambda r: (r.session_id, r.user_id))
        spans = _spans(records)
        try:
            check_sessions(course, list(spans))
            late_after = Course.get_by_id(course.id).late_after
            for start in range(0, len(seed.registrations), SEED_CHUNK):
                with storage.immediate():
                    plan = plan_registrations(course, seed.registrations[start : start + SEED_CHUNK])
                    self._write(course, plan, late_after, now)
                _add(done, plan)
            for start in range(0, len(records), SEED_CHUNK):
                with storage.immediate():
                    plan = plan_records(course, records[start : start + SEED_CHUNK], spans)
                    self._write(course, plan, late_after, now)
                _add(done, plan)
        except peewee.DatabaseError as exc:
            raise storage.failure("importing the seed database", exc) from exc
        order = (SKIP_ID_TAKEN, SKIP_OTHER_ID, SKIP_INVALID_ID, SKIP_NO_SERVER)
        return SeedReport(
            sessions_created=len(done.sessions),
            records_imported=len(done.records),
            records_there=done.records_there,
            duplicates=seed.duplicates,
            registrations_imported=len(done.registrations),
            registrations_there=done.registrations_there,
            skipped=tuple((reason, done.skipped[reason]) for reason in order if done.skipped[reason]),
            names_left_out=done.names_left_out,
        )

    def _write(self, course: CourseInfo, plan: SeedPlan, late_after: int | None, now: datetime) -> None:
        """A chunk's plan written, with its events (inside the chunk's transaction)."""
        storage.insert_seed_sessions(
            [
                {
                    "session_id": s.session_id,
                    "secret": codes.new_secret(),
                    "interval": course.interval,
                    "code_length": course.code_length,
                    "grace_seconds": course.grace_seconds,
                    "opened_at": s.opened_at,
                    "closed_at": s.closed_at,
                    "open_flag": None,
                    "opened_by": ACTOR,
                    "guild_id": course.guild_id,
                    "course": course.id,
                    "late_after": late_after,
                }
                for s in plan.sessions
            ]
        )
        storage.insert_seed_records([_record_row(r) for r in plan.records])
        storage.insert_seed_registrations(
            [
                {
                    "guild_id": course.guild_id,
                    "user_id": r.user_id,
                    "student_id": r.student_id,
                    "student_key": r.key,
                    "name": r.name,
                    "registered_at": r.registered_at or now,
                }
                for r in plan.registrations
            ]
        )
        storage.insert_seed_events(self._events(course, plan, now))

    def _events(self, course: CourseInfo, plan: SeedPlan, now: datetime) -> list[dict[str, object]]:
        """One event per record and per registration brought in; a record's names the account's
        student id in the course's server, where it has one (after this import)."""
        registered: dict[int, str] = {}
        if course.guild_id is not None and plan.records:
            users = sorted({r.user_id for r in plan.records})
            for chunk in _chunks(users):
                query = Student.select(Student.user_id, Student.student_id).where(
                    (Student.guild_id == course.guild_id) & Student.user_id.in_(list(chunk))
                )
                registered.update(query.tuples())
        registered.update({r.user_id: r.student_id for r in plan.registrations})
        common = {"at": now, "course_id": course.id, "guild_id": course.guild_id, "actor": ACTOR, "action": ACTION}
        events: list[dict[str, object]] = [
            {
                **common,
                "session_id": None,
                "user_id": r.user_id,
                "student_id": r.student_id,
                "old_status": None,
                "new_status": None,
                "reason": "seed registration",
                "source": Source.MANUAL,
            }
            for r in plan.registrations
        ]
        events.extend(
            {
                **common,
                "session_id": r.session_id,
                "user_id": r.user_id,
                "student_id": registered.get(r.user_id),
                "old_status": None,
                "new_status": r.status,
                "reason": f"seed row {r.row_id}",
                "source": _source(r.status),
            }
            for r in plan.records
        )
        return events


def _add(done: SeedPlan, plan: SeedPlan) -> None:
    """A chunk's plan added to the import's totals."""
    done.sessions.extend(plan.sessions)
    done.records.extend(plan.records)
    done.records_there += plan.records_there
    done.registrations.extend(plan.registrations)
    done.registrations_there += plan.registrations_there
    done.skipped.update(plan.skipped)
    done.names_left_out += plan.names_left_out


def _record_row(record: SeedRecord) -> dict[str, object]:
    return {
        "user_id": record.user_id,
        "username": record.username,
        "timestamp": record.at.strftime("%Y-%m-%d %H:%M:%S"),
        "date_id": record.at.strftime("%Y-%m-%d"),
        "session_id": record.session_id,
        "submitted_at": record.at,
        "status": record.status,
        "source": _source(record.status),
    }
