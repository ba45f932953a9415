"""Voice presence below Discord: the check-in rule in the one check-in path, the voice log of open sessions,
minutes in voice in the full export and the report, the course settings; real databases, a fake clock."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _course import ATTENDANCE_CHANNEL_ID, GUILD_ID

from attendance_bot import messages
from attendance_bot.errors import CourseError
from attendance_bot.models import VoiceSpan
from attendance_bot.presence import VoicePresence
from attendance_bot.records import VOICE_RECENT_SECONDS, Outcome, Submission, VoiceRule
from attendance_bot.report import report_csv
from attendance_bot.services import Services
from attendance_bot.settings import Settings

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")

T0 = datetime(2024, 9, 2, 9, 0, 0, tzinfo=timezone.utc)  # where the `clock` fixture starts

VOICE = 900000000000000010
OTHER_VOICE = 900000000000000011
ADA, BOB = 1001, 1002


@pytest.fixture
def services(settings: Settings, db: Path | str, clock: FakeClock) -> Services:
    return Services(settings, clock)


def _course_id(services: Services) -> int:
    return services.courses.for_shell(None).id


def _voice(services: Services, rule: str | None) -> None:
    services.courses.edit(_course_id(services), voice_channel_id=VOICE, voice_rule=rule)


def _here(services: Services, user_id: int, code: str | None = None) -> Outcome:
    code = code or services.attendance.current_code().code
    submission = Submission(user_id, f"u{user_id}", code, channel_id=ATTENDANCE_CHANNEL_ID, guild_id=GUILD_ID)
    return services.attendance.submit_many([submission])[0].outcome


def _full(services: Services) -> list[dict[str, str]]:
    data = services.exports.export("full", _course_id(services)).data.decode()
    return list(csv.DictReader(io.StringIO(data)))


# -- the presence ----------------------------------------------------------------------------------


def test_a_member_who_left_counts_as_there_for_a_minute() -> None:
    """In the channel, or out of it for less than VOICE_RECENT_SECONDS: there; later, or another channel: not."""
    presence = VoicePresence()
    presence.seen(GUILD_ID, ADA, VOICE, T0)
    assert presence.in_channel(GUILD_ID, ADA, VOICE, T0)
    assert not presence.in_channel(GUILD_ID, ADA, OTHER_VOICE, T0)
    left = T0.replace(minute=10)
    presence.seen(GUILD_ID, ADA, None, left)
    assert presence.in_channel(GUILD_ID, ADA, VOICE, left + timedelta(seconds=30))
    assert presence.in_channel(GUILD_ID, ADA, VOICE, left + timedelta(seconds=VOICE_RECENT_SECONDS - 0.001))
    assert not presence.in_channel(GUILD_ID, ADA, VOICE, left + timedelta(seconds=VOICE_RECENT_SECONDS))
    assert not presence.in_channel(GUILD_ID + 1, ADA, VOICE, left)  # another server's channel of that id: no


def test_a_rebuild_keeps_who_stayed_and_ends_who_went() -> None:
    """The voice states read at connect: a member still in the same channel keeps the time they joined."""
    presence = VoicePresence()
    presence.seen(GUILD_ID, ADA, VOICE, T0)
    presence.seen(GUILD_ID, BOB, VOICE, T0)
    later = T0.replace(minute=5)
    presence.rebuild(GUILD_ID, [(ADA, VOICE)], later)
    assert presence.members(GUILD_ID, VOICE) == {ADA: T0}
    assert presence.left_at(GUILD_ID, VOICE, BOB) == later


# -- the course settings ---------------------------------------------------------------------------


def test_a_voice_rule_needs_a_voice_channel(services: Services) -> None:
    """voice_rule without voice_channel is refused with the sentence that says so, and nothing changes."""
    before = services.courses.for_shell(None)
    with pytest.raises(CourseError) as caught:
        services.courses.edit(before.id, voice_rule=VoiceRule.REQUIRED)
    assert str(caught.value) == messages.voice_rule_without_channel("required")
    assert services.courses.for_shell(None) == before


def test_a_voice_rule_is_one_of_its_words(services: Services) -> None:
    """A word that is no rule is refused naming the words there are."""
    with pytest.raises(CourseError) as caught:
        services.courses.edit(_course_id(services), voice_channel_id=VOICE, voice_rule="sometimes")
    assert str(caught.value) == messages.course_setting_not_a_choice("voice_rule", "sometimes", tuple(VoiceRule))


def test_clearing_the_voice_channel_clears_its_rule(services: Services) -> None:
    """Unsetting the channel alone leaves no rule behind (which would be refused without a channel)."""
    _voice(services, VoiceRule.REQUIRED)
    cleared = services.courses.edit(_course_id(services), voice_channel_id=None)
    assert (cleared.voice_channel_id, cleared.voice_rule) == (None, None)


# -- the rule, in the one check-in path -----------------------------------------------------------------


def test_required_refuses_a_right_code_from_outside_the_channel_and_names_it(services: Services) -> None:
    """Not in voice: refused, nothing recorded; the reply names the channel to join."""
    _voice(services, VoiceRule.REQUIRED)
    session = services.attendance.open_session()
    code = services.attendance.current_code().code
    submission = Submission(ADA, "ada", code, channel_id=ATTENDANCE_CHANNEL_ID, guild_id=GUILD_ID)
    (result,) = services.attendance.submit_many([submission])
    assert result.outcome is Outcome.NOT_IN_VOICE
    assert messages.submit_reply(result) == messages.not_in_voice_reply(VOICE)
    assert services.attendance.export_rows(session.session_id) == []


def test_required_accepts_from_the_channel_and_within_a_minute_of_leaving(services: Services, clock: FakeClock) -> None:
    """In the channel: recorded; left 30 s ago: recorded; left over a minute ago: refused; back: recorded."""
    _voice(services, VoiceRule.REQUIRED)
    services.attendance.open_session()
    services.presence.seen(GUILD_ID, ADA, VOICE, clock())
    assert _here(services, ADA) is Outcome.RECORDED
    services.presence.seen(GUILD_ID, ADA, None, clock())
    clock.advance(30)
    assert _here(services, ADA) is Outcome.UPDATED
    clock.advance(VOICE_RECENT_SECONDS - 30)
    assert _here(services, ADA) is Outcome.NOT_IN_VOICE
    services.presence.seen(GUILD_ID, ADA, VOICE, clock())
    assert _here(services, ADA) is Outcome.UPDATED


def test_another_voice_channel_does_not_count(services: Services, clock: FakeClock) -> None:
    """Being in some other voice channel of the server is not being in the class's."""
    _voice(services, VoiceRule.REQUIRED)
    services.attendance.open_session()
    services.presence.seen(GUILD_ID, ADA, OTHER_VOICE, clock())
    assert _here(services, ADA) is Outcome.NOT_IN_VOICE


