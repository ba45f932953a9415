"""Statuses in the `/here` hot path: late by the session's rule, an instructor's record stands (also
when the mark lands mid-batch from another process), and check-in events written in the same
transaction, repeats within a minute folded."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _backends import execute, fetch, kind, refusing_trigger

from attendance_bot import messages, storage
from attendance_bot.attendance import AttendanceService
from attendance_bot.corrections import CorrectionService
from attendance_bot.errors import CourseError, StorageError
from attendance_bot.models import Attendance, Event, Student
from attendance_bot.records import Outcome, Submission, SubmitResult
from attendance_bot.settings import Settings
from attendance_bot.students import student_key

if TYPE_CHECKING:
    from conftest import FakeClock

from _course import GUILD_ID


def check_in(service: AttendanceService, user_id: int = 1, username: str = "ada") -> SubmitResult:
    return service.submit(user_id=user_id, username=username, code=service.current_code().code)


pytestmark = pytest.mark.backends("sqlite", "postgresql")


def records(db: Path | str) -> list[tuple[object, ...]]:
    return fetch(db, "SELECT user_id, session_id, status, source, student_key FROM attendance ORDER BY id")


def events(db: Path | str) -> list[tuple[object, ...]]:
    return fetch(db, "SELECT session_id, user_id, actor, action, old_status, new_status, source FROM event ORDER BY id")


@pytest.mark.parametrize(
    ("minutes", "status"),
    [(0, "present"), (9, "present"), (10, "present"), (10.02, "late"), (60, "late")],
)
def test_a_check_in_more_than_late_after_minutes_after_opening_is_late(
    service: AttendanceService, clock: FakeClock, db: Path, minutes: float, status: str
) -> None:
    """With late_after 10, a check-in at 10 minutes is present and one just after is late."""
    session = service.open_session(late_after=10)
    clock.advance(minutes * 60)
    result = check_in(service)
    assert (result.outcome, result.status) == (Outcome.RECORDED, status)
    assert records(db) == [(1, session.session_id, status, "code", None)]


def test_the_late_reply_says_so_and_names_the_rule(service: AttendanceService, clock: FakeClock) -> None:
    """A late student is told they are late and why; an on-time one is told present."""
    session = service.open_session(late_after=5)
    assert messages.submit_reply(check_in(service, 1)).startswith("✅ You are marked present")
    clock.advance(6 * 60)
    reply = messages.submit_reply(check_in(service, 2))
    assert f"marked late for session {session.session_id}" in reply and "5 minutes" in reply


def test_no_late_rule_means_never_late(service: AttendanceService, clock: FakeClock) -> None:
    """A course without late_after records everyone present, however late."""
    service.open_session()
    clock.advance(3 * 3600)
    assert check_in(service).status == "present"


def test_the_courses_rule_applies_and_open_can_override_it(service: AttendanceService, clock: FakeClock) -> None:
    """A session takes its course's late_after when it opens; /open_attendance late_after replaces it,
    0 meaning never late; a later edit of the course does not change an open session."""
    course = service.course(None)
    service.courses.edit(course.id, late_after=15)
    first = service.open_session()
    assert first.late_after == 15
    service.courses.edit(course.id, late_after=1)
    clock.advance(10 * 60)
    assert check_in(service).status == "present"  # still the rule it opened with
    service.close_session()
    assert service.open_session(late_after=0).late_after is None
    clock.advance(3600)
    assert check_in(service, 2).status == "present"


@pytest.mark.parametrize("minutes", [-1, 241, 10_000])
def test_late_after_out_of_range_is_refused_and_changes_nothing(service: AttendanceService, minutes: int) -> None:
    """late_after must be 0-240 minutes, for a course and for one session; nothing is opened or changed."""
    course = service.course(None)
    with pytest.raises(CourseError, match="Late after must be from 0"):
        service.courses.edit(course.id, late_after=minutes)
    with pytest.raises(CourseError, match="Late after must be from 0"):
        service.open_session(late_after=minutes)
    assert service.course(None).late_after is None
    assert service.open_session_info() is None


def test_a_re_check_in_keeps_the_first_status(service: AttendanceService, clock: FakeClock, db: Path) -> None:
    """A student on time who checks in again after the late mark stays present (last submission
    wins for the time; the status was earned by the first)."""
    service.open_session(late_after=5)
    check_in(service)
    clock.advance(20 * 60)
    again = check_in(service)
    assert (again.outcome, again.status) == (Outcome.UPDATED, "present")
    assert [r[2] for r in records(db)] == ["present"]


def test_every_check_in_and_re_check_in_is_an_event(service: AttendanceService, clock: FakeClock, db: Path) -> None:
    """Each accepted /here appends one event: who, what, old -> new status, source code."""
    session = service.open_session(late_after=5)
    check_in(service, 1, "ada")
    clock.advance(6 * 60)
    check_in(service, 2, "bob")
    check_in(service, 1, "ada")
    sid = session.session_id
    assert events(db) == [
        (sid, 1, "ada", "check-in", None, "present", "code"),
        (sid, 2, "bob", "check-in", None, "late", "code"),
        (sid, 1, "ada", "re-check-in", "present", "present", "code"),
    ]


def test_wrong_codes_write_no_event(service: AttendanceService, db: Path) -> None:
    """Only check-ins are changes to the record; a malformed or wrong code is not."""
    service.open_session()
    service.submit(user_id=1, username="ada", code="!!!!")
    assert events(db) == []


def test_a_manual_status_stands_against_a_check_in(service: AttendanceService, db: Path) -> None:
    """A student the instructor marked excused who then types a right code keeps excused, is told
    their record was set by the instructor, and the attempt is in the audit trail."""
    session = service.open_session()
    sid = session.session_id
    Attendance.create(
        user_id=1,
        username="ada",
        timestamp="2024-09-02 09:00:00",
        date_id="2024-09-02",
        session_id=sid,
        submitted_at=datetime(2024, 9, 2, 9, tzinfo=timezone.utc),
        status="excused",
        source="manual",
    )
    result = check_in(service)
    assert (result.outcome, result.status) == (Outcome.KEPT, "excused")
    assert result.accepted
    assert "set by your instructor" in messages.submit_reply(result)
    assert records(db) == [(1, sid, "excused", "manual", None)]
    assert events(db) == [(sid, 1, "ada", "re-check-in", "excused", "excused", "code")]


def test_a_mark_made_by_student_id_stands_once_the_account_registers(service: AttendanceService, db: Path) -> None:
    """A roster student marked before they linked an account (no user_id, their student id) who
    registers and checks in keeps the mark: no second record appears."""
    session = service.open_session()
    sid = session.session_id
    Attendance.create(
        user_id=None,
        username="",
        timestamp="2024-09-02 09:00:00",
        date_id="2024-09-02",
        session_id=sid,
        submitted_at=datetime(2024, 9, 2, 9, tzinfo=timezone.utc),
        status="absent",
        source="manual",
        student_key=student_key("S-17"),
    )
    Student.create(
        guild_id=GUILD_ID,
        user_id=7,
        student_id="S-17",
        student_key=student_key("S-17"),
        registered_at=datetime(2024, 9, 2, 9, tzinfo=timezone.utc),
    )
    result = service.submit(user_id=7, username="grace", code=service.current_code().code, guild_id=GUILD_ID)
    assert (result.outcome, result.status) == (Outcome.KEPT, "absent")
    assert records(db) == [(None, sid, "absent", "manual", student_key("S-17"))]


def test_a_pending_claim_takes_no_mark_made_by_student_id(service: AttendanceService, db: Path) -> None:
    """An account whose claim of S-18 waits for an instructor checks in: its own record, present; the
    instructor's mark of S-18 is not its (a claim changes no one's record), and stays as it was."""
    session = service.open_session()
    sid = session.session_id
    Attendance.create(
        user_id=None,
        username="",
        timestamp="2024-09-02 09:00:00",
        date_id="2024-09-02",
        session_id=sid,
        submitted_at=datetime(2024, 9, 2, 9, tzinfo=timezone.utc),
        status="excused",
        source="manual",
        student_key=student_key("S-18"),
    )
    Student.create(
        guild_id=GUILD_ID,
        user_id=8,
        student_id="S-18",
        student_key=student_key("S-18"),
        registered_at=datetime(2024, 9, 2, 9, tzinfo=timezone.utc),
        confirmed=False,
    )
    result = service.submit(user_id=8, username="mallory", code=service.current_code().code, guild_id=GUILD_ID)
    assert (result.outcome, result.status) == (Outcome.RECORDED, "present")
    assert sorted(records(db), key=str) == sorted(
        [(None, sid, "excused", "manual", student_key("S-18")), (8, sid, "present", "code", None)], key=str
    )


def test_a_failing_event_write_records_nothing(service: AttendanceService, db: Path) -> None:
    """The event is written in the check-in's transaction: if it cannot be, the record is not
    written either and the student is not told they are present."""
    service.open_session()
    execute(db, *refusing_trigger(kind(db), "no_events", "event", "INSERT", "disk says no"))
    with pytest.raises(StorageError):
        check_in(service)
    assert records(db) == []
    assert Event.select().count() == 0


# -- repeated check-ins are folded (issue 15, item 8) ----------------------------------------------


def check_ins(db: Path | str, user_id: int = 1) -> list[tuple[object, ...]]:
    """The student's check-in and re-check-in events: action, old and new status."""
    return fetch(
        db,
        "SELECT action, old_status, new_status FROM event WHERE user_id = ? AND source = 'code' ORDER BY id",
        (user_id,),
    )


