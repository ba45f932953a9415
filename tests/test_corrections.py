"""Corrections: who a typed student is, marks and removals with their events, the autocomplete
and a student's history. Every test checks the event table is only ever appended to."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from _backends import dropping_trigger, refusing_trigger
from _course import ATTENDANCE_CHANNEL_ID, GUILD_ID
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from attendance_bot import messages, storage
from attendance_bot.attendance import AttendanceService
from attendance_bot.choices import session_choices, student_choice, student_choices
from attendance_bot.corrections import (
    MAX_REASON,
    STATUSES,
    AmbiguousStudent,
    CorrectionError,
    CorrectionService,
    NoRecord,
    NoSessions,
    UnknownStudent,
    clean_reason,
)
from attendance_bot.courses import CourseService
from attendance_bot.errors import StorageError, UnknownCourse, UnknownSession
from attendance_bot.models import Attendance, Event, backend, database
from attendance_bot.records import StudentRef
from attendance_bot.roster import RosterRow, RosterService
from attendance_bot.settings import Settings
from attendance_bot.students import StudentService

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")

T0 = datetime(2024, 9, 2, 9, 0, 0, tzinfo=timezone.utc)  # where the `clock` fixture starts

ADA = 900000000000000011  # registered as S1, on the roster as S1 (discord "ada"), checks in as "ada"
BOB = 900000000000000012  # not on the roster, never registered: checks in as "bob"
EVE = 900000000000000013  # checks in as "s2": a username that is also S2's student id
NEW = 900000000000000019  # an account nobody has seen
OTHER_GUILD = 900000000000000100
HOSTILE = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "x" * 6000,
            "=cmd|' /C calc'!A0",
            "+SUM(1)",
            "@everyone",
            "\u202eevil\u202c",
            "\u200fS1",
            "S1\u200f",
            "ok \U0001f469\u200d\U0001f52c",
            "\x00\x1b[31m\x07",
            "a\r\nb",
            "\u2028",
            "\ud800",
            "<@>",
            "<@!1>",
            "student:",
            "user:",
            "user:abc",
            "student:" + "x" * 200,
        ]
    ),
)
FORBIDDEN_IN_REASONS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# -- fixtures ---------------------------------------------------------------------------------


def _events() -> list[tuple[Any, ...]]:
    return list(Event.select().order_by(Event.id).tuples())


@pytest.fixture(autouse=True)
def append_only(db: Any) -> Iterator[None]:
    """Events are never updated or deleted: the database refuses it (on SQLite for the test's
    connection), and the table at the end starts with the table as it was."""
    for verb in ("UPDATE", "DELETE"):
        for sql in refusing_trigger(
            backend(), f"event_no_{verb.lower()}", "event", verb, "events are append-only", temp=True
        ):
            database.execute_sql(sql)
    before = _events()
    yield
    after = _events()
    assert after[: len(before)] == before
    if backend() == "postgresql":  # not a temporary trigger there: the next test's database is the same
        for verb in ("UPDATE", "DELETE"):
            for sql in dropping_trigger(backend(), f"event_no_{verb.lower()}", "event"):
                database.execute_sql(sql)


@pytest.fixture
def corrections(settings: Settings, db: Any, clock: FakeClock) -> CorrectionService:
    return CorrectionService(settings, clock)


@pytest.fixture
def course_id(service: AttendanceService) -> int:
    return service.course(None).id


@pytest.fixture
def class_day(service: AttendanceService, clock: FakeClock, course_id: int) -> str:
    """A roster (S1 Ada with discord 'ada', S2 Sam, S3 Cy without an account), Ada registered,
    and an open session where Ada, Bob (not on the roster) and Eve (username 's2') checked in."""
    RosterService(service.settings, clock).import_roster(
        course_id,
        [RosterRow("S1", "Ada Lovelace", "ada"), RosterRow("S2", "Sam Smith", None), RosterRow("S3", "Cy Young", None)],
        replace=False,
        actor="test",
    )
    StudentService().register(guild_id=GUILD_ID, user_id=ADA, student_id="S1", name="Ada Lovelace", username="ada")
    session = service.open_session(course_id).session_id
    for user_id, username in ((ADA, "ada"), (BOB, "bob"), (EVE, "s2")):
        check_in(service, user_id, username)
    return session


def check_in(service: AttendanceService, user_id: int, username: str) -> None:
    code = service.current_code().code
    result = service.submit(
        user_id=user_id, username=username, code=code, channel_id=ATTENDANCE_CHANNEL_ID, guild_id=GUILD_ID
    )
    assert result.accepted, result


def record(session_id: str, **match: object) -> Attendance | None:
    query = Attendance.select().where(Attendance.session_id == session_id)
    for name, value in match.items():
        field = getattr(Attendance, name)
        query = query.where(field.is_null() if value is None else field == value)
    rows = list(query)
    assert len(rows) <= 1
    return rows[0] if rows else None


def last_event() -> Event:
    return Event.select().order_by(Event.id.desc()).get()


def second_course(settings: Settings, guild_id: int = GUILD_ID, name: str = "second") -> int:
    return (
        CourseService(settings)
        .create(
            name=name,
            guild_id=guild_id,
            admin_channel_id=900000000000000042,
            attendance_channel_id=900000000000000043,
        )
        .id
    )


def refused(call: Callable[[], object], kind: type[Exception] = CorrectionError) -> str:
    """The one sentence of a refusal, after which nothing was written."""
    events, records = _events(), list(Attendance.select().order_by(Attendance.id).tuples())
    with pytest.raises(kind) as caught:
        call()
    assert _events() == events and list(Attendance.select().order_by(Attendance.id).tuples()) == records
    text = str(caught.value)
    assert text and "\n" not in text
    return text


# -- who a student is -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["student:S1", "S1", "s1", " S1 ", str(ADA), f"<@{ADA}>", f"<@!{ADA}>", f"user:{ADA}", "ada", "@ada", "ADA",
     "ada lovelace", "  Ada   Lovelace "],
)  # fmt: skip
def test_every_accepted_form_finds_the_same_student(
    corrections: CorrectionService, course_id: int, class_day: str, typed: str
) -> None:
    """Autocomplete value, student id (any case), account id, mention, username or full name: one student."""
    who = corrections.resolve_student(course_id, GUILD_ID, typed)
    assert who == StudentRef("s1", ADA, "S1", "Ada Lovelace", "ada", on_roster=True)


@pytest.mark.parametrize("typed", [f"user:{BOB}", str(BOB), f"<@{BOB}>", "bob", "@Bob"])
def test_an_account_not_on_the_roster_is_found_by_account_and_username(
    corrections: CorrectionService, course_id: int, class_day: str, typed: str
) -> None:
    """Someone who checked in without being on the roster is their account."""
    assert corrections.resolve_student(course_id, GUILD_ID, typed) == StudentRef(None, BOB, None, None, "bob")


@pytest.mark.parametrize("typed", ["student:S3", "S3", "cy young"])
def test_a_roster_student_without_an_account_has_no_user_id(
    corrections: CorrectionService, course_id: int, class_day: str, typed: str
) -> None:
    """A roster entry nobody registered or checked in as: the student id alone."""
    assert corrections.resolve_student(course_id, GUILD_ID, typed) == StudentRef(
        "s3", None, "S3", "Cy Young", None, on_roster=True
    )


@pytest.mark.parametrize("typed", [str(NEW), f"<@{NEW}>", f"<@!{NEW}>", f"user:{NEW}"])
def test_an_account_nobody_has_seen_is_itself(
    corrections: CorrectionService, course_id: int, class_day: str, typed: str
) -> None:
    """A pasted id or mention of an account that never checked in still names it for a mark (an
    instructor may mark a student who never checked in), never for a history or a removal."""
    assert corrections.resolve_student(course_id, GUILD_ID, typed, strangers=True) == StudentRef(
        None, NEW, None, None, None
    )
    text = refused(lambda: corrections.resolve_student(course_id, GUILD_ID, typed), UnknownStudent)
    assert text == messages.student_unknown(typed, "default")


def test_a_student_of_another_course_of_the_server_is_nobody_here(
    service: AttendanceService, corrections: CorrectionService, course_id: int, class_day: str, clock: FakeClock
) -> None:
    """Lee is on the roster of `lab` (registered, confirmed) and of no course of default's: in
    default, by student id, mention or account id, Lee gets the same "no such student" sentence as an
    unknown id, and so does Lee's history; in lab Lee is found."""
    lab = second_course(service.settings, GUILD_ID, "lab")
    RosterService(service.settings, clock).import_roster(
        lab, [RosterRow("L1", "Lee Lab", "lee")], replace=False, actor="t"
    )
    StudentService().register(guild_id=GUILD_ID, user_id=NEW, student_id="L1", username="lee")
    for typed in ("L1", f"<@{NEW}>", str(NEW), "@lee", "Lee Lab"):
        text = refused(lambda typed=typed: corrections.resolve_student(course_id, GUILD_ID, typed), UnknownStudent)
        assert text == messages.student_unknown(typed, "default")
        text = refused(lambda typed=typed: corrections.history(GUILD_ID, typed, course_id), UnknownStudent)
        assert text == messages.student_unknown(typed, "default")
    assert refused(lambda: corrections.history(GUILD_ID, "L9", course_id)) == messages.student_unknown("L9", "default")
    assert corrections.resolve_student(lab, GUILD_ID, "l1") == StudentRef("l1", NEW, "L1", "Lee Lab", "lee", True)
    assert [e.action for e in corrections.history(GUILD_ID, f"<@{NEW}>", lab)] == ["register"]


