"""Helpers for the fault and hostile-input tests: crowds of students, bursts, raw database counts."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from attendance_bot import messages
from attendance_bot.emulator import EmulatorThread, InteractionHandle, Member
from attendance_bot.records import Outcome, SubmitResult

CHUNK = 250  # interactions dispatched per trip to the emulator loop, so its gateway writer runs between


def accepted_replies(session_id: str) -> set[str]:
    """The sentences that tell a student they are marked present (recorded or replaced)."""
    return {messages.submit_reply(SubmitResult(outcome, session_id)) for outcome in (Outcome.RECORDED, Outcome.UPDATED)}


def crowd(emu: EmulatorThread, prefix: str, count: int) -> list[Member]:
    """`count` new members named PREFIX0…, created in one trip to the emulator loop."""
    return emu.run(lambda e: [e.add_member(f"{prefix}{i}") for i in range(count)])


def burst(
    emu: EmulatorThread, members: Sequence[Member], code: str, channel_id: int | None = None
) -> list[InteractionHandle]:
    """Every member sends `/here code` at once (dispatched in chunks); the handles, not yet answered."""
    channel = channel_id or emu.attendance_channel_id
    handles: list[InteractionHandle] = []
    for start in range(0, len(members), CHUNK):
        chunk = members[start : start + CHUNK]
        handles += emu.run(lambda e: [e.dispatch_interaction(m, channel, "here", code=code) for m in chunk])
    return handles


def answered(emu: EmulatorThread, handles: Sequence[InteractionHandle]) -> int:
    """How many of these interactions the bot has answered so far."""
    return emu.run(lambda e: sum(h.done() for h in handles))


def contents(emu: EmulatorThread, handles: Sequence[InteractionHandle]) -> dict[int, str | None]:
    """Member id → the reply the member saw (None while unanswered)."""

    def read(_: object) -> dict[int, str | None]:
        return {h.record.member.id: (h.future.result().content or "") if h.done() else None for h in handles}

    return emu.run(read)


def row_counts(path: Path, session_id: str) -> dict[int, int]:
    """Read-only sqlite3, not the bot's code: user id → number of attendance rows in the session."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        rows = con.execute(
            "SELECT user_id, COUNT(*) FROM attendance WHERE session_id = ? GROUP BY user_id", (session_id,)
        ).fetchall()
    finally:
        con.close()
    return {int(user_id): count for user_id, count in rows}


def parse_csv(data: bytes) -> list[list[str]]:
    """An export as a spreadsheet would read it: UTF-8, RFC 4180 records."""
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


_HOLD_LOCK = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.execute("COMMIT")
"""


@contextmanager
def write_lock_held(path: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the database's write lock (BEGIN IMMEDIATE) for `seconds` from entry.

    The bot's writes wait on SQLite's busy timeout meanwhile, as with a backup or `manage.py` at
    work. On exit the holder is waited for (the lock is released)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.wait(seconds + 30)
