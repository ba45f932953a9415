"""Databases (SQLite files or PostgreSQL URLs) prepared before the bot starts: a session opened
hours ago, a term of past records, or courses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .. import codes, storage
from ..attendance import AttendanceService
from ..courses import CourseService
from ..models import close_all, init_db, is_postgres
from ..records import Source, Status
from ..settings import Settings, load_settings

EXPORT_SESSIONS = 40  # the export: 1,000 students x 40 sessions = 40,000 rows


@dataclass(frozen=True)
class Place:
    """Where a course is: its server and channels (for most scenarios the bot's `.env` course, the
    emulator's default server's #instructors and #attendance)."""

    guild_id: int
    admin_channel_id: int
    attendance_channel_id: int


def _settings(database: Path | str, interval: int | None, place: Place) -> Settings:
    """The bot's settings for `database`: an SQLite file, or a PostgreSQL URL (a str)."""
    environ = {
        "ADMIN_CHANNEL_ID": str(place.admin_channel_id),
        "ATTENDANCE_CHANNEL_ID": str(place.attendance_channel_id),
    }
    if is_postgres(database):
        environ["DATABASE_URL"] = str(database)
    else:
        environ["DATABASE_PATH"] = str(database)
    if interval is not None:
        environ["CODE_ROTATION_INTERVAL"] = str(interval)
    base = Path.cwd() if is_postgres(database) else Path(database).parent
    return load_settings(None, environ=environ, base_dir=base, require_discord=False)


def _course(settings: Settings, place: Place) -> int:
    """The `.env` course, made now as the bot makes it at start (it finds this one)."""
    course = CourseService(settings).sync_env_course(place.guild_id)
    assert course is not None
    return course.id


def courses(
    database: Path | str, named: Sequence[tuple[str, Place]], *, interval: int | None, env_place: Place
) -> list[int]:
    """Create courses in a fresh database, as `/course create` would (CourseService's rules), before
    the bot starts; their ids. The `.env` course (at `env_place`) is left for the bot to make."""
    init_db(database)
    try:
        service = CourseService(_settings(database, interval, env_place))
        return [
            service.create(
                name=name,
                guild_id=place.guild_id,
                admin_channel_id=place.admin_channel_id,
                attendance_channel_id=place.attendance_channel_id,
            ).id
            for name, place in named
        ]
    finally:
        close_all()  # a PostgreSQL pool's connections too: the bot's database is not held open


def old_session(database: Path | str, *, interval: int | None, age: timedelta, place: Place) -> tuple[str, str]:
    """Open a session `age` ago in a fresh database (the bot resumes it on start).

    Returns its id and its first code, the one shown in its first window. The clock offset
    lives in the database row only: the bot runs on the real clock, as in a real class.
    """
    opened = datetime.now(timezone.utc) - age
    init_db(database)
    try:
        settings = _settings(database, interval, place)
        service = AttendanceService(settings, clock=lambda: opened)
        session = service.open_session(_course(settings, place), opened_by="bench")
        return session.session_id, service.code_at(session, opened).code
    finally:
        close_all()  # a PostgreSQL pool's connections too: the bot's database is not held open


def past_records(
    database: Path | str, *, students: int, sessions: int = EXPORT_SESSIONS, interval: int | None, place: Place
) -> int:
    """Fill a fresh database with `sessions` closed sessions of `students` records each; the row count."""
    settings = _settings(database, interval, place)
    start = datetime.now(timezone.utc) - timedelta(days=sessions + 1)
    init_db(database)
    try:
        course_id = _course(settings, place)
        with storage.immediate():
            for number in range(sessions):
                opened = start + timedelta(days=number)
                session_id = f"{opened:%Y%m%d-%H%M}-P{number:03d}"
                storage.create_session(
                    session_id=session_id,
                    secret=codes.new_secret(),
                    interval=settings.code_rotation_interval,
                    code_length=settings.code_length,
                    grace_seconds=settings.code_grace_seconds,
                    opened_at=opened,
                    opened_by="bench",
                    closed_at=opened + timedelta(hours=1),
                    course_id=course_id,
                )
                storage.upsert_attendance(
                    [_record(900_000_000 + student, session_id, opened) for student in range(students)]
                )
        return students * sessions
    finally:
        close_all()  # a PostgreSQL pool's connections too: the bot's database is not held open


def _record(user_id: int, session_id: str, opened: datetime) -> storage.AttendanceRow:
    at = opened + timedelta(seconds=user_id % 600, microseconds=user_id % 997)
    return storage.AttendanceRow(
        user_id=user_id,
        username=f"past{user_id}",
        display_name=f"Past Student {user_id}",
        timestamp=at.strftime("%Y-%m-%d %H:%M:%S"),
        date_id=at.strftime("%Y-%m-%d"),
        session_id=session_id,
        submitted_at=storage.stored_time(at),
        status=Status.PRESENT.value,
        source=Source.CODE,
    )
