"""Corrections, the autocomplete labels and a student's history."""

from __future__ import annotations

import unicodedata
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from ..records import (
    MAX_CHOICE,
    Correction,
    HistoryEvent,
    SessionBrief,
    StudentRef,
)
from .text import MANAGE, shown

if TYPE_CHECKING:
    pass


# -- corrections (attendance_bot/corrections.py; `/attendance mark|remove|history`, `manage.py history|mark`) --


def _printable(text: str, limit: int = 200) -> str:
    """Stored text for one line of a terminal or a reply: no control, format or surrogate
    characters (no escape sequences, no reordering), whitespace made single spaces, short."""
    cleaned = " ".join("".join(ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C").split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def status_invalid(typed: str, statuses: tuple[str, ...]) -> str:
    return f"A status is one of {', '.join(statuses)}, not {shown(typed)}."


def reason_too_long(limit: int, length: int) -> str:
    return f"A reason is at most {limit} characters; this one has {length:,}: shorten it."


def student_label(
    student_id: str | None, name: str | None, username: str | None, user_id: int | None, on_roster: bool
) -> str:
    """A student in an autocomplete list: `S123 · Ada Lovelace · @ada`, or the account alone."""
    parts = [part for part in (student_id, name, f"@{username}" if username else None) if part]
    if not parts:
        parts = [f"account {user_id}"]
    return " · ".join(parts) + ("" if on_roster else " (not on the roster)")


def student_who(student: StudentRef) -> str:
    """A student in a sentence: `S123 (Ada Lovelace)`, `@ada`, or `account 123...`."""
    if student.student_id:
        name = f" ({shown(student.name, 60)})" if student.name else ""
        return f"{shown(student.student_id, 40)}{name}"
    if student.username:
        return shown(f"@{student.username}", 40)
    return f"account {student.user_id}"


def student_unknown(typed: str, course_name: str | None) -> str:
    where = f"course {course_name!r}" if course_name else "this server's courses"
    if not typed.strip():
        return "Say which student: a student id, a Discord username, id or mention, or pick one from the list."
    return (
        f"No student {shown(typed)} in {where}: type a student id, a Discord username, id or mention, "
        "or pick one from the list."
    )


def plain_label(text: str) -> str:
    """Text for a pick-list label: no control, format or surrogate characters, whitespace made single spaces."""
    return " ".join("".join(ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C").split())


def _fit(text: str, limit: int = MAX_CHOICE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def student_choice_label(student: StudentRef) -> str:
    """A student as an autocomplete choice reads it: student_label of its plain parts, at most 100 characters."""
    label = student_label(
        student.student_id and plain_label(student.student_id),
        student.name and plain_label(student.name),
        student.username and plain_label(student.username),
        student.user_id,
        student.on_roster,
    )
    return _fit(plain_label(label))


def session_choice_label(session: SessionBrief, tz: tzinfo) -> str:
    """A session as an autocomplete choice reads it (opened in `tz`), at most 100 characters."""
    return _fit(plain_label(session_label(session.session_id, session.opened_at.astimezone(tz), session.is_open)))


def student_ambiguous_among(typed: str, choices: list[StudentRef]) -> str:
    """student_ambiguous with the students as their pick-list labels."""
    return student_ambiguous(typed, [student_choice_label(student) for student in choices])


def student_ambiguous(typed: str, labels: list[str]) -> str:
    listed = "; ".join(shown(label, 100) for label in labels[:5]) + ("; …" if len(labels) > 5 else "")
    return f"{shown(typed)} could be {len(labels)} students ({listed}): pick one from the list or type the student id."


def session_label(session_id: str, opened: datetime, is_open: bool) -> str:
    """A session in an autocomplete list; `opened` is already in TIMEZONE."""
    return f"{session_id} · {opened:%a %d %b %Y %H:%M} · {'open' if is_open else 'closed'}"


def no_sessions_to_correct(course_name: str) -> str:
    return f"Course {course_name!r} has no sessions yet: there is nothing to correct."


def no_record_of_student(student: StudentRef, session_id: str) -> str:
    return no_record_to_remove(student_who(student), session_id)


def no_record_to_remove(who: str, session_id: str) -> str:
    return f"{who} has no record in session {session_id}: nothing to remove."


def _because(reason: str | None) -> str:
    return f" (reason: {shown(reason, 200)})" if reason else ""


def marked_reply(correction: Correction) -> str:
    """What an instructor reads after `/attendance mark` or `manage.py mark`."""
    who = student_who(correction.student)
    if not correction.changed:
        return (
            f"{who} is already marked {correction.new_status} by an instructor in session {correction.session_id}: "
            "nothing changed."
        )
    was = correction.old_status or "no record"
    closed = " (closed)" if correction.session_closed else ""
    return (
        f"✅ {who}: {was} → {correction.new_status} in session {correction.session_id}{closed}"
        f"{_because(correction.reason)}. A later check-in will not change it."
    )


def removed_reply(correction: Correction) -> str:
    """What an instructor reads after `/attendance remove`."""
    who = student_who(correction.student)
    return (
        f"✅ {who}: the record in session {correction.session_id} ({correction.old_status}) is removed"
        f"{_because(correction.reason)}."
    )


def history_empty(who: str) -> str:
    return f"No events for {who} yet."


def history_line(event: HistoryEvent, tz: tzinfo) -> str:
    """One event of a student's history: when (TIMEZONE), course, session, action, old → new,
    reason, actor, source."""
    when = event.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    course = _printable(event.course_name or "-", 50)
    change = f"{event.old_status or '-'} → {event.new_status or '-'}"
    reason = f"reason: {_printable(event.reason)!r}" if event.reason else "no reason"
    return (
        f"{when}  {course}  {_printable(event.session_id or '-', 40)}  {_printable(event.action, 20)}  {change}  "
        f"{reason}  by {_printable(event.actor, 60)} ({_printable(event.source, 20)})"
    )


def shell_student_unknown(typed: str, course_name: str | None) -> str:
    """`manage.py history`: nobody of the courses looked in answers to what was typed."""
    where = f"course {_printable(course_name, 50)!r}" if course_name else "any course"
    if not typed.strip():
        return "Say which student with --student: a student id, a Discord username (@name), account id or full name."
    return (
        f"No student {_printable(typed, 60)!r} in {where} (its rosters "
        "and the accounts with check-ins): give a student id, a Discord username (@name), a Discord account id "
        f"or a full name; `{MANAGE} roster list --course NAME` shows a roster."
    )


def shell_student_ambiguous(typed: str, labels: list[str]) -> str:
    listed = "; ".join(_printable(label, 100) for label in labels[:5]) + ("; …" if len(labels) > 5 else "")
    return f"{_printable(typed, 60)!r} could be {len(labels)} students ({listed}): give the student id instead."
