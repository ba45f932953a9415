"""Hostile input: whatever a student types or an operator passes, one clear sentence and no damage."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _backends import environ
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from attendance_bot import messages
from attendance_bot.attendance import AttendanceService
from attendance_bot.codes import ALPHABET, normalise
from attendance_bot.errors import UnknownSession
from attendance_bot.records import Outcome
from attendance_bot.settings import Settings
from attendance_bot.shell.entry import main

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")

ROOT = Path(__file__).resolve().parent.parent

NASTY = [
    "",
    " ",
    "x" * 6000,
    "\x00\x01\x1b[31m",
    "\u202eDCBA",  # right-to-left override
    "\u200b\u200dA\u200cB",
    "🙂🙂🙂🙂",
    "ＡＢＣＤ",  # full-width
    "' OR 1=1; DROP TABLE attendance; --",
    "=cmd|' /C calc'!A0",
    "+SUM(1)",
    "@everyone",
    "<@&123456789012345678>",
    "\n\r\t",
    "Ä̈̈̈̈",
]

hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=6000),
    st.text(alphabet=ALPHABET + "01ILOSZ -–_.\u3000", max_size=12),
)


def _one_sentence(reply: str) -> None:
    assert reply.strip() and "\n" not in reply and len(reply) < 400
    assert not any(ch in reply for ch in "\x00\x1b\u202e"), reply
    assert "@everyone" not in reply


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=hostile_text)
def test_any_typed_code_gets_one_sentence_and_records_only_the_right_code(
    service: AttendanceService, clock: Callable[[], object], typed: str
) -> None:
    """No exception escapes /here's service call; a record appears only for the right code."""
    if service.open_session_info() is None:
        service.open_session()
    right = service.current_code().code
    before = len(service.export_rows())
    result = service.submit(user_id=hash(typed) & 0xFFFFFFFF, username=typed[:40] or "x", code=typed)
    _one_sentence(messages.submit_reply(result))
    after = len(service.export_rows())
    if normalise(typed) == right:
        assert result.accepted
    else:
        assert not result.accepted
        assert after == before
    if result.outcome is Outcome.THROTTLED:
        service.close_session()


@pytest.mark.parametrize("typed", NASTY)
def test_nasty_codes_are_refused_without_a_record(service: AttendanceService, typed: str) -> None:
    """Each classic hostile string is refused with a sentence, nothing written."""
    service.open_session()
    result = service.submit(user_id=1, username="eve", code=typed)
    assert not result.accepted
    _one_sentence(messages.submit_reply(result))
    assert service.export_rows() == []


HOURS = 3


def _guesses(service: AttendanceService, hours: int) -> tuple[str, str]:
    """Two well-formed codes the open session does not show in the next `hours` hours."""
    session = service.open_session_info()
    assert session is not None
    shown = {
        service.code_at(session, session.opened_at + timedelta(seconds=s)).code
        for s in range(0, hours * 3600 + 60, session.interval)
    }
    unused = (c for c in ("".join(p) for p in itertools.product(ALPHABET, repeat=4)) if c not in shown)
    return next(unused), next(unused)


def _most_in_an_hour(times: list[datetime]) -> int:
    """The largest number of `times` inside any one-hour span."""
    most, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= timedelta(hours=1):
            first += 1
        most = max(most, last - first + 1)
    return most


def test_brute_force_is_bounded_as_the_readme_states(
    service: AttendanceService, clock: FakeClock, settings: Settings
) -> None:
    """A guesser who retries the instant each wait ends makes at most 25 wrong guesses in any hour,
    restarts included, and the README states the measured figure and the odds computed from it."""
    service.open_session()
    guesses = _guesses(service, HOURS)
    end = clock() + timedelta(hours=HOURS)
    judged: list[datetime] = []
    while clock() < end:
        if len(judged) % 4 == 3:  # a restarted bot: a new service over the same database
            service = AttendanceService(settings, clock)
        result = service.submit(user_id=7, username="eve", code=guesses[len(judged) % 2])
        if result.outcome is Outcome.THROTTLED:
            clock.advance(max(result.retry_after, 1e-6))
            continue
        assert result.outcome is Outcome.WRONG
        judged.append(clock())
        clock.advance(0.2)  # a bot sends again at once
    per_hour = _most_in_an_hour(judged)
    assert per_hour <= 25
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"at most **{per_hour} wrong codes in any hour**" in readme
    odds = 1 - (1 - 2 / len(ALPHABET) ** settings.code_length) ** per_hour
    assert f"1 in {round(1 / odds):,}" in readme


def test_three_mistypes_in_a_row_are_never_throttled(service: AttendanceService) -> None:
    """Three wrong codes in the same second are each answered WRONG without a wait; the fourth try counts."""
    service.open_session()
    guesses = _guesses(service, 1)
    for typed in (guesses[0], guesses[1], guesses[0]):
        result = service.submit(user_id=8, username="tired", code=typed)
        assert (result.outcome, result.retry_after) == (Outcome.WRONG, 0.0)
    assert service.submit(user_id=8, username="tired", code=service.current_code().code).accepted


manage_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=300))


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["close", "export", "code"]), value=manage_text)
def test_manage_session_argument_never_crashes(command: str, value: str, tmp_path: Path) -> None:
    """Any --session value ends in status 0 or a one-line error, never a traceback."""
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["--env-file", "/dev/null", command, "--session", value],
        stdout=out,
        stderr=err,
        environ={"DATABASE_PATH": str(tmp_path / "fuzz.db")},
    )
    assert status in (0, 1, 2)
    if status == 1:
        assert err.getvalue().count("\n") == 1, err.getvalue()
        assert "\x1b" not in err.getvalue() and "\x00" not in err.getvalue()


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=200))
def test_manage_export_output_argument_never_crashes(name: str, tmp_path: Path) -> None:
    """Any --output file name is written or refused with one line; nothing escapes."""
    target = str(tmp_path / "out" / name) if name else ""
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["--env-file", "/dev/null", "export", "--output", target],
        stdout=out,
        stderr=err,
        environ={"DATABASE_PATH": str(tmp_path / "fuzz.db")},
    )
    assert status in (0, 1)
    if status == 1:
        assert err.getvalue().count("\n") == 1, err.getvalue()


@pytest.mark.parametrize("typed", NASTY)
def test_a_hostile_session_id_is_an_unknown_session(service: AttendanceService, typed: str) -> None:
    """Any typed session id (NUL included, which PostgreSQL cannot even compare) is an unknown session."""
    service.open_session()
    with pytest.raises(UnknownSession):
        service.get_session(typed)


def test_unknown_session_reply_does_not_echo_control_characters(service: AttendanceService) -> None:
    """A hostile session id is shown shortened and without control characters."""
    out, err = io.StringIO(), io.StringIO()
    evil = "\x1b[2J\u202e" + "A" * 5000
    main(
        ["--env-file", "/dev/null", "export", "--session", evil],
        stdout=out,
        stderr=err,
        environ=environ(service.settings),
    )
    line = err.getvalue()
    assert line.count("\n") == 1 and len(line) < 400
    assert not re.search(r"[\x00-\x1f\u202e]", line.rstrip("\n"))


def test_an_overlong_code_is_called_too_long_not_a_wrong_length(service: AttendanceService) -> None:
    """6,000 characters are explained as far too long, not as a miscounted code."""
    service.open_session()
    result = service.submit(user_id=1, username="eve", code="A" * 6000)
    assert result.outcome is Outcome.MALFORMED
    reply = messages.submit_reply(result)
    assert "far longer than a code" in reply and "not 64" not in reply
