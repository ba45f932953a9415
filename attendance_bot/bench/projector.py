"""The projector scenario: many projector pages (live feeds) open on one session, and how late each code arrives."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import time
from pathlib import Path

import aiohttp

from ..emulator import Emulator
from . import load, multicourse

PAGES = 200  # the "200 projector pages open on one session"
_LINK = re.compile(r"(https?://\S+?/p/[A-Za-z0-9_-]+)")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, for the bot's WEB_PORT."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def page_link(emu: Emulator, timeout: float = 20.0) -> str:
    """`/projector` as the instructor: the open session's page link."""
    reply = await emu.invoke(emu.instructor, emu.admin_channel_id, "projector", timeout=timeout)
    found = _LINK.search(reply.content or "")
    if found is None:
        raise RuntimeError(f"/projector gave no link: {reply.content!r}")
    return found.group(1)


class Page:
    """One open page, reading its feed as the browser does: each code change, when it arrived."""

    def __init__(self) -> None:
        self.changes: list[float] = []  # epoch seconds at which a new code arrived, oldest first
        self.code = ""
        self.connected = asyncio.Event()

    async def read(self, http: aiohttp.ClientSession, url: str) -> None:
        async with http.get(url + "/events") as response:
            if response.status != 200:
                raise RuntimeError(f"the page's feed answered {response.status}")
            buffer = b""
            async for chunk in response.content.iter_any():
                arrived = time.time()
                buffer += chunk
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    for line in event.split(b"\n"):
                        if line.startswith(b"data:"):
                            self._seen(json.loads(line[5:]), arrived)

    def _seen(self, state: dict[str, object], arrived: float) -> None:
        code = str(state.get("code") or "")
        if state.get("state") == "open" and code != self.code:
            if self.code:
                self.changes.append(arrived)
            self.code = code
            self.connected.set()


class Pages:
    """`count` pages open on one link, each its own connection, for the scenario's length."""

    def __init__(self, url: str, count: int = PAGES) -> None:
        self.url = url
        self.pages = [Page() for _ in range(count)]
        self._http: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self, timeout: float) -> None:
        """Open every page and wait until each shows a code."""
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self._tasks = [asyncio.ensure_future(page.read(self._http, self.url)) for page in self.pages]
        waiting = [asyncio.ensure_future(page.connected.wait()) for page in self.pages]
        _, pending = await asyncio.wait(waiting, timeout=timeout)
        for task in pending:
            task.cancel()
        failed = [t.exception() for t in self._tasks if t.done() and not t.cancelled() and t.exception()]
        if pending or failed:
            await self.close()
            raise RuntimeError(f"{len(pending)} of {len(self.pages)} projector pages showed no code: {failed[:1]}")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._http is not None:
            await self._http.close()

    def lags(self, interval: float, offset: float, since: float, until: float) -> list[float | None]:
        """For each page and each window boundary in [since, until): how long after it the page had
        the new code (None: not before the next boundary)."""
        return [
            lag
            for page in self.pages
            for _, lag in multicourse.boundary_lags(page.changes, interval, offset, since, until)
        ]


def judge(pages: Pages, database: Path | str, session_id: str, since: float, until: float, result: load.Result) -> None:
    """The scenario's figure: whether the code reached every page within ON_TIME_SECONDS of each boundary."""
    windows = multicourse.session_windows(database)
    interval, offset = windows[session_id]
    lags = pages.lags(interval, offset, since, until)
    arrived = sorted(lag for lag in lags if lag is not None)
    missed = sum(1 for lag in lags if lag is None)
    boundaries = len(lags) // max(1, len(pages.pages))
    worst = arrived[-1] if arrived else None
    p99 = load.nearest_rank(arrived, 0.99)
    on_time = worst is not None and worst <= load.ON_TIME_SECONDS and not missed
    result.extras["projector"] = (
        f"{len(pages.pages)} pages, {boundaries} window {'boundary' if boundaries == 1 else 'boundaries'}: "
        "the new code on every page within "
        f"{_ms(worst)} of its boundary (p99 {_ms(p99)}), {missed} missed: {'on time' if on_time else 'LATE'}"
    )
    if worst is not None:
        result.figures["projector max lag ms"] = worst * 1000
    if not on_time:
        result.notes.append("the code reached a projector page more than 1 s after its boundary")


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"
