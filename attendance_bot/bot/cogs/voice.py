"""The voice presence feature's gateway listeners: who is in which voice or stage channel (check-in rule, voice log)."""

from __future__ import annotations

import nextcord
from nextcord.ext import commands

from .base import FeatureCog


class VoiceCog(FeatureCog):
    """Feeds the services' voice presence from the gateway (the voice-states intent) and tells the voice
    log: a join, leave or move as it comes; a server's whole voice states when it becomes available
    (at every connect, so a restart rebuilds who is in voice) or when the bot joins it."""

    @commands.Cog.listener()
    async def on_voice_state_update(
        self, member: nextcord.Member, before: nextcord.VoiceState, after: nextcord.VoiceState
    ) -> None:
        was = before.channel.id if before.channel is not None else None
        now = after.channel.id if after.channel is not None else None
        if was == now:  # muted, deafened, streaming: still in the same channel
            return
        services = self.ctx.services
        services.presence.seen(member.guild.id, member.id, now, services.clock())
        self.ctx.voice_log.changed()

    @commands.Cog.listener()
    async def on_guild_available(self, guild: nextcord.Guild) -> None:
        self._rebuild(guild)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: nextcord.Guild) -> None:
        self._rebuild(guild)

    def _rebuild(self, guild: nextcord.Guild) -> None:
        channels: list[nextcord.VoiceChannel | nextcord.StageChannel] = [*guild.voice_channels, *guild.stage_channels]
        states = [(user_id, channel.id) for channel in channels for user_id in channel.voice_states]
        services = self.ctx.services
        services.presence.rebuild(guild.id, states, services.clock())
        self.ctx.voice_log.changed()
