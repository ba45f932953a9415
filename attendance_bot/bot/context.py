"""What the cogs share, built once by app.py: the services, the database thread and the bot's running state."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..attendance import AttendanceService
from ..export import csv_bytes
from ..models import close_db
from ..records import CourseInfo, ExportRow
from ..services import Services
from .dbworker import DatabaseWorker, paced
from .reports import ReportWorker

if TYPE_CHECKING:
    from nextcord.ext import commands

    from .batcher import SubmissionBatcher
    from .rotation import CodeRotator

# An export's thread runs at most this share of the time: the event loop keeps the rest.
EXPORT_SHARE = 0.3


def export_document(
    service: AttendanceService, session_id: str | None, course_id: int, fmt: str = "records"
) -> tuple[bytes, int]:
    """The CSV bytes of an export and its number of records, for a thread other than the loop's.

    The thread reads with a connection of its own (WAL lets it read while the database thread
    commits check-ins), so the export never holds up a batch of `/here`, and it is paced to a
    share of the GIL, so the event loop goes on answering a class that checks in meanwhile
    (a 40,000-row export doubled the burst's p99 when it ran flat out).

    `fmt` is records (the default: today's bytes), full or gradebook (export.FORMATS); for those
    two the course is read once (a few queries) and the writing is paced slice by slice, and the
    count is the rows written (full) or the roster students (gradebook). A session id names one
    session's column (UnknownSession for one not of the course).
    """
    if fmt != "records":
        from ..export import format_document
        from ..gradebook import GradebookService

        try:
            if session_id is not None:
                session_id = service.get_session(session_id, course_id).session_id
            book = GradebookService(service.settings).gradebook(course_id, session_id)
            return format_document(
                fmt, book, service.settings.timezone, pace=lambda chunks: paced(chunks, EXPORT_SHARE)
            )
        finally:
            close_db()  # this thread's read connection
    count = 0

    def rows() -> Iterator[ExportRow]:
        nonlocal count
        for chunk in paced(service.export_chunks(session_id, course_id=course_id), EXPORT_SHARE):
            count += len(chunk)
            yield from chunk

    try:
        data = csv_bytes(rows(), service.settings.timezone)
    finally:
        close_db()  # this thread's read connection
    return data, count


class InFlight:
    """Counts the interactions being handled, so a shutdown can wait until each has been answered."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> None:
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        self.count -= 1

    async def settle(self, timeout: float) -> bool:
        """Wait up to `timeout` s until no interaction is being handled; True if none is."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet = 0
        while loop.time() < deadline:
            # Quiet twice in a row: nextcord 2.6 hands a command's error to a task of its own.
            quiet = quiet + 1 if self.count == 0 else 0
            if quiet >= 2:
                return True
            await asyncio.sleep(0.01)
        return self.count == 0


class BotContext:
    """The one object every cog holds: the services, the database thread, code rotation, the /here
    batcher, the report worker, and the state the bot keeps while it runs (interactions in flight,
    the storage-failure warning's cooldown, each server's courses as last read)."""

    def __init__(
        self,
        bot: commands.Bot,
        services: Services,
        db: DatabaseWorker,
        rotator: CodeRotator,
        batcher: SubmissionBatcher,
    ) -> None:
        self.bot = bot
        self.services = services
        self.db = db
        self.rotator = rotator
        self.batcher = batcher
        self.reports = ReportWorker(services.settings)  # the bot's stop ends its process
        self.in_flight = InFlight()
        self.last_storage_warning: dict[int | None, float] = {}  # server -> loop time
        # Each server's courses as last read, so a database that cannot be read at all (a PostgreSQL
        # server down) still lets the warning find the admin channels.
        self.known_courses: dict[int, list[CourseInfo]] = {}
        self.public_deferrals: set[int] = set()  # interactions whose deferred answer is public

    def remember_courses(self, courses: list[CourseInfo]) -> None:
        """Keep the courses read at start, by server, for a warning while the database cannot be read."""
        for course in courses:
            if course.guild_id is not None:
                self.known_courses.setdefault(course.guild_id, []).append(course)

    async def export(self, session_id: str | None, course_id: int, fmt: str) -> tuple[bytes, int]:
        """export_document in a thread of its own, off the event loop."""
        return await asyncio.to_thread(export_document, self.services.attendance, session_id, course_id, fmt)
