"""End to end under faults: the bot killed mid-burst, a flaky Discord, a dropping gateway, a busy or full disk."""

from __future__ import annotations

import resource
import signal
import threading
import time
from pathlib import Path

from botdriver import INTERVAL, BotProcess, live_card, manage, read_card, session_messages, wait_until
from conftest import World
from faultkit import accepted_replies, answered, burst, contents, crowd, parse_csv, row_counts

from attendance_bot import messages
from attendance_bot.emulator import InteractionHandle
from attendance_bot.export import HEADER

BURST = 1000

# Tests that start a bot of their own (`fresh_world`) get an emulator of their own too, so they never
# take the gateway from the module's shared bot (`world`): order does not matter.


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _warnings(world: World) -> list[str]:
    """The bot's messages in the admin channel that warn about the database."""
    emu = world.emu
    return [
        m.content
        for m in emu.messages(emu.admin_channel_id)
        if m.author_id == emu.emu.bot_user_id and m.content == messages.storage_warning()
    ]


def test_sigkill_mid_burst_loses_no_acknowledged_submission(fresh_world: World) -> None:
    """kill -9 during a 1,000-student burst, then a restart: every ✅ is stored once, and everyone gets in."""
    emu, db = fresh_world.emu, fresh_world.db
    fresh_world.bot.start()
    session_id, _ = fresh_world.open()
    card = live_card(emu, session_id)
    ok = accepted_replies(session_id)
    students = crowd(emu, "burst", BURST)
    # Callbacks held a little, so the kill lands while answers are still on their way.
    emu.faults.add(r"/interactions/\d+/.+/callback", "POST", None, delay=0.2)
    handles = burst(emu, students, card.code)
    wait_until(lambda: answered(emu, handles) > 0, 20, "the first answers of the burst")
    assert fresh_world.bot.signal(signal.SIGKILL) == -signal.SIGKILL
    emu.faults.clear()
    before = contents(emu, handles)
    acked = {user for user, reply in before.items() if reply in ok}
    unanswered = [s for s in students if before[s.id] is None]
    assert acked and unanswered, "the kill should land in the middle of the burst"
    assert all(reply is None or reply in ok for reply in before.values())
    stored = row_counts(db.path, session_id)
    assert acked <= stored.keys()
    assert set(stored.values()) == {1}
    edits_before = len(emu.emu.get_message(card.message_id).edits)

    fresh_world.bot = BotProcess(emu, fresh_world.env).start()
    # The code message resumes: the same message is edited again and shows the session's real code.
    wait_until(lambda: len(emu.emu.get_message(card.message_id).edits) > edits_before, INTERVAL + 3, "a resumed edit")
    assert [m.id for m in session_messages(emu, session_id)] == [card.message_id]
    shown = live_card(emu, session_id)
    assert shown.code == db.code_for(shown)
    # Students who got no answer try again with the code on screen now: all are in, once each.
    retry = burst(emu, unanswered, shown.code)
    wait_until(lambda: answered(emu, retry) == len(retry), 30, "answers to the retries")
    assert set(contents(emu, retry).values()) <= ok
    stored = row_counts(db.path, session_id)
    assert stored == {s.id: 1 for s in students}


