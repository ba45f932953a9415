"""The attendance report of a course: a CSV of per-student totals and a PNG heat map of every cell,
in pages of PAGE_STUDENTS students (one picture for a small course).

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
from .records import Gradebook, GradebookRow, GradebookStudent, GradingPolicy, Status
from .settings import Settings

HEADER = ("student_id", "name", "discord", "sessions", *(s.value for s in Status), "rate", "grade", "voice_minutes")
MAX_LABEL = 40  # characters of a name in the heat map's labels

# The heat map's cell values and colours: blank first, then each status in its order with its colour.
BLANK = 0
BLANK_COLOUR = "#f0f0f0"
CODES = {status: 1 + status.order for status in Status}
COLOURS = (BLANK_COLOUR, *(status.colour for status in Status))

# Sizes in inches (figures at DPI dots per inch): a row of 0.14 in holds a 6.5 pt label.
DPI = 100
ROW_INCHES = 0.14
COLUMN_INCHES = 0.2
LABEL_INCHES = 2.9
HEAD_INCHES = 2.0  # the title, the legend and the sessions' ids above the grid
MIN_WIDTH_INCHES = 7.0
WIDE_LEGEND_INCHES = 9.0  # the legend fits on one line from this width; two lines below it

# A page of the heat map: 200 students make a picture some 3,000 px tall (one of 5,227 students
# was 73,408 px, 9.6 MB and 28 s to draw). Discord takes 10 files in a message, 10 MiB of them in
# all: the CSV and up to 9 pages are sent; `manage.py report` writes every page.
PAGE_STUDENTS = 200
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class ReportError(AttendanceError):
    """A report that cannot be made (the message says why and what to do)."""


@dataclass(frozen=True)
class Picture:
    """One page of the heat map: its file name and its PNG."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Report:
    """The files of a course's report, ready to attach or write: the CSV and the heat map's pages
    (`pictures`: the first `limit` of the `pages` there are, all of them unless a limit was asked)."""

    course_id: int
    course_name: str
    students: int
    sessions: int
    csv_name: str
    csv_data: bytes
    pictures: tuple[Picture, ...]
    pages: int
    per_page: int
    policy: GradingPolicy  # the course's, which the CSV's grades follow


def make_report(settings: Settings, course_id: int, *, max_pages: int | None = None) -> Report:
    """Read a course (CourseError if unknown) and build its files (ReportError without matplotlib),
    the heat map's first `max_pages` pages only when given (the rest are counted, not drawn).

    For a process or thread other than the bot's event loop: a few queries on that thread's own
    connection (call models.close_db() afterwards), then about 1.5 s of drawing for 300 students x
    40 sessions.
    """
    book = GradebookService(settings).gradebook(course_id)
    return report_of(book, max_pages=max_pages)


def report_of(book: Gradebook, *, per_page: int = PAGE_STUDENTS, max_pages: int | None = None) -> Report:
    """The files of a gradebook already read, in pages of `per_page` students."""
    pages = page_count(len(book.rows), per_page)
    csv_name, png_names = report_names(book.course_name, pages)
    drawn = heatmap_pages(book, per_page=per_page, limit=max_pages)
    return Report(
        book.course_id,
        book.course_name,
        len(book.rows),
        len(book.sessions),
        csv_name,
        report_csv(book),
        tuple(Picture(name, data) for name, data in zip(png_names, drawn, strict=False)),
        pages,
        per_page,
        book.policy,
    )