def test_repeats_within_a_minute_are_one_event(service: AttendanceService, clock: FakeClock, db: Path) -> None:
    """Many identical /here of one student in one minute (alone and in one batch) make one event; a
    repeat in the next minute makes a second, and the record's time is the last submission's."""
    service.open_session()
    clock.advance(5)
    assert check_in(service).outcome is Outcome.RECORDED
    for _ in range(30):
        clock.advance(1)
        assert check_in(service).outcome is Outcome.UPDATED
    code = service.current_code().code
    batch = service.submit_many([Submission(1, "ada", code) for _ in range(200)])
    assert {r.outcome for r in batch} == {Outcome.UPDATED}
    assert check_ins(db) == [("check-in", None, "present")]
    clock.advance(60)
    check_in(service)
    for _ in range(10):
        clock.advance(1)
        check_in(service)
    assert check_ins(db) == [("check-in", None, "present"), ("re-check-in", "present", "present")]
    (stored,) = Attendance.select()
    assert stored.submitted_at == clock.now


def test_repeats_against_an_instructors_mark_are_one_event_a_minute(
    service: AttendanceService, clock: FakeClock, db: Path
) -> None:
    """A student whose record the instructor set, typing the right code over and over, gets the
    "set by your instructor" reply each time and one re-check-in event per minute."""
    session = service.open_session()
    Attendance.create(
        user_id=1,
        username="ada",
        timestamp="2024-09-02 09:00:00",
        date_id="2024-09-02",
        session_id=session.session_id,
        submitted_at=clock.now,
        status="excused",
        source="manual",
    )
    for _ in range(20):
        clock.advance(2)
        result = check_in(service)
        assert (result.outcome, result.status) == (Outcome.KEPT, "excused")
    assert check_ins(db) == [("re-check-in", "excused", "excused")]
    clock.advance(60)
    check_in(service)
    assert check_ins(db) == [("re-check-in", "excused", "excused")] * 2
    assert records(db) == [(1, session.session_id, "excused", "manual", None)]


