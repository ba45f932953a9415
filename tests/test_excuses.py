"""Excuse requests: a student asks about one of their own sessions with a reason; an instructor's
approval is the `/attendance mark excused` path with that reason, a denial leaves the record; both are
decided once, are events of the audit trail with the request, and leave the student a note."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from _course import GUILD_ID

from attendance_bot import messages
from attendance_bot.choices import own_session_choices
from attendance_bot.errors import Notice
from attendance_bot.excuses import ExcuseError
from attendance_bot.models import Attendance, Course, Event, ExcuseRequest
from attendance_bot.roster import RosterRow
from attendance_bot.services import Services
from attendance_bot.settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")

DAN = 900000000000000301  # on the roster as S4 (discord "dan"), never checks in
ZED = 900000000000000302  # not on the roster: checks in as "zed"
OTHER_GUILD = 900000000000000399
TEACHER = "prof (900000000000000399)"


@pytest.fixture
def services(settings: Settings, db: Path | str, clock: FakeClock) -> Services:
    made = Services(settings, clock)
    made.roster.import_roster(_course_id(), [RosterRow("S4", "Dan", "dan")], replace=False, actor="test")
    return made


def _course_id() -> int:
    return int(Course.get(Course.name == "default").id)


def _closed_session(services: Services, clock: FakeClock, *present: tuple[int, str]) -> str:
    info = services.attendance.open_session(_course_id(), opened_by="test")
    code = services.attendance.current_code(info.session_id).code
    for user_id, name in present:
        assert services.attendance.submit(user_id=user_id, username=name, code=code, guild_id=GUILD_ID).accepted
    clock.advance(3600)
    services.attendance.close_session(info.session_id)
    clock.advance(3600)
    return info.session_id


def _events(user_id: int) -> list[tuple[str, str | None, str | None, str | None]]:
    rows = Event.select().where(Event.user_id == user_id).order_by(Event.id)
    return [(e.action, e.old_status, e.new_status, e.reason) for e in rows]


def _status(session_id: str, student_key: str) -> list[tuple[str, str]]:
    rows = Attendance.select().where((Attendance.session_id == session_id) & (Attendance.student_key == student_key))
    return [(r.status, r.source) for r in rows]


def _ask(services: Services, session_id: str, reason: str = "I was ill", user_id: int = DAN, name: str = "dan"):  # type: ignore[no-untyped-def]
    return services.excuses.request(
        guild_id=GUILD_ID, user_id=user_id, username=name, session_id=session_id, reason=reason
    )


def test_a_request_lists_the_students_own_sessions_and_is_an_event(services: Services, clock: FakeClock) -> None:
    """Dan (on the roster, absent) picks from his sessions; the request is stored with its reason, and an
    `excuse-request` event (absent -> excused, the reason) is in the audit trail."""
    first = _closed_session(services, clock)
    second = _closed_session(services, clock)
    choices = own_session_choices(services.excuses, GUILD_ID, DAN, "dan", "")
    assert [c.value for c in choices] == [second, first]  # newest first
    assert choices[0].label.startswith("default · ") and choices[0].label.endswith(" · absent")
    info = _ask(services, first, "  I was\nill  ")
    assert (info.session_id, info.reason, info.student_id, info.status, info.decision) == (
        first,
        "I was ill",
        "S4",
        "absent",
        None,
    )
    assert _events(DAN) == [("excuse-request", "absent", "excused", "I was ill")]
    assert ExcuseRequest.select().count() == 1


@pytest.mark.parametrize(
    ("reason", "session", "kind"),
    [
        ("   ", "mine", "excuse_reason_needed"),
        ("ill", "nope", "excuse_session_not_yours"),
    ],
)
def test_a_bad_request_is_refused_and_stores_nothing(
    services: Services, clock: FakeClock, reason: str, session: str, kind: str
) -> None:
    """An empty reason, or a session that is not the student's: one sentence, nothing stored."""
    mine = _closed_session(services, clock)
    with pytest.raises(ExcuseError) as caught:
        _ask(services, mine if session == "mine" else session, reason)
    assert caught.value.kind == kind
    assert ExcuseRequest.select().count() == 0 and _events(DAN) == []


