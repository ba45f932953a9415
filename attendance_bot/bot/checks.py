"""Who may run a command and where: the permission checks and the course channel checks every cog shares."""

from __future__ import annotations

import nextcord

from ..errors import CourseError, NotAllowed
from ..records import CourseInfo
from .context import BotContext
from .options import typed_options

# The bot's permissions a course's channels need, by channel: (label, needs Embed Links).
_POST_PERMISSIONS = (("send_messages", "Send Messages"), ("embed_links", "Embed Links"))


def manages_server(interaction: nextcord.Interaction) -> bool:
    """Manage Server or Administrator in the server the command comes from."""
    permissions = interaction.permissions
    return bool(permissions.manage_guild or permissions.administrator)


def instructs(interaction: nextcord.Interaction, course: CourseInfo) -> bool:
    """Manage Server, or the course's instructor role, in the course's own server."""
    if interaction.guild_id is None or course.guild_id != interaction.guild_id:
        return False
    if manages_server(interaction):
        return True
    roles = getattr(interaction.user, "roles", [])
    return course.instructor_role_id is not None and any(role.id == course.instructor_role_id for role in roles)


async def require_instructor(ctx: BotContext, interaction: nextcord.Interaction) -> list[CourseInfo]:
    """This server's courses, if the member instructs one of them or manages the server; else
    NotAllowed before anything about a course is looked up or said."""
    if interaction.guild_id is None:
        raise NotAllowed("not_in_a_server_reply")
    courses = await ctx.db.run(ctx.services.courses.courses, interaction.guild_id)
    ctx.known_courses[interaction.guild_id] = courses
    if not manages_server(interaction) and not any(instructs(interaction, c) for c in courses):
        raise NotAllowed("not_admin_reply")
    return courses


async def admin_course(ctx: BotContext, interaction: nextcord.Interaction, name: str | None) -> CourseInfo:
    """The course an admin command here means, if the member instructs it (else NotAllowed or CourseError)."""
    known = await require_instructor(ctx, interaction)
    course = await ctx.db.run(
        ctx.services.courses.for_admin_channel, interaction.guild_id, interaction.channel_id, name, known
    )
    if not instructs(interaction, course):
        raise NotAllowed("not_admin_reply", course=course.name)
    return course


async def server_course(ctx: BotContext, interaction: nextcord.Interaction, name: str) -> CourseInfo:
    """A course of this server by name, if the member instructs it (edits run in any channel)."""
    await require_instructor(ctx, interaction)
    course = await ctx.db.run(ctx.services.courses.find, name, interaction.guild_id)
    if not instructs(interaction, course):
        raise NotAllowed("not_admin_reply", course=course.name)
    return course


def require_manager(interaction: nextcord.Interaction) -> int:
    """The server's id, if the member manages it (else NotAllowed)."""
    if interaction.guild_id is None:
        raise NotAllowed("not_in_a_server_reply")
    if not manages_server(interaction):
        raise NotAllowed("not_a_manager_reply")
    return interaction.guild_id


def _channel_problem(
    bot: nextcord.Client, guild_id: int, channel_id: int, label: str, *, embeds: bool
) -> CourseError | None:
    """Why the bot cannot use a channel for a course of this server: another server's, not visible,
    or a permission missing (named); None when it can."""
    channel = bot.get_channel(channel_id)
    guild = getattr(channel, "guild", None)
    if channel is None or guild is None or guild.id != guild_id:
        return CourseError("channel_elsewhere", label=label, channel_id=channel_id)
    me = guild.me
    if me is None:
        return CourseError("channel_not_visible", label=label, channel_id=channel_id)
    permissions = channel.permissions_for(me)  # type: ignore[union-attr]
    if not permissions.view_channel:
        return CourseError("channel_not_visible", label=label, channel_id=channel_id)
    wanted = _POST_PERMISSIONS if embeds else _POST_PERMISSIONS[:1]
    missing = [name for flag, name in wanted if not getattr(permissions, flag)]
    if missing:
        return CourseError("channel_permission_missing", label=label, channel_id=channel_id, missing=missing)
    return None


def check_course_channels(
    bot: nextcord.Client,
    guild_id: int,
    *,
    admin: int | None,
    attendance: int | None,
    display: int | None,
    role: nextcord.Role | None,
) -> None:
    """CourseError for the first channel (or role) the course cannot use."""
    checks = (
        ("admin channel", admin, False),
        ("attendance channel", attendance, False),
        ("display channel", display, True),
    )
    for label, channel_id, embeds in checks:
        if channel_id is None:
            continue
        problem = _channel_problem(bot, guild_id, channel_id, label, embeds=embeds)
        if problem:
            raise problem
    if role is not None and (role.guild is None or role.guild.id != guild_id):
        raise CourseError("role_elsewhere")


def refuse_unknown_role(interaction: nextcord.Interaction, role: nextcord.Role | None) -> None:
    """A role option that was given but that nextcord could not find in this server (another
    server's role) arrives as None: refuse it instead of treating it as not given."""
    if role is None and typed_options(interaction).get("instructor_role") is not None:
        raise CourseError("role_elsewhere")
