"""The `/here` hot path: the reads of a batch (wrong attempts, records held, check-in events) and
its writes (records, events, wrong attempts), each one multi-row statement prepared once."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from ..models import Attendance, Event, Session, Student, WrongAttempt
from .base import (
    MAX_VARIABLES,
    _chunks,
    _col,
    _columns,
    _from_db,
    _run,
    _table,
    _values,
    _write_rows,
    has_returning,
    stored_time,
)


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
    returning = has_returning()
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
