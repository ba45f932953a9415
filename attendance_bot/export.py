"""The one CSV writer: the seed's header and order, RFC 4180, UTF-8, times in TIMEZONE.

Three formats: `records` (the seed's columns, one row per present or late record: the seed's bytes
for clean data),
`full` (those columns plus who the student is, every status, absences computed at read included,
and the minutes in voice and whether the check-in came from the voice channel)
and `gradebook` (one row per roster student, a P/L/E/A column per session, then the totals and the
grade by the course's policy). Every
text cell of every format goes through text_cell().
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from .records import ExportRow, Gradebook, Status

HEADER = ("user_id", "username", "timestamp", "date_id", "session_id")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula (OWASP CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def csv_text(rows: Iterable[ExportRow], tz: ZoneInfo) -> str:
    """The CSV document for these rows, with CRLF line ends as RFC 4180 asks."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    for row in rows:
        local = row.submitted_at.astimezone(tz)
        writer.writerow(
            (
                "" if row.user_id is None else str(row.user_id),  # a mark of a student with no account
                text_cell(row.username),
                local.strftime("%Y-%m-%d %H:%M:%S"),
                local.strftime("%Y-%m-%d"),
                text_cell(row.session_id),
            )
        )
    return buffer.getvalue()


def csv_bytes(rows: Iterable[ExportRow], tz: ZoneInfo) -> bytes:
    """The same document encoded as UTF-8 (no BOM): what every export writes."""
    return csv_text(rows, tz).encode("utf-8")


def filename_for(session_id: str | None, fmt: str = "records") -> str:
    """The attachment or file name for an export of one session or of all (`_full`, `_gradebook`
    before `.csv` for those formats)."""
    suffix = "" if fmt == "records" else f"_{fmt}"
    return f"attendance_{session_id}{suffix}.csv" if session_id else f"attendance_all{suffix}.csv"


# -- the full and gradebook formats (the record as attendance_bot/gradebook.py reads it) -----------

FORMATS = ("records", "full", "gradebook")
FULL_HEADER = (*HEADER, "student_id", "student_name", "status", "source", "course", "voice_minutes", "in_voice")
STUDENT_COLUMNS = ("student_id", "name", "discord")
TOTAL_COLUMNS = ("sessions", *(s.value for s in Status), "rate")
GRADE_COLUMN = "grade"  # after the totals: 0-100 by the course's grading policy (records.GradingPolicy)
COMPUTED = "computed"  # the `source` of an absence computed at read (no record is stored)
# The `in_voice` cell of a check-in in a session with a voice channel (empty: no such note).
IN_VOICE = {True: "yes", False: "no"}
CHUNK = 500  # rows per slice handed to a pacing caller
# Characters that reorder or hide text (Trojan Source); control characters become spaces.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

Row = Sequence[str]
Pace = Callable[[Iterator[list[Row]]], Iterable[list[Row]]]


def text_cell(value: str | None) -> str:
    """A text cell of every format (records, full, gradebook, the report): bidi overrides and isolates removed,
    control characters (line breaks included) made spaces, then a formula start neutralised."""
    if not value:
        return ""
    if value.isprintable() and not BIDI_CONTROLS.intersection(value):
        return _cell(value)
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in value if ch not in BIDI_CONTROLS
    )
    return _cell(text.strip())  # stripped: a control character before "=" hid the formula start


def document(header: Row, chunks: Iterable[list[Row]]) -> tuple[bytes, int]:
    """A CSV document (CRLF, UTF-8 without BOM) of a header and rows given in slices; its row count."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    count = 0
    for chunk in chunks:
        writer.writerows(chunk)
        count += len(chunk)
    return buffer.getvalue().encode("utf-8"), count


def full_rows(book: Gradebook, tz: ZoneInfo) -> Iterator[Row]:
    """The `full` format's rows: session by session in opening order, each session's records in
    time order, then the roster students absent from it (computed: no record, so `timestamp` and
    `date_id` are empty and `source` is `computed`). `user_id` and `username` are the record's,
    else the student's linked account's, else empty (a mark of a student with no account)."""
    course = text_cell(book.course_name)
    for column, session in enumerate(book.sessions):
        stored: list[tuple[datetime, int, Row]] = []
        computed: list[Row] = []
        for row in book.rows:
            cell = row.cells[column]
            if cell is None:
                continue
            student = row.student
            who = (text_cell(student.student_id), text_cell(student.name))
            sid = text_cell(session.session_id)
            record = cell.record
            if record is None:
                user = "" if student.user_id is None else str(student.user_id)
                minutes = _number(book.voice_minutes(session, student.user_id))
                computed.append(
                    (user, text_cell(student.username), "", "", sid, *who, cell.status, COMPUTED, course, minutes, "")
                )
                continue
            local = record.submitted_at.astimezone(tz)
            user_id = record.user_id if record.user_id is not None else student.user_id
            line = (
                "" if user_id is None else str(user_id),
                text_cell(record.username or student.username),
                local.strftime("%Y-%m-%d %H:%M:%S"),
                local.strftime("%Y-%m-%d"),
                sid,
                *who,
                cell.status,
                record.source,
                course,
                _number(book.voice_minutes(session, user_id)),
                IN_VOICE.get(record.in_voice, ""),
            )
            stored.append((record.submitted_at, record.user_id or 0, line))
        stored.sort(key=lambda item: (item[0], item[1]))
        yield from (line for _, _, line in stored)
        yield from computed


def _number(number: int | None) -> str:
    return "" if number is None else str(number)


def gradebook_header(book: Gradebook) -> Row:
    """student_id,name,discord, one column per session (its id), then the totals and the grade."""
    return (*STUDENT_COLUMNS, *(text_cell(s.session_id) for s in book.sessions), *TOTAL_COLUMNS, GRADE_COLUMN)


def gradebook_rows(book: Gradebook) -> Iterator[Row]:
    """One row per roster student (students not on the roster are left out: an LMS import has
    no one to give their grade to; `full` and the report list them)."""
    for row in book.rows:
        if not row.student.on_roster:
            continue
        student, t = row.student, row.totals
        yield (
            text_cell(student.student_id),
            text_cell(student.name),
            text_cell(student.username),
            *("" if cell is None else _letter(cell.status) for cell in row.cells),
            *(str(n) for n in (t.sessions, *t.counts)),
            t.rate_text,
            row.grade_text,
        )


def _letter(status: str) -> str:
    """A gradebook cell: the status's letter (P, L, E, A), empty for a word that is no Status."""
    try:
        return Status(status).letter
    except ValueError:
        return ""


def slices(rows: Iterable[Row], size: int = CHUNK) -> Iterator[list[Row]]:
    """Rows in lists of `size`, so a caller can pace the writing a slice at a time."""
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def format_document(fmt: str, book: Gradebook, tz: ZoneInfo, pace: Pace | None = None) -> tuple[bytes, int]:
    """The `full` or `gradebook` CSV of a gradebook and its row count; `pace` wraps the slices
    (a thread beside the event loop passes dbworker.paced)."""
    if fmt == "full":
        header, rows = FULL_HEADER, full_rows(book, tz)
    elif fmt == "gradebook":
        header, rows = gradebook_header(book), gradebook_rows(book)
    else:
        raise ValueError(f"not a gradebook format: {fmt!r}")
    chunks = slices(rows)
    return document(header, pace(chunks) if pace is not None else chunks)
