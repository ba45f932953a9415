"""The attendance service: what a student and an instructor see for each action."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from attendance_bot import codes, messages
from attendance_bot.attendance import AttendanceService
from attendance_bot.checkin import FIRST_WAIT_SECONDS, THROTTLE_WINDOW_SECONDS, throttle_wait
from attendance_bot.codes import ALPHABET
from attendance_bot.corrections import CorrectionService
from attendance_bot.errors import NoOpenSession, SessionClosed, UnknownSession
from attendance_bot.models import WrongAttempt, close_db, init_db
from attendance_bot.records import FREE_WRONG_ATTEMPTS, Outcome, Submission, SubmitResult
from attendance_bot.settings import Settings

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")

T0 = datetime(2024, 9, 2, 9, 0, 0, tzinfo=timezone.utc)  # where the `clock` fixture starts


def right_code(service: AttendanceService) -> str:
    return service.current_code().code


def wrong_code(service: AttendanceService) -> str:
    """A well-formed code the open session has not shown since it opened and will not show soon."""
    session = service.open_session_info()
    assert session is not None
    shown = {
        service.code_at(session, session.opened_at + timedelta(seconds=s)).code
        for s in range(0, 3600, session.interval)
    }
    return next(c for c in ("".join(p) for p in itertools.product(ALPHABET, repeat=4)) if c not in shown)


def submit(service: AttendanceService, code: str, user_id: int = 1, username: str = "student") -> SubmitResult:
    return service.submit(user_id=user_id, username=username, code=code)


# -- no session -----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["ABCD", "oops", ""])
def test_no_session_open_gives_no_session(service: AttendanceService, typed: str) -> None:
    """Before any session is opened every submission gets the no-session reply."""
    result = submit(service, typed)
    assert result.outcome is Outcome.NO_SESSION
    assert messages.submit_reply(result) == messages.no_session_reply()


def test_right_code_after_close_gives_no_session(service: AttendanceService, clock: FakeClock) -> None:
    """Once the session is closed even the code still on screen records nothing."""
    service.open_session()
    code = right_code(service)
    service.close_session()
    assert submit(service, code).outcome is Outcome.NO_SESSION
    assert service.sessions()[0].count == 0


# -- accepted, expired, wrong, malformed through the service --------------------------------


def test_right_code_is_recorded_and_acknowledged(service: AttendanceService) -> None:
    """The current code records the student and the reply names the session."""
    session = service.open_session()
    result = submit(service, right_code(service).lower())
    assert result.outcome is Outcome.RECORDED and result.accepted
    assert session.session_id in messages.submit_reply(result)
    assert service.count(session.session_id) == 1


def test_previous_code_is_accepted_within_grace(service: AttendanceService, clock: FakeClock) -> None:
    """A student who read the code just before it changed is still recorded (default grace)."""
    service.open_session()
    code = right_code(service)
    clock.advance(15 + 14)
    assert submit(service, code).outcome is Outcome.RECORDED


def test_code_from_earlier_in_the_session_is_expired(service: AttendanceService, clock: FakeClock) -> None:
    """An old code of this session is EXPIRED, and the reply says so rather than 'wrong'."""
    service.open_session()
    code = right_code(service)
    clock.advance(15 + 15)
    result = submit(service, code)
    assert result.outcome is Outcome.EXPIRED
    assert "expired" in messages.submit_reply(result)


def test_wrong_code_counts_down_the_free_tries(service: AttendanceService) -> None:
    """Each wrong code says how many tries are left before a wait; the last one says how long."""
    service.open_session()
    bad = wrong_code(service)
    results = [submit(service, bad) for _ in range(FREE_WRONG_ATTEMPTS)]
    assert [r.attempts_left for r in results] == list(range(FREE_WRONG_ATTEMPTS - 1, -1, -1))
    assert [r.retry_after for r in results] == [0.0] * (FREE_WRONG_ATTEMPTS - 1) + [FIRST_WAIT_SECONDS]
    assert "1 more try before" in messages.submit_reply(results[-2])
    assert f"wait {FIRST_WAIT_SECONDS} seconds before your next try" in messages.submit_reply(results[-1])


def test_malformed_code_reports_bad_characters_and_length(
    settings_factory: Callable[..., Settings], db: Path, clock: FakeClock
) -> None:
    """MALFORMED carries the characters to avoid and the session's code length."""
    service = AttendanceService(settings_factory(CODE_LENGTH="6"), clock)
    service.open_session()
    result = submit(service, "AB0CDO")
    assert (result.outcome, result.bad_characters, result.code_length) == (Outcome.MALFORMED, "0O", 6)


