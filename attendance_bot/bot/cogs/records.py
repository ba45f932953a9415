"""The records feature's slash commands: `/attendance mark|remove|history|report|claims|link` (instructors)."""

from __future__ import annotations

import io
from typing import Any

import nextcord

from ... import messages
from ...errors import AttendanceError
from ...records import Status
from ...report import Report, attachments
from ..checks import admin_course
from ..completers import complete_linkable_student, course_option, session_option, student_option
from ..context import BotContext
from ..options import ADMIN_PERMISSIONS
from ..replies import send_lines
from .base import FeatureCog

MAX_REASON = 200


def reason_option() -> Any:
    """The optional `reason` of a correction, kept in the history."""
    return nextcord.SlashOption(
        name="reason", description="Why (kept in the history)", required=False, max_length=MAX_REASON, default=None
    )


class RecordsCog(FeatureCog):
    """`/attendance`: correct a course's record, read a student's history, report, and confirm claims."""

    def __init__(self, ctx: BotContext) -> None:
        super().__init__(ctx)
        self.corrections = ctx.services.corrections
        self.students = ctx.services.students

    @nextcord.slash_command(
        name="attendance",
        description="Correct, review and report a course's attendance",
        default_member_permissions=ADMIN_PERMISSIONS,
    )
    async def attendance(self, interaction: nextcord.Interaction) -> None:
        """The parent of the /attendance sub-commands (never run itself)."""

    @attendance.subcommand(name="mark", description="Set a student's status in a session")
    async def attendance_mark(
        self,
        interaction: nextcord.Interaction,
        student: str = student_option("Student id, name, Discord name, id or mention"),
        status: str = nextcord.SlashOption(
            name="status",
            description="The status to set",
            required=True,
            choices={status.value: status.value for status in Status},
        ),
        session: str | None = session_option(False),
        reason: str | None = reason_option(),
        course: str | None = course_option(),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        done = await self.ctx.db.run(
            self.corrections.mark, found.id, student, status, session, reason, actor=_actor(interaction)
        )
        await interaction.followup.send(messages.marked_reply(done), ephemeral=True)

    @attendance.subcommand(name="remove", description="Delete a student's record in a session")
    async def attendance_remove(
        self,
        interaction: nextcord.Interaction,
        student: str = student_option("Student id, name, Discord name, id or mention"),
        session: str = session_option(True),
        reason: str | None = reason_option(),
        course: str | None = course_option(),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        done = await self.ctx.db.run(
            self.corrections.remove, found.id, student, session, reason, actor=_actor(interaction)
        )
        await interaction.followup.send(messages.removed_reply(done), ephemeral=True)

    @attendance.subcommand(name="history", description="Every change to a student's record")
    async def attendance_history(
        self,
        interaction: nextcord.Interaction,
        student: str = student_option("Student id, name, Discord name, id or mention"),
        course: str | None = course_option(),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        who = await self.ctx.db.run(self.corrections.resolve_student, found.id, interaction.guild_id, student)
        events = await self.ctx.db.run(self.corrections.history, interaction.guild_id, who, found.id)
        tz = self.ctx.services.settings.timezone
        if not events:
            await interaction.followup.send(messages.history_empty(messages.student_who(who)), ephemeral=True)
            return
        await send_lines(interaction, [messages.history_line(event, tz) for event in events], "history.txt")

    @attendance.subcommand(name="report", description="Per-student totals (CSV) and a heat map (PNG)")
    async def attendance_report(self, interaction: nextcord.Interaction, course: str | None = course_option()) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)

        async def queued(ahead: int) -> None:
            await interaction.followup.send(messages.report_queued_reply(found.name, ahead), ephemeral=True)

        await _send_report(interaction, await self.ctx.reports.make(found.id, queued))

    @attendance.subcommand(name="claims", description="Student ids claimed with /register that wait for you")
    async def attendance_claims(self, interaction: nextcord.Interaction, course: str | None = course_option()) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        claims = await self.ctx.db.run(self.students.claims, found)
        rows = [(c.student_id, c.user_id, c.name, c.roster_name) for c in claims]
        await send_lines(interaction, messages.claims_lines(found.name, rows), "claims.txt")

    @attendance.subcommand(name="link", description="Confirm a Discord account as a student id of the course")
    async def attendance_link(
        self,
        interaction: nextcord.Interaction,
        student: str = student_option("The student id (on the course's roster, or claimed)", complete_linkable_student),
        account: nextcord.User = nextcord.SlashOption(
            name="account", description="The student's Discord account", required=True
        ),
        course: str | None = course_option(),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await admin_course(self.ctx, interaction, course)
        if not isinstance(account, nextcord.User | nextcord.Member):  # an id Discord sent no user for (forged)
            raise AttendanceError("link_unknown_account")
        typed = student.removeprefix("student:")
        done = await self.ctx.db.run(self.students.link, found, typed, account.id, actor=_actor(interaction))
        await interaction.followup.send(
            messages.linked_reply(done.course_name, done.student_id, done.user_id, list(done.replaced)), ephemeral=True
        )


async def _send_report(interaction: nextcord.Interaction, report: Report) -> None:
    """The report's files as one private follow-up: the CSV and the heat map's pages that fit, with
    a reply that says which pages are left to `manage.py report`."""
    files = attachments(report)
    reply = messages.report_reply(
        report.course_name,
        report.students,
        report.sessions,
        pages=report.pages,
        per_page=report.per_page,
        attached=len(files) - 1,
        policy=report.policy,
    )
    await interaction.followup.send(
        reply, files=[nextcord.File(io.BytesIO(data), filename=name) for name, data in files], ephemeral=True
    )


def _actor(interaction: nextcord.Interaction) -> str:
    """Who made a change, as the history shows it: the Discord name and id."""
    user = interaction.user
    return f"{user.name} ({user.id})" if user is not None else "unknown"
