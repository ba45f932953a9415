"""Low-attendance warnings: the digest after each closed session names each crossing of the line once,
the timetable's sessions still to come decide who can no longer reach it, the notes a student is left
are shown once (in the reply to their next check-in), and direct messages go at most once a day, never
again to an account that refuses them (until the student turns them on again)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from _course import GUILD_ID

from attendance_bot import messages
from attendance_bot.courses import CourseService
from attendance_bot.errors import Notice
from attendance_bot.models import Course, StudentNotice, WarningState, close_db
from attendance_bot.records import WarningDigest
from attendance_bot.roster import RosterRow
from attendance_bot.services import Services
from attendance_bot.settings import Settings
from attendance_bot.warnings import WarningService

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")

ADA = 900000000000000201  # on the roster as S1 (discord "ada"), checks in as "ada"
BOB = 900000000000000202  # S2, "bob"
# S3 Cy is on the roster with no Discord account: named in digests, never told anything.
LINE = 60


@pytest.fixture
def services(settings: Settings, db: Path | str, clock: FakeClock) -> Services:
    """The services over the test's database, its course with a warning line of 60 % from the second
    session, and a roster of three."""
    made = Services(settings, clock)
    course = _course_id()
    made.courses.edit(course, warn_below=LINE, warn_after=2)
    rows = [RosterRow("S1", "Ada", "ada"), RosterRow("S2", "Bob", "bob"), RosterRow("S3", "Cy", None)]
    made.roster.import_roster(course, rows, replace=False, actor="test")
    return made


def _course_id() -> int:
    return int(Course.get(Course.name == "default").id)


def _session(services: Services, clock: FakeClock, *present: tuple[int, str]) -> tuple[str, list[tuple[Notice, ...]]]:
    """A session of the course with these students checking in, closed; its id and the notes each
    check-in's reply carried."""
    info = services.attendance.open_session(_course_id(), opened_by="test")
    code = services.attendance.current_code(info.session_id).code
    shown = []
    for user_id, name in present:
        result = services.attendance.submit(user_id=user_id, username=name, code=code, guild_id=GUILD_ID)
        assert result.accepted, result
        shown.append(result.notices)
    clock.advance(3600)
    services.attendance.close_session(info.session_id)
    clock.advance(23 * 3600)
    return info.session_id, shown


def _named(students: Sequence[object]) -> list[str | None]:
    return [w.student.student_id for w in students]  # type: ignore[attr-defined]


def test_the_digest_names_each_crossing_once(services: Services, clock: FakeClock) -> None:
    """Below the line is said when a student falls below it, not at every session they stay there, and
    again only after they rose above it and fell again; nothing before the course's second session."""
    everyone = ((ADA, "ada"), (BOB, "bob"))
    s1, _ = _session(services, clock, *everyone)
    first = services.warnings.digest(s1)
    assert first is not None and first.empty  # Cy is at 0 %, but one session is too few (warn_after 2)
    s2, _ = _session(services, clock, (ADA, "ada"))
    second = services.warnings.digest(s2)
    assert second is not None
    assert (_named(second.below), _named(second.unreachable)) == (["S2", "S3"], [])  # Bob 50 %, Cy 0 %
    assert [w.rate for w in second.below] == [Decimal("0.500"), Decimal("0.000")]
    assert (second.course_name, second.warn_below, second.session_id) == ("default", LINE, s2)
    s3, _ = _session(services, clock, (ADA, "ada"))  # Bob 33 %, Cy 0 %: still below, not named again
    assert services.warnings.digest(s3).empty  # type: ignore[union-attr]
    s4, _ = _session(services, clock, *everyone)  # Bob 2/4
    s5, _ = _session(services, clock, *everyone)  # Bob 3/5 = 60 %: not below 60 any more
    assert services.warnings.digest(s4).empty and services.warnings.digest(s5).empty  # type: ignore[union-attr]
    s6, _ = _session(services, clock, (ADA, "ada"))  # Bob 3/6: below again, so named again
    assert _named(services.warnings.digest(s6).below) == ["S2"]  # type: ignore[union-attr]


