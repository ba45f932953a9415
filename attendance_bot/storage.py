"""Every write to the database, and the `/here` hot path's reads: rows named by field, SQL prepared once.

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
from typing import Any, NamedTuple, TypeVar

import peewee

from .errors import StorageError
from .models import (
    Attendance,
    Course,
    Event,
    ProjectorLink,
    RosterEntry,
    Session,
    Student,
    UTCDateTimeField,
    VoiceSpan,
    WrongAttempt,
    backend,
    database,
)
from .records import ExportRow, Status

T = TypeVar("T")
log = logging.getLogger(__name__)

# S608 below: only identifiers from the models are interpolated; every value is a bound parameter.

# Each write is one multi-row statement per chunk, not executemany: executemany steps SQLite once
# per row and hands the GIL back to the event loop each time, which a busy loop pays for.
MAX_VARIABLES = 900  # bound variables per statement, under SQLite's old limit of 999
# The upsert says which rows it wrote with RETURNING (PostgreSQL; SQLite from 3.35). Without it
# (an older SQLite) every row is written: the IMMEDIATE transaction holds the write lock from the
# batch's read to its commit, so no instructor's mark can land in between.
SQLITE_HAS_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)


class AttendanceRow(NamedTuple):
    """One attendance record as written by the upsert; field names are Attendance's columns."""

    user_id: int
    username: str
    display_name: str | None
    timestamp: str  # YYYY-MM-DD HH:MM:SS, UTC
    date_id: str  # YYYY-MM-DD, UTC
    session_id: str
    submitted_at: str  # as stored: stored_time(an aware datetime)
    status: str  # present or late (a re-check-in keeps the first one's)
    source: str  # code
    in_voice: int | None = None  # 1 or 0: in the session's voice channel or not (None: the session has none)


class EventRow(NamedTuple):
    """One event as the hot path appends it (a check-in or re-check-in); field names are Event's columns."""

    at: str  # as stored: stored_time(an aware datetime)
    course_id: int | None
    session_id: str
    guild_id: int | None
    user_id: int
    actor: str
    action: str
    old_status: str | None
    new_status: str
    source: str


class WrongAttemptRow(NamedTuple):
    """One wrong code as written; field names are WrongAttempt's columns."""

    session_id: str
    user_id: int
    attempted_at: str  # as stored: stored_time(an aware datetime)


# What a re-submission keeps: the conflict key (one row per student per session) and the first
# check-in's status (time only moves on: a later one could only be late); the rest is replaced.
# A record an instructor set (source manual) is never replaced by a check-in.
_ATTENDANCE_KEY = ("user_id", "session_id")
_KEPT = (*_ATTENDANCE_KEY, "status", "source")
_REPLACED = tuple(name for name in AttendanceRow._fields if name not in _KEPT)

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


# -- open sessions ----------------------------------------------------------------------------

_SESSION_FIELDS = tuple(Session._meta.sorted_fields)  # type: ignore[attr-defined]

_OPEN_SESSIONS = (
    f"SELECT {', '.join('s.' + _col(Session, f.name) for f in _SESSION_FIELDS)}, "
    f"c.{_col(Course, 'guild_id')}, "
    f"COALESCE(s.{_col(Session, 'attendance_channel_id')}, c.{_col(Course, 'attendance_channel_id')}), "
    f"c.{_col(Course, 'name')} "
    f"FROM {_table(Session)} AS s LEFT OUTER JOIN {_table(Course)} AS c "
    f"ON s.{_col(Session, 'course')} = c.{_col(Course, 'id')} "
    f"WHERE s.{_col(Session, 'open_flag')} = 1"
)
_OPEN_SESSION_OF_COURSE = f"{_OPEN_SESSIONS} AND s.{_col(Session, 'course')} = ?"


class OpenSession(NamedTuple):
    """An open session's row with where its course takes attendance."""

    row: Session
    guild_id: int | None  # the course's server
    attendance_channel_id: int | None  # where its codes are typed (the course's when it opened)
    course_name: str | None


