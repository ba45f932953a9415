"""code_in_channel and the Check in button's way in (issue 17): the setting kept per course and per
session, the card without a code, and a button's submission judged for its own session alone."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from _course import ADMIN_CHANNEL_ID, ATTENDANCE_CHANNEL_ID, GUILD_ID
from _shell import run_shell

from attendance_bot import messages
from attendance_bot.attendance import AttendanceService
from attendance_bot.codes import ALPHABET
from attendance_bot.models import close_db, init_db
from attendance_bot.records import FREE_WRONG_ATTEMPTS, CurrentCode, Outcome, Submission

pytestmark = pytest.mark.backends("sqlite", "postgresql")


def _button(session_id: str, code: str, user_id: int = 1, *, channel_id: int = ADMIN_CHANNEL_ID) -> Submission:
    """What the Check in button's form sends: the session of the message, from wherever the message is."""
    return Submission(
        user_id, f"student{user_id}", code, channel_id=channel_id, guild_id=GUILD_ID, session_id=session_id
    )


def _here(code: str, user_id: int = 1, *, channel_id: int = ATTENDANCE_CHANNEL_ID) -> Submission:
    return Submission(user_id, f"student{user_id}", code, channel_id=channel_id, guild_id=GUILD_ID)


def _wrong(service: AttendanceService) -> str:
    """A well-formed code the open session does not show in the next hour."""
    session = service.open_session_info()
    assert session is not None
    shown = {service.code_at(session, session.opened_at + timedelta(seconds=s)).code for s in range(0, 3600, 5)}
    return next(c for c in ("".join(p) for p in itertools.product(ALPHABET, repeat=4)) if c not in shown)


def test_a_course_shows_the_code_until_told_not_to(service: AttendanceService) -> None:
    """Unset, the code is in the channel (today's behaviour); False is kept and shown; True again."""
    course = service.courses.for_shell(None)
    assert course.code_in_channel is True
    assert service.courses.edit(course.id, code_in_channel=False).code_in_channel is False
    assert service.courses.get(course.id).code_in_channel is False
    assert service.courses.edit(course.id, code_in_channel=True).code_in_channel is True


def test_a_session_keeps_the_setting_it_opened_with(service: AttendanceService) -> None:
    """Like the code settings, an edit applies from the next session: the open one keeps its choice."""
    course = service.courses.for_shell(None)
    service.courses.edit(course.id, code_in_channel=False)
    first = service.open_session()
    assert first.code_in_channel is False
    service.courses.edit(course.id, code_in_channel=True)
    [(live, _, _)] = service.live_codes(service.clock())
    assert live.session_id == first.session_id and live.code_in_channel is False
    service.close_session()
    assert service.open_session().code_in_channel is True


def test_the_card_without_the_code_says_how_to_check_in_but_shows_no_code() -> None:
    """Off: the message says a session is open, how to check in, the countdown and the count, and no code."""
    current = CurrentCode("20240902-0900-ABCD", "K7QX", 1, 4.0, datetime(2024, 9, 2, 9, 0, 15, tzinfo=timezone.utc))
    hidden = messages.code_card(current, 12, "Math 101", in_channel=False)
    shown = messages.code_card(current, 12, "Math 101")
    everything = " ".join([hidden.title, hidden.description, hidden.footer, *(f"{n} {v}" for n, v in hidden.fields)])
    assert "K7QX" not in everything and "K 7 Q X" not in everything
    assert messages.check_in_button_label() in hidden.description and "/here" in hidden.description
    assert hidden.title == shown.title and hidden.fields == shown.fields  # the countdown, the count, the session
    assert "K7QX" in shown.description


def test_a_buttons_code_counts_for_its_session_from_wherever_the_message_is(service: AttendanceService) -> None:
    """The form sent from a code message in the admin channel (projector mode) checks in to that session;
    /here typed there is still told where to type it."""
    session = service.open_session()
    code = service.current_code().code
    [by_button, by_here] = service.submit_many(
        [_button(session.session_id, code), _here(code, 2, channel_id=ADMIN_CHANNEL_ID)]
    )
    assert by_button.outcome is Outcome.RECORDED and by_button.session_id == session.session_id
    assert by_here.outcome is Outcome.WRONG_CHANNEL
    assert [row.user_id for row in service.export_rows(session.session_id)] == [1]


