"""Export: the seed's CSV, byte for byte, times in TIMEZONE, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from attendance_bot.attendance import AttendanceService
from attendance_bot.export import csv_bytes, csv_text, filename_for
from attendance_bot.records import ExportRow
from attendance_bot.settings import Settings

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")

T0 = datetime(2024, 9, 2, 9, 0, 0, tzinfo=timezone.utc)  # where the `clock` fixture starts

UTC = ZoneInfo("UTC")
HEADER = b"user_id,username,timestamp,date_id,session_id\r\n"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def checkin(service: AttendanceService, clock: FakeClock, when: datetime, user_id: int, username: str) -> None:
    clock.set(when)
    assert service.submit(user_id=user_id, username=username, code=service.current_code().code).accepted


KNOWN = [
    ExportRow(111, "alice", at(5.9), "20240902-0900-ABCD"),
    ExportRow(222, 'Smith, "Bobby"', at(20), "20240902-0900-ABCD"),
    ExportRow(333, "new\nline", at(30), "20240902-0900-ABCD"),
    ExportRow(444, "Юлия 王小明 🎓", at(40), "20240902-0900-ABCD"),
    ExportRow(1234567890123456789, "plain", at(86399), "20240902-0900-ABCD"),
]


def test_known_dataset_gives_exact_bytes() -> None:
    """Header, CRLF line ends, RFC 4180 quoting and UTF-8, exactly."""
    expected = (
        HEADER
        + b"111,alice,2024-09-02 09:00:05,2024-09-02,20240902-0900-ABCD\r\n"
        + b'222,"Smith, ""Bobby""",2024-09-02 09:00:20,2024-09-02,20240902-0900-ABCD\r\n'
        + b"333,new line,2024-09-02 09:00:30,2024-09-02,20240902-0900-ABCD\r\n"
        + "444,Юлия 王小明 🎓,2024-09-02 09:00:40,2024-09-02,20240902-0900-ABCD\r\n".encode()
        + b"1234567890123456789,plain,2024-09-03 08:59:59,2024-09-03,20240902-0900-ABCD\r\n"
    )
    assert csv_bytes(KNOWN, UTC) == expected
    assert csv_text(KNOWN, UTC).encode("utf-8") == expected


def test_csv_round_trips_through_a_reader() -> None:
    """A standard CSV reader gets back every name as typed, commas, quotes and all (a line break is a space)."""
    parsed = parse(csv_bytes(KNOWN, UTC))
    assert parsed[0] == ["user_id", "username", "timestamp", "date_id", "session_id"]
    assert [(int(r[0]), r[1]) for r in parsed[1:]] == [(r.user_id, r.username.replace("\n", " ")) for r in KNOWN]


def test_no_byte_order_mark() -> None:
    """The file starts with the header itself (UTF-8 without BOM)."""
    assert csv_bytes([], UTC).startswith(b"user_id,")


def test_empty_export_is_the_header_only(service: AttendanceService) -> None:
    """No records: just the header line."""
    assert csv_bytes(service.export_rows(), UTC) == HEADER


@pytest.mark.parametrize(
    ("tz", "timestamp", "date_id"),
    [
        ("UTC", "2024-09-02 03:30:00", "2024-09-02"),
        ("America/New_York", "2024-09-01 23:30:00", "2024-09-01"),
        ("Asia/Kolkata", "2024-09-02 09:00:00", "2024-09-02"),
        ("Pacific/Kiritimati", "2024-09-02 17:30:00", "2024-09-02"),
    ],
)
def test_times_are_written_in_the_configured_timezone(
    tz: str, timestamp: str, date_id: str, settings_factory: Callable[..., Settings], db: Path, clock: FakeClock
) -> None:
    """timestamp and date_id follow TIMEZONE, so a late-evening check-in keeps its local date."""
    settings = settings_factory(TIMEZONE=tz)
    service = AttendanceService(settings, clock)
    clock.set(datetime(2024, 9, 2, 3, 29, 50, tzinfo=timezone.utc))
    service.open_session()
    checkin(service, clock, datetime(2024, 9, 2, 3, 30, 0, tzinfo=timezone.utc), 1, "night owl")
    rows = parse(csv_bytes(service.export_rows(), settings.timezone))
    assert rows[1][2:4] == [timestamp, date_id]


@pytest.mark.parametrize("name", ["=1+1", "+41 79 000", "-2+3", "@SUM(A1:A2)", '=HYPERLINK("x")'])
def test_formula_cells_are_neutralised(name: str) -> None:
    """A name a spreadsheet would run as a formula is written with a leading apostrophe."""
    rows = parse(csv_bytes([ExportRow(1, name, T0, "S")], UTC))
    assert rows[1][1] == "'" + name


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("\u202eevil\u202c", "evil"),
        ("a\u2066b\u2069c", "abc"),
        ("esc\x1b[31mred", "esc [31mred"),
        ("c1\x85\x9bx", "c1  x"),
        ("\tTAB", "TAB"),
        ("\r=1+1", "'=1+1"),
        ("\x00@SUM(1)", "'@SUM(1)"),
    ],
)
def test_records_cells_drop_control_and_text_reordering_characters(value: str, cell: str) -> None:
    """The records format treats a username and a session id as full and gradebook do (text_cell):
    bidi overrides and isolates removed, C0 and C1 controls made spaces, then a formula start neutralised."""
    from attendance_bot.export import text_cell

    rows = parse(csv_bytes([ExportRow(1, value, T0, value)], UTC))
    assert rows[1][1] == rows[1][4] == cell == text_cell(value)


