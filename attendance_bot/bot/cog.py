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
from ..errors import AttendanceError, StorageError, UnknownSession
from ..export import csv_bytes, filename_for
from ..models import close_db
from ..records import ExportRow, Submission
from .batcher import NotRecorded, SubmissionBatcher, Unconfirmed
from .dbworker import DatabaseWorker, paced
from .rotation import CodeRotator

log = logging.getLogger(__name__)

ADMIN_PERMISSIONS = nextcord.Permissions(manage_guild=True)
# Answer /here within Discord's 3 s even when the database is slow: defer after this long.
DEFER_AFTER_SECONDS = 2.0
STORAGE_WARNING_COOLDOWN = 300.0
# An export's thread runs at most this share of the time: the event loop keeps the rest.
EXPORT_SHARE = 0.3


def export_document(service: AttendanceService, session_id: str | None) -> tuple[bytes, int]:
    """The CSV bytes of an export and its number of records, for a thread other than the loop's.

    The thread reads with a connection of its own (WAL lets it read while the database thread
    commits check-ins), so the export never holds up a batch of `/here`, and it is paced to a
    share of the GIL, so the event loop goes on answering a class that checks in meanwhile
    (a 40,000-row export doubled the burst's p99 when it ran flat out).
    """
    count = 0

    def rows() -> Iterator[ExportRow]:
        nonlocal count
        for chunk in paced(service.export_chunks(session_id), EXPORT_SHARE):
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


class AttendanceCog(commands.Cog):
    """`/open_attendance`, `/close_attendance`, `/export_csv` and `/here`."""

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
        self.db = db
        self.batcher = batcher
        self.rotator = rotator
        self._last_storage_warning = -STORAGE_WARNING_COOLDOWN
        self.in_flight = InFlight()
        self._public_deferrals: set[int] = set()  # interactions whose deferred answer is public

    # -- checks -----------------------------------------------------------------------------

    def _is_admin(self, interaction: nextcord.Interaction) -> bool:
        if interaction.permissions.manage_guild or interaction.permissions.administrator:
            return True
        role_id = self.service.settings.admin_role_id
        roles = getattr(interaction.user, "roles", [])
        return role_id is not None and any(role.id == role_id for role in roles)

    async def _admin_refusal(self, interaction: nextcord.Interaction) -> bool:
        """Reply with the refusal and return True if this admin command may not run here."""
        if not self._is_admin(interaction):
            await interaction.response.send_message(messages.not_admin_reply(), ephemeral=True)
            return True
        admin_channel = self.service.settings.admin_channel_id
        if interaction.channel_id != admin_channel:
            await interaction.response.send_message(messages.admin_channel_reply(admin_channel), ephemeral=True)
            return True
        return False

    # -- admin commands ---------------------------------------------------------------------

    @nextcord.slash_command(
        name="open_attendance",
        description="Open an attendance session and show the rotating code",
        default_member_permissions=ADMIN_PERMISSIONS,
    )
    async def open_attendance(self, interaction: nextcord.Interaction) -> None:
        if await self._admin_refusal(interaction):
            return
        settings = self.service.settings
        await interaction.response.defer(ephemeral=True)  # the database may be busy for seconds
        info = await self.db.run(
            self.service.open_session,
            opened_by=str(interaction.user.id if interaction.user else "unknown"),
            guild_id=interaction.guild_id,
            channel_id=settings.display_channel_id,
        )
        self.rotator.poke()
        await interaction.followup.send(
            messages.opened_reply(info.session_id, settings.display_channel_id), ephemeral=True
        )

    @nextcord.slash_command(
        name="close_attendance",
        description="Close the open attendance session",
        default_member_permissions=ADMIN_PERMISSIONS,
    )
    async def close_attendance(self, interaction: nextcord.Interaction) -> None:
        if await self._admin_refusal(interaction):
            return
        await interaction.response.defer()  # public, like the summary; a refusal is made private again
        self._public_deferrals.add(interaction.id)  # until answered: the error handler looks here
        closed = await self.db.run(self.service.close_session)
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
            description="Only this session (default: every session)",
            required=False,
            max_length=64,
            default=None,
        ),
    ) -> None:
        if await self._admin_refusal(interaction):
            return
        await interaction.response.defer(ephemeral=True)
        wanted = session_id.strip() if session_id and session_id.strip() else None
        try:
            data, count = await asyncio.to_thread(export_document, self.service, wanted)
        except UnknownSession as exc:
            await interaction.followup.send(await self._reply_for(exc, "export_csv"), ephemeral=True)
            return
        name = filename_for(wanted)
        await interaction.followup.send(
            messages.export_reply(count, wanted),
            file=nextcord.File(io.BytesIO(data), filename=name),
            ephemeral=True,
        )

    # -- students ---------------------------------------------------------------------------

    @nextcord.slash_command(name="here", description="Check in with the code on screen")
    async def here(
        self,
        interaction: nextcord.Interaction,
        code: str = nextcord.SlashOption(
            name="code", description="The code shown on screen, e.g. A7K3", required=True, min_length=1, max_length=32
        ),
    ) -> None:
        attendance_channel = self.service.settings.attendance_channel_id
        if interaction.channel_id != attendance_channel:
            await interaction.response.send_message(messages.wrong_channel_reply(attendance_channel), ephemeral=True)
            return
        user = interaction.user
        assert user is not None
        loop = asyncio.get_running_loop()
        pending = self.batcher.enqueue(Submission(user.id, user.name, code, getattr(user, "display_name", None)))
        deferring: asyncio.Task[None] | None = None

        def defer_if_slow() -> None:  # a timer, not a task per call: /here is the hot path
            nonlocal deferring
            if not pending.done():
                deferring = loop.create_task(interaction.response.defer(ephemeral=True))

        timer = loop.call_later(DEFER_AFTER_SECONDS, defer_if_slow)
        try:
            reply = messages.submit_reply(await pending)
        except (AttendanceError, NotRecorded, Unconfirmed) as exc:  # answered here: the reply may be deferred
            reply = await self._reply_for(exc, "here")
        finally:
            timer.cancel()
        if deferring is not None:
            await deferring
            await interaction.followup.send(reply, ephemeral=True)
        else:
            await interaction.response.send_message(reply, ephemeral=True)

    async def _warn_storage_failure(self) -> None:
        """Tell the admin channel once (per few minutes) that submissions are failing."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_storage_warning < STORAGE_WARNING_COOLDOWN:
            return
        self._last_storage_warning = loop.time()
        channel_id = self.service.settings.admin_channel_id
        if channel_id is None:
            return
        try:
            await self.bot.get_partial_messageable(channel_id).send(messages.storage_warning())
        except nextcord.HTTPException:
            log.exception("Could not warn the admin channel about the database failure")

    # -- errors -----------------------------------------------------------------------------

    async def _reply_for(self, error: BaseException, command: str) -> str:
        """The one error-to-reply mapping, for /here and the error handler alike: the same failure
        always gets the same sentence.

        A database failure warns the admin channel and tells a student to try again (an instructor
        gets the error's own sentence: what could not be done, and that nothing changed); a check-in
        caught by a shutdown says so; other domain errors are their own sentence; anything else is
        a bug, logged with its traceback and answered with a short generic sentence.
        """
        if isinstance(error, StorageError):
            await self._warn_storage_failure()
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
        reply = await self._reply_for(original, getattr(interaction.application_command, "name", "?"))
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
