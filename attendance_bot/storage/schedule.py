"""Timetables: their entries and skipped dates, and the runs that say which process acted on a meeting."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ..models import ScheduleEntry, ScheduleRun, ScheduleSkip


def add_entry(**fields: Any) -> ScheduleEntry:
    """A new line of a course's timetable."""
    return ScheduleEntry.create(**fields)


def remove_entry(entry_id: int, at: datetime) -> None:
    """Take a line off its timetable; its row stays for the runs that name it."""
    ScheduleEntry.update(removed_at=at).where(ScheduleEntry.id == entry_id).execute()


def add_skip(course_id: int, day: date, at: datetime) -> None:
    """A date the course does not meet (IntegrityError if it is skipped already)."""
    ScheduleSkip.create(course=course_id, day=day, created_at=at)


def remove_skip(course_id: int, day: date) -> int:
    """The date meets again; how many rows went (0: it was not skipped)."""
    return int(ScheduleSkip.delete().where((ScheduleSkip.course == course_id) & (ScheduleSkip.day == day)).execute())


def claim_run(
    *,
    entry_id: int,
    day: date,
    course_id: int,
    state: str,
    session_id: str | None,
    starts_at: datetime,
    ends_at: datetime,
    at: datetime,
) -> None:
    """Note what became of one meeting. The unique (entry, day) makes this the claim: IntegrityError
    if another process (or an earlier run of this one) noted it first, and the caller's whole
    transaction (the session it opened with it) is rolled back."""
    ScheduleRun.insert(
        entry=entry_id,
        day=day,
        course=course_id,
        state=state,
        session_id=session_id,
        starts_at=starts_at,
        ends_at=ends_at,
        claimed_at=at,
        finished_at=at if session_id is None else None,
    ).execute()


def finish_run(run_id: int, at: datetime) -> bool:
    """Mark a run's meeting over; False if it was already (another process closed it)."""
    query = ScheduleRun.update(finished_at=at).where((ScheduleRun.id == run_id) & ScheduleRun.finished_at.is_null())
    return bool(query.execute())
