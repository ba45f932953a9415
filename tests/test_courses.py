"""Courses in the service: the rules for creating, editing, archiving and finding them, and sessions of
several courses side by side (own codes, own channels, a shared channel, nothing across servers)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _course import ADMIN_CHANNEL_ID, ATTENDANCE_CHANNEL_ID, GUILD_ID

from attendance_bot import codes, messages, storage
from attendance_bot.attendance import AttendanceService, free_offset_ms
from attendance_bot.checkin import FIRST_WAIT_SECONDS
from attendance_bot.courses import CourseService
from attendance_bot.errors import CourseError, CourseNeeded, SessionAlreadyOpen, UnknownCourse, UnknownSession
from attendance_bot.models import Session, close_db, init_db
from attendance_bot.records import FREE_WRONG_ATTEMPTS, CourseInfo, Outcome, Submission
from attendance_bot.settings import Settings

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")

OTHER_GUILD = 900000000000000100
ADMIN_B, ATTENDANCE_B = 900000000000000012, 900000000000000013
ADMIN_X, ATTENDANCE_X = 900000000000000102, 900000000000000103


@pytest.fixture
def courses(service: AttendanceService) -> CourseService:
    return service.courses


def add(
    courses: CourseService, name: str, admin: int, attendance: int, guild: int = GUILD_ID, **more: object
) -> CourseInfo:
    return courses.create(name=name, guild_id=guild, admin_channel_id=admin, attendance_channel_id=attendance, **more)  # type: ignore[arg-type]


def here(service: AttendanceService, code: str, channel: int, user_id: int = 1, guild: int = GUILD_ID):  # type: ignore[no-untyped-def]
    return service.submit_many([Submission(user_id, f"s{user_id}", code, None, channel, guild)])[0]


# -- the rules of a course ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   ", "x" * 51, "bell\x07"])
def test_a_bad_name_is_refused(courses: CourseService, name: str) -> None:
    """Names are 1-50 characters of text: anything else is refused with the rule, and nothing is created."""
    with pytest.raises(CourseError) as caught:
        add(courses, name, ADMIN_B, ATTENDANCE_B)
    assert str(caught.value) == messages.course_name_invalid(name, 50)
    assert [c.name for c in courses.courses()] == ["default"]


@pytest.mark.parametrize(
    "name", ["\u202eevil", "a\u2066b\u2069", "zero\u200bwidth", "c1\x85", "csi\x9b31m", "esc\x1b[31m", "line\u2028sep"]
)
def test_control_and_text_reordering_characters_are_refused_in_a_name(courses: CourseService, name: str) -> None:
    """C0 and C1 controls, bidi overrides and isolates, zero-width and line-separator characters: refused
    on create and on edit with the rule; nothing is created or changed."""
    with pytest.raises(CourseError) as caught:
        add(courses, name, ADMIN_B, ATTENDANCE_B)
    assert str(caught.value) == messages.course_name_invalid(name, 50)
    course = courses.find("default")
    with pytest.raises(CourseError) as edited:
        courses.edit(course.id, name=name)
    assert str(edited.value) == messages.course_name_invalid(name, 50)
    assert [c.name for c in courses.courses()] == ["default"]


@pytest.mark.parametrize("typed", ["\x00", "default\x00", "\x00default", "de\x00fault"])
def test_a_nul_in_a_course_name_is_an_unknown_course(courses: CourseService, typed: str) -> None:
    """No course name holds a NUL (PostgreSQL refuses one in a query): an unknown course, on both backends."""
    with pytest.raises(UnknownCourse) as caught:
        courses.find(typed, GUILD_ID)
    assert str(caught.value) == messages.unknown_course(typed, ["default"])
    with pytest.raises(UnknownCourse):
        courses.for_admin_channel(GUILD_ID, ADMIN_CHANNEL_ID, typed)
    with pytest.raises(UnknownCourse):
        courses.for_shell(typed)


def test_names_are_unique_per_server_whatever_their_case(courses: CourseService) -> None:
    """'DEFAULT ' clashes with 'default' in the same server; another server may use it."""
    with pytest.raises(CourseError) as caught:
        add(courses, " DEFAULT ", ADMIN_B, ATTENDANCE_B)
    assert str(caught.value) == messages.course_name_taken("default")  # as stored, not as typed
    other = add(courses, "DEFAULT", ADMIN_X, ATTENDANCE_X, guild=OTHER_GUILD)
    assert other.name == "DEFAULT"
    assert [c.name for c in courses.courses(GUILD_ID)] == ["default"]


def test_everyone_is_no_instructor_role(courses: CourseService) -> None:
    """The server's own id is @everyone: refused as the instructor role."""
    with pytest.raises(CourseError) as caught:
        add(courses, "b", ADMIN_B, ATTENDANCE_B, instructor_role_id=GUILD_ID)
    assert str(caught.value) == messages.instructor_role_is_everyone()


