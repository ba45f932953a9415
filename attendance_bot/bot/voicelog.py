"""Keeps the voice log in line with the gateway: a sync soon after each change in voice, and every few seconds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection

from ..errors import StorageError
from ..voice import VoiceService
from .dbworker import DatabaseWorker, cancel_and_wait

log = logging.getLogger(__name__)

# After a join, leave or move: the sync waits this long, so a class joining at once costs one sync.
SETTLE_SECONDS = 1.0
# Without any: a sync this often anyway, to start the log of a session opened by `manage.py open`.
SYNC_EVERY_SECONDS = 5.0


class VoiceLog:
    """Runs VoiceService.sync on the database thread: after changes in voice (coalesced) and every
    SYNC_EVERY_SECONDS, for the servers `guilds()` names (the ones whose voice states this process
    holds: another shard's process logs its own). The times written are the presence's (when the
    gateway told), not the sync's."""

    def __init__(self, service: VoiceService, db: DatabaseWorker, guilds: Callable[[], Collection[int]]) -> None:
        self._service = service
        self._db = db
        self._guilds = guilds
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="voice-log")

    def changed(self) -> None:
        """Someone joined, left or moved, or a server's voice states were read again: sync soon."""
        self._changed.set()

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=SYNC_EVERY_SECONDS)
                await asyncio.sleep(SETTLE_SECONDS)
            except TimeoutError:
                pass
            self._changed.clear()
            try:
                await self._db.run(self._service.sync, set(self._guilds()))
            except asyncio.CancelledError:
                raise
            except StorageError as exc:  # the next round tries again; the presence is still in memory
                log.warning("Could not write the voice log: %s", exc)
            except Exception:
                log.exception("The voice log failed; it is tried again in %.0f s", SYNC_EVERY_SECONDS)
