"""Registration (`/register`): a Discord account's student id per server, its rules and its events."""

from __future__ import annotations

import pytest
from _course import GUILD_ID
from hypothesis import given, settings
from hypothesis import strategies as st

from attendance_bot import messages
from attendance_bot.attendance import AttendanceService
from attendance_bot.models import Event, Student
from attendance_bot.students import MAX_NAME, StudentError, StudentService, clean_name, clean_student_id

pytestmark = pytest.mark.backends("sqlite", "postgresql")

OTHER_GUILD = 900000000000000100


@pytest.fixture
def students(service: AttendanceService) -> StudentService:
    return StudentService()


def test_registering_links_the_account_and_writes_its_event(students: StudentService) -> None:
    """The first registration is stored with an event; running it again updates it, with another event."""
    first = students.register(guild_id=GUILD_ID, user_id=1, student_id=" s-123.a ", name=" Ada  Lovelace ")
    assert (first.student_id, first.name, first.updated) == ("s-123.a", "Ada Lovelace", False)
    again = students.register(guild_id=GUILD_ID, user_id=1, student_id="S-124", name=None)
    assert (again.student_id, again.name, again.updated) == ("S-124", None, True)
    assert [(r.student_id, r.name) for r in Student.select()] == [("S-124", None)]
    events = [(e.action, e.student_id, e.reason, e.actor, e.source) for e in Event.select().order_by(Event.id)]
    assert events == [
        ("register", "s-123.a", None, "1", "manual"),
        ("re-register", "S-124", "was s-123.a", "1", "manual"),
    ]
    assert messages.registered_reply("S-124", None, True).startswith("✅ Your registration is updated")


def test_an_id_of_another_account_is_refused_without_saying_whose(students: StudentService) -> None:
    """The same id (whatever its case) by a second account is refused; the first keeps it; no event."""
    students.register(guild_id=GUILD_ID, user_id=1, student_id="A1")
    with pytest.raises(StudentError) as caught:
        students.register(guild_id=GUILD_ID, user_id=2, student_id="a1")
    assert str(caught.value) == messages.student_id_taken()
    assert "1" not in str(caught.value)
    assert [(r.user_id, r.student_id) for r in Student.select()] == [(1, "A1")]
    assert Event.select().count() == 1


def test_a_server_without_a_course_takes_no_registration(students: StudentService) -> None:
    """Registering is for servers with a course."""
    with pytest.raises(StudentError) as caught:
        students.register(guild_id=OTHER_GUILD, user_id=1, student_id="A1")
    assert str(caught.value) == messages.no_course_in_server_reply()
    assert Student.select().count() == Event.select().count() == 0


@pytest.mark.parametrize("typed", ["", "   ", "a b", "x" * 33, "é1", "=cmd|' /C calc'!A0", "a\u200fb", "1\n2"])
def test_malformed_ids_are_refused_naming_the_characters(students: StudentService, typed: str) -> None:
    """Ids are 1-32 letters, digits, '-', '_', '.': anything else says so, and stores nothing."""
    with pytest.raises(StudentError) as caught:
        students.register(guild_id=GUILD_ID, user_id=1, student_id=typed)
    assert str(caught.value) == messages.student_id_invalid(typed, 32)
    assert Student.select().count() == 0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=6000))
def test_any_typed_id_is_stored_by_the_rule_or_refused(typed: str) -> None:
    """Whatever is typed, the id is refused or obeys the rule (never an unexpected error)."""
    try:
        value = clean_student_id(typed)
    except StudentError:
        return
    assert 1 <= len(value) <= 32 and all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in value)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=6000))
def test_any_typed_name_is_stored_clean_or_refused(typed: str) -> None:
    """Names keep emoji and any script but no control or formatting characters, and at most 100 characters."""
    try:
        value = clean_name(typed)
    except StudentError as exc:
        assert str(exc) == messages.student_name_invalid(MAX_NAME)
        return
    if value is not None:
        assert 1 <= len(value) <= MAX_NAME and value == value.strip() and "\n" not in value
