"""The one CSV writer: the seed's header and order, RFC 4180, UTF-8, times in TIMEZONE."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from .records import ExportRow

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
                str(row.user_id),
                _cell(row.username),
                local.strftime("%Y-%m-%d %H:%M:%S"),
                local.strftime("%Y-%m-%d"),
                _cell(row.session_id),
            )
        )
    return buffer.getvalue()


def csv_bytes(rows: Iterable[ExportRow], tz: ZoneInfo) -> bytes:
    """The same document encoded as UTF-8 (no BOM): what every export writes."""
    return csv_text(rows, tz).encode("utf-8")


def filename_for(session_id: str | None) -> str:
    """The attachment or file name for an export of one session or of all."""
    return f"attendance_{session_id}.csv" if session_id else "attendance_all.csv"
