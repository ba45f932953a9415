"""Timetables: their errors, the instructors' replies and what the admin channel is told when the
timetable opens, closes or misses a meeting."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .replies import closed_reply
from .text import MANAGE, shown

if TYPE_CHECKING:
    from ..timetable import Entry, Meeting, Occurrence, Timetable


# -- errors -----------------------------------------------------------------------------------


def schedule_bad_weekday(value: str, weekdays: list[str]) -> str:
    return f"The weekday is one of {', '.join(weekdays)} (or its first three letters), not {shown(value)}."


def schedule_bad_start(value: str) -> str:
    return f"The start is a time of day as HH:MM, 24-hour (e.g. 09:15 or 14:00), not {shown(value)}."


def schedule_bad_date(option: str, value: str) -> str:
    return f"{option} is a date as YYYY-MM-DD (e.g. 2026-09-01), not {shown(value)}."


def schedule_bad_minutes(value: object, low: int, high: int) -> str:
    return f"minutes is how long the class lasts, {low}-{high}, not {shown(str(value))}."


def schedule_until_before_from(first: date, until: date) -> str:
    return f"until ({until:%Y-%m-%d}) is before from ({first:%Y-%m-%d}): the line would never meet."


def schedule_overlaps(entry_id: int, weekday: str, start: str, minutes: int) -> str:
    return (
        f"That overlaps line #{entry_id} of the timetable ({weekday} {start} for {minutes} min): a course has one "
        "session at a time. Remove that line first, or choose another time."
    )


def schedule_unknown_entry(entry_id: str, ids: list[int]) -> str:
    lines = ", ".join(f"#{i}" for i in ids) if ids else "none"
    return f"The timetable has no line {shown(entry_id)}. Its lines: {lines}."


def schedule_already_skipped(day: date) -> str:
    return f"{day:%Y-%m-%d} is skipped already."


def schedule_not_skipped(day: date) -> str:
    return f"{day:%Y-%m-%d} is not skipped: there is nothing to unskip."


def course_timezone_unknown(value: object) -> str:
    return (
        f"timezone is an IANA time zone name such as Europe/Berlin, America/New_York or UTC, not {shown(str(value))}."
    )


# -- instructors' replies ---------------------------------------------------------------------


def _dates(entry: Entry) -> str:
    if entry.first and entry.until:
        return f", {entry.first:%Y-%m-%d} to {entry.until:%Y-%m-%d}"
    if entry.first:
        return f", from {entry.first:%Y-%m-%d}"
    if entry.until:
        return f", until {entry.until:%Y-%m-%d}"
    return ""


def schedule_entry_line(entry: Entry) -> str:
    """One line of a timetable, as lists and autocomplete show it."""
    return f"#{entry.id} {entry.weekday_name} {entry.start:%H:%M} for {entry.minutes} min{_dates(entry)}"


def _local(moment: datetime, timezone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(timezone)):%a %Y-%m-%d %H:%M}"


def schedule_added(course: str, entry: Entry, timezone: str) -> str:
    return (
        f"{course} now meets every {entry.weekday_name} at {entry.start:%H:%M} ({timezone}) for {entry.minutes} "
        f"min{_dates(entry)} (line #{entry.id}): the bot opens each session at its start and closes it at its end."
    )


def schedule_removed(course: str, entry: Entry) -> str:
    return (
        f"Line {schedule_entry_line(entry)} is off {course}'s timetable (a session it opened stays open until its end)."
    )


def schedule_skipped(course: str, day: date) -> str:
    return f"{course} does not meet on {day:%A %Y-%m-%d}: the timetable opens nothing that day."


def schedule_unskipped(course: str, day: date) -> str:
    return f"{course} meets on {day:%A %Y-%m-%d} again, as its timetable says."


def timetable_reply(timetable: Timetable) -> str:
    """`/course schedule list` and `manage.py schedule list`: the lines, the skipped dates, the next meeting."""
    if not timetable.entries:
        lines = [
            f"{timetable.course_name} has no timetable: add a line with /course schedule add "
            f"(or `{MANAGE} schedule add`)."
        ]
    else:
        lines = [f"{timetable.course_name}'s timetable ({timetable.timezone}):"]
        lines += [f"  {schedule_entry_line(entry)}" for entry in timetable.entries]
    if timetable.skipped:
        lines.append("Skipped: " + ", ".join(f"{day:%Y-%m-%d}" for day in timetable.skipped))
    if timetable.next is not None:
        lines.append(f"Next: {_local(timetable.next.starts_at, timetable.timezone)} (line #{timetable.next.entry_id})")
    return "\n".join(lines)


# -- what the admin channel is told ---------------------------------------------------------


def _span(meeting: Occurrence, timezone: str) -> str:
    tz = ZoneInfo(timezone)
    return f"{meeting.starts_at.astimezone(tz):%H:%M}-{meeting.ends_at.astimezone(tz):%H:%M}"


def scheduled_opened(meeting: Meeting) -> str:
    assert meeting.session_id is not None
    return (
        f"Attendance session {meeting.session_id} of {meeting.course_name} is open, on the timetable "
        f"({_span(meeting.occurrence, meeting.timezone)} {meeting.timezone}): it closes by itself at the end "
        "(/close_attendance closes it earlier)."
    )


def scheduled_adopted(meeting: Meeting) -> str:
    assert meeting.session_id is not None
    return (
        f"Session {meeting.session_id}, opened by hand, counts as {meeting.course_name}'s class on the timetable "
        f"({_span(meeting.occurrence, meeting.timezone)} {meeting.timezone}): it closes by itself at the end."
    )


def scheduled_closed(meeting: Meeting) -> str:
    assert meeting.session_id is not None and meeting.count is not None
    return f"{closed_reply(meeting.session_id, meeting.count)} (the end of its time on the timetable)"


def scheduled_missed(meeting: Meeting) -> str:
    day = meeting.occurrence.starts_at.astimezone(ZoneInfo(meeting.timezone))
    return (
        f"{meeting.course_name}'s class of {day:%A %Y-%m-%d} ({_span(meeting.occurrence, meeting.timezone)} "
        f"{meeting.timezone}) was not opened: the bot was not running at any time during it."
    )


# -- Discord scheduled events -------------------------------------------------------------------


def schedule_event_location(channel_name: str | None) -> str:
    where = f"#{channel_name}" if channel_name else "the attendance channel"
    return f"Discord: /here in {where}"[:100]


def schedule_events_listed(count: int) -> str:
    return f"Its next {count} class(es) are in the server's Events list."


def schedule_events_need_permission(made: int) -> str:
    done = f" ({made} listed before it was refused)" if made else ""
    return (
        "The classes are not in the server's Events list: the bot needs the Create Events permission"
        f"{done}. Give it that, then add the line again with events:True (remove this one first)."
    )


def schedule_events_failed(made: int) -> str:
    return f"Discord refused to list the classes as events after {made}; the timetable itself is kept."