@pytest.mark.parametrize(
    ("key", "value"), [("interval", 4), ("interval", 121), ("code_length", 9), ("grace_seconds", -1)]
)
def test_code_settings_out_of_range_are_refused(courses: CourseService, key: str, value: int) -> None:
    """Interval 5-120 s, length 4-8, grace 0-600 s, as in .env."""
    course = courses.find("default")
    with pytest.raises(CourseError):
        courses.edit(course.id, **{key: value})
    assert courses.get(course.id) == course


def test_an_edit_applies_to_the_next_session_not_the_open_one(
    service: AttendanceService, courses: CourseService
) -> None:
    """The open session keeps the interval and length it opened with; the next one gets the new ones."""
    course = courses.find("default")
    first = service.open_session(course.id)
    courses.edit(course.id, interval=30, code_length=6)
    assert service.get_session(first.session_id).interval == 15
    assert len(service.current_code(course_id=course.id).code) == 4
    service.close_session(course_id=course.id)
    second = service.open_session(course.id)
    assert (second.interval, second.code_length) == (30, 6)


def test_an_archived_course_takes_no_session_but_keeps_its_records(
    service: AttendanceService, courses: CourseService
) -> None:
    """Archive refuses while a session is open; afterwards open is refused and the export still works."""
    course = courses.find("default")
    session = service.open_session(course.id)
    assert here(service, service.current_code(course_id=course.id).code, ATTENDANCE_CHANNEL_ID).accepted
    with pytest.raises(CourseError) as caught:
        courses.archive(course.id)
    assert str(caught.value) == messages.close_before_archiving("default", session.session_id)
    service.close_session(course_id=course.id)
    courses.archive(course.id)
    with pytest.raises(CourseError) as refused:
        service.open_session(course.id)
    assert str(refused.value) == messages.course_archived_refusal("default")
    assert len(service.export_rows(course_id=course.id)) == 1


def test_the_admin_channel_decides_the_course(courses: CourseService) -> None:
    """The admin channel's course; a named course only in its own admin channel; several sharing one
    admin channel need the name; a channel that is no admin channel says where to go."""
    b = add(courses, "b", ADMIN_B, ATTENDANCE_B)
    assert courses.for_admin_channel(GUILD_ID, ADMIN_B, None) == b
    assert courses.for_admin_channel(GUILD_ID, ADMIN_B, " B ") == b
    with pytest.raises(CourseError) as elsewhere:
        courses.for_admin_channel(GUILD_ID, ADMIN_B, "default")
    assert str(elsewhere.value) == messages.not_this_courses_admin_channel("default", ADMIN_CHANNEL_ID)
    c = add(courses, "c", ADMIN_B, ATTENDANCE_B + 10)
    with pytest.raises(CourseNeeded) as several:
        courses.for_admin_channel(GUILD_ID, ADMIN_B, None)
    assert several.value.names == ["b", "c"]
    assert courses.for_admin_channel(GUILD_ID, ADMIN_B, "c") == c
    with pytest.raises(CourseError) as nowhere:
        courses.for_admin_channel(GUILD_ID, ATTENDANCE_B, None)
    assert "b' in <#" in str(nowhere.value)


def test_another_servers_course_is_unknown_here(courses: CourseService) -> None:
    """Naming a course of another server finds nothing, whatever is typed."""
    add(courses, "x", ADMIN_X, ATTENDANCE_X, guild=OTHER_GUILD)
    with pytest.raises(UnknownCourse) as caught:
        courses.for_admin_channel(GUILD_ID, ADMIN_X, "x")
    assert str(caught.value) == messages.unknown_course("x", ["default"])


def test_the_env_course_is_created_then_followed(settings_factory: Callable[..., Settings], tmp_path: Path) -> None:
    """ADMIN_CHANNEL_ID/ATTENDANCE_CHANNEL_ID define COURSE_NAME: created at the first start, its channels
    updated at the next; a course a migration made before the server was known is adopted."""
    settings = settings_factory(
        ADMIN_CHANNEL_ID=str(ADMIN_B), ATTENDANCE_CHANNEL_ID=str(ATTENDANCE_B), COURSE_NAME="Math"
    )
    init_db(settings.database_target)
    try:
        courses = CourseService(settings)
        made = courses.sync_env_course(None)
        assert made is not None and (made.name, made.guild_id, made.admin_channel_id) == ("Math", None, ADMIN_B)
        moved = CourseService(
            settings_factory(ADMIN_CHANNEL_ID=str(ADMIN_X), ATTENDANCE_CHANNEL_ID=str(ATTENDANCE_B), COURSE_NAME="math")
        )
        again = moved.sync_env_course(GUILD_ID)
        assert again is not None
        assert (again.id, again.guild_id, again.admin_channel_id) == (made.id, GUILD_ID, ADMIN_X)
        assert CourseService(settings_factory()).sync_env_course(GUILD_ID) is None
    finally:
        close_db()


