"""End to end: the rotating code message, manage.py beside the running bot, and Discord misbehaving."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botdriver import INTERVAL, live_card, manage, next_card, read_card, session_messages, wait_until
from conftest import World

from attendance_bot import messages
from attendance_bot.records import Outcome, SubmitResult

EDIT_ROUTE = r"^/channels/\d+/messages/\d+$"


def _accepted(session_id: str) -> str:
    return messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))


def test_rotation_edits_at_boundaries_and_shown_code_is_accepted(world: World) -> None:
    """At each window boundary the same message is edited to the next code, and that code is accepted."""
    session_id, _ = world.open()
    first = live_card(world.emu, session_id)
    second = next_card(world.emu, session_id, first)
    assert second.message_id == first.message_id
    assert second.changes_at - first.changes_at == timedelta(seconds=INTERVAL)
    expected = second.expected_open()
    assert (second.description, second.fields) == (expected.description, expected.fields)
    edited_at = world.emu.emu.get_message(second.message_id).edited_at
    assert first.changes_at <= edited_at < first.changes_at + timedelta(seconds=2), "edited late"
    assert world.here(world.student("rotator"), second.code).content == _accepted(session_id)


def test_a_post_that_lands_after_its_window_is_brought_up_to_date_at_once(world: World) -> None:
    """Discord slow to take the new code message (longer than a window): the message lands showing a
    code whose window has passed, and its first edit brings it to the window it landed in, not the
    one after (a window late, the code on screen was already expiring: a test that took it saw
    "expired")."""
    slow = world.emu.faults.add(r"^/channels/\d+/messages$", "POST", None, delay=INTERVAL + 0.5, times=1)
    try:
        session_id, _ = world.open()
        live_card(world.emu, session_id, timeout=3 * INTERVAL)
    finally:
        world.emu.faults.remove(slow)

    def edited() -> Any:
        found = [m for m in session_messages(world.emu, session_id) if m.edits]
        return found[-1] if found else None

    message = wait_until(edited, 2 * INTERVAL + 3, "the code message's first edit")
    versions = [*message.edits, message][:2]  # as posted, then as first edited
    posted, first_edit = (read_card(SimpleNamespace(id=message.id, embeds=v.embeds)) for v in versions)
    landed = message.created_at
    assert posted.changes_at is not None and posted.changes_at <= landed, "the post was meant to land late"
    boundary = posted.changes_at
    while boundary <= landed:
        boundary += timedelta(seconds=INTERVAL)
    assert first_edit.changes_at == boundary, f"edited a window late: {first_edit.changes_at}, not {boundary}"


def test_count_on_the_message_follows_checkins(world: World) -> None:
    """The "checked in" count on the code message goes up at the next edit after a check-in."""
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    world.here(world.student("counted"), card.code)
    # The edit at the next boundary (or, if one was already on its way, the one after) shows 1.
    later = wait_until(
        lambda: (c := live_card(world.emu, session_id)).count == 1 and c, 2 * INTERVAL + 2, "the count to show 1"
    )
    assert later.message_id == card.message_id
    # The instructor's marks of absent and excused are no one present: after them the count stays 1
    # (the edit after next reads the database after the marks).
    for name, status in (("markedabsent", "absent"), ("markedexcused", "excused")):
        reply = world.emu.invoke(
            world.emu.instructor,
            world.emu.admin_channel_id,
            "attendance mark",
            student=f"<@{world.student(name).id}>",
            status=status,
        )
        assert status in (reply.content or ""), reply.content
    after = next_card(world.emu, session_id, next_card(world.emu, session_id, later))
    assert after.count == 1


def test_manage_open_is_picked_up(world: World) -> None:
    """`manage.py open` in a shell: the running bot posts the code message within one window."""
    manage(world.env, "open")
    session = world.db.open_session()
    assert session is not None
    card = live_card(world.emu, session.session_id, timeout=INTERVAL + 2)
    assert world.here(world.student("shellopen"), card.code).content == _accepted(session.session_id)


def test_manage_close_is_picked_up(world: World) -> None:
    """`manage.py close` in a shell: the running bot finalises the code message within one window; its
    count and the shell's are of the present only (not a student the instructor excused)."""
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    world.here(world.student("shellclose"), card.code)
    excused = world.student("shellexcused")
    manage(world.env, "mark", "--student", str(excused.id), "--status", "excused")
    closed = manage(world.env, "close").stdout.decode()
    assert closed.strip().endswith(f"{session_id} of course 'default': 1 present."), closed
    closed_at = world.db.session(session_id).closed_at
    expected = messages.closed_card(session_id, 1, closed_at)

    def final() -> object:
        shown = read_card(world.emu.emu.get_message(card.message_id))
        return shown if not shown.is_open else None

    shown = wait_until(final, INTERVAL + 2, "the final edit")
    assert (shown.title, shown.description, shown.fields) == (expected.title, expected.description, expected.fields)
    assert world.here(world.student("afterclose"), card.code).content == messages.no_session_reply()


