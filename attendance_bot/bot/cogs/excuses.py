"""The excuses feature: a student's `/excuse`, posted in the course's admin channel with Approve and
Deny buttons that only the course's instructors may press."""

from __future__ import annotations

import logging
import re
from typing import Any

import nextcord

from ... import messages
from ...errors import NotAllowed
from ...records import ExcuseInfo
from ..checks import instructs
from ..completers import own_session_option
from ..error_handler import answer_error
from ..notices import NO_MENTIONS
from .base import FeatureCog

log = logging.getLogger(__name__)

# `excuse:approve:<request id>` and `excuse:deny:<request id>`: whichever process runs when a button
# comes back (a restart in between included) knows the request from the id alone.
_CUSTOM_ID = re.compile(r"excuse:(approve|deny):([0-9]{1,18})")
_ACTION_ROW, _BUTTON, _GREEN, _RED = 1, 2, 3, 4
MAX_REASON_OPTION = 200


def excuse_buttons(request_id: int) -> list[dict[str, Any]]:
    """Approve and Deny under a request (raw components, as the message is sent through nextcord's HTTP route)."""
    return [
        {
            "type": _ACTION_ROW,
            "components": [
                {
                    "type": _BUTTON,
                    "style": _GREEN,
                    "label": messages.excuse_approve_label(),
                    "custom_id": f"excuse:approve:{request_id}",
                },
                {
                    "type": _BUTTON,
                    "style": _RED,
                    "label": messages.excuse_deny_label(),
                    "custom_id": f"excuse:deny:{request_id}",
                },
            ],
        }
    ]


def _actor(interaction: nextcord.Interaction) -> str:
    """Who decided, as the history shows it: the Discord name and id."""
    user = interaction.user
    return f"{user.name} ({user.id})" if user is not None else "unknown"


class ExcusesCog(FeatureCog):
    """`/excuse` for students, and the Approve and Deny buttons for instructors."""

    @nextcord.slash_command(name="excuse", description="Ask to be excused from one of your sessions")
    async def excuse(
        self,
        interaction: nextcord.Interaction,
        session: str = own_session_option(),
        reason: str = nextcord.SlashOption(
            name="reason",
            description="Why, for your instructors (text only, no documents)",
            required=True,
            min_length=1,
            max_length=MAX_REASON_OPTION,
        ),
    ) -> None:
        user = interaction.user
        if interaction.guild_id is None or user is None:
            raise NotAllowed("not_in_a_server_reply")
        await interaction.response.defer(ephemeral=True)
        services = self.ctx.services
        info = await self.ctx.db.run(
            services.excuses.request,
            guild_id=interaction.guild_id,
            user_id=user.id,
            username=user.name,
            session_id=session,
            reason=reason,
        )
        posted = await self._post(info)
        notes = await self.ctx.db.run(services.warnings.take_notices, interaction.guild_id, user.id)
        reply = messages.excuse_requested_reply(info, services.settings.timezone, posted)
        await interaction.followup.send(
            messages.with_notes(reply, [messages.error_text(note) for note in notes]), ephemeral=True
        )

    async def _post(self, info: ExcuseInfo) -> bool:
        """The request in its course's admin channel, with its buttons; False if it could not be posted."""
        if info.admin_channel_id is None:
            return False
        text = messages.excuse_request_text(info, self.ctx.services.settings.timezone)
        try:
            sent = await self.ctx.bot.http.send_message(
                info.admin_channel_id, text, components=excuse_buttons(info.id), allowed_mentions=NO_MENTIONS
            )
            await self.ctx.db.run(
                self.ctx.services.excuses.record_message, info.id, info.admin_channel_id, int(sent["id"])
            )
        except nextcord.HTTPException as exc:
            log.error("Could not post excuse request %d in channel %s: %s", info.id, info.admin_channel_id, exc)
            return False
        return True

    async def answer_button(self, interaction: nextcord.Interaction) -> bool:
        """Approve or Deny pressed under a request (app.py routes components here): decided only by
        an instructor of the request's course, whatever the interaction claims; False when the
        interaction is not one of these buttons."""
        if interaction.type is not nextcord.InteractionType.component:
            return False
        found = _CUSTOM_ID.fullmatch(str((interaction.data or {}).get("custom_id") or ""))
        if found is None:
            return False
        approve, request_id = found.group(1) == "approve", int(found.group(2))
        with self.ctx.in_flight:
            try:
                await self._decide(interaction, request_id, approve)
            except Exception as exc:  # as a command's: a sentence for the member, a bug logged
                await answer_error(self.ctx, interaction, exc)
        return True

    async def _decide(self, interaction: nextcord.Interaction, request_id: int, approve: bool) -> None:
        services, db = self.ctx.services, self.ctx.db
        request = await db.run(services.excuses.get, request_id, interaction.guild_id)
        course = await db.run(services.courses.get, request.course_id)
        if not instructs(interaction, course):
            raise NotAllowed("not_admin_reply", course=course.name)
        decided = await db.run(
            services.excuses.decide, request_id, approve, guild_id=interaction.guild_id, actor=_actor(interaction)
        )
        text = messages.excuse_decided_text(decided, services.settings.timezone)
        await interaction.response.edit_message(content=text, view=None)
        await interaction.followup.send(messages.excuse_decided_reply(decided), ephemeral=True)
        self.ctx.notices.send_later(decided.notice_ids)
