"""End to end: low-attendance warnings (the admin channel's digest after a session closes, the student's
note in their next check-in's reply, a direct message, one refused with Discord's 50007) and the
excuse flow (a student's /excuse, Approve and Deny in the admin channel, a forged press by a student
refused), with the real bot on the emulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from _backends import fetch
from botdriver import live_card, manage, read_card, session_messages, wait_until
from conftest import World

from attendance_bot import messages
from attendance_bot.emulator import Member, Message
from attendance_bot.models import close_all, init_db
from attendance_bot.records import ExcuseInfo, GradebookStudent, WarnedStudent, WarningDigest
from attendance_bot.services import Services

pytestmark = pytest.mark.backends("sqlite", "postgresql")

LINE = 60


def query(world: World, sql: str, *params: object) -> list[tuple[Any, ...]]:
    return fetch(world.db.target, sql, params, read_only=True)


def roster(world: World, tmp_path: Path, *rows: tuple[str, str, Member]) -> None:
    """Add students to the course's roster from the shell, each with their Discord username."""
    path = tmp_path / "roster.csv"
    path.write_text("student_id,name,discord\n" + "".join(f"{s},{n},{m.username}\n" for s, n, m in rows))
    manage(world.env, "roster", "import", str(path))


def admin(world: World, command: str, **options: Any) -> str:
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, command, **options)
    return reply.content or ""


def close(world: World, session_id: str) -> None:
    """The instructor closes the session; returns once the code message shows the closed card."""
    admin(world, "close_attendance")

    def closed() -> bool:
        cards = [read_card(m) for m in session_messages(world.emu, session_id)]
        return bool(cards) and not cards[-1].is_open

    wait_until(closed, timeout=15, what="the closed card")


def digests(world: World, session_id: str) -> list[Message]:
    """The warning digests posted after a session (the admin channel outlives the module's other bot)."""
    start = f"⚠️ **default**, after session {session_id}:"
    return [m for m in world.emu.messages(world.emu.admin_channel_id) if m.content.startswith(start)]


def warned(student_id: str, name: str, member: Member) -> WarnedStudent:
    """A roster student as the digest names them, at 0 %."""
    student = GradebookStudent(student_id, name, member.username, None, None, True, student_id.casefold())
    return WarnedStudent(student, Decimal("0.000"))


def test_the_digest_names_each_crossing_once_and_a_refused_dm_is_noted(world: World, tmp_path: Path) -> None:
    """After the first session Ann and Bob (absent) are below the line: the admin channel's digest names
    them; Ann, who turned DMs on, gets a direct message; Bob, who refuses DMs, is noted (no message,
    not tried again) and sees the note once, in his next check-in's reply. The second session changes no
    one's side of the line: no second digest."""
    emu = world.emu
    ann, bob, cy = world.student("warn_ann"), world.student("warn_bob"), world.student("warn_cy")
    roster(world, tmp_path, ("W1", "Ann", ann), ("W2", "Bob", bob), ("W3", "Cy", cy))
    admin(world, "course edit", course="default", warn_below=LINE, warn_after=1)
    for member, student_id in ((ann, "W1"), (bob, "W2")):  # so the bot knows whom to tell
        registered = emu.invoke(member, emu.attendance_channel_id, "register", student_id=student_id)
        assert registered.content == messages.registered_reply(student_id, None, False)
    for member in (ann, bob):
        reply = emu.invoke(member, emu.attendance_channel_id, "notify", dms="on")
        assert reply.ephemeral and reply.content == messages.notify_reply(True)
    emu.refuse_dms(bob)
    try:
        first, _ = world.open()
        assert world.here(cy, world.db.code_for(live_card(emu, first))).ephemeral
        close(world, first)
        (posted,) = wait_until(lambda: digests(world, first), what="the warning digest")
        expected = WarningDigest(
            0,
            "default",
            emu.admin_channel_id,
            first,
            LINE,
            (warned("W1", "Ann", ann), warned("W2", "Bob", bob)),
            (),
            None,
        )
        assert posted.content == "\n".join(messages.warning_digest_lines(expected))
        note = messages.below_line_notice("default", LINE, "0.0")
        (dm,) = wait_until(lambda: emu.direct_messages(ann), what="Ann's direct message")
        assert dm.content == messages.direct_message_text([note])
        wait_until(
            lambda: query(world, "SELECT shown_at FROM student_notice WHERE user_id = ?", ann.id)[0][0],
            what="Ann's note noted as sent",
        )
        wait_until(
            lambda: query(world, "SELECT refused_at FROM direct_messages WHERE user_id = ?", bob.id)[0][0],
            what="Bob's refusal noted",
        )
        assert emu.direct_messages(bob) == []

        second, _ = world.open()
        code = world.db.code_for(live_card(emu, second))
        assert note not in (world.here(ann, code).content or "")  # she had it by direct message
        told = world.here(bob, code).content or ""
        assert told.endswith("\n" + note)
        assert note not in (world.here(bob, code).content or "")  # once
        assert world.here(cy, code).ephemeral  # Cy stays at 100 %; Ann and Bob at 50 % stay below
        close(world, second)
        wait_until(lambda: query(world, "SELECT id FROM digest WHERE session_id = ?", second), what="its digest")
        assert digests(world, second) == [] and len(digests(world, first)) == 1
        assert emu.direct_messages(bob) == [] and len(emu.direct_messages(ann)) == 1
    finally:
        emu.refuse_dms(bob, False)
        admin(world, "course edit", course="default", warn_below=0)


