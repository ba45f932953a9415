"""Fixtures for the end-to-end tests: one emulator per module, the real bot as a subprocess, its
database an SQLite file or (in modules marked `backends`) a PostgreSQL database of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from botdriver import BotProcess, Db, bot_env

from attendance_bot.emulator import Emulator, EmulatorThread, Member, Reply


@dataclass
class World:
    """The emulator, the running bot and its database, with the few actions every test needs."""

    emu: EmulatorThread
    bot: BotProcess
    db: Db
    env: dict[str, str]

    def open(self) -> tuple[str, Reply]:
        """The instructor runs /open_attendance in the admin channel; return the new session id and the reply."""
        reply = self.emu.invoke(self.emu.instructor, self.emu.admin_channel_id, "open_attendance")
        session = self.db.open_session()
        assert session is not None, reply.content
        return session.session_id, reply

    def here(self, member: Member, code: str, channel_id: int | None = None) -> Reply:
        """A student types /here CODE (in the attendance channel unless told otherwise)."""
        return self.emu.invoke(member, channel_id or self.emu.attendance_channel_id, "here", code=code)

    def attend_in_a_new_channel(self) -> int:
        """A new #attendance for the next test: the emulator's attendance channel and the course
        `.env` defines move there, so the test's code messages start with Discord's per-channel
        limit (5 messages per 5 s) unspent instead of waiting out the earlier tests' posts."""
        old = self.emu.attendance_channel_id
        new = self.emu.add_text_channel("attendance")

        def make_default(e: Emulator) -> None:
            e.state.attendance_channel = e.state.guild.attendance_channel = e.state.channels[new]

        self.emu.run(make_default)
        self.db.move_attendance(old, new)
        self.env["ATTENDANCE_CHANNEL_ID"] = str(new)  # for the shell, which reads the course from `.env`
        return new

    def student(self, name: str) -> Member:
        """A new student, so that no two tests share a member."""
        return self.emu.add_member(name, display_name=name.title())


@contextmanager
def bot_database(request: pytest.FixtureRequest, backend: str, folder: Path) -> Iterator[Path | str]:
    """A new database for a bot: a file in `folder`, or on PostgreSQL a new database (dropped afterwards)."""
    if backend != "postgresql":
        (folder / "data").mkdir(exist_ok=True)  # as in a checkout: a DATABASE_PATH's folder must exist
        yield folder / "data" / "attendance.db"
        return
    server = request.getfixturevalue("postgres")
    url = server.create_database("bot")
    try:
        yield url
    finally:
        server.drop_database(url)


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread() as thread:
        yield thread


@pytest.fixture(scope="module")
def shared_bot_env() -> dict[str, str]:
    """What a module adds to its shared bot's environment (a module overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
def shared_world(
    emu: EmulatorThread,
    tmp_path_factory: pytest.TempPathFactory,
    backend: str,
    request: pytest.FixtureRequest,
    shared_bot_env: dict[str, str],
) -> Iterator[World]:
    """One bot process for the module (it is the database that tests must not share state through)."""
    with bot_database(request, backend, tmp_path_factory.mktemp("bot")) as database:
        env = bot_env(emu, database, **shared_bot_env)
        bot = BotProcess(emu, env).start()
        try:
            yield World(emu, bot, Db(database), env)
        finally:
            bot.stop()


@pytest.fixture
def world(shared_world: World) -> Iterator[World]:
    """The shared bot with no session open, no faults, the emulator clock in step; the same afterwards."""
    shared_world.db.close_any()
    shared_world.attend_in_a_new_channel()
    start = len(shared_world.bot.stderr)
    yield shared_world
    print("".join(shared_world.bot.stderr[start:]))  # the bot's log during this test, shown if it fails
    emu = shared_world.emu
    emu.faults.clear()
    emu.run(lambda e: setattr(e, "message_age_offset", 0.0))
    shared_world.db.close_any()
    assert shared_world.bot.proc is not None and shared_world.bot.proc.poll() is None, shared_world.bot.output()


@pytest.fixture
def fresh_world(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[World]:
    """A bot of its own, on an emulator of its own, with a fresh database (not started: the test
    starts, kills and restarts it). Its own emulator keeps its gateway apart from the module's
    shared bot, so test order does not matter."""
    with EmulatorThread() as emu, bot_database(request, backend, tmp_path) as database:
        env = bot_env(emu, database)
        world = World(emu, BotProcess(emu, env), Db(database), env)
        try:
            yield world
        finally:
            world.bot.stop()  # the test may have replaced it with a restarted one