def _open_session(found: tuple[Any, ...]) -> OpenSession:
    width = len(_SESSION_FIELDS)
    row = Session(**{f.name: f.python_value(v) for f, v in zip(_SESSION_FIELDS, found[:width], strict=True)})
    return OpenSession(row, *found[width:])


def open_sessions() -> list[OpenSession]:
    """Every open session, with its course's server and attendance channel, oldest first.

    One prepared statement (peewee's own query costs 10x on the hot path), each value converted
    as peewee converts it.
    """
    rows = [_open_session(found) for found in _run(_OPEN_SESSIONS).fetchall()]
    rows.sort(key=lambda o: (o.row.opened_at, o.row.id))
    return rows


def find_open_session(course_id: int) -> Session | None:
    """A course's open session's row, or None: the one way every caller finds it."""
    found = _run(_OPEN_SESSION_OF_COURSE, (course_id,)).fetchone()
    return None if found is None else _open_session(found).row


def attendance_channels(guild_id: int | None, live: Sequence[OpenSession]) -> list[int]:
    """Where the courses of a server (not archived) and their open sessions (`live`, as read by
    open_sessions()) take attendance."""
    query = Course.select(Course.attendance_channel_id).where(
        Course.archived_at.is_null() & Course.attendance_channel_id.is_null(False)
    )
    if guild_id is not None:
        query = query.where(Course.guild_id == guild_id)
    channels = {channel for (channel,) in query.tuples()}
    channels.update(
        o.attendance_channel_id
        for o in live
        if o.attendance_channel_id is not None and (guild_id is None or o.guild_id == guild_id)
    )
    return sorted(channels)


# -- course writes ------------------------------------------------------------------------------


def create_course(**fields: Any) -> Course:
    """Insert a course (IntegrityError if its name is taken in its server)."""
    return Course.create(**fields)


def update_course(course_id: int, **fields: Any) -> None:
    """Change a course's columns."""
    Course.update(**fields).where(Course.id == course_id).execute()


# -- students and events -------------------------------------------------------------------------


def save_student(
    *,
    guild_id: int,
    user_id: int,
    student_id: str,
    student_key: str,
    name: str | None,
    at: datetime,
    confirmed: bool = True,
) -> tuple[Student, Student | None]:
    """Register (or update) a Discord account's student id in a server, confirmed or a pending
    claim: the row now, and as it was (IntegrityError if another account of the server has that id)."""
    old = Student.get_or_none((Student.guild_id == guild_id) & (Student.user_id == user_id))
    if old is None:
        return (
            Student.create(
                guild_id=guild_id,
                user_id=user_id,
                student_id=student_id,
                student_key=student_key,
                name=name,
                registered_at=at,
                confirmed=confirmed,
            ),
            None,
        )
    before = Student(**old.__data__)
    Student.update(
        student_id=student_id, student_key=student_key, name=name, registered_at=at, confirmed=confirmed
    ).where(Student.id == old.id).execute()
    return Student.get_by_id(old.id), before


def delete_student(row_id: int) -> None:
    """Remove a registration (a claim dropped, or one an instructor's link replaced); its event is the caller's."""
    Student.delete().where(Student.id == row_id).execute()


def add_event(**fields: Any) -> None:
    """Append one event (events are never updated or deleted)."""
    Event.insert(**fields).execute()


# -- session writes -------------------------------------------------------------------------


