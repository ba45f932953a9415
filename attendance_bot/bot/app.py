"""Building and running the bot: settings in, a connected nextcord bot with its cogs and rotation."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from datetime import datetime
from typing import IO

import aiohttp
import nextcord
from nextcord.ext import commands

from .. import messages
from ..clock import utc_now
from ..courses import env_course
from ..errors import AttendanceError
from ..models import init_db
from ..services import Services
from ..settings import Settings, everyone_role_problem
from ..shards import runs_server
from ..web.app import WebServer
from .api_base import apply_api_base
from .batcher import SubmissionBatcher
from .buckets import use_major_buckets
from .cogs import build_cogs
from .cogs.checkin import CheckInCog
from .cogs.excuses import ExcusesCog
from .context import BotContext
from .dbworker import DatabaseWorker, cancel_and_wait
from .error_handler import answer_error
from .logs import configure_logging
from .metrics import Metrics
from .rotation import CodeRotator
from .scheduler import Scheduler

log = logging.getLogger(__name__)

# A stop (SIGTERM, SIGINT) ends the process within 5 s in every state. Of that time: ending the
# report worker (reports.STOP_WORKER_SECONDS), committing and answering the check-ins already taken,
# then their last replies (the reports' among them), then closing the gateway and HTTP, then the
# database thread.
FINISH_SUBMISSIONS_SECONDS = 2.5
SETTLE_REPLIES_SECONDS = 0.8
CLOSE_DISCORD_SECONDS = 0.8
CLOSE_DATABASE_SECONDS = 0.5
# How long start-up waits for Discord to answer the login before saying it cannot be reached.
LOGIN_TIMEOUT_SECONDS = 30.0
# Collect young objects every 20,000 allocations instead of 700 (see _tune_garbage_collection).
GC_THRESHOLDS = (20_000, 20, 20)
# Discord's gateway closes over the shards: 4010 invalid shard, 4011 sharding required.
SHARD_CLOSE_CODES = (4010, 4011)
# /healthz: the database is down when a trivial read has not answered within this long.
HEALTH_DATABASE_SECONDS = 5.0
# Stopping the projector page's server (its pages reconnect to the next start by themselves).
CLOSE_WEB_SECONDS = 0.5


class StartupError(Exception):
    """The bot cannot start; the message says why and what to do."""


# How long nextcord waits after the last server it was sent (GUILD_CREATE) before it calls the bot
# ready and rotation starts (its default is 2 s). Discord sends a shard's servers one after another
# right after READY; the wait only delays the code messages after every start or restart.
GUILD_READY_SECONDS = 0.5


def _intents() -> nextcord.Intents:
    """No privileged intents: the servers and their channels, and who is in which voice channel
    (voice states, for voice presence; not privileged)."""
    intents = nextcord.Intents.none()
    intents.guilds = True
    intents.voice_states = True
    return intents


class AttendanceBot(commands.Bot):
    """The nextcord bot: no privileged intents, one cog per feature, one code rotation task."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime], out: IO[str]) -> None:
        super().__init__(intents=_intents(), help_command=None, guild_ready_timeout=GUILD_READY_SECONDS)
        self._assemble(settings, clock, out)

    def _assemble(self, settings: Settings, clock: Callable[[], datetime], out: IO[str]) -> None:
        """Everything besides nextcord's client: the database thread, the services (built once),
        rotation, the context the cogs share, the cogs."""
        use_major_buckets(self.http)
        self.settings = settings
        self.out = out
        self.metrics = Metrics()  # served at /metrics by the projector page's server
        self.db = DatabaseWorker(self.metrics.database_errors.inc)
        self.services = Services(settings, clock)
        looks_after = functools.partial(runs_server, shard_count=settings.shard_count, shard_ids=settings.shard_ids)
        self.rotator = CodeRotator(
            self,
            self.services.attendance,
            self.db,
            clock,
            looks_after,
            self.metrics,
            closed=lambda session_id: self.context.notices.session_closed(session_id),  # its warning digest
        )
        self.batcher = SubmissionBatcher(self.services.attendance, self.db, failed=self.metrics.database_errors.inc)
        self.scheduler = Scheduler(self, self.services.schedule, self.db, clock, self.rotator.poke)
        self.context = BotContext(
            self, self.services, self.db, self.rotator, self.batcher, self.metrics, self.scheduler
        )
        self.feature_cogs = build_cogs(self.context)
        self.check_in = next(cog for cog in self.feature_cogs if isinstance(cog, CheckInCog))
        self.excuses = next(cog for cog in self.feature_cogs if isinstance(cog, ExcusesCog))
        self._announced = False
        self.connected_once = False  # got as far as connecting to the gateway
        self._closing: asyncio.Task[None] | None = None
        self.web: WebServer | None = None  # the projector page, when it listens (WEB_PORT)
        # Which gateway connections are up (None: the one of an unsharded bot; else shard ids), from
        # nextcord's connect, resumed and disconnect events: its websocket object does not say.
        self._gateways_up: set[int | None] = set()
        self._gateways_seen: set[int | None] = set()  # up at least once: coming up again is a reconnect
        for event, handler in (
            ("on_connect", self._gateway_up),
            ("on_resumed", self._gateway_up),
            ("on_disconnect", self._gateway_down),
            ("on_shard_connect", self._shard_up),
            ("on_shard_resumed", self._shard_up),
            ("on_shard_disconnect", self._shard_down),
        ):
            self.add_listener(handler, event)

    def _came_up(self, gateway: int | None) -> None:
        if gateway in self._gateways_seen:
            self.metrics.discord_reconnects.inc()
        self._gateways_seen.add(gateway)
        self._gateways_up.add(gateway)

    async def _gateway_up(self) -> None:
        if self.settings.shard_count is None:
            self._came_up(None)
        else:  # each shard's connect comes as this event too: the shards' own events count them
            self._gateways_up.add(None)

    async def _gateway_down(self) -> None:
        self._gateways_up.discard(None)

    async def _shard_up(self, shard_id: int) -> None:
        self._came_up(shard_id)

    async def _shard_down(self, shard_id: int) -> None:
        self._gateways_up.discard(shard_id)

    async def start_web(self) -> None:
        """Serve the projector page and /healthz (WEB_PORT, WEB_BIND); an address that cannot be had
        is one warning line, and the bot runs on without the page."""
        if not self.settings.web_port:
            return
        settings = self.settings
        web = WebServer(
            self.services,
            self.db.run,
            self.health,
            bind=settings.web_bind,
            port=settings.web_port,
            registry=self.metrics.registry,
        )
        if await web.start():
            self.web = web

    async def health(self) -> tuple[bool, bool]:
        """Whether the database answers and the Discord connection is up (every shard's, when sharded)."""
        try:
            database_up = await asyncio.wait_for(self.db.run(self.services.database_up), HEALTH_DATABASE_SECONDS)
        except Exception:  # busy past the limit, the thread stopped, the server gone: down
            database_up = False
        return database_up, self.discord_up()

    async def _stop_web(self) -> None:
        web, self.web = self.web, None
        if web is None:
            return
        try:
            await asyncio.wait_for(web.stop(), CLOSE_WEB_SECONDS)
        except TimeoutError:
            log.warning("The projector page's server did not stop within %.1f s", CLOSE_WEB_SECONDS)

    def discord_up(self) -> bool:
        """Ready, and the gateway connected (every shard this process runs, when sharded)."""
        if self.is_closed() or not self.is_ready():
            return False
        if self.settings.shard_count is None:
            return None in self._gateways_up
        shards = self.settings.shard_ids if self.settings.shard_ids is not None else range(self.settings.shard_count)
        return all(shard in self._gateways_up for shard in shards)

    def say(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    async def resolve_guild(self) -> int | None:
        """The server of the `.env` course: GUILD_ID, or the admin channel's, asked of Discord after login
        (None when `.env` defines no course and sets no GUILD_ID)."""
        if self.settings.guild_id:
            return self.settings.guild_id
        channel_id = self.settings.admin_channel_id
        if channel_id is None:
            return None
        try:
            data = await self.http.get_channel(channel_id)
        except nextcord.Forbidden as exc:
            raise StartupError(messages.admin_channel_not_visible(channel_id)) from exc
        except nextcord.NotFound as exc:
            raise StartupError(messages.admin_channel_missing(channel_id)) from exc
        guild_id = data.get("guild_id")
        if not guild_id:
            raise StartupError(messages.admin_channel_not_in_a_server(channel_id))
        return int(guild_id)

    def install(self) -> None:
        """Register the commands: global (every server the bot is in, no sync step), or for GUILD_ID only."""
        for cog in self.feature_cogs:
            if self.settings.guild_id:
                for command in cog.application_commands:
                    command.add_guild_rollout(self.settings.guild_id)
            self.add_cog(cog)

    async def on_ready(self) -> None:
        if not self._announced:
            self._announced = True
            user = self.user
            self.say(f"Logged in as {user.name if user else '?'} (ID: {user.id if user else '?'})")
            _tune_garbage_collection()
            self.say("Bot is ready!")
        self.rotator.start()
        self.scheduler.start()
        self.context.voice_log.start()

    async def on_error(self, event_method: str, *args: object, **kwargs: object) -> None:
        """An exception an event handler let through: logged with its traceback (nextcord's own default
        prints it to stderr, past the log's format and the filter that keeps the secrets out)."""
        log.exception("Unhandled exception in %s", event_method)

    async def on_application_command_error(self, interaction: nextcord.Interaction, exception: Exception) -> None:
        """Route command errors to the cogs' one error handler (error_handler.answer_error).

        nextcord 3.x calls the cog's `cog_application_command_error` itself (the command then
        has an error handler); nextcord 2.6 never does, and would only print the traceback and
        leave the user without a reply.
        """
        command = interaction.application_command
        if command is not None and command.has_error_handler():
            return
        await answer_error(self.context, interaction, exception)

    async def on_interaction(self, interaction: nextcord.Interaction) -> None:
        """Slash commands to their cogs; the code message's Check in button and its form to the check-in
        cog, an excuse request's Approve and Deny to the excuses cog (here rather than in listeners of
        their own, which would cost every /here a task)."""
        if interaction.type in (nextcord.InteractionType.component, nextcord.InteractionType.modal_submit):
            if not await self.check_in.answer_button(interaction) and not await self.excuses.answer_button(interaction):
                log.warning("Interaction %s with an unknown custom id left unanswered", interaction.id)
            return
        await self.process_application_commands(interaction)

    async def process_application_commands(self, interaction: nextcord.Interaction) -> None:
        with self.context.in_flight:  # a stop waits (briefly) until every command taken is answered
            await super().process_application_commands(interaction)

    async def close(self) -> None:
        """Stop in order, within a few seconds whatever the state (also called by nextcord itself).

        New `/here` are answered that the bot is restarting; the report worker is ended, and every
        report asked for is answered that it was not made; the check-ins already taken are
        committed and answered (or, past the deadline, told they were not recorded or not
        confirmed); only then are the gateway and the HTTP session closed, so no answer meets a
        closed session; the database thread goes last.
        """
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_in_order())
        await asyncio.shield(self._closing)

    async def _close_in_order(self) -> None:
        self.batcher.stop()
        await self.context.reports.stop()  # the reports asked for are answered that the bot is stopping
        await self.scheduler.stop()  # before the rotation: no session opens on a stopping bot
        await self.rotator.stop()
        await self.context.notices.stop()
        await self.context.voice_log.stop()
        # The page's server stops while the check-ins taken are committed (in the same time).
        await asyncio.gather(self._stop_web(), self.batcher.finish(FINISH_SUBMISSIONS_SECONDS))
        if not await self.context.in_flight.settle(SETTLE_REPLIES_SECONDS):
            log.warning("Stopping with %d interaction(s) still unanswered", self.context.in_flight.count)
        try:
            await asyncio.wait_for(super().close(), CLOSE_DISCORD_SECONDS)
        except (TimeoutError, OSError, aiohttp.ClientError) as exc:
            log.warning("Discord connection not closed cleanly: %r", exc)
        self.db.shutdown(CLOSE_DATABASE_SECONDS)