def test_the_env_course_sync_logs_only_what_changed(
    settings_factory: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """At each start the `.env` course follows `.env`: the same `.env` changes and logs nothing; a moved
    channel logs that one field."""
    settings = settings_factory(ADMIN_CHANNEL_ID=str(ADMIN_B), ATTENDANCE_CHANNEL_ID=str(ATTENDANCE_B))
    init_db(settings.database_target)
    try:
        made = CourseService(settings).sync_env_course(GUILD_ID)
        assert made is not None
        caplog.set_level(logging.INFO, logger="attendance_bot.courses")
        caplog.clear()
        assert CourseService(settings).sync_env_course(GUILD_ID) == made
        assert caplog.messages == []
        moved = settings_factory(ADMIN_CHANNEL_ID=str(ADMIN_X), ATTENDANCE_CHANNEL_ID=str(ATTENDANCE_B))
        again = CourseService(moved).sync_env_course(GUILD_ID)
        assert again is not None and again.admin_channel_id == ADMIN_X
        assert caplog.messages == [f"Changed course {made.id}: admin_channel_id"]
    finally:
        close_db()


# -- sessions side by side ----------------------------------------------------------------------


def test_two_courses_are_open_at_once_each_with_its_own_code(
    service: AttendanceService, courses: CourseService
) -> None:
    """Each course's code checks in to its own session, in its own channel; a second open of one is refused."""
    default, b = courses.find("default"), add(courses, "b", ADMIN_B, ATTENDANCE_B)
    first, second = service.open_session(default.id), service.open_session(b.id)
    with pytest.raises(SessionAlreadyOpen):
        service.open_session(b.id)
    code_a = service.current_code(course_id=default.id).code
    code_b = service.current_code(course_id=b.id).code
    assert here(service, code_a, ATTENDANCE_CHANNEL_ID).session_id == first.session_id
    assert here(service, code_b, ATTENDANCE_B).session_id == second.session_id
    assert [r.session_id for r in service.export_rows(course_id=b.id)] == [second.session_id]
    with pytest.raises(UnknownSession):
        service.export_rows(first.session_id, course_id=b.id)


def test_a_code_typed_in_another_courses_channel_is_wrong(service: AttendanceService, courses: CourseService) -> None:
    """Course A's code in course B's channel is wrong there, and records nothing."""
    default, b = courses.find("default"), add(courses, "b", ADMIN_B, ATTENDANCE_B)
    service.open_session(default.id)
    service.open_session(b.id)
    code_a = service.current_code(course_id=default.id).code
    if code_a == service.current_code(course_id=b.id).code:  # 1 in 27**4
        pytest.skip("the two courses show the same code this window")
    assert here(service, code_a, ATTENDANCE_B).outcome is Outcome.WRONG
    assert service.export_rows(course_id=b.id) == []


def test_sessions_sharing_a_channel_are_told_apart_by_the_code(
    service: AttendanceService, courses: CourseService
) -> None:
    """Two sections typing in one channel: each code lands in its own section's session."""
    default = courses.find("default")
    section = add(courses, "section 2", ADMIN_B, ATTENDANCE_CHANNEL_ID)
    one, two = service.open_session(default.id), service.open_session(section.id)
    results = service.submit_many(
        [
            Submission(
                1, "ann", service.current_code(course_id=default.id).code, None, ATTENDANCE_CHANNEL_ID, GUILD_ID
            ),
            Submission(
                2, "bob", service.current_code(course_id=section.id).code, None, ATTENDANCE_CHANNEL_ID, GUILD_ID
            ),
        ]
    )
    assert [r.session_id for r in results] == [one.session_id, two.session_id]
    assert [r.user_id for r in service.export_rows(course_id=section.id)] == [2]


def test_the_throttle_counts_across_the_channels_open_sessions(
    service: AttendanceService, courses: CourseService
) -> None:
    """Guessing in a channel shared by two sections meets the same wait, whichever section a guess aims at."""
    default = courses.find("default")
    section = add(courses, "section 2", ADMIN_B, ATTENDANCE_CHANNEL_ID)
    service.open_session(default.id)
    service.open_session(section.id)
    shown = {service.current_code(course_id=c.id).code for c in (default, section)}
    wrong = next(
        c
        for c in (
            "".join(p)
            for p in zip(codes.ALPHABET, codes.ALPHABET[1:], codes.ALPHABET[2:], codes.ALPHABET[3:], strict=False)
        )
        if c not in shown
    )
    results = [here(service, wrong, ATTENDANCE_CHANNEL_ID) for _ in range(FREE_WRONG_ATTEMPTS + 1)]
    assert results[-2].retry_after == FIRST_WAIT_SECONDS
    assert results[-1].outcome is Outcome.THROTTLED


def test_nothing_crosses_servers(service: AttendanceService, courses: CourseService) -> None:
    """A submission from another server, even with this channel's id and the right code, is refused."""
    default = courses.find("default")
    service.open_session(default.id)
    code = service.current_code(course_id=default.id).code
    result = here(service, code, ATTENDANCE_CHANNEL_ID, guild=OTHER_GUILD)
    assert result.outcome is Outcome.WRONG_CHANNEL and result.channels == ()
    assert service.export_rows(course_id=default.id) == []


def test_a_channel_no_course_uses_points_to_the_ones_that_do(
    service: AttendanceService, courses: CourseService
) -> None:
    """/here in a channel that is no attendance channel lists this server's attendance channels."""
    add(courses, "b", ADMIN_B, ATTENDANCE_B)
    result = here(service, "ABCD", ADMIN_B)
    assert result.outcome is Outcome.WRONG_CHANNEL
    assert messages.submit_reply(result) == messages.wrong_channel_reply([ATTENDANCE_CHANNEL_ID, ATTENDANCE_B])
    assert here(service, "ABCD", ATTENDANCE_B).outcome is Outcome.NO_SESSION


def test_open_sessions_windows_are_spread(service: AttendanceService, courses: CourseService, clock: FakeClock) -> None:
    """The first session's windows start on the interval's multiples (as before courses); each next
    one starts in the middle of the widest gap, so code messages are edited at different instants."""
    opened = [service.open_session(add(courses, f"c{i}", ADMIN_B + i, ATTENDANCE_B + i).id) for i in range(4)]
    starts = sorted(round(service.current_code(s.session_id).changes_at.timestamp() % 15, 3) for s in opened)
    assert starts == [0.0, 3.75, 7.5, 11.25]
    assert free_offset_ms(15, []) == 0
    assert free_offset_ms(15, [0, 7500]) == 3750


def test_the_shell_needs_a_course_name_when_several_could_be_meant(
    service: AttendanceService, courses: CourseService
) -> None:
    """With one course the shell's calls need no name; with two, CourseNeeded names both."""
    assert service.open_session().course_name == "default"
    add(courses, "b", ADMIN_B, ATTENDANCE_B)
    with pytest.raises(CourseNeeded) as caught:
        service.current_code()
    assert caught.value.names == ["b", "default"]
    assert str(caught.value) == messages.shell_course_needed(["b", "default"])


def test_a_session_opened_while_another_process_opens_one_gets_its_own_window_offset(
    service: AttendanceService, courses: CourseService, db: object
) -> None:
    """Opening is serialised across processes: a course opened while another connection is in the
    middle of opening a session (its transaction not yet committed) waits for it, then takes the
    middle of the gap instead of the same window offset (on PostgreSQL an advisory lock does what
    SQLite's one writer does)."""
    other = add(courses, "Other", 800000000000000011, 800000000000000012)
    holding, release = threading.Event(), threading.Event()

    def opening_elsewhere() -> None:  # another process, as far as the database can tell: its own connection
        try:
            with storage.immediate():
                storage.lock_for_opening()
                storage.create_session(
                    session_id="ELSEWHERE-0001",
                    secret=codes.new_secret(),
                    interval=other.interval,
                    code_length=4,
                    grace_seconds=0,
                    opened_at=datetime.now(timezone.utc),
                    opened_by="test",
                    course_id=other.id,
                    window_offset_ms=0,
                )
                holding.set()
                release.wait(10)
        finally:
            close_db()

    thread = threading.Thread(target=opening_elsewhere)
    thread.start()
    assert holding.wait(10)
    threading.Timer(0.5, release.set).start()  # commits while our open waits for it
    default = courses.find("default")
    mine = service.open_session(default.id)
    thread.join(10)
    offsets = {s.session_id: s.window_offset_ms for s in Session.select()}
    assert offsets == {"ELSEWHERE-0001": 0, mine.session_id: default.interval * 500}  # the middle of the gap
