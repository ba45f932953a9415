"""Shared fixtures: settings from a fake environment, a real SQLite file, a fixed clock, the service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from _course import ADMIN_CHANNEL_ID, ATTENDANCE_CHANNEL_ID, GUILD_ID

from attendance_bot.attendance import AttendanceService
from attendance_bot.courses import CourseService
from attendance_bot.models import close_db, init_db
from attendance_bot.settings import Settings, load_settings

# A fixed instant at the start of a 15-second (and 5-, 30-, 60-second) window.
T0 = datetime(2024, 9, 2, 9, 0, 0, tzinfo=timezone.utc)


class FakeClock:
    """A clock that shows a fixed aware UTC instant until a test moves it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        assert now.tzinfo is not None, "the fake clock only holds aware datetimes"
        self.now = now

    def advance(self, seconds: float) -> datetime:
        self.now = self.now + timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """Build Settings from a fake environment (no .env, no os.environ) with the database in tmp_path."""

    def make(**env: str) -> Settings:
        environ = {"DATABASE_PATH": str(tmp_path / "data" / "attendance.db")}
        environ.update({key: str(value) for key, value in env.items()})
        return load_settings(None, environ=environ, base_dir=tmp_path, require_discord=False)

    return make


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory()


@pytest.fixture
def db(settings: Settings) -> Iterator[Path]:
    """A fresh SQLite file with the schema and one course (the default of every service call that
    names none); closed after the test."""
    init_db(settings.database_path)
    CourseService(settings).create(
        name="default",
        guild_id=GUILD_ID,
        admin_channel_id=ADMIN_CHANNEL_ID,
        attendance_channel_id=ATTENDANCE_CHANNEL_ID,
    )
    yield settings.database_path
    close_db()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(settings: Settings, db: Path, clock: FakeClock) -> AttendanceService:
    return AttendanceService(settings, clock)
