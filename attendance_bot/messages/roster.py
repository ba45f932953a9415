"""Roster files: their errors and what an import did."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .courses import course_argument
from .text import MANAGE, quoted, shown

if TYPE_CHECKING:
    pass


# -- roster ------------------------------------------------------------------------------------
# A course's roster from the LMS (attendance_bot/roster.py, `manage.py roster`). Every refusal of
# a roster file is one sentence; `line` counts from 1, the header being line 1.


def roster_too_large(limit_mb: int) -> str:
    return f"The roster file is larger than {limit_mb} MB: export only the student id, name and Discord columns."


def roster_not_text(kind: str) -> str:
    return f"The roster file is {kind}, not a CSV file: save the roster as CSV (UTF-8) and import that."


def roster_not_utf8(line: int) -> str:
    return (
        f"Line {line} of the roster file is not UTF-8 text: save it as CSV UTF-8 (Excel: 'CSV UTF-8') and import again."
    )


def roster_empty() -> str:
    return "The roster file is empty: it needs a header line `student_id,name` (and optionally `discord`)."


def roster_no_students() -> str:
    return "The roster file has a header but no students: nothing was imported."


_ROSTER_COLUMNS_EXAMPLE = 'student_id="ID number",name="First name+Last name"'
_ROSTER_COLUMNS_SHOWN = 20  # a gradebook export can have hundreds of columns


def _roster_columns_option(from_discord: bool) -> str:
    """How the columns are named where the file came from: `/course roster`'s option or manage.py's."""
    return "columns:" if from_discord else "--columns "


def _roster_columns_found(found: list[str]) -> str:
    """A header's cells, each quoted and separated by ` | ` (trailing empty cells left out)."""
    cells = list(found)
    while cells and not cells[-1].strip():
        cells.pop()
    listed = " | ".join('"' + shown(cell.strip(), 40).replace('"', "'") + '"' for cell in cells[:_ROSTER_COLUMNS_SHOWN])
    more = len(cells) - _ROSTER_COLUMNS_SHOWN
    return (listed + (f" | … and {more} more" if more > 0 else "")) or "none"


def roster_missing_columns(missing: list[str], found: list[str], *, from_discord: bool = False) -> str:
    return (
        f"Line 1 of the roster file lacks the column(s) {', '.join(missing)}; the columns found: "
        f"{_roster_columns_found(found)}. Expected a header naming student_id and name (and optionally discord), "
        "or a Moodle export (ID number, First name, Last name), a Canvas gradebook (Student, ID, SIS User ID) or "
        "a Google Classroom export (Last Name, First Name, Email Address); for other columns say which to use: "
        f"{_roster_columns_option(from_discord)}{_ROSTER_COLUMNS_EXAMPLE}."
    )


def roster_no_such_column(key: str, column: str, found: list[str], *, from_discord: bool = False) -> str:
    return (
        f'Line 1 of the roster file has no column "{shown(column, 40)}" (given for {key}); the columns found: '
        f"{_roster_columns_found(found)}. Name each column as the header writes it, e.g. "
        f"{_roster_columns_option(from_discord)}{_ROSTER_COLUMNS_EXAMPLE}."
    )


def roster_bad_columns(typed: str, *, from_discord: bool = False) -> str:
    option = _roster_columns_option(from_discord).strip()
    return (
        f'{option} {quoted(typed, 100)} is not KEY="Column" pairs separated by commas (the keys student_id, name '
        f"and discord, each at most once): e.g. {_roster_columns_option(from_discord)}{_ROSTER_COLUMNS_EXAMPLE} "
        '(name="A+B" joins two columns with a space).'
    )


def roster_empty_student_id(line: int, column: str, *, from_discord: bool = False) -> str:
    return (
        f'Line {line} of the roster file has no student id (its "{shown(column, 40)}" cell is empty): fill it in '
        "the LMS and export again, or name the column that holds the ids: "
        f'{_roster_columns_option(from_discord)}student_id="COLUMN".'
    )


def roster_duplicate_column(name: str) -> str:
    return f"Line 1 of the roster file names the column {name} twice: keep one."


def roster_bad_csv(line: int, reason: str) -> str:
    return f"Line {line} of the roster file is not valid CSV ({reason}): check its quotes."


def roster_too_many_rows(limit: int) -> str:
    return f"The roster file has more than {limit:,} students: split it by course."


def roster_extra_cells(line: int, cells: int, columns: int) -> str:
    return f"Line {line} of the roster file has {cells} cells but the header names {columns} columns: check its quotes."


def roster_bad_student_id(line: int, typed: str, limit: int) -> str:
    return (
        f"Line {line} of the roster file: the student id {quoted(typed)} is not 1-{limit} letters, digits, "
        "'-', '_' or '.'."
    )


def roster_bad_name(line: int, limit: int) -> str:
    return (
        f"Line {line} of the roster file: the name must be 1-{limit} characters, with no line breaks or "
        "control characters."
    )


def roster_bad_discord(line: int, typed: str) -> str:
    return (
        f"Line {line} of the roster file: the Discord username {quoted(typed)} is not 2-32 lowercase letters, "
        "digits, '_' or '.' (leave the cell empty if unknown)."
    )


def roster_duplicate_student(first: int, second: int, student_id: str) -> str:
    return f"Lines {first} and {second} of the roster file both list the student id {quoted(student_id)}: keep one."


def roster_unreadable(path: str, reason: str) -> str:
    return f"Cannot read the roster file {quoted(path, 200)}: {reason}"


def roster_imported(course_name: str, added: int, updated: int, unchanged: int, removed: int, unmatched: int) -> str:
    return (
        f"Roster of {course_name!r}: {added} added, {updated} updated, {unchanged} unchanged, {removed} removed; "
        f"{unmatched} not linked to a Discord account yet."
    )


def roster_is_empty(course_name: str) -> str:
    return (
        f"The roster of {course_name!r} is empty: import the LMS's CSV with "
        f"`{MANAGE} roster import FILE{course_argument(course_name)}`."
    )


# -- /course roster -----------------------------------------------------------------------------
# The roster file attached to `/course roster` in Discord (attendance_bot/bot/cogs/courses.py); its refusals
# and its report are the roster section's sentences above.


def roster_download_failed() -> str:
    return "Could not download the roster file from Discord; nothing was imported. Attach it again and retry."