def test_a_first_check_in_always_has_its_event(service: AttendanceService, clock: FakeClock, db: Path) -> None:
    """A check-in after the instructor removed the record is a new check-in with its own event, even
    within the minute of the last one."""
    session = service.open_session()
    check_in(service)
    Attendance.delete().execute()
    clock.advance(5)
    assert check_in(service).outcome is Outcome.RECORDED
    assert check_ins(db) == [("check-in", None, "present")] * 2
    assert records(db) == [(1, session.session_id, "present", "code", None)]


def test_the_first_check_in_after_a_mark_has_its_event_within_the_minute(
    service: AttendanceService, settings: Settings, clock: FakeClock, db: Path
) -> None:
    """A student checks in, the instructor excuses them seconds later, and the student types the code
    again in the same minute: that attempt against the mark is in the history (then folded)."""
    service.open_session()
    check_in(service)
    clock.advance(10)
    CorrectionService(settings, clock).mark(service.course(None).id, "ada", "excused", actor="teacher")
    for _ in range(3):
        clock.advance(10)
        assert check_in(service).outcome is Outcome.KEPT
    actions = fetch(db, "SELECT action, old_status, new_status FROM event WHERE user_id = 1 ORDER BY id")
    assert actions == [
        ("check-in", None, "present"),
        ("mark", "present", "excused"),
        ("re-check-in", "excused", "excused"),
    ]


