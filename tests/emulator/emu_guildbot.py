"""A bare nextcord bot with global commands, sub-commands, channel/role options and autocomplete, for the guild tests."""

from __future__ import annotations

import logging

import nextcord
from nextcord.abc import GuildChannel

log = logging.getLogger(__name__)

GLOBAL_COMMANDS = ("ping", "course", "say")
COURSES = ("math", "maths-lab", "music", "physics")

# options whose annotation is a mutable class are module-level, so ruff's B008 has no call in a default
_TEXT_CHANNEL = nextcord.SlashOption(description="where codes go", channel_types=[nextcord.ChannelType.text])
_ROLE = nextcord.SlashOption(description="who runs it")
_TARGET = nextcord.SlashOption(description="where", channel_types=[nextcord.ChannelType.text])


def describe(obj: object) -> str:
    """``Type:id:guild id`` of what nextcord handed the command (``None`` when it resolved nothing)."""
    if obj is None:
        return "None"
    guild = getattr(obj, "guild", None)
    return f"{type(obj).__name__}:{getattr(obj, 'id', '?')}:{guild.id if guild else '-'}"


def make_guild_bot(home_guild_id: int) -> nextcord.Client:
    """Global ``/ping``, ``/course create|edit`` and ``/say``; ``/secret`` only in ``home_guild_id``."""
    intents = nextcord.Intents.none()
    intents.guilds = True
    client = nextcord.Client(intents=intents, guild_ready_timeout=0.2)  # on_ready soon after the last GUILD_CREATE

    @client.slash_command(name="ping", description="Which guild am I in")
    async def ping(interaction: nextcord.Interaction) -> None:
        perms = interaction.app_permissions
        await interaction.response.send_message(f"pong {interaction.guild_id} send={perms.send_messages}")

    @client.slash_command(name="secret", description="Home guild only", guild_ids=[home_guild_id])
    async def secret(interaction: nextcord.Interaction) -> None:
        await interaction.response.send_message("secret")

    @client.slash_command(name="course", description="Courses")
    async def course(interaction: nextcord.Interaction) -> None:
        """Parent of the sub-commands; never called itself."""

    @course.subcommand(name="create", description="Create a course")
    async def course_create(
        interaction: nextcord.Interaction,
        name: str = nextcord.SlashOption(description="course name"),
        attendance_channel: GuildChannel = _TEXT_CHANNEL,
        instructor_role: nextcord.Role = _ROLE,
    ) -> None:
        await interaction.response.send_message(
            f"{name}|{describe(attendance_channel)}|{describe(instructor_role)}", ephemeral=True
        )

    @course.subcommand(name="edit", description="Edit a course")
    async def course_edit(
        interaction: nextcord.Interaction,
        course: str = nextcord.SlashOption(description="which course", autocomplete=True),
        name: str = nextcord.SlashOption(description="new name", required=False),
    ) -> None:
        await interaction.response.send_message(f"edited {course} -> {name}", ephemeral=True)

    @course_edit.on_autocomplete("course")
    async def course_choices(interaction: nextcord.Interaction, course: str, name: str | None) -> None:
        typed = course or ""
        if typed == "too-many":
            await interaction.response.send_autocomplete([f"course {i}" for i in range(30)])
        elif typed == "reply":
            await interaction.response.send_message("not a list of choices")
        elif typed == "renamed":
            await interaction.response.send_autocomplete({f"{name} (renamed)": name})
        else:
            await interaction.response.send_autocomplete([c for c in COURSES if c.startswith(typed)])

    @course.subcommand(name="admin", description="Course administration")
    async def course_admin(interaction: nextcord.Interaction) -> None:
        """A sub-command group; never called itself."""

    @course_admin.subcommand(name="archive", description="Archive a course")
    async def course_archive(
        interaction: nextcord.Interaction,
        course: str = nextcord.SlashOption(description="which course"),
        keep: int = nextcord.SlashOption(description="days to keep", required=False, default=30),
    ) -> None:
        await interaction.response.send_message(f"archived {course} for {keep} days", ephemeral=True)

    @client.slash_command(name="say", description="Post in a channel")
    async def say(
        interaction: nextcord.Interaction,
        channel: GuildChannel = _TARGET,
        text: str = nextcord.SlashOption(description="what"),
        embed: bool = nextcord.SlashOption(description="as an embed", required=False, default=False),
    ) -> None:
        assert isinstance(channel, nextcord.TextChannel)
        cached = channel.permissions_for(channel.guild.me)
        try:
            if embed:
                await channel.send(embed=nextcord.Embed(title=text))
            else:
                await channel.send(text)
            outcome = "sent"
        except nextcord.Forbidden as exc:
            outcome = f"forbidden {exc.code}"
        await interaction.response.send_message(
            f"{outcome} cached_send={cached.send_messages} cached_view={cached.view_channel}", ephemeral=True
        )

    return client