def test_recorded_accepts_everyone_and_notes_who_was_in_voice(services: Services, clock: FakeClock) -> None:
    """recorded (also the rule of a channel without one): both recorded; the full export says yes and no."""
    _voice(services, None)
    services.attendance.open_session()
    services.presence.seen(GUILD_ID, ADA, VOICE, clock())
    assert _here(services, ADA) is Outcome.RECORDED
    assert _here(services, BOB) is Outcome.RECORDED
    by_user = {row["user_id"]: row["in_voice"] for row in _full(services)}
    assert by_user == {str(ADA): "yes", str(BOB): "no"}


def test_an_open_session_keeps_the_voice_settings_it_opened_with(services: Services, clock: FakeClock) -> None:
    """Setting the rule to required while a session is open changes its next session only."""
    _voice(services, VoiceRule.RECORDED)
    services.attendance.open_session()
    _voice(services, VoiceRule.REQUIRED)
    assert _here(services, BOB) is Outcome.RECORDED


def test_without_a_voice_channel_nothing_is_noted(services: Services) -> None:
    """A course without a voice channel: check-ins as ever, empty voice cells in the full export."""
    services.attendance.open_session()
    assert _here(services, ADA) is Outcome.RECORDED
    (row,) = _full(services)
    assert (row["voice_minutes"], row["in_voice"]) == ("", "")


