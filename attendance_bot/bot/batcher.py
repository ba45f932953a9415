"""Group commit for `/here`: submissions that arrive together share one transaction."""

from __future__ import annotations

import asyncio
import logging
import threading

from ..attendance import AttendanceService, Submission, SubmitResult
from .dbworker import DatabaseWorker

log = logging.getLogger(__name__)

MAX_BATCH = 500

_Item = tuple[Submission, "asyncio.Future[SubmitResult]"]


class SubmissionBatcher:
    """Queues submissions and commits whatever has queued up while the last commit ran.

    With one student at a time a batch holds one submission and nothing waits; when a whole
    class types at once, hundreds share one commit (one fsync) instead of queueing for one
    each. Every caller is answered only after its batch is committed; if the commit fails,
    every caller of that batch gets the StorageError and nothing is acknowledged.

    The database thread drains the queue itself and hands each batch's results back with one
    callback, so a busy event loop is not needed between two commits (each trip through the
    loop costs tens of milliseconds while a whole class is checking in).
    """

    def __init__(self, service: AttendanceService, db: DatabaseWorker, max_batch: int = MAX_BATCH) -> None:
        self._service = service
        self._db = db
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Item] = []
        self._draining = False  # a drain is queued or running on the database thread
        self._stopped = False

    def enqueue(self, submission: Submission) -> asyncio.Future[SubmitResult]:
        """Queue one submission; the future resolves after its batch is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[SubmitResult] = loop.create_future()
        with self._lock:
            if self._stopped:  # the bot is shutting down: no answer rather than a false one
                future.cancel()
                return future
            self._pending.append((submission, future))
            start = not self._draining
            self._draining = True
        if start:
            self._db.start(self._drain, loop)
        return future

    async def submit(self, submission: Submission) -> SubmitResult:
        """Judge and record one submission; returns after its batch is committed."""
        return await self.enqueue(submission)

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the database thread: commit batch after batch until the queue is empty."""
        try:
            self._drain_batches(loop)
        except Exception:  # a bug, not a database error: the next submission starts a fresh drain
            log.exception("The submission queue stopped unexpectedly")
            with self._lock:
                self._draining = False

    def _drain_batches(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            with self._lock:
                if not self._pending or self._stopped:
                    self._draining = False
                    return
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            try:
                outcome: list[SubmitResult] | Exception = self._service.submit_many([item for item, _ in batch])
            except Exception as exc:  # StorageError or worse: nobody in this batch is acknowledged
                log.error("A batch of %d submissions could not be recorded: %s", len(batch), exc)
                outcome = exc
            try:
                loop.call_soon_threadsafe(_deliver, batch, outcome)
            except RuntimeError:  # the loop is closed: nobody is waiting for an answer any more
                return

    def stop(self) -> None:
        """Take no more submissions; a batch being committed finishes (DatabaseWorker.shutdown waits)."""
        with self._lock:
            self._stopped = True


def _deliver(batch: list[_Item], outcome: list[SubmitResult] | Exception) -> None:
    """On the event loop: answer every caller of one batch."""
    if isinstance(outcome, Exception):
        for _, future in batch:
            if not future.done():
                future.set_exception(outcome)
        return
    for (_, future), result in zip(batch, outcome, strict=True):
        if not future.done():
            future.set_result(result)
