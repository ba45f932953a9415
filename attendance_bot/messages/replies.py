"""The check-in replies, the instructors' everyday replies and the code message's card."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from .. import codes
from ..records import (
    CourseInfo,
    CurrentCode,
    Outcome,
    Status,
    SubmitResult,
)
from .checkin import check_in_button_label, code_not_in_channel
from .text import _minutes, _wait, shown
from .voice import not_in_voice_reply, voice_part

if TYPE_CHECKING:
    pass


def submit_reply(result: SubmitResult) -> str:
    """The one sentence a student sees after `/here`."""
    outcome = result.outcome
    if outcome in (Outcome.RECORDED, Outcome.UPDATED):
        replaced = " (your earlier check-in was replaced)" if outcome is Outcome.UPDATED else ""
        if result.status == Status.LATE:
            return (
                f"🕒 You are marked late for session {result.session_id}{replaced}: check-ins more than "
                f"{_minutes(result.late_after or 0)} after it opened count as late."
            )
        return f"✅ You are marked present for session {result.session_id}{replaced}."
    if outcome is Outcome.KEPT:
        return (
            f"ℹ️ Your record for session {result.session_id} was set by your instructor "
            f"({result.status}), so this check-in does not change it."
        )
    if outcome is Outcome.EXPIRED:
        return f"⌛ Code {shown(result.code)} has expired: use the code on screen now."
    if outcome is Outcome.WRONG:
        if result.retry_after > 0:
            return (
                f"❌ {shown(result.code)} is not the current code either: too many wrong codes, so wait "
                f"{_wait(result.retry_after)} before your next try, then use the code on screen."
            )
        left = result.attempts_left
        return (
            f"❌ {shown(result.code)} is not the current code: check the screen and try again "
            f"({left} more tr{'ies' if left != 1 else 'y'} before you have to wait)."
        )
    if outcome is Outcome.MALFORMED:
        return malformed_reply(result)
    if outcome is Outcome.THROTTLED:
        return f"⏳ Too many wrong codes: wait {_wait(result.retry_after)}, then use the code on screen."
    if outcome is Outcome.NO_SESSION:
        return no_session_reply()
    if outcome is Outcome.WRONG_CHANNEL:
        return wrong_channel_reply(result.channels)
    if outcome is Outcome.NOT_IN_VOICE:
        return not_in_voice_reply(result.channels[0] if result.channels else None)
    raise ValueError(f"no reply for {outcome}")


def malformed_reply(result: SubmitResult) -> str:
    """Why a typed code cannot be a code at all."""
    length = result.code_length
    look_alikes = [ch for ch in result.bad_characters if ch in codes.LOOK_ALIKES]
    if look_alikes:
        used = ", ".join(look_alikes)
        return (
            f"❌ Codes never contain {used}: they use only {codes.ALPHABET_DESCRIPTION}. "
            f"Look again at the screen ({length} characters)."
        )
    if result.bad_characters or not result.code:
        return f"❌ A code is {length} characters: {codes.ALPHABET_DESCRIPTION}. Type the one on screen."
    if len(result.code) >= codes.MAX_INPUT_LENGTH:
        return f"❌ That is far longer than a code: a code is {length} characters. Type the one on screen."
    return f"❌ A code is {length} characters long, not {len(result.code)}. Type the one on screen."


def no_session_reply() -> str:
    return "There is no attendance session open right now: wait for your instructor to open one."


def wrong_channel_reply(channels: tuple[int, ...] | list[int]) -> str:
    if not channels:
        return "No course takes attendance in this server yet: wait for your instructor to set one up."
    where = " or ".join(f"<#{channel}>" for channel in channels)
    return f"Use `/here` in {where}."


def not_admin_reply(course: str | None = None) -> str:
    whose = f"of {course!r} " if course else ""
    return f"Only instructors {whose}(Manage Server or the course's instructor role) can use this command."


def not_a_manager_reply() -> str:
    return "Only members with Manage Server can create or archive courses."


def not_in_a_server_reply() -> str:
    return "This command works in a server's channels, not in direct messages."


def channel_elsewhere(label: str, channel_id: int) -> str:
    return f"The {label} <#{channel_id}> is not a channel of this server: choose one of this server's text channels."


def channel_not_visible(label: str, channel_id: int) -> str:
    return f"I cannot see the {label} <#{channel_id}>: give my role View Channel there, or choose another channel."


def channel_permission_missing(label: str, channel_id: int, missing: list[str]) -> str:
    return (
        f"I cannot post in the {label} <#{channel_id}>: my role lacks {', '.join(missing)} there. "
        "Give it that permission in the channel's settings, or choose another channel."
    )


def role_elsewhere() -> str:
    return "That role is not a role of this server: choose one of this server's roles."


def course_created_reply(name: str, admin: int | None, attendance: int | None, display: int | None) -> str:
    shown_in = f", codes shown in <#{display}>" if display and display != attendance else ""
    return (
        f"Course {name!r} is set up: instructors run it from <#{admin}>, students type `/here` in "
        f"<#{attendance}>{shown_in}. Open a session with `/open_attendance`."
    )


def course_edited_reply(name: str) -> str:
    return f"Course {name!r} is updated; the changes apply from its next session (an open one keeps its settings)."


def course_archived_reply(name: str) -> str:
    return f"Course {name!r} is archived: no new sessions; its records and exports stay."


def course_line(course: CourseInfo) -> str:
    """One course in a list: name, channels, whether a session is open."""
    state = (
        "archived" if course.archived else (f"open: {course.open_session_id}" if course.open_session_id else "closed")
    )
    display = (
        f", codes in <#{course.display_channel_id}>"
        if course.display_channel_id != course.attendance_channel_id
        else ""
    )
    role = f", instructors <@&{course.instructor_role_id}>" if course.instructor_role_id else ""
    late = f", late after {_minutes(course.late_after)}" if course.late_after else ""
    hidden = f", {code_not_in_channel()}" if not course.code_in_channel else ""
    return (
        f"**{course.name}**: admin <#{course.admin_channel_id}>, attendance <#{course.attendance_channel_id}>"
        f"{display}{role}{late}{voice_part(course.voice_channel_id, course.voice_rule)}{hidden} ({state})"
    )


def course_list_reply(courses: list[CourseInfo]) -> str:
    if not courses:
        return "No course in this server yet: run `/course create` in the channel that becomes its admin channel."
    return "\n".join(course_line(c) for c in courses)


def storage_failure_reply() -> str:
    return "⚠️ Attendance could not be recorded right now: please try again in a moment, or tell your instructor."


def generic_failure_reply() -> str:
    return "Something went wrong on our side; it has been logged. Please try again."


def shutting_down_reply() -> str:
    return "⚠️ The attendance bot is restarting: this check-in was not recorded. Send `/here` again in a moment."


def shutdown_unconfirmed_reply() -> str:
    return (
        "⚠️ The attendance bot is restarting and could not confirm this check-in: "
        "send `/here` again in a moment to be sure."
    )


def opened_reply(
    session_id: str, channel_id: int | None, late_after: int | None = None, *, code_in_channel: bool = True
) -> str:
    """`/open_attendance`'s private reply; with code_in_channel off the channel's message shows no code."""
    where = f" in <#{channel_id}>" if channel_id else ""
    late = f" Check-ins more than {_minutes(late_after)} after now count as late." if late_after else ""
    if not code_in_channel:
        return (
            f"Attendance session {session_id} is open; the message{where} says how to check in without the code, "
            f"which only the projector page (`/projector`) and `manage.py code --watch` show.{late}"
        )
    return f"Attendance session {session_id} is open; the code is shown{where}.{late}"


def closed_reply(session_id: str, count: int) -> str:
    return f"Attendance session {session_id} is closed: {count} present."


@dataclass(frozen=True)
class CodeCard:
    """The code message's content, independent of Discord's types (the bot turns it into an embed)."""

    title: str
    description: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""
    closed: bool = False


def code_card(current: CurrentCode, count: int, course: str | None = None, *, in_channel: bool = True) -> CodeCard:
    """The live code message: the code large, how to submit, when it changes, the count (and the
    course, so sections sharing a channel tell their codes apart). Without `in_channel` (the course's
    code_in_channel off) it says a session is open and how to check in, but shows no code."""
    changes = int(current.changes_at.timestamp())
    spaced = " ".join(current.code)
    description = (
        f"# `{spaced}`\nType **`/here {current.code}`** to check in.\nOr press **{check_in_button_label()}** below."
        if in_channel
        else (
            f"The code is on the screen in the room. Press **{check_in_button_label()}** and type it, "
            "or type **`/here`** and the code."
        )
    )
    return CodeCard(
        title="Attendance is open",
        description=description,
        fields=[
            *([("Course", course)] if course else []),
            ("Code changes", f"<t:{changes}:R>"),
            ("Checked in", str(count)),
            ("Session", current.session_id),
        ],
        footer="Codes rotate; a code stays valid a little after it changes.",
    )


def closed_card(session_id: str, count: int, closed_at: datetime) -> CodeCard:
    """The code message's final form once the session is closed."""
    return CodeCard(
        title="Attendance is closed",
        description=f"Closed — {count} present.",
        fields=[("Session", session_id), ("Closed", f"<t:{int(closed_at.timestamp())}:t>")],
        closed=True,
    )


def export_reply(count: int, session_id: str | None) -> str:
    scope = f"session {session_id}" if session_id else "all sessions"
    return f"Attendance export for {scope}: {count} record{'s' if count != 1 else ''}."


def storage_warning() -> str:
    return (
        "⚠️ The attendance database cannot be written: students are being told their check-in "
        "was not recorded. Check the database: the disk and the file's permissions (SQLite), or that the "
        "PostgreSQL server is running and reachable."
    )