class ShardedAttendanceBot(AttendanceBot, commands.AutoShardedBot):
    """The same bot over Discord shards: nextcord's AutoShardedBot runs SHARD_IDS of SHARD_COUNT (all of
    them when SHARD_IDS is unset), and only those shards' servers have their code messages rotated here."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime], out: IO[str]) -> None:
        # Not super().__init__: commands.Bot's would start a plain Client, without the shards.
        commands.AutoShardedBot.__init__(
            self,
            intents=_intents(),
            help_command=None,
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids) if settings.shard_ids is not None else None,
        )
        self._assemble(settings, clock, out)


def build_bot(settings: Settings, clock: Callable[[], datetime], out: IO[str]) -> AttendanceBot:
    """The sharded bot when SHARD_COUNT is set; otherwise one connection, as Discord recommends below 2,500 servers."""
    if settings.shard_count is None:
        return AttendanceBot(settings, clock, out)
    return ShardedAttendanceBot(settings, clock, out)


def _tune_garbage_collection() -> None:
    """Keep the cyclic GC's pauses out of a class's burst of check-ins.

    Start-up leaves some 60,000 long-lived objects (modules, nextcord's state, the models): they
    are frozen, so no collection walks them again. A burst keeps thousands of interactions alive
    at once, and with CPython's default thresholds (700, 10, 10) the collector walked them again
    and again: measured with gc.callbacks in one bot process per burst, 105 ms of collections in
    a burst of 1,000 and 320-520 ms in one of 3,000, with the event loop stopped each time; with
    these thresholds, 36-48 ms and 70-140 ms. Garbage cycles are still collected, just in fewer,
    larger rounds.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


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
    init_db(settings.database_target, defaults=env_course(settings), make_folder=settings.default_database)
    bot = build_bot(settings, clock, out)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    if install_signal_handlers:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    bot.say("Starting Discord bot...")
    # bot.connect runs in a task of its own: a stop cancels it wherever it waits (nextcord's
    # reconnect back-off sleeps up to minutes and does not look at close() while it sleeps).
    running = asyncio.create_task(_start(bot, settings), name="discord-connection")
    stopping = asyncio.create_task(stop.wait(), name="stop-signal")
    try:
        await bot.start_web()  # the projector page and /healthz, while the connection is made
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stopping.done():
            if bot.connected_once:
                log.info("Stopping: answering the check-ins already taken, then disconnecting")
            await bot.close()
        else:
            running.result()  # a start-up failure, or nextcord's own fatal error
    finally:
        await cancel_and_wait(stopping)
        await bot.close()
        if stop.is_set():
            await _abandon(running)
        else:
            await cancel_and_wait(running)
        if bot.connected_once:
            log.info("Bot stopped; open sessions stay open for the next start")
        elif stop.is_set():
            bot.say(messages.stopped_during_startup())


async def _abandon(task: asyncio.Task[None]) -> None:
    """Cancel start-up after a stop and wait for it: closing the HTTP session under a login that
    waits for Discord fails that login ("Connector is closed"), which is the stop, not a fault."""
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception) as exc:  # the operator asked to stop
        log.debug("start-up ended by the stop: %r", exc)


