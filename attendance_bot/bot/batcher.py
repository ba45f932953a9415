"""Group commit for `/here`: submissions that arrive together share one transaction."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from ..attendance import AttendanceService
from ..records import Submission, SubmitResult
from .dbworker import DatabaseWorker

log = logging.getLogger(__name__)

MAX_BATCH = 500
FINISH_POLL_SECONDS = 0.02

_Item = tuple[Submission, "asyncio.Future[SubmitResult]"]


class NotRecorded(Exception):
    """The bot is shutting down and did not record this submission (the student may send it again)."""


class Unconfirmed(Exception):
    """The bot stopped waiting for this submission's commit: it may or may not have been recorded."""


class SubmissionBatcher:
    """Queues submissions and commits whatever has queued up while the last commit ran.

    With one student at a time a batch holds one submission and nothing waits; when a whole
    class types at once, hundreds share one commit (one fsync) instead of queueing for one
    each. Every caller is answered only after its batch is committed; if the commit fails,
    every caller of that batch gets the StorageError and nothing is acknowledged.

    The database thread drains the queue itself and hands each batch's results back with one
    callback, so a busy event loop is not needed between two commits (each trip through the
    loop costs tens of milliseconds while a whole class is checking in). After each batch the
    drain queues itself again behind the other database jobs (the code rotation's read, an
    instructor's open or close) instead of looping, so a stream of submissions cannot starve them.
    """

    def __init__(
        self,
        service: AttendanceService,
        db: DatabaseWorker,
        max_batch: int = MAX_BATCH,
        failed: Callable[[], object] = lambda: None,
    ) -> None:
        self._service = service
        self._db = db
        self._max_batch = max_batch
        self._failed = failed  # called (on the database thread) for each batch whose commit failed
        self._lock = threading.Lock()
        self._pending: list[_Item] = []
        self._in_flight: list[_Item] = []
        self._draining = False  # a drain is queued or running on the database thread
        self._stopped = False  # shutting down: new submissions are refused
        self._abandoned = False  # past the shutdown deadline: nothing more is committed

    def enqueue(self, submission: Submission) -> asyncio.Future[SubmitResult]:
        """Queue one submission; the future resolves after its batch is committed.

        While the bot shuts down the future fails at once with NotRecorded.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[SubmitResult] = loop.create_future()
        with self._lock:
            if self._stopped:
                future.set_exception(NotRecorded())
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
        """On the database thread: commit one batch, then queue the next drain behind other jobs."""
        try:
            more = self._commit_one_batch(loop)
        except Exception:  # a bug, not a database error: the next submission starts a fresh drain
            log.exception("The submission queue stopped unexpectedly")
            more = False
            with self._lock:
                self._draining = False
        if more:
            self._db.start(self._drain, loop)

    def _commit_one_batch(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Commit the oldest batch and hand its results to the loop; True if more are waiting."""
        with self._lock:
            if not self._pending or self._abandoned:
                self._draining = False
                return False
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            self._in_flight = batch
        try:
            outcome: list[SubmitResult] | Exception = self._service.submit_many([item for item, _ in batch])
        except Exception as exc:  # StorageError or worse: nobody in this batch is acknowledged
            log.error("A batch of %d submissions could not be recorded: %s", len(batch), exc)
            self._failed()
            outcome = exc
        with self._lock:
            self._in_flight = []
            more = bool(self._pending) and not self._abandoned
            if not more:
                self._draining = False
        try:
            loop.call_soon_threadsafe(_deliver, batch, outcome)
        except RuntimeError:  # the loop is closed: nobody is waiting for an answer any more
            return False
        return more

    def stop(self) -> None:
        """Take no more submissions (they fail with NotRecorded); what is queued is still committed."""
        with self._lock:
            self._stopped = True

    async def finish(self, timeout: float) -> None:
        """Shutting down: refuse new submissions, commit and answer what is queued, for up to `timeout` s.

        Past the deadline nothing more is committed, and every caller still waiting is answered
        at once: NotRecorded if its submission was still queued, Unconfirmed if its batch was
        being committed (that commit may still succeed).
        """
        self.stop()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            with self._lock:
                idle = not self._draining
            if idle:
                await asyncio.sleep(0)  # let the last batch's answers (queued on the loop) run
                return
            await asyncio.sleep(FINISH_POLL_SECONDS)
        with self._lock:
            self._abandoned = True
            queued, self._pending = self._pending, []
            in_flight = list(self._in_flight)
        if queued or in_flight:
            log.warning("Stopping with %d submission(s) not recorded and %d not confirmed", len(queued), len(in_flight))
        _fail(queued, NotRecorded())
        _fail(in_flight, Unconfirmed())
        await asyncio.sleep(0)


def _fail(items: list[_Item], error: Exception) -> None:
    for _, future in items:
        if not future.done():
            future.set_exception(error)


def _deliver(batch: list[_Item], outcome: list[SubmitResult] | Exception) -> None:
    """On the event loop: answer every caller of one batch."""
    if isinstance(outcome, Exception):
        _fail(batch, outcome)
        return
    for (_, future), result in zip(batch, outcome, strict=True):
        if not future.done():
            future.set_result(result)
