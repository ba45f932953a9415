"""The attendance report of a course: a CSV of per-student totals and a PNG heat map of every cell.

matplotlib is imported only inside heatmap_png(), with the Agg canvas and no pyplot (no global
figure state, safe on a worker thread): the bot starts without it, as fast as before.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
from dataclasses import dataclass

from . import messages
from .errors import AttendanceError
from .export import BIDI_CONTROLS, _cell, document, slices, text_cell
from .gradebook import GradebookService
from .records import Gradebook, GradebookRow, GradebookStudent
from .settings import Settings

HEADER = ("student_id", "name", "discord", "sessions", "present", "late", "excused", "absent", "rate")
MAX_LABEL = 40  # characters of a name in the heat map's labels

# The heat map's cell values and colours, in the legend's order (colour-blind safe: Okabe-Ito).
BLANK, PRESENT, LATE, EXCUSED, ABSENT = range(5)
CODES = {"present": PRESENT, "late": LATE, "excused": EXCUSED, "absent": ABSENT}
COLOURS = ("#f0f0f0", "#009e73", "#e69f00", "#56b4e9", "#d55e00")

# Sizes in inches (figures at DPI dots per inch): a row of 0.14 in holds a 6.5 pt label.
DPI = 100
ROW_INCHES = 0.14
COLUMN_INCHES = 0.2
LABEL_INCHES = 2.9
HEAD_INCHES = 2.0  # the title, the legend and the sessions' ids above the grid
MIN_WIDTH_INCHES = 7.0
WIDE_LEGEND_INCHES = 9.0  # the legend fits on one line from this width; two lines below it


class ReportError(AttendanceError):
    """A report that cannot be made (the message says why and what to do)."""


@dataclass(frozen=True)
class Report:
    """The two files of a course's report, ready to attach or write."""

    course_id: int
    course_name: str
    students: int
    sessions: int
    csv_name: str
    csv_data: bytes
    png_name: str
    png_data: bytes


def make_report(settings: Settings, course_id: int) -> Report:
    """Read a course (CourseError if unknown) and build both files (ReportError without matplotlib).

    For a thread other than the event loop's (`asyncio.to_thread`): a few queries on that
    thread's own connection (call models.close_db() on it afterwards, as cog.export_document
    does), then about 1.5 s of drawing for 300 students x 40 sessions.
    """
    book = GradebookService(settings).gradebook(course_id)
    return report_of(book)


def report_of(book: Gradebook) -> Report:
    """Both files of a gradebook already read."""
    csv_name, png_name = report_names(book.course_name)
    return Report(
        book.course_id,
        book.course_name,
        len(book.rows),
        len(book.sessions),
        csv_name,
        report_csv(book),
        png_name,
        heatmap_png(book),
    )


def report_names(course_name: str) -> tuple[str, str]:
    """The CSV's and the PNG's file names for a course."""
    stem = f"attendance_report_{file_stem(course_name)}"
    return f"{stem}.csv", f"{stem}.png"


def file_stem(name: str) -> str:
    """A course name made safe as part of a file name (letters, digits, '.', '_', '-')."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:50]
    return stem or "course"


# -- the CSV ------------------------------------------------------------------------------------


def report_csv(book: Gradebook) -> bytes:
    """`student_id,name,discord,sessions,present,late,excused,absent,rate`: one row per student,
    roster first (by student id), then the students not on the roster, whose name says so."""
    data, _ = document(HEADER, slices(_csv_row(row) for row in book.rows))
    return data


def _csv_row(row: GradebookRow) -> tuple[str, ...]:
    student, t = row.student, row.totals
    name = student.name or student.display_name or ""
    if not student.on_roster:
        name = messages.not_on_roster_name(name)
    return (
        text_cell(student.student_id),
        text_cell(name),
        text_cell(student.username),
        *(str(n) for n in (t.sessions, t.present, t.late, t.excused, t.absent)),
        t.rate_text,
    )


# -- the heat map -------------------------------------------------------------------------------


def label(text: str | None, limit: int = MAX_LABEL) -> str:
    """Text as a heat map label: bidi overrides and control or format characters removed, spaces
    squeezed, characters the font cannot draw shown as '?', shortened to `limit`, and a formula
    start neutralised as in the CSV (the label may be copied into a spreadsheet)."""
    if not text:
        return ""
    kept = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Zs") else ch
        for ch in text
        if ch not in BIDI_CONTROLS and unicodedata.category(ch) != "Cf"
    )
    kept = " ".join(kept.split())
    if len(kept) > limit:
        kept = kept[: limit - 1] + "…"
    drawable = _drawable()
    if drawable:
        kept = "".join(ch if ord(ch) in drawable else "?" for ch in kept)
    return _cell(kept)


def student_label(student: GradebookStudent) -> str:
    """A row's label: student id and name (else the Discord display or user name), and a mark for
    students not on the roster."""
    name = label(student.name or student.display_name or student.username, MAX_LABEL)
    text = " · ".join(part for part in (label(student.student_id, 32), name) if part) or "?"
    return text if student.on_roster else messages.not_on_roster_label(text)


@functools.cache
def _drawable() -> frozenset[int]:
    """The code points the heat map's font has (empty set: unknown, keep everything)."""
    try:
        from matplotlib import font_manager, ft2font
    except ImportError:  # only the report draws; a missing matplotlib is said there
        return frozenset()
    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    return frozenset(ft2font.FT2Font(path).get_charmap())


