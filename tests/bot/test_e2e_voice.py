"""Voice presence end to end: the real bot, on a clock the test moves, against the emulator's voice channels.

The bot runs as `manage.py run` does, with one difference: its clock is the real time plus an offset
the test writes (clocked_bot.py), so "left 30 s ago" and "10 minutes in voice" take no waiting.
"""

from __future__ import annotations

import csv
import io
import signal
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from botdriver import ROOT, BotProcess, Db, bot_env, wait_until
from clocked_bot import set_offset

from attendance_bot import messages
from attendance_bot.bot.voicelog import SETTLE_SECONDS, SYNC_EVERY_SECONDS
from attendance_bot.clock import utc_now
from attendance_bot.emulator import EmulatorThread, Member
from attendance_bot.emulator.interactions import InteractionRefused
from attendance_bot.models import VoiceSpan, close_all, init_db
from attendance_bot.records import VOICE_RECENT_SECONDS, Outcome, SubmitResult


class VoiceWorld:
    """One emulator and the clocked bot, the .env course with the server's voice channel."""

    def __init__(self, emu: EmulatorThread, database: Path, folder: Path) -> None:
        self.emu = emu
        self.db = Db(database)
        self.offset_file = folder / "clock-offset"
        self.offset = 0.0
        set_offset(self.offset_file, 0.0)
        self.env = bot_env(emu, database)
        self.bot = self._process().start()
        self.voice = emu.voice_channel_id
        self.names = 0

    def _process(self) -> BotProcess:
        argv = [sys.executable, "-u", str(ROOT / "tests" / "bot" / "clocked_bot.py"), str(self.offset_file)]
        return BotProcess(self.emu, self.env, argv)

    def restart(self) -> None:
        """Kill the bot (no goodbye) and start it again on the same clock."""
        assert self.bot.proc is not None
        self.bot.signal(signal.SIGKILL)
        self.bot = self._process().start()

    def now(self) -> datetime:
        return utc_now() + timedelta(seconds=self.offset)

    def advance(self, seconds: float) -> None:
        """Move the bot's clock on, once it has heard of every voice change so far (it notes each at
        the time it hears of it): a command's answer comes after the events sent before it."""
        self.emu.invoke(self.emu.instructor, self.emu.admin_channel_id, "course list")
        self.offset += seconds
        set_offset(self.offset_file, self.offset)

    def student(self) -> Member:
        self.names += 1
        return self.emu.add_member(f"voice{self.names}")

    def course(self, **options: object) -> None:
        reply = self.emu.invoke(
            self.emu.instructor, self.emu.admin_channel_id, "course edit", course="default", **options
        )
        assert reply.content == messages.course_edited_reply("default"), reply.content

    def open(self) -> str:
        self.emu.invoke(self.emu.instructor, self.emu.admin_channel_id, "open_attendance")
        session = self.db.open_session()
        assert session is not None
        return session.session_id

    def close(self) -> None:
        reply = self.emu.invoke(self.emu.instructor, self.emu.admin_channel_id, "close_attendance")
        assert "closed" in (reply.content or ""), reply.content

    def here(self, member: Member) -> str:
        """The member types the code the open session has now, on the bot's clock."""
        with self.db.service(self.now) as service:
            code = service.current_code().code
        reply = self.emu.invoke(member, self.emu.attendance_channel_id, "here", code=code)
        assert reply.ephemeral
        return reply.content or ""

    def full_export(self) -> list[dict[str, str]]:
        reply = self.emu.invoke(self.emu.instructor, self.emu.admin_channel_id, "export_csv", format="full")
        (data,) = [data for _, data in reply.files]
        return list(csv.DictReader(io.StringIO(data.decode())))

    def spans(self, member: Member) -> list[VoiceSpan]:
        init_db(self.db.target)
        try:
            return list(VoiceSpan.select().where(VoiceSpan.user_id == member.id).order_by(VoiceSpan.id))
        finally:
            close_all()


@pytest.fixture(scope="module")
def voiced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceWorld]:
    folder = tmp_path_factory.mktemp("voice")
    (folder / "data").mkdir()
    with EmulatorThread() as emu:
        world = VoiceWorld(emu, folder / "data" / "attendance.db", folder)
        try:
            yield world
        finally:
            world.bot.stop()


@pytest.fixture
def world(voiced: VoiceWorld) -> Iterator[VoiceWorld]:
    """The module's bot with no session open and voice_rule required (the tests change it as they need)."""
    voiced.db.close_any()
    voiced.course(voice_channel=voiced.voice, voice_rule="required")
    start = len(voiced.bot.stderr)
    yield voiced
    print("".join(voiced.bot.stderr[start:]))
    voiced.db.close_any()


def _present(session_id: str, *, replaced: bool = False) -> str:
    return messages.submit_reply(SubmitResult(Outcome.UPDATED if replaced else Outcome.RECORDED, session_id))


def test_not_in_voice_is_refused_with_the_channel_named(world: VoiceWorld) -> None:
    """voice_rule required: a right code from a student outside the voice channel is refused, naming it."""
    session_id = world.open()
    ada = world.student()
    assert world.here(ada) == messages.not_in_voice_reply(world.voice)
    assert [row.user_id for row in world.db.rows(session_id)] == []


