"""The projector feature's slash command: `/projector`, the open session's page link again or a new one."""

from __future__ import annotations

import nextcord

from ... import messages
from ..checks import admin_course
from ..completers import course_option
from ..context import BotContext
from ..options import ADMIN_PERMISSIONS
from .base import FeatureCog


class ProjectorCog(FeatureCog):
    """The projector page's link: given privately to the course's instructors, replaced on request."""

    def __init__(self, ctx: BotContext) -> None:
        super().__init__(ctx)
        self.projector = ctx.services.projector

    @nextcord.slash_command(
        name="projector",
        description="The link to the open session's projector page (the code, large, for the room's screen)",
        default_member_permissions=ADMIN_PERMISSIONS,
    )
    async def projector(
        self,
        interaction: nextcord.Interaction,
        course: str | None = course_option(),
        new_link: bool = nextcord.SlashOption(
            name="new_link",
            description="Replace the link (the old one stops working at once), e.g. if it was shared",
            required=False,
            default=False,
        ),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        link = await self.ctx.db.run(self.projector.link, found.id, new=bool(new_link))
        await interaction.followup.send(
            messages.projector_reply(link.session_id, link.course_name, link.url, link.new), ephemeral=True
        )