def heatmap_png(book: Gradebook) -> bytes:
    """The PNG: one row per student, one column per session, each cell coloured by its status
    (blank: no status), with a legend; legible at 200 students x 40 sessions."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import BoundaryNorm, ListedColormap
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
        from matplotlib.transforms import blended_transform_factory
    except ImportError as exc:
        raise ReportError(messages.report_needs_matplotlib()) from exc

    students, sessions = len(book.rows), len(book.sessions)
    width = max(MIN_WIDTH_INCHES, LABEL_INCHES + sessions * COLUMN_INCHES + 0.5)
    height = HEAD_INCHES + max(students, 4) * ROW_INCHES + 0.3
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    left, right = LABEL_INCHES / width, 1 - 0.3 / width
    bottom, top = 0.2 / height, 1 - HEAD_INCHES / height
    axes = figure.add_axes((left, bottom, right - left, top - bottom))
    figure.text(
        0.01,
        1 - 0.15 / height,
        label(messages.report_title(book.course_name, students, sessions), 120),
        fontsize=11,
        va="top",
        parse_math=False,
    )
    legend = [Patch(facecolor=colour, edgecolor="#999999", label=name) for colour, name in _legend()]
    figure.legend(
        handles=legend,
        loc="upper left",
        bbox_to_anchor=(0.01, 1 - 0.45 / height),
        ncols=len(legend) if width >= WIDE_LEGEND_INCHES else 3,
        fontsize=8,
        frameon=False,
    )
    if not students or not sessions:
        axes.set_axis_off()
        axes.text(0.5, 0.5, messages.report_nothing_yet(), ha="center", va="center", fontsize=10, parse_math=False)
        return _png(figure)
    grid = [[BLANK if cell is None else CODES.get(cell.status, BLANK) for cell in row.cells] for row in book.rows]
    colours = ListedColormap(COLOURS)
    axes.imshow(
        grid,
        cmap=colours,
        norm=BoundaryNorm([x - 0.5 for x in range(len(COLOURS) + 1)], len(COLOURS)),
        aspect="auto",
        interpolation="nearest",
    )
    # Labels as plain texts and cell borders as two line collections: matplotlib's ticks cost a
    # few objects each, and a semester's 300 rows of them doubled the drawing time.
    axes.set_xticks([])
    axes.set_yticks([])
    beside = blended_transform_factory(axes.transAxes, axes.transData)
    for y, row in enumerate(book.rows):
        axes.text(
            -0.01,
            y,
            student_label(row.student),
            transform=beside,
            ha="right",
            va="center",
            fontsize=6.5,
            parse_math=False,
        )
    above = blended_transform_factory(axes.transData, axes.transAxes)
    for x, session in enumerate(book.sessions):
        axes.text(
            x,
            1.005,
            label(session.session_id, 24),
            transform=above,
            ha="center",
            va="bottom",
            fontsize=6,
            rotation=90,
            parse_math=False,
        )
    axes.vlines([x - 0.5 for x in range(1, sessions)], -0.5, students - 0.5, colors="white", linewidth=0.5)
    axes.hlines([y - 0.5 for y in range(1, students)], -0.5, sessions - 0.5, colors="white", linewidth=0.5)
    on_roster = sum(1 for row in book.rows if row.student.on_roster)
    if 0 < on_roster < students:  # a line under the roster when students not on it follow
        axes.hlines([on_roster - 0.5], -0.5, sessions - 0.5, colors="black", linewidth=1.2)
    for side in axes.spines.values():
        side.set_visible(False)
    return _png(figure)


def _legend() -> list[tuple[str, str]]:
    """(colour, name) of each status, then of a blank cell."""
    names = messages.report_legend()
    return [(COLOURS[code], names[status]) for status, code in CODES.items()] + [(COLOURS[BLANK], names["blank"])]


def _png(figure: object) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})  # type: ignore[attr-defined]
    return buffer.getvalue()


__all__ = [
    "HEADER",
    "Report",
    "ReportError",
    "heatmap_png",
    "label",
    "make_report",
    "report_csv",
    "report_names",
    "report_of",
]
