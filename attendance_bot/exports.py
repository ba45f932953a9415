"""The one export path: a course's (or one session's) CSV in a format, for /export_csv and `manage.py export` alike.

Which session, which rows, which writer and which file name live here; the adapters parse what
was asked, run this (the bot on a thread of its own, paced), and show the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .attendance import AttendanceService
from .errors import SessionWithoutCourse
from .export import csv_bytes, filename_for, format_document
from .gradebook import GradebookService
from .records import ExportRow
from .settings import Settings

# Wraps the slices of rows an export writes (ExportRow lists for records, cell tuples for the
# others); the bot passes dbworker.paced so its thread leaves the event loop most of the time.
Pace = Callable[[Iterator[list[Any]]], Iterable[list[Any]]]


@dataclass(frozen=True)
class Export:
    """An export's CSV bytes, its file name and its count (records or rows written, or roster students)."""

    data: bytes
    filename: str
    count: int


class ExportService:
    """Exports through the attendance service (records) and the gradebook (full, gradebook)."""

    def __init__(self, settings: Settings, attendance: AttendanceService, gradebook: GradebookService) -> None:
        self.settings = settings
        self.attendance = attendance
        self.gradebook = gradebook

    def export(
        self, fmt: str, course_id: int | None, session_id: str | None = None, pace: Pace | None = None
    ) -> Export:
        """The CSV of a course in `fmt` (export.FORMATS), or of one session (stripped by the caller).

        Without a course, a session id says which course (UnknownSession or CourseNeeded are raised
        before anything is written; SessionWithoutCourse for a session older than courses asked for
        in full or gradebook). `records` is read in slices as it is written; full and gradebook read
        the course once and are written slice by slice; `pace` wraps the slices either way.
        """
        if fmt == "records":
            data, count = self._records(course_id, session_id, pace)
        else:
            data, count = self._course_format(fmt, course_id, session_id, pace)
        return Export(data, filename_for(session_id, fmt), count)

    def _records(self, course_id: int | None, session_id: str | None, pace: Pace | None) -> tuple[bytes, int]:
        chunks: Iterable[list[ExportRow]] = self.attendance.export_chunks(session_id, course_id=course_id)
        if pace is not None:
            chunks = pace(iter(chunks))
        count = 0

        def rows() -> Iterator[ExportRow]:
            nonlocal count
            for chunk in chunks:
                count += len(chunk)
                yield from chunk

        data = csv_bytes(rows(), self.settings.timezone)
        return data, count

    def _course_format(
        self, fmt: str, course_id: int | None, session_id: str | None, pace: Pace | None
    ) -> tuple[bytes, int]:
        if session_id is not None:
            info = self.attendance.get_session(session_id, course_id)  # UnknownSession lists the recent ones
            session_id, course_id = info.session_id, info.course_id
            if course_id is None:
                raise SessionWithoutCourse(session_id=session_id)
        if course_id is None:
            course_id = self.attendance.course(None).id
        book = self.gradebook.gradebook(course_id, session_id)
        return format_document(fmt, book, self.settings.timezone, pace=pace)
