"""The live feed of a projector link: one reader per link, however many pages watch it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from ..records import ProjectorView

log = logging.getLogger(__name__)

# How often a feed reads its session besides the window boundaries: the count and a close show
# within this long. One read per link however many pages are open, on the bot's database thread.
POLL_SECONDS = 1.0
# A boundary's read waits this long after it, so the clock there is past it.
AFTER_BOUNDARY_SECONDS = 0.005
RETRY_SECONDS = 1.0  # after a failed read (the database busy or down): the pages keep what they have


@dataclass(frozen=True)
class Update:
    """One thing a feed tells its pages: a view of the open session, or its end ("closed": the
    session closed; "gone": the link was replaced)."""

    view: ProjectorView | None
    ended: str = ""


class Watcher:
    """One page's place in a feed: the latest update it has not sent yet."""

    def __init__(self) -> None:
        self.latest: Update | None = None
        self.ready = asyncio.Event()

    def give(self, update: Update) -> None:
        self.latest = update  # a page that is behind skips to the newest: only the current code matters
        self.ready.set()

    async def next(self, timeout: float) -> Update | None:
        """The newest update, or None after `timeout` seconds without one (time for a keep-alive)."""
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
        except TimeoutError:
            return None
        self.ready.clear()
        update, self.latest = self.latest, None
        return update


class Feed:
    """Reads one link's view at each window boundary and every POLL_SECONDS, and hands what changed
    to every page watching it; ends itself when its session closes, its link is replaced, or no
    page watches any more.

    Each view is read at or after the instant it is for, so no page ever gets a code before its
    window; a page that joins gets the last view only while its window lasts.
    """

    def __init__(
        self,
        read: Callable[[], Awaitable[ProjectorView | None]],
        clock: Callable[[], datetime],
        on_end: Callable[[Feed], None],
    ) -> None:
        self._read = read
        self._clock = clock
        self._on_end = on_end
        self._watchers: set[Watcher] = set()
        self._last: Update | None = None
        self._task: asyncio.Task[None] | None = None

    def watch(self) -> Watcher:
        watcher = Watcher()
        self._watchers.add(watcher)
        last = self._last
        if last is not None and (last.ended or self._current(last)):
            watcher.give(last)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="projector-feed")
        return watcher

    def leave(self, watcher: Watcher) -> None:
        self._watchers.discard(watcher)

    def _current(self, update: Update) -> bool:
        view = update.view
        return view is not None and view.changes_at is not None and view.changes_at > self._clock()

    def _tell(self, update: Update) -> None:
        self._last = update
        for watcher in self._watchers:
            watcher.give(update)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        try:
            shown: tuple[int | None, int] | None = None
            failing = False
            while self._watchers:
                try:
                    view = await self._read()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # once per outage: the pages keep what they show meanwhile
                    (log.debug if failing else log.warning)("Projector feed cannot read its session: %s", exc)
                    failing = True
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                if failing:
                    log.info("Projector feed reads its session again")
                    failing = False
                if view is None or not view.is_open:
                    self._tell(Update(view, "gone" if view is None else "closed"))
                    return
                if (view.window, view.count) != shown:
                    shown = (view.window, view.count)
                    self._tell(Update(view))
                assert view.changes_at is not None
                until_boundary = (view.changes_at - self._clock()).total_seconds() + AFTER_BOUNDARY_SECONDS
                await asyncio.sleep(min(POLL_SECONDS, max(until_boundary, AFTER_BOUNDARY_SECONDS)))
        finally:
            self._on_end(self)
