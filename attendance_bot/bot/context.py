"""What the cogs share, built once by app.py: the services, the database thread and the bot's running state."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..exports import Export
from ..models import close_db
from ..records import CourseInfo
from ..services import Services
from .dbworker import DatabaseWorker, paced
from .metrics import Metrics
from .notices import NoticeSender
from .reports import ReportWorker
from .voicelog import VoiceLog

if TYPE_CHECKING:
    from nextcord.ext import commands

    from .batcher import SubmissionBatcher
    from .rotation import CodeRotator
    from .scheduler import Scheduler

# An export's thread runs at most this share of the time: the event loop keeps the rest.
EXPORT_SHARE = 0.3


def export_document(services: Services, session_id: str | None, course_id: int, fmt: str = "records") -> Export:
    """The export (exports.ExportService) for a thread other than the loop's: paced, on its own connection.

    The thread reads with a connection of its own (WAL lets it read while the database thread
    commits check-ins), so the export never holds up a batch of `/here`, and it is paced to a
    share of the GIL, so the event loop goes on answering a class that checks in meanwhile
    (a 40,000-row export doubled the burst's p99 when it ran flat out): records are read and
    written slice by slice, full and gradebook read the course once (a few queries) and are
    written slice by slice.
    """
    try:
        return services.exports.export(fmt, course_id, session_id, pace=lambda chunks: paced(chunks, EXPORT_SHARE))
    finally:
        close_db()  # this thread's read connection


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
    """The one object every cog holds: the services, the database thread, code rotation, the timetables'
    scheduler, the /here batcher, the metrics, the report worker, the voice log, the warnings' digests
    and direct messages, and the state the bot keeps while it runs (interactions in flight, the
    storage-failure warning's cooldown, each server's courses as last read)."""

    def __init__(
        self,
        bot: commands.Bot,
        services: Services,
        db: DatabaseWorker,
        rotator: CodeRotator,
        batcher: SubmissionBatcher,
        metrics: Metrics | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        self.bot = bot
        self.services = services
        self.db = db
        self.rotator = rotator
        self.batcher = batcher
        self.metrics = metrics or Metrics()  # what /metrics serves: the cogs count check-ins in it
        self.scheduler = scheduler  # the timetables' (poked when one changes)
        self.reports = ReportWorker(services.settings)  # the bot's stop ends its process
        # Started with the rotation, stopped with it; over the servers whose voice states are here.
        self.voice_log = VoiceLog(services.voice, db, lambda: [g.id for g in bot.guilds if not g.unavailable])
        self.notices = NoticeSender(bot, services, db)  # warning digests and direct messages
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

    async def export(self, session_id: str | None, course_id: int, fmt: str) -> Export:
        """export_document in a thread of its own, off the event loop."""
        return await asyncio.to_thread(export_document, self.services, session_id, course_id, fmt)
