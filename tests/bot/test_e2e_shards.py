"""End to end with Discord shards: two bot processes (SHARD_COUNT=2, SHARD_IDS=0 and 1) on one emulator
and one database, a server on each shard; each process rotates only its own server's code message,
and killing one stops only its server.

The processes are told apart by their token: each runs with a token alias of the same bot
(`EmulatorThread.token_alias`), and the emulator logs every REST request under the alias it came
with. (Discord gives a bot one token, shared by all its processes; the alias only labels requests.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from _backends import Target, fetch
from botdriver import (
    COMMANDS,
    INTERVAL,
    ROOT,
    BotProcess,
    Card,
    Db,
    bot_env,
    live_card,
    session_messages,
    wait_until,
)
from faultkit import accepted_replies, answered, burst, contents

from attendance_bot import messages
from attendance_bot.emulator import EmulatorThread, GuildHandle, InteractionHandle, Member, NoReply
from attendance_bot.models import close_all
from attendance_bot.records import CourseInfo, Outcome, SessionInfo, SubmitResult

pytestmark = pytest.mark.backends()

SHARDS = 2
BURST = 60  # students per server checking in when one process is killed


def _accepted(session_id: str) -> str:
    return messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))


@dataclass
class Shard:
    """One bot process: the shard it runs, its token alias, its server."""

    shard_id: int
    alias: str
    env: dict[str, str]
    guild: GuildHandle
    bot: BotProcess
    course_name: str

    def restart(self, emu: EmulatorThread) -> None:
        """A new process with the same `.env` (the old one has exited)."""
        self.bot = BotProcess(emu, self.env)
        self.bot.start()

    @property
    def running(self) -> bool:
        return self.bot.proc is not None and self.bot.proc.poll() is None


@dataclass
class ShardedCampus:
    """The emulator (expecting 2 shards), the processes and the database they share."""

    emu: EmulatorThread
    target: Target
    shards: list[Shard]

    # -- the database, from the test process -------------------------------------------------

    @property
    def db(self) -> Db:
        return Db(self.target)

    def course(self, shard: Shard) -> CourseInfo:
        with self.db.service() as service:
            return service.courses.find(shard.course_name, shard.guild.id)

    def close_all(self) -> None:
        with self.db.service() as service:
            for course in service.courses.courses():
                if course.open_session_id:
                    service.close_session(course_id=course.id)

    def stored(self, session_id: str) -> dict[int, int]:
        """User id → attendance rows in the session, read on a connection of its own (not the bot's code)."""
        rows = fetch(
            self.target, "SELECT user_id, COUNT(*) FROM attendance WHERE session_id = ? GROUP BY user_id", (session_id,)
        )
        return {int(user): int(count) for user, count in rows}

    # -- what people see and do ------------------------------------------------------------

    def open(self, shard: Shard) -> tuple[SessionInfo, Card]:
        """The server's instructor opens attendance: the session and its code message."""
        course = self.course(shard)
        reply = self.emu.invoke(shard.guild.instructor, course.admin_channel_id, "open_attendance")
        with self.db.service() as service:
            session = service.open_session_info(course.id)
        assert session is not None, reply.content
        assert reply.content == messages.opened_reply(session.session_id, course.display_channel_id)
        card = live_card(self.emu, session.session_id, channel_id=course.display_channel_id)
        wait_until(lambda: self.db.session(session.session_id).message_id == card.message_id, 5, "the message noted")
        return session, card

    def card(self, shard: Shard, session_id: str) -> Card:
        return live_card(self.emu, session_id, channel_id=shard.guild.attendance_channel_id)

    def rotated(self, shard: Shard, session_id: str, after: Card, timeout: float = 2 * INTERVAL + 5) -> Card:
        """The code message once it shows another window than `after`."""

        def changed() -> Card | None:
            card = self.card(shard, session_id)
            return card if card.changes_at != after.changes_at else None

        return wait_until(changed, timeout, f"server {shard.shard_id}'s code message to rotate")

    def edits(self, message_id: int) -> int:
        message = self.emu.run(lambda e: e.get_message(message_id))
        assert message is not None
        return len(message.edits)

    def message_requests(self, shard: Shard, alias: str | None = None) -> list[tuple[str, str, int]]:
        """(method, path, status) of the requests on the server's attendance channel's messages: by
        `alias`, or by anyone when None (every process has an alias, so "anyone" is every request)."""
        path = f"/channels/{shard.guild.attendance_channel_id}/messages"
        if alias is None:
            return [(m, p, s) for _, m, p, s in self.emu.run(lambda e: e.requests(None, path))]
        return [(m, p, s) for _, m, p, s, _ in self.emu.requests_by(alias, None, path)]

    def students(self, shard: Shard, prefix: str, count: int) -> list[Member]:
        gid = shard.guild.id
        return self.emu.run(lambda e: [e.add_member(f"{prefix}{i}", guild_id=gid) for i in range(count)])

    def here(self, shard: Shard, member: Member, code: str, timeout: float = 10.0) -> str | None:
        reply = self.emu.invoke(member, shard.guild.attendance_channel_id, "here", timeout, code=code)
        return reply.content


@contextmanager
def _database(backend: str, request: pytest.FixtureRequest, tmp: Path) -> Iterator[Target]:
    """The database both processes share: an SQLite file (WAL), or a fresh PostgreSQL database."""
    if backend != "postgresql":
        yield tmp / "data" / "attendance.db"
        return
    server = request.getfixturevalue("postgres")
    url = server.create_database("shards")
    try:
        yield url
    finally:
        close_all()
        server.drop_database(url)


@pytest.fixture(scope="module")
def _campus(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShardedCampus]:
    """Two servers, one per shard, each with a course made there with /course create; two processes."""
    database = _database(backend, request, tmp_path_factory.mktemp("shards"))
    with database as target, EmulatorThread(shards=SHARDS) as emu:
        guilds = [emu.add_guild(f"Campus on shard {i}", shard=(i, SHARDS)) for i in range(SHARDS)]
        shards: list[Shard] = []
        try:
            for shard_id, guild in enumerate(guilds):
                alias = f"shard-{shard_id}"
                env = bot_env(emu, target, SHARD_COUNT=str(SHARDS), SHARD_IDS=str(shard_id))
                for key in ("ADMIN_CHANNEL_ID", "ATTENDANCE_CHANNEL_ID"):  # no .env course: /course create
                    env.pop(key)
                env["DISCORD_BOT_TOKEN"] = emu.token_alias(alias)
                shard = Shard(shard_id, alias, env, guild, BotProcess(emu, env), f"Course {shard_id}")
                shards.append(shard)
                shard.bot.start()
            campus = ShardedCampus(emu, target, shards)
            for shard in shards:
                reply = emu.invoke(
                    shard.guild.instructor,
                    shard.guild.admin_channel_id,
                    "course create",
                    name=shard.course_name,
                    attendance_channel=shard.guild.attendance_channel_id,
                )
                channels = (shard.guild.admin_channel_id, *[shard.guild.attendance_channel_id] * 2)
                assert reply.content == messages.course_created_reply(shard.course_name, *channels)
            yield campus
        finally:
            for shard in shards:
                shard.bot.stop()


@pytest.fixture
def campus(_campus: ShardedCampus) -> Iterator[ShardedCampus]:
    """Both processes running, no session open; the same afterwards."""
    for shard in _campus.shards:
        if not shard.running:  # an earlier test killed it and failed
            shard.restart(_campus.emu)
    _campus.close_all()
    starts = [len(shard.bot.stderr) for shard in _campus.shards]
    yield _campus
    for shard, start in zip(_campus.shards, starts, strict=True):
        print(f"-- process of shard {shard.shard_id}:\n" + "".join(shard.bot.stderr[start:]))
    _campus.emu.faults.clear()
    _campus.close_all()
    assert all(shard.running for shard in _campus.shards), [shard.bot.output() for shard in _campus.shards]


def test_each_process_connects_only_its_shard(campus: ShardedCampus) -> None:
    """Each process identifies with its own shard of 2 and receives its own server only."""
    emu = campus.emu
    assert emu.connected_shards() == [0, 1]
    sessions = emu.run(lambda e: {s.shard_id: (s.shard_count, s.label) for s in e.gateway.shard_sessions.values()})
    assert sessions == {0: (SHARDS, "shard-0"), 1: (SHARDS, "shard-1")}
    for shard in campus.shards:
        assert emu.shard_of(shard.guild.id) == shard.shard_id
        assert ("GET", "/gateway") in [(m, p) for _, m, p, _, _ in emu.requests_by(shard.alias)]
    assert {c["name"] for c in emu.registered_commands()} >= set(COMMANDS)


def test_each_code_message_is_rotated_by_its_own_process_only(campus: ShardedCampus) -> None:
    """Sessions open in both servers: each code message is posted and edited by its server's process and
    never touched by the other; students check in in both servers and are recorded."""
    opened = {shard.shard_id: campus.open(shard) for shard in campus.shards}
    for shard in campus.shards:
        session, card = opened[shard.shard_id]
        card = campus.rotated(shard, session.session_id, card)
        card = campus.rotated(shard, session.session_id, card)
        assert card.message_id == opened[shard.shard_id][1].message_id  # edited, not posted again
        assert card.code == campus.db.code_for(card)
        student = campus.students(shard, f"s{shard.shard_id}_", 1)[0]
        assert campus.here(shard, student, card.code) == _accepted(session.session_id)
        assert campus.stored(session.session_id) == {student.id: 1}

    for shard in campus.shards:
        other = campus.shards[1 - shard.shard_id]
        session, card = opened[shard.shard_id]
        message = f"/channels/{shard.guild.attendance_channel_id}/messages/{card.message_id}"
        mine = campus.message_requests(shard, shard.alias)
        assert ("POST", f"/channels/{shard.guild.attendance_channel_id}/messages", 200) in mine
        assert mine.count(("PATCH", message, 200)) >= 2
        assert campus.message_requests(shard, other.alias) == []  # the other process never touched it
        assert campus.message_requests(shard) == mine  # and nobody else did either
        assert campus.edits(card.message_id) == mine.count(("PATCH", message, 200))


def test_killing_one_process_stops_only_its_server_and_a_restart_resumes_it(campus: ShardedCampus) -> None:
    """kill -9 the process of shard 1 while both servers' students check in: server 1's code message stops
    changing and its /here goes unanswered while server 0 carries on; the restarted process edits the same
    message with the same codes; every acknowledged check-in of either server is stored, once."""
    emu = campus.emu
    zero, one = campus.shards
    opened = {shard.shard_id: campus.open(shard) for shard in campus.shards}
    crowds = {shard.shard_id: campus.students(shard, f"k{shard.shard_id}_", BURST) for shard in campus.shards}

    # Callbacks held a little, so the kill lands while answers are still on their way.
    emu.faults.add(r"/interactions/\d+/.+/callback", "POST", None, delay=0.2)
    handles: dict[int, list[InteractionHandle]] = {}
    for shard in campus.shards:
        _, card = opened[shard.shard_id]
        handles[shard.shard_id] = burst(emu, crowds[shard.shard_id], card.code, shard.guild.attendance_channel_id)
    wait_until(lambda: answered(emu, handles[1]) > 0, 20, "the first answers in server 1")
    assert one.bot.signal(signal.SIGKILL) == -signal.SIGKILL
    wait_until(lambda: emu.connected_shards() == [0], 10, "shard 1's websocket to close")
    emu.faults.clear()
    wait_until(lambda: answered(emu, handles[0]) == BURST, 30, "every answer in server 0")

    session1, card1 = opened[1]
    frozen = campus.card(one, session1.session_id)
    edits = campus.edits(frozen.message_id)
    # Server 0's message turns twice from now: a whole window of server 1 passes meanwhile, and
    # nobody edits server 1's message.
    session0, _ = opened[0]
    card0 = campus.card(zero, session0.session_id)
    card0 = campus.rotated(zero, session0.session_id, campus.rotated(zero, session0.session_id, card0))
    assert campus.card(one, session1.session_id) == frozen and campus.edits(frozen.message_id) == edits
    late = campus.students(one, "late1_", 1)[0]
    with pytest.raises(NoReply):
        campus.here(one, late, frozen.code, timeout=3.0)
    on_time = campus.students(zero, "ontime0_", 1)[0]
    assert campus.here(zero, on_time, card0.code) == _accepted(session0.session_id)
    assert not [r for r in campus.message_requests(one, zero.alias)], "shard 0's process left server 1 alone"

    acked: dict[int, set[int]] = {}
    for shard in campus.shards:
        session, _ = opened[shard.shard_id]
        ok = accepted_replies(session.session_id)
        seen = contents(emu, handles[shard.shard_id])
        assert all(reply is None or reply in ok for reply in seen.values())
        acked[shard.shard_id] = {user for user, reply in seen.items() if reply in ok}
    assert len(acked[0]) == BURST and acked[1], "server 1's burst was partly answered before the kill"

    one.restart(emu)
    resumed = campus.rotated(one, session1.session_id, frozen)
    assert resumed.message_id == card1.message_id  # the same message, edited again
    assert resumed.code == campus.db.code_for(resumed)  # the session's own codes, from its secret
    assert [m.id for m in session_messages(emu, session1.session_id, channel_id=one.guild.attendance_channel_id)] == [
        card1.message_id
    ]
    assert campus.here(one, late, resumed.code) == _accepted(session1.session_id)

    for shard in campus.shards:
        session, _ = opened[shard.shard_id]
        stored = campus.stored(session.session_id)
        assert acked[shard.shard_id] <= stored.keys()  # nothing acknowledged lost
        assert set(stored.values()) == {1}
        everyone = {s.id for s in crowds[shard.shard_id]}
        assert stored.keys() <= everyone | {late.id, on_time.id}
    assert campus.message_requests(one, zero.alias) == []


def test_shard_count_alone_runs_every_shard_in_one_process(tmp_path: Path) -> None:
    """SHARD_COUNT=2 without SHARD_IDS: one process connects both shards, rotates both servers' code
    messages and answers in both."""
    with EmulatorThread(shards=SHARDS) as emu:
        guilds = [emu.add_guild(f"Campus on shard {i}", shard=(i, SHARDS)) for i in range(SHARDS)]
        env = bot_env(emu, tmp_path / "data" / "attendance.db", SHARD_COUNT=str(SHARDS))
        env["DISCORD_BOT_TOKEN"] = emu.token_alias("all")
        bot = BotProcess(emu, env).start()
        campus = ShardedCampus(emu, tmp_path / "data" / "attendance.db", [])
        try:
            assert emu.connected_shards() == [0, 1]
            for i, guild in enumerate(guilds):
                shard = Shard(i, "all", env, guild, bot, f"Course {i}")
                emu.invoke(
                    guild.instructor,
                    guild.admin_channel_id,
                    "course create",
                    name=shard.course_name,
                    attendance_channel=guild.attendance_channel_id,
                )
                session, card = campus.open(shard)
                card = campus.rotated(shard, session.session_id, card)
                student = campus.students(shard, f"all{i}_", 1)[0]
                assert campus.here(shard, student, card.code) == _accepted(session.session_id)
                assert ("PATCH", f"/channels/{guild.attendance_channel_id}/messages/{card.message_id}", 200) in (
                    campus.message_requests(shard, "all")
                )
        finally:
            bot.stop()
            print(bot.output())


def test_a_process_given_the_wrong_shard_count_stops_with_one_line(tmp_path: Path) -> None:
    """SHARD_COUNT=3 where Discord wants 2: the gateway closes with 4011 and the bot says so in one line."""
    with EmulatorThread(shards=SHARDS) as emu:
        env = bot_env(emu, tmp_path / "data" / "attendance.db", SHARD_COUNT="3", SHARD_IDS="0")
        proc = subprocess.run(
            [sys.executable, "-u", "manage.py", "--env-file", "/dev/null", "run"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.splitlines()[-1] == "Error: " + messages.shards_refused(4011, 3, (0,))
    assert "Traceback" not in proc.stderr
