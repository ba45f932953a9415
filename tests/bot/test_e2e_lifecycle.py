"""End to end: the bot process starting, stopping, being killed and coming back."""

from __future__ import annotations

import signal

import pytest
from botdriver import COMMANDS, INTERVAL, BotProcess, live_card, manage, read_card, session_messages, wait_until
from conftest import World

from attendance_bot import messages
from attendance_bot.records import Outcome, SubmitResult

pytestmark = pytest.mark.backends("sqlite", "postgresql")

STARTUP_LINES = ["Configuration validated successfully", "Starting Discord bot...", "Bot is ready!"]


def test_startup_prints_promised_lines_and_registers_commands(fresh_world: World) -> None:
    """Start-up prints the seed's lines in order and registers the commands globally (every server; no GUILD_ID)."""
    bot = fresh_world.bot.start()
    emu = fresh_world.emu
    lines = [line.rstrip("\n") for line in bot.stdout]
    assert [line for line in lines if line in STARTUP_LINES] == STARTUP_LINES
    logged_in = f"Logged in as {emu.emu.state.bot.username} (ID: {emu.emu.bot_user_id})"
    assert lines.index("Starting Discord bot...") < lines.index(logged_in) < lines.index("Bot is ready!")
    assert sorted(c["name"] for c in emu.registered_commands(None)) == sorted(COMMANDS)
    assert emu.registered_commands(emu.guild_id) == []


def test_token_never_printed(fresh_world: World) -> None:
    """Through start, a session and a stop, the token appears in neither stdout nor stderr."""
    bot = fresh_world.bot.start()
    session_id, _ = fresh_world.open()
    live_card(fresh_world.emu, session_id)
    assert bot.signal(signal.SIGTERM) == 0
    assert fresh_world.emu.token not in "".join(bot.stdout)
    assert fresh_world.emu.token not in "".join(bot.stderr)


def test_sigterm_exits_cleanly_leaving_session_open(fresh_world: World) -> None:
    """SIGTERM stops the bot with status 0; the session stays open in the database and on screen."""
    fresh_world.bot.start()
    session_id, _ = fresh_world.open()
    card = live_card(fresh_world.emu, session_id)
    assert fresh_world.bot.signal(signal.SIGTERM) == 0, fresh_world.bot.output()
    session = fresh_world.db.open_session()
    assert session is not None and session.session_id == session_id
    assert read_card(fresh_world.emu.emu.get_message(card.message_id)).is_open


def test_restart_after_kill_resumes_session(fresh_world: World) -> None:
    """After kill -9 and a new start: the same code works, earlier check-ins are kept, the same message is edited."""
    emu = fresh_world.emu
    fresh_world.bot.start()
    session_id, _ = fresh_world.open()
    card = live_card(emu, session_id)
    early = [fresh_world.student(f"early{i}") for i in range(2)]
    for student in early:
        reply = fresh_world.here(student, card.code)
        assert reply.content == messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))
    edits_before = len(emu.emu.get_message(card.message_id).edits)

    assert fresh_world.bot.signal(signal.SIGKILL) == -signal.SIGKILL
    fresh_world.bot = BotProcess(emu, fresh_world.env).start()

    # The code read before the kill is still good (same window, or the previous one within grace).
    late = fresh_world.student("afterrestart")
    reply = fresh_world.here(late, card.code)
    assert reply.content == messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))
    assert {r.user_id for r in fresh_world.db.rows(session_id)} == {s.id for s in [*early, late]}
    # The restarted bot edits the very message the first one posted, and posts no other.
    wait_until(
        lambda: len(emu.emu.get_message(card.message_id).edits) > edits_before, INTERVAL + 2, "an edit after restart"
    )
    cards = [read_card(m) for m in session_messages(emu, session_id)]
    assert [c.message_id for c in cards] == [card.message_id]
    assert cards[0].code == fresh_world.db.code_for(cards[0])


def test_session_closed_while_down_is_finalised_on_start(fresh_world: World) -> None:
    """A session closed with manage.py while the bot was down: on start its code message is finalised."""
    emu = fresh_world.emu
    fresh_world.bot.start()
    session_id, _ = fresh_world.open()
    card = live_card(emu, session_id)
    fresh_world.here(fresh_world.student("beforedown"), card.code)
    fresh_world.bot.signal(signal.SIGKILL)
    manage(fresh_world.env, "close")
    closed_at = fresh_world.db.session(session_id).closed_at
    expected = messages.closed_card(session_id, 1, closed_at)

    fresh_world.bot = BotProcess(emu, fresh_world.env).start()
    shown = wait_until(
        lambda: (c := read_card(emu.emu.get_message(card.message_id))) and not c.is_open and c, 5, "the final edit"
    )
    assert (shown.title, shown.description, shown.fields) == (expected.title, expected.description, expected.fields)