def test_flaky_rest_keeps_rotating_and_answering(world: World) -> None:
    """~10 % 500s and some 429s on every REST call for 20 s: the code rotates, every /here is answered, one row each."""
    emu, db = world.emu, world.db
    session_id, _ = world.open()
    ok = accepted_replies(session_id)
    first = live_card(emu, session_id)
    flaky_for = 20.0
    emu.faults.add(".*", None, 500, ratio=0.10, until=flaky_for, seed=11)
    emu.faults.add(".*", None, 429, retry_after=0.2, ratio=0.05, until=flaky_for, seed=12)
    ends = time.monotonic() + flaky_for
    waves: list[list[InteractionHandle]] = []
    windows = set()
    wave = 0
    while time.monotonic() < ends - 2:
        card = live_card(emu, session_id)
        windows.add(card.changes_at)
        members = crowd(emu, f"flaky{wave}_", 20)
        # Half of each wave submits twice, as students do when an answer is slow.
        waves.append(burst(emu, members, card.code) + burst(emu, members[:10], card.code))
        wave += 1
        wait_until(lambda: live_card(emu, session_id).changes_at != card.changes_at, 3 * INTERVAL, "the next window")
    handles = [h for hs in waves for h in hs]
    wait_until(lambda: answered(emu, handles) == len(handles), 40, "an answer to every /here")
    replies = contents(emu, handles)
    assert set(replies.values()) <= ok, set(replies.values()) - ok
    hits = sum(rule.hits for rule in emu.faults.rules)
    assert hits > 0, "the faults should have been hit"
    assert len(windows) >= 3, "the code message should show several windows while Discord is flaky"
    stored = row_counts(db.path, session_id)
    assert stored == {member_id: 1 for member_id in replies}
    # After the storm the message is still edited every window with the real code.
    after = read_card(emu.emu.get_message(first.message_id))
    later = wait_until(
        lambda: (c := live_card(emu, session_id)).changes_at != after.changes_at and c, 2 * INTERVAL + 3, "a later edit"
    )
    assert later.message_id == first.message_id
    assert later.code == db.code_for(later)


def test_gateway_drops_resume_and_answer(world: World) -> None:
    """The gateway dropped four times in a row: each time a /here sent while it is down is answered after resume."""
    emu = world.emu
    gateway = emu.emu.gateway
    session_id, _ = world.open()
    ok = accepted_replies(session_id)
    for drop in range(4):
        resumes = gateway.resume_count
        emu.drop_gateway()
        code = live_card(emu, session_id).code
        student = world.student(f"dropped{drop}")
        pending = emu.dispatch(student, emu.attendance_channel_id, "here", code=code)
        wait_until(lambda: gateway.resume_count > resumes and gateway.connected, 15, f"resume after drop {drop + 1}")
        assert pending.result(15).content in ok
        assert student.id in row_counts(world.db.path, session_id)
        after = world.here(world.student(f"resumed{drop}"), live_card(emu, session_id).code)
        assert after.content in ok


def test_manage_export_while_burst_writes(world: World) -> None:
    """`manage.py export` run again and again during a 400-student burst: each exits 0 with a valid CSV; all ✅ stored."""
    emu, db = world.emu, world.db
    session_id, _ = world.open()
    ok = accepted_replies(session_id)
    code = live_card(emu, session_id).code
    students = crowd(emu, "exporter", 400)
    exports: list[bytes] = []
    stop = threading.Event()

    def export_again_and_again() -> None:
        while not stop.is_set() or not exports:
            exports.append(manage(world.env, "export", "--session", session_id).stdout)

    reader = threading.Thread(target=export_again_and_again)
    reader.start()
    try:
        handles = []
        for start in range(0, len(students), 50):  # spread over a second or so, so exports overlap the writes
            handles += burst(emu, students[start : start + 50], code)
            time.sleep(0.1)
        wait_until(lambda: answered(emu, handles) == len(handles), 30, "answers to the burst")
    finally:
        stop.set()
        reader.join(60)
    assert not reader.is_alive()
    replies = contents(emu, handles)
    assert set(replies.values()) <= ok
    ids = {s.id for s in students}
    for data in exports:
        table = parse_csv(data)
        assert table[0] == list(HEADER)
        assert all(len(row) == len(HEADER) and row[4] == session_id for row in table[1:])
        assert {int(row[0]) for row in table[1:]} <= ids
    final = parse_csv(manage(world.env, "export", "--session", session_id).stdout)
    assert sorted(int(row[0]) for row in final[1:]) == sorted(ids)
    assert row_counts(db.path, session_id) == {i: 1 for i in ids}


