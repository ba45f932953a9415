"""The sessions feature's slash commands: `/open_attendance`, `/close_attendance` and `/export_csv` (instructors)."""

from __future__ import annotations

import io
import logging

import nextcord

from ... import messages
from ...errors import AttendanceError
from ...export import FORMATS
from ...records import MAX_LATE_AFTER
from ..checks import admin_course
from ..completers import course_option
from ..context import BotContext
from ..options import ADMIN_PERMISSIONS
from .base import FeatureCog

log = logging.getLogger(__name__)


class SessionsCog(FeatureCog):
    """A course's sessions: open one (the code starts rotating), close it, export the records."""

    def __init__(self, ctx: BotContext) -> None:
        super().__init__(ctx)
        self.attendance = ctx.services.attendance

    @nextcord.slash_command(
        name="open_attendance",
        description="Open an attendance session and show the rotating code",
        default_member_permissions=ADMIN_PERMISSIONS,
    )
    async def open_attendance(
        self,
        interaction: nextcord.Interaction,
        course: str | None = course_option(),
        late_after: int | None = nextcord.SlashOption(
            name="late_after",
            description="Minutes after opening from which a check-in is late, this session only (0: never)",
            required=False,
            min_value=0,
            max_value=MAX_LATE_AFTER,
            default=None,
        ),
    ) -> None:
        await interaction.response.defer(ephemeral=True)  # the database may be busy for seconds
        found = await admin_course(self.ctx, interaction, course)
        info = await self.ctx.db.run(
            self.attendance.open_session,
            found.id,
            opened_by=str(interaction.user.id if interaction.user else "unknown"),
            late_after=late_after,
        )
        self.ctx.rotator.poke()
        shown = info.code_in_channel
        reply = messages.opened_reply(info.session_id, info.channel_id, info.late_after, code_in_channel=shown)
        if self.ctx.services.settings.web_port:  # the session's projector link, for the instructor only
            try:
                link = await self.ctx.db.run(self.ctx.services.projector.link, found.id)
            except AttendanceError as exc:  # the session is open all the same; /projector gives the link later
                log.warning("No projector link for session %s: %s", info.session_id, exc)
            else:
                reply = messages.opened_with_projector(
                    info.session_id, info.channel_id, info.late_after, link.url, code_in_channel=shown
                )
        await interaction.followup.send(reply, ephemeral=True)

    @nextcord.slash_command(
        name="close_attendance",
        description="Close the open attendance session",
        default_member_permissions=ADMIN_PERMISSIONS,
    )
    async def close_attendance(self, interaction: nextcord.Interaction, course: str | None = course_option()) -> None:
        await interaction.response.defer()  # public, like the summary; a refusal is made private again
        self.ctx.public_deferrals.add(interaction.id)  # until answered: the error handler looks here
        found = await admin_course(self.ctx, interaction, course)
        closed = await self.ctx.db.run(self.attendance.close_session, course_id=found.id)
        self.ctx.rotator.poke()
        await interaction.followup.send(messages.closed_reply(closed.session.session_id, closed.count))
        self.ctx.public_deferrals.discard(interaction.id)

    @nextcord.slash_command(
        name="export_csv",
        description="Export attendance records as a CSV file",
        default_member_permissions=ADMIN_PERMISSIONS,
    )
    async def export_csv(
        self,
        interaction: nextcord.Interaction,
        session_id: str | None = nextcord.SlashOption(
            name="session_id",
            description="Only this session (default: every session of the course)",
            required=False,
            max_length=64,
            default=None,
        ),
        course: str | None = course_option(),
        fmt: str = nextcord.SlashOption(
            name="format",
            description="records: one row per check-in (default); full: with statuses and absences; "
            "gradebook: for the LMS",
            required=False,
            choices={fmt: fmt for fmt in FORMATS},
            default="records",
        ),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        wanted = session_id.strip() if session_id and session_id.strip() else None
        done = await self.ctx.export(wanted, found.id, fmt)
        reply = (
            messages.export_reply(done.count, wanted)
            if fmt == "records"
            else messages.export_format_reply(done.count, wanted, fmt)
        )
        await interaction.followup.send(
            reply, file=nextcord.File(io.BytesIO(done.data), filename=done.filename), ephemeral=True
        )