def create_session(
    *,
    session_id: str,
    secret: str,
    interval: int,
    code_length: int,
    grace_seconds: int,
    opened_at: datetime,
    opened_by: str | None,
    guild_id: int | None = None,
    channel_id: int | None = None,
    closed_at: datetime | None = None,
    course_id: int | None = None,
    window_offset_ms: int = 0,
    attendance_channel_id: int | None = None,
    late_after: int | None = None,
    voice_channel_id: int | None = None,
    voice_rule: str | None = None,
    code_in_channel: bool | None = None,
) -> Session:
    """Insert a session, open unless `closed_at` is given (IntegrityError if its id is taken or it
    would be its course's second open session)."""
    fields: dict[str, object] = {}
    if closed_at is not None:  # left out otherwise: the model's defaults, exactly as before
        fields.update(closed_at=closed_at, open_flag=None)
    return Session.create(
        session_id=session_id,
        secret=secret,
        interval=interval,
        code_length=code_length,
        grace_seconds=grace_seconds,
        opened_at=opened_at,
        opened_by=opened_by,
        guild_id=guild_id,
        channel_id=channel_id,
        course=course_id,
        window_offset_ms=window_offset_ms,
        attendance_channel_id=attendance_channel_id,
        late_after=late_after,
        voice_channel_id=voice_channel_id,
        voice_rule=voice_rule,
        code_in_channel=code_in_channel,
        **fields,
    )


def mark_closed(row: Session, closed_at: datetime) -> None:
    """Close a session: its closing time set, its open flag cleared (so another may open)."""
    row.closed_at = closed_at
    row.open_flag = None
    row.save()


def record_message(session_id: str, *, channel_id: int, message_id: int, posted_at: datetime) -> None:
    """Remember where a session's code message is."""
    Session.update(channel_id=channel_id, message_id=message_id, message_posted_at=posted_at).where(
        Session.session_id == session_id
    ).execute()


# -- projector links ------------------------------------------------------------------------


def projector_nonce(session_id: str) -> str | None:
    """The nonce of a session's projector link, or None when it has none yet."""
    row = ProjectorLink.get_or_none(ProjectorLink.session_id == session_id)
    return None if row is None else str(row.nonce)


def save_projector_link(session_id: str, *, nonce: str, token_hash: str, at: datetime, replace: bool) -> None:
    """Give a session its projector link: a first one, or (replace) a new one in place of the old,
    which no longer opens anything. Without replace, a link another process made meanwhile stays."""
    insert = ProjectorLink.insert(session_id=session_id, nonce=nonce, token_hash=token_hash, made_at=at)
    if replace:
        insert = insert.on_conflict(
            conflict_target=[ProjectorLink.session_id],
            update={ProjectorLink.nonce: nonce, ProjectorLink.token_hash: token_hash, ProjectorLink.made_at: at},
        )
    else:
        insert = insert.on_conflict_ignore()
    insert.execute()


_LINKED_SESSION = (
    f"SELECT s.{_col(Session, 'session_id')} FROM {_table(ProjectorLink)} AS p "
    f"JOIN {_table(Session)} AS s ON s.{_col(Session, 'session_id')} = p.{_col(ProjectorLink, 'session_id')} "
    f"WHERE p.{_col(ProjectorLink, 'token_hash')} = ?"
)
_LINKED_OPEN_SESSION = f"{_LINKED_SESSION} AND s.{_col(Session, 'open_flag')} = 1"


def linked_session(token_hash: str, *, open_only: bool) -> str | None:
    """The session a link's token hash opens (with open_only, only while it is open), or None: one
    indexed read, the same for every token that opens nothing."""
    found = _run(_LINKED_OPEN_SESSION if open_only else _LINKED_SESSION, (token_hash,)).fetchone()
    return None if found is None else str(found[0])


# -- voice spans (attendance_bot/voice.py) ------------------------------------------------------


class SpanRow(NamedTuple):
    """A stretch of time in a session's voice channel as written; field names are VoiceSpan's columns."""

    session_id: str
    user_id: int
    channel_id: int
    joined_at: str  # as stored: stored_time(an aware datetime)
    left_at: str | None


def open_spans(session_ids: Sequence[str]) -> dict[tuple[str, int], tuple[int, datetime]]:
    """The spans still open (no leave yet) of these sessions: (session, account) -> (the span's id, its start)."""
    if not session_ids:
        return {}
    query = VoiceSpan.select(VoiceSpan.id, VoiceSpan.session_id, VoiceSpan.user_id, VoiceSpan.joined_at).where(
        VoiceSpan.session_id.in_(list(session_ids)) & VoiceSpan.left_at.is_null()
    )
    return {(session_id, user_id): (span_id, joined) for span_id, session_id, user_id, joined in query.tuples()}