def test_joining_the_voice_channel_lets_the_check_in_through(world: VoiceWorld) -> None:
    """The same student, once in the voice channel, is recorded."""
    session_id = world.open()
    ada = world.student()
    assert world.here(ada) == messages.not_in_voice_reply(world.voice)
    world.emu.join_voice(ada, world.voice)
    assert world.here(ada) == _present(session_id)
    assert [row.user_id for row in world.db.rows(session_id)] == [ada.id]


def test_left_thirty_seconds_ago_still_counts_and_a_minute_does_not(world: VoiceWorld) -> None:
    """Out of the channel for 30 s: accepted; for over a minute: refused; back in: accepted."""
    session_id = world.open()
    ada, bob = world.student(), world.student()
    for member in (ada, bob):
        world.emu.join_voice(member, world.voice)
        world.emu.leave_voice(member)
    world.advance(30)
    assert world.here(ada) == _present(session_id)
    world.advance(VOICE_RECENT_SECONDS - 30 + 1)
    assert world.here(bob) == messages.not_in_voice_reply(world.voice)
    world.emu.join_voice(bob, world.voice)
    assert world.here(bob) == _present(session_id)


def test_recorded_accepts_everyone_and_the_full_export_notes_who_was_in_voice(world: VoiceWorld) -> None:
    """voice_rule recorded: in voice or not, recorded; the full export's in_voice says which."""
    world.course(voice_rule="recorded")
    session_id = world.open()
    ada, bob = world.student(), world.student()
    world.emu.join_voice(ada, world.voice)
    assert world.here(ada) == _present(session_id)
    assert world.here(bob) == _present(session_id)
    noted = {row["username"]: row["in_voice"] for row in world.full_export() if row["session_id"] == session_id}
    assert noted == {ada.username: "yes", bob.username: "no"}


def test_a_stage_channel_works_as_a_voice_channel(world: VoiceWorld) -> None:
    """A stage channel picked as the voice channel: its audience checks in."""
    stage = world.emu.add_voice_channel("Lecture Stage", stage=True)
    world.course(voice_channel=stage)
    session_id = world.open()
    ada = world.student()
    assert world.here(ada) == messages.not_in_voice_reply(stage)
    world.emu.join_voice(ada, stage)
    assert world.here(ada) == _present(session_id)


def test_a_text_channel_is_refused_as_the_voice_channel(world: VoiceWorld) -> None:
    """Discord's picker offers voice and stage channels only (the emulator refuses another, as the client would)."""
    with pytest.raises(InteractionRefused, match="channel_types"):
        world.emu.invoke(
            world.emu.instructor,
            world.emu.admin_channel_id,
            "course edit",
            course="default",
            voice_channel=world.emu.general_channel_id,
        )


def test_clear_voice_channel_turns_voice_presence_off(world: VoiceWorld) -> None:
    """/course edit clear:voice_channel: the next session takes check-ins from anywhere, noting nothing."""
    world.course(clear="voice_channel")
    session_id = world.open()
    ada = world.student()
    assert world.here(ada) == _present(session_id)
    (row,) = [row for row in world.full_export() if row["session_id"] == session_id]
    assert (row["voice_minutes"], row["in_voice"]) == ("", "")


def test_nothing_is_logged_outside_an_open_session(world: VoiceWorld) -> None:
    """Joins and leaves with no session open leave no trace; a session opened later logs from its opening."""
    ada = world.student()
    world.emu.join_voice(ada, world.voice)
    world.emu.leave_voice(ada)
    world.emu.join_voice(ada, world.voice)
    time.sleep(SYNC_EVERY_SECONDS + SETTLE_SECONDS + 1)  # a sync has run since (the bot syncs at least this often)
    assert world.spans(ada) == []
    world.advance(120)
    session_id = world.open()
    opened = world.db.session(session_id).opened_at
    (span,) = wait_until(lambda: world.spans(ada), SYNC_EVERY_SECONDS + 5, "the span of the session")
    assert span.joined_at == opened and span.left_at is None


def test_minutes_in_voice_survive_a_restart_and_reach_the_full_export(world: VoiceWorld) -> None:
    """In voice from the opening, 5 minutes, the bot killed and started again, 5 more minutes, closed:
    10 minutes in the full export, in one unbroken span."""
    world.course(voice_rule="recorded")
    ada = world.student()
    world.emu.join_voice(ada, world.voice)
    session_id = world.open()
    assert world.here(ada) == _present(session_id)
    wait_until(lambda: world.spans(ada), SYNC_EVERY_SECONDS + 5, "the span of the session")
    world.advance(300)
    world.restart()
    world.advance(300)
    time.sleep(SETTLE_SECONDS + 1)  # the sync after the restart's rebuild
    world.close()
    (row,) = [row for row in world.full_export() if row["session_id"] == session_id]
    assert (row["username"], row["voice_minutes"], row["in_voice"]) == (ada.username, "10", "yes")
    (span,) = world.spans(ada)
    assert span.left_at == world.db.session(session_id).closed_at
