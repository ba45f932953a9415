"""Peewee models over a deferred database, and init_db() that opens it with the right pragmas."""

from __future__ import annotations

import logging
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import peewee

from . import messages
from .errors import StorageError

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


class Session(BaseModel):
    """One attendance session: its secret decides every code it ever shows."""

    session_id = peewee.TextField(unique=True)
    secret = peewee.TextField()
    interval = peewee.IntegerField()
    code_length = peewee.IntegerField()
    grace_seconds = peewee.IntegerField()
    opened_at = UTCDateTimeField()
    closed_at = UTCDateTimeField(null=True)
    # 1 while open, NULL once closed: the unique index allows one open session at a time.
    open_flag = peewee.IntegerField(null=True, unique=True, default=1)
    opened_by = peewee.TextField(null=True)
    guild_id = peewee.BigIntegerField(null=True)
    channel_id = peewee.BigIntegerField(null=True)
    message_id = peewee.BigIntegerField(null=True)
    message_posted_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "session"


class Attendance(BaseModel):
    """The seed's attendance table: one row per student per session, last submission wins.

    `timestamp` and `date_id` are UTC here; exports write them in TIMEZONE.
    """

    user_id = peewee.BigIntegerField()
    username = peewee.TextField()
    timestamp = peewee.TextField()  # YYYY-MM-DD HH:MM:SS, UTC
    date_id = peewee.TextField()  # YYYY-MM-DD, UTC
    session_id = peewee.TextField(index=True)
    display_name = peewee.TextField(null=True)
    submitted_at = UTCDateTimeField()

    class Meta:
        table_name = "attendance"
        indexes = ((("user_id", "session_id"), True),)


class WrongAttempt(BaseModel):
    """A wrong code typed by a student; kept so throttling survives a restart."""

    session_id = peewee.TextField()
    user_id = peewee.BigIntegerField()
    attempted_at = UTCDateTimeField()

    class Meta:
        table_name = "wrong_attempt"
        indexes = ((("session_id", "user_id", "attempted_at"), False),)


MODELS: tuple[type[BaseModel], ...] = (Session, Attendance, WrongAttempt)


def init_db(path: Path | str, *, create: bool = True) -> peewee.SqliteDatabase:
    """Open the SQLite file at `path` (WAL, busy timeout, mode 0600) and create the schema.

    With create=False a missing file is an error instead of a new database (for read-only
    commands that should not invent an empty database in the wrong place).
    """
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
        with database.atomic():
            database.create_tables(MODELS, safe=True)
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