def test_deleted_code_message_is_posted_again(world: World) -> None:
    """A moderator deletes the code message: the bot posts it again within a window, with a working code."""
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    world.emu.delete_message(world.emu.attendance_channel_id, card.message_id)
    again = wait_until(
        lambda: [c for c in map(read_card, session_messages(world.emu, session_id)) if c.is_open],
        INTERVAL + 2,
        "the code message to be posted again",
    )[-1]
    assert again.message_id != card.message_id
    assert world.here(world.student("reposted"), again.code).content == _accepted(session_id)


@pytest.mark.parametrize("status", [500, 429])
def test_rotation_survives_rest_errors_on_edit(world: World, status: int) -> None:
    """REST 500/429 answers to the message edit do not stop the rotation; the shown code stays right."""
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    fault = world.emu.faults.add(EDIT_ROUTE, "PATCH", status, retry_after=0.5, times=2)
    wait_until(lambda: fault.hits >= 2, INTERVAL + 2, "the faults to be hit")
    after = next_card(world.emu, session_id, card, timeout=INTERVAL + 8)  # the edit got through after all
    assert fault.hits == 2
    assert after.message_id == card.message_id
    assert after.code == world.db.code_for(after)
    assert world.here(world.student(f"fault{status}"), after.code).content == _accepted(session_id)


def test_message_older_than_an_hour_is_replaced(world: World) -> None:
    """When Discord refuses edits (message over an hour old) a fresh message is posted and the old one removed."""
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    world.emu.advance_clock(3600 + 60)

    def replaced() -> object:
        # The bot posts the fresh message first and then deletes the old one: wait for both.
        cards = [c for c in map(read_card, session_messages(world.emu, session_id)) if c.is_open]
        return cards if len(cards) == 1 and cards[0].message_id != card.message_id else None

    cards = wait_until(replaced, INTERVAL + 3, "a fresh code message and the old one gone")
    assert world.emu.emu.get_message(card.message_id).deleted
    assert world.here(world.student("hourlater"), cards[-1].code).content == _accepted(session_id)


def test_bot_resumes_after_gateway_drop(world: World) -> None:
    """The gateway connection drops: the bot resumes the session and answers commands again."""
    session_id, _ = world.open()
    gateway = world.emu.emu.gateway
    resumes = gateway.resume_count
    world.emu.drop_gateway()
    wait_until(lambda: gateway.resume_count > resumes and gateway.connected, 15, "the bot to resume")
    reply = world.here(world.student("resumed"), live_card(world.emu, session_id).code)
    assert reply.content == _accepted(session_id)


def test_rest_error_on_reply_gives_one_sentence_and_bot_goes_on(world: World) -> None:
    """A REST error while answering a command ends in the generic sentence, and the next command works."""
    session_id, _ = world.open()
    code = live_card(world.emu, session_id).code
    world.emu.faults.add(r"/interactions/\d+/[^/]+/callback$", "POST", 400, times=1)
    reply = world.here(world.student("unlucky"), code)
    assert reply.content == messages.generic_failure_reply()
    assert reply.ephemeral
    reply = world.here(world.student("lucky"), live_card(world.emu, session_id).code)
    assert reply.content == _accepted(session_id)
