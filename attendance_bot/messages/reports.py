"""Reports and export formats."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..records import (
    Status,
)

if TYPE_CHECKING:
    pass


# -- reports and export formats (attendance_bot/report.py, export.py, gradebook.py) --------------

NOT_ON_ROSTER = "not on the roster"


def not_on_roster_name(name: str) -> str:
    """The report CSV's `name` of a student not on the roster (its header is fixed: the cell says so)."""
    return f"{name} ({NOT_ON_ROSTER})" if name else f"({NOT_ON_ROSTER})"


def not_on_roster_label(label: str) -> str:
    """A heat map row's label for a student not on the roster."""
    return f"{label} ({NOT_ON_ROSTER})"


def report_title(course_name: str, students: int, sessions: int) -> str:
    return (
        f"Attendance of {course_name}: {students} student{'s' if students != 1 else ''} × "
        f"{sessions} session{'s' if sessions != 1 else ''}"
    )


def report_legend() -> dict[str, str]:
    """The heat map legend's words for each status, and for a blank cell."""
    return {
        **{status.value: status.value for status in Status},
        "blank": "no status (open session, or not on the roster)",
    }


def report_nothing_yet() -> str:
    return "No students or no sessions yet: the report fills in as sessions are held."


def report_written(csv_path: str, png_paths: list[str], students: int, sessions: int) -> str:
    """`manage.py report`'s last line: the CSV and every page of the heat map."""
    pictures = png_paths[0] if len(png_paths) == 1 else f"{len(png_paths)} pages: {', '.join(png_paths)}"
    return (
        f"Wrote the report of {students} student{'s' if students != 1 else ''} × {sessions} "
        f"session{'s' if sessions != 1 else ''}: {csv_path} and {pictures}"
    )


def report_queued_reply(course_name: str, ahead: int) -> str:
    """A `/attendance report` that waits for the reports before it (one is made at a time)."""
    return (
        f"Reports are made one at a time: the report of {course_name} is queued behind {ahead} other"
        f"{'s' if ahead != 1 else ''}. It will appear here when made."
    )


def report_queue_full(waiting: int) -> str:
    return f"{waiting} reports are waiting to be made already: ask again in a minute. Nothing was changed."


def report_stopping_reply() -> str:
    """A report asked for, or being made, while the bot stops."""
    return "The bot is stopping, so this report was not made: ask again when it is back."


def report_failed_reply() -> str:
    """The report's worker process ended without a report (its error is in the bot's log)."""
    return "The report could not be made (the reason is in the bot's log). Nothing was changed: try again."


def report_needs_matplotlib() -> str:
    return "The report's heat map needs matplotlib: install it with `pip install -r requirements.txt`."


def session_without_course(session_id: str) -> str:
    return (
        f"Session {session_id} belongs to no course (it is older than courses), and the full and gradebook "
        "formats read a course's roster: export it with --format records."
    )


def report_output_not_a_folder(path: str) -> str:
    return f"--output {path} is not a folder: name the folder to write the report's files in."


def export_format_reply(count: int, session_id: str | None, fmt: str) -> str:
    """What `/export_csv format:full|gradebook` says above its file (`records` keeps export_reply)."""
    scope = f"session {session_id}" if session_id else "all sessions"
    if fmt == "gradebook":
        return f"Gradebook export for {scope}: {count} roster student{'s' if count != 1 else ''}."
    return f"Full attendance export for {scope}: {count} row{'s' if count != 1 else ''}, absences included."


def export_written(count: int, target: str, fmt: str) -> str:
    """`manage.py export --output FILE`'s line on stderr."""
    if fmt == "gradebook":
        return f"Wrote {count} roster student(s) to {target}"
    if fmt == "full":
        return f"Wrote {count} row(s), absences included, to {target}"
    return f"Wrote {count} record(s) to {target}"
