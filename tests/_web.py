"""The projector page's server in a thread of its own (its own event loop and database thread), over a
real database, for tests that talk HTTP to it or point a browser at it."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry

from attendance_bot.bot.dbworker import DatabaseWorker
from attendance_bot.services import Services
from attendance_bot.web.app import WebServer


class WebThread:
    """`with WebThread(services) as web:` serves the page on 127.0.0.1, a free port; `web.base` is its
    address. `health` is what /healthz is told (database up, Discord up); /metrics serves `registry`."""

    def __init__(self, services: Services, registry: CollectorRegistry | None = None) -> None:
        self.services = services
        self.registry = registry
        self.health: tuple[bool, bool] = (True, True)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="web-test", daemon=True)
        self.server: WebServer | None = None
        self.db: DatabaseWorker | None = None

    def __enter__(self) -> WebThread:
        self._thread.start()
        self.call(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.call(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    def call(self, coroutine: Any, timeout: float = 30.0) -> Any:
        """Run a coroutine on the server's loop and wait for its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    async def _start(self) -> None:
        self.db = DatabaseWorker()
        self.server = WebServer(
            self.services, self.db.run, self._health, bind="127.0.0.1", port=0, registry=self.registry
        )
        assert await self.server.start()

    def go_down(self) -> int:
        """Stop the server, as a stopping bot does (its pages lose their feeds); the port it had."""
        assert self.server is not None
        port = self.server.port
        self.call(self.server.stop())
        return port

    def come_back(self, port: int) -> None:
        """Start a new server on `port`, as the restarted bot does."""

        async def again() -> None:
            assert self.db is not None and self.server is not None
            self.server = WebServer(self.services, self.db.run, self._health, bind="127.0.0.1", port=port)
            assert await self.server.start()

        self.call(again())

    async def _stop(self) -> None:
        assert self.server is not None and self.db is not None
        await self.server.stop()
        self.db.shutdown(5)

    async def _health(self) -> tuple[bool, bool]:
        return self.health

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    def page(self, link_url: str) -> str:
        """A link's page on this server (the link names PUBLIC_URL; the path is what counts)."""
        return self.base + urlsplit(link_url).path
