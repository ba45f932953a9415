"""Peewee models over a deferred database, and init_db() that opens it with the right pragmas."""

from __future__ import annotations

import logging
import os
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import peewee

from . import messages
from .errors import StorageError

if TYPE_CHECKING:
    from .migrations import CourseDefaults

log = logging.getLogger(__name__)

# Deferred: which file is decided by init_db(settings), never at import.
database = peewee.SqliteDatabase(None)

UTC_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
BUSY_TIMEOUT_SECONDS = 30


class UTCDateTimeField(peewee.TextField):
    """An aware UTC datetime stored as sortable text `YYYY-MM-DD HH:MM:SS.ffffff` (UTC)."""

    def db_value(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(timezone.utc).strftime(UTC_FORMAT)

    def python_value(self, value: str | None) -> datetime | None:
        if value is None:
            return None
        try:  # the stored text is ISO 8601: fromisoformat is many times cheaper than strptime
            return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
        except ValueError:  # a year before 1000 is not zero-padded by strftime
            return datetime.strptime(value, UTC_FORMAT).replace(tzinfo=timezone.utc)


class BaseModel(peewee.Model):
    class Meta:
        database = database


class Course(BaseModel):
    """A class taught in one server: its channels, its instructors' role and its code settings.

    The code settings are NULL until an instructor sets them: then `.env`'s apply. `name_key` is
    the name folded for comparison, so "Math 101" and "math 101" cannot both exist in a server.
    """

    name = peewee.TextField()
    name_key = peewee.TextField()
    guild_id = peewee.BigIntegerField(null=True)
    admin_channel_id = peewee.BigIntegerField(null=True)
    attendance_channel_id = peewee.BigIntegerField(null=True, index=True)
    display_channel_id = peewee.BigIntegerField(null=True)
    instructor_role_id = peewee.BigIntegerField(null=True)
    interval = peewee.IntegerField(null=True)
    code_length = peewee.IntegerField(null=True)
    grace_seconds = peewee.IntegerField(null=True)
    created_at = UTCDateTimeField()
    archived_at = UTCDateTimeField(null=True)
    # Minutes after opening from which a check-in is late (NULL: never late).
    late_after = peewee.IntegerField(null=True)

    class Meta:
        table_name = "course"
        indexes = ((("guild_id", "name_key"), True),)


class Session(BaseModel):
    """One attendance session of a course: its secret decides every code it ever shows."""

    session_id = peewee.TextField(unique=True)
    secret = peewee.TextField()
    interval = peewee.IntegerField()
    code_length = peewee.IntegerField()
    grace_seconds = peewee.IntegerField()
    opened_at = UTCDateTimeField()
    closed_at = UTCDateTimeField(null=True)
    # 1 while open, NULL once closed: the unique index on (course, open_flag) allows one open
    # session per course (NULLs never collide).
    open_flag = peewee.IntegerField(null=True, default=1)
    opened_by = peewee.TextField(null=True)
    guild_id = peewee.BigIntegerField(null=True)
    channel_id = peewee.BigIntegerField(null=True)
    message_id = peewee.BigIntegerField(null=True)
    message_posted_at = UTCDateTimeField(null=True)
    # NULL only for a session of a database older than courses that the migration did not place.
    course = peewee.ForeignKeyField(Course, null=True, column_name="course_id", backref="sessions")
    # Where this session's windows start, in ms past the epoch's multiples of the interval: open
    # sessions get different offsets so their code messages are not all edited at one instant.
    window_offset_ms = peewee.IntegerField(default=0)
    # Where its codes are typed: the course's attendance channel when it opened (an edit of the
    # course applies to the next session). NULL for a migrated session whose channel was unknown:
    # the course's then.
    attendance_channel_id = peewee.BigIntegerField(null=True)
    # This session's late rule (the course's when it opened, or the instructor's for this session).
    late_after = peewee.IntegerField(null=True)

    class Meta:
        table_name = "session"
        indexes = ((("course", "open_flag"), True),)


class Attendance(BaseModel):
    """The seed's attendance table: one row per student per session, last submission wins.

    `timestamp` and `date_id` are UTC here; exports write them in TIMEZONE. A row written by a
    `/here` names its Discord account only (the student id is its registration's); an instructor's
    mark also names the student id, and only the student id when the roster student has no linked
    account yet (`user_id` NULL).
    """

    user_id = peewee.BigIntegerField(null=True)
    username = peewee.TextField()
    timestamp = peewee.TextField()  # YYYY-MM-DD HH:MM:SS, UTC
    date_id = peewee.TextField()  # YYYY-MM-DD, UTC
    session_id = peewee.TextField(index=True)
    display_name = peewee.TextField(null=True)
    submitted_at = UTCDateTimeField()
    # present, late, excused, absent; code (a /here) or manual (an instructor's mark). The defaults
    # are the table's too (0003_gradebook), for statements that do not name these columns.
    status = peewee.TextField(default="present", constraints=[peewee.SQL("DEFAULT 'present'")])
    source = peewee.TextField(default="code", constraints=[peewee.SQL("DEFAULT 'code'")])
    student_key = peewee.TextField(null=True)  # the student id folded (students.student_key), for marks

    class Meta:
        table_name = "attendance"
        indexes = ((("user_id", "session_id"), True), (("session_id", "student_key"), True))


class WrongAttempt(BaseModel):
    """A wrong code typed by a student; kept so throttling survives a restart."""

    session_id = peewee.TextField()
    user_id = peewee.BigIntegerField()
    attempted_at = UTCDateTimeField()

    class Meta:
        table_name = "wrong_attempt"
        indexes = ((("session_id", "user_id", "attempted_at"), False),)


class Student(BaseModel):
    """A Discord account's student id in one server (`/register`); `student_key` is the id folded."""

    guild_id = peewee.BigIntegerField()
    user_id = peewee.BigIntegerField()
    student_id = peewee.TextField()
    student_key = peewee.TextField()
    name = peewee.TextField(null=True)
    registered_at = UTCDateTimeField()

    class Meta:
        table_name = "student"
        indexes = ((("guild_id", "user_id"), True), (("guild_id", "student_key"), True))


class RosterEntry(BaseModel):
    """A student on a course's roster, as the LMS lists them."""

    course_id = peewee.IntegerField(index=True)
    student_id = peewee.TextField()
    student_key = peewee.TextField()
    name = peewee.TextField()
    discord = peewee.TextField(null=True)  # a Discord username, from the roster's optional column
    added_at = UTCDateTimeField()

    class Meta:
        table_name = "roster_entry"
        indexes = ((("course_id", "student_key"), True),)


class Event(BaseModel):
    """One change to the record, append-only: who, when, what, old -> new status, reason, source."""

    at = UTCDateTimeField()
    course_id = peewee.IntegerField(null=True, index=True)
    session_id = peewee.TextField(null=True)
    guild_id = peewee.BigIntegerField(null=True)
    user_id = peewee.BigIntegerField(null=True)
    student_id = peewee.TextField(null=True)
    actor = peewee.TextField()
    action = peewee.TextField()
    old_status = peewee.TextField(null=True)
    new_status = peewee.TextField(null=True)
    reason = peewee.TextField(null=True)
    source = peewee.TextField()

    class Meta:
        table_name = "event"
        indexes = ((("guild_id", "user_id"), False), (("course_id", "student_id"), False))


# The tables, as attendance_bot/schema/'s steps make them (tests/test_migrations.py compares them).
MODELS: tuple[type[BaseModel], ...] = (Course, Session, Attendance, WrongAttempt, Student, RosterEntry, Event)


def init_db(
    path: Path | str,
    *,
    create: bool = True,
    upgrade: bool = True,
    defaults: CourseDefaults | None = None,
) -> peewee.SqliteDatabase:
    """Open the SQLite file at `path` (WAL, busy timeout, mode 0600) with the latest schema.

    An empty database gets every table; one of an older release is upgraded in place after a
    backup copy (`defaults` names the course its sessions join), unless upgrade=False, which
    refuses it instead (StorageError saying `manage.py migrate`). With create=False a missing
    file is an error instead of a new database (for read-only commands that should not invent
    an empty database in the wrong place).
    """
    from . import migrations  # it imports the models

    if str(path) != ":memory:":
        path = Path(path)
        if not path.exists():
            if not create:
                raise StorageError(messages.no_database_at(path))
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            except OSError as exc:
                raise StorageError(messages.database_cannot_be_created(path, exc.strerror)) from exc
        _make_private(path)
    if not database.is_closed():
        database.close()
    database.init(
        str(path),
        timeout=BUSY_TIMEOUT_SECONDS,
        pragmas={
            "journal_mode": "wal",
            "busy_timeout": BUSY_TIMEOUT_SECONDS * 1000,
            "synchronous": "full",
            "foreign_keys": 1,
        },
    )
    try:
        database.connect(reuse_if_open=True)
        version = migrations.schema_version()
        if version is not None and version > migrations.latest():
            raise StorageError(messages.database_too_new(path, version, migrations.latest()))
        if version is not None and not upgrade and migrations.pending():
            raise StorageError(messages.migration_pending(path, version, migrations.latest()))
        for line in migrations.upgrade(None if str(path) == ":memory:" else Path(path), defaults):
            log.info("%s", line)
    except StorageError:
        database.close()
        raise
    except peewee.DatabaseError as exc:
        database.close()
        raise StorageError(messages.database_unusable(path, exc)) from exc
    return database


def _make_private(path: Path) -> None:
    """Tighten an existing database (and its WAL files) that others can read to 0600, saying so.

    Databases made by older tools or copied in with a loose umask hold every session secret and
    record; a file we do not own is left alone with a warning instead.
    """
    for side in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = stat.S_IMODE(side.stat().st_mode)
        except FileNotFoundError:
            continue
        if not mode & 0o077:
            continue
        try:
            os.chmod(side, 0o600)
        except OSError as exc:
            log.warning(
                "%s is readable by other users (mode %04o) and could not be made 0600: %s", side, mode, exc.strerror
            )
        else:
            log.warning("%s was readable by other users (mode %04o); it is now 0600", side, mode)


def close_db() -> None:
    """Close this thread's connection, if any."""
    if not database.is_closed():
        database.close()
