"""Timetables end to end (issue 18): the real bot on a clock the test moves (clocked_bot.py) opens a
scheduled session at its start and closes it after its minutes, as if an instructor had typed the
commands; a restart during a session resumes it, one before a session opens it late or notes it
missed; two processes on one PostgreSQL database open one scheduled session once."""

from __future__ import annotations

import itertools
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botdriver import ROOT, BotProcess, Card, Db, bot_env, live_card, manage, read_card, session_messages, wait_until
from clocked_bot import set_offset
from conftest import bot_database

from attendance_bot import messages
from attendance_bot.clock import utc_now
from attendance_bot.emulator import EmulatorThread
from attendance_bot.emulator.models import CREATE_EVENTS
from attendance_bot.models import ScheduleEntry, Session, close_all, init_db
from attendance_bot.records import SessionInfo
from attendance_bot.timetable import Meeting, Occurrence

pytestmark = pytest.mark.backends("sqlite", "postgresql")
ON_TIME = timedelta(seconds=5)  # the issue: a scheduled session opens within 5 s of its start


@dataclass
class Campus:
    """An emulator, a database and the clocked bot(s) sharing one clock file."""

    emu: EmulatorThread
    db: Db
    folder: Path
    env: dict[str, str]
    bots: list[BotProcess] = field(default_factory=list)

    @property
    def offset_file(self) -> Path:
        return self.folder / "clock-offset"

    def start(self, env: dict[str, str] | None = None) -> BotProcess:
        argv = [sys.executable, "-u", str(ROOT / "tests" / "bot" / "clocked_bot.py"), str(self.offset_file)]
        bot = BotProcess(self.emu, env or self.env, argv).start()
        self.bots.append(bot)
        return bot

    def kill(self, bot: BotProcess) -> None:
        bot.signal(signal.SIGKILL)

    def set_now(self, moment: datetime) -> None:
        """Every bot's clock reads `moment` now (and runs on from there)."""
        set_offset(self.offset_file, (moment - utc_now()).total_seconds())

    def plan(self, minutes: int, *, after: timedelta = timedelta(minutes=3), course: str = "default") -> Meeting:
        """A timetable line for a meeting that starts on a whole minute `after` from now (UTC, the course's
        timezone), added from the shell; the meeting as the bot will announce it."""
        start = (utc_now() + after).replace(second=0, microsecond=0)
        manage(
            self.env,
            "schedule",
            "add",
            "--course",
            course,
            "--weekday",
            f"{start:%A}",
            "--start",
            f"{start:%H:%M}",
            "--minutes",
            str(minutes),
        )
        init_db(self.db.target)
        try:
            entry = ScheduleEntry.select().order_by(ScheduleEntry.id.desc()).first()
            course_row = entry.course
            occurrence = Occurrence(entry.id, course_row.id, start.date(), start, start + timedelta(minutes=minutes))
            return Meeting(course_row.name, course_row.admin_channel_id, "UTC", occurrence)
        finally:
            close_all()

    def sessions(self) -> list[Session]:
        init_db(self.db.target)
        try:
            return list(Session.select().order_by(Session.id))
        finally:
            close_all()

    def opened(self, meeting: Meeting, timeout: float = 10.0) -> SessionInfo:
        """The session the timetable opened for the meeting (waits for it)."""
        found = wait_until(lambda: self.sessions(), timeout, "the scheduled session to open")
        assert len(found) == 1, [s.session_id for s in found]
        return self.db.session(found[0].session_id)

    def closed_card(self, session_id: str) -> bool:
        """Whether the session's code message shows the closed card."""
        shown = session_messages(self.emu, session_id)
        return bool(shown) and not read_card(shown[-1]).is_open

    def lines(self, channel_id: int | None) -> list[str]:
        assert channel_id is not None
        return [m.content or "" for m in self.emu.messages(channel_id) if m.author_id == self.emu.emu.bot_user_id]

    def said(self, channel_id: int | None, line: str, timeout: float = 10.0) -> None:
        wait_until(lambda: line in self.lines(channel_id), timeout, f"the admin channel to say {line!r}")