def insert_spans(rows: Sequence[SpanRow]) -> None:
    """Write new spans, as few multi-row statements as the variable limit allows."""
    _write_rows(_insert_spans, len(SpanRow._fields), rows)


@functools.cache
def _insert_spans(rows: int) -> str:
    return (
        f"INSERT INTO {_table(VoiceSpan)} ({_columns(VoiceSpan, SpanRow)}) VALUES {_values(len(SpanRow._fields), rows)}"
    )


def close_spans(left: dict[int, datetime]) -> None:
    """End spans (by id) at the times given: one statement per distinct time."""
    by_time: dict[datetime, list[int]] = {}
    for span_id, at in left.items():
        by_time.setdefault(at, []).append(span_id)
    for at, ids in by_time.items():
        for chunk in _chunks(ids, MAX_VARIABLES - 1):
            VoiceSpan.update(left_at=at).where(VoiceSpan.id.in_(chunk) & VoiceSpan.left_at.is_null()).execute()


def close_session_spans(session_id: str, at: datetime) -> None:
    """End every span of a session still open (the session closes: nothing is logged after it)."""
    VoiceSpan.update(left_at=at).where((VoiceSpan.session_id == session_id) & VoiceSpan.left_at.is_null()).execute()


def spans_of(session_ids: Sequence[str]) -> list[tuple[str, int, datetime, datetime | None]]:
    """Every span of these sessions: (session, account, joined, left or None)."""
    found: list[tuple[str, int, datetime, datetime | None]] = []
    for chunk in _chunks(list(session_ids), MAX_VARIABLES):
        query = VoiceSpan.select(VoiceSpan.session_id, VoiceSpan.user_id, VoiceSpan.joined_at, VoiceSpan.left_at).where(
            VoiceSpan.session_id.in_(chunk)
        )
        found.extend(query.tuples())
    return found


# -- wrong attempts ---------------------------------------------------------------------------


def delete_wrong_attempts(session_id: str) -> None:
    """Forget a session's wrong attempts."""
    WrongAttempt.delete().where(WrongAttempt.session_id == session_id).execute()


def prune_wrong_attempts(before: datetime) -> int:
    """Delete the wrong attempts of sessions not open, and those older than `before`; how many."""
    still_open = Session.select(Session.session_id).where(Session.open_flag == 1)
    deleted = (
        WrongAttempt.delete()
        .where(WrongAttempt.session_id.not_in(still_open) | (WrongAttempt.attempted_at < before))
        .execute()
    )
    return int(deleted)


_RECENT_WRONG = (
    f"SELECT {_col(WrongAttempt, 'user_id')}, {_col(WrongAttempt, 'attempted_at')} FROM {_table(WrongAttempt)} "
    f"WHERE {_col(WrongAttempt, 'session_id')} IN ({{sessions}}) AND {_col(WrongAttempt, 'user_id')} IN ({{marks}}) "
    f"AND {_col(WrongAttempt, 'attempted_at')} > ?"
)

_PRESENT = (
    f"SELECT {_col(Attendance, 'session_id')}, {_col(Attendance, 'user_id')}, {_col(Attendance, 'status')}, "
    f"{_col(Attendance, 'source')}, {_col(Attendance, 'submitted_at')} FROM {_table(Attendance)} "
    f"WHERE {_col(Attendance, 'session_id')} IN ({{sessions}}) AND {_col(Attendance, 'user_id')} IN ({{marks}})"
)

