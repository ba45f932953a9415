"""courses and course add|edit|archive."""

from __future__ import annotations

import argparse
import re
from decimal import Decimal

from .. import messages
from ..courses import ENV_SET
from ..coursesettings import COURSE_SETTING, COURSE_SETTINGS, POINTS, SWITCH
from ..migrations import fold
from ..records import CourseInfo
from ..services import Services
from ..settings import Settings
from .base import (
    ENV_HELP,
    CommandError,
    Context,
    command,
    env_course_missing,
    find_course,
    snowflake,
    switch,
    whole_number,
)

# -- courses --------------------------------------------------------------------------------


@command(
    "courses",
    "list every course: name, server (- until the bot knows it), admin / attendance / display channel, "
    "instructor role, code length, interval, grace and late rule, where the code is shown (channel, or only "
    "the projector), and its open session (or archived, or -)",
)
def _courses(ctx: Context) -> int:
    services = ctx.services()
    courses = services.courses.courses()
    if not courses:
        if env_course_missing(services):
            ctx.write(messages.env_course_not_added(services.settings.course_name))
        else:
            ctx.write(messages.shell_course_needed([]))
        return 0
    width = max(20, *(len(c.name) for c in courses))
    ctx.write(
        f"{'course':<{width}} {'server':<20} {'admin channel':<20} {'attendance channel':<20} "
        f"{'display channel':<20} {'instructor role':<20} {'length':>6} {'every':>6} {'grace':>6} {'late':>8} "
        f"{'code':<9}  session"
    )
    for c in courses:
        state = "archived" if c.archived else (c.open_session_id or "-")
        late = f"{c.late_after} min" if c.late_after else "-"
        ctx.write(
            f"{c.name:<{width}} {_id(c.guild_id):<20} {_id(c.admin_channel_id):<20} "
            f"{_id(c.attendance_channel_id):<20} {_id(c.display_channel_id):<20} {_id(c.instructor_role_id):<20} "
            f"{c.code_length:>6} {f'{c.interval} s':>6} {f'{c.grace_seconds} s':>6} {late:>8} "
            f"{messages.code_in_channel_column(c.code_in_channel):<9}  {state}"
        )
    if any(c.guild_id is None for c in courses):
        ctx.write(messages.courses_without_server())
    if env_course_missing(services):
        ctx.write(messages.env_course_not_added(services.settings.course_name))
    return 0


def _id(value: int | None) -> str:
    return "-" if value is None else str(value)


# -- course add / edit / archive ------------------------------------------------------------

# The options of `course add` and `course edit`: option -> (CourseService field, kind, help), from
# the course settings (a channel or role is an "id", a choice "choice", a number its unit).
_COURSE_FIELDS: dict[str, tuple[str, str, str]] = {
    f"--{s.option.replace('_', '-')}": (s.field, "id" if s.is_id else s.kind, s.help) for s in COURSE_SETTINGS
}
_CLEARABLE = {option: COURSE_SETTING[field].clear for option, (field, _, _) in _COURSE_FIELDS.items()}
_CLEARABLE = {option: word for option, word in _CLEARABLE.items() if word}  # and the code settings: "default"
_REQUIRED_TO_ADD = tuple(option for option, (field, _, _) in _COURSE_FIELDS.items() if COURSE_SETTING[field].required)
# What `.env` sets on the course it defines (an edit of them there is undone at the bot's next start).
_FOLLOWS_ENV = {"name", *ENV_SET}


def _dest(option: str) -> str:
    return option.removeprefix("--").replace("-", "_")


def _course_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    add_help = "add a course (the same rules as /course create in Discord)"
    add = actions.add_parser("add", help=add_help, description=add_help)
    add.add_argument("--name", required=True, help="the course's name, unique in its server (1-50 characters)")
    add.add_argument("--guild", metavar="ID", help="the course's server id (default: GUILD_ID)")
    for option, (field, kind, text) in _COURSE_FIELDS.items():
        if kind == "choice":
            metavar = "|".join(COURSE_SETTING[field].choices)
        else:
            metavar = "ID" if kind == "id" else "yes|no" if kind == SWITCH else "X" if kind == POINTS else "N"
        add.add_argument(option, metavar=metavar, required=option in _REQUIRED_TO_ADD, help=text)

    edit_help = (
        "change a course (the same rules as /course edit); the changes apply from its next session, "
        "never to an open one (the grading policy, --late-points and --drop-lowest, to past sessions too: "
        "grades are read from the record)"
    )
    edit = actions.add_parser("edit", help=edit_help, description=edit_help)
    edit.add_argument("course", metavar="NAME", help="the course to change")
    edit.add_argument("--name", metavar="NEW", help="its new name")
    for option, (field, kind, text) in _COURSE_FIELDS.items():
        if kind in ("id", "choice"):
            clear = _CLEARABLE.get(option)
            shown = "ID" if kind == "id" else "|".join(COURSE_SETTING[field].choices)
            metavar = f"{shown}|{clear}" if clear else shown
            extra = f"; {clear} to unset it" if clear else ""
        elif kind == SWITCH:
            metavar, extra = "yes|no", ""
        elif COURSE_SETTING[field].default_value is not None:  # a value of its own when unset (late_points 0.8)
            shown = "X" if kind == POINTS else "N"
            metavar, extra = f"{shown}|default", f"; default to go back to {COURSE_SETTING[field].default_value}"
        else:
            metavar, extra = "N|default", "; default to follow .env again"
        edit.add_argument(option, metavar=metavar, help=text + extra)
    _guild_selector(edit)

    archive_help = "archive a course: no new sessions; its records and exports stay (close its open session first)"
    archive = actions.add_parser("archive", help=archive_help, description=archive_help)
    archive.add_argument("course", metavar="NAME", help="the course to archive")
    _guild_selector(archive)

    for child in (add, edit, archive):
        child.add_argument("--env-file", metavar="PATH", default=argparse.SUPPRESS, help=ENV_HELP)