def test_a_digest_is_made_once_whoever_asks(services: Services, settings: Settings, clock: FakeClock) -> None:
    """The database decides: a second ask for the same session's digest, by this process or another
    (another service over the same database), gets nothing and changes nothing."""
    _session(services, clock, (ADA, "ada"))
    s2, _ = _session(services, clock, (ADA, "ada"))
    assert not services.warnings.digest(s2).empty  # type: ignore[union-attr]
    states = list(WarningState.select().order_by(WarningState.id).dicts())
    notes = StudentNotice.select().count()
    other_process = WarningService(settings, clock)
    assert services.warnings.digest(s2) is None
    assert other_process.digest(s2) is None
    assert list(WarningState.select().order_by(WarningState.id).dicts()) == states
    assert StudentNotice.select().count() == notes


def test_four_processes_at_once_make_one_digest(services: Services, settings: Settings, clock: FakeClock) -> None:
    """Four services on four threads (connections of their own) ask for one session's digest at the same
    moment: exactly one gets it, and the notes are left once."""
    _session(services, clock, (ADA, "ada"), (BOB, "bob"))
    s2, _ = _session(services, clock, (ADA, "ada"))
    start = threading.Barrier(4)

    def ask(_: int) -> WarningDigest | None:
        start.wait()
        try:
            return WarningService(settings, clock).digest(s2)
        finally:
            close_db()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(ask, range(4)))
    made = [r for r in results if r is not None]
    assert len(made) == 1 and _named(made[0].below) == ["S2", "S3"]
    assert StudentNotice.select().count() == 1


def test_no_digest_for_a_course_without_a_line_or_a_session_still_open(services: Services, clock: FakeClock) -> None:
    """warn_below 0 is no warnings at all; an open session has no digest yet."""
    course = _course_id()
    services.courses.edit(course, warn_below=0)
    assert CourseService(services.settings).get(course).warn_below is None
    _session(services, clock)
    s2, _ = _session(services, clock)
    assert services.warnings.digest(s2) is None
    services.courses.edit(course, warn_below=LINE)
    info = services.attendance.open_session(course, opened_by="test")
    assert services.warnings.digest(info.session_id) is None


def test_who_can_no_longer_reach_the_line_follows_the_timetable(
    services: Services, settings: Settings, clock: FakeClock
) -> None:
    """With 1 session left in the timetable, Bob at 1/2 can still reach 2/3 = 66.7 %, Cy at 0/2 at best
    1/3: Cy is named as out of reach (and below), Bob only as below; the timetable is asked about
    the course after the session's close."""
    asked: list[tuple[int, datetime]] = []

    def remaining(course_id: int, after: datetime) -> int | None:
        asked.append((course_id, after))
        return 1

    warnings = WarningService(settings, clock, remaining=remaining)
    _session(services, clock, (ADA, "ada"), (BOB, "bob"))
    s2, _ = _session(services, clock, (ADA, "ada"))
    digest = warnings.digest(s2)
    assert digest is not None
    assert (_named(digest.below), _named(digest.unreachable), digest.remaining) == (["S2", "S3"], ["S3"], 1)
    assert digest.unreachable[0].best == Decimal(1) / Decimal(3)
    closed = services.attendance.get_session(s2).closed_at
    assert asked == [(_course_id(), closed)]
    lines = messages.warning_digest_lines(digest)
    assert "Can no longer reach 60 % by the end of the timetable (1 session left):" in lines
    assert "• S3 · Cy: 0.0 %, at best 33.3 %" in lines