# -- throttling -----------------------------------------------------------------------------


def _wrong(service: AttendanceService, clock: FakeClock, times: int, user_id: int = 1) -> None:
    """`times` wrong codes, each a second (or the wait asked for) after the one before; the clock stays at the last."""
    bad = wrong_code(service)
    wait = 0.0
    for _ in range(times):
        clock.advance(max(1.0, wait))
        result = submit(service, bad, user_id)
        assert result.outcome is Outcome.WRONG
        wait = result.retry_after


@pytest.mark.parametrize(
    ("wrong", "wait"),
    [(0, 0), (1, 0), (3, 0), (4, 0), (5, 15), (6, 30), (7, 60), (8, 120), (9, 240), (10, 480), (11, 900), (40, 900)],
)
def test_throttle_schedule(wrong: int, wait: float) -> None:
    """Five wrong codes are free; then the wait after the latest doubles from 15 s, up to 15 minutes."""
    assert throttle_wait(wrong) == wait


def test_three_mistypes_in_a_row_are_never_slowed(service: AttendanceService) -> None:
    """A student who mistypes three times at once, then types the right code, is recorded at once."""
    service.open_session()
    bad = wrong_code(service)
    results = [submit(service, typo) for typo in (bad, bad.lower(), bad[:2] + " " + bad[2:])]
    assert [(r.outcome, r.retry_after) for r in results] == [(Outcome.WRONG, 0.0)] * 3
    assert submit(service, right_code(service)).outcome is Outcome.RECORDED


def test_the_waits_escalate_and_a_right_code_waits_too(service: AttendanceService, clock: FakeClock) -> None:
    """Past the free tries every attempt, right or not, waits 15 s, 30 s, 60 s... after the latest wrong one."""
    session = service.open_session()
    bad = wrong_code(service)
    for wrong in range(1, FREE_WRONG_ATTEMPTS + 4):
        result = submit(service, bad)
        assert (result.outcome, result.retry_after) == (Outcome.WRONG, throttle_wait(wrong))
        if result.retry_after:
            clock.advance(result.retry_after - 0.5)
            early = submit(service, right_code(service))
            assert (early.outcome, early.retry_after) == (Outcome.THROTTLED, pytest.approx(0.5))
            clock.advance(0.5)
    assert service.count(session.session_id) == 0
    assert submit(service, right_code(service)).outcome is Outcome.RECORDED


def test_throttled_reply_says_how_long_to_wait(service: AttendanceService, clock: FakeClock) -> None:
    """The THROTTLED reply names the wait: in seconds, then in minutes for long ones."""
    service.open_session()
    _wrong(service, clock, FREE_WRONG_ATTEMPTS)
    clock.advance(4)
    result = submit(service, right_code(service))
    assert result.outcome is Outcome.THROTTLED and result.retry_after == pytest.approx(FIRST_WAIT_SECONDS - 4)
    assert "wait 11 seconds" in messages.submit_reply(result)
    assert "wait 8 minutes" in messages.submit_reply(SubmitResult(Outcome.THROTTLED, "S", retry_after=450))


def test_throttle_is_per_student(service: AttendanceService, clock: FakeClock) -> None:
    """One student's wrong guesses do not block another."""
    service.open_session()
    _wrong(service, clock, FREE_WRONG_ATTEMPTS, user_id=1)
    assert submit(service, right_code(service), user_id=1).outcome is Outcome.THROTTLED
    assert submit(service, right_code(service), user_id=2).outcome is Outcome.RECORDED


def test_throttle_survives_a_restart(service: AttendanceService, settings: Settings, clock: FakeClock) -> None:
    """A restarted bot (new database connection, new service) still makes the guesser wait as long."""
    service.open_session()
    _wrong(service, clock, FREE_WRONG_ATTEMPTS + 2)  # the next try waits 60 s
    clock.advance(20)
    close_db()
    init_db(settings.database_target)
    restarted = AttendanceService(settings, clock)
    result = submit(restarted, right_code(restarted))
    assert (result.outcome, result.retry_after) == (Outcome.THROTTLED, pytest.approx(throttle_wait(7) - 20))


