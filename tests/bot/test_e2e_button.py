"""End to end through the emulator: the code message's Check in button and its form (issue 17 part 4),
and a course whose code is not shown in the channel (part 2)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

from botdriver import (
    ROOT,
    BotProcess,
    check_in_buttons,
    check_in_by_button,
    live_card,
    open_form,
    other_code,
    read_card,
    send_form,
    wait_until,
)
from conftest import World

from attendance_bot import messages
from attendance_bot.emulator import Emulator
from attendance_bot.records import FREE_WRONG_ATTEMPTS, Outcome, SubmitResult


def _recorded(session_id: str) -> str:
    return messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))


def _current_code(world: World) -> str:
    with world.db.service() as service:
        return service.current_code().code


def test_the_button_opens_a_form_whose_code_checks_in(world: World) -> None:
    """The code message carries one Check in button; pressing it opens the form as the first answer
    (no defer); the code typed there is recorded and answered ✅ privately, and the count rises."""
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    message = world.emu.emu.get_message(card.message_id)
    assert message is not None and len(check_in_buttons(message)) == 1
    student = world.student("formada")
    form = open_form(world.emu, student, card.message_id)
    assert form.type == 9 and not form.deferred  # the modal is the first (and only) answer to the press
    assert form.data["title"] == messages.check_in_modal_title(session_id)
    [field] = Emulator.modal_fields(form)
    assert field["label"] == messages.check_in_field_label() and field.get("required", True)
    reply = send_form(world.emu, student, form, _current_code(world))
    assert reply.content == _recorded(session_id) and reply.ephemeral
    assert [row.user_id for row in world.db.rows(session_id)] == [student.id]
    wait_until(lambda: read_card(world.emu.emu.get_message(card.message_id)).count == 1, 12, "the count to rise")


def test_a_wrong_code_in_the_form_is_refused_like_here(world: World) -> None:
    """The same wrong code gets the same reply by form as by /here, and nothing is stored."""
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    wrong = other_code(_current_code(world))
    by_form = check_in_by_button(world.emu, world.student("formwrong"), card.message_id, wrong)
    by_here = world.here(world.student("herewrong"), wrong)
    expected = SubmitResult(Outcome.WRONG, session_id, code=wrong, attempts_left=FREE_WRONG_ATTEMPTS - 1)
    assert by_form.content == by_here.content == messages.submit_reply(expected)
    assert by_form.ephemeral
    assert world.db.rows(session_id) == []


def test_a_closed_sessions_button_answers_as_here_does(world: World) -> None:
    """A form opened before the close and sent after it gets /here's "no session open"; the closed
    message loses its button."""
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    code = _current_code(world)
    student = world.student("formlate")
    form = open_form(world.emu, student, card.message_id)
    world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "close_attendance")
    reply = send_form(world.emu, student, form, code)
    assert reply.content == messages.no_session_reply() == world.here(world.student("herelate"), code).content
    assert world.db.rows(session_id) == []

    def finalised() -> bool:
        message = world.emu.emu.get_message(card.message_id)
        return message is not None and not read_card(message).is_open and not check_in_buttons(message)

    wait_until(finalised, 12, "the closed card without its button")


def test_the_button_keeps_working_after_a_restart(fresh_world: World) -> None:
    """kill -9 and a new start: the button on the message posted before works, and so does a form
    opened before the kill and sent after it (both keyed by session, not by process)."""
    emu = fresh_world.emu
    fresh_world.bot.start()
    session_id, _ = fresh_world.open()
    card = live_card(emu, session_id)
    early = fresh_world.student("formbefore")
    form_before = open_form(emu, early, card.message_id)
    assert fresh_world.bot.signal(signal.SIGKILL) == -signal.SIGKILL
    fresh_world.bot = BotProcess(emu, fresh_world.env).start()
    later = fresh_world.student("buttonafter")
    assert check_in_by_button(emu, later, card.message_id, _current_code(fresh_world)).content == _recorded(session_id)
    assert send_form(emu, early, form_before, _current_code(fresh_world)).content == _recorded(session_id)
    assert {r.user_id for r in fresh_world.db.rows(session_id)} == {early.id, later.id}


def _watched_code(world: World, timeout: float = 30.0) -> str:
    """The code `manage.py code --watch` shows (its first screen), then Ctrl-C."""
    proc = subprocess.Popen(
        [sys.executable, "-u", "manage.py", "--env-file", "/dev/null", "code", "--watch"],
        env=world.env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            found = re.search(r"type /here (\S+)", proc.stdout.readline())
            if found:
                return found.group(1)
        raise AssertionError("code --watch showed no code")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)


def test_with_code_in_channel_off_the_message_shows_no_code_but_code_watch_does(world: World) -> None:
    """/course edit code_in_channel:False: the next session's message says how to check in, with the
    countdown, the count and the button, and never a code (not in any of its edits); `code --watch`
    shows the code, and that code checks in through the button."""
    emu = world.emu
    edited = emu.invoke(emu.instructor, emu.admin_channel_id, "course edit", course="default", code_in_channel=False)
    assert edited.content == messages.course_edited_reply("default")
    try:
        session_id, _ = world.open()
        card = live_card(emu, session_id)
        assert card.code == "" and card.changes_at is not None and card.count == 0
        assert messages.check_in_button_label() in card.description
        watched = _watched_code(world)
        student = world.student("projectorada")
        assert check_in_by_button(emu, student, card.message_id, watched).content == _recorded(session_id)
        message = emu.emu.get_message(card.message_id)
        assert message is not None and check_in_buttons(message)
        shown = [message.embeds, *(version.embeds for version in message.edits)]
        for embeds in shown:
            description = str(embeds[0].get("description")) if embeds else ""
            assert not re.search(r"/here [A-Z0-9]|# `", description) and watched not in description, description
    finally:
        emu.invoke(emu.instructor, emu.admin_channel_id, "course edit", course="default", code_in_channel=True)


def test_with_code_in_channel_off_the_open_reply_does_not_say_the_code_is_in_the_channel(world: World) -> None:
    """/open_attendance's private reply says where the code is: with code_in_channel off, not in the
    channel (its message shows how to check in), but on the projector page and `code --watch`."""
    emu = world.emu
    emu.invoke(emu.instructor, emu.admin_channel_id, "course edit", course="default", code_in_channel=False)
    try:
        session_id, reply = world.open()
        expected = messages.opened_reply(session_id, emu.attendance_channel_id, code_in_channel=False)
        assert reply.content == expected
        assert "the code is shown" not in reply.content
    finally:
        emu.invoke(emu.instructor, emu.admin_channel_id, "course edit", course="default", code_in_channel=True)