def test_a_note_is_shown_once_in_the_reply_to_the_next_check_in(services: Services, clock: FakeClock) -> None:
    """Bob, below the line, sees the warning in the reply to his next accepted check-in only; Cy,
    with no account, is told nothing (nobody to tell)."""
    _session(services, clock, (ADA, "ada"), (BOB, "bob"))
    s2, _ = _session(services, clock, (ADA, "ada"))
    services.warnings.digest(s2)
    told = Notice("below_line_notice", course_name="default", line=LINE, rate="50.0")
    assert [(n.user_id, n.kind) for n in StudentNotice.select()] == [(BOB, "below_line_notice")]
    _, shown = _session(services, clock, (ADA, "ada"), (BOB, "bob"), (BOB, "bob"))
    assert shown == [(), (told,), ()]
    assert services.warnings.take_notices(GUILD_ID, BOB) == []


def test_my_attendance_says_below_the_line_and_takes_the_notes(services: Services, clock: FakeClock) -> None:
    """standing() names the courses a student is below the line of; take_notices gives the waiting
    notes once."""
    _session(services, clock, (ADA, "ada"), (BOB, "bob"))
    s2, _ = _session(services, clock, (ADA, "ada"))
    services.warnings.digest(s2)
    mine = services.gradebook.student_attendance(GUILD_ID, BOB, username="bob")
    told = Notice("below_line_notice", course_name="default", line=LINE, rate="50.0")
    assert services.warnings.standing(mine) == [told]
    assert services.warnings.standing(services.gradebook.student_attendance(GUILD_ID, ADA, username="ada")) == []
    assert services.warnings.take_notices(GUILD_ID, BOB) == [told]
    assert services.warnings.take_notices(GUILD_ID, BOB) == []
    assert messages.error_text(told) == messages.below_line_notice("default", LINE, "50.0")


def _bobs_note(services: Services, clock: FakeClock) -> WarningDigest:
    _session(services, clock, (ADA, "ada"), (BOB, "bob"))
    s2, _ = _session(services, clock, (ADA, "ada"))
    digest = services.warnings.digest(s2)
    assert digest is not None and len(digest.notice_ids) == 1
    return digest


def test_direct_messages_only_when_on_and_once_a_day(services: Services, clock: FakeClock) -> None:
    """A note goes by direct message only to a student who turned them on, and one message a day: a
    second note the same day waits for the student's next command."""
    warnings = services.warnings
    digest = _bobs_note(services, clock)
    assert warnings.direct_messages_due(digest.notice_ids) == []  # never turned on
    warnings.set_direct_messages(BOB, True)
    due = warnings.direct_messages_due(digest.notice_ids)
    assert [(d.user_id, d.notice_ids) for d in due] == [(BOB, digest.notice_ids)]
    assert warnings.direct_messages_due(digest.notice_ids) == []  # today's is taken
    clock.advance(timedelta(days=1, seconds=1).total_seconds())
    assert [d.user_id for d in warnings.direct_messages_due(digest.notice_ids)] == [BOB]
    warnings.direct_message_sent(due[0])
    clock.advance(timedelta(days=2).total_seconds())
    assert warnings.direct_messages_due(digest.notice_ids) == []  # shown: nothing left to send
    assert warnings.take_notices(GUILD_ID, BOB) == []


def test_a_refused_direct_message_is_noted_and_not_retried(services: Services, clock: FakeClock) -> None:
    """Discord's 50007 is noted: no direct message is tried again, on later days too, and the note
    waits for the student's next command; turning them on again tries again."""
    warnings = services.warnings
    digest = _bobs_note(services, clock)
    warnings.set_direct_messages(BOB, True)
    (due,) = warnings.direct_messages_due(digest.notice_ids)
    warnings.direct_message_refused(BOB)
    clock.advance(timedelta(days=3).total_seconds())
    assert warnings.direct_messages_due(digest.notice_ids) == []
    warnings.set_direct_messages(BOB, True)
    assert [d.user_id for d in warnings.direct_messages_due(digest.notice_ids)] == [BOB]
    assert warnings.take_notices(GUILD_ID, BOB) == list(due.notices)
