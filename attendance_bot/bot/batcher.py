"""Group commit for `/here`: submissions that arrive together share one transaction."""

from __future__ import annotations

import asyncio
import logging

from ..attendance import AttendanceService, Submission, SubmitResult
from .dbworker import DatabaseWorker, cancel_and_wait

log = logging.getLogger(__name__)

MAX_BATCH = 500


class SubmissionBatcher:
    """Queues submissions and commits whatever has queued up while the last commit ran.

    With one student at a time a batch holds one submission and nothing waits; when a whole
    class types at once, hundreds share one commit (one fsync) instead of queueing for one
    each. Every caller is answered only after its batch is committed; if the commit fails,
    every caller of that batch gets the StorageError and nothing is acknowledged.
    """

    def __init__(self, service: AttendanceService, db: DatabaseWorker, max_batch: int = MAX_BATCH) -> None:
        self._service = service
        self._db = db
        self._max_batch = max_batch
        self._pending: list[tuple[Submission, asyncio.Future[SubmitResult]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def enqueue(self, submission: Submission) -> asyncio.Future[SubmitResult]:
        """Queue one submission; the future resolves after its batch is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[SubmitResult] = loop.create_future()
        self._pending.append((submission, future))
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain(), name="submission-batcher")
        return future

    async def submit(self, submission: Submission) -> SubmitResult:
        """Judge and record one submission; returns after its batch is committed."""
        return await self.enqueue(submission)

    async def _drain(self) -> None:
        assert self._wake is not None
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            try:
                results = await self._db.run(self._service.submit_many, [item for item, _ in batch])
            except Exception as exc:  # StorageError or worse: nobody in this batch is acknowledged
                log.error("A batch of %d submissions could not be recorded: %s", len(batch), exc)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