def test_failing_callback_tells_student_to_retry(world: World) -> None:
    """The /here callback refused five times (429): the student is told to try again, and the retry is accepted once."""
    emu = world.emu
    session_id, _ = world.open()
    ok = accepted_replies(session_id)
    student = world.student("unlucky")
    code = live_card(emu, session_id).code
    rule = emu.faults.add(r"/interactions/\d+/.+/callback", "POST", 429, retry_after=0.05, times=5)
    reply = world.here(student, code)
    assert rule.hits == 5
    assert reply.content == messages.generic_failure_reply()
    assert reply.ephemeral
    assert world.here(student, live_card(emu, session_id).code).content in ok
    assert row_counts(world.db.path, session_id) == {student.id: 1}


def test_full_disk_is_reported_never_acknowledged(fresh_world: World) -> None:
    """With the disk "full" students are told nothing was recorded, the admin channel is warned once, the bot lives on.

    The mechanism is a real write failure in the running bot: RLIMIT_FSIZE of the bot process is
    lowered (prlimit, soft limit) to the current size of the database's WAL file, so SQLite's next append to
    the WAL fails with EFBIG (CPython ignores SIGXFSZ), exactly as a full disk fails a write.
    Lifting the limit is "freeing space".
    """
    emu, db = fresh_world.emu, fresh_world.db
    bot = fresh_world.bot.start()
    assert bot.proc is not None
    session_id, _ = fresh_world.open()
    ok = accepted_replies(session_id)
    card = live_card(emu, session_id)
    assert fresh_world.here(fresh_world.student("beforefull"), card.code).content in ok
    limit = max(_wal(db.path).stat().st_size, 1)
    soft, hard = resource.prlimit(bot.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(bot.proc.pid, resource.RLIMIT_FSIZE, (limit, hard))  # the soft limit is what fails writes
    try:
        for round_ in range(2):
            students = [fresh_world.student(f"full{round_}_{i}") for i in range(10)]
            handles = burst(emu, students, live_card(emu, session_id).code)
            wait_until(lambda: answered(emu, handles) == len(handles), 15, "answers while the disk is full")
            replies = contents(emu, handles)
            assert set(replies.values()) == {messages.storage_failure_reply()}
            assert not {s.id for s in students} & row_counts(db.path, session_id).keys()
            wait_until(lambda: _warnings(fresh_world), 5, "the warning in the admin channel")
        assert len(_warnings(fresh_world)) == 1
    finally:
        resource.prlimit(bot.proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
    late = fresh_world.student("afterfull")
    assert fresh_world.here(late, live_card(emu, session_id).code).content in ok
    assert late.id in row_counts(db.path, session_id)
    reply = emu.invoke(emu.instructor, emu.admin_channel_id, "close_attendance")
    assert reply.content == messages.closed_reply(session_id, 2)
    assert len(_warnings(fresh_world)) == 1


def test_full_disk_logs_the_real_cause(fresh_world: World) -> None:
    """When the disk is full the bot's log names the SQLite failure (disk I/O error / disk full), not a side effect."""
    emu, db = fresh_world.emu, fresh_world.db
    bot = fresh_world.bot.start()
    assert bot.proc is not None
    session_id, _ = fresh_world.open()
    code = live_card(emu, session_id).code
    assert fresh_world.here(fresh_world.student("beforelog"), code).content in accepted_replies(session_id)
    soft, hard = resource.prlimit(bot.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(bot.proc.pid, resource.RLIMIT_FSIZE, (max(_wal(db.path).stat().st_size, 1), hard))
    try:
        reply = fresh_world.here(fresh_world.student("duringlog"), code)
    finally:
        resource.prlimit(bot.proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
    assert reply.content == messages.storage_failure_reply()
    failures = wait_until(
        lambda: [line for line in bot.stderr if "Database error while recording attendance" in line], 5, "the log line"
    )
    assert any("disk I/O error" in line or "disk is full" in line for line in failures), failures
