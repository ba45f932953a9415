"""End to end: the slash commands of the real bot, through the emulator, as instructors and students see them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from botdriver import (
    INTERVAL,
    Card,
    current_card,
    live_card,
    manage,
    next_card,
    other_code,
    read_card,
    session_messages,
    wait_until,
)
from conftest import World

from attendance_bot import messages
from attendance_bot.checkin import FIRST_WAIT_SECONDS
from attendance_bot.clock import utc_now
from attendance_bot.errors import NoOpenSession, SessionAlreadyOpen, UnknownSession
from attendance_bot.export import FORMATS, filename_for
from attendance_bot.records import FREE_WRONG_ATTEMPTS, Outcome, SubmitResult

pytestmark = pytest.mark.backends("sqlite", "postgresql")


def _accepted(session_id: str) -> str:
    return messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))


def test_open_posts_code_message(world: World) -> None:
    """/open_attendance answers privately and posts the code embed: code, /here CODE, <t:…:R>, session, count."""
    session_id, reply = world.open()
    assert reply.content == messages.opened_reply(session_id, world.emu.attendance_channel_id)
    assert reply.ephemeral
    card = live_card(world.emu, session_id)
    expected = card.expected_open()
    assert (card.title, card.description, card.fields) == (expected.title, expected.description, expected.fields)
    assert card.count == 0
    assert card.code == world.db.code_for(card)
    assert card.changes_at.timestamp() % INTERVAL == 0


def test_here_with_displayed_code_records(world: World) -> None:
    """/here with the code on screen is accepted privately and the record is in the database."""
    session_id, _ = world.open()
    student = world.student("ada")
    reply = world.here(student, live_card(world.emu, session_id).code)
    assert reply.content == _accepted(session_id)
    assert reply.ephemeral
    rows = world.db.rows(session_id)
    assert [(r.user_id, r.username) for r in rows] == [(student.id, "ada")]


def test_here_is_forgiving_about_case_and_dashes(world: World) -> None:
    """A code typed in lower case with a dash in the middle and spaces around is accepted."""
    session_id, _ = world.open()
    code = live_card(world.emu, session_id).code
    reply = world.here(world.student("lowercase"), f"  {code[:2].lower()}-{code[2:].lower()} ")
    assert reply.content == _accepted(session_id)


def test_previous_window_code_accepted_within_grace(world: World) -> None:
    """The code that just rotated off the screen is still accepted (grace of one window)."""
    session_id, _ = world.open()
    first = live_card(world.emu, session_id)
    next_card(world.emu, session_id, first)
    reply = world.here(world.student("slowtyper"), first.code)
    assert reply.content == _accepted(session_id)
    assert len(world.db.rows(session_id)) == 1


def test_older_code_is_expired(world: World) -> None:
    """A code of this session from two windows ago is refused as expired, not as wrong."""
    started = utc_now() - timedelta(seconds=4 * INTERVAL)
    with world.db.service(clock=lambda: started) as service:
        session = service.open_session(opened_by="test")
        old = service.code_at(session, utc_now() - timedelta(seconds=2 * INTERVAL)).code
    reply = world.here(world.student("late"), old)
    assert reply.content == messages.submit_reply(SubmitResult(Outcome.EXPIRED, session.session_id, code=old))
    assert reply.ephemeral
    assert world.db.rows(session.session_id) == []


def test_wrong_code_is_refused(world: World) -> None:
    """A well-formed code that was never shown is refused with the tries left; nothing is recorded."""
    session_id, _ = world.open()
    wrong = other_code(live_card(world.emu, session_id).code)
    reply = world.here(world.student("guesser"), wrong)
    expected = SubmitResult(Outcome.WRONG, session_id, code=wrong, attempts_left=FREE_WRONG_ATTEMPTS - 1)
    assert reply.content == messages.submit_reply(expected)
    assert reply.ephemeral
    assert world.db.rows(session_id) == []


def test_wrong_codes_are_throttled_after_the_limit(world: World) -> None:
    """After the free wrong codes even the right code is refused, with how long to wait."""
    session_id, _ = world.open()
    student = world.student("bruteforce")
    card = live_card(world.emu, session_id)
    wrong = other_code(card.code)
    for _ in range(FREE_WRONG_ATTEMPTS):
        last = world.here(student, wrong)
    assert last.content == messages.submit_reply(
        SubmitResult(Outcome.WRONG, session_id, code=wrong, attempts_left=0, retry_after=FIRST_WAIT_SECONDS)
    )
    reply = world.here(student, live_card(world.emu, session_id).code)
    waits = {
        messages.submit_reply(SubmitResult(Outcome.THROTTLED, session_id, retry_after=s))
        for s in range(FIRST_WAIT_SECONDS - 10, FIRST_WAIT_SECONDS + 1)
    }
    assert reply.content in waits
    assert reply.ephemeral
    assert world.db.rows(session_id) == []


def test_here_in_wrong_channel_is_refused(world: World) -> None:
    """/here outside the attendance channel points to it and records nothing."""
    session_id, _ = world.open()
    reply = world.here(world.student("lost"), live_card(world.emu, session_id).code, world.emu.admin_channel_id)
    assert reply.content == messages.wrong_channel_reply([world.emu.attendance_channel_id])
    assert reply.ephemeral
    assert world.db.rows(session_id) == []


def test_here_without_session_is_refused(world: World) -> None:
    """/here with no session open says so and creates nothing."""
    reply = world.here(world.student("early"), "ABCD")
    assert reply.content == messages.no_session_reply()
    assert reply.ephemeral
    assert world.db.open_session() is None


@pytest.mark.parametrize("command", ["open_attendance", "close_attendance", "export_csv"])
def test_student_cannot_use_admin_commands(world: World, command: str) -> None:
    """A student running an admin command in the admin channel is refused and nothing changes."""
    session_id, _ = world.open()
    reply = world.emu.invoke(world.student(f"sneaky_{command}"), world.emu.admin_channel_id, command)
    assert reply.content == messages.not_admin_reply()
    assert reply.ephemeral
    assert reply.files == []
    open_now = world.db.open_session()
    assert open_now is not None and open_now.session_id == session_id


@pytest.mark.parametrize("command", ["open_attendance", "close_attendance", "export_csv"])
def test_admin_outside_admin_channel_is_refused(world: World, command: str) -> None:
    """The instructor running an admin command outside the admin channel is pointed to it; nothing changes."""
    session_id, _ = world.open()
    reply = world.emu.invoke(world.emu.instructor, world.emu.attendance_channel_id, command)
    assert reply.content == messages.no_course_here([("default", world.emu.admin_channel_id)])
    assert reply.ephemeral
    assert reply.files == []
    open_now = world.db.open_session()
    assert open_now is not None and open_now.session_id == session_id


def test_open_while_open_is_refused(world: World) -> None:
    """A second /open_attendance names the session already open and opens nothing."""
    session_id, _ = world.open()
    with world.db.service() as service:
        with pytest.raises(SessionAlreadyOpen) as expected:
            service.open_session()
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "open_attendance")
    assert reply.content == str(expected.value)
    assert reply.ephemeral
    assert world.db.open_session().session_id == session_id


def test_close_without_session_is_refused(world: World) -> None:
    """/close_attendance with nothing open says so."""
    with world.db.service() as service:
        with pytest.raises(NoOpenSession) as expected:
            service.close_session()
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "close_attendance")
    assert reply.content == str(expected.value)
    assert reply.ephemeral


def test_resubmission_last_wins(world: World) -> None:
    """A second /here replaces the first: one record, with the later time, and the reply says so."""
    session_id, _ = world.open()
    student = world.student("twice")
    code = current_card(world.emu, session_id).code
    assert world.here(student, code).content == _accepted(session_id)
    (first,) = world.db.rows(session_id)
    reply = world.here(student, current_card(world.emu, session_id).code)
    assert reply.content == messages.submit_reply(SubmitResult(Outcome.UPDATED, session_id))
    (second,) = world.db.rows(session_id)
    assert second.user_id == student.id
    assert second.submitted_at > first.submitted_at


def test_close_finalises_message_and_gives_count(world: World) -> None:
    """/close_attendance replies with the total and the code message becomes "Closed — N present",
    N the present and late only (a check-in the instructor excused and an absent mark are not)."""
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    for name in ("closer1", "closer2"):
        assert world.here(world.student(name), card.code).content == _accepted(session_id)
    for name, status in (("closer3", "excused"), ("closerabsent", "absent")):  # marks count as no one present
        marked = world.student(name)
        if status == "excused":
            assert world.here(marked, card.code).content == _accepted(session_id)
        mark = world.emu.invoke(
            world.emu.instructor,
            world.emu.admin_channel_id,
            "attendance mark",
            student=f"<@{marked.id}>",
            status=status,
        )
        assert status in (mark.content or ""), mark.content
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "close_attendance")
    assert reply.content == messages.closed_reply(session_id, 2)
    closed_at = world.db.session(session_id).closed_at
    assert closed_at is not None
    expected = messages.closed_card(session_id, 2, closed_at)

    def finalised() -> list[Card] | None:
        shown = [read_card(m) for m in session_messages(world.emu, session_id)]
        return shown if shown and not shown[-1].is_open else None

    shown = wait_until(finalised, 5, "the final edit")
    assert [c.message_id for c in shown] == [card.message_id]
    final = shown[0]
    assert (final.title, final.description, final.fields) == (expected.title, expected.description, expected.fields)


def test_export_equals_manage_export(world: World) -> None:
    """/export_csv attaches exactly the bytes `manage.py export` prints, for all sessions and for one."""
    session_id, _ = world.open()
    code = live_card(world.emu, session_id).code
    for name in ("exp1", "exp2"):
        world.here(world.student(name), code)
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "export_csv")
    everything = manage(world.env, "export").stdout
    assert reply.ephemeral
    assert reply.content == messages.export_reply(everything.count(b"\r\n") - 1, None)
    assert [data for _, data in reply.files] == [everything]

    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "export_csv", session_id=session_id)
    assert reply.content == messages.export_reply(2, session_id)
    assert [data for _, data in reply.files] == [manage(world.env, "export", "--session", session_id).stdout]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_of_export_csv_equals_manage_export(world: World, fmt: str, tmp_path: Path) -> None:
    """/export_csv format:F attaches exactly the bytes `manage.py export --format F` prints, named as
    the export names it, with the count of its rows, for the course and for one session (a roster,
    a late check-in, an excused one and an absent mark in it)."""
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "student_id,name,discord\nF001,Fay One,fmt1\nF002,Fay Two,fmt2\nF003,Fay Away,\n", encoding="utf-8"
    )
    manage(world.env, "roster", "import", str(roster))
    session_id, _ = world.open()
    code = live_card(world.emu, session_id).code
    for name in ("fmt1", "fmt2", "fmtexcused"):
        assert world.here(world.student(name), code).content == _accepted(session_id)
    for name, status in (("fmt2", "late"), ("fmtexcused", "excused"), ("fmtabsent", "absent")):
        marked = world.student(name)
        mark = world.emu.invoke(
            world.emu.instructor,
            world.emu.admin_channel_id,
            "attendance mark",
            student=f"<@{marked.id}>",
            status=status,
        )
        assert status in (mark.content or ""), mark.content
    world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "close_attendance")
    for wanted in (None, session_id):
        chosen = {} if wanted is None else {"session_id": wanted}
        reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "export_csv", format=fmt, **chosen)
        printed = manage(
            world.env, "export", "--format", fmt, *(() if wanted is None else ("--session", wanted))
        ).stdout
        count = printed.count(b"\r\n") - 1
        assert reply.ephemeral
        assert reply.content == (
            messages.export_reply(count, wanted)
            if fmt == "records"
            else messages.export_format_reply(count, wanted, fmt)
        )
        assert reply.files == [(filename_for(wanted, fmt), printed)]
        assert count > 0


def test_export_unknown_session_lists_recent(world: World) -> None:
    """/export_csv with an unknown id says so and lists the recent session ids."""
    session_id, _ = world.open()
    with world.db.service() as service:
        with pytest.raises(UnknownSession) as expected:
            service.export_rows("NOSUCH")
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "export_csv", session_id="NOSUCH")
    assert reply.content == messages.unknown_session("NOSUCH", expected.value.recent) == str(expected.value)
    assert session_id in reply.content
    assert reply.files == []
    assert reply.ephemeral


@pytest.mark.parametrize("command", ["open_attendance", "export_csv", "my_attendance"])
def test_a_nul_in_the_course_option_is_an_unknown_course(world: World, command: str) -> None:
    """A `course` holding a NUL (PostgreSQL refuses one in a query) is an unknown course, privately,
    on both backends; nothing is opened."""
    world.db.close_any()
    typed = "de\x00fault"
    member = world.emu.instructor if command != "my_attendance" else world.student(f"nul_{command}")
    channel = world.emu.admin_channel_id if command != "my_attendance" else world.emu.attendance_channel_id
    reply = world.emu.invoke(member, channel, command, course=typed)
    assert reply.content == messages.unknown_course(typed, ["default"])
    assert reply.ephemeral and reply.files == []
    assert world.db.open_session() is None
