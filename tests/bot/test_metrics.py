"""The bot's metrics: which result each check-in is counted under, one registry per bot, and the database
errors counted where they surface (the database thread, the /here batcher), on real SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import peewee
import pytest

from attendance_bot.attendance import AttendanceService
from attendance_bot.bot.batcher import SubmissionBatcher
from attendance_bot.bot.dbworker import DatabaseWorker
from attendance_bot.bot.metrics import RECORDED, RESULTS, CheckinResult, Metrics, result_of
from attendance_bot.database import database
from attendance_bot.errors import StorageError
from attendance_bot.models import init_db
from attendance_bot.records import Outcome, Status, Submission, SubmitResult


@pytest.mark.parametrize(
    ("outcome", "status", "counted"),
    [
        (Outcome.RECORDED, Status.PRESENT, CheckinResult.PRESENT),
        (Outcome.UPDATED, Status.PRESENT, CheckinResult.PRESENT),
        (Outcome.RECORDED, Status.LATE, CheckinResult.LATE),
        (Outcome.UPDATED, Status.LATE, CheckinResult.LATE),
        (Outcome.WRONG, "", CheckinResult.WRONG),
        (Outcome.MALFORMED, "", CheckinResult.WRONG),
        (Outcome.EXPIRED, "", CheckinResult.EXPIRED),
        (Outcome.THROTTLED, "", CheckinResult.THROTTLED),
        (Outcome.NO_SESSION, "", CheckinResult.REFUSED),
        (Outcome.WRONG_CHANNEL, "", CheckinResult.REFUSED),
        (Outcome.NOT_IN_VOICE, "", CheckinResult.REFUSED),
        (Outcome.KEPT, Status.EXCUSED, CheckinResult.REFUSED),
    ],
)
def test_each_outcome_is_counted_under_one_result(outcome: Outcome, status: str, counted: CheckinResult) -> None:
    """A recorded check-in counts as present or late by its status; the rest by what stopped it."""
    assert result_of(SubmitResult(outcome, "S", status=status)) == counted


def test_every_outcome_has_a_result() -> None:
    """A new Outcome is placed under a result here (it would count as refused meanwhile); the labels are the
    six the issue names, in its order."""
    assert set(RESULTS) | set(RECORDED) == set(Outcome)
    assert not set(RESULTS) & set(RECORDED)
    assert [r.value for r in CheckinResult] == ["present", "late", "wrong", "expired", "throttled", "refused"]


def test_each_bot_counts_in_a_registry_of_its_own() -> None:
    """Two bots in one process (as the tests start them) count apart, and neither touches the global registry."""
    first, second = Metrics(), Metrics()
    first.checked_in(SubmitResult(Outcome.RECORDED, "S", status=Status.PRESENT))
    first.refused(3)
    assert (first.count(CheckinResult.PRESENT), first.count(CheckinResult.REFUSED)) == (1, 3)
    assert [second.count(result) for result in CheckinResult] == [0] * len(CheckinResult)
    from prometheus_client import REGISTRY

    assert REGISTRY.get_sample_value("attendance_checkins_total", {"result": "present"}) is None


def test_database_jobs_that_fail_are_counted(db: Path) -> None:
    """A job on the database thread that ends with a database error (peewee's, or storage's StorageError) is
    counted once; a job that succeeds or fails otherwise is not."""
    failures: list[int] = []
    worker = DatabaseWorker(lambda: failures.append(1))

    def missing_table() -> object:
        return database.execute_sql("SELECT * FROM no_such_table").fetchall()

    def storage_error() -> None:
        raise StorageError("database_failure", action="testing")

    def not_the_database() -> None:
        raise ValueError("a bug")

    async def scenario() -> None:
        await worker.run(init_db, db)
        assert await worker.run(lambda: database.execute_sql("SELECT 1").fetchall()) == [(1,)]
        for job, error in ((missing_table, peewee.OperationalError), (storage_error, StorageError)):
            with pytest.raises(error):
                await worker.run(job)
        with pytest.raises(ValueError):
            await worker.run(not_the_database)

    try:
        asyncio.run(scenario())
    finally:
        worker.shutdown()
    assert len(failures) == 2


def test_a_batch_whose_commit_fails_is_counted(service: AttendanceService, db: Path) -> None:
    """The check-ins of a batch the database refuses get the StorageError, and the batch is one database error."""
    failures: list[int] = []
    worker = DatabaseWorker()
    batcher = SubmissionBatcher(service, worker, failed=lambda: failures.append(1))

    async def scenario() -> list[BaseException | SubmitResult]:
        await worker.run(init_db, db)
        await worker.run(service.open_session, opened_by="test")
        code = (await worker.run(service.current_code)).code
        with sqlite3.connect(db) as other:  # another program breaks the table the batch writes
            other.execute("DROP TABLE attendance")
        futures = [batcher.enqueue(Submission(i, f"student{i}", code)) for i in range(1, 4)]
        return await asyncio.gather(*futures, return_exceptions=True)

    try:
        outcomes = asyncio.run(scenario())
    finally:
        worker.shutdown()
    assert [type(o) for o in outcomes] == [StorageError] * 3
    assert failures == [1]
