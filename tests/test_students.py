"""Registration (`/register`): a Discord account's student id per server, its rules and its events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from _course import ADMIN_CHANNEL_ID, ATTENDANCE_CHANNEL_ID, GUILD_ID
from hypothesis import given, settings
from hypothesis import strategies as st

from attendance_bot import messages
from attendance_bot.attendance import AttendanceService
from attendance_bot.corrections import CorrectionService
from attendance_bot.gradebook import GradebookService
from attendance_bot.models import Event, Student
from attendance_bot.roster import RosterRow, RosterService
from attendance_bot.students import (
    MAX_NAME,
    StudentError,
    StudentIdTaken,
    StudentService,
    clean_name,
    clean_student_id,
)

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")

OTHER_GUILD = 900000000000000100
ADA = 900000000000000011  # S1 on the roster, whose discord column is "ada"
CY = 900000000000000013  # S3 on the roster, no discord column
MAL = 900000000000000021  # on no roster: claims other people's ids


@pytest.fixture
def students(service: AttendanceService) -> StudentService:
    return StudentService()


def test_registering_an_id_on_no_roster_is_a_claim_and_again_updates_it(students: StudentService) -> None:
    """An id on no roster is stored as a pending claim with an event; running it again updates it, with
    another event."""
    first = students.register(guild_id=GUILD_ID, user_id=1, student_id=" s-123.a ", name=" Ada  Lovelace ")
    assert (first.student_id, first.name, first.updated, first.confirmed) == ("s-123.a", "Ada Lovelace", False, False)
    again = students.register(guild_id=GUILD_ID, user_id=1, student_id="S-124", name=None)
    assert (again.student_id, again.name, again.updated, again.confirmed) == ("S-124", None, True, False)
    assert [(r.student_id, r.name) for r in Student.select()] == [("S-124", None)]
    events = [(e.action, e.student_id, e.reason, e.actor, e.source) for e in Event.select().order_by(Event.id)]
    assert events == [
        ("claim", "s-123.a", None, "1", "manual"),
        ("claim", "S-124", "was s-123.a", "1", "manual"),
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


# -- claims: a registration earns trust (issue 15 item 1) ----------------------------------------


@pytest.fixture
def course_id(service: AttendanceService, clock: FakeClock) -> int:
    """The default course with a roster: S1 Ada (discord "ada") and S3 Cy (no discord column)."""
    course = service.course(None).id
    RosterService(service.settings, clock).import_roster(
        course, [RosterRow("S1", "Ada Lovelace", "ada"), RosterRow("S3", "Cy Young", None)], replace=False, actor="t"
    )
    clock.set(datetime.now(timezone.utc) + timedelta(minutes=1))  # registrations take the wall clock
    return course


def _check_in(service: AttendanceService, course: int, user_id: int, username: str) -> None:
    result = service.submit(
        user_id=user_id,
        username=username,
        code=service.current_code(course_id=course).code,
        channel_id=ATTENDANCE_CHANNEL_ID,
        guild_id=GUILD_ID,
    )
    assert result.accepted, result


def _rows() -> list[tuple[int, str, bool]]:
    return [(r.user_id, r.student_id, bool(r.confirmed)) for r in Student.select().order_by(Student.id)]


def test_the_account_the_roster_names_is_confirmed_at_once(students: StudentService, course_id: int) -> None:
    """The roster's discord column names this account's username (any case): linked at once."""
    done = students.register(guild_id=GUILD_ID, user_id=ADA, student_id="s1", username="Ada")
    assert done.confirmed and not done.updated
    assert _rows() == [(ADA, "s1", True)]
    assert [e.action for e in Event.select().where(Event.user_id == ADA)] == ["register"]


def test_a_roster_id_the_roster_gives_another_account_is_refused_naming_no_one(
    service: AttendanceService, students: StudentService, course_id: int
) -> None:
    """Mallory claiming S1, whose roster username is "ada": refused, nothing stored; Ada's check-in
    stays hers (present in her /my_attendance, not absent)."""
    service.open_session(course_id)
    _check_in(service, course_id, ADA, "ada")
    events = Event.select().count()
    with pytest.raises(StudentError) as caught:
        students.register(guild_id=GUILD_ID, user_id=MAL, student_id="S1", username="mallory")
    assert str(caught.value) == messages.student_id_roster_other()
    assert "ada" not in str(caught.value).lower()
    assert _rows() == [] and Event.select().count() == events
    service.close_session(course_id=course_id)
    (ada,) = GradebookService(service.settings).student_attendance(GUILD_ID, ADA, username="ada")
    assert (ada.student.student_id, ada.totals.present, ada.totals.absent) == ("S1", 1, 0)
    assert GradebookService(service.settings).student_attendance(GUILD_ID, MAL, username="mallory") == []


def test_a_claim_of_an_id_the_roster_gives_no_username_waits_and_shows_nothing_of_it(
    service: AttendanceService, clock: FakeClock, students: StudentService, course_id: int
) -> None:
    """Mallory claims S3 (no username on the roster): a pending claim; her /my_attendance shows her
    own check-in only, never S3's mark or its reason; corrections do not take her for S3."""
    first = service.open_session(course_id).session_id
    _check_in(service, course_id, MAL, "mallory")
    service.close_session(course_id=course_id)
    corrections = CorrectionService(service.settings, clock)
    corrections.mark(course_id, "S3", "excused", first, reason="surgery", actor="inst")
    done = students.register(guild_id=GUILD_ID, user_id=MAL, student_id="s3", username="mallory")
    assert not done.confirmed
    assert _rows() == [(MAL, "s3", False)]
    assert [e.action for e in Event.select().where(Event.user_id == MAL)][-1] == "claim"
    assert messages.claim_pending_reply("s3", None) != messages.registered_reply("s3", None, False)
    (mine,) = GradebookService(service.settings).student_attendance(GUILD_ID, MAL, username="mallory")
    assert (mine.student.student_id, mine.student.on_roster, mine.totals.present) == (None, False, 1)
    assert [s.status for s in mine.sessions] == ["present"]
    assert corrections.resolve_student(course_id, GUILD_ID, f"<@{MAL}>").student_key is None
    assert corrections.resolve_student(course_id, GUILD_ID, "S3").user_id is None
    book = GradebookService(service.settings).gradebook(course_id)
    s3 = next(row for row in book.rows if row.student.student_id == "S3")
    assert s3.student.user_id is None and [c.status for c in s3.cells if c] == ["excused"]


