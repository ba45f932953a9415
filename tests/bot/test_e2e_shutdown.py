"""End to end: SIGTERM answers everyone it took, records what it said it recorded, and never hangs."""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest
from botdriver import alive, child_pids, live_card, wait_until
from conftest import World
from faultkit import accepted_replies, answered, burst, contents, crowd, row_counts, write_lock_held

from attendance_bot import messages

BURST = 300
EXIT_WITHIN = 5.0


def test_sigterm_during_burst_on_slow_database_answers_everyone(fresh_world: World) -> None:
    """SIGTERM while a burst waits on a locked database: every student is answered, every ✅ is stored."""
    emu, db = fresh_world.emu, fresh_world.db
    bot = fresh_world.bot.start()
    assert bot.proc is not None
    session_id, _ = fresh_world.open()
    code = live_card(emu, session_id).code
    ok = accepted_replies(session_id)
    refused = {messages.shutting_down_reply(), messages.shutdown_unconfirmed_reply()}
    students = crowd(emu, "term", BURST)
    latecomers = crowd(emu, "lateterm", 5)
    with write_lock_held(db.path, 2.0):
        handles = burst(emu, students, code)
        time.sleep(0.5)  # the burst reaches the bot and queues behind the lock
        bot.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        late = burst(emu, latecomers, code)  # /here after SIGTERM, while the bot is still connected
    wait_until(lambda: answered(emu, handles + late) == len(handles) + len(late), 20, "an answer to every /here")
    assert bot.proc.wait(20) == 0, bot.output()
    replies = contents(emu, handles)
    assert set(replies.values()) <= ok | refused, set(replies.values()) - ok - refused
    stored = row_counts(db.path, session_id)
    acked = {user for user, reply in replies.items() if reply in ok}
    assert acked, "the batch in flight should have been committed and answered"
    assert acked <= stored.keys()
    not_recorded = {user for user, reply in replies.items() if reply == messages.shutting_down_reply()}
    assert not not_recorded & stored.keys()
    assert set(contents(emu, late).values()) == {messages.shutting_down_reply()}
    assert not {m.id for m in latecomers} & stored.keys()
    assert "Session is closed" not in bot.output()


def test_sigterm_while_gateway_is_down_exits_quickly(fresh_world: World) -> None:
    """Discord's gateway down, the bot in its reconnect back-off: SIGTERM still ends it within 5 s."""
    emu = fresh_world.emu
    bot = fresh_world.bot.start()
    assert bot.proc is not None
    gateway = emu.emu.gateway
    emu.gateway_outage()
    try:
        # Several refused reconnects: nextcord now sleeps in a growing back-off (up to 16 s).
        wait_until(lambda: gateway.refused_count >= 4, 60, "reconnect attempts during the outage", poll=0.01)
        started = time.monotonic()
        bot.proc.send_signal(signal.SIGTERM)
        code = bot.proc.wait(EXIT_WITHIN + 10)
        took = time.monotonic() - started
    finally:
        emu.gateway_outage(False)
    assert code == 0, bot.output()
    assert took < EXIT_WITHIN, f"exited {took:.1f} s after SIGTERM"


@pytest.mark.parametrize("stop", ["SIGTERM", "Ctrl-C"])
def test_a_stop_during_a_report_ends_its_process_and_answers(fresh_world: World, stop: str) -> None:
    """SIGTERM, or Ctrl-C in a terminal (SIGINT to the bot and to its child alike), while a report's
    process is at work: the bot exits 0 within 5 s, the instructor is told the bot is stopping, and
    the report's process does not outlive it."""
    emu = fresh_world.emu
    bot = fresh_world.bot.start()
    assert bot.proc is not None
    handle = emu.run(lambda e: e.dispatch_interaction(emu.instructor, emu.admin_channel_id, "attendance report"))
    workers = wait_until(lambda: child_pids(bot.proc.pid), 30, "the report's process", poll=0.005)
    started = time.monotonic()
    if stop == "SIGTERM":
        bot.proc.send_signal(signal.SIGTERM)
    else:  # the terminal signals its whole foreground process group
        for pid in (bot.proc.pid, *workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
    code = bot.proc.wait(EXIT_WITHIN + 30)
    took = time.monotonic() - started
    assert code == 0, bot.output()
    assert took < EXIT_WITHIN, f"exited {took:.1f} s after {stop}"
    wait_until(lambda: not any(alive(pid) for pid in workers), 2, "the report's process to end")
    assert emu.run(lambda e: [m.content for m in e.interaction_messages(handle.id)]) == [
        messages.report_stopping_reply()
    ]


def test_a_killed_bot_leaves_no_report_process_behind(fresh_world: World) -> None:
    """The bot killed outright (SIGKILL: no stop in order) while a report is drawn: its process
    notices and ends by itself instead of drawing for nobody."""
    emu = fresh_world.emu
    bot = fresh_world.bot.start()
    assert bot.proc is not None
    emu.run(lambda e: e.dispatch_interaction(emu.instructor, emu.admin_channel_id, "attendance report"))
    workers = wait_until(lambda: child_pids(bot.proc.pid), 30, "the report's process", poll=0.005)
    bot.proc.kill()
    bot.proc.wait(10)
    wait_until(lambda: not any(alive(pid) for pid in workers), 5, "the orphaned report process to end")


def test_sigterm_with_reports_queued_answers_every_one(fresh_world: World) -> None:
    """Three reports asked at once, one drawing and two queued, then SIGTERM: the bot exits 0 within
    5 s, every request is answered (queued, then stopping), and no report process survives."""
    emu = fresh_world.emu
    bot = fresh_world.bot.start()
    assert bot.proc is not None
    handles = emu.run(
        lambda e: [e.dispatch_interaction(emu.instructor, emu.admin_channel_id, "attendance report") for _ in range(3)]
    )
    wait_until(lambda: answered(emu, handles) == 2, 30, "two requests told they are queued")
    workers = wait_until(lambda: child_pids(bot.proc.pid), 30, "the report's process", poll=0.005)
    started = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    code = bot.proc.wait(EXIT_WITHIN + 30)
    took = time.monotonic() - started
    assert code == 0, bot.output()
    assert took < EXIT_WITHIN, f"exited {took:.1f} s after SIGTERM"
    wait_until(lambda: not any(alive(pid) for pid in workers), 2, "the report's process to end")
    shown = emu.run(lambda e: [[m.content for m in e.interaction_messages(h.id)] for h in handles])
    assert all(said[-1] == messages.report_stopping_reply() for said in shown), shown
    assert sorted(said[0] for said in shown if len(said) == 2) == [
        messages.report_queued_reply("default", 1),
        messages.report_queued_reply("default", 2),
    ]
