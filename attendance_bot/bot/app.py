"""Building and running the bot: settings in, a connected nextcord bot with its cog and rotation."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from typing import IO

import nextcord
from nextcord.ext import commands

from ..attendance import AttendanceService, utc_now
from ..models import init_db
from ..settings import Settings
from .api_base import apply_api_base
from .batcher import SubmissionBatcher
from .cog import AttendanceCog
from .dbworker import DatabaseWorker
from .rotation import CodeRotator

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The bot cannot start; the message says why and what to do."""


class AttendanceBot(commands.Bot):
    """The nextcord bot: no privileged intents, one cog, one code rotation task."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime], out: IO[str]) -> None:
        intents = nextcord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, help_command=None)
        self.settings = settings
        self.out = out
        self.db = DatabaseWorker()
        self.service = AttendanceService(settings, clock)
        self.rotator = CodeRotator(self, self.service, self.db, clock)
        self.batcher = SubmissionBatcher(self.service, self.db)
        self.cog = AttendanceCog(self, self.service, self.db, self.rotator, self.batcher)
        self._announced = False

    def say(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    async def resolve_guild(self) -> int:
        """GUILD_ID, or the guild of the admin channel, asked of Discord after login."""
        if self.settings.guild_id:
            return self.settings.guild_id
        channel_id = self.settings.admin_channel_id
        try:
            data = await self.http.get_channel(channel_id)
        except nextcord.Forbidden as exc:
            raise StartupError(
                f"The bot cannot see ADMIN_CHANNEL_ID {channel_id} (403 Missing Access): invite it to the "
                "server with the bot and applications.commands scopes and let it view that channel."
            ) from exc
        except nextcord.NotFound as exc:
            raise StartupError(f"ADMIN_CHANNEL_ID {channel_id} does not exist: copy the id again.") from exc
        guild_id = data.get("guild_id")
        if not guild_id:
            raise StartupError(f"ADMIN_CHANNEL_ID {channel_id} is not a server channel.")
        return int(guild_id)

    def install(self, guild_id: int) -> None:
        """Register the commands for this guild so they appear at once."""
        for command in self.cog.application_commands:
            command.add_guild_rollout(guild_id)
        self.add_cog(self.cog)

    async def on_ready(self) -> None:
        if not self._announced:
            self._announced = True
            user = self.user
            self.say(f"Logged in as {user.name if user else '?'} (ID: {user.id if user else '?'})")
            self.say("Bot is ready!")
        self.rotator.start()

    async def on_application_command_error(self, interaction: nextcord.Interaction, exception: Exception) -> None:
        """Route command errors to the cog's one error-to-user mapping.

        nextcord 3.x calls the cog's `cog_application_command_error` itself (the command then
        has an error handler); nextcord 2.6 never does, and would only print the traceback and
        leave the user without a reply.
        """
        command = interaction.application_command
        if command is not None and command.has_error_handler():
            return
        await self.cog.cog_application_command_error(interaction, exception)

    async def close(self) -> None:
        await self.rotator.stop()
        await super().close()
        self.batcher.stop()
        self.db.shutdown()


async def serve(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    out: IO[str] | None = None,
    install_signal_handlers: bool = True,
) -> None:
    """Log in, register commands, connect, and run until closed (SIGINT/SIGTERM close cleanly)."""
    out = out or sys.stdout
    apply_api_base(settings.discord_api_base)
    init_db(settings.database_path)
    bot = AttendanceBot(settings, clock, out)
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Future[None]] = []
    if install_signal_handlers:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: closing.append(asyncio.ensure_future(bot.close())))
    bot.say("Starting Discord bot...")
    try:
        try:
            await bot.login(settings.discord_bot_token)
        except nextcord.LoginFailure as exc:
            raise StartupError("Discord refused the token: copy DISCORD_BOT_TOKEN again from the portal.") from exc
        bot.install(await bot.resolve_guild())
        await bot.connect(reconnect=True)
    finally:
        # Let a close started by a signal finish (database worker included) before the loop ends.
        await asyncio.gather(*closing, return_exceptions=True)
        if not bot.is_closed():
            await bot.close()
        log.info("Bot stopped; open sessions stay open for the next start")


class _RedactToken(logging.Filter):
    """Belt and braces: the token never reaches a log line."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self._token and self._token in record.getMessage():
            record.msg = record.getMessage().replace(self._token, "[token]")
            record.args = None
        return True


def configure_logging(settings: Settings, level: int = logging.INFO) -> None:
    """Logging for the `run` path only: timestamps, levels, the token redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_RedactToken(settings.discord_bot_token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("nextcord").setLevel(logging.WARNING)


def run(settings: Settings, *, out: IO[str] | None = None) -> int:
    """`manage.py run`: configure logging and serve until stopped; 0 on a clean stop."""
    out = out or sys.stdout
    configure_logging(settings)
    out.write("Configuration validated successfully\n")
    try:
        asyncio.run(serve(settings, out=out))
    except StartupError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        pass
    return 0
