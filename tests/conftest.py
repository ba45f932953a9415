"""Shared fixtures: settings from a fake environment, a real database (an SQLite file, or a fresh
database on a throwaway PostgreSQL server), a fixed clock, the service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from _course import ADMIN_CHANNEL_ID, ATTENDANCE_CHANNEL_ID, GUILD_ID
from _postgres import PostgresServer, PostgresUnavailable, ReusedDatabase, required, start_server

from attendance_bot.attendance import AttendanceService
from attendance_bot.courses import CourseService
from attendance_bot.migrations import HISTORY_TABLE
from attendance_bot.models import close_all, init_db
from attendance_bot.settings import Settings, load_settings

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backends(*names): run the module's (or test's) database tests on each backend named"
        " (both when none is): the test id says which",
    )
    config.addinivalue_line("markers", "sqlite_only(reason): a test of the SQLite file itself; runs on SQLite only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests under `backends` that use the database run once per backend (ids [sqlite], [postgresql])."""
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is None:
        return
    names = tuple(marker.args) or BACKENDS
    if metafunc.definition.get_closest_marker("sqlite_only") is not None:
        names = ("sqlite",)
    metafunc.parametrize("backend", names, indirect=True, scope="module")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole run (started on first use, stopped at the end
    whatever happens). Skipped, with the reason, where PostgreSQL is missing; failed instead when
    ATTENDANCE_REQUIRE_POSTGRES=1 (CI)."""
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        missing = str(exc)
    else:
        missing = ""
    if missing and required():
        pytest.fail(f"PostgreSQL is required (ATTENDANCE_REQUIRE_POSTGRES=1) but missing: {missing}", pytrace=False)
    if missing:
        pytest.skip(f"PostgreSQL tests skipped: {missing}")
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test: "sqlite" unless the module is marked `backends`."""
    name: str = getattr(request, "param", "sqlite")
    if name == "postgresql":
        request.getfixturevalue("postgres")  # skipped (or failed) here when there is no server
    return name


@pytest.fixture(scope="session")
def postgres_database(postgres: PostgresServer) -> ReusedDatabase:
    """The PostgreSQL database the tests take in turn: the latest schema and no rows at each start."""

    def prepare(url: str) -> None:
        init_db(url)
        close_all()

    return ReusedDatabase(postgres, prepare, keep={HISTORY_TABLE})


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """On PostgreSQL, this test's database (its URL): the latest schema, no rows; None on SQLite."""
    if backend != "postgresql":
        yield None
        return
    databases: ReusedDatabase = request.getfixturevalue("postgres_database")
    url = databases.take()
    try:
        yield url
    finally:
        close_all()
        databases.give_back()


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
def settings_factory(tmp_path: Path, database_url: str | None) -> Callable[..., Settings]:
    """Build Settings from a fake environment (no .env, no os.environ) with the database in tmp_path
    (on PostgreSQL: this test's database, unless the test names a database itself)."""

    def make(**env: str) -> Settings:
        (tmp_path / "data").mkdir(exist_ok=True)  # as in a checkout: a DATABASE_PATH's folder must exist
        environ = {"DATABASE_PATH": str(tmp_path / "data" / "attendance.db")}
        if database_url is not None and not {"DATABASE_PATH", "DATABASE_URL"} & env.keys():
            environ = {"DATABASE_URL": database_url}
        environ.update({key: str(value) for key, value in env.items()})
        return load_settings(None, environ=environ, base_dir=tmp_path, require_discord=False)

    return make


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory()


@pytest.fixture
def db(settings: Settings) -> Iterator[Path | str]:
    """A fresh database (an SQLite file, or a PostgreSQL database: its URL) with the schema and one
    course (the default of every service call that names none); closed after the test."""
    init_db(settings.database_target)
    CourseService(settings).create(
        name="default",
        guild_id=GUILD_ID,
        admin_channel_id=ADMIN_CHANNEL_ID,
        attendance_channel_id=ATTENDANCE_CHANNEL_ID,
    )
    yield settings.database_target
    close_all()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(settings: Settings, db: Path | str, clock: FakeClock) -> AttendanceService:
    return AttendanceService(settings, clock)
