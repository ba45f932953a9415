"""The slash commands: thin adapters from Discord interactions to the attendance service."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator

import nextcord
from nextcord.ext import commands

from .. import messages
from ..attendance import AttendanceService
from ..errors import AttendanceError, CourseError, NotAllowed, StorageError
from ..export import FORMATS, csv_bytes, filename_for
from ..models import close_db
from ..records import MAX_LATE_AFTER, CourseInfo, ExportRow, Submission
from ..settings import MAX_CODE_LENGTH, MAX_GRACE_SECONDS, MAX_INTERVAL, MIN_CODE_LENGTH, MIN_INTERVAL
from ..students import MAX_NAME, MAX_STUDENT_ID, ClaimConflict, StudentIdTaken, StudentService
from .batcher import NotRecorded, SubmissionBatcher, Unconfirmed
from .dbworker import DatabaseWorker, paced
from .options import ADMIN_PERMISSIONS, COURSE_OPTION, MAX_AUTOCOMPLETE, course_option, typed_options
from .record_commands import RecordCommands
from .rotation import CodeRotator

log = logging.getLogger(__name__)

# Answer /here within Discord's 3 s even when the database is slow: defer after this long.
DEFER_AFTER_SECONDS = 2.0
STORAGE_WARNING_COOLDOWN = 300.0
CONFLICT_COOLDOWN = 600.0  # seconds between two notices of the same claimant typing the same held id
# An export's thread runs at most this share of the time: the event loop keeps the rest.
EXPORT_SHARE = 0.3


def export_document(
    service: AttendanceService, session_id: str | None, course_id: int, fmt: str = "records"
) -> tuple[bytes, int]:
    """The CSV bytes of an export and its number of records, for a thread other than the loop's.

    The thread reads with a connection of its own (WAL lets it read while the database thread
    commits check-ins), so the export never holds up a batch of `/here`, and it is paced to a
    share of the GIL, so the event loop goes on answering a class that checks in meanwhile
    (a 40,000-row export doubled the burst's p99 when it ran flat out).

    `fmt` is records (the default: today's bytes), full or gradebook (export.FORMATS); for those
    two the course is read once (a few queries) and the writing is paced slice by slice, and the
    count is the rows written (full) or the roster students (gradebook). A session id names one
    session's column (UnknownSession for one not of the course).
    """
    if fmt != "records":
        from ..export import format_document
        from ..gradebook import GradebookService

        try:
            if session_id is not None:
                session_id = service.get_session(session_id, course_id).session_id
            book = GradebookService(service.settings).gradebook(course_id, session_id)
            return format_document(
                fmt, book, service.settings.timezone, pace=lambda chunks: paced(chunks, EXPORT_SHARE)
            )
        finally:
            close_db()  # this thread's read connection
    count = 0

    def rows() -> Iterator[ExportRow]:
        nonlocal count
        for chunk in paced(service.export_chunks(session_id, course_id=course_id), EXPORT_SHARE):
            count += len(chunk)
            yield from chunk

    try:
        data = csv_bytes(rows(), service.settings.timezone)
    finally:
        close_db()  # this thread's read connection
    return data, count


class InFlight:
    """Counts the interactions being handled, so a shutdown can wait until each has been answered."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> None:
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        self.count -= 1

    async def settle(self, timeout: float) -> bool:
        """Wait up to `timeout` s until no interaction is being handled; True if none is."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet = 0
        while loop.time() < deadline:
            # Quiet twice in a row: nextcord 2.6 hands a command's error to a task of its own.
            quiet = quiet + 1 if self.count == 0 else 0
            if quiet >= 2:
                return True
            await asyncio.sleep(0.01)
        return self.count == 0


# The bot's permissions a course's channels need, by channel: (label, needs Embed Links).
_POST_PERMISSIONS = (("send_messages", "Send Messages"), ("embed_links", "Embed Links"))


class AttendanceCog(RecordCommands, commands.Cog):
    """Every slash command: courses, sessions, check-ins (`/here`) and registration (`/register`)."""

    def __init__(
        self,
        bot: commands.Bot,
        service: AttendanceService,
        db: DatabaseWorker,
        rotator: CodeRotator,
        batcher: SubmissionBatcher,
    ) -> None:
        self.bot = bot
        self.service = service
        self.courses = service.courses
        self.students = StudentService()
        self._record_services(service.settings, service.clock)
        self.db = db
        self.batcher = batcher
        self.rotator = rotator
        self._last_storage_warning: dict[int | None, float] = {}
        # Each server's courses as last read, so a database that cannot be read at all (a PostgreSQL
        # server down) still lets the warning find the admin channels.
        self._known_courses: dict[int, list[CourseInfo]] = {}
        self.in_flight = InFlight()
        self._public_deferrals: set[int] = set()  # interactions whose deferred answer is public
        self._told_conflicts: dict[tuple[int, str, int], float] = {}  # (server, id, claimant) -> loop time

    # -- checks -----------------------------------------------------------------------------

    @staticmethod
    def _manages_server(interaction: nextcord.Interaction) -> bool:
        permissions = interaction.permissions
        return bool(permissions.manage_guild or permissions.administrator)

    def _instructs(self, interaction: nextcord.Interaction, course: CourseInfo) -> bool:
        """Manage Server, or the course's instructor role, in the course's own server."""
        if interaction.guild_id is None or course.guild_id != interaction.guild_id:
            return False
        if self._manages_server(interaction):
            return True
        roles = getattr(interaction.user, "roles", [])
        return course.instructor_role_id is not None and any(role.id == course.instructor_role_id for role in roles)

    async def _require_instructor(self, interaction: nextcord.Interaction) -> list[CourseInfo]:
        """This server's courses, if the member instructs one of them or manages the server; else
        NotAllowed before anything about a course is looked up or said."""
        if interaction.guild_id is None:
            raise NotAllowed(messages.not_in_a_server_reply())
        courses = await self.db.run(self.courses.courses, interaction.guild_id)
        self._known_courses[interaction.guild_id] = courses
        if not self._manages_server(interaction) and not any(self._instructs(interaction, c) for c in courses):
            raise NotAllowed(messages.not_admin_reply())
        return courses

    async def _admin_course(self, interaction: nextcord.Interaction, name: str | None) -> CourseInfo:
        """The course an admin command here means, if the member instructs it (else NotAllowed or CourseError)."""
        known = await self._require_instructor(interaction)
        course = await self.db.run(
            self.courses.for_admin_channel, interaction.guild_id, interaction.channel_id, name, known
        )
        if not self._instructs(interaction, course):
            raise NotAllowed(messages.not_admin_reply(course.name))
        return course

    async def _server_course(self, interaction: nextcord.Interaction, name: str) -> CourseInfo:
        """A course of this server by name, if the member instructs it (edits run in any channel)."""
        await self._require_instructor(interaction)
        course = await self.db.run(self.courses.find, name, interaction.guild_id)
        if not self._instructs(interaction, course):
            raise NotAllowed(messages.not_admin_reply(course.name))
        return course

    def _require_manager(self, interaction: nextcord.Interaction) -> int:
        if interaction.guild_id is None:
            raise NotAllowed(messages.not_in_a_server_reply())
        if not self._manages_server(interaction):
            raise NotAllowed(messages.not_a_manager_reply())
        return interaction.guild_id

    def _channel_problem(self, guild_id: int, channel_id: int, label: str, *, embeds: bool) -> str | None:
        """Why the bot cannot use a channel for a course of this server: another server's, not visible,
        or a permission missing (named); None when it can."""
        channel = self.bot.get_channel(channel_id)
        guild = getattr(channel, "guild", None)
        if channel is None or guild is None or guild.id != guild_id:
            return messages.channel_elsewhere(label, channel_id)
        me = guild.me
        if me is None:
            return messages.channel_not_visible(label, channel_id)
        permissions = channel.permissions_for(me)  # type: ignore[union-attr]
        if not permissions.view_channel:
            return messages.channel_not_visible(label, channel_id)
        wanted = _POST_PERMISSIONS if embeds else _POST_PERMISSIONS[:1]
        missing = [name for flag, name in wanted if not getattr(permissions, flag)]
        return messages.channel_permission_missing(label, channel_id, missing) if missing else None

    def _check_course_channels(
        self,
        guild_id: int,
        *,
        admin: int | None,
        attendance: int | None,
        display: int | None,
        role: nextcord.Role | None,
    ) -> None:
        """CourseError for the first channel (or role) the course cannot use."""
        checks = (
            ("admin channel", admin, False),
            ("attendance channel", attendance, False),
            ("display channel", display, True),
        )
        for label, channel_id, embeds in checks:
            if channel_id is None:
                continue
            problem = self._channel_problem(guild_id, channel_id, label, embeds=embeds)
            if problem:
                raise CourseError(problem)
        if role is not None and (role.guild is None or role.guild.id != guild_id):
            raise CourseError(messages.role_elsewhere())

    @staticmethod
    def _refuse_unknown_role(interaction: nextcord.Interaction, role: nextcord.Role | None) -> None:
        """A role option that was given but that nextcord could not find in this server (another
        server's role) arrives as None: refuse it instead of treating it as not given."""
        if role is None and typed_options(interaction).get("instructor_role") is not None:
            raise CourseError(messages.role_elsewhere())

    # -- courses ----------------------------------------------------------------------------

    @nextcord.slash_command(
        name="course", description="Set up this server's courses", default_member_permissions=ADMIN_PERMISSIONS
    )
    async def course(self, interaction: nextcord.Interaction) -> None:
        """The parent of the /course sub-commands (never run itself)."""

    @course.subcommand(name="create", description="Create a course run from this channel")
    async def course_create(
        self,
        interaction: nextcord.Interaction,
        name: str = nextcord.SlashOption(
            name="name", description="The course's name, e.g. Math 101", required=True, min_length=1, max_length=50
        ),
        attendance_channel: nextcord.abc.GuildChannel = nextcord.SlashOption(
            name="attendance_channel",
            description="Where students type /here",
            required=True,
            channel_types=[nextcord.ChannelType.text],
        ),
        display_channel: nextcord.abc.GuildChannel | None = nextcord.SlashOption(
            name="display_channel",
            description="Where the code is shown (default: the attendance channel)",
            required=False,
            channel_types=[nextcord.ChannelType.text],
            default=None,
        ),
        instructor_role: nextcord.Role | None = nextcord.SlashOption(
            name="instructor_role",
            description="Members with this role run the course too (besides Manage Server)",
            required=False,
            default=None,
        ),
    ) -> None:
        guild_id = self._require_manager(interaction)
        await interaction.response.defer(ephemeral=True)
        self._refuse_unknown_role(interaction, instructor_role)
        display_id = display_channel.id if display_channel is not None else None
        self._check_course_channels(
            guild_id,
            admin=interaction.channel_id,
            attendance=attendance_channel.id,
            display=display_id or attendance_channel.id,
            role=instructor_role,
        )
        course = await self.db.run(
            self.courses.create,
            name=name,
            guild_id=guild_id,
            admin_channel_id=interaction.channel_id,
            attendance_channel_id=attendance_channel.id,
            display_channel_id=display_id,
            instructor_role_id=instructor_role.id if instructor_role is not None else None,
        )
        await interaction.followup.send(
            messages.course_created_reply(
                course.name, course.admin_channel_id, course.attendance_channel_id, course.display_channel_id
            ),
            ephemeral=True,
        )

    @course.subcommand(name="edit", description="Change a course (applies from its next session)")
    async def course_edit(
        self,
        interaction: nextcord.Interaction,
        course: str = nextcord.SlashOption(
            name=COURSE_OPTION, description="The course to change", required=True, max_length=50
        ),
        name: str | None = nextcord.SlashOption(
            name="name", description="A new name", required=False, min_length=1, max_length=50, default=None
        ),
        attendance_channel: nextcord.abc.GuildChannel | None = nextcord.SlashOption(
            name="attendance_channel",
            description="Where students type /here",
            required=False,
            channel_types=[nextcord.ChannelType.text],
            default=None,
        ),
        display_channel: nextcord.abc.GuildChannel | None = nextcord.SlashOption(
            name="display_channel",
            description="Where the code is shown",
            required=False,
            channel_types=[nextcord.ChannelType.text],
            default=None,
        ),
        instructor_role: nextcord.Role | None = nextcord.SlashOption(
            name="instructor_role", description="Members with this role run the course", required=False, default=None
        ),
        interval: int | None = nextcord.SlashOption(
            name="interval",
            description="Seconds each code is shown",
            required=False,
            min_value=MIN_INTERVAL,
            max_value=MAX_INTERVAL,
            default=None,
        ),
        code_length: int | None = nextcord.SlashOption(
            name="code_length",
            description="Characters per code",
            required=False,
            min_value=MIN_CODE_LENGTH,
            max_value=MAX_CODE_LENGTH,
            default=None,
        ),
        grace: int | None = nextcord.SlashOption(
            name="grace",
            description="Seconds a code stays valid after it changes",
            required=False,
            min_value=0,
            max_value=MAX_GRACE_SECONDS,
            default=None,
        ),
        late_after: int | None = nextcord.SlashOption(
            name="late_after",
            description="Minutes after opening from which a check-in is late (0: never)",
            required=False,
            min_value=0,
            max_value=MAX_LATE_AFTER,
            default=None,
        ),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        found = await self._server_course(interaction, course)
        assert interaction.guild_id is not None
        self._refuse_unknown_role(interaction, instructor_role)
        self._check_course_channels(
            interaction.guild_id,
            admin=None,
            attendance=attendance_channel.id if attendance_channel is not None else None,
            display=display_channel.id if display_channel is not None else None,
            role=instructor_role,
        )
        given = {
            "name": name,
            "attendance_channel_id": attendance_channel.id if attendance_channel is not None else None,
            "display_channel_id": display_channel.id if display_channel is not None else None,
            "instructor_role_id": instructor_role.id if instructor_role is not None else None,
            "interval": interval,
            "code_length": code_length,
            "grace_seconds": grace,
            "late_after": late_after,
        }
        changed = await self.db.run(
            self.courses.edit, found.id, **{key: value for key, value in given.items() if value is not None}
        )
        await interaction.followup.send(messages.course_edited_reply(changed.name), ephemeral=True)

    @course.subcommand(name="list", description="This server's courses")
    async def course_list(self, interaction: nextcord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        courses = await self._require_instructor(interaction)
        await interaction.followup.send(messages.course_list_reply(courses), ephemeral=True)

    @course.subcommand(name="archive", description="No new sessions for a course; its records stay")
    async def course_archive(
        self,
        interaction: nextcord.Interaction,
        course: str = nextcord.SlashOption(
            name=COURSE_OPTION, description="The course to archive", required=True, max_length=50
        ),
    ) -> None:
        guild_id = self._require_manager(interaction)
        await interaction.response.defer(ephemeral=True)
        found = await self.db.run(self.courses.find, course, guild_id)
        archived = await self.db.run(self.courses.archive, found.id)
        await interaction.followup.send(messages.course_archived_reply(archived.name), ephemeral=True)

    @course.subcommand(name="roster", description="Import the course's roster from the LMS's CSV file")
    async def course_roster(
        self,
        interaction: nextcord.Interaction,
        file: nextcord.Attachment = nextcord.SlashOption(
            name="file",
            description="The roster CSV (student_id,name[,discord], or Moodle/Canvas/Google Classroom's); max 5 MB",
            required=True,
        ),
        course: str | None = course_option(),
        replace: bool = nextcord.SlashOption(
            name="replace",
            description="Also remove the students the file does not list (their records stay)",
            required=False,
            default=False,
        ),
        columns: str | None = nextcord.SlashOption(
            name="columns",
            description='Other headers: student_id="ID number",name="First name+Last name"',
            required=False,
            max_length=500,
        ),
    ) -> None:
        from ..roster import RosterService, parse_columns, parse_roster, refuse_size

        await interaction.response.defer(ephemeral=True)
        found = await self._admin_course(interaction, course)
        named = None if columns is None else parse_columns(columns, from_discord=True)
        refuse_size(file.size)  # before a byte is downloaded
        data = await self._download_roster(file)
        # off the loop; refused whole, before the database
        rows = await asyncio.to_thread(parse_roster, data, named, from_discord=True)
        rosters = RosterService(self.service.settings, self.service.clock)
        actor = str(interaction.user.id if interaction.user else "unknown")
        report = await self.db.run(rosters.import_roster, found.id, rows, replace=bool(replace), actor=actor)
        await interaction.followup.send(
            messages.roster_imported(
                found.name, report.added, report.updated, report.unchanged, report.removed, report.unmatched
            ),
            ephemeral=True,
        )

    roster_download_seconds = 30.0  # a 5 MB file from Discord's CDN takes well under a second

    async def _download_roster(self, file: nextcord.Attachment) -> bytes:
        """The attached file's bytes from Discord's CDN; RosterError (one sentence) if that fails."""
        import aiohttp

        from ..roster import RosterError

        try:
            return await asyncio.wait_for(file.read(), self.roster_download_seconds)
        except (nextcord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Could not download the roster file %r: %s", file.filename, exc)
            raise RosterError(messages.roster_download_failed()) from exc

    @course_roster.on_autocomplete(COURSE_OPTION)
    async def _course_roster_complete(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)

    async def _complete_course(self, interaction: nextcord.Interaction, typed: str | None) -> None:
        """Autocomplete for every `course` option: this server's courses whose name holds what is typed."""
        courses = await self.db.run(self.courses.courses, interaction.guild_id) if interaction.guild_id else []
        wanted = (typed or "").casefold().strip()
        names = [c.name for c in courses if wanted in c.name.casefold()]
        await interaction.response.send_autocomplete(names[:MAX_AUTOCOMPLETE])

    @course_edit.on_autocomplete(COURSE_OPTION)
    async def _course_edit_complete(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)

    @course_archive.on_autocomplete(COURSE_OPTION)
    async def _course_archive_complete(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)

    # -- sessions ---------------------------------------------------------------------------

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
        found = await self._admin_course(interaction, course)
        info = await self.db.run(
            self.service.open_session,
            found.id,
            opened_by=str(interaction.user.id if interaction.user else "unknown"),
            late_after=late_after,
        )
        self.rotator.poke()
        await interaction.followup.send(
            messages.opened_reply(info.session_id, info.channel_id, info.late_after), ephemeral=True
        )

    @nextcord.slash_command(
        name="close_attendance",
        description="Close the open attendance session",
        default_member_permissions=ADMIN_PERMISSIONS,
    )
    async def close_attendance(self, interaction: nextcord.Interaction, course: str | None = course_option()) -> None:
        await interaction.response.defer()  # public, like the summary; a refusal is made private again
        self._public_deferrals.add(interaction.id)  # until answered: the error handler looks here
        found = await self._admin_course(interaction, course)
        closed = await self.db.run(self.service.close_session, course_id=found.id)
        self.rotator.poke()
        await interaction.followup.send(messages.closed_reply(closed.session.session_id, closed.count))
        self._public_deferrals.discard(interaction.id)

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
        found = await self._admin_course(interaction, course)
        wanted = session_id.strip() if session_id and session_id.strip() else None
        data, count = await asyncio.to_thread(export_document, self.service, wanted, found.id, fmt)
        reply = (
            messages.export_reply(count, wanted)
            if fmt == "records"
            else messages.export_format_reply(count, wanted, fmt)
        )
        await interaction.followup.send(
            reply, file=nextcord.File(io.BytesIO(data), filename=filename_for(wanted, fmt)), ephemeral=True
        )

    @open_attendance.on_autocomplete(COURSE_OPTION)
    async def _open_complete(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)

    @close_attendance.on_autocomplete(COURSE_OPTION)
    async def _close_complete(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)

    @export_csv.on_autocomplete(COURSE_OPTION)
    async def _export_complete(self, interaction: nextcord.Interaction, course: str | None = None) -> None:
        await self._complete_course(interaction, course)

    # -- students ---------------------------------------------------------------------------

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
        pending = self.batcher.enqueue(
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
            reply = await self._reply_for(exc, "here", interaction)
        finally:
            timer.cancel()
        if deferring is not None:
            await deferring
            await interaction.followup.send(reply, ephemeral=True)
        else:
            await interaction.response.send_message(reply, ephemeral=True)

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
            raise NotAllowed(messages.not_in_a_server_reply())
        await interaction.response.defer(ephemeral=True)
        try:
            done = await self.db.run(
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
                await self.bot.get_partial_messageable(channel_id).send(
                    text, allowed_mentions=nextcord.AllowedMentions.none()
                )
            except nextcord.HTTPException:
                log.exception("Could not tell admin channel %s of a claim conflict", channel_id)

    def remember_courses(self, courses: list[CourseInfo]) -> None:
        """Keep the courses read at start, by server, for a warning while the database cannot be read."""
        for course in courses:
            if course.guild_id is not None:
                self._known_courses.setdefault(course.guild_id, []).append(course)

    async def _warn_storage_failure(self, interaction: nextcord.Interaction) -> None:
        """Tell the admin channels of the courses taking attendance where a check-in failed, once per
        few minutes per server, that submissions are failing (when the database cannot be read at all,
        as while a PostgreSQL server is down, the courses as last read say where)."""
        guild_id, channel_id = interaction.guild_id, interaction.channel_id
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_storage_warning.get(guild_id, -STORAGE_WARNING_COOLDOWN) < STORAGE_WARNING_COOLDOWN:
            return
        self._last_storage_warning[guild_id] = loop.time()
        if not guild_id:
            return
        try:
            courses = await self.db.run(self.courses.courses, guild_id)
        except Exception as exc:  # the database cannot even be read: the courses as last read, if any
            courses = self._known_courses.get(guild_id, [])
            if not courses:
                log.error("Could not find the admin channels to warn about the database failure: %s", exc)
                return
        else:
            self._known_courses[guild_id] = courses
        admin_channels = {
            c.admin_channel_id for c in courses if c.attendance_channel_id == channel_id and not c.archived
        }
        for admin_channel in sorted(c for c in admin_channels if c is not None):
            try:
                await self.bot.get_partial_messageable(admin_channel).send(messages.storage_warning())
            except nextcord.HTTPException:
                log.exception("Could not warn the admin channel about the database failure")

    # -- errors -----------------------------------------------------------------------------

    async def _reply_for(self, error: BaseException, command: str, interaction: nextcord.Interaction) -> str:
        """The one error-to-reply mapping, for /here and the error handler alike: the same failure
        always gets the same sentence.

        A database failure warns the admin channel and tells a student to try again (an instructor
        gets the error's own sentence: what could not be done, and that nothing changed); a check-in
        caught by a shutdown says so; other domain errors are their own sentence; anything else is
        a bug, logged with its traceback and answered with a short generic sentence.
        """
        if isinstance(error, StorageError):
            if command == "here":
                await self._warn_storage_failure(interaction)
            return messages.storage_failure_reply() if command == "here" else str(error)
        if isinstance(error, NotRecorded):
            return messages.shutting_down_reply()
        if isinstance(error, Unconfirmed):
            return messages.shutdown_unconfirmed_reply()
        if isinstance(error, AttendanceError):
            return str(error)
        log.error("Command %s failed", command, exc_info=error)
        return messages.generic_failure_reply()

    async def cog_application_command_error(self, interaction: nextcord.Interaction, error: Exception) -> None:
        """Answer a command's error with _reply_for's sentence (nextcord wraps it in ApplicationInvokeError)."""
        with self.in_flight:
            await self._reply_error(interaction, error)

    async def _reply_error(self, interaction: nextcord.Interaction, error: Exception) -> None:
        original = getattr(error, "original", error)
        reply = await self._reply_for(original, getattr(interaction.application_command, "name", "?"), interaction)
        try:
            if interaction.id in self._public_deferrals:
                # The first follow-up would fill the public "thinking…" message: remove it, answer privately.
                self._public_deferrals.discard(interaction.id)
                await interaction.delete_original_message()
            if interaction.response.is_done():
                await interaction.followup.send(reply, ephemeral=True)
            else:
                await interaction.response.send_message(reply, ephemeral=True)
        except nextcord.HTTPException:
            log.exception("Could not send the error reply")