def test_throttle_ends_with_the_session(service: AttendanceService, clock: FakeClock) -> None:
    """A guesser kept waiting in one session starts the next session with a clean slate."""
    service.open_session()
    _wrong(service, clock, FREE_WRONG_ATTEMPTS + 3)
    service.close_session()
    clock.advance(60)
    service.open_session()
    assert submit(service, right_code(service)).outcome is Outcome.RECORDED


def test_wrong_codes_older_than_the_window_stop_counting(service: AttendanceService, clock: FakeClock) -> None:
    """An hour after a burst of wrong codes the student has every free try again."""
    service.open_session()
    _wrong(service, clock, FREE_WRONG_ATTEMPTS)
    clock.advance(THROTTLE_WINDOW_SECONDS)
    assert submit(service, wrong_code(service)).attempts_left == FREE_WRONG_ATTEMPTS - 1


def test_expired_and_malformed_codes_do_not_count_as_wrong(service: AttendanceService, clock: FakeClock) -> None:
    """Typos and late codes never lock a student out; the next wrong one still has all tries but one."""
    service.open_session()
    old = right_code(service)
    clock.advance(40)
    for typed in [old] * 6 + ["A0", "ABCDE", "OOOO", "  "] * 3:
        assert submit(service, typed).outcome in (Outcome.EXPIRED, Outcome.MALFORMED)
    assert submit(service, wrong_code(service)).attempts_left == FREE_WRONG_ATTEMPTS - 1
    assert submit(service, right_code(service)).outcome is Outcome.RECORDED


# -- pruning wrong attempts ------------------------------------------------------------------


def test_close_deletes_the_sessions_wrong_attempts(service: AttendanceService, clock: FakeClock) -> None:
    """Closing a session deletes its wrong attempts (its waits end with it), in the same transaction."""
    service.open_session()
    _wrong(service, clock, 3)
    assert WrongAttempt.select().count() == 3
    service.close_session()
    assert WrongAttempt.select().count() == 0


def test_prune_deletes_closed_sessions_and_old_attempts_only(service: AttendanceService, clock: FakeClock) -> None:
    """prune_wrong_attempts() keeps what still counts: the open session's attempts of the last hour."""
    service.open_session()
    _wrong(service, clock, 2, user_id=1)  # at T0+1, T0+2: will be too old
    clock.advance(THROTTLE_WINDOW_SECONDS)
    _wrong(service, clock, 3, user_id=2)  # recent: kept
    WrongAttempt.create(session_id="20240101-0000-GONE", user_id=3, attempted_at=clock())  # a closed session's
    assert service.prune_wrong_attempts() == 3
    assert sorted(a.user_id for a in WrongAttempt.select()) == [2, 2, 2]
    assert service.prune_wrong_attempts(clock() + timedelta(seconds=THROTTLE_WINDOW_SECONDS + 1)) == 3
    assert service.prune_wrong_attempts() == 0


# -- open, close, codes, sessions ----------------------------------------------------------


def test_session_id_reads_as_local_opening_time(
    settings_factory: Callable[..., Settings], db: Path, clock: FakeClock
) -> None:
    """The id starts with the opening date and minute in TIMEZONE."""
    service = AttendanceService(settings_factory(TIMEZONE="America/New_York"), clock)
    session = service.open_session(opened_by="prof")
    assert re.fullmatch(rf"20240902-0500-[{ALPHABET}]{{4}}", session.session_id)
    assert session.opened_at == T0 and session.opened_by == "prof" and session.is_open


def test_close_returns_the_count_and_a_second_close_says_already_closed(
    service: AttendanceService, clock: FakeClock
) -> None:
    """close_session reports how many are present; closing the same session again is refused."""
    session = service.open_session()
    for user_id in (1, 2, 3, 2):
        submit(service, right_code(service), user_id)
    clock.advance(300)
    closed = service.close_session()
    assert closed.count == 3
    assert closed.session.closed_at == T0 + timedelta(seconds=300) and not closed.session.is_open
    with pytest.raises(SessionClosed) as again:
        service.close_session(session.session_id)
    assert str(again.value) == messages.session_already_closed(session.session_id)
    with pytest.raises(NoOpenSession):
        service.close_session()


def test_current_code_of_the_open_session(service: AttendanceService, clock: FakeClock) -> None:
    """current_code gives the code on screen and when it changes."""
    session = service.open_session()
    clock.advance(4)
    current = service.current_code()
    assert current.session_id == session.session_id
    assert current.seconds_left == pytest.approx(11)
    assert current.changes_at == T0 + timedelta(seconds=15)
    assert service.current_code(session.session_id) == current
    assert submit(service, current.code).outcome is Outcome.RECORDED