@pytest.mark.parametrize("which", ["closed", "unknown", "another server's"])
def test_a_button_of_a_session_not_open_here_answers_as_here_does_with_none_open(
    service: AttendanceService, which: str
) -> None:
    """A closed session's button (or one naming no open session of this server) gets /here's "no session open"
    reply, and nothing is stored, even while another session of the course is open."""
    first = service.open_session()
    code = service.current_code().code
    if which == "closed":
        service.close_session()
        service.open_session()  # the course's next session: the old button is still not for it
        code = service.current_code().code
    target = "20240101-0000-NONE" if which == "unknown" else first.session_id
    guild = GUILD_ID + 1 if which == "another server's" else GUILD_ID
    [result] = service.submit_many(
        [Submission(1, "student1", code, channel_id=ADMIN_CHANNEL_ID, guild_id=guild, session_id=target)]
    )
    assert result.outcome is Outcome.NO_SESSION
    assert messages.submit_reply(result) == messages.no_session_reply()
    assert service.export_rows(first.session_id) == []


def test_wrong_codes_by_button_and_by_here_share_one_throttle(service: AttendanceService) -> None:
    """A student who guesses with /here cannot go on guessing through the button: the waits count both."""
    session = service.open_session()
    wrong = _wrong(service)
    for _ in range(FREE_WRONG_ATTEMPTS):
        [result] = service.submit_many([_here(wrong)])
        assert result.outcome is Outcome.WRONG
    [result] = service.submit_many([_button(session.session_id, wrong)])
    assert result.outcome is Outcome.THROTTLED
    [right] = service.submit_many([_button(session.session_id, service.current_code().code)])
    assert right.outcome is Outcome.THROTTLED  # even the right code waits, as it does with /here


# -- the shell ------------------------------------------------------------------------------------


@pytest.fixture
def shell_env(tmp_path: Path, backend: str) -> dict[str, str]:
    if backend != "sqlite":
        pytest.skip("the shell's course commands are tested on SQLite (tests/test_manage_courses.py)")
    database = tmp_path / "db" / "attendance.db"
    database.parent.mkdir()
    init_db(database)
    close_db()
    (tmp_path / "empty.env").touch()
    return {"PATH": "/usr/bin:/bin", "DATABASE_PATH": str(database), "HOME": str(tmp_path)}


def _shell(env: dict[str, str]) -> Callable[..., tuple[int, str, str]]:
    def run(*args: str) -> tuple[int, str, str]:
        result = run_shell(*args, environ=env, env_file=Path(env["HOME"]) / "empty.env")
        return result.returncode, result.out, result.err

    return run


def test_the_shell_adds_and_edits_the_setting_and_lists_it(shell_env: dict[str, str]) -> None:
    """`course add|edit --code-in-channel yes|no`; `courses` says where the code is shown."""
    shell = _shell(shell_env)
    channels = ("--admin-channel", "800000000000000001", "--attendance-channel", "800000000000000002")
    status, _, err = shell(
        "course", "add", "--name", "Algebra", "--guild", "900000000000000001", *channels, "--code-in-channel", "no"
    )
    assert status == 0, err
    status, listing, _ = shell("courses")
    assert listing.splitlines()[1].split()[-2] == messages.code_in_channel_column(False)
    assert shell("course", "edit", "Algebra", "--code-in-channel", "yes")[0] == 0
    assert shell("courses")[1].splitlines()[1].split()[-2] == messages.code_in_channel_column(True)


def test_the_shell_refuses_anything_but_yes_or_no(shell_env: dict[str, str]) -> None:
    """A value that is not yes or no is one line naming the option, and nothing changes."""
    shell = _shell(shell_env)
    channels = ("--admin-channel", "800000000000000001", "--attendance-channel", "800000000000000002")
    assert shell("course", "add", "--name", "Algebra", "--guild", "900000000000000001", *channels)[0] == 0
    status, out, err = shell("course", "edit", "Algebra", "--code-in-channel", "maybe")
    assert (status, out) == (1, "") and err == f"Error: {messages.bad_switch('--code-in-channel', 'maybe')}\n"
    assert shell("courses")[1].splitlines()[1].split()[-2] == messages.code_in_channel_column(True)
