"""The report: the totals CSV against the hand count, the heat map PNG, and hostile names in both."""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import subprocess
import sys
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from _semester import CSV_ROWS, build_semester
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from attendance_bot import messages
from attendance_bot.records import Cell, Gradebook, GradebookRow, GradebookSession, GradebookStudent, Totals
from attendance_bot.report import (
    HEADER,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    PAGE_STUDENTS,
    attachments,
    file_stem,
    heatmap_pages,
    heatmap_png,
    label,
    make_report,
    report_csv,
    report_names,
    report_of,
)
from attendance_bot.settings import Settings

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 9, 2, 9, 0, tzinfo=timezone.utc)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "x" * 6000,
            "=cmd|' /C calc'!A0",
            "+41 79",
            "-2+3",
            "@SUM(A1)",
            "\tTAB",
            "\x00=1+1",
            "a\x1b[31mred",
            "\u202eevil\u202c",
            "\u200fعلي\u200f",
            "Ada \U0001f469\u200d\U0001f52c",
            "$x^2$ \\frac{1}{2}",
            "line\nbreak\r\n",
        ]
    ),
)


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def synthetic(students: int, sessions: int, *, name: str = "Student", student_id: str | None = None) -> Gradebook:
    """A gradebook in memory: every status in turn, the last session open and blank."""
    columns = tuple(
        GradebookSession(f"S{n:03d}", T0 + timedelta(days=n), None if n == sessions - 1 else T0 + timedelta(days=n))
        for n in range(sessions)
    )
    statuses = ("present", "late", "excused", "absent")
    rows = []
    for s in range(students):
        cells = tuple(None if n == sessions - 1 else Cell(statuses[(s + n) % 4]) for n in range(sessions))
        student = GradebookStudent(
            student_id if student_id is not None else f"ID{s:05d}",
            f"{name} {s}",
            f"user{s}",
            None,
            None,
            on_roster=s % 10 != 9,
        )
        counts = [sum(1 for c in cells if c is not None and c.status == st_) for st_ in statuses]
        rows.append(GradebookRow(student, cells, Totals(sum(counts), *counts)))
    return Gradebook(1, "Course", columns, tuple(rows))


@pytest.fixture
def semester(settings: Settings, db: Path) -> int:
    return build_semester()


def test_csv_numbers_match_the_hand_count(settings: Settings, semester: int) -> None:
    """The report CSV of the hand-counted course, row for row."""
    rows = parse(make_report(settings, semester).csv_data)
    assert rows[0] == list(HEADER)
    assert rows[1:] == CSV_ROWS


def test_csv_header_line_is_exact_crlf_and_has_no_bom(settings: Settings, semester: int) -> None:
    """The first bytes are exactly the header, then CRLF (UTF-8 without BOM)."""
    data = make_report(settings, semester).csv_data
    assert data.startswith(b"student_id,name,discord,sessions,present,late,excused,absent,rate,grade,voice_minutes\r\n")
    assert data.count(b"\r\n") == len(CSV_ROWS) + 1


def test_report_files_are_named_after_the_course(settings: Settings, semester: int) -> None:
    """attendance_report_<course>.csv and .png, the course name made safe for a file name."""
    report = make_report(settings, semester)
    assert report.csv_name == "attendance_report_default.csv"
    assert [p.name for p in report.pictures] == ["attendance_report_default.png"]
    assert (report.students, report.sessions, report.pages) == (7, 4, 1)
    assert png_size(report.pictures[0].data)[0] > 0


@pytest.mark.parametrize(
    ("name", "stem"),
    [("Math 101", "Math_101"), ("../../etc/passwd", "etc_passwd"), ("Физика", "course"), ("a/b\\c:d", "a_b_c_d")],
)
def test_file_stems_are_safe(name: str, stem: str) -> None:
    """A course name becomes letters, digits, '.', '_' and '-' only (no folder, no hidden file)."""
    assert file_stem(name) == stem
    assert report_names(name) == (f"attendance_report_{stem}.csv", [f"attendance_report_{stem}.png"])
    assert report_names(name, 2)[1] == [f"attendance_report_{stem}-1.png", f"attendance_report_{stem}-2.png"]


def test_png_of_200_students_by_40_sessions_is_legible() -> None:
    """200 x 40: a valid PNG with at least 14 px per student row and 20 px per session column, under 2 MB."""
    data = heatmap_png(synthetic(200, 40))
    width, height = png_size(data)
    assert width >= 40 * 20 and height >= 200 * 14
    assert len(data) < 2 * 1024 * 1024


def test_a_course_of_1200_students_comes_in_pages_under_the_attachment_limit() -> None:
    """1,200 students x 3 sessions: six pictures of 200 students each, every one a legible PNG (14 px
    a row) no taller than a page and under Discord's attachment limit, named -1 to -6."""
    assert PAGE_STUDENTS == 200
    report = report_of(synthetic(1200, 3))
    assert report.pages == 6 and len(report.pictures) == 6
    assert [p.name for p in report.pictures] == [f"attendance_report_Course-{n}.png" for n in range(1, 7)]
    for picture in report.pictures:
        width, height = png_size(picture.data)
        assert 200 * 14 <= height < 200 * 14 + 400 and width > 0
        assert len(picture.data) < MAX_ATTACHMENT_BYTES
    files = attachments(report)
    assert [name for name, _ in files] == [report.csv_name, *(p.name for p in report.pictures)]
    reply = messages.report_reply(
        report.course_name, report.students, report.sessions, pages=report.pages, per_page=report.per_page, attached=6
    )
    assert "6 pages of 200 students" in reply and "manage.py report" not in reply


