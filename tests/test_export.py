"""Export: the seed's CSV, byte for byte, times in TIMEZONE, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from attendance_bot.attendance import AttendanceService
from attendance_bot.export import csv_bytes, csv_text, filename_for
from attendance_bot.records import ExportRow
from attendance_bot.settings import Settings

if TYPE_CHECKING:
    from conftest import FakeClock

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
    ExportRow(333, "two\nlines", at(30), "20240902-0900-ABCD"),
    ExportRow(444, "Юлия 王小明 🎓", at(40), "20240902-0900-ABCD"),
    ExportRow(1234567890123456789, "plain", at(86399), "20240902-0900-ABCD"),
]


def test_known_dataset_gives_exact_bytes() -> None:
    """Header, CRLF line ends, RFC 4180 quoting and UTF-8, exactly."""
    expected = (
        HEADER
        + b"111,alice,2024-09-02 09:00:05,2024-09-02,20240902-0900-ABCD\r\n"
        + b'222,"Smith, ""Bobby""",2024-09-02 09:00:20,2024-09-02,20240902-0900-ABCD\r\n'
        + b'333,"two\nlines",2024-09-02 09:00:30,2024-09-02,20240902-0900-ABCD\r\n'
        + "444,Юлия 王小明 🎓,2024-09-02 09:00:40,2024-09-02,20240902-0900-ABCD\r\n".encode()
        + b"1234567890123456789,plain,2024-09-03 08:59:59,2024-09-03,20240902-0900-ABCD\r\n"
    )
    assert csv_bytes(KNOWN, UTC) == expected
    assert csv_text(KNOWN, UTC).encode("utf-8") == expected


def test_csv_round_trips_through_a_reader() -> None:
    """A standard CSV reader gets back every name as typed, commas, quotes, newlines and all."""
    parsed = parse(csv_bytes(KNOWN, UTC))
    assert parsed[0] == ["user_id", "username", "timestamp", "date_id", "session_id"]
    assert [(int(r[0]), r[1]) for r in parsed[1:]] == [(r.user_id, r.username) for r in KNOWN]


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


@pytest.mark.parametrize("name", ["=1+1", "+41 79 000", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR", '=HYPERLINK("x")'])
def test_formula_cells_are_neutralised(name: str) -> None:
    """A name a spreadsheet would run as a formula is written with a leading apostrophe."""
    rows = parse(csv_bytes([ExportRow(1, name, T0, "S")], UTC))
    assert rows[1][1] == "'" + name


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
