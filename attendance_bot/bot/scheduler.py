"""The scheduler: opens and closes the timetables' sessions on time, and tells each course's admin channel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

import nextcord

from .. import messages
from ..errors import StorageError
from ..schedule import ScheduleService
from ..timetable import Meeting, Tick
from .dbworker import DatabaseWorker, cancel_and_wait
from .rotation import Pacer

log = logging.getLogger(__name__)

# The longest the scheduler sleeps: a timetable changed from the shell (or a clock moved) is seen
# this soon, and a meeting opens within this of its start (the issue asks within 5 s).
LOOK_EVERY_SECONDS = 1.0
# The admin channels' lines (opened, closed, missed): at most this many a second, beside the code
# messages' 40, under Discord's 50 for the whole bot.
LINES_PER_SECOND = 5


class Scheduler:
    """One task that runs ScheduleService.tick on the database thread: at each meeting's start and
    end, and at least every LOOK_EVERY_SECONDS. Every process runs one, for every course: the
    database decides which process opens or closes a meeting (see schedule.py), so each meeting is
    acted on, and announced, once. The code message is the rotation's (poked here)."""

    def __init__(
        self,
        client: nextcord.Client,
        service: ScheduleService,
        db: DatabaseWorker,
        clock: Callable[[], datetime],
        poke_rotation: Callable[[], None],
    ) -> None:
        self._client = client
        self._service = service
        self._db = db
        self._clock = clock
        self._poke_rotation = poke_rotation
        self._wake = asyncio.Event()
        self._pace = Pacer(LINES_PER_SECOND)
        self._task: asyncio.Task[None] | None = None
        self._posting: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="scheduler")

    def poke(self) -> None:
        """Look at the timetables now (after one changed)."""
        self._wake.set()

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        for task in list(self._posting):
            await cancel_and_wait(task)

    async def _run(self) -> None:
        failing = False  # said once while the database fails, not every second
        while True:
            self._wake.clear()
            delay = LOOK_EVERY_SECONDS
            try:
                done = await self._db.run(self._service.tick, self._clock())
            except asyncio.CancelledError:
                raise
            except StorageError as exc:  # the next look tries again: a claim is never half made
                if not failing:
                    log.warning("The timetables could not be read or acted on: %s; trying again every second", exc)
                failing = True
            except Exception:
                if not failing:
                    log.exception("The scheduler failed; it looks again every second")
                failing = True
            else:
                if failing:
                    log.info("The timetables are read and acted on again")
                failing = False
                self._announce(done)
                if done.next_at is not None:
                    delay = min(delay, max((done.next_at - self._clock()).total_seconds(), 0.0) + 0.01)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass

    def _announce(self, done: Tick) -> None:
        """Poke the rotation (a code message to post or finalise) and post each line in its own task,
        so a slow channel never holds up the next meeting."""
        if done.opened or done.adopted or done.closed:
            self._poke_rotation()
        lines = [
            *((m, messages.scheduled_opened(m)) for m in done.opened),
            *((m, messages.scheduled_adopted(m)) for m in done.adopted),
            *((m, messages.scheduled_closed(m)) for m in done.closed),
            *((m, messages.scheduled_missed(m)) for m in done.missed),
        ]
        for meeting, line in lines:
            task = asyncio.create_task(self._post(meeting, line), name=f"timetable-line-{meeting.course_name}")
            self._posting.add(task)
            task.add_done_callback(self._posting.discard)

    async def _post(self, meeting: Meeting, line: str) -> None:
        """One line in the course's admin channel; a failure is logged (the meeting was acted on all the same)."""
        if meeting.admin_channel_id is None:
            log.info("%s", line)
            return
        try:
            await self._pace.wait()
            # The raw route (as the code messages): no nextcord channel object to keep; a course named
            # like a mention pings no one.
            await self._client.http.send_message(meeting.admin_channel_id, line, allowed_mentions={"parse": []})
        except nextcord.HTTPException as exc:
            log.warning("Could not tell the admin channel of %r: %s (%s)", meeting.course_name, exc, line)