@pytest.mark.parametrize("name", ["a=b", "x+y", "mary-jane", "user@example", "'quoted"])
def test_ordinary_names_are_left_alone(name: str) -> None:
    """Only a formula-like start is changed; = + - @ elsewhere stay as typed."""
    assert parse(csv_bytes([ExportRow(1, name, T0, "S")], UTC))[1][1] == name


def test_one_session_or_all(service: AttendanceService, clock: FakeClock) -> None:
    """export_rows(id) gives that session's records only; no id gives all, oldest session first."""
    first = service.open_session().session_id
    checkin(service, clock, at(10), 2, "bea")
    checkin(service, clock, at(5 + 15), 1, "abe")
    service.close_session()
    clock.set(at(86400))
    second = service.open_session().session_id
    checkin(service, clock, at(86400 + 3), 1, "abe")

    one = parse(csv_bytes(service.export_rows(first), UTC))
    assert [(r[0], r[4]) for r in one[1:]] == [("2", first), ("1", first)]
    every = parse(csv_bytes(service.export_rows(), UTC))
    assert [(r[0], r[4]) for r in every[1:]] == [("2", first), ("1", first), ("1", second)]
    assert parse(csv_bytes(service.export_rows(second), UTC))[1:] == every[3:]


def test_export_shows_the_last_submission(service: AttendanceService, clock: FakeClock) -> None:
    """A resubmission appears once, with its latest name and time."""
    session = service.open_session().session_id
    checkin(service, clock, at(1), 5, "old name")
    checkin(service, clock, at(50), 5, "new name")
    assert csv_bytes(service.export_rows(), UTC) == (
        HEADER + f"5,new name,2024-09-02 09:00:50,2024-09-02,{session}\r\n".encode()
    )


@pytest.mark.parametrize(
    ("session_id", "name"),
    [(None, "attendance_all.csv"), ("20240902-0900-ABCD", "attendance_20240902-0900-ABCD.csv")],
)
def test_file_names(session_id: str | None, name: str) -> None:
    """The attachment is named after the session, or 'all'."""
    assert filename_for(session_id) == name


# -- the full and gradebook formats (export.format_document over gradebook.py's read) ----------------


@pytest.fixture
def semester(db: Path) -> int:
    from _semester import build_semester

    return build_semester()


def test_records_format_leaves_out_excused_and_absent_marks(service: AttendanceService, semester: int) -> None:
    """The default export holds the present and late records only, in the seed's columns and order."""
    rows = parse(csv_bytes(service.export_rows(course_id=semester), UTC))
    assert rows[0] == list(HEADER.decode().strip().split(","))
    assert [(r[0], r[4][-4:]) for r in rows[1:]] == [
        ("102", "AAAA"),
        ("201", "AAAA"),
        ("101", "AAAA"),
        ("102", "BBBB"),
        ("101", "BBBB"),
        ("202", "BBBB"),
        ("101", "DDDD"),
        ("201", "DDDD"),
    ]


def test_records_format_writes_a_mark_without_an_account_with_an_empty_user_id() -> None:
    """A present mark of a roster student with no linked account (user_id NULL) has an empty user_id cell."""
    assert csv_bytes([ExportRow(None, "", T0, "S")], UTC) == HEADER + b",,2024-09-02 09:00:00,2024-09-02,S\r\n"  # type: ignore[arg-type]


def full_document(settings: Settings, course: int, session_id: str | None = None) -> list[list[str]]:
    from attendance_bot.export import format_document
    from attendance_bot.gradebook import GradebookService

    book = GradebookService(settings).gradebook(course, session_id)
    return parse(format_document("full", book, UTC)[0])


def test_full_format_header(settings: Settings, semester: int) -> None:
    """Today's columns, then student_id,student_name,status,source,course,voice_minutes,in_voice."""
    assert full_document(settings, semester)[0] == [
        "user_id",
        "username",
        "timestamp",
        "date_id",
        "session_id",
        "student_id",
        "student_name",
        "status",
        "source",
        "course",
        "voice_minutes",
        "in_voice",
    ]


def test_full_format_has_every_status_and_the_computed_absences(settings: Settings, semester: int) -> None:
    """19 rows: the 13 records that count plus 6 absences computed in closed sessions; every status appears."""
    rows = full_document(settings, semester)[1:]
    assert len(rows) == 19
    assert {r[7] for r in rows} == {"present", "late", "excused", "absent"}
    computed = sorted((r[5], r[4][-4:]) for r in rows if r[8] == "computed")
    assert computed == [
        ("A001", "CCCC"),
        ("C003", "AAAA"),
        ("C003", "CCCC"),
        ("D004", "AAAA"),
        ("D004", "BBBB"),
        ("D004", "CCCC"),
    ]