def test_a_second_claimant_is_refused_and_the_instructors_are_told(
    service: AttendanceService, students: StudentService, course_id: int
) -> None:
    """Cy typing S3 while Mallory's claim of it waits: refused as an id held (naming no one); the
    refusal carries the conflict for the admin channel of the course whose roster holds S3."""
    students.register(guild_id=GUILD_ID, user_id=MAL, student_id="S3", username="mallory")
    with pytest.raises(StudentIdTaken) as caught:
        students.register(guild_id=GUILD_ID, user_id=CY, student_id="s3", username="cy")
    assert str(caught.value) == messages.student_id_taken()
    conflict = caught.value.conflict
    assert (conflict.student_id, conflict.holder_id, conflict.claimant_id) == ("S3", MAL, CY)
    assert conflict.admin_channel_ids == (ADMIN_CHANNEL_ID,)
    assert _rows() == [(MAL, "S3", False)]


def test_an_instructor_link_confirms_the_account_and_replaces_the_claim(
    service: AttendanceService, students: StudentService, course_id: int
) -> None:
    """/attendance link S3 Cy: Cy confirmed, Mallory's claim gone, both with events; Cy's earlier
    check-in now counts for S3; the course's pending claims list is empty again."""
    service.open_session(course_id)
    _check_in(service, course_id, CY, "cy")
    students.register(guild_id=GUILD_ID, user_id=MAL, student_id="S3", username="mallory")
    course = service.courses.get(course_id)
    (claim,) = students.claims(course)
    assert (claim.student_id, claim.user_id, claim.roster_name) == ("S3", MAL, "Cy Young")
    link = students.link(course, "s3", CY, actor="inst (1)")
    assert (link.student_id, link.user_id, link.replaced) == ("S3", CY, (MAL,))
    assert _rows() == [(CY, "S3", True)]
    actions = [(e.action, e.user_id, e.actor) for e in Event.select().where(Event.action.in_(["link", "unlink"]))]
    assert actions == [("unlink", MAL, "inst (1)"), ("link", CY, "inst (1)")]
    assert students.claims(course) == []
    (cy,) = GradebookService(service.settings).student_attendance(GUILD_ID, CY, username="cy")
    assert (cy.student.student_id, cy.totals.present) == ("S3", 1)


@pytest.mark.parametrize("typed", ["S99", "S\x001", "x" * 6000, "\u202eS1", "=cmd|' /C calc'!A0", ""])
def test_a_link_of_an_id_the_course_does_not_know_is_refused(
    students: StudentService, service: AttendanceService, course_id: int, typed: str
) -> None:
    """Only an id of the course's roster (or one claimed by someone of the course) can be linked;
    anything else, hostile or not, is one sentence and writes nothing."""
    events = Event.select().count()
    with pytest.raises(StudentError) as caught:
        students.link(service.courses.get(course_id), typed, CY, actor="inst")
    assert str(caught.value) == messages.link_unknown_student(typed.strip(), "default")
    assert _rows() == [] and Event.select().count() == events


def test_the_account_the_roster_names_drops_a_waiting_claim(
    service: AttendanceService, clock: FakeClock, students: StudentService, course_id: int
) -> None:
    """Mallory claimed S5 before the roster named its username; Eve, named there, registers: Eve is
    confirmed and Mallory's claim is dropped, with an event."""
    students.register(guild_id=GUILD_ID, user_id=MAL, student_id="S5", username="mallory")
    RosterService(service.settings, clock).import_roster(
        course_id, [RosterRow("S5", "Eve Five", "eve")], replace=False, actor="t"
    )
    eve = 900000000000000015
    assert students.register(guild_id=GUILD_ID, user_id=eve, student_id="S5", username="EVE").confirmed
    assert _rows() == [(eve, "S5", True)]
    dropped = Event.select().where(Event.action == "claim-dropped").get()
    assert (dropped.user_id, dropped.student_id, dropped.actor) == (MAL, "S5", str(eve))


@pytest.mark.parametrize(("student_id", "username"), [("S3", "cy"), ("S1", "not_ada")])
def test_registering_again_keeps_a_confirmed_registration_confirmed(
    students: StudentService, service: AttendanceService, course_id: int, student_id: str, username: str
) -> None:
    """An instructor's link stands when its account registers the same id again (say, to add a name),
    even where the roster gives the id another username: the instructor decided."""
    students.link(service.courses.get(course_id), student_id, CY, actor="inst")
    again = students.register(guild_id=GUILD_ID, user_id=CY, student_id=student_id, name="Cy", username=username)
    assert again.confirmed and again.updated
    assert _rows() == [(CY, student_id, True)]