# -- the log -----------------------------------------------------------------------------------------


def test_minutes_in_voice_count_only_while_the_session_is_open(services: Services, clock: FakeClock) -> None:
    """Joined 10 minutes before opening, left 25 minutes after, back 5 minutes before closing and still
    there after: 30 minutes; the full export and the report say so."""
    _voice(services, VoiceRule.RECORDED)
    services.presence.seen(GUILD_ID, ADA, VOICE, clock())
    clock.advance(600)
    services.voice.sync([GUILD_ID])
    assert VoiceSpan.select().count() == 0  # no session open: nothing logged
    services.attendance.open_session()
    services.voice.sync([GUILD_ID])
    assert _here(services, ADA) is Outcome.RECORDED
    clock.advance(1500)
    services.presence.seen(GUILD_ID, ADA, None, clock())
    clock.advance(20)
    services.voice.sync([GUILD_ID])
    clock.advance(580)
    services.presence.seen(GUILD_ID, ADA, VOICE, clock())
    clock.advance(10)
    services.voice.sync([GUILD_ID])
    clock.advance(290)
    services.attendance.close_session()
    clock.advance(900)
    services.voice.sync([GUILD_ID])  # closed: the span ended with it, and nothing new is logged
    (row,) = _full(services)
    assert row["voice_minutes"] == "30"
    report = list(csv.DictReader(io.StringIO(report_csv(services.gradebook.gradebook(_course_id(services))).decode())))
    assert [r["voice_minutes"] for r in report] == ["30"]
    assert VoiceSpan.select().where(VoiceSpan.left_at.is_null()).count() == 0


def test_a_restart_keeps_the_span_of_who_stayed(settings: Settings, db: Path | str, clock: FakeClock) -> None:
    """A new process (empty presence) rebuilt from the voice states at connect: who stayed has one
    unbroken span; who left meanwhile is ended at the rebuild (no gap longer than the restart)."""
    first = Services(settings, clock)
    _voice(first, VoiceRule.RECORDED)
    first.attendance.open_session()
    first.presence.seen(GUILD_ID, ADA, VOICE, clock())
    first.presence.seen(GUILD_ID, BOB, VOICE, clock())
    first.voice.sync([GUILD_ID])
    clock.advance(300)
    second = Services(settings, clock)  # the restarted bot: Ada is still there, Bob left while it was down
    second.presence.rebuild(GUILD_ID, [(ADA, VOICE)], clock())
    second.voice.sync([GUILD_ID])
    clock.advance(300)
    second.attendance.close_session()
    spans = sorted((s.user_id, s.joined_at, s.left_at) for s in VoiceSpan.select())
    assert spans == [(ADA, T0, T0.replace(minute=10)), (BOB, T0, T0.replace(minute=5))]


def test_the_log_leaves_the_servers_of_other_processes_alone(services: Services, clock: FakeClock) -> None:
    """A process logs only the servers whose voice states it holds (its shards'): another's spans stand."""
    _voice(services, VoiceRule.RECORDED)
    services.attendance.open_session()
    services.presence.seen(GUILD_ID, ADA, VOICE, clock())
    assert services.voice.sync([GUILD_ID + 1]) == 0
    assert VoiceSpan.select().count() == 0
    assert services.voice.sync([GUILD_ID]) == 1
    elsewhere = Services(services.settings, clock)  # a process of another shard: nobody in voice here
    assert elsewhere.voice.sync([GUILD_ID + 1]) == 0
    assert VoiceSpan.select().where(VoiceSpan.left_at.is_null()).count() == 1
