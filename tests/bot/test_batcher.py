"""The submission batcher on the real database thread and real SQLite: fairness and shutdown."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from attendance_bot.attendance import AttendanceService
from attendance_bot.bot.batcher import NotRecorded, SubmissionBatcher, Unconfirmed
from attendance_bot.bot.context import export_document
from attendance_bot.bot.dbworker import DatabaseWorker
from attendance_bot.export import csv_bytes
from attendance_bot.models import init_db
from attendance_bot.records import Outcome, Submission, SubmitResult
from attendance_bot.services import Services

STUDENTS = 200


def _submissions(service: AttendanceService, count: int, first_id: int = 1) -> list[Submission]:
    code = service.current_code().code
    return [Submission(first_id + i, f"student{first_id + i}", code) for i in range(count)]


def _open(service: AttendanceService, db: DatabaseWorker) -> None:
    """Open a session from the database thread (the connection is per thread)."""

    async def go() -> None:
        await db.run(init_db, service.settings.database_path)
        await db.run(service.open_session, opened_by="test")

    asyncio.run(go())


def test_other_database_jobs_run_between_batches(service: AttendanceService, db: Path) -> None:
    """A job submitted while a queue of check-ins is pending runs before the queue is drained."""
    worker = DatabaseWorker()
    try:
        _open(service, worker)
        batcher = SubmissionBatcher(service, worker, max_batch=5)

        async def scenario() -> tuple[int, list[SubmitResult]]:
            futures = [batcher.enqueue(s) for s in _submissions(service, STUDENTS)]
            # The rotation's read (or an instructor's open/close) arrives while the class is checking in.
            answered_before = await worker.run(lambda: sum(f.done() for f in futures))
            return answered_before, list(await asyncio.gather(*futures))

        answered_before, results = asyncio.run(scenario())
    finally:
        worker.shutdown()
    assert answered_before < STUDENTS - 5, "the other job waited until the whole queue was drained"
    assert {r.outcome for r in results} == {Outcome.RECORDED}


def test_finish_commits_and_answers_everything_queued(service: AttendanceService, db: Path) -> None:
    """Shutting down: what was queued is committed and answered; later submissions are told they were not taken."""
    worker = DatabaseWorker()
    try:
        _open(service, worker)
        batcher = SubmissionBatcher(service, worker, max_batch=5)

        async def scenario() -> tuple[list[SubmitResult], BaseException | None]:
            futures = [batcher.enqueue(s) for s in _submissions(service, 50)]
            await batcher.finish(timeout=30)
            late = batcher.enqueue(_submissions(service, 1, first_id=1000)[0])
            assert all(f.done() for f in futures)
            try:
                await late
            except NotRecorded as exc:
                return [f.result() for f in futures], exc
            return [f.result() for f in futures], None

        results, late_error = asyncio.run(scenario())
    finally:
        worker.shutdown()
    assert {r.outcome for r in results} == {Outcome.RECORDED}
    assert late_error is not None
    init_db(service.settings.database_path)
    assert len(service.export_rows()) == 50


def test_finish_deadline_answers_what_could_not_be_committed(service: AttendanceService, db: Path) -> None:
    """Past the deadline everyone still waiting is answered: queued ones were not recorded, the batch in flight unsure."""
    worker = DatabaseWorker()
    try:
        _open(service, worker)
        batcher = SubmissionBatcher(service, worker, max_batch=5)
        holder = sqlite3.connect(service.settings.database_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock: the first batch waits

        async def scenario() -> list[BaseException | SubmitResult]:
            futures = [batcher.enqueue(s) for s in _submissions(service, 20)]
            await batcher.finish(timeout=0.3)
            assert all(f.done() for f in futures)
            return [f.exception() or f.result() for f in futures]

        try:
            outcomes = asyncio.run(scenario())
        finally:
            holder.execute("COMMIT")
            holder.close()
    finally:
        worker.shutdown()  # the batch in flight commits now, and nothing after it
    unsure = [i + 1 for i, o in enumerate(outcomes) if isinstance(o, Unconfirmed)]
    not_recorded = [i + 1 for i, o in enumerate(outcomes) if isinstance(o, NotRecorded)]
    assert unsure and not_recorded and len(unsure) + len(not_recorded) == len(outcomes)
    init_db(service.settings.database_path)
    assert sorted(row.user_id for row in service.export_rows()) == unsure


def test_an_export_reads_with_its_own_connection_while_the_database_is_locked(
    service: AttendanceService, db: Path
) -> None:
    """export_document builds the same CSV as manage.py, on another thread, while a writer holds the lock."""
    service.open_session()
    code = service.current_code().code
    service.submit_many([Submission(i, f"student{i}", code) for i in range(1, 1201)])
    expected = csv_bytes(service.export_rows(), service.settings.timezone)
    writer = sqlite3.connect(service.settings.database_path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # the database thread could not commit now; a reader still can
        done = asyncio.run(
            asyncio.to_thread(export_document, Services(service.settings), None, service.course(None).id)
        )
        data, count = done.data, done.count
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert (data, count) == (expected, 1200)
