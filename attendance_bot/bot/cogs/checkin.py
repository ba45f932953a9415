"""The check-in feature: `/here` and the code message's Check in button, the hot path (a class checks
in within a minute). Both go through one path, check_in(), to the batcher."""

from __future__ import annotations

import asyncio

import nextcord

from ... import messages
from ...errors import AttendanceError
from ...records import Submission
from ..batcher import NotRecorded, Unconfirmed
from ..checkin_form import CheckInForm, session_of, typed_code
from ..error_handler import answer_error, reply_for
from .base import FeatureCog

# Answer /here within Discord's 3 s even when the database is slow: defer after this long.
DEFER_AFTER_SECONDS = 2.0


class CheckInCog(FeatureCog):
    """`/here` and the Check in button: a student's code goes to the batcher, which records a class's
    check-ins together."""

    @nextcord.slash_command(name="here", description="Check in with the code on screen")
    async def here(
        self,
        interaction: nextcord.Interaction,
        code: str = nextcord.SlashOption(
            name="code", description="The code shown on screen, e.g. A7K3", required=True, min_length=1, max_length=32
        ),
    ) -> None:
        await self.check_in(interaction, code)

    async def answer_button(self, interaction: nextcord.Interaction) -> bool:
        """The Check in button (a component interaction) and its form (a modal submission), found by
        their custom id whichever process posted the message: a button pressed, or a form sent, after
        a restart works the same. False when the interaction is not theirs (app.py routes them here)."""
        data = interaction.data or {}
        session_id = session_of(data.get("custom_id"))  # type: ignore[arg-type]
        if session_id is None:
            return False
        with self.ctx.in_flight:
            try:
                if interaction.type is nextcord.InteractionType.component:
                    await self._open_form(interaction, session_id)
                else:
                    await self.check_in(interaction, typed_code(data), session_id)  # type: ignore[arg-type]
            except Exception as exc:  # as a command's: a sentence for the student, a bug logged
                await answer_error(self.ctx, interaction, exc)
        return True

    async def _open_form(self, interaction: nextcord.Interaction, session_id: str) -> None:
        """The form, as the first answer (Discord takes a form only as the first; nothing is read first)."""
        form = CheckInForm(session_id)
        await interaction.response.send_modal(form)
        # nextcord keeps a sent form to call it back; the submission is answer_button's instead (the
        # same in a restarted process), so it is not kept.
        form.stop()

    async def check_in(self, interaction: nextcord.Interaction, code: str, session_id: str | None = None) -> None:
        """The one check-in path: the code to the batcher (for `session_id` alone when it came with a code
        message's button, else for the channel's sessions), the reply private, deferred only if slow."""
        user = interaction.user
        assert user is not None
        metrics = self.ctx.metrics
        if interaction.guild_id is None:
            await interaction.response.send_message(messages.not_in_a_server_reply(), ephemeral=True)
            metrics.refused()
            return
        loop = asyncio.get_running_loop()
        taken = loop.time()
        pending = self.ctx.batcher.enqueue(
            Submission(
                user.id,
                user.name,
                code,
                getattr(user, "display_name", None),
                channel_id=interaction.channel_id,
                guild_id=interaction.guild_id,
                session_id=session_id,
            )
        )
        deferring: asyncio.Task[None] | None = None

        def defer_if_slow() -> None:  # a timer, not a task per call: /here is the hot path
            nonlocal deferring
            if not pending.done():
                # with_message: a form's submission would otherwise be deferred as an update of the message
                deferring = loop.create_task(interaction.response.defer(ephemeral=True, with_message=True))

        timer = loop.call_later(DEFER_AFTER_SECONDS, defer_if_slow)
        try:
            result = await pending
            reply = messages.submit_reply(result)
            metrics.checked_in(result)
            if result.notices:  # the notes that waited for the student, shown once
                reply = messages.with_notes(reply, [messages.error_text(note) for note in result.notices])
        except (AttendanceError, NotRecorded, Unconfirmed) as exc:  # answered here: the reply may be deferred
            reply = await reply_for(self.ctx, exc, "here", interaction)
            metrics.refused()
        finally:
            timer.cancel()
        if deferring is not None:
            await deferring
            await interaction.followup.send(reply, ephemeral=True)
        else:
            await interaction.response.send_message(reply, ephemeral=True)
        metrics.reply_seconds.observe(loop.time() - taken)
