"""The check-in feature's slash command: `/here`, the hot path (a class checks in within a minute)."""

from __future__ import annotations

import asyncio

import nextcord

from ... import messages
from ...errors import AttendanceError
from ...records import Submission
from ..batcher import NotRecorded, Unconfirmed
from ..error_handler import reply_for
from .base import FeatureCog

# Answer /here within Discord's 3 s even when the database is slow: defer after this long.
DEFER_AFTER_SECONDS = 2.0


class CheckInCog(FeatureCog):
    """`/here`: a student's code goes to the batcher, which records a class's check-ins together."""

    @nextcord.slash_command(name="here", description="Check in with the code on screen")
    async def here(
        self,
        interaction: nextcord.Interaction,
        code: str = nextcord.SlashOption(
            name="code", description="The code shown on screen, e.g. A7K3", required=True, min_length=1, max_length=32
        ),
    ) -> None:
        user = interaction.user
        assert user is not None
        if interaction.guild_id is None:
            await interaction.response.send_message(messages.not_in_a_server_reply(), ephemeral=True)
            return
        loop = asyncio.get_running_loop()
        pending = self.ctx.batcher.enqueue(
            Submission(
                user.id,
                user.name,
                code,
                getattr(user, "display_name", None),
                channel_id=interaction.channel_id,
                guild_id=interaction.guild_id,
            )
        )
        deferring: asyncio.Task[None] | None = None

        def defer_if_slow() -> None:  # a timer, not a task per call: /here is the hot path
            nonlocal deferring
            if not pending.done():
                deferring = loop.create_task(interaction.response.defer(ephemeral=True))

        timer = loop.call_later(DEFER_AFTER_SECONDS, defer_if_slow)
        try:
            reply = messages.submit_reply(await pending)
        except (AttendanceError, NotRecorded, Unconfirmed) as exc:  # answered here: the reply may be deferred
            reply = await reply_for(self.ctx, exc, "here", interaction)
        finally:
            timer.cancel()
        if deferring is not None:
            await deferring
            await interaction.followup.send(reply, ephemeral=True)
        else:
            await interaction.response.send_message(reply, ephemeral=True)
