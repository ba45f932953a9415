"""The shell's own sentences (manage.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..records import (
    CourseInfo,
)
from .courses import course_argument
from .text import MANAGE, quoted

if TYPE_CHECKING:
    pass


# -- the shell (manage.py) ---------------------------------------------------------------------


def env_course_not_added(name: str) -> str:
    return (
        f"There is no course in the database yet: .env defines course {name!r} (ADMIN_CHANNEL_ID and "
        f"ATTENDANCE_CHANNEL_ID), which the next `{MANAGE} open` (or the bot, when it starts) adds."
    )


def env_course_in_several_servers(name: str, guild_ids: list[int]) -> str:
    servers = ", ".join(str(g) for g in guild_ids)
    return (
        f"Several servers have a course named {name!r} (servers {servers}): set GUILD_ID in .env to the server "
        "of the course .env defines."
    )


def database_made(path: Path, version: int | None) -> str:
    return f"Made a new database at {path} (schema version {version})."


def database_up_to_date(version: int | None) -> str:
    return f"The database is up to date (schema version {version})."


def upgrade_pending(version: int, latest: int) -> str:
    return (
        f"{version}: an upgrade to version {latest} is pending; run `{MANAGE} migrate` (a backup copy is made "
        "first), or start the bot, which upgrades it"
    )


def bad_snowflake(option: str, value: str) -> str:
    mention = re.fullmatch(r"<[#@&!]+([0-9]{15,22})>", value.strip())
    hint = f" (use {mention.group(1)}, without <#...>)" if mention else ""
    return (
        f"{option} must be a numeric Discord id of 15-22 digits such as 123456789012345678, not "
        f"{quoted(value, 40)}{hint}"
    )


def bad_number(option: str, value: str, unit: str) -> str:
    return f"{option} must be a whole number of {unit}, not {quoted(value, 40)}"


def guild_needed() -> str:
    return (
        "--guild is needed: the id of the course's server (Discord: Developer Mode, right-click the server icon, "
        "Copy Server ID), or set GUILD_ID in .env"
    )


SEVERAL_SERVERS_HINT = (
    "Set GUILD_ID (in .env or the environment) to the server meant, or rename one with "
    f"`{MANAGE} course edit NAME --guild ID --name NEW`."
)


def nothing_to_change() -> str:
    return (
        "Nothing to change: give at least one of --name, --admin-channel, --attendance-channel, --display-channel, "
        "--instructor-role, --interval, --code-length, --grace."
    )


def edits_env_course(name: str) -> str:
    return (
        f"course {name!r} is the one .env defines: its name, channels and role follow .env again at the next "
        f"`{MANAGE} open` or start of the bot; change them in .env to keep them."
    )


def course_added_beside_env_course(env_name: str, count: int) -> str:
    return (
        f".env defines course {env_name!r} too (ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID), so there are {count} "
        "courses now: `open`, `export` and `sessions` take --course NAME where several could be meant, and "
        "`close` and `code` act on the one session open."
    )


def env_course_has_these_channels(env_name: str, name: str) -> str:
    return (
        f"These are the channels of course {env_name!r}, which .env defines (ADMIN_CHANNEL_ID and "
        f"ATTENDANCE_CHANNEL_ID): to call that course {name!r}, set COURSE_NAME in .env instead; or give the new "
        "course channels of its own."
    )


def course_add_is_env_course(env_name: str) -> str:
    return (
        f"Course {env_name!r} is the one .env defines (COURSE_NAME, ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID), "
        "added by the bot when it starts: change it in .env, or give the new course another name."
    )


def same_admin_and_attendance_channel() -> str:
    return (
        "the admin channel and the attendance channel are the same channel: instructors then work where students "
        "type /here (the close summary is posted there too); a separate admin channel is usual."
    )


def courses_without_server() -> str:
    return (
        "server -: not known yet; the bot fills it in when it starts (the server of the course's admin channel, "
        "or GUILD_ID)."
    )


def course_added(course: CourseInfo) -> str:
    return (
        f"Added course {course.name!r} in server {course.guild_id}: admin channel {course.admin_channel_id}, "
        f"attendance channel {course.attendance_channel_id}, code shown in {course.display_channel_id}. Open a "
        f"session with `{MANAGE} open{course_argument(course.name)}` or /open_attendance in Discord."
    )
