"""The `course`, `student` and `session` options, each with its autocomplete attached: every command
that takes one of them gets the same choices, with no forwarder per command."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import nextcord

from .. import choices, timetable
from ..errors import AttendanceError
from ..records import Choice, CourseInfo
from .checks import admin_course
from .options import COURSE_OPTION, MAX_AUTOCOMPLETE, typed_options

if TYPE_CHECKING:
    from .cogs.base import FeatureCog

MAX_STUDENT_OPTION = 100
# What nextcord calls for an option being typed: (the option's cog, the interaction, what is typed so far).
Completer = Callable[["FeatureCog", nextcord.Interaction, str | None], Awaitable[None]]


async def complete_course(cog: FeatureCog, interaction: nextcord.Interaction, typed: str | None) -> None:
    """Autocomplete for every `course` option: this server's courses whose name holds what is typed."""
    ctx = cog.ctx
    courses = await ctx.db.run(ctx.services.courses.courses, interaction.guild_id) if interaction.guild_id else []
    wanted = (typed or "").casefold().strip()
    names = [c.name for c in courses if wanted in c.name.casefold()]
    await interaction.response.send_autocomplete(names[:MAX_AUTOCOMPLETE])


async def _autocomplete_course(cog: FeatureCog, interaction: nextcord.Interaction) -> CourseInfo | None:
    """The course an autocomplete in this channel is about, if the member instructs it (else
    None: a student gets no names from autocomplete)."""
    typed = typed_options(interaction).get("course")
    typed = str(typed) if typed is not None else None
    try:
        return await admin_course(cog.ctx, interaction, typed)
    except AttendanceError:  # no course here, not an instructor, database down: no choices
        return None


def _choices(found: list[Choice]) -> dict[str, str]:
    return {choice.label: choice.value for choice in found[:MAX_AUTOCOMPLETE]}


async def complete_student(cog: FeatureCog, interaction: nextcord.Interaction, typed: str | None) -> None:
    """The course's students (roster and registered) matching what is typed."""
    course = await _autocomplete_course(cog, interaction)
    corrections = cog.ctx.services.corrections
    found = await cog.ctx.db.run(choices.student_choices, corrections, course.id, typed or "") if course else []
    await interaction.response.send_autocomplete(_choices(found))


async def complete_linkable_student(cog: FeatureCog, interaction: nextcord.Interaction, typed: str | None) -> None:
    """The student ids `/attendance link` can confirm: the course's, never a Discord account."""
    course = await _autocomplete_course(cog, interaction)
    corrections = cog.ctx.services.corrections
    found = await cog.ctx.db.run(choices.student_choices, corrections, course.id, typed or "", 100) if course else []
    await interaction.response.send_autocomplete(_choices([c for c in found if c.value.startswith("student:")]))


async def complete_session(cog: FeatureCog, interaction: nextcord.Interaction, typed: str | None) -> None:
    """The course's sessions matching what is typed."""
    course = await _autocomplete_course(cog, interaction)
    corrections = cog.ctx.services.corrections
    found = await cog.ctx.db.run(choices.session_choices, corrections, course.id, typed or "") if course else []
    await interaction.response.send_autocomplete(_choices(found))


async def complete_timezone(cog: FeatureCog, interaction: nextcord.Interaction, typed: str | None) -> None:
    """IANA time zone names holding what is typed (region/city names first); nothing from the database."""
    names = timetable.zone_names(typed or "", MAX_AUTOCOMPLETE)
    await interaction.response.send_autocomplete(names)


async def complete_schedule_entry(cog: FeatureCog, interaction: nextcord.Interaction, typed: str | None) -> None:
    """The lines of the course's timetable matching what is typed."""
    course = await _autocomplete_course(cog, interaction)
    schedule = cog.ctx.services.schedule
    found = await cog.ctx.db.run(choices.schedule_choices, schedule, course.id, typed or "") if course else []
    await interaction.response.send_autocomplete(_choices(found))


async def complete_own_session(cog: FeatureCog, interaction: nextcord.Interaction, typed: str | None) -> None:
    """The member's own sessions in this server's courses (a student's /excuse), newest first."""
    ctx, user = cog.ctx, interaction.user
    found: list[Choice] = []
    if interaction.guild_id is not None and user is not None:
        try:
            found = await ctx.db.run(
                choices.own_session_choices, ctx.services.excuses, interaction.guild_id, user.id, user.name, typed or ""
            )
        except AttendanceError:  # the database down: no choices
            found = []
    await interaction.response.send_autocomplete(_choices(found))


def own_session_option() -> Any:
    """The required `session` option of a student's own commands, completed with their sessions."""
    return nextcord.SlashOption(
        name="session",
        description="Your session (pick one from the list)",
        required=True,
        max_length=64,
        autocomplete_callback=complete_own_session,
    )


def course_option(
    description: str = "The course (default: the one this is the admin channel of)", *, required: bool = False
) -> Any:
    """A `course` option, completed with this server's courses (optional by default: the commands run
    from a course's admin channel default to that course)."""
    if required:
        return nextcord.SlashOption(
            name=COURSE_OPTION,
            description=description,
            required=True,
            max_length=50,
            autocomplete_callback=complete_course,
        )
    return nextcord.SlashOption(
        name=COURSE_OPTION,
        description=description,
        required=False,
        max_length=50,
        default=None,
        autocomplete_callback=complete_course,
    )


def student_option(description: str, completer: Completer = complete_student) -> Any:
    """The required `student` option, completed with the course's students."""
    return nextcord.SlashOption(
        name="student",
        description=description,
        required=True,
        min_length=1,
        max_length=MAX_STUDENT_OPTION,
        autocomplete_callback=completer,
    )


def session_option(required: bool) -> Any:
    """The `session` option, completed with the course's sessions."""
    description = "The session (default: the open one, else the latest)" if not required else "The session"
    return nextcord.SlashOption(
        name="session",
        description=description,
        required=required,
        max_length=64,
        default=None,
        autocomplete_callback=complete_session,
    )