def _excuse(world: World, request_id: int) -> ExcuseInfo:
    """The request as the bot's database holds it."""
    init_db(world.db.target)
    try:
        return Services(world.db.settings()).excuses.get(request_id, None)
    finally:
        close_all()


def test_the_excuse_flow_with_a_forged_press_by_a_student(world: World, tmp_path: Path) -> None:
    """Dan, absent, asks to be excused; the request appears in the admin channel with Approve and Deny;
    his own forged press of Approve is refused and changes nothing; the instructor's Approve marks him
    excused with his reason, the request and the decision are events, and Dan learns it once, in the
    reply to his next command."""
    emu = world.emu
    tz = world.db.settings().timezone
    dan = world.student("excuse_dan")
    roster(world, tmp_path, ("E1", "Dan", dan))
    session, _ = world.open()
    close(world, session)
    choices = emu.autocomplete(dan, emu.attendance_channel_id, "excuse", focused="session")
    assert session in [c["value"] for c in choices]

    reply = emu.invoke(dan, emu.attendance_channel_id, "excuse", session=session, reason="Doctor's appointment")
    ((request_id,),) = query(world, "SELECT id FROM excuse_request WHERE session_id = ?", session)
    info = _excuse(world, request_id)
    assert reply.ephemeral and reply.content == messages.excuse_requested_reply(info, tz, True)
    (posted,) = [m for m in emu.messages(emu.admin_channel_id) if m.id == info.message_id]
    assert posted.content == messages.excuse_request_text(info, tz)
    buttons = [b for row in posted.components for b in row["components"]]
    assert [b["label"] for b in buttons] == [messages.excuse_approve_label(), messages.excuse_deny_label()]

    forged = emu.forge_button(dan, posted.id, f"excuse:approve:{request_id}")
    assert forged.ephemeral and forged.content == messages.not_admin_reply("default")
    assert _excuse(world, request_id).decision is None
    assert query(world, "SELECT status FROM attendance WHERE session_id = ?", session) == []

    emu.press_button(emu.instructor, posted.id, label=messages.excuse_approve_label())
    decided = _excuse(world, request_id)
    assert decided.decision == "approved"
    (after,) = [m for m in emu.messages(emu.admin_channel_id) if m.id == posted.id]
    assert after.content == messages.excuse_decided_text(decided, tz) and after.components == []
    assert query(world, "SELECT status, source, student_key FROM attendance WHERE session_id = ?", session) == [
        ("excused", "manual", "e1")
    ]
    events = query(world, "SELECT action, reason FROM event WHERE session_id = ? ORDER BY id", session)
    assert events == [
        ("excuse-request", "Doctor's appointment"),
        ("mark", "Doctor's appointment"),
        ("excuse-approved", "Doctor's appointment"),
    ]
    outcome = messages.excuse_approved_notice("default", session)
    assert outcome in (emu.invoke(dan, emu.attendance_channel_id, "my_attendance").content or "")
    assert outcome not in (emu.invoke(dan, emu.attendance_channel_id, "my_attendance").content or "")
    again = emu.invoke(dan, emu.attendance_channel_id, "excuse", session=session, reason="again")
    assert again.content == messages.excuse_already_excused(session)


def test_a_denied_request_keeps_the_record(world: World, tmp_path: Path) -> None:
    """Deny leaves Dee absent, says so in the admin channel, and Dee cannot ask about that session again."""
    emu = world.emu
    dee = world.student("excuse_dee")
    roster(world, tmp_path, ("E2", "Dee", dee))
    session, _ = world.open()
    close(world, session)
    emu.invoke(dee, emu.attendance_channel_id, "excuse", session=session, reason="Train strike")
    ((request_id,),) = query(world, "SELECT id FROM excuse_request WHERE session_id = ?", session)
    posted = _excuse(world, request_id)
    assert posted.message_id is not None
    emu.press_button(emu.instructor, posted.message_id, label=messages.excuse_deny_label())
    decided = _excuse(world, request_id)
    assert decided.decision == "denied"
    (after,) = [m for m in emu.messages(emu.admin_channel_id) if m.id == posted.message_id]
    assert after.content == messages.excuse_decided_text(decided, world.db.settings().timezone)
    assert query(world, "SELECT status FROM attendance WHERE session_id = ?", session) == []
    again = emu.invoke(dee, emu.attendance_channel_id, "excuse", session=session, reason="please")
    assert again.content == messages.excuse_already_asked(session, "denied")
    outcome = messages.excuse_denied_notice("default", session)
    assert outcome in (emu.invoke(dee, emu.attendance_channel_id, "my_attendance").content or "")
