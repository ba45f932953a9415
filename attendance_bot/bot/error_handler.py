"""The one error handler of every cog: a command's failure to the reply the user sees, through messages."""

from __future__ import annotations

import asyncio
import logging

import nextcord

from .. import messages
from ..errors import AttendanceError, StorageError
from .batcher import NotRecorded, Unconfirmed
from .context import BotContext

log = logging.getLogger(__name__)

STORAGE_WARNING_COOLDOWN = 300.0


async def reply_for(ctx: BotContext, error: BaseException, command: str, interaction: nextcord.Interaction) -> str:
    """The one error-to-reply mapping, for /here and the error handler alike: the same failure
    always gets the same sentence.

    A database failure warns the admin channel and tells a student to try again (an instructor
    gets the error's own sentence: what could not be done, and that nothing changed); a check-in
    caught by a shutdown says so; other domain errors are their own sentence; anything else is
    a bug, logged with its traceback and answered with a short generic sentence.
    """
    if isinstance(error, StorageError):
        if command == "here":
            await _warn_storage_failure(ctx, interaction)
        return messages.storage_failure_reply() if command == "here" else messages.error_text(error)
    if isinstance(error, NotRecorded):
        return messages.shutting_down_reply()
    if isinstance(error, Unconfirmed):
        return messages.shutdown_unconfirmed_reply()
    if isinstance(error, AttendanceError):
        return messages.error_text(error)
    log.error("Command %s failed", command, exc_info=error)
    return messages.generic_failure_reply()


async def answer_error(ctx: BotContext, interaction: nextcord.Interaction, error: Exception) -> None:
    """Answer a command's error with reply_for's sentence, privately (nextcord wraps the error in
    ApplicationInvokeError: its original is the one mapped)."""
    with ctx.in_flight:
        original = getattr(error, "original", error)
        reply = await reply_for(ctx, original, getattr(interaction.application_command, "name", "?"), interaction)
        try:
            if interaction.id in ctx.public_deferrals:
                # The first follow-up would fill the public "thinking…" message: remove it, answer privately.
                ctx.public_deferrals.discard(interaction.id)
                await interaction.delete_original_message()
            if interaction.response.is_done():
                await interaction.followup.send(reply, ephemeral=True)
            else:
                await interaction.response.send_message(reply, ephemeral=True)
        except nextcord.HTTPException:
            log.exception("Could not send the error reply")


async def _warn_storage_failure(ctx: BotContext, interaction: nextcord.Interaction) -> None:
    """Tell the admin channels of the courses taking attendance where a check-in failed, once per
    few minutes per server, that submissions are failing (when the database cannot be read at all,
    as while a PostgreSQL server is down, the courses as last read say where)."""
    guild_id, channel_id = interaction.guild_id, interaction.channel_id
    loop = asyncio.get_running_loop()
    last = ctx.last_storage_warning.get(guild_id, -STORAGE_WARNING_COOLDOWN)
    if loop.time() - last < STORAGE_WARNING_COOLDOWN:
        return
    ctx.last_storage_warning[guild_id] = loop.time()
    if not guild_id:
        return
    try:
        courses = await ctx.db.run(ctx.services.courses.courses, guild_id)
    except Exception as exc:  # the database cannot even be read: the courses as last read, if any
        courses = ctx.known_courses.get(guild_id, [])
        if not courses:
            log.error("Could not find the admin channels to warn about the database failure: %s", exc)
            return
    else:
        ctx.known_courses[guild_id] = courses
    # Where its students check in: the attendance channel (/here), or the display channel (the button).
    admin_channels = {
        c.admin_channel_id
        for c in courses
        if channel_id in (c.attendance_channel_id, c.display_channel_id) and not c.archived
    }
    for admin_channel in sorted(c for c in admin_channels if c is not None):
        try:
            await ctx.bot.get_partial_messageable(admin_channel).send(messages.storage_warning())
        except nextcord.HTTPException:
            log.exception("Could not warn the admin channel about the database failure")