# An instructor's mark of a roster student who had no linked account then (no user_id, a student
# key): it belongs to the account registered with that student id in the server now.
_MARKED_BY_KEY = (
    f"SELECT a.{_col(Attendance, 'session_id')}, st.{_col(Student, 'user_id')}, a.{_col(Attendance, 'status')}, "
    f"a.{_col(Attendance, 'source')}, a.{_col(Attendance, 'submitted_at')} "
    f"FROM {_table(Attendance)} AS a JOIN {_table(Student)} AS st "
    f"ON st.{_col(Student, 'student_key')} = a.{_col(Attendance, 'student_key')} "
    f"WHERE a.{_col(Attendance, 'session_id')} IN ({{sessions}}) AND a.{_col(Attendance, 'user_id')} IS NULL "
    f"AND st.{_col(Student, 'guild_id')} = ? AND st.{_col(Student, 'confirmed')} "
    f"AND st.{_col(Student, 'user_id')} IN ({{marks}})"
)


# The check-in events of some students in some sessions, in the order written (for folding repeats
# against an instructor's mark: the latest says whether the last attempt was logged this minute).
_CHECK_IN_EVENTS = (
    f"SELECT {_col(Event, 'session_id')}, {_col(Event, 'user_id')}, {_col(Event, 'action')}, {_col(Event, 'at')} "
    f"FROM {_table(Event)} WHERE {{server}} AND {_col(Event, 'user_id')} IN ({{marks}}) "
    f"AND {_col(Event, 'session_id')} IN ({{sessions}}) ORDER BY {_col(Event, 'id')}"
)
_OF_SERVER = f"{_col(Event, 'guild_id')} = ?"  # the index (guild_id, user_id)
_OF_NO_SERVER = f"{_col(Event, 'guild_id')} IS NULL"
CHECK_IN_ACTIONS = ("check-in", "re-check-in")


class Held(NamedTuple):
    """A student's record in a session as it stands before a batch: its status, who set it and
    when it was last submitted (as stored)."""

    status: str
    source: str  # code or manual
    submitted_at: str


def same_minute(stored: str, other: str) -> bool:
    """Whether two stored times fall in the same UTC minute of the clock (YYYY-MM-DD HH:MM)."""
    return stored[:16] == other[:16]


def recent_wrong_and_present(
    session_ids: Sequence[str], user_ids: Sequence[int], since: datetime, guild_id: int | None = None
) -> tuple[dict[int, list[datetime]], dict[tuple[str, int], Held]]:
    """For these students: their wrong attempts after `since` in any of these sessions (the throttle
    counts across the sessions of one channel), and the record each (session, student) has, if any
    (including an instructor's mark made by student id before the account was registered)."""
    stamp = stored_time(since)
    wrong: dict[int, list[datetime]] = {}
    present: dict[tuple[str, int], Held] = {}
    sessions = ", ".join("?" * len(session_ids))
    for chunk in _chunks(list(user_ids), MAX_VARIABLES - 2 - len(session_ids)):  # + sessions, time or server
        marks = ", ".join("?" * len(chunk))
        cursor = _run(_RECENT_WRONG.format(sessions=sessions, marks=marks), (*session_ids, *chunk, stamp))
        for user_id, attempted_at in cursor.fetchall():
            wrong.setdefault(user_id, []).append(_from_db(attempted_at))
        cursor = _run(_PRESENT.format(sessions=sessions, marks=marks), (*session_ids, *chunk))
        for session_id, user_id, status, source, submitted_at in cursor.fetchall():
            present[(session_id, user_id)] = Held(status, source, submitted_at)
        if guild_id is not None:
            cursor = _run(_MARKED_BY_KEY.format(sessions=sessions, marks=marks), (*session_ids, guild_id, *chunk))
            for session_id, user_id, status, source, submitted_at in cursor.fetchall():
                present[(session_id, user_id)] = Held(status, source, submitted_at)
    return wrong, present


def records_held(keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Held]:
    """The records of these (session, student) pairs as they stand now, read by account (what the
    upsert's conflict key names)."""
    session_ids = sorted({session_id for session_id, _ in keys})
    wanted = set(keys)
    held: dict[tuple[str, int], Held] = {}
    sessions = ", ".join("?" * len(session_ids))
    for chunk in _chunks(sorted({user_id for _, user_id in keys}), MAX_VARIABLES - len(session_ids)):
        marks = ", ".join("?" * len(chunk))
        cursor = _run(_PRESENT.format(sessions=sessions, marks=marks), (*session_ids, *chunk))
        for session_id, user_id, status, source, submitted_at in cursor.fetchall():
            if (session_id, user_id) in wanted:
                held[(session_id, user_id)] = Held(status, source, submitted_at)
    return held