@pytest.mark.parametrize(
    "typed", ["ZZZ", "@nobody", "@", "@ ", "", "   ", "x" * 6000, "=cmd|' /C calc'!A0", "student:S99", "12"]
)
def test_nobody_is_one_sentence(corrections: CorrectionService, course_id: int, class_day: str, typed: str) -> None:
    """What fits nobody is refused in one sentence that shows what was typed, shortened."""
    text = refused(lambda: corrections.resolve_student(course_id, GUILD_ID, typed), UnknownStudent)
    assert len(text) < 300
    assert "default" in text or "Say which student" in text


def test_a_student_id_comes_before_a_username(corrections: CorrectionService, course_id: int, class_day: str) -> None:
    """Eve's username is Sam's student id: typed bare it is Sam; `@s2`, a mention or the list's value is Eve."""
    assert corrections.resolve_student(course_id, GUILD_ID, "s2").name == "Sam Smith"
    for typed in ("@s2", f"<@{EVE}>", f"user:{EVE}"):
        assert corrections.resolve_student(course_id, GUILD_ID, typed) == StudentRef(None, EVE, None, None, "s2")


def test_a_name_two_students_share_is_one_sentence_naming_both(
    service: AttendanceService, corrections: CorrectionService, course_id: int, class_day: str, clock: FakeClock
) -> None:
    """Two Sam Smiths: the sentence names both; their student ids tell them apart."""
    RosterService(service.settings, clock).import_roster(
        course_id, [RosterRow("S5", "Sam  Smith", None)], replace=False, actor="test"
    )
    with pytest.raises(AmbiguousStudent) as caught:
        corrections.resolve_student(course_id, GUILD_ID, "sam smith")
    text = str(caught.value)
    assert "\n" not in text and "S2 · Sam Smith" in text and "S5 · Sam Smith" in text
    assert [r.student_key for r in caught.value.choices] == ["s2", "s5"]
    assert corrections.resolve_student(course_id, GUILD_ID, "S5").student_key == "s5"