def _with(meeting: Meeting, session_id: str, count: int | None = None) -> Meeting:
    return Meeting(
        meeting.course_name, meeting.admin_channel_id, meeting.timezone, meeting.occurrence, session_id, count
    )


@pytest.fixture
def campus(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Campus]:
    """A fresh emulator and database with the `.env` course, the clock in step; no bot started yet."""
    with EmulatorThread() as emu, bot_database(request, backend, tmp_path) as database:
        world = Campus(emu, Db(database), tmp_path, bot_env(emu, database))
        set_offset(world.offset_file, 0.0)
        try:
            yield world
        finally:
            for bot in world.bots:
                print("".join(bot.stderr))
                bot.stop()


def test_a_scheduled_session_opens_at_its_start_and_closes_after_its_minutes(campus: Campus) -> None:
    """The code message appears within 5 s of the start and the admin channel is told; after its minutes
    the message shows the closed card and the admin channel gets the close summary."""
    bot = campus.start()
    meeting = campus.plan(minutes=1)
    start = meeting.occurrence.starts_at
    campus.set_now(start - timedelta(seconds=2))
    session = campus.opened(meeting)
    assert start <= session.opened_at < start + ON_TIME
    assert session.opened_by == "timetable"
    card = live_card(campus.emu, session.session_id)
    assert card.code == campus.db.code_for(card)
    campus.said(meeting.admin_channel_id, messages.scheduled_opened(_with(meeting, session.session_id)))
    campus.set_now(meeting.occurrence.ends_at - timedelta(seconds=1))
    wait_until(lambda: campus.db.session(session.session_id).closed_at, 10, "the session to close")
    closed = campus.db.session(session.session_id)
    assert (
        closed.closed_at is not None
        and meeting.occurrence.ends_at <= closed.closed_at < meeting.occurrence.ends_at + ON_TIME
    )
    campus.said(meeting.admin_channel_id, messages.scheduled_closed(_with(meeting, session.session_id, 0)))
    wait_until(lambda: campus.closed_card(session.session_id), 10, "the closed card")
    assert len(campus.sessions()) == 1
    assert bot.proc is not None and bot.proc.poll() is None


def test_a_restart_during_a_scheduled_session_resumes_it_and_still_closes_it_on_time(campus: Campus) -> None:
    """Killed mid-session and started again: the same session, the same code message edited, no second
    session, and it closes at the end of its minutes."""
    bot = campus.start()
    meeting = campus.plan(minutes=3)
    campus.set_now(meeting.occurrence.starts_at - timedelta(seconds=1))
    session = campus.opened(meeting)
    card = live_card(campus.emu, session.session_id)
    campus.kill(bot)
    campus.set_now(meeting.occurrence.starts_at + timedelta(minutes=1))
    campus.start()

    def edited() -> Card | None:
        shown = live_card(campus.emu, session.session_id)
        return shown if shown.changes_at != card.changes_at else None

    resumed = wait_until(edited, 15, "the code message to be edited after the restart")
    assert resumed.message_id == card.message_id
    assert [s.session_id for s in campus.sessions()] == [session.session_id]
    campus.set_now(meeting.occurrence.ends_at - timedelta(seconds=1))
    wait_until(lambda: campus.db.session(session.session_id).closed_at, 10, "the session to close")
    assert [s.session_id for s in campus.sessions()] == [session.session_id]
    assert sum(1 for line in campus.lines(meeting.admin_channel_id) if line.startswith("Attendance session")) == 2


