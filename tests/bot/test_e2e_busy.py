"""End to end with the database busy: admin commands still answer the instructor, in time for Discord."""

from __future__ import annotations

from botdriver import live_card
from conftest import World
from faultkit import write_lock_held

from attendance_bot import messages

LOCK_SECONDS = 4.0


def _discord_deadline(world: World, seconds: float | None) -> None:
    """Like Discord: an interaction not acknowledged within `seconds` is gone (10062)."""
    world.emu.run(lambda e: setattr(e, "ack_deadline", seconds))


def test_close_attendance_answers_while_database_is_locked(world: World) -> None:
    """Another process holds the write lock for 4 s: /close_attendance still gives the public summary."""
    session_id, _ = world.open()
    live_card(world.emu, session_id)
    _discord_deadline(world, 3.0)
    try:
        with write_lock_held(world.db.path, LOCK_SECONDS):
            reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "close_attendance", timeout=20)
    finally:
        _discord_deadline(world, None)
    assert reply.content == messages.closed_reply(session_id, 0)
    assert not reply.ephemeral
    assert world.db.session(session_id).closed_at is not None


def test_open_attendance_answers_while_database_is_locked(world: World) -> None:
    """Another process holds the write lock for 4 s: /open_attendance still answers the instructor privately."""
    _discord_deadline(world, 3.0)
    try:
        with write_lock_held(world.db.path, LOCK_SECONDS):
            reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "open_attendance", timeout=20)
    finally:
        _discord_deadline(world, None)
    session = world.db.open_session()
    assert session is not None
    assert reply.content == messages.opened_reply(session.session_id, world.emu.attendance_channel_id)
    assert reply.ephemeral


def test_close_attendance_refusal_stays_private(world: World) -> None:
    """/close_attendance with nothing open (the deferred answer is public) tells the instructor privately."""
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "close_attendance")
    assert reply.ephemeral
    public = [m for m in world.emu.messages(world.emu.admin_channel_id) if m.content == reply.content]
    assert public == []
