"""`python -m attendance_bot.bench timetable [--courses 200]`: many courses whose timetables start at
the same minute (issue 18). The courses and their lines are written before the real bot starts (on
the real clock, against the emulator); the run waits for the next whole minute at least
`LEAD_SECONDS` away, then reports how long after the start each session opened (database) and each
code message appeared (emulator), how long after the end each session closed, and the 429s. With
`--students N` (per course), half of them type `/here` one second after the start, while the code
messages are still being posted, and the other half `QUIET_SECONDS` later, when the openings are
over: the p99 of both bursts, side by side."""

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
BUSY_SECONDS = 1.0  # the first burst: while the openings' code messages are still being posted
QUIET_SECONDS = 25.0  # the second: the openings are over (every code message posted within ~5.5 s)


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


def _codes(database: Path, courses: Sequence[multicourse.Course], ids: dict[str, int]) -> dict[int, str]:
    """Each course's code now, read from the session's secret as a projector would (course id -> code)."""
    settings = load_settings(None, environ={"DATABASE_PATH": str(database)}, require_discord=False)
    init_db(database)
    try:
        attendance = Services(settings).attendance
        found = {}
        for course in courses:
            course_id = ids[course.name]
            found[course_id] = attendance.current_code(course_id=course_id).code
        return found
    finally:
        close_all()


async def _burst(
    emu: Emulator, database: Path, courses: Sequence[multicourse.Course], students: slice, at: datetime
) -> load.Result:
    """At `at`, these students of every course type `/here` with their course's code; the answers."""
    await asyncio.sleep(max((at - utc_now()).total_seconds(), 0))
    ids = _course_ids(database)
    codes = await asyncio.to_thread(_codes, database, courses, ids)
    order = [(c, m) for c in courses for m in c.students[students]]
    handles = []
    for start in range(0, len(order), load.BATCH):
        for course, member in order[start : start + load.BATCH]:
            channel = course.place.attendance_channel_id
            handles.append(emu.dispatch_interaction(member, channel, "here", code=codes[ids[course.name]]))
        await asyncio.sleep(0)
    result = load.Result(load.Scenario(len(order)), "ours")
    await load.collect(handles, 30.0, lambda content: content.startswith(load.OK_PREFIX), result)
    return result


def _burst_line(name: str, result: load.Result) -> str:
    p99 = load.nearest_rank(result.latencies, 0.99)
    shown = "-" if p99 is None else f"{p99 * 1000:.0f} ms"
    return (
        f"  /here {name}: {result.ok}/{result.sent} accepted, {result.lost} lost, "
        f"p99 {shown} (answered {result.answered})"
    )


def _spread(values: list[float]) -> str:
    values.sort()
    if not values:
        return "none"
    p50, p99 = load.nearest_rank(values, 0.5), load.nearest_rank(values, 0.99)
    return f"p50 {p50:.2f} s, p99 {p99:.2f} s, max {values[-1]:.2f} s"


async def run(count: int, minutes: int, workdir: Path, students: int = 0) -> int:
    emu = Emulator()
    await emu.start()
    bot = None
    try:
        courses = multicourse.build_world(emu, count, count * students)
        database = workdir / "attendance.db"
        start = _plan(database, courses, minutes)
        end = start + timedelta(minutes=minutes)
        bot = await start_bot(OURS, emu, database, interval=None)
        began = time.time()
        bursts: list[tuple[str, load.Result]] = []
        if students:
            half = students // 2 or 1
            busy = await _burst(emu, database, courses, slice(0, half), start + timedelta(seconds=BUSY_SECONDS))
            bursts.append((f"{BUSY_SECONDS:.0f} s after the start, openings under way", busy))
        await asyncio.sleep(max((start - utc_now()).total_seconds(), 0) + SETTLE_SECONDS)
        ids = _course_ids(database)
        opened = _sessions(database)
        open_lags = [(opened[ids[c.name]][0] - start).total_seconds() for c in courses if ids[c.name] in opened]
        posted = []
        for course in courses:
            cards = [m for m in emu.messages(course.place.attendance_channel_id) if m.embeds]
            if cards:
                posted.append((cards[0].created_at - start).total_seconds())
        if students > 1:
            later = start + timedelta(seconds=QUIET_SECONDS)
            quiet = await _burst(emu, database, courses, slice(students // 2, students), later)
            bursts.append((f"{QUIET_SECONDS:.0f} s after the start, openings over", quiet))
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
            *(_burst_line(name, result) for name, result in bursts),
        ]
        print("\n".join(lines), flush=True)
        on_time = len(open_lags) == count and max(open_lags, default=0.0) < TARGET_SECONDS
        nothing_lost = all(result.lost == 0 and result.ok == result.sent for _, result in bursts)
        return 0 if on_time and len(close_lags) == count and nothing_lost else 1
    finally:
        if bot is not None:
            await bot.stop()
        await emu.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attendance_bot.bench timetable", description=__doc__)
    parser.add_argument("--courses", type=int, default=200, help="courses starting at the same minute (200)")
    parser.add_argument("--minutes", type=int, default=1, help="how long each class lasts (1)")
    parser.add_argument(
        "--students",
        type=int,
        default=0,
        help="students per course: half type /here 1 s after the start, half 25 s after it (0: none)",
    )
    args = parser.parse_args(argv)
    if args.students and args.minutes * 60 <= QUIET_SECONDS:
        parser.error("--students needs classes longer than the second burst's 25 s")
    with tempfile.TemporaryDirectory(prefix="attendance-timetable-") as folder:
        return asyncio.run(run(args.courses, args.minutes, Path(folder), args.students))


if __name__ == "__main__":
    sys.exit(main())
