"""Courses, students, events and sessions: their writes, and the open sessions as the hot path reads them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from ..models import Course, Event, Session, Student
from .base import _col, _run, _table

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
