"""The warnings feature's student command: `/notify on|off` (warnings and excuse outcomes by direct message)."""

from __future__ import annotations

import nextcord

from ... import messages
from ...errors import AttendanceError, NotAllowed
from .base import FeatureCog

_ON, _OFF = "on", "off"


class WarningsCog(FeatureCog):
    """`/notify`: a student's direct messages on or off (a warning digest and the excuses leave the notes)."""

    @nextcord.slash_command(name="notify", description="Warnings and excuse outcomes by direct message, or not")
    async def notify(
        self,
        interaction: nextcord.Interaction,
        dms: str = nextcord.SlashOption(
            name="dms",
            description="on: by direct message (at most one a day); off: in the reply to your next command",
            required=True,
            choices={_ON: _ON, _OFF: _OFF},
        ),
    ) -> None:
        user = interaction.user
        if interaction.guild_id is None or user is None:
            raise NotAllowed("not_in_a_server_reply")
        typed = str(dms).strip().casefold()
        if typed not in (_ON, _OFF):  # Discord offers only the two; a forged value changes nothing
            raise AttendanceError("notify_choice_invalid", typed=str(dms))
        await interaction.response.defer(ephemeral=True)
        on = typed == _ON
        warnings = self.ctx.services.warnings
        await self.ctx.db.run(warnings.set_direct_messages, user.id, on)
        notes = await self.ctx.db.run(warnings.take_notices, interaction.guild_id, user.id)
        await interaction.followup.send(
            messages.with_notes(messages.notify_reply(on), [messages.error_text(note) for note in notes]),
            ephemeral=True,
        )