# -- an instructor's mark landing during a check-in (issue 15, item 6) -----------------------------

RACER = 700_000_000_000_000_001  # an account id the shell's `mark --student` takes as one
REPO = Path(__file__).resolve().parent.parent


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize(("earlier", "mark"), [(True, "excused"), (False, "absent")])
def test_a_mark_from_another_process_between_read_and_write_is_what_the_student_is_told(
    service: AttendanceService,
    clock: FakeClock,
    db: str,
    monkeypatch: pytest.MonkeyPatch,
    earlier: bool,
    mark: str,
) -> None:
    """On PostgreSQL (READ COMMITTED) `manage.py mark` in another process commits after the batch has
    read the student's record and before it writes: the student is told the instructor's status, and
    the history ends with the mark and a re-check-in of old = new, as the record says. (On SQLite the
    batch's IMMEDIATE transaction holds the write lock from the read on: the mark waits.)"""
    session = service.open_session()
    sid = session.session_id
    clock.advance(5)
    if earlier:
        assert check_in(service, RACER).outcome is Outcome.RECORDED
        clock.advance(60)  # a re-check-in a minute later: not folded
    read = storage.recent_wrong_and_present
    marking: list[subprocess.Popen[bytes]] = []

    def read_then_mark(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        env = {**os.environ, "DATABASE_URL": db, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "--env-file", "/dev/null", "mark", "--student", str(RACER), "--status", mark],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        marking.append(proc)
        try:  # the mark commits now; were it made to wait for this transaction, it lands after it
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        return found

    monkeypatch.setattr(storage, "recent_wrong_and_present", read_then_mark)
    result = check_in(service, RACER)
    monkeypatch.undo()
    (proc,) = marking
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()

    assert records(db) == [(RACER, sid, mark, "manual", None)]
    assert (result.outcome, result.status) == (Outcome.KEPT, mark)
    assert "set by your instructor" in messages.submit_reply(result)
    history = fetch(
        db, "SELECT action, old_status, new_status, source FROM event WHERE user_id = ? ORDER BY id", (RACER,)
    )
    before = [("check-in", None, "present", "code")] if earlier else []
    assert history == [
        *before,
        ("mark", "present" if earlier else None, mark, "manual"),
        ("re-check-in", mark, mark, "code"),
    ]


@pytest.mark.sqlite_only("an SQLite older than 3.35 has no RETURNING")
def test_without_returning_sqlite_gives_the_same_outcomes(
    service: AttendanceService, clock: FakeClock, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an SQLite without RETURNING the upsert is written as before (its write lock keeps marks
    out): a check-in, a re-check-in a minute later and one against a mark get the usual replies."""
    monkeypatch.setattr("attendance_bot.storage.base.SQLITE_HAS_RETURNING", False)
    session = service.open_session()
    sid = session.session_id
    assert check_in(service, 1).outcome is Outcome.RECORDED
    clock.advance(60)
    assert check_in(service, 1).outcome is Outcome.UPDATED
    Attendance.create(
        user_id=2,
        username="bob",
        timestamp="2024-09-02 09:00:00",
        date_id="2024-09-02",
        session_id=sid,
        submitted_at=clock.now,
        status="absent",
        source="manual",
    )
    assert (check_in(service, 2).outcome, check_in(service, 2).status) == (Outcome.KEPT, "absent")
    assert records(db) == [(1, sid, "present", "code", None), (2, sid, "absent", "manual", None)]
    assert check_ins(db, 1) == [("check-in", None, "present"), ("re-check-in", "present", "present")]
    assert check_ins(db, 2) == [("re-check-in", "absent", "absent")]
