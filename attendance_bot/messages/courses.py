"""Courses: their errors and the shell's course lines."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from .text import MANAGE, shown

if TYPE_CHECKING:
    pass


# -- courses ----------------------------------------------------------------------------------


def _names(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "none yet"


def course_name_invalid(name: object, limit: int) -> str:
    return (
        f"A course name is 1-{limit} characters of text (no line breaks, control or text-direction characters), "
        f"not {shown(str(name))}."
    )


def course_name_taken(name: str) -> str:
    return f"There is a course named {name!r} in this server already: choose another name, or edit that course."


def unknown_course(name: str, names: list[str]) -> str:
    return f"No course named {shown(name)} here. Courses: {_names(names)}."


def course_in_several_servers(name: str, guild_ids: list[int | None]) -> str:
    servers = ", ".join(str(g) for g in guild_ids)
    return f"Several servers have a course named {name!r} (servers {servers}); this command cannot tell which."


def course_option_needed(names: list[str]) -> str:
    return f"This channel is the admin channel of several courses: say which with the course option ({_names(names)})."


def shell_course_needed(names: list[str]) -> str:
    if not names:
        return (
            f"There is no course yet: create one with /course create in Discord, or `{MANAGE} course add`, "
            "or set ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID in .env."
        )
    return f"Several courses could be meant: add --course NAME ({_names(names)})."


def no_course_here(courses: list[tuple[str, int | None]]) -> str:
    if not courses:
        return (
            "No course is set up in this server yet: someone with Manage Server runs /course create in the channel "
            "that becomes its admin channel."
        )
    where = ", ".join(f"{name!r} in <#{channel}>" for name, channel in courses)
    return f"This channel is no course's admin channel. Run the command in the course's admin channel: {where}."


def not_this_courses_admin_channel(name: str, channel_id: int | None) -> str:
    return f"Course {name!r} is run from <#{channel_id}>: use the command there."


def instructor_role_is_everyone() -> str:
    return (
        "The instructor role cannot be @everyone: every member would be an instructor. Choose the instructors' "
        "role, or none (Manage Server is enough then)."
    )


def course_setting_out_of_range(key: str, value: object, low: int, high: int, unit: str) -> str:
    label = {
        "interval": "The interval",
        "code_length": "The code length",
        "grace_seconds": "The grace",
        "late_after": "Late after",
        "warn_below": "The warning line",
        "warn_after": "Warn after",
        "late_points": "Late points",
        "drop_lowest": "Drop lowest",
    }[key]
    if key == "late_after":
        return f"{label} must be from {low} (never late) to {high} {unit}, not {shown(str(value))}."
    if key == "warn_below":
        return f"{label} must be from {low} (no warnings) to {high} {unit}, not {shown(str(value))}."
    if unit == "points":  # a decimal number (coursesettings.POINTS)
        return (
            f"{label} must be a number from {low} to {high} with at most two decimals (e.g. 0.8), "
            f"not {shown(str(value))}."
        )
    return f"{label} must be from {low} to {high} {unit}, not {shown(str(value))}."


def course_edit_needs_a_change() -> str:
    return (
        "Nothing to change: give at least one of the course's settings (a new name, a channel, a role or a code "
        "setting)."
    )


def course_already_archived(name: str) -> str:
    return f"Course {name!r} is archived already; its records and exports stay."


def close_before_archiving(name: str, session_id: str) -> str:
    return f"Course {name!r} has session {session_id} open: close it first, then archive the course."


def course_archived_refusal(name: str) -> str:
    return f"Course {name!r} is archived: it takes no new sessions (its records and exports stay)."


def course_argument(name: str) -> str:
    """` --course NAME` quoted for a shell, to show in a hint; nothing for a name that cannot be shown as typed."""
    name = " ".join(name.split())
    return f" --course {shlex.quote(name)}" if name.isprintable() else " --course NAME"