def test_a_start_passed_while_down_opens_at_start_up_for_the_rest_of_its_minutes(campus: Campus) -> None:
    """The bot is down at the start and back within the meeting: it opens at start-up and closes at the
    meeting's own end."""
    bot = campus.start()
    meeting = campus.plan(minutes=3)
    campus.kill(bot)
    back = meeting.occurrence.starts_at + timedelta(minutes=1)
    campus.set_now(back)
    campus.start()
    session = campus.opened(meeting)
    assert back <= session.opened_at < back + timedelta(seconds=30)  # at start-up (which takes a few seconds)
    campus.set_now(meeting.occurrence.ends_at - timedelta(seconds=1))
    wait_until(lambda: campus.db.session(session.session_id).closed_at, 10, "the session to close")
    closed_at = campus.db.session(session.session_id).closed_at
    assert closed_at is not None and closed_at < meeting.occurrence.ends_at + ON_TIME


def test_a_meeting_passed_while_down_is_one_missed_line_and_never_opened(campus: Campus) -> None:
    """The bot is down for all of a meeting: at start-up one missed line in the admin channel, no
    session; a restart after that says nothing again."""
    bot = campus.start()
    meeting = campus.plan(minutes=1)
    campus.kill(bot)
    campus.set_now(meeting.occurrence.ends_at + timedelta(minutes=1))
    bot = campus.start()
    line = messages.scheduled_missed(meeting)
    campus.said(meeting.admin_channel_id, line)
    campus.kill(bot)
    campus.start()
    campus.emu.invoke(campus.emu.instructor, campus.emu.admin_channel_id, "course list")  # a round trip: it looked
    assert campus.lines(meeting.admin_channel_id).count(line) == 1
    assert campus.sessions() == []


def test_the_timetable_from_discord(campus: Campus) -> None:
    """/course schedule add|list|remove and /course skip|unskip answer with the service's sentences;
    /course edit timezone completes IANA names; a student cannot use them."""
    campus.start()
    emu = campus.emu
    admin = emu.admin_channel_id
    reply = emu.invoke(emu.instructor, admin, "course edit", course="default", timezone="europe/berlin")
    assert reply.content == messages.course_edited_reply("default")
    names = emu.autocomplete(
        emu.instructor, admin, "course edit", focused="timezone", course="default", timezone="berl"
    )
    assert [c["value"] for c in names][:1] == ["Europe/Berlin"]
    added = emu.invoke(emu.instructor, admin, "course schedule add", weekday="Tuesday", start="09:15", minutes=75)
    assert added.content is not None and added.content.startswith(
        "default now meets every Tuesday at 09:15 (Europe/Berlin)"
    )
    listing = emu.invoke(emu.instructor, admin, "course schedule list")
    assert listing.ephemeral and "Tuesday 09:15 for 75 min" in (listing.content or "")
    refused = emu.invoke(emu.instructor, admin, "course schedule add", weekday="Tuesday", start="10:00", minutes=30)
    assert refused.content is not None and refused.content.startswith("That overlaps line #")
    skipped = emu.invoke(emu.instructor, admin, "course skip", date="2026-12-22")
    assert skipped.content is not None and skipped.content.startswith("default does not meet on Tuesday 2026-12-22")
    unskipped = emu.invoke(emu.instructor, admin, "course unskip", date="2026-12-22")
    assert unskipped.content is not None and unskipped.content.startswith("default meets on Tuesday 2026-12-22 again")
    [choice] = emu.autocomplete(emu.instructor, admin, "course schedule remove", focused="entry", entry="tue")
    removed = emu.invoke(emu.instructor, admin, "course schedule remove", entry=choice["value"])
    assert removed.content is not None and removed.content.startswith(f"Line #{choice['value']} Tuesday 09:15")
    student = emu.add_member("nosy")
    denied = emu.invoke(student, admin, "course schedule list")
    assert denied.ephemeral and denied.content == messages.not_admin_reply()