def last_check_ins(keys: Sequence[tuple[str, int]], guild_id: int | None) -> dict[tuple[str, int], str]:
    """For these (session, student) pairs: when the latest event of the student in the session was
    written (as stored), where that event is a check-in or re-check-in (a later mark or removal
    leaves the pair out)."""
    session_ids = sorted({session_id for session_id, _ in keys})
    wanted = set(keys)
    latest: dict[tuple[str, int], tuple[str, str]] = {}
    server, server_params = (_OF_NO_SERVER, ()) if guild_id is None else (_OF_SERVER, (guild_id,))
    sessions = ", ".join("?" * len(session_ids))
    for chunk in _chunks(sorted({user_id for _, user_id in keys}), MAX_VARIABLES - 1 - len(session_ids)):
        marks = ", ".join("?" * len(chunk))
        sql = _CHECK_IN_EVENTS.format(server=server, marks=marks, sessions=sessions)
        for session_id, user_id, action, at in _run(sql, (*server_params, *chunk, *session_ids)).fetchall():
            if (session_id, user_id) in wanted:
                latest[(session_id, user_id)] = (action, at)
    return {key: at for key, (action, at) in latest.items() if action in CHECK_IN_ACTIONS}


# -- the hot path's writes --------------------------------------------------------------------


def _values(columns: int, rows: int) -> str:
    one = f"({', '.join('?' * columns)})"
    return ", ".join([one] * rows)


@functools.cache
def _insert_wrong(rows: int) -> str:
    """INSERT of `rows` wrong attempts."""
    return (
        f"INSERT INTO {_table(WrongAttempt)} ({_columns(WrongAttempt, WrongAttemptRow)}) "
        f"VALUES {_values(len(WrongAttemptRow._fields), rows)}"
    )


@functools.cache
def _upsert_attendance(rows: int, returning: bool) -> str:
    """Upsert of `rows` distinct students' records: last submission wins, but never over an
    instructor's mark; with `returning`, the (session, student) of each row written (inserted or
    replaced: a row the WHERE skips is not returned)."""
    return (
        f"INSERT INTO {_table(Attendance)} ({_columns(Attendance, AttendanceRow)}) "
        f"VALUES {_values(len(AttendanceRow._fields), rows)} "
        f"ON CONFLICT ({', '.join(_col(Attendance, f) for f in _ATTENDANCE_KEY)}) DO UPDATE SET "
        + ", ".join(f"{_col(Attendance, f)} = excluded.{_col(Attendance, f)}" for f in _REPLACED)
        + f" WHERE {_table(Attendance)}.{_col(Attendance, 'source')} = 'code'"
        + (f" RETURNING {_col(Attendance, 'session_id')}, {_col(Attendance, 'user_id')}" if returning else "")
    )


@functools.cache
def _insert_events(rows: int) -> str:
    """INSERT of `rows` check-in events."""
    return f"INSERT INTO {_table(Event)} ({_columns(Event, EventRow)}) VALUES {_values(len(EventRow._fields), rows)}"


def insert_wrong_attempts(rows: Sequence[WrongAttemptRow]) -> None:
    """Write wrong attempts, as few multi-row statements as the variable limit allows."""
    _write_rows(_insert_wrong, len(WrongAttemptRow._fields), rows)