def test_current_code_of_a_closed_session_is_refused(service: AttendanceService) -> None:
    """A closed session shows no code."""
    session = service.open_session()
    service.close_session()
    with pytest.raises(SessionClosed):
        service.current_code(session.session_id)
    with pytest.raises(NoOpenSession):
        service.current_code()


def test_unknown_session_lists_recent_ids(service: AttendanceService, clock: FakeClock) -> None:
    """An unknown id is refused with the most recent sessions (newest first) to pick from."""
    with pytest.raises(UnknownSession) as none_yet:
        service.current_code("20240101-0000-AAAA")
    assert str(none_yet.value) == messages.unknown_session("20240101-0000-AAAA", [])
    opened = []
    for _ in range(7):
        opened.append(service.open_session().session_id)
        service.close_session()
        clock.advance(3600)
    with pytest.raises(UnknownSession) as caught:
        service.current_code("nope")
    assert caught.value.recent == opened[::-1][:5]
    assert str(caught.value) == messages.unknown_session("nope", opened[::-1][:5])
    with pytest.raises(UnknownSession):
        service.close_session("nope")
    with pytest.raises(UnknownSession):
        service.export_rows("nope")


def test_session_ids_typed_with_spaces_are_found(service: AttendanceService) -> None:
    """An id pasted with spaces around it still names the session."""
    session = service.open_session()
    assert service.get_session(f"  {session.session_id} ") == session


def test_sessions_lists_every_session_with_its_count(service: AttendanceService, clock: FakeClock) -> None:
    """sessions() lists oldest first, each with its count, the open one marked open."""
    first = service.open_session().session_id
    for user_id in range(3):
        submit(service, right_code(service), user_id)
    service.close_session()
    clock.advance(86400)
    second = service.open_session().session_id
    submit(service, right_code(service), 99)
    listed = [(s.session.session_id, s.count, s.session.is_open) for s in service.sessions()]
    assert listed == [(first, 3, False), (second, 1, True)]


def test_counts_are_of_present_and_late_only(service: AttendanceService, settings: Settings, clock: FakeClock) -> None:
    """ "N present" (the code message's count, `sessions`, the close) counts the present and the late,
    not an instructor's marks of absent or excused, nor a check-in the instructor then excused."""
    session = service.open_session(late_after=1)
    corrections = CorrectionService(settings, clock)
    course_id = service.course(None).id
    submit(service, right_code(service), 1001, "ada")
    clock.advance(120)
    submit(service, right_code(service), 1002, "bob")  # late
    submit(service, right_code(service), 1003, "cyd")
    corrections.mark(course_id, "cyd", "excused", actor="teacher")
    corrections.mark(course_id, "700000000000000004", "absent", actor="teacher")
    corrections.mark(course_id, "700000000000000005", "excused", actor="teacher")
    corrections.mark(course_id, "700000000000000006", "late", actor="teacher")
    ((_, _, live),) = service.live_codes(clock.now)
    assert live == 3
    assert service.count(session.session_id) == 3
    assert [s.count for s in service.sessions()] == [3]
    assert service.close_session().count == 3
    assert [s.count for s in service.sessions(every_course=True)] == [3]


# -- batches (one commit for many submissions) ----------------------------------------------


def test_a_batch_judges_each_submission_as_if_alone(service: AttendanceService) -> None:
    """submit_many gives every submission its own verdict; a student's later one wins."""
    service.open_session()
    code, bad = right_code(service), wrong_code(service)
    results = service.submit_many(
        [
            Submission(1, "ada", code),
            Submission(2, "alan", bad),
            Submission(1, "ada-renamed", code.lower()),
            Submission(3, "grace", "0000"),
        ]
    )
    assert [r.outcome for r in results] == [Outcome.RECORDED, Outcome.WRONG, Outcome.UPDATED, Outcome.MALFORMED]
    rows = service.export_rows()
    assert [(r.user_id, r.username) for r in rows] == [(1, "ada-renamed")]


def test_a_batch_without_a_session_records_nothing(service: AttendanceService) -> None:
    """Every submission of a batch gets NO_SESSION when nothing is open."""
    results = service.submit_many([Submission(1, "a", "ABCD"), Submission(2, "b", "ABCD")])
    assert [r.outcome for r in results] == [Outcome.NO_SESSION, Outcome.NO_SESSION]