def _guild_selector(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--guild", metavar="ID", help="the course's server id, when courses of that name exist in several servers"
    )


@command("course", "add, edit or archive a course: `course ACTION --help` explains each", _course_arguments)
def _course(ctx: Context) -> int:
    return {"add": _course_add, "edit": _course_edit, "archive": _course_archive}[ctx.options.action](ctx)


def _course_changes(ctx: Context, *, editing: bool) -> dict[str, object]:
    """The course fields the options give, validated for form (CourseService checks the rest)."""
    changes: dict[str, object] = {}
    if ctx.options.name is not None:
        changes["name"] = ctx.options.name
    for option, (field, kind, _) in _COURSE_FIELDS.items():
        value = getattr(ctx.options, _dest(option))
        if value is None:
            continue
        word = value.strip().casefold()
        if editing and (word == _CLEARABLE.get(option) or (kind != "id" and word == "default")):
            changes[field] = None
        elif kind == "id":
            changes[field] = snowflake(option, value)
        elif kind == "choice":
            changes[field] = word  # CourseService names the words it takes
        elif kind == SWITCH:
            changes[field] = switch(option, value)
        elif kind == POINTS:
            changes[field] = _points(option, value)
        else:
            changes[field] = whole_number(option, value, kind)
    return changes


def _points(option: str, value: str) -> Decimal:
    """A decimal option (`--late-points 0.8`): ASCII digits with one point at most; its range and
    decimals are CourseService's to check."""
    text = value.strip()
    if not re.fullmatch(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", text):  # Decimal() also takes "1e3", "NaN", "١"
        raise CommandError(messages.bad_points(option, value))
    return Decimal(text)


def _guild(ctx: Context, settings: Settings, *, default: bool) -> int | None:
    if ctx.options.guild is not None:
        return snowflake("--guild", ctx.options.guild)
    return settings.guild_id if default else None


def _course_add(ctx: Context) -> int:
    settings = ctx.settings()
    fields = _course_changes(ctx, editing=False)
    guild_id = _guild(ctx, settings, default=True)
    if guild_id is None:
        raise CommandError(messages.guild_needed())
    beside_env = settings.defines_course
    if beside_env:  # refused before the database is opened (which adds the .env course)
        if fold(str(fields["name"])) == fold(settings.course_name):
            raise CommandError(messages.course_add_is_env_course(settings.course_name))
        channels = (fields["admin_channel_id"], fields["attendance_channel_id"])
        if channels == (settings.admin_channel_id, settings.attendance_channel_id):
            raise CommandError(messages.env_course_has_these_channels(settings.course_name, str(fields["name"])))
    services = ctx.services(writes=True)
    course = services.courses.create(guild_id=guild_id, **fields)  # type: ignore[arg-type]
    if course.admin_channel_id == course.attendance_channel_id:
        ctx.stderr.write(f"Warning: {messages.same_admin_and_attendance_channel()}\n")
    if beside_env:
        count = len(services.courses.courses(archived=False))
        ctx.stderr.write(f"Warning: {messages.course_added_beside_env_course(settings.course_name, count)}\n")
    ctx.write(messages.course_added(course))
    return 0


def _named_course(ctx: Context, services: Services) -> CourseInfo:
    return find_course(
        services, ctx.options.course, _guild(ctx, services.settings, default=False), hint="Add --guild ID."
    )


def _course_edit(ctx: Context) -> int:
    changes = _course_changes(ctx, editing=True)
    if not changes:
        raise CommandError(messages.nothing_to_change())
    services = ctx.services(writes=True)
    course = _named_course(ctx, services)
    edited = services.courses.edit(course.id, **changes)
    settings = services.settings
    if settings.defines_course and fold(course.name) == fold(settings.course_name) and _FOLLOWS_ENV & set(changes):
        ctx.stderr.write(f"Warning: {messages.edits_env_course(course.name)}\n")
    ctx.write(messages.course_edited_reply(edited.name))
    return 0


def _course_archive(ctx: Context) -> int:
    services = ctx.services(writes=True)
    course = _named_course(ctx, services)
    archived = services.courses.archive(course.id)
    ctx.write(messages.course_archived_reply(archived.name))
    return 0
