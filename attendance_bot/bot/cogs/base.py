"""The base of every feature's cog: the shared context, and errors to the one error handler."""

from __future__ import annotations

import nextcord
from nextcord.ext import commands

from ..context import BotContext
from ..error_handler import answer_error


class FeatureCog(commands.Cog):
    """A cog over the bot's one BotContext; its commands' errors go to error_handler.answer_error."""

    def __init__(self, ctx: BotContext) -> None:
        self.ctx = ctx

    async def cog_application_command_error(self, interaction: nextcord.Interaction, error: Exception) -> None:
        """nextcord 3.x calls this itself; on 2.6 the bot's on_application_command_error routes here too."""
        await answer_error(self.ctx, interaction, error)