def test_a_session_of_someone_else_is_not_yours(services: Services, clock: FakeClock) -> None:
    """Zed (not on the roster) has only the sessions he checked in to: another is refused."""
    his = _closed_session(services, clock, (ZED, "zed"))
    other = _closed_session(services, clock)
    assert [c.value for c in own_session_choices(services.excuses, GUILD_ID, ZED, "zed", "")] == [his]
    with pytest.raises(ExcuseError) as caught:
        _ask(services, other, user_id=ZED, name="zed")
    assert str(caught.value) == messages.excuse_session_not_yours(other)


def test_one_request_per_session(services: Services, clock: FakeClock) -> None:
    """Asking again about the same session is refused, saying where the first request is."""
    session = _closed_session(services, clock)
    _ask(services, session)
    with pytest.raises(ExcuseError) as caught:
        _ask(services, session, "again")
    assert str(caught.value) == messages.excuse_already_asked(session, None)
    assert ExcuseRequest.select().count() == 1


def test_an_approval_marks_excused_with_the_reason_once(services: Services, clock: FakeClock) -> None:
    """Approve is a mark (manual, `excused`, the student's reason) of the roster student, with the
    decision's event, and a note for the student; a second decision is refused and changes nothing."""
    session = _closed_session(services, clock)
    info = _ask(services, session)
    decided = services.excuses.decide(info.id, True, guild_id=GUILD_ID, actor=TEACHER)
    assert (decided.decision, decided.decided_by) == ("approved", TEACHER)
    assert _status(session, "s4") == [("excused", "manual")]
    book = services.gradebook.gradebook(_course_id())
    assert [row.totals.excused for row in book.rows if row.student.student_id == "S4"] == [1]
    actions = [(e.action, e.new_status, e.reason) for e in Event.select().order_by(Event.id)]
    assert actions[-3:] == [
        ("excuse-request", "excused", "I was ill"),
        ("mark", "excused", "I was ill"),
        ("excuse-approved", None, "I was ill"),
    ]
    note = Notice("excuse_approved_notice", course_name="default", session_id=session)
    with pytest.raises(ExcuseError) as caught:
        services.excuses.decide(info.id, False, guild_id=GUILD_ID, actor="someone else")
    assert str(caught.value) == messages.excuse_already_decided("approved", TEACHER)
    assert services.warnings.take_notices(GUILD_ID, DAN) == [note]
    assert own_session_choices(services.excuses, GUILD_ID, DAN, "dan", "") == []  # excused already


def test_a_denial_keeps_the_record_and_is_an_event(services: Services, clock: FakeClock) -> None:
    """Deny records the refusal (an event, the request decided) and leaves the record as it was."""
    session = _closed_session(services, clock)
    info = _ask(services, session)
    decided = services.excuses.decide(info.id, False, guild_id=GUILD_ID, actor=TEACHER)
    assert decided.decision == "denied"
    assert _status(session, "s4") == []  # still absent, computed
    assert [a for a, *_ in _events(DAN)] == ["excuse-request", "excuse-denied"]
    note = Notice("excuse_denied_notice", course_name="default", session_id=session)
    assert services.warnings.take_notices(GUILD_ID, DAN) == [note]
    history = services.corrections.history(GUILD_ID, "S4")
    assert [h.action for h in history] == ["excuse-request", "excuse-denied"]


def test_a_request_of_another_server_is_unknown(services: Services, clock: FakeClock) -> None:
    """A decision asked from another server finds no request: nothing crosses servers."""
    info = _ask(services, _closed_session(services, clock))
    with pytest.raises(ExcuseError) as caught:
        services.excuses.decide(info.id, True, guild_id=OTHER_GUILD, actor=TEACHER)
    assert caught.value.kind == "excuse_unknown"
    assert ExcuseRequest.get_by_id(info.id).decision is None