@pytest.mark.backends("postgresql")
def test_two_processes_on_one_postgresql_database_open_one_scheduled_session_once(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """Two bot processes (shards 0 and 1 of 2) on one database, both running the scheduler: the session
    opens once, its code message is posted once, and the admin channel hears of the opening and the
    closing once each."""
    with EmulatorThread(shards=2) as emu, bot_database(request, backend, tmp_path) as database:
        guild = emu.add_guild("Campus", shard=(0, 2))
        base = bot_env(emu, database, SHARD_COUNT="2")
        for key in ("ADMIN_CHANNEL_ID", "ATTENDANCE_CHANNEL_ID"):
            base.pop(key)
        campus = Campus(emu, Db(database), tmp_path, base)
        set_offset(campus.offset_file, 0.0)
        try:
            for shard in (0, 1):
                env = dict(base, SHARD_IDS=str(shard), DISCORD_BOT_TOKEN=emu.token_alias(f"shard-{shard}"))
                env["WEB_PORT"] = "0"
                campus.start(env)
            emu.invoke(
                guild.instructor,
                guild.admin_channel_id,
                "course create",
                name="Physics",
                attendance_channel=guild.attendance_channel_id,
            )
            meeting = campus.plan(minutes=1, course="Physics")
            campus.set_now(meeting.occurrence.starts_at - timedelta(seconds=1))
            session = campus.opened(meeting)
            card = live_card(emu, session.session_id, channel_id=guild.attendance_channel_id)
            opened_line = messages.scheduled_opened(_with(meeting, session.session_id))
            campus.said(guild.admin_channel_id, opened_line)
            campus.set_now(meeting.occurrence.ends_at - timedelta(seconds=1))
            closed_line = messages.scheduled_closed(_with(meeting, session.session_id, 0))
            campus.said(guild.admin_channel_id, closed_line)
            campus.set_now(meeting.occurrence.ends_at + timedelta(seconds=10))  # both have looked again since
            emu.invoke(guild.instructor, guild.admin_channel_id, "course list")
            lines = campus.lines(guild.admin_channel_id)
            assert (lines.count(opened_line), lines.count(closed_line)) == (1, 1)
            assert [s.session_id for s in campus.sessions()] == [session.session_id]
            posted = session_messages(emu, session.session_id, channel_id=guild.attendance_channel_id)
            assert [m.id for m in posted] == [card.message_id]
        finally:
            for bot in campus.bots:
                print("".join(bot.stderr))
                bot.stop()
            close_all()


def test_events_true_lists_the_next_classes_once_the_bot_may_create_events(campus: Campus) -> None:
    """`schedule add events:True` without Create Events keeps the line and says what is missing; with
    it, the line's next four classes are in the server's Events list, at their times."""
    campus.start()
    emu = campus.emu
    admin = emu.admin_channel_id

    def events() -> list[dict[str, object]]:
        return emu.run(lambda e: list(e.state.guilds[e.guild_id].scheduled_events))

    options = {"start": "10:00", "minutes": 90, "events": True}
    refused = emu.invoke(emu.instructor, admin, "course schedule add", weekday="Monday", **options)
    assert (refused.content or "").endswith(messages.schedule_events_need_permission(0))
    assert events() == []
    assert "Monday 10:00" in (emu.invoke(emu.instructor, admin, "course schedule list").content or "")

    def grant(e: Any) -> None:
        role = e.state.guilds[e.guild_id].bot_role
        role.permissions |= CREATE_EVENTS

    emu.run(grant)
    listed = emu.invoke(emu.instructor, admin, "course schedule add", weekday="Wednesday", **options)
    assert (listed.content or "").endswith(messages.schedule_events_listed(4))
    made = events()
    starts = [datetime.fromisoformat(str(event["scheduled_start_time"])) for event in made]
    assert [
        (s.strftime("%A %H:%M"), event["name"], event["entity_type"]) for s, event in zip(starts, made, strict=True)
    ] == [("Wednesday 10:00", "default", 3)] * 4
    assert [b - a for a, b in itertools.pairwise(starts)] == [timedelta(days=7)] * 3
