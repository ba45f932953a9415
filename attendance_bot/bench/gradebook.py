"""`python -m attendance_bot.bench report`: the time to build a course's report (CSV and PNG) over a
generated semester, written through the models into a temporary SQLite database.

A benchmark, not a test: it prints its figures, like the burst benchmark's table, and exits 0.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .. import codes, storage
from ..courses import CourseService
from ..gradebook import GradebookService
from ..models import Attendance, RosterEntry, Student, close_db, init_db
from ..records import Source, Status
from ..report import heatmap_pages, report_csv
from ..settings import Settings, load_settings
from .report import machine

GUILD_ID = 900000000000000001
STUDENTS = 300
SESSIONS = 40
TARGET_SECONDS = 2.0
# A semester's mix: most present, some late, a few excused by marks, the rest absent (no record).
MIX = ((Status.PRESENT, 0.78), (Status.LATE, 0.08), (Status.EXCUSED, 0.04), (Status.ABSENT, 0.10))


@dataclass(frozen=True)
class Timing:
    read: float
    csv: float
    png: float
    png_bytes: int  # of every page together
    pages: int

    @property
    def total(self) -> float:
        return self.read + self.csv + self.png


def _settings(path: Path) -> Settings:
    return load_settings(None, environ={"DATABASE_PATH": str(path)}, base_dir=path.parent, require_discord=False)


def generate(path: Path, students: int, sessions: int, *, seed: int = 9) -> tuple[Settings, int]:
    """A course of `students` on the roster (most registered, some linked by username, a few not
    at all, and 5 % more who check in without being on it) over `sessions` sessions, the last
    one open; its settings and course id."""
    rng = random.Random(seed)
    settings = _settings(path)
    init_db(path)
    course = CourseService(settings).create(
        name="Semester", guild_id=GUILD_ID, admin_channel_id=GUILD_ID + 1, attendance_channel_id=GUILD_ID + 2
    )
    start = datetime(2024, 9, 2, 9, 0, tzinfo=timezone.utc)
    with storage.immediate():
        RosterEntry.insert_many(
            [
                {
                    "course_id": course.id,
                    "student_id": f"S{n:06d}",
                    "student_key": f"s{n:06d}",
                    "name": f"Student Number {n}",
                    "discord": f"user{n}" if n % 10 == 1 else None,
                    "added_at": start,
                }
                for n in range(students)
            ]
        ).execute()
        Student.insert_many(
            [
                {
                    "guild_id": GUILD_ID,
                    "user_id": 700_000 + n,
                    "student_id": f"S{n:06d}",
                    "student_key": f"s{n:06d}",
                    "name": f"Student Number {n}",
                    "registered_at": start,
                }
                for n in range(students)
                if n % 10 not in (1, 2)
            ]
        ).execute()
        extra = max(1, students // 20)
        for number in range(sessions):
            opened = start + timedelta(days=number)
            session_id = f"{opened:%Y%m%d-%H%M}-R{number:03d}"
            storage.create_session(
                session_id=session_id,
                secret=codes.new_secret(),
                interval=15,
                code_length=4,
                grace_seconds=15,
                opened_at=opened,
                opened_by="bench",
                closed_at=None if number == sessions - 1 else opened + timedelta(hours=1),
                course_id=course.id,
            )
            rows = []
            for n in range(students + extra):
                status = rng.choices([s for s, _ in MIX], [w for _, w in MIX])[0]
                if status is Status.ABSENT or (n % 10 == 2 and status is not Status.EXCUSED):
                    continue  # no record: absent when the session closes
                at = opened + timedelta(seconds=rng.randrange(3600))
                manual = status is Status.EXCUSED
                rows.append(
                    {
                        "user_id": None if manual and n % 10 == 2 and n < students else 700_000 + n,
                        "username": f"user{n}",
                        "timestamp": at.strftime("%Y-%m-%d %H:%M:%S"),
                        "date_id": at.strftime("%Y-%m-%d"),
                        "session_id": session_id,
                        "display_name": f"Display {n}",
                        "submitted_at": at,
                        "status": status.value,
                        "source": Source.MANUAL if manual else Source.CODE,
                        "student_key": f"s{n:06d}" if manual and n < students else None,
                    }
                )
            for chunk in range(0, len(rows), 80):
                Attendance.insert_many(rows[chunk : chunk + 80]).execute()
    return settings, course.id


def measure(settings: Settings, course_id: int) -> Timing:
    """One read of the course, then the report's CSV, then every page of its heat map, each timed."""
    started = time.perf_counter()
    book = GradebookService(settings).gradebook(course_id)
    read = time.perf_counter()
    report_csv(book)
    made_csv = time.perf_counter()
    pages = heatmap_pages(book)
    done = time.perf_counter()
    return Timing(read - started, made_csv - read, done - made_csv, sum(map(len, pages)), len(pages))


def _pages(count: int) -> str:
    return f"{count} page{'s' if count != 1 else ''}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m attendance_bot.bench report",
        description="Time building a course's report (the gradebook read, the CSV, the PNG heat map) over a "
        f"generated semester in a temporary SQLite database; the target is under {TARGET_SECONDS:.0f} s.",
    )
    parser.add_argument("--students", type=int, default=STUDENTS, help=f"roster students (default {STUDENTS})")
    parser.add_argument("--sessions", type=int, default=SESSIONS, help=f"sessions, the last open (default {SESSIONS})")
    parser.add_argument("--repeat", type=int, default=3, help="builds to time; the median is printed (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the database (its folder is printed)")
    args = parser.parse_args(argv)
    if args.students < 1 or args.sessions < 1 or args.repeat < 1:
        parser.error("--students, --sessions and --repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="attendance-report-bench-"))
    try:
        settings, course_id = generate(workdir / "semester.db", args.students, args.sessions)
        heatmap_pages(GradebookService(settings).gradebook(course_id), limit=1)  # matplotlib's import and font cache
        timings = [measure(settings, course_id) for _ in range(args.repeat)]
    finally:
        close_db()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    median = {name: statistics.median(getattr(t, name) for t in timings) for name in ("read", "csv", "png", "total")}
    verdict = "within" if median["total"] < TARGET_SECONDS else "OVER"
    print(machine())
    print()
    print(
        f"report of {args.students} students x {args.sessions} sessions (median of {args.repeat}): "
        f"read {median['read'] * 1000:.0f} ms, CSV {median['csv'] * 1000:.0f} ms, "
        f"PNG {median['png'] * 1000:.0f} ms ({_pages(timings[-1].pages)}, {timings[-1].png_bytes / 1024:.0f} KB), "
        f"total {median['total'] * 1000:.0f} ms: {verdict} the {TARGET_SECONDS:.0f} s target",
        flush=True,
    )
    if args.keep:
        sys.stderr.write(f"database kept in {workdir}\n")
    return 0
