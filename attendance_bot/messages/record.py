"""The record's Discord commands (/my_attendance, /attendance ...)."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from ..records import (
    GradingPolicy,
    Status,
    StudentAttendance,
)
from .grading import grade_part, grading_policy
from .students import claim_pending_line

if TYPE_CHECKING:
    pass


# -- the record's Discord commands (bot/cogs/records.py, bot/cogs/students.py) ------------------------

# Each status's mark in `/my_attendance` (its word is the Status itself).
_STATUS_MARK = {Status.PRESENT: "✅", Status.LATE: "🕒", Status.EXCUSED: "🟦", Status.ABSENT: "❌"}


def _statuses_or() -> str:
    """Every status in order: `present, late, excused or absent`."""
    words = [status.value for status in Status]
    return f"{', '.join(words[:-1])} or {words[-1]}"


def report_reply(
    course_name: str,
    students: int,
    sessions: int,
    *,
    pages: int = 1,
    per_page: int = 0,
    attached: int = 1,
    policy: GradingPolicy | None = None,
) -> str:
    """What `/attendance report` says above its attachments: the CSV and `attached` of the heat
    map's `pages` (a large course's pages past what one message takes are named, with where to get
    them), then how the CSV's grades are made (`policy`, the course's)."""
    text = (
        f"Attendance report of {course_name}: {students} student{'s' if students != 1 else ''}, "
        f"{sessions} session{'s' if sessions != 1 else ''}. The CSV has each student's totals "
        "(rate = (present + late) / (sessions − excused)) and grade; "
    )
    graded = "" if policy is None else f"\n{grading_policy(policy)}"
    if pages == 1:
        return text + "the PNG shows every session." + graded
    text += f"the heat map comes in {pages} pages of {per_page} students."
    if attached < pages:
        left = f"page {pages}" if attached + 1 == pages else f"pages {attached + 1}-{pages}"
        text += (
            f" Discord takes {attached + 1} files in a message: {left} are not attached; every student is in "
            "the CSV, and `python manage.py report` on the bot's computer writes every page."
        )
    return text + graded


def report_page_title(title: str, page: int, pages: int, first: int, last: int) -> str:
    """A heat map page's title: the course's title, then which students and which page."""
    return f"{title}, students {first}-{last}, page {page} of {pages}"


def history_truncated(more: int, filename: str) -> str:
    return f"… and {more} more line{'s' if more != 1 else ''}: the whole history is in {filename}."


def my_attendance_lines(courses: list[StudentAttendance], tz: tzinfo, pending_claim: str | None = None) -> list[str]:
    """What `/my_attendance` shows: per course, the totals, rate and grade, then each session's status; first
    a line saying the account's claim of `pending_claim` waits for an instructor, if it does."""
    lines: list[str] = [claim_pending_line(pending_claim)] if pending_claim else []
    if not courses:
        return [
            *lines,
            "You have no attendance record in this server's courses yet: check in with `/here` during a "
            "session, and `/register` your student id so your instructor can find you.",
        ]
    for course in courses:
        totals = course.totals
        rate = f"{totals.rate * 100:.1f} %" if totals.rate is not None else "no rate yet"
        lines.append(
            f"**{course.course_name}**: {', '.join(f'{totals.count(s)} {s.value}' for s in Status)} "
            f"of {totals.sessions} session{'s' if totals.sessions != 1 else ''} "
            f"(attendance rate {rate}; {grade_part(course.grade, course.policy)})"
        )
        for one in course.sessions:
            when = one.session.opened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            status = one.status or "open, not checked in yet"
            lines.append(f"{_STATUS_MARK.get(one.status or '', '⏳')} {when} ({one.session.session_id}): {status}")
    return lines