def upsert_attendance(rows: Sequence[AttendanceRow]) -> set[tuple[str, int]]:
    """Write distinct students' records; one already there is replaced (last submission wins)
    unless an instructor set it. Returns the (session_id, user_id) of the rows written, from what
    the statement did: on PostgreSQL an instructor's mark committed after the batch read the
    record is left standing, and its row is not among them."""
    returning = backend() == "postgresql" or SQLITE_HAS_RETURNING
    width = len(AttendanceRow._fields)
    written: set[tuple[str, int]] = set()
    for chunk in _chunks(list(rows), MAX_VARIABLES // width):
        cursor = _run(_upsert_attendance(len(chunk), returning), [value for row in chunk for value in row])
        if returning:
            written.update((session_id, user_id) for session_id, user_id in cursor.fetchall())
        else:
            written.update((row.session_id, row.user_id) for row in chunk)
    return written


def insert_events(rows: Sequence[EventRow]) -> None:
    """Append check-in events, as few multi-row statements as the variable limit allows."""
    _write_rows(_insert_events, len(EventRow._fields), rows)


def _write_rows(statement: Callable[[int], str], width: int, rows: Sequence[tuple[object, ...]]) -> None:
    for chunk in _chunks(list(rows), MAX_VARIABLES // width):
        _run(statement(len(chunk)), [value for row in chunk for value in row])


# -- export -----------------------------------------------------------------------------------

# The export reads plain tuples in the seed's order (session opening, then time); an
# attendance row whose session is gone still exports (LEFT JOIN), first as NULL sorts first.
_EXPORT = (
    f"SELECT a.{_col(Attendance, 'user_id')}, a.{_col(Attendance, 'username')}, "
    f"a.{_col(Attendance, 'submitted_at')}, a.{_col(Attendance, 'session_id')} "
    f"FROM {_table(Attendance)} AS a LEFT OUTER JOIN {_table(Session)} AS s "
    f"ON a.{_col(Attendance, 'session_id')} = s.{_col(Session, 'session_id')} "
    "{where}"
    f"ORDER BY s.{_col(Session, 'opened_at')}, a.{_col(Attendance, 'session_id')}, "
    f"a.{_col(Attendance, 'submitted_at')}, a.{_col(Attendance, 'user_id')}"
)
# The default (`records`) export holds the records that say the student was there: present or late
# (an instructor's excused or absent mark is in the `full` format only). A database without marks
# holds nothing else, so its export is today's, byte for byte.
EXPORTED_STATUSES = tuple(status.value for status in Status if status.attended)
_COUNTED = f"a.{_col(Attendance, 'status')} IN ({', '.join(repr(s) for s in EXPORTED_STATUSES)}) "
_EXPORT_ALL = _EXPORT.format(where=f"WHERE {_COUNTED}")
_EXPORT_SESSION = _EXPORT.format(where=f"WHERE a.{_col(Attendance, 'session_id')} = ? AND {_COUNTED}")
_EXPORT_COURSE = _EXPORT.format(where=f"WHERE s.{_col(Session, 'course')} = ? AND {_COUNTED}")


def export_slices(session_id: str | None, size: int, *, course_id: int | None = None) -> Iterator[list[ExportRow]]:
    """Every record of one session, or of one course, (or every record) in export order, read as
    plain tuples in slices of `size`.

    The statement runs at once; the slices are read as they are asked for.
    """
    if session_id is not None:
        cursor = _run(_EXPORT_SESSION, (session_id,))
    elif course_id is not None:
        cursor = _run(_EXPORT_COURSE, (course_id,))
    else:
        cursor = _run(_EXPORT_ALL)
    return _slices(cursor, size)


def _slices(cursor: Any, size: int) -> Iterator[list[ExportRow]]:
    utc = _from_db
    while rows := cursor.fetchmany(size):
        yield [ExportRow(user_id, username, utc(at), sid) for user_id, username, at, sid in rows]


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- roster writes (attendance_bot/roster.py) -----------------------------------------------------


def upsert_roster_entries(rows: Sequence[dict[str, Any]]) -> None:
    """Add or update roster entries, each a dict of RosterEntry's fields; an entry already there
    (same course and student key) takes the row's id, name and username and keeps its added_at."""

    fields = (RosterEntry.student_id, RosterEntry.name, RosterEntry.discord)
    target = [RosterEntry.course_id, RosterEntry.student_key]
    for chunk in _chunks(list(rows), MAX_VARIABLES // len(RosterEntry._meta.fields)):  # type: ignore[attr-defined]
        RosterEntry.insert_many(chunk).on_conflict(conflict_target=target, preserve=fields).execute()


def delete_roster_entries(course_id: int, student_keys: Sequence[str]) -> int:
    """Remove a course's roster entries with these student keys (never a record); how many."""

    deleted = 0
    for chunk in _chunks(list(student_keys), MAX_VARIABLES - 1):
        query = RosterEntry.delete().where((RosterEntry.course_id == course_id) & RosterEntry.student_key.in_(chunk))
        deleted += int(query.execute())
    return deleted


# -- corrections (attendance_bot/corrections.py) --------------------------------------------------
# Each is called inside the service's immediate() transaction, next to the add_event() that says
# what it did.


def insert_manual_record(**fields: Any) -> None:
    """Insert an instructor's record, fields named as Attendance's (user_id NULL for a roster
    student with no linked account)."""
    Attendance.insert(**fields).execute()


def update_record(record_id: int, **fields: Any) -> None:
    """Change an attendance record's columns (an instructor's status; its check-in time stays)."""
    Attendance.update(**fields).where(Attendance.id == record_id).execute()


def delete_records(record_ids: Sequence[int]) -> None:
    """Delete attendance records by id (a removal, or a duplicate folded into the record marked)."""
    if record_ids:
        Attendance.delete().where(Attendance.id.in_(list(record_ids))).execute()


# -- seed import writes (attendance_bot/seedimport.py) ---------------------------------------------


def _insert_many(model: type[Any], rows: Sequence[dict[str, Any]]) -> None:
    """Plain inserts of rows named by the model's fields, as few statements as the variable limit allows."""
    if not rows:
        return
    width = max(len(row) for row in rows)
    for chunk in _chunks(list(rows), max(1, MAX_VARIABLES // width)):
        model.insert_many(chunk).execute()


def insert_seed_sessions(rows: Sequence[dict[str, Any]]) -> None:
    """Insert the closed sessions a seed import creates (IntegrityError if an id is taken)."""
    _insert_many(Session, rows)


def insert_seed_records(rows: Sequence[dict[str, Any]]) -> None:
    """Insert a seed import's attendance records (IntegrityError if a student's session has one)."""
    _insert_many(Attendance, rows)


def insert_seed_registrations(rows: Sequence[dict[str, Any]]) -> None:
    """Insert a seed import's registrations (IntegrityError if an account or id of the server has one),
    confirmed: the operator brought them from the seed bot's own database."""
    _insert_many(Student, [{"confirmed": True, **row} for row in rows])


def insert_seed_events(rows: Sequence[dict[str, Any]]) -> None:
    """Append a seed import's events, one per record and registration brought in."""
    _insert_many(Event, rows)


# -- copy-db writes (attendance_bot/copydb.py) -----------------------------------------------------
# Whole tables copied from another database, row values as that database stored them; the table and
# column names are the target's own (read from its schema), every value a bound parameter.


def empty_tables(tables: Sequence[str]) -> None:
    """Delete every row of these tables, in the order given (dependents first)."""
    for table in tables:
        _run(f'DELETE FROM "{table}"')


def insert_copied_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Insert rows as they are (ids included), as few statements as the variable limit allows."""
    names = ", ".join(f'"{name}"' for name in columns)
    for chunk in _chunks(list(rows), max(1, MAX_VARIABLES // len(columns))):
        sql = f'INSERT INTO "{table}" ({names}) VALUES {_values(len(columns), len(chunk))}'
        _run(sql, [value for row in chunk for value in row])


def advance_id_sequences(tables: Sequence[str]) -> None:
    """PostgreSQL: set each table's id sequence past its highest id, so the next insert after a copy
    (which wrote the ids itself) does not collide. SQLite takes the highest id + 1 by itself."""
    if backend() != "postgresql":
        return
    for table in tables:
        _run(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'COALESCE((SELECT MAX("id") FROM "{table}"), 0) + 1, false)'
        )