def test_a_computed_absence_has_no_time_and_names_the_linked_account(settings: Settings, semester: int) -> None:
    """Ada's absence in S3: user_id and username of her account, empty timestamp and date_id, source computed."""
    [row] = [r for r in full_document(settings, semester)[1:] if r[5] == "A001" and r[4].endswith("CCCC")]
    assert row == ["101", "ada", "", "", "20240904-0900-CCCC", "A001", "Ada", "absent", "computed", "default", "", ""]


def test_full_format_of_one_session(settings: Settings, semester: int) -> None:
    """With a session id, only that session's rows."""
    rows = full_document(settings, semester, "20240904-0900-CCCC")[1:]
    assert {r[4] for r in rows} == {"20240904-0900-CCCC"} and len(rows) == 5


def test_gradebook_format_shape(settings: Settings, semester: int) -> None:
    """student_id,name,discord, a P/L/E/A column per session (blank: open, no record), then the totals and the
    grade (the default policy: late 0.8, none dropped); roster only."""
    from attendance_bot.export import format_document
    from attendance_bot.gradebook import GradebookService

    data, count = format_document("gradebook", GradebookService(settings).gradebook(semester), UTC)
    rows = parse(data)
    assert rows[0] == [
        "student_id",
        "name",
        "discord",
        "20240902-0900-AAAA",
        "20240903-0900-BBBB",
        "20240904-0900-CCCC",
        "20240905-0900-DDDD",
        "sessions",
        "present",
        "late",
        "excused",
        "absent",
        "rate",
        "grade",
    ]
    assert rows[1:] == [
        ["A001", "Ada", "ada", "E", "L", "A", "P", "4", "1", "1", "1", "1", "0.667", "60.00"],
        ["B002", "Bob", "Bobby", "P", "P", "A", "", "3", "2", "0", "0", "1", "0.667", "66.67"],
        ["C003", "Cy", "", "A", "E", "A", "", "3", "0", "0", "1", "2", "0.000", "0.00"],
        ["D004", "Dee", "", "A", "A", "A", "", "3", "0", "0", "0", "3", "0.000", "0.00"],
        ["E005", "Eve", "", "E", "E", "E", "", "3", "0", "0", "3", "0", "", ""],
    ]
    assert count == 5 and data.endswith(b"\r\n") and not data.startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("fmt", ["records", "full", "gradebook"])
def test_every_slice_of_an_export_goes_through_its_pace(settings: Settings, semester: int, fmt: str) -> None:
    """Services.exports hands each slice it writes to `pace` (the bot's thread sleeps there), in every
    format, and gives the same export without one."""
    from attendance_bot.services import Services

    seen: list[int] = []

    def pace(chunks: Iterator[list[Any]]) -> Iterator[list[Any]]:
        for chunk in chunks:
            seen.append(len(chunk))
            yield chunk

    exports = Services(settings).exports
    done = exports.export(fmt, semester, pace=pace)
    assert done == exports.export(fmt, semester)
    assert seen and sum(seen) == done.count
    assert done.filename == filename_for(None, fmt)


def test_the_cogs_export_document_paces_the_new_formats(settings: Settings, semester: int) -> None:
    """export_document(..., fmt) gives the same bytes as format_document, and records by default."""
    from attendance_bot.bot.context import export_document
    from attendance_bot.export import format_document
    from attendance_bot.gradebook import GradebookService
    from attendance_bot.services import Services

    service = AttendanceService(settings)
    book = GradebookService(settings).gradebook(semester)
    for fmt in ("full", "gradebook"):
        done = export_document(Services(settings), None, semester, fmt)
        assert (done.data, done.count) == format_document(fmt, book, settings.timezone)
    done = export_document(Services(settings), None, semester)
    data, count = done.data, done.count
    assert data == csv_bytes(service.export_rows(course_id=semester), settings.timezone) and count == 8


@pytest.mark.parametrize(
    ("session_id", "fmt", "name"),
    [
        (None, "records", "attendance_all.csv"),
        (None, "full", "attendance_all_full.csv"),
        ("S1", "gradebook", "attendance_S1_gradebook.csv"),
    ],
)
def test_file_names_of_the_formats(session_id: str | None, fmt: str, name: str) -> None:
    """The records name is today's; the other formats add _full or _gradebook."""
    assert filename_for(session_id, fmt) == name


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("Ada", "Ada"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("\x00=1+1", "'=1+1"),
        ("two\nlines", "two lines"),
        ("\u202eevil\u202c", "evil"),
        ("\u200fعلي", "\u200fعلي"),
        (None, ""),
    ],
)
def test_text_cells_of_the_new_formats_are_neutralised(value: str | None, cell: str) -> None:
    """full, gradebook and report cells: formula starts get a ', control characters become spaces, bidi overrides go."""
    from attendance_bot.export import text_cell

    assert text_cell(value) == cell
