"""End to end on PostgreSQL: the server restarted in the middle of class, the bot left running."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from _postgres import PostgresServer
from botdriver import INTERVAL, BotProcess, bot_env, live_card, wait_until
from faultkit import accepted_replies, answered, burst, contents

from attendance_bot import messages
from attendance_bot.attendance import AttendanceService
from attendance_bot.emulator import EmulatorThread, Member
from attendance_bot.models import close_all, init_db
from attendance_bot.settings import load_settings


@dataclass
class PgWorld:
    """The emulator, the bot on a PostgreSQL database, and that database seen from the test."""

    emu: EmulatorThread
    bot: BotProcess
    url: str
    server: PostgresServer

    def stop_server(self) -> None:
        self.server.stop()

    def start_server(self) -> None:
        self.server.start()

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as con:
            return con.execute(sql, params).fetchall()

    def open_session_id(self) -> str:
        rows = self.query("SELECT session_id FROM session WHERE open_flag = 1")
        assert len(rows) == 1, rows
        return str(rows[0][0])

    def stored(self, session_id: str) -> dict[int, int]:
        """User id → number of attendance rows in the session (read with psycopg, not the bot's code)."""
        rows = self.query(
            "SELECT user_id, COUNT(*) FROM attendance WHERE session_id = %s GROUP BY user_id", (session_id,)
        )
        return {int(user_id): int(count) for user_id, count in rows}

    def code_now(self, session_id: str) -> str:
        """The session's code at this instant, from its secret in the database."""
        settings = load_settings(
            None, environ={"DATABASE_URL": self.url, "CODE_ROTATION_INTERVAL": str(INTERVAL)}, require_discord=False
        )
        init_db(self.url)
        try:
            return AttendanceService(settings).current_code(session_id).code
        finally:
            close_all()

    def warnings(self) -> list[str]:
        emu = self.emu
        return [
            m.content
            for m in emu.messages(emu.admin_channel_id)
            if m.author_id == emu.emu.bot_user_id and m.content == messages.storage_warning()
        ]

    def students(self, prefix: str, count: int) -> list[Member]:
        return self.emu.run(lambda e: [e.add_member(f"{prefix}{i}") for i in range(count)])

    def replies(self, members: list[Member], code: str, timeout: float = 20.0) -> dict[int, str | None]:
        handles = burst(self.emu, members, code)
        wait_until(lambda: answered(self.emu, handles) == len(handles), timeout, "an answer to every /here")
        return contents(self.emu, handles)


@pytest.fixture
def pg_world(postgres: PostgresServer, tmp_path: Path) -> Iterator[PgWorld]:
    """A bot of its own on an emulator of its own, its database a fresh one on the test server."""
    url = postgres.create_database("outage")
    with EmulatorThread() as emu:
        env = bot_env(emu, tmp_path / "unused.db", DATABASE_URL=url)
        world = PgWorld(emu, BotProcess(emu, env), url, postgres)
        try:
            world.bot.start()
            yield world
            print("".join(world.bot.stderr))
        finally:
            world.bot.stop()
            postgres.start()  # if the test stopped it (same port, same data): the next test needs it
            postgres.drop_database(url)


def test_postgres_restarted_mid_class(pg_world: PgWorld) -> None:
    """PostgreSQL stopped while a class checks in: no ✅ while it is down, the admin channel warned once,
    check-ins recorded again by themselves once it is back, and every ✅ is in the database once."""
    world, emu = pg_world, pg_world.emu
    emu.invoke(emu.instructor, emu.admin_channel_id, "open_attendance")
    session_id = world.open_session_id()
    ok = accepted_replies(session_id)
    failed = messages.storage_failure_reply()
    before = world.replies(world.students("before", 5), live_card(emu, session_id).code)
    assert set(before.values()) <= ok, before

    world.stop_server()
    logged = len(world.bot.stderr)
    during: dict[int, str | None] = {}
    for round_ in range(2):
        if round_:  # the second round after the code rotation too has failed to read the database
            wait_until(
                lambda: any("Code rotation failed" in line for line in world.bot.stderr[logged:]),
                2 * INTERVAL + 5,
                "the rotation's failed read",
            )
        replies = world.replies(world.students(f"down{round_}_", 5), live_card(emu, session_id).code)
        assert set(replies.values()) == {failed}, replies  # never a false ✅
        during.update(replies)
        wait_until(world.warnings, 10, "the warning in the admin channel")
    assert len(world.warnings()) == 1

    world.start_server()
    # Nobody restarts the bot: the code message is edited again by itself (no student needed to wake it)...
    shown = live_card(emu, session_id)
    wait_until(lambda: live_card(emu, session_id).changes_at != shown.changes_at, 2 * INTERVAL + 10, "a fresh edit")
    # ...and the next student is recorded at the first try, as is a crowd after them.
    after = world.replies(world.students("back", 1), world.code_now(session_id))
    assert set(after.values()) <= ok, after
    later = world.replies(world.students("later", 10), world.code_now(session_id))
    assert set(later.values()) <= ok, later

    acked = {user for replies in (before, during, after, later) for user, reply in replies.items() if reply in ok}
    stored = world.stored(session_id)
    assert acked <= stored.keys()
    assert set(stored.values()) == {1}
    assert not {user for user, reply in during.items() if reply == failed} & stored.keys()
    assert len(world.warnings()) == 1


def test_code_message_resumes_after_a_restart_with_nobody_checking_in(pg_world: PgWorld) -> None:
    """PostgreSQL restarted while nobody types /here: the code message is edited again by itself, and
    the first student afterwards is recorded at the first try."""
    world, emu = pg_world, pg_world.emu
    emu.invoke(emu.instructor, emu.admin_channel_id, "open_attendance")
    session_id = world.open_session_id()
    shown = live_card(emu, session_id)
    logged = len(world.bot.stderr)
    world.stop_server()
    wait_until(
        lambda: any("Code rotation failed" in line for line in world.bot.stderr[logged:]),
        2 * INTERVAL + 5,
        "the rotation's failed read",
    )
    world.start_server()
    wait_until(lambda: live_card(emu, session_id).changes_at != shown.changes_at, 2 * INTERVAL + 10, "a fresh edit")
    first = world.replies(world.students("first", 1), world.code_now(session_id))
    assert set(first.values()) <= accepted_replies(session_id), first
    assert first.keys() <= world.stored(session_id).keys()
