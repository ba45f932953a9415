"""The report worker on real SQLite, outside Discord: its process answers, or says why not."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from attendance_bot import messages
from attendance_bot.bot.reports import ReportWorker
from attendance_bot.errors import CourseError
from attendance_bot.gradebook import GradebookService
from attendance_bot.report import ReportError
from attendance_bot.settings import Settings


async def _never_queued(ahead: int) -> None:
    raise AssertionError(f"queued behind {ahead} with nothing else asked")


def test_an_unknown_course_is_the_services_sentence(settings: Settings, db: Path) -> None:
    """A course gone before its report is made: the worker's process answers the course error's own
    sentence (no traceback, no generic failure)."""
    with pytest.raises(CourseError) as expected:
        GradebookService(settings).gradebook(999)
    with pytest.raises(ReportError) as raised:
        asyncio.run(ReportWorker(settings).make(999, _never_queued))
    assert str(raised.value) == str(expected.value)


def test_a_stopped_worker_takes_no_report(settings: Settings, db: Path) -> None:
    """After stop() a request is answered that the bot is stopping; no process is started."""

    async def go() -> None:
        worker = ReportWorker(settings)
        await worker.stop()
        await worker.make(1, _never_queued)

    with pytest.raises(ReportError) as raised:
        asyncio.run(go())
    assert str(raised.value) == messages.report_stopping_reply()
