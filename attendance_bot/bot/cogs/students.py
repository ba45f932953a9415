"""The students feature's slash commands: `/register` (link an account to a student id) and `/my_attendance`."""

from __future__ import annotations

import asyncio
import logging

import nextcord

from ... import messages
from ...errors import NotAllowed
from ...students import MAX_NAME, MAX_STUDENT_ID, ClaimConflict, StudentIdTaken
from ..completers import course_option
from ..context import BotContext
from ..replies import send_lines
from .base import FeatureCog

log = logging.getLogger(__name__)

CONFLICT_COOLDOWN = 600.0  # seconds between two notices of the same claimant typing the same held id


class StudentsCog(FeatureCog):
    """A student's own commands: register a student id, read one's attendance."""

    def __init__(self, ctx: BotContext) -> None:
        super().__init__(ctx)
        self.students = ctx.services.students
        self._told_conflicts: dict[tuple[int, str, int], float] = {}  # (server, id, claimant) -> loop time

    @nextcord.slash_command(name="register", description="Link your Discord account to your student id")
    async def register(
        self,
        interaction: nextcord.Interaction,
        student_id: str = nextcord.SlashOption(
            name="student_id",
            description="Your student id, as your school writes it (letters, digits, - _ .)",
            required=True,
            min_length=1,
            max_length=MAX_STUDENT_ID,
        ),
        name: str | None = nextcord.SlashOption(
            name="name", description="Your name as on the class list", required=False, max_length=MAX_NAME, default=None
        ),
    ) -> None:
        if interaction.guild_id is None or interaction.user is None:
            raise NotAllowed("not_in_a_server_reply")
        await interaction.response.defer(ephemeral=True)
        try:
            done = await self.ctx.db.run(
                self.students.register,
                guild_id=interaction.guild_id,
                user_id=interaction.user.id,
                student_id=student_id,
                name=name,
                username=interaction.user.name,
            )
        except StudentIdTaken as exc:
            await self._tell_conflict(exc.conflict)
            raise
        if done.confirmed:
            reply = messages.registered_reply(done.student_id, done.name, done.updated)
        else:
            reply = messages.claim_pending_reply(done.student_id, done.name)
        await interaction.followup.send(reply, ephemeral=True)

    async def _tell_conflict(self, conflict: ClaimConflict) -> None:
        """Tell the admin channels of the courses concerned that a second account typed a held id
        (once per claimant and id per CONFLICT_COOLDOWN: typing it again floods no one)."""
        loop = asyncio.get_running_loop()
        key = (conflict.guild_id, conflict.student_id.casefold(), conflict.claimant_id)
        if loop.time() - self._told_conflicts.get(key, -CONFLICT_COOLDOWN) < CONFLICT_COOLDOWN:
            return
        if len(self._told_conflicts) > 1000:  # forget the ones past their cooldown
            now = loop.time()
            self._told_conflicts = {k: t for k, t in self._told_conflicts.items() if now - t < CONFLICT_COOLDOWN}
        self._told_conflicts[key] = loop.time()
        text = messages.claim_conflict_notice(
            conflict.student_id,
            conflict.holder_id,
            conflict.holder_confirmed,
            conflict.claimant_id,
            list(conflict.course_names),
        )
        for channel_id in conflict.admin_channel_ids:
            try:
                await self.ctx.bot.get_partial_messageable(channel_id).send(
                    text, allowed_mentions=nextcord.AllowedMentions.none()
                )
            except nextcord.HTTPException:
                log.exception("Could not tell admin channel %s of a claim conflict", channel_id)

    @nextcord.slash_command(name="my_attendance", description="Your attendance in this server's courses")
    async def my_attendance(
        self,
        interaction: nextcord.Interaction,
        course: str | None = course_option("Only this course"),
    ) -> None:
        if interaction.guild_id is None or interaction.user is None:
            raise NotAllowed("not_in_a_server_reply")
        await interaction.response.defer(ephemeral=True)
        course_id = None
        if course and course.strip():
            found = await self.ctx.db.run(self.ctx.services.courses.find, course, interaction.guild_id)
            course_id = found.id
        mine = await self.ctx.db.run(
            self.ctx.services.gradebook.student_attendance,
            interaction.guild_id,
            interaction.user.id,
            username=interaction.user.name,
            course_id=course_id,
        )
        registration = await self.ctx.db.run(self.students.registration, interaction.guild_id, interaction.user.id)
        pending = registration.student_id if registration is not None and not registration.confirmed else None
        tz = self.ctx.services.settings.timezone
        warnings = self.ctx.services.warnings
        # Below a course's warning line, and the notes that waited for the student (shown once).
        notes = await self.ctx.db.run(warnings.standing, mine)
        waiting = await self.ctx.db.run(warnings.take_notices, interaction.guild_id, interaction.user.id)
        notes += [note for note in waiting if note not in notes]  # a warning said once, not twice
        lines = [*messages.my_attendance_lines(mine, tz, pending), *(messages.error_text(note) for note in notes)]
        await send_lines(interaction, lines, "my_attendance.txt")