def page_count(students: int, per_page: int = PAGE_STUDENTS) -> int:
    """How many pages the heat map of `students` has (one at least: an empty course says so)."""
    return max(1, -(-students // per_page))


def report_names(course_name: str, pages: int = 1) -> tuple[str, list[str]]:
    """The CSV's file name and the PNGs' for a course: `<stem>.png` alone, or `<stem>-1.png` … `<stem>-N.png`."""
    stem = f"attendance_report_{file_stem(course_name)}"
    if pages == 1:
        return f"{stem}.csv", [f"{stem}.png"]
    return f"{stem}.csv", [f"{stem}-{n}.png" for n in range(1, pages + 1)]


def attachments(
    report: Report, *, count: int = MAX_ATTACHMENTS, limit: int = MAX_ATTACHMENT_BYTES
) -> list[tuple[str, bytes]]:
    """The files one Discord message takes: the CSV, then the pictures in order while they fit
    (`count` files, `limit` bytes together); the pages after the first that does not fit stay out."""
    files = [(report.csv_name, report.csv_data)]
    size = len(report.csv_data)
    for picture in report.pictures:
        if len(files) >= count or size + len(picture.data) > limit:
            break
        files.append((picture.name, picture.data))
        size += len(picture.data)
    return files


def file_stem(name: str) -> str:
    """A course name made safe as part of a file name (letters, digits, '.', '_', '-')."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:50]
    return stem or "course"


# -- the CSV ------------------------------------------------------------------------------------


def report_csv(book: Gradebook) -> bytes:
    """`student_id,name,discord,sessions,present,late,excused,absent,rate,grade,voice_minutes`: one row
    per student, roster first (by student id), then the students not on the roster, whose name says so;
    grade follows the course's grading policy (Report.policy says it); voice_minutes adds up the whole
    minutes in voice of the sessions with a voice channel (empty when none has one)."""
    data, _ = document(HEADER, slices(_csv_row(book, row) for row in book.rows))
    return data


def _csv_row(book: Gradebook, row: GradebookRow) -> tuple[str, ...]:
    student, t = row.student, row.totals
    name = student.name or student.display_name or ""
    if not student.on_roster:
        name = messages.not_on_roster_name(name)
    return (
        text_cell(student.student_id),
        text_cell(name),
        text_cell(student.username),
        *(str(n) for n in (t.sessions, *t.counts)),
        t.rate_text,
        row.grade_text,
        "" if (minutes := book.voice_minutes_total(row)) is None else str(minutes),
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


def heatmap_pages(book: Gradebook, *, per_page: int = PAGE_STUDENTS, limit: int | None = None) -> list[bytes]:
    """The heat map's pages, `per_page` students each (the first `limit` pages only, when given)."""
    pages = page_count(len(book.rows), per_page)
    if limit is not None:
        pages = min(pages, limit)
    return [heatmap_png(book, page=n, per_page=per_page) for n in range(1, pages + 1)]


def heatmap_png(book: Gradebook, *, page: int = 1, per_page: int = PAGE_STUDENTS) -> bytes:
    """One page of the heat map: one row per student (the page's `per_page`), one column per
    session, each cell coloured by its status (blank: no status), with a legend; legible at 200
    students x 40 sessions."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import BoundaryNorm, ListedColormap
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch
        from matplotlib.transforms import blended_transform_factory
    except ImportError as exc:
        raise ReportError("report_needs_matplotlib") from exc

    pages = page_count(len(book.rows), per_page)
    first = (page - 1) * per_page
    rows = book.rows[first : first + per_page]
    students, sessions = len(rows), len(book.sessions)
    title = messages.report_title(book.course_name, len(book.rows), sessions)
    if pages > 1:
        title = messages.report_page_title(title, page, pages, first + 1, first + students)
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
        label(title, 160),
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
    grid = [[BLANK if cell is None else CODES.get(cell.status, BLANK) for cell in row.cells] for row in rows]
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
    for y, row in enumerate(rows):
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
    on_roster = sum(1 for row in rows if row.student.on_roster)
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
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "PAGE_STUDENTS",
    "Picture",
    "Report",
    "ReportError",
    "attachments",
    "heatmap_pages",
    "heatmap_png",
    "label",
    "make_report",
    "page_count",
    "report_csv",
    "report_names",
    "report_of",
]