async def _start(bot: AttendanceBot, settings: Settings) -> None:
    """Log in, check what only Discord can tell, register the commands, then stay connected."""
    try:
        await asyncio.wait_for(bot.login(settings.discord_bot_token), LOGIN_TIMEOUT_SECONDS)
        guild_id = await bot.resolve_guild()
    except nextcord.LoginFailure as exc:
        raise StartupError(messages.token_refused()) from exc
    except (TimeoutError, OSError, aiohttp.ClientError) as exc:
        raise StartupError(messages.discord_unreachable(settings.discord_api_base, _unreachable_reason(exc))) from None
    problem = everyone_role_problem(settings.admin_role_id, guild_id)
    if problem:
        raise StartupError(messages.error_text(problem))
    for notice in settings.notices:
        log.warning("%s", messages.error_text(notice))
    try:
        course = await bot.db.run(bot.services.courses.sync_env_course, guild_id)
    except AttendanceError as exc:
        raise StartupError(messages.env_course_refused(settings.course_name, exc)) from exc
    if course is not None:
        log.info(
            "Course %r from .env: admin channel %s, attendance channel %s",
            course.name,
            course.admin_channel_id,
            course.attendance_channel_id,
        )
    pruned = await bot.db.run(bot.services.attendance.prune_wrong_attempts)
    bot.context.remember_courses(
        await bot.db.run(bot.services.courses.courses)
    )  # for a warning if it becomes unreadable
    if pruned:
        log.info("Deleted %d wrong attempt(s) that no longer count", pruned)
    bot.install()
    bot.connected_once = True
    if settings.shard_count is not None:
        shards = ",".join(map(str, settings.shard_ids)) if settings.shard_ids is not None else "all"
        log.info("Running shard(s) %s of %d", shards, settings.shard_count)
    try:
        await bot.connect(reconnect=True)
    except nextcord.ConnectionClosed as exc:
        if exc.code not in SHARD_CLOSE_CODES:
            raise
        raise StartupError(messages.shards_refused(exc.code, settings.shard_count, settings.shard_ids)) from None


def _unreachable_reason(exc: BaseException) -> str:
    """Why a request never got an answer, in a few words (no traceback)."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {LOGIN_TIMEOUT_SECONDS:.0f} s"
    os_error = getattr(exc, "os_error", exc)
    if isinstance(os_error, socket.gaierror):
        return f"the host name does not resolve: {os_error.strerror}"
    if isinstance(os_error, OSError) and os_error.errno and os_error.errno > 0:
        return os.strerror(os_error.errno).lower()
    return str(exc) or type(exc).__name__


def run(settings: Settings, *, out: IO[str] | None = None) -> int:
    """`manage.py run`: configure logging and serve until stopped; 0 on a clean stop."""
    out = out or sys.stdout
    configure_logging(settings)
    out.write("Configuration validated successfully\n")
    try:
        asyncio.run(serve(settings, out=out))
    except StartupError as exc:
        if settings.log_format == "json":  # stderr holds one JSON object a line: this one too
            log.critical("Error: %s", exc)
        else:
            sys.stderr.write(f"Error: {exc}\n")
        return 1
    except KeyboardInterrupt:  # before the signal handlers are in place (opening the database)
        out.write(messages.stopped_during_startup() + "\n")
    return 0