def test_a_batch_throttles_within_itself(service: AttendanceService) -> None:
    """Wrong codes earlier in the same batch count: the try after the free ones waits, even if right."""
    service.open_session()
    code, bad = right_code(service), wrong_code(service)
    batch = [Submission(9, "eve", bad)] * FREE_WRONG_ATTEMPTS + [
        Submission(9, "eve", code),
        Submission(10, "bob", code),
    ]
    outcomes = [r.outcome for r in service.submit_many(batch)]
    assert outcomes == [Outcome.WRONG] * FREE_WRONG_ATTEMPTS + [Outcome.THROTTLED, Outcome.RECORDED]
    assert [r.user_id for r in service.export_rows()] == [10]
    # and the throttle persisted: a later single submission is still refused
    assert submit(service, code, user_id=9).outcome is Outcome.THROTTLED


def test_a_large_batch_records_every_student_once(service: AttendanceService) -> None:
    """Two thousand students in one batch (chunked statements) are all recorded exactly once."""
    service.open_session()
    code = right_code(service)
    batch = [Submission(i, f"s{i}", code) for i in range(2000)] + [Submission(5, "again", code)]
    results = service.submit_many(batch)
    assert sum(r.outcome is Outcome.RECORDED for r in results) == 2000
    assert results[-1].outcome is Outcome.UPDATED
    rows = service.export_rows()
    assert len(rows) == 2000 and len({r.user_id for r in rows}) == 2000
    assert next(r.username for r in rows if r.user_id == 5) == "again"


def test_a_large_batch_of_wrong_codes_is_counted_for_each_student(service: AttendanceService) -> None:
    """Seven hundred wrong codes in one batch (more than one statement's worth) all count towards the throttle."""
    from attendance_bot.records import Submission

    service.open_session()
    bad = wrong_code(service)
    results = service.submit_many([Submission(i, f"s{i}", bad) for i in range(700)])
    assert {r.outcome for r in results} == {Outcome.WRONG}
    assert WrongAttempt.select().count() == 700
    assert submit(service, bad, user_id=699).attempts_left == FREE_WRONG_ATTEMPTS - 2


def test_a_batch_judges_each_code_once_however_it_is_spelt(
    service: AttendanceService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The verdict cache is keyed on the normalised code: " a7k3", "A7K3" and "a-7k3" cost one check."""
    service.open_session()
    checked: list[str] = []
    real_check = codes.check

    def counting_check(typed: str, *args: object, **kwargs: object) -> codes.Check:
        checked.append(typed)
        return real_check(typed, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(codes, "check", counting_check)
    code, bad = right_code(service), wrong_code(service)
    spellings = [lambda c: c, lambda c: f" {c.lower()}", lambda c: f"{c[:2]}-{c[2:]}", lambda c: " ".join(c)]
    batch = [Submission(i, f"s{i}", spell(code)) for i, spell in enumerate(spellings)]
    batch += [Submission(100 + i, f"w{i}", spell(bad)) for i, spell in enumerate(spellings)]
    results = service.submit_many(batch)
    assert [r.outcome for r in results] == [Outcome.RECORDED] * 4 + [Outcome.WRONG] * 4
    assert len(checked) == 2


def test_export_of_a_session_id_pasted_with_spaces(service: AttendanceService) -> None:
    """export_rows(" ID ") exports that session's records, not an empty list."""
    session = service.open_session()
    submit(service, right_code(service), user_id=1)
    rows = service.export_rows(f" {session.session_id}\t")
    assert [(r.user_id, r.session_id) for r in rows] == [(1, session.session_id)]


def test_export_chunks_are_the_export_rows_in_slices(service: AttendanceService) -> None:
    """export_chunks(size=2) gives the rows of export_rows() in order, two at a time."""
    service.open_session()
    for user_id in range(1, 6):
        submit(service, right_code(service), user_id=user_id)
    slices = list(service.export_chunks(size=2))
    assert [len(s) for s in slices] == [2, 2, 1]
    assert [row for s in slices for row in s] == service.export_rows()


def test_export_chunks_of_an_unknown_session_fail_at_once(service: AttendanceService) -> None:
    """An unknown session id is refused when the export is asked for, before any slice is read."""
    with pytest.raises(UnknownSession):
        service.export_chunks("20240101-0000-XXXX")
