"""The web adapter (aiohttp): a session's projector page behind its link, the page's live feed, /healthz,
and /metrics (the bot's Prometheus metrics, written by prometheus-client)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .. import messages
from ..projector import PAGE_PATH
from ..records import ProjectorView
from ..services import Services
from . import page
from .feed import Feed, Update, Watcher

log = logging.getLogger(__name__)

# Runs a service call off the event loop (the bot's database thread) and awaits its result.
Runner = Callable[..., Awaitable[Any]]
# Whether the database and the Discord connection are up, for /healthz.
Health = Callable[[], Awaitable[tuple[bool, bool]]]

MAX_TOKEN_LENGTH = 200  # longer path parts are cut before hashing: the lookup costs the same
KEEP_ALIVE_SECONDS = 15.0  # a comment on an idle feed, so proxies keep the stream open
# Misses (a token that opens nothing) from one address: the first FREE_MISSES in MISS_WINDOW_SECONDS
# answer at once; each further one waits FIRST_MISS_WAIT seconds, doubling, up to MAX_MISS_WAIT.
FREE_MISSES = 10
MISS_WINDOW_SECONDS = 600.0
FIRST_MISS_WAIT = 0.5
MAX_MISS_WAIT = 8.0
MAX_ADDRESSES = 10_000  # addresses remembered at once (the oldest forgotten first)
SHUTDOWN_SECONDS = 0.5


class Misses:
    """Counts each address's misses over a sliding window and says how long its next one waits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def wait_for(self, address: str) -> float:
        """Note a miss from `address`; the seconds its answer waits."""
        now = self._clock()
        seen = self._seen.pop(address, None) or deque()
        while seen and seen[0] <= now - MISS_WINDOW_SECONDS:
            seen.popleft()
        seen.append(now)
        self._seen[address] = seen  # newest last: the oldest addresses go first when there are too many
        while len(self._seen) > MAX_ADDRESSES:
            del self._seen[next(iter(self._seen))]
        extra = len(seen) - FREE_MISSES
        return 0.0 if extra <= 0 else min(FIRST_MISS_WAIT * 2 ** min(extra - 1, 16), MAX_MISS_WAIT)


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    """What every response carries, set before its headers go out (the feed's stream too)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", page.STRICT_CSP)
    headers["Cache-Control"] = "no-store"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["X-Robots-Tag"] = "noindex, nofollow"


def _event(update: Update, clock: Callable[[], datetime]) -> bytes:
    """One server-sent event: the view as the page reads it (seconds left counted now), or its end."""
    view = update.view
    if update.ended or view is None or view.changes_at is None:
        body: dict[str, Any] = {"state": update.ended or "gone"}
    else:
        body = {
            "state": "open",
            "code": view.code,
            "seconds_left": round(max(0.0, (view.changes_at - clock()).total_seconds()), 3),
            "count": view.count,
            "session": view.session_id,
        }
    return f"data: {json.dumps(body)}\n\n".encode()


class WebServer:
    """The page's HTTP server inside the bot process, on the bot's event loop.

    Built over the bot's services (reached through `run`, the database thread), a health check
    and the registry of the bot's metrics; `start()` listens on `bind`:`port` (port 0: any free one,
    for tests; the bot does not start it when WEB_PORT is 0).
    """

    def __init__(
        self,
        services: Services,
        run: Runner,
        health: Health,
        *,
        bind: str,
        port: int,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.services = services
        self.registry = registry or CollectorRegistry()
        self.projector = services.projector
        self._run = run
        self._health = health
        self.bind = bind
        self.port = port
        self.misses = Misses()
        self._feeds: dict[str, Feed] = {}
        self._watchers: set[Watcher] = set()
        self._runner: web.AppRunner | None = None
        self._stopping = False

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._not_found])
        app.router.add_get("/healthz", self._healthz, allow_head=True)
        app.router.add_get("/metrics", self._metrics, allow_head=True)
        app.router.add_get(PAGE_PATH + "{token}", self._page)
        app.router.add_get(PAGE_PATH + "{token}/events", self._events)
        app.on_response_prepare.append(_headers)
        return app

    async def start(self) -> bool:
        """Listen; False (and one warning line) when the address cannot be had, such as a port in use."""
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.bind, self.port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            if exc.errno == errno.EADDRINUSE:
                reason = "the port is in use"
            log.warning("%s", messages.web_port_in_use(self.bind, self.port, reason.lower()))
            return False
        self._runner = runner
        if runner.addresses:  # the port chosen for port 0
            self.port = int(runner.addresses[0][1])
        log.info("%s", messages.web_serving(self.bind, self.port, self.services.settings.public_url))
        return True

    async def stop(self) -> None:
        """Close every page's feed (the pages reconnect by themselves to the next start) and stop listening."""
        self._stopping = True
        for watcher in list(self._watchers):
            watcher.give(Update(None, "stopping"))
        for feed in list(self._feeds.values()):
            await feed.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- handlers ---------------------------------------------------------------------------

    @web.middleware
    async def _not_found(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):  # type: ignore[no-untyped-def]
        """Every 404 of the server has one body, whatever was asked for."""
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return self._404()

    def _404(self) -> web.Response:
        return web.Response(status=404, text=messages.page_not_found(), content_type="text/plain")

    async def _miss(self, request: web.Request) -> web.Response:
        """A token that opens nothing: the same 404 for all of them, slower for an address that keeps missing."""
        wait = self.misses.wait_for(request.remote or "")
        if wait:
            await asyncio.sleep(wait)
        return self._404()

    async def _page(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"][:MAX_TOKEN_LENGTH]
        view: ProjectorView | None = None
        if await self._run(self.projector.open_session_of, token) is not None:
            view = await self._run(self.projector.view, token)
        if view is None or not view.is_open:
            return await self._miss(request)
        nonce = secrets.token_urlsafe(18)
        response = web.Response(text=page.render(view, nonce), content_type="text/html", charset="utf-8")
        response.headers["Content-Security-Policy"] = page.csp(nonce)
        return response

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """The page's feed: server-sent events, a view at each window boundary and each change of the
        count, until the session closes or its link is replaced (then one last event says which)."""
        token = request.match_info["token"][:MAX_TOKEN_LENGTH]
        if self._stopping or await self._run(self.projector.open_session_of, token) is None:
            return await self._miss(request)
        feed = self._feed(token)
        watcher = feed.watch()
        self._watchers.add(watcher)
        # X-Accel-Buffering: a reverse proxy (nginx) passes each event on at once instead of buffering the stream.
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "no"}
        )
        try:
            await response.prepare(request)
            while True:
                update = await watcher.next(KEEP_ALIVE_SECONDS)
                if update is None:
                    await response.write(b": still here\n\n")
                    continue
                if update.ended == "stopping":
                    break
                await response.write(_event(update, self.services.clock))
                if update.ended:
                    break
        except ConnectionResetError:
            pass  # the page went away
        finally:
            feed.leave(watcher)
            self._watchers.discard(watcher)
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await response.write_eof()
        return response

    def _feed(self, token: str) -> Feed:
        """The one feed of a link, made by its first page."""
        feed = self._feeds.get(token)
        if feed is None:

            async def read() -> ProjectorView | None:
                return await self._run(self.projector.view, token)

            def forget(done: Feed) -> None:
                if self._feeds.get(token) is done:
                    del self._feeds[token]

            feed = Feed(read, self.services.clock, forget)
            self._feeds[token] = feed
        return feed

    async def _healthz(self, request: web.Request) -> web.Response:
        """`ok` (200) when the database and the Discord connection are up; else 503 and what is down."""
        database_up, discord_up = await self._health()
        up = database_up and discord_up
        return web.Response(status=200 if up else 503, text=messages.health_text(database_up, discord_up) + "\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        """The bot's metrics in Prometheus' text format (prometheus-client writes it; reading them is quick)."""
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})
