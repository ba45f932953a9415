"""The courses feature's slash commands: `/course create|edit|list|archive|roster`, and the timetable's
`/course schedule add|list|remove` and `/course skip|unskip` (a server's managers and a course's instructors)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import nextcord

from ... import messages
from ...coursesettings import COURSE_SETTINGS
from ...errors import CourseError
from ...timetable import MAX_MINUTES, MIN_MINUTES, WEEKDAYS
from ..checks import (
    admin_course,
    check_course_channels,
    refuse_unknown_role,
    require_instructor,
    require_manager,
    server_course,
)
from ..completers import complete_schedule_entry, complete_timezone, course_option
from ..context import BotContext
from ..events import EVENTS_AHEAD, list_classes
from ..options import ADMIN_PERMISSIONS
from .base import FeatureCog

log = logging.getLogger(__name__)
T = TypeVar("T")

_BY_OPTION = {setting.option: setting for setting in COURSE_SETTINGS}
_EDIT_OPTIONS = tuple(setting for setting in COURSE_SETTINGS if setting.discord)
# The settings `/course edit clear:` unsets (the ones the shell unsets with a word).
_CLEARABLE = tuple(setting for setting in _EDIT_OPTIONS if setting.clear)
_CHANNEL_TYPES = {
    "text": nextcord.ChannelType.text,
    "voice": nextcord.ChannelType.voice,
    "stage": nextcord.ChannelType.stage_voice,
}


def _setting_option(option: str, *, create: bool = False) -> nextcord.SlashOption:
    """The /course create (or edit) option of a course setting, as COURSE_SETTINGS describes it."""
    setting = _BY_OPTION[option]
    description = setting.discord_create if create else setting.discord
    assert description is not None, f"{option} is not an option of /course {'create' if create else 'edit'}"
    required = create and setting.required
    extra: dict[str, object] = {} if required else {"default": None}
    if setting.kind == "channel":
        extra["channel_types"] = [_CHANNEL_TYPES[kind] for kind in setting.channel_types]
    elif setting.is_choice:
        extra["choices"] = {word: word for word in setting.choices}
    elif setting.is_zone:
        extra |= {"autocomplete_callback": complete_timezone, "max_length": 64}
    elif setting.is_number or setting.is_points:  # a points setting is a float option (Discord's NUMBER)
        extra |= {"min_value": setting.low, "max_value": setting.high}
    return nextcord.SlashOption(name=option, description=description, required=required, **extra)


def _edit_changes(given: dict[str, object]) -> dict[str, object]:
    """The course fields the /course edit options give (a channel or role as its id), unset ones left
    out, and the one `clear` names as None (CourseError if it is given a value too)."""
    changes: dict[str, object] = {}
    for setting in _EDIT_OPTIONS:
        value = given[setting.option]
        if value is None:
            continue
        if setting.is_id:
            changes[setting.field] = value.id  # type: ignore[attr-defined]
        elif setting.is_points and isinstance(value, int | float) and not isinstance(value, bool):
            # as typed: 0.8 is Decimal("0.8"), not the float's binary neighbour
            changes[setting.field] = Decimal(str(value))
        else:
            changes[setting.field] = value
    cleared = given.get("clear")
    if cleared is not None:
        setting = _BY_OPTION[str(cleared)]
        if setting.field in changes:
            raise CourseError("course_clear_and_set", option=setting.option)
        changes[setting.field] = None
    return changes


def _refuse_not_voice(channel: nextcord.abc.GuildChannel | None, guild_id: int | None) -> None:
    """CourseError unless the channel is a voice or stage channel of this server (Discord's picker
    offers only those; a forged id may name another)."""
    if channel is None:
        return
    guild = getattr(channel, "guild", None)
    if guild is None or guild.id != guild_id:
        raise CourseError("voice_channel_elsewhere", channel_id=channel.id)
    if channel.type not in (nextcord.ChannelType.voice, nextcord.ChannelType.stage_voice):
        raise CourseError("voice_channel_not_voice", channel_id=channel.id)


class CoursesCog(FeatureCog):
    """`/course`: create, edit, list, archive a server's courses and import a course's roster."""

    def __init__(self, ctx: BotContext) -> None:
        super().__init__(ctx)
        self.courses = ctx.services.courses

    @nextcord.slash_command(
        name="course", description="Set up this server's courses", default_member_permissions=ADMIN_PERMISSIONS
    )
    async def course(self, interaction: nextcord.Interaction) -> None:
        """The parent of the /course sub-commands (never run itself)."""

    @course.subcommand(name="create", description="Create a course run from this channel")
    async def course_create(
        self,
        interaction: nextcord.Interaction,
        name: str = nextcord.SlashOption(
            name="name", description="The course's name, e.g. Math 101", required=True, min_length=1, max_length=50
        ),
        attendance_channel: nextcord.abc.GuildChannel = _setting_option("attendance_channel", create=True),
        display_channel: nextcord.abc.GuildChannel | None = _setting_option("display_channel", create=True),
        instructor_role: nextcord.Role | None = _setting_option("instructor_role", create=True),
        voice_channel: nextcord.abc.GuildChannel | None = _setting_option("voice_channel", create=True),
        voice_rule: str | None = _setting_option("voice_rule", create=True),
        code_in_channel: bool | None = _setting_option("code_in_channel", create=True),
    ) -> None:
        guild_id = require_manager(interaction)
        await interaction.response.defer(ephemeral=True)
        refuse_unknown_role(interaction, instructor_role)
        _refuse_not_voice(voice_channel, guild_id)
        display_id = display_channel.id if display_channel is not None else None
        check_course_channels(
            self.ctx.bot,
            guild_id,
            admin=interaction.channel_id,
            attendance=attendance_channel.id,
            display=display_id or attendance_channel.id,
            role=instructor_role,
        )
        course = await self.ctx.db.run(
            self.courses.create,
            name=name,
            guild_id=guild_id,
            admin_channel_id=interaction.channel_id,
            attendance_channel_id=attendance_channel.id,
            display_channel_id=display_id,
            instructor_role_id=instructor_role.id if instructor_role is not None else None,
            voice_channel_id=voice_channel.id if voice_channel is not None else None,
            voice_rule=voice_rule,
            code_in_channel=code_in_channel,
        )
        await interaction.followup.send(
            messages.course_created_reply(
                course.name, course.admin_channel_id, course.attendance_channel_id, course.display_channel_id
            ),
            ephemeral=True,
        )

    @course.subcommand(name="edit", description="Change a course (applies from its next session)")
    async def course_edit(
        self,
        interaction: nextcord.Interaction,
        course: str = course_option("The course to change", required=True),
        name: str | None = nextcord.SlashOption(
            name="name", description="A new name", required=False, min_length=1, max_length=50, default=None
        ),
        # one parameter per COURSE_SETTINGS entry with a Discord description (nextcord reads the signature)
        attendance_channel: nextcord.abc.GuildChannel | None = _setting_option("attendance_channel"),
        display_channel: nextcord.abc.GuildChannel | None = _setting_option("display_channel"),
        instructor_role: nextcord.Role | None = _setting_option("instructor_role"),
        interval: int | None = _setting_option("interval"),
        code_length: int | None = _setting_option("code_length"),
        grace: int | None = _setting_option("grace"),
        late_after: int | None = _setting_option("late_after"),
        voice_channel: nextcord.abc.GuildChannel | None = _setting_option("voice_channel"),
        voice_rule: str | None = _setting_option("voice_rule"),
        code_in_channel: bool | None = _setting_option("code_in_channel"),
        warn_below: int | None = _setting_option("warn_below"),
        warn_after: int | None = _setting_option("warn_after"),
        late_points: float | None = _setting_option("late_points"),
        drop_lowest: int | None = _setting_option("drop_lowest"),
        timezone: str | None = _setting_option("timezone"),
        clear: str | None = nextcord.SlashOption(
            name="clear",
            description="A setting to unset (a channel or role it follows again, or no voice channel)",
            required=False,
            default=None,
            choices={setting.option: setting.option for setting in _CLEARABLE},
        ),
    ) -> None:
        given = dict(locals())  # the options, by name (read before any other local exists)
        await interaction.response.defer(ephemeral=True)
        found = await server_course(self.ctx, interaction, course)
        assert interaction.guild_id is not None
        refuse_unknown_role(interaction, instructor_role)
        _refuse_not_voice(voice_channel, interaction.guild_id)
        check_course_channels(
            self.ctx.bot,
            interaction.guild_id,
            admin=None,
            attendance=attendance_channel.id if attendance_channel is not None else None,
            display=display_channel.id if display_channel is not None else None,
            role=instructor_role,
        )
        changes = ({"name": name} if name is not None else {}) | _edit_changes(given)
        changed = await self.ctx.db.run(self.courses.edit, found.id, **changes)
        await interaction.followup.send(messages.course_edited_reply(changed.name), ephemeral=True)

    @course.subcommand(name="list", description="This server's courses")
    async def course_list(self, interaction: nextcord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        courses = await require_instructor(self.ctx, interaction)
        await interaction.followup.send(messages.course_list_reply(courses), ephemeral=True)

    @course.subcommand(name="archive", description="No new sessions for a course; its records stay")
    async def course_archive(
        self,
        interaction: nextcord.Interaction,
        course: str = course_option("The course to archive", required=True),
    ) -> None:
        guild_id = require_manager(interaction)
        await interaction.response.defer(ephemeral=True)
        found = await self.ctx.db.run(self.courses.find, course, guild_id)
        archived = await self.ctx.db.run(self.courses.archive, found.id)
        await interaction.followup.send(messages.course_archived_reply(archived.name), ephemeral=True)

    @course.subcommand(name="roster", description="Import the course's roster from the LMS's CSV file")
    async def course_roster(
        self,
        interaction: nextcord.Interaction,
        file: nextcord.Attachment = nextcord.SlashOption(
            name="file",
            description="The roster CSV (student_id,name[,discord], or Moodle/Canvas/Google Classroom's); max 5 MB",
            required=True,
        ),
        course: str | None = course_option(),
        replace: bool = nextcord.SlashOption(
            name="replace",
            description="Also remove the students the file does not list (their records stay)",
            required=False,
            default=False,
        ),
        columns: str | None = nextcord.SlashOption(
            name="columns",
            description='Other headers: student_id="ID number",name="First name+Last name"',
            required=False,
            max_length=500,
        ),
    ) -> None:
        from ...roster import parse_columns, parse_roster, refuse_size

        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        named = None if columns is None else parse_columns(columns, from_discord=True)
        refuse_size(file.size)  # before a byte is downloaded
        data = await self._download_roster(file)
        # off the loop; refused whole, before the database
        rows = await asyncio.to_thread(parse_roster, data, named, from_discord=True)
        actor = str(interaction.user.id if interaction.user else "unknown")
        report = await self.ctx.db.run(
            self.ctx.services.roster.import_roster, found.id, rows, replace=bool(replace), actor=actor
        )
        await interaction.followup.send(
            messages.roster_imported(
                found.name, report.added, report.updated, report.unchanged, report.removed, report.unmatched
            ),
            ephemeral=True,
        )

    # -- the timetable (attendance_bot/schedule.py) --------------------------------------------

    @course.subcommand(name="schedule", description="The course's weekly timetable: sessions open and close on time")
    async def course_schedule(self, interaction: nextcord.Interaction) -> None:
        """The parent of /course schedule add|list|remove (never run itself)."""

    @course_schedule.subcommand(name="add", description="The course meets every week at this time (its timezone)")
    async def schedule_add(
        self,
        interaction: nextcord.Interaction,
        weekday: str = nextcord.SlashOption(
            name="weekday", description="The day it meets", required=True, choices={day: day for day in WEEKDAYS}
        ),
        start: str = nextcord.SlashOption(
            name="start", description="HH:MM, 24-hour, in the course's timezone", required=True, max_length=5
        ),
        minutes: int = nextcord.SlashOption(
            name="minutes", description="How long the session stays open", min_value=MIN_MINUTES, max_value=MAX_MINUTES
        ),
        first: str | None = nextcord.SlashOption(
            name="from",
            description="The first date it meets, YYYY-MM-DD (default: from now)",
            required=False,
            max_length=10,
            default=None,
        ),
        until: str | None = nextcord.SlashOption(
            name="until",
            description="The last date it meets, YYYY-MM-DD (default: no end)",
            required=False,
            max_length=10,
            default=None,
        ),
        events: bool = nextcord.SlashOption(
            name="events",
            description="Also list its next classes in the server's Events (the bot needs Create Events)",
            required=False,
            default=False,
        ),
        course: str | None = course_option(),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        actor = str(interaction.user.id if interaction.user else "unknown")
        entry = await self.ctx.db.run(
            self.ctx.services.schedule.add,
            found.id,
            weekday=weekday,
            start=start,
            minutes=minutes,
            first=first,
            until=until,
            created_by=actor,
        )
        self._timetable_changed()
        reply = messages.schedule_added(found.name, entry, found.timezone)
        if events and interaction.guild_id is not None:
            classes = await self.ctx.db.run(self.ctx.services.schedule.upcoming, found.id, entry.id, EVENTS_AHEAD)
            reply += "\n" + await list_classes(self.ctx.bot, interaction.guild_id, found, classes)
        await interaction.followup.send(reply, ephemeral=True)

    @course_schedule.subcommand(name="list", description="The course's timetable, skipped dates and next session")
    async def schedule_list(self, interaction: nextcord.Interaction, course: str | None = course_option()) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        timetable = await self.ctx.db.run(self.ctx.services.schedule.timetable, found.id)
        await interaction.followup.send(messages.timetable_reply(timetable), ephemeral=True)

    @course_schedule.subcommand(name="remove", description="Take a line off the course's timetable")
    async def schedule_remove(
        self,
        interaction: nextcord.Interaction,
        entry: str = nextcord.SlashOption(
            name="entry",
            description="The line (#number)",
            required=True,
            max_length=100,
            autocomplete_callback=complete_schedule_entry,
        ),
        course: str | None = course_option(),
    ) -> None:
        await self._change_timetable(
            interaction, course, self.ctx.services.schedule.remove, entry, messages.schedule_removed
        )

    @course.subcommand(name="skip", description="The course does not meet on this date (a holiday)")
    async def course_skip(
        self,
        interaction: nextcord.Interaction,
        date: str = nextcord.SlashOption(name="date", description="YYYY-MM-DD", required=True, max_length=10),
        course: str | None = course_option(),
    ) -> None:
        await self._change_timetable(
            interaction, course, self.ctx.services.schedule.skip, date, messages.schedule_skipped
        )

    @course.subcommand(name="unskip", description="The course meets on this skipped date after all")
    async def course_unskip(
        self,
        interaction: nextcord.Interaction,
        date: str = nextcord.SlashOption(name="date", description="YYYY-MM-DD", required=True, max_length=10),
        course: str | None = course_option(),
    ) -> None:
        await self._change_timetable(
            interaction, course, self.ctx.services.schedule.unskip, date, messages.schedule_unskipped
        )

    async def _change_timetable(
        self,
        interaction: nextcord.Interaction,
        course: str | None,
        change: Callable[[int, str], T],
        value: str,
        reply: Callable[[str, T], str],
    ) -> None:
        """A timetable change by an instructor: the course's line removed, or a date skipped or met
        again; the scheduler woken, the instructor told privately."""
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        done = await self.ctx.db.run(change, found.id, value)
        self._timetable_changed()
        await interaction.followup.send(reply(found.name, done), ephemeral=True)

    def _timetable_changed(self) -> None:
        if self.ctx.scheduler is not None:
            self.ctx.scheduler.poke()

    roster_download_seconds = 30.0  # a 5 MB file from Discord's CDN takes well under a second

    async def _download_roster(self, file: nextcord.Attachment) -> bytes:
        """The attached file's bytes from Discord's CDN; RosterError (one sentence) if that fails."""
        import aiohttp

        from ...roster import RosterError

        try:
            return await asyncio.wait_for(file.read(), self.roster_download_seconds)
        except (nextcord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Could not download the roster file %r: %s", file.filename, exc)
            raise RosterError("roster_download_failed") from exc