def test_a_username_used_by_two_accounts_is_ambiguous(
    service: AttendanceService, corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """Two accounts seen with one username (a rename): say so, never guess."""
    check_in(service, NEW, "bob")
    with pytest.raises(AmbiguousStudent):
        corrections.resolve_student(course_id, GUILD_ID, "bob")


def test_a_course_of_another_server_is_unknown(corrections: CorrectionService, class_day: str) -> None:
    """Nothing crosses servers, whatever ids are typed."""
    other = second_course(corrections.settings, OTHER_GUILD, "elsewhere")
    refused(lambda: corrections.resolve_student(other, GUILD_ID, "S1"), UnknownCourse)


# -- the autocomplete -------------------------------------------------------------------------


def test_choices_are_the_roster_and_everyone_who_checked_in(
    corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """Roster students first, then accounts not on it; each value finds its student again."""
    choices = student_choices(corrections, course_id, "")
    assert [c.label for c in choices] == [
        "S1 · Ada Lovelace · @ada",
        "S2 · Sam Smith",
        "S3 · Cy Young",
        "@bob (not on the roster)",
        "@s2 (not on the roster)",
    ]
    for choice in choices:
        assert student_choice(corrections.resolve_student(course_id, GUILD_ID, choice.value)) == choice


@pytest.mark.parametrize(
    ("typed", "labels"),
    [
        ("ADA", ["S1 · Ada Lovelace · @ada"]),
        ("@bo", ["@bob (not on the roster)"]),
        ("smith", ["S2 · Sam Smith"]),
        ("s2", ["S2 · Sam Smith", "@s2 (not on the roster)"]),
        (str(BOB)[-6:], ["@bob (not on the roster)"]),
        ("nobody", []),
        ("x" * 6000, []),
    ],
)
def test_choices_are_filtered_by_what_is_typed(
    corrections: CorrectionService, course_id: int, class_day: str, typed: str, labels: list[str]
) -> None:
    """Case-insensitive, in the student id, the name, the username or the account id."""
    assert [c.label for c in student_choices(corrections, course_id, typed)] == labels


def test_choices_stop_at_the_limit(corrections: CorrectionService, course_id: int, class_day: str) -> None:
    """Discord takes at most 25 choices; the limit is the caller's."""
    assert len(student_choices(corrections, course_id, "", limit=2)) == 2


def test_labels_are_clean_and_short(
    service: AttendanceService, corrections: CorrectionService, course_id: int, clock: FakeClock
) -> None:
    """Control and bidi characters never reach a label; label and value fit Discord's 100 characters."""
    RosterService(service.settings, clock).import_roster(
        course_id, [RosterRow("A" * 32, "N" * 100, "d" * 32)], replace=False, actor="test"
    )
    service.open_session(course_id)
    check_in(service, NEW, "\u202eevil\x1b[31m\u200b")
    for choice in student_choices(corrections, course_id, ""):
        assert len(choice.label) <= 100 and len(choice.value) <= 100
        assert not any(unicodedata.category(ch)[0] == "C" for ch in choice.label)
    labels = [c.label for c in student_choices(corrections, course_id, "evil")]
    assert labels == ["@evil[31m (not on the roster)"]


# -- sessions ---------------------------------------------------------------------------------


def _three_sessions(service: AttendanceService, clock: FakeClock, course_id: int) -> list[str]:
    ids = []
    for _ in range(3):
        ids.append(service.open_session(course_id).session_id)
        clock.advance(3600)
        service.close_session(course_id=course_id)
        clock.advance(86400)
    return ids


def test_session_choices_are_newest_first_in_the_time_zone(
    settings_factory: Callable[..., Settings], service: AttendanceService, clock: FakeClock, course_id: int
) -> None:
    """Each label says when the session opened (TIMEZONE) and whether it is open; the value is its id."""
    ids = _three_sessions(service, clock, course_id)
    opened = service.open_session(course_id).session_id
    paris = CorrectionService(settings_factory(TIMEZONE="Europe/Paris"), clock)
    choices = session_choices(paris, course_id, "")
    assert [c.value for c in choices] == [opened, *reversed(ids)]
    assert choices[-1].label == f"{ids[0]} · Mon 02 Sep 2024 11:00 · closed"
    assert choices[0].label.endswith(" · open")
    assert [c.value for c in session_choices(paris, course_id, "03 SEP")] == [ids[1]]
    assert session_choices(paris, course_id, "", limit=1) == choices[:1]
    assert session_choices(paris, course_id, "x" * 6000) == []


def test_the_default_session_is_the_open_one_else_the_latest(
    service: AttendanceService, corrections: CorrectionService, clock: FakeClock, course_id: int
) -> None:
    """A correction names no session: the open one, else the latest."""
    ids = _three_sessions(service, clock, course_id)
    assert corrections.default_session(course_id) == ids[-1]
    opened = service.open_session(course_id).session_id
    assert corrections.default_session(course_id) == opened


def test_no_session_is_one_sentence(corrections: CorrectionService, course_id: int) -> None:
    """A course with no sessions has nothing to correct."""
    text = refused(lambda: corrections.default_session(course_id), NoSessions)
    assert text == messages.no_sessions_to_correct("default")


# -- marks ------------------------------------------------------------------------------------


def test_a_mark_of_a_check_in_changes_its_status_and_keeps_its_time(
    corrections: CorrectionService, course_id: int, class_day: str, clock: FakeClock
) -> None:
    """Present → late: the record is now manual with the student id, its check-in time kept; one event."""
    before = record(class_day, user_id=ADA)
    clock.advance(600)
    done = corrections.mark(course_id, "S1", "Late", reason="came at 9:20", actor="inst")
    assert (done.old_status, done.new_status, done.changed, done.session_id) == ("present", "late", True, class_day)
    after = record(class_day, user_id=ADA)
    assert (after.status, after.source, after.student_key) == ("late", "manual", "s1")
    assert (after.id, after.submitted_at, after.username) == (before.id, before.submitted_at, "ada")
    event = last_event()
    assert (event.action, event.old_status, event.new_status, event.reason, event.source, event.actor) == (
        "mark", "present", "late", "came at 9:20", "manual", "inst"
    )  # fmt: skip
    assert (event.course_id, event.session_id, event.guild_id, event.user_id, event.student_id) == (
        course_id, class_day, GUILD_ID, ADA, "S1"
    )  # fmt: skip
    assert event.at == clock.now


def test_a_mark_of_a_roster_student_without_an_account_has_no_user_id(
    corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """Cy has no linked account: the record has the student id, user_id NULL, no username."""
    done = corrections.mark(course_id, "S3", "excused", class_day, actor="inst")
    assert (done.old_status, done.new_status) == (None, "excused")
    row = record(class_day, student_key="s3")
    assert (row.user_id, row.username, row.status, row.source) == (None, "", "excused", "manual")
    event = last_event()
    assert (event.user_id, event.student_id, event.old_status, event.new_status) == (None, "S3", None, "excused")


def test_a_roster_students_username_is_kept_on_a_new_record(
    service: AttendanceService, corrections: CorrectionService, course_id: int, class_day: str, clock: FakeClock
) -> None:
    """No account known, the roster's discord column is the record's username."""
    RosterService(service.settings, clock).import_roster(
        course_id, [RosterRow("S4", "Di", "di.x")], replace=False, actor="test"
    )
    corrections.mark(course_id, "S4", "absent", actor="inst")
    row = record(class_day, student_key="s4")
    assert (row.user_id, row.username) == (None, "di.x")


def test_an_account_never_seen_gets_a_record(corrections: CorrectionService, course_id: int, class_day: str) -> None:
    """A mention of a new account: a record of that account, no student id."""
    corrections.mark(course_id, f"<@{NEW}>", "present", actor="inst")
    row = record(class_day, user_id=NEW)
    assert (row.student_key, row.status, row.source, row.username) == (None, "present", "manual", "")


def test_a_closed_session_is_corrected(
    service: AttendanceService, corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """That is when corrections happen: the session stays closed."""
    service.close_session(course_id=course_id)
    done = corrections.mark(course_id, "bob", "excused", class_day, actor="inst")
    assert done.session_closed and done.old_status == "present"
    assert record(class_day, user_id=BOB).status == "excused"
    assert service.get_session(class_day).closed_at is not None


def test_another_courses_session_is_as_unknown_as_none(
    service: AttendanceService, corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """A session id of another course (of this server or any) is refused like a made-up one."""
    other = service.open_session(second_course(service.settings)).session_id
    text = refused(lambda: corrections.mark(course_id, "S1", "absent", other, actor="inst"), UnknownSession)
    assert text == messages.unknown_session(other, [class_day])
    refused(lambda: corrections.mark(course_id, "S1", "absent", "nope", actor="inst"), UnknownSession)


def test_marking_the_manual_status_again_changes_nothing(
    corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """A second identical mark: no write, no event, and the reply says so."""
    corrections.mark(course_id, "S1", "excused", actor="inst")
    events = _events()
    again = corrections.mark(course_id, "s1", "EXCUSED", reason="again", actor="other")
    assert not again.changed and (again.old_status, again.new_status) == ("excused", "excused")
    assert _events() == events
    assert messages.marked_reply(again) == (
        f"S1 (Ada Lovelace) is already marked excused by an instructor in session {class_day}: nothing changed."
    )


def test_marking_a_check_ins_own_status_makes_it_stand(
    corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """Present by code, marked present: now manual (a later check-in will not change it), with its event."""
    done = corrections.mark(course_id, "bob", "present", actor="inst")
    assert done.changed and (done.old_status, done.new_status) == ("present", "present")
    assert record(class_day, user_id=BOB).source == "manual"
    assert last_event().action == "mark"


def test_a_failing_event_leaves_no_mark(corrections: CorrectionService, course_id: int, class_day: str) -> None:
    """The record and its event are one transaction: no event, no change."""
    for sql in refusing_trigger(backend(), "event_fails", "event", "INSERT", "disk on fire", temp=True):
        database.execute_sql(sql)
    text = refused(lambda: corrections.mark(course_id, "S1", "absent", actor="inst"), StorageError)
    assert text == messages.database_failure("correcting the record")
    refused(lambda: corrections.mark(course_id, "S3", "absent", actor="inst"), StorageError)
    refused(lambda: corrections.remove(course_id, "bob", class_day, actor="inst"), StorageError)
    for sql in dropping_trigger(backend(), "event_fails", "event"):
        database.execute_sql(sql)


@pytest.mark.parametrize("typed", ["here", "", "Present!", "p", "=cmd|' /C calc'!A0", "x" * 6000, "absenté"])
def test_a_status_that_is_not_one_is_one_sentence_listing_them(
    corrections: CorrectionService, course_id: int, class_day: str, typed: str
) -> None:
    """present, late, excused, absent; anything else names them."""
    text = refused(lambda: corrections.mark(course_id, "S1", typed, actor="inst"))
    assert text == messages.status_invalid(typed, STATUSES)
    assert "present, late, excused, absent" in text


def test_a_reason_over_200_characters_is_refused(
    corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """Never cut short silently: the instructor shortens it."""
    text = refused(lambda: corrections.mark(course_id, "S1", "absent", reason="r" * 201, actor="inst"))
    assert text == messages.reason_too_long(MAX_REASON, 201)
    corrections.mark(course_id, "S1", "absent", reason=" " + "r" * 200 + "\n", actor="inst")
    assert last_event().reason == "r" * 200


def test_a_mark_folds_a_students_two_records_into_one(
    corrections: CorrectionService, course_id: int, class_day: str, clock: FakeClock
) -> None:
    """Cy marked before her account was linked, then her check-in: the next mark leaves one record."""
    corrections.mark(course_id, "S3", "excused", actor="inst")
    cy = 900000000000000014
    StudentService().link(corrections.courses.get(course_id), "s3", cy, actor="inst")
    stamp = storage.stored_time(clock.now)
    values = {
        "user_id": cy,
        "username": "cy",
        "display_name": None,
        "timestamp": "2024-09-02 09:00:00",
        "date_id": "2024-09-02",
        "session_id": class_day,
        "submitted_at": stamp,
        "status": "present",
        "source": "code",
        "in_voice": None,
    }
    row = storage.AttendanceRow(**{name: values[name] for name in storage.AttendanceRow._fields})
    storage.upsert_attendance([row])  # the hot path's own write: a check-in of the account
    done = corrections.mark(course_id, "S3", "late", actor="inst")
    assert (done.old_status, done.new_status) == ("excused", "late")
    rows = list(Attendance.select().where(Attendance.session_id == class_day, Attendance.student_key == "s3"))
    assert [(r.user_id, r.status, r.source, r.username) for r in rows] == [(cy, "late", "manual", "cy")]
    assert Attendance.select().where(Attendance.user_id == cy).count() == 1


# -- removals ---------------------------------------------------------------------------------


def test_a_removal_deletes_the_record_with_its_event(
    corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """The record is gone; the event says what it was (old → none) and why."""
    done = corrections.remove(course_id, f"<@{BOB}>", class_day, reason="left at once", actor="inst")
    assert (done.old_status, done.new_status, done.changed) == ("present", None, True)
    assert record(class_day, user_id=BOB) is None
    event = last_event()
    assert (event.action, event.old_status, event.new_status, event.reason, event.user_id) == (
        "remove", "present", None, "left at once", BOB
    )  # fmt: skip
    assert messages.removed_reply(done).startswith(f"✅ @\u200bbob: the record in session {class_day} (present)")


def test_removing_no_record_is_one_sentence(corrections: CorrectionService, course_id: int, class_day: str) -> None:
    """Cy has no record: nothing to remove, no event."""
    text = refused(lambda: corrections.remove(course_id, "S3", class_day, actor="inst"), NoRecord)
    assert text == messages.no_record_to_remove("S3 (Cy Young)", class_day)


def test_a_removed_mark_can_be_marked_again(corrections: CorrectionService, course_id: int, class_day: str) -> None:
    """Mark, remove, mark: three events, one record."""
    corrections.mark(course_id, "S3", "absent", actor="inst")
    corrections.remove(course_id, "S3", class_day, actor="inst")
    corrections.mark(course_id, "S3", "absent", actor="inst")
    actions = [e.action for e in Event.select().where(Event.student_id == "S3").order_by(Event.id)]
    assert actions == ["mark", "remove", "mark"]
    assert record(class_day, student_key="s3").status == "absent"


# -- history ----------------------------------------------------------------------------------


def test_history_is_oldest_first_in_the_server_or_the_course(
    service: AttendanceService, corrections: CorrectionService, course_id: int, class_day: str, clock: FakeClock
) -> None:
    """Registration and the events of the server's courses (or one course), never another server's or student's."""
    second = second_course(service.settings)
    elsewhere = second_course(service.settings, OTHER_GUILD, "elsewhere")
    second_session = service.open_session(second).session_id
    service.open_session(elsewhere)
    StudentService().register(guild_id=OTHER_GUILD, user_id=ADA, student_id="S1")
    clock.set(datetime.now(timezone.utc) + timedelta(minutes=1))  # registrations take the wall clock
    corrections.mark(second, f"<@{ADA}>", "excused", reason="sick", actor="inst")
    clock.advance(60)
    corrections.mark(course_id, "S1", "late", actor="inst")
    clock.advance(60)
    corrections.remove(course_id, "S1", class_day, actor="inst")
    corrections.mark(course_id, "bob", "absent", actor="inst")
    corrections.mark(elsewhere, f"<@{ADA}>", "absent", actor="inst")

    events = corrections.history(GUILD_ID, "S1")
    mine = [(e.action, e.course_name, e.session_id, e.old_status, e.new_status) for e in events]
    assert [m for m in mine if m[0] != "check-in"] == [
        ("register", None, None, None, None),
        ("mark", "second", second_session, None, "excused"),
        ("mark", "default", class_day, "present", "late"),
        ("remove", "default", class_day, "late", None),
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)
    in_course = corrections.history(GUILD_ID, "S1", course_id)
    assert [e.action for e in in_course if e.action != "check-in"] == ["register", "mark", "remove"]
    assert corrections.history(OTHER_GUILD, f"<@{ADA}>", elsewhere)[-1].new_status == "absent"


def test_history_lines_are_in_the_time_zone(
    settings_factory: Callable[..., Settings], corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """One line per event: when (TIMEZONE), course, session, action, old → new, reason, actor, source."""
    corrections.mark(course_id, "S3", "excused", reason="=cmd|' /C calc'!A0\u202e", actor="inst")
    event = corrections.history(GUILD_ID, "S3")[-1]
    line = messages.history_line(event, settings_factory(TIMEZONE="Europe/Paris").timezone)
    assert line == (
        f"{(T0 + timedelta(hours=2)):%Y-%m-%d %H:%M:%S}  default  {class_day}  mark  - → excused  "
        "reason: \"=cmd|' /C calc'!A0\"  by inst (manual)"
    )


def test_a_student_without_events_has_an_empty_history(
    corrections: CorrectionService, course_id: int, class_day: str
) -> None:
    """Sam is on the roster and did nothing yet."""
    assert corrections.history(GUILD_ID, "S2") == []


# -- hostile input ----------------------------------------------------------------------------

NO_FIXTURE_RESET = hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@given(typed=HOSTILE)
@hsettings(max_examples=500, deadline=None)
def test_any_reason_is_cleaned_or_refused(typed: str) -> None:
    """Stored reasons are one line of at most 200 characters with no control or bidi characters."""
    try:
        value = clean_reason(typed)
    except CorrectionError as exc:
        assert str(exc) == messages.reason_too_long(MAX_REASON, len(" ".join(typed.split())))
        return
    if value is None:
        return
    assert 0 < len(value) <= MAX_REASON and value == value.strip()
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") or ch in FORBIDDEN_IN_REASONS for ch in value)
    assert clean_reason(value) == value


@given(reason=HOSTILE)
@NO_FIXTURE_RESET
def test_hostile_reasons_are_stored_clean_or_refused_whole(
    corrections: CorrectionService, course_id: int, class_day: str, reason: str
) -> None:
    """A mark with any reason: refused with nothing written, or its event holds the cleaned reason."""
    status = "excused" if record(class_day, user_id=ADA).status != "excused" else "late"
    try:
        clean = clean_reason(reason)
    except CorrectionError:
        refused(lambda: corrections.mark(course_id, "S1", status, reason=reason, actor="inst"))
        return
    corrections.mark(course_id, "S1", status, reason=reason, actor="inst")
    assert (last_event().new_status, last_event().reason) == (status, clean)


@given(typed=HOSTILE)
@NO_FIXTURE_RESET
def test_hostile_student_inputs_find_one_student_or_say_so(
    corrections: CorrectionService, course_id: int, class_day: str, typed: str
) -> None:
    """Any typed student: a student of the course, or one short sentence; the choices stay clean."""
    try:
        who = corrections.resolve_student(course_id, GUILD_ID, typed)
    except (UnknownStudent, AmbiguousStudent) as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 600
    else:
        assert who.student_key is not None or who.user_id is not None
    for choice in student_choices(corrections, course_id, typed):
        assert len(choice.label) <= 100 and len(choice.value) <= 100
        assert not any(unicodedata.category(ch)[0] == "C" for ch in choice.label)


@given(typed=HOSTILE)
@NO_FIXTURE_RESET
def test_hostile_session_ids_are_unknown(
    corrections: CorrectionService, course_id: int, class_day: str, typed: str
) -> None:
    """Any typed session id that is not the course's: one sentence, nothing written."""
    if typed.strip() == class_day:
        return
    text = refused(lambda: corrections.mark(course_id, "S1", "absent", typed, actor="inst"), UnknownSession)
    assert len(text) < 300
    assert session_choices(corrections, course_id, typed) in ([], session_choices(corrections, course_id, ""))