def test_pages_past_one_message_are_left_to_the_csv_and_manage_py() -> None:
    """More pages than a message takes (10 files: the CSV and 9 pictures): only 9 are drawn and
    attached, and the reply says how many are left out and where to get them."""
    report = report_of(synthetic(60, 2), per_page=5, max_pages=MAX_ATTACHMENTS - 1)
    assert report.pages == 12 and len(report.pictures) == 9
    files = attachments(report)
    assert len(files) == MAX_ATTACHMENTS and files[0][0] == report.csv_name
    assert sum(len(data) for _, data in files) <= MAX_ATTACHMENT_BYTES
    reply = messages.report_reply(
        report.course_name, report.students, report.sessions, pages=12, per_page=5, attached=len(files) - 1
    )
    assert "pages 10-12" in reply and "manage.py report" in reply and "CSV" in reply


def test_pictures_over_the_attachment_limit_are_left_out_not_sent() -> None:
    """The files of one message stay under the limit together: pictures that would pass it stay out."""
    report = report_of(synthetic(30, 2), per_page=10)
    sizes = [len(p.data) for p in report.pictures]
    limit = len(report.csv_data) + sizes[0] + sizes[1] // 2
    files = attachments(report, limit=limit)
    assert [name for name, _ in files] == [report.csv_name, report.pictures[0].name]


def test_one_page_keeps_the_single_picture_name() -> None:
    """A course of up to 200 students keeps one PNG, attendance_report_<course>.png, and a plain reply."""
    report = report_of(synthetic(PAGE_STUDENTS, 2))
    assert report.pages == 1 and [p.name for p in report.pictures] == ["attendance_report_Course.png"]
    assert len(heatmap_pages(synthetic(PAGE_STUDENTS + 1, 2), limit=1)) == 1


def test_png_of_an_empty_course_is_still_a_png() -> None:
    """No students and no sessions: a small PNG saying so, not an error."""
    width, height = png_size(heatmap_png(Gradebook(1, "Empty", (), ())))
    assert width > 0 and height > 0


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", "\x00=1+1", "\u202e=1"])
def test_labels_neutralise_formula_starts(text: str) -> None:
    """A label that a spreadsheet would run starts with an apostrophe, even behind a hidden character."""
    assert label(text).startswith("'")


@pytest.mark.parametrize("text", ["\u202eevil\u202c", "a\x1b[31mred", "x\u2066y\u2069", "tab\there", "\u200fname"])
def test_labels_drop_bidi_overrides_and_control_characters(text: str) -> None:
    """No control, format or bidi character survives into a label."""
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in label(text))


def test_labels_are_shortened() -> None:
    """A 6,000-character name becomes at most MAX_LABEL characters."""
    assert len(label("x" * 6000)) <= 40


@given(student_id=HOSTILE, name=HOSTILE, username=HOSTILE)
@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hostile_text_gives_safe_csv_cells(student_id: str, name: str, username: str) -> None:
    """Every text cell of the report CSV: no formula start, no control or bidi character; numbers intact."""
    student = GradebookStudent(student_id, name, username, None, None, on_roster=True)
    book = Gradebook(1, name, (), (GradebookRow(student, (), Totals(0, 0, 0, 0, 0)),))
    rows = parse(report_csv(book))
    assert len(rows) == 2 and len(rows[1]) == len(HEADER)
    for cell in rows[1][:3]:
        assert not cell.startswith(FORMULA_STARTS)
        assert not any(ch in BIDI or unicodedata.category(ch) == "Cc" for ch in cell)
    assert rows[1][3:] == ["0", "0", "0", "0", "0", "", "", ""]  # totals, then no rate, no grade, no voice minutes


@given(student_id=HOSTILE, name=HOSTILE, session=HOSTILE)
@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hostile_text_draws(student_id: str, name: str, session: str) -> None:
    """Hostile ids, names and session ids (mathtext, emoji, 6,000 characters) still give a PNG."""
    student = GradebookStudent(student_id, name, name, name, None, on_roster=False)
    column = GradebookSession(session or "S", T0, None)
    book = Gradebook(1, name or "C", (column,), (GradebookRow(student, (Cell("late"),), Totals(1, 0, 1, 0, 0)),))
    assert png_size(heatmap_png(book))[1] > 0


_PROBE = """
import json, sys
import attendance_bot.bot.app, attendance_bot.report, attendance_bot.shell, attendance_bot.gradebook
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("matplotlib", "numpy", "PIL"))))
"""


def test_importing_the_bot_or_the_report_does_not_import_matplotlib() -> None:
    """The bot starts without matplotlib (or numpy): only drawing a heat map imports it."""
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == []
