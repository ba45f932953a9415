"""`python -m attendance_bot.bench timetable [--courses 200]`: many courses whose timetables start at
the same minute (issue 18). The courses and their lines are written before the real bot starts (on
the real clock, against the emulator); the run waits for the next whole minute at least
`LEAD_SECONDS` away, then reports how long after the start each session opened (database) and each
code message appeared (emulator), how long after the end each session closed, and the 429s."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..clock import utc_now
from ..emulator import Emulator
from ..models import close_all, init_db
from ..services import Services
from ..settings import load_settings
from . import load, multicourse
from .procs import OURS, start_bot
from .report import machine

LEAD_SECONDS = 30  # the bot's start-up, before the first class
TARGET_SECONDS = 5.0  # the issue: every session open within 5 s of its start
SETTLE_SECONDS = 15.0  # how long after the start (and the end) the run looks


def _plan(database: Path, courses: Sequence[multicourse.Course], minutes: int) -> datetime:
    """The courses and one timetable line each, all starting at the same whole minute; that minute."""
    settings = load_settings(None, environ={"DATABASE_PATH": str(database)}, require_discord=False)
    init_db(database)
    try:
        services = Services(settings)
        start = (utc_now() + timedelta(seconds=LEAD_SECONDS + 60)).replace(second=0, microsecond=0)
        for course in courses:
            made = services.courses.create(
                name=course.name,
                guild_id=course.place.guild_id,
                admin_channel_id=course.place.admin_channel_id,
                attendance_channel_id=course.place.attendance_channel_id,
                timezone="UTC",  # whatever TIMEZONE the bot's environment has
            )
            services.schedule.add(made.id, weekday=start.weekday(), start=f"{start:%H:%M}", minutes=minutes)
    finally:
        close_all()
    return start


def _sessions(database: Path) -> dict[int, tuple[datetime, datetime | None]]:
    """Each course's timetable session: when it opened and closed (the bot's own record)."""
    with closing(sqlite3.connect(database)) as conn:
        rows = conn.execute("SELECT course_id, opened_at, closed_at FROM session WHERE opened_by = 'timetable'")
        return {
            course_id: (_utc(opened), _utc(closed) if closed else None) for course_id, opened, closed in rows.fetchall()
        }


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def _course_ids(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(database)) as conn:
        return dict(conn.execute("SELECT name, id FROM course").fetchall())


def _spread(values: list[float]) -> str:
    values.sort()
    if not values:
        return "none"
    p50, p99 = load.nearest_rank(values, 0.5), load.nearest_rank(values, 0.99)
    return f"p50 {p50:.2f} s, p99 {p99:.2f} s, max {values[-1]:.2f} s"


async def run(count: int, minutes: int, workdir: Path) -> int:
    emu = Emulator()
    await emu.start()
    bot = None
    try:
        courses = multicourse.build_world(emu, count, 0)
        database = workdir / "attendance.db"
        start = _plan(database, courses, minutes)
        end = start + timedelta(minutes=minutes)
        bot = await start_bot(OURS, emu, database, interval=None)
        began = time.time()
        await asyncio.sleep(max((start - utc_now()).total_seconds(), 0) + SETTLE_SECONDS)
        ids = _course_ids(database)
        opened = _sessions(database)
        open_lags = [(opened[ids[c.name]][0] - start).total_seconds() for c in courses if ids[c.name] in opened]
        posted = []
        for course in courses:
            cards = [m for m in emu.messages(course.place.attendance_channel_id) if m.embeds]
            if cards:
                posted.append((cards[0].created_at - start).total_seconds())
        await asyncio.sleep(max((end - utc_now()).total_seconds(), 0) + SETTLE_SECONDS)
        closed = _sessions(database)
        close_lags = [(c - end).total_seconds() for _, c in closed.values() if c is not None]
        requests = [r for r in emu.request_log if r[0] >= began]
        refused = sum(1 for r in requests if r[3] == 429)
        lines = [
            machine(),
            f"{count} courses, one timetable line each, all at {start:%H:%M} UTC for {minutes} min:",
            f"  sessions opened: {len(open_lags)}/{count}, after the start: {_spread(open_lags)}",
            f"  code messages posted: {len(posted)}/{count}, after the start: {_spread(posted)}",
            f"  sessions closed: {len(close_lags)}/{count}, after the end: {_spread(close_lags)}",
            f"  429 responses: {refused} of {len(requests)} requests",
        ]
        print("\n".join(lines), flush=True)
        on_time = len(open_lags) == count and max(open_lags, default=0.0) < TARGET_SECONDS
        return 0 if on_time and len(close_lags) == count else 1
    finally:
        if bot is not None:
            await bot.stop()
        await emu.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attendance_bot.bench timetable", description=__doc__)
    parser.add_argument("--courses", type=int, default=200, help="courses starting at the same minute (200)")
    parser.add_argument("--minutes", type=int, default=1, help="how long each class lasts (1)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="attendance-timetable-") as folder:
        return asyncio.run(run(args.courses, args.minutes, Path(folder)))


if __name__ == "__main__":
    sys.exit(main())
