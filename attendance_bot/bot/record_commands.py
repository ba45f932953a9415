"""The gradebook record's slash commands: `/attendance mark|remove|history|report|claims|link`
(instructors) and `/my_attendance` (students), as a part of the one cog (its checks and its error mapping)."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

import nextcord

from .. import messages
from ..corrections import CorrectionService
from ..errors import AttendanceError, NotAllowed
from ..gradebook import GradebookService
from ..records import STATUSES, Choice, CourseInfo
from ..report import Report, attachments
from ..students import StudentService
from .options import ADMIN_PERMISSIONS, MAX_AUTOCOMPLETE, course_option, typed_options
from .reports import ReportWorker

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)

MAX_REASON = 200
MAX_STUDENT_OPTION = 100
MAX_REPLY = 1900  # under Discord's 2,000 characters: longer answers come as a text file too


def _student_option(description: str) -> Any:
    return nextcord.SlashOption(
        name="student", description=description, required=True, min_length=1, max_length=MAX_STUDENT_OPTION
    )


def _session_option(required: bool) -> Any:
    description = "The session (default: the open one, else the latest)" if not required else "The session"
    return nextcord.SlashOption(name="session", description=description, required=required, max_length=64, default=None)


def _reason_option() -> Any:
    return nextcord.SlashOption(
        name="reason", description="Why (kept in the history)", required=False, max_length=MAX_REASON, default=None
    )


def _choices(found: list[Choice]) -> dict[str, str]:
    return {choice.label: choice.value for choice in found[:MAX_AUTOCOMPLETE]}


async def _send_lines(interaction: nextcord.Interaction, lines: list[str], filename: str) -> None:
    """A private follow-up: all the lines when they fit, else their first ones and the whole as a text file."""
    text = "\n".join(lines)
    if len(text) <= MAX_REPLY:
        await interaction.followup.send(text, ephemeral=True)
        return
    shown: list[str] = []
    for line in lines:
        if len("\n".join([*shown, line])) > MAX_REPLY - 80:
            break
        shown.append(line)
    note = messages.history_truncated(len(lines) - len(shown), filename)
    file = nextcord.File(io.BytesIO(text.encode("utf-8")), filename=filename)
    await interaction.followup.send("\n".join([*shown, note]), file=file, ephemeral=True)


class RecordCommands:
    """The record's commands; AttendanceCog inherits them (nextcord reads commands over the MRO)."""

    # Set by AttendanceCog.__init__ (its checks, its database worker).
    corrections: CorrectionService
    gradebooks: GradebookService
    reports: ReportWorker
    students: StudentService

    def _record_services(self, settings: Settings, clock: Any) -> None:
        self.corrections = CorrectionService(settings, clock)
        self.gradebooks = GradebookService(settings)
        self.reports = ReportWorker(settings)  # the bot's stop ends its process

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
        student: str = _student_option("Student id, name, Discord name, id or mention"),
        status: str = nextcord.SlashOption(
            name="status",
            description="The status to set",
            required=True,
            choices={status: status for status in STATUSES},
        ),
        session: str | None = _session_option(False),
        reason: str | None = _reason_option(),
        course: str | None = course_option(),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found: CourseInfo = await self._admin_course(interaction, course)  # type: ignore[attr-defined]
        done = await self.db.run(  # type: ignore[attr-defined]
            self.corrections.mark, found.id, student, status, session, reason, actor=_actor(interaction)
        )
        await interaction.followup.send(messages.marked_reply(done), ephemeral=True)

    @attendance.subcommand(name="remove", description="Delete a student's record in a session")
    async def attendance_remove(
        self,
        interaction: nextcord.Interaction,
        student: str = _student_option("Student id, name, Discord name, id or mention"),
        session: str = _session_option(True),
        reason: str | None = _reason_option(),
        course: str | None = course_option(),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found: CourseInfo = await self._admin_course(interaction, course)  # type: ignore[attr-defined]
        done = await self.db.run(  # type: ignore[attr-defined]
            self.corrections.remove, found.id, student, session, reason, actor=_actor(interaction)
        )
        await interaction.followup.send(messages.removed_reply(done), ephemeral=True)

    @attendance.subcommand(name="history", description="Every change to a student's record")
    async def attendance_history(
        self,
        interaction: nextcord.Interaction,
        student: str = _student_option("Student id, name, Discord name, id or mention"),
        course: str | None = course_option(),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found: CourseInfo = await self._admin_course(interaction, course)  # type: ignore[attr-defined]
        who = await self.db.run(  # type: ignore[attr-defined]
            self.corrections.resolve_student, found.id, interaction.guild_id, student
        )
        events = await self.db.run(  # type: ignore[attr-defined]
            self.corrections.history, interaction.guild_id, who, found.id
        )
        tz = self.service.settings.timezone  # type: ignore[attr-defined]
        if not events:
            await interaction.followup.send(messages.history_empty(messages.student_who(who)), ephemeral=True)
            return
        await _send_lines(interaction, [messages.history_line(event, tz) for event in events], "history.txt")

    @attendance.subcommand(name="report", description="Per-student totals (CSV) and a heat map (PNG)")
    async def attendance_report(self, interaction: nextcord.Interaction, course: str | None = course_option()) -> None:
        await interaction.response.defer(ephemeral=True)
        found: CourseInfo = await self._admin_course(interaction, course)  # type: ignore[attr-defined]

        async def queued(ahead: int) -> None:
            await interaction.followup.send(messages.report_queued_reply(found.name, ahead), ephemeral=True)

        await _send_report(interaction, await self.reports.make(found.id, queued))

    @attendance.subcommand(name="claims", description="Student ids claimed with /register that wait for you")
    async def attendance_claims(self, interaction: nextcord.Interaction, course: str | None = course_option()) -> None:
        await interaction.response.defer(ephemeral=True)
        found: CourseInfo = await self._admin_course(interaction, course)  # type: ignore[attr-defined]
        claims = await self.db.run(self.students.claims, found)  # type: ignore[attr-defined]
        rows = [(c.student_id, c.user_id, c.name, c.roster_name) for c in claims]
        await _send_lines(interaction, messages.claims_lines(found.name, rows), "claims.txt")

    @attendance.subcommand(name="link", description="Confirm a Discord account as a student id of the course")
    async def attendance_link(
        self,
        interaction: nextcord.Interaction,
        student: str = _student_option("The student id (on the course's roster, or claimed)"),
        account: nextcord.User = nextcord.SlashOption(
            name="account", description="The student's Discord account", required=True
        ),
        course: str | None = course_option(),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found: CourseInfo = await self._admin_course(interaction, course)  # type: ignore[attr-defined]
        if not isinstance(account, nextcord.User | nextcord.Member):  # an id Discord sent no user for (forged)
            raise AttendanceError(messages.link_unknown_account())
        typed = student.removeprefix("student:")
        done = await self.db.run(  # type: ignore[attr-defined]
            self.students.link, found, typed, account.id, actor=_actor(interaction)
        )
        await interaction.followup.send(
            messages.linked_reply(done.course_name, done.student_id, done.user_id, list(done.replaced)), ephemeral=True
        )

    @attendance_mark.on_autocomplete("student")
    async def _mark_student(self, interaction: nextcord.Interaction, student: str | None = None) -> None:
        await self._complete_student(interaction, student)

    @attendance_remove.on_autocomplete("student")
    async def _remove_student(self, interaction: nextcord.Interaction, student: str | None = None) -> None:
        await self._complete_student(interaction, student)

    @attendance_history.on_autocomplete("student")
    async def _history_student(self, interaction: nextcord.Interaction, student: str | None = None) -> None:
        await self._complete_student(interaction, student)

    @attendance_link.on_autocomplete("student")
    async def _link_student(self, interaction: nextcord.Interaction, student: str | None = None) -> None:
        course = await self._autocomplete_course(interaction)
        found = await self.db.run(self.corrections.student_choices, course.id, student or "", 100) if course else []  # type: ignore[attr-defined]
        await interaction.response.send_autocomplete(_choices([c for c in found if c.value.startswith("student:")]))

    @attendance_claims.on_autocomplete("course")
    async def _claims_course(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)  # type: ignore[attr-defined]

    @attendance_link.on_autocomplete("course")
    async def _link_course(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)  # type: ignore[attr-defined]

    @attendance_mark.on_autocomplete("session")
    async def _mark_session(self, interaction: nextcord.Interaction, session: str | None = None) -> None:
        await self._complete_session(interaction, session)

    @attendance_remove.on_autocomplete("session")
    async def _remove_session(self, interaction: nextcord.Interaction, session: str | None = None) -> None:
        await self._complete_session(interaction, session)

    @attendance_mark.on_autocomplete("course")
    async def _mark_course(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)  # type: ignore[attr-defined]

    @attendance_remove.on_autocomplete("course")
    async def _remove_course(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)  # type: ignore[attr-defined]

    @attendance_history.on_autocomplete("course")
    async def _history_course(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)  # type: ignore[attr-defined]

    @attendance_report.on_autocomplete("course")
    async def _report_course(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)  # type: ignore[attr-defined]

    async def _autocomplete_course(self, interaction: nextcord.Interaction) -> CourseInfo | None:
        """The course an autocomplete in this channel is about, if the member instructs it (else
        None: a student gets no names from autocomplete)."""
        typed = typed_options(interaction).get("course")
        typed = str(typed) if typed is not None else None
        try:
            return await self._admin_course(interaction, typed)  # type: ignore[attr-defined, no-any-return]
        except AttendanceError:  # no course here, not an instructor, database down: no choices
            return None

    async def _complete_student(self, interaction: nextcord.Interaction, typed: str | None) -> None:
        course = await self._autocomplete_course(interaction)
        found = await self.db.run(self.corrections.student_choices, course.id, typed or "") if course else []  # type: ignore[attr-defined]
        await interaction.response.send_autocomplete(_choices(found))

    async def _complete_session(self, interaction: nextcord.Interaction, typed: str | None) -> None:
        course = await self._autocomplete_course(interaction)
        found = await self.db.run(self.corrections.session_choices, course.id, typed or "") if course else []  # type: ignore[attr-defined]
        await interaction.response.send_autocomplete(_choices(found))

    # -- students ---------------------------------------------------------------------------

    @nextcord.slash_command(name="my_attendance", description="Your attendance in this server's courses")
    async def my_attendance(
        self,
        interaction: nextcord.Interaction,
        course: str | None = nextcord.SlashOption(
            name="course", description="Only this course", required=False, max_length=50, default=None
        ),
    ) -> None:
        if interaction.guild_id is None or interaction.user is None:
            raise NotAllowed(messages.not_in_a_server_reply())
        await interaction.response.defer(ephemeral=True)
        course_id = None
        if course and course.strip():
            found = await self.db.run(self.courses.find, course, interaction.guild_id)  # type: ignore[attr-defined]
            course_id = found.id
        mine = await self.db.run(  # type: ignore[attr-defined]
            self.gradebooks.student_attendance,
            interaction.guild_id,
            interaction.user.id,
            username=interaction.user.name,
            course_id=course_id,
        )
        registration = await self.db.run(  # type: ignore[attr-defined]
            self.students.registration, interaction.guild_id, interaction.user.id
        )
        pending = registration.student_id if registration is not None and not registration.confirmed else None
        tz = self.service.settings.timezone  # type: ignore[attr-defined]
        await _send_lines(interaction, messages.my_attendance_lines(mine, tz, pending), "my_attendance.txt")

    @my_attendance.on_autocomplete("course")
    async def _my_course(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)  # type: ignore[attr-defined]


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
    )
    await interaction.followup.send(
        reply, files=[nextcord.File(io.BytesIO(data), filename=name) for name, data in files], ephemeral=True
    )


def _actor(interaction: nextcord.Interaction) -> str:
    """Who made a change, as the history shows it: the Discord name and id."""
    user = interaction.user
    return f"{user.name} ({user.id})" if user is not None else "unknown"
