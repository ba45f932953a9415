"""The projector page's server over HTTP: the page and its feed behind a live link only, the same 404 for
every other token, the security headers, the feed's codes never ahead of their window, /healthz, /metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from _web import WebThread
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from attendance_bot import __version__, codes, messages
from attendance_bot.bot.metrics import Metrics
from attendance_bot.errors import StorageError
from attendance_bot.models import Session
from attendance_bot.records import Outcome, ProjectorLinkInfo, ProjectorView, SubmitResult
from attendance_bot.services import Services
from attendance_bot.settings import Settings
from attendance_bot.web import app as web_app
from attendance_bot.web import feed as feed_module
from attendance_bot.web import page

INTERVAL = 5


@pytest.fixture
def services(settings_factory: Callable[..., Settings], db: Path | str) -> Services:
    """Services on the wall clock (the feed sleeps until real window boundaries), 5-second codes."""
    return Services(settings_factory(CODE_ROTATION_INTERVAL=str(INTERVAL)))


@pytest.fixture
def web(services: Services) -> Iterator[WebThread]:
    with WebThread(services) as thread:
        yield thread


@pytest.fixture
def link(services: Services) -> ProjectorLinkInfo:
    services.attendance.open_session()
    return services.projector.link()


async def _get(url: str) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, dict(response.headers), await response.text()


def get(web: WebThread, url: str) -> tuple[int, dict[str, str], str]:
    return web.call(_get(url))  # type: ignore[no-any-return]


async def _events(
    url: str, until: Callable[[dict[str, Any]], bool], timeout: float
) -> list[tuple[float, dict[str, Any]]]:
    """The feed's events, each with the epoch second it arrived, until one satisfies `until` (or the
    stream ends, or `timeout` passes)."""
    seen: list[tuple[float, dict[str, Any]]] = []
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200, await response.text()
        buffer = b""
        while time.monotonic() < deadline:
            try:
                chunk = await asyncio.wait_for(response.content.readany(), max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if not chunk:
                break
            buffer += chunk
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                data = b"".join(line[5:] for line in event.split(b"\n") if line.startswith(b"data:"))
                if data:
                    seen.append((time.time(), json.loads(data)))
                    if until(seen[-1][1]):
                        return seen
    return seen


def events(
    web: WebThread, url: str, until: Callable[[dict[str, Any]], bool], timeout: float
) -> list[tuple[float, dict[str, Any]]]:
    return web.call(_events(url, until, timeout), timeout + 10)  # type: ignore[no-any-return]


def test_the_page_of_a_live_link_names_the_course_and_session_and_holds_no_code(
    web: WebThread, link: ProjectorLinkInfo, services: Services
) -> None:
    """200, HTML: the course, the session id, what to type; the code comes only from the feed."""
    status, headers, body = get(web, web.page(link.url))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    text = messages.page_text("default", link.session_id)
    assert '<h1 id="course">default</h1>' in body and text.session in body and text.how in body
    assert services.attendance.current_code().code not in re.sub(r"nonce-[^']+|nonce=\"[^\"]+\"", "", body)


def test_the_page_loads_nothing_from_elsewhere_and_runs_only_its_own_script(
    web: WebThread, link: ProjectorLinkInfo
) -> None:
    """A strict CSP: only the inline style and script carrying this response's nonce; no external URL in the document."""
    _, headers, body = get(web, web.page(link.url))
    csp = headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert f"script-src 'nonce-{nonce}'" in csp and f"style-src 'nonce-{nonce}'" in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    assert "http" not in csp and "unsafe" not in csp
    assert re.findall(r"<(script|style)\b([^>]*)>", body) == [
        ("style", f' nonce="{nonce}"'),
        ("script", f' nonce="{nonce}"'),
    ]
    assert not re.search(r"\b(src|href|action)=", body)
    assert get(web, web.page(link.url))[1]["Content-Security-Policy"] != csp  # a nonce per response


@pytest.mark.parametrize("what", ["page", "feed", "404", "healthz", "metrics"])
def test_every_response_carries_the_security_headers(web: WebThread, link: ProjectorLinkInfo, what: str) -> None:
    """no-store, no referrer, nosniff and no framing on the page, its feed, a 404, /healthz and /metrics."""
    url = {
        "page": web.page(link.url),
        "feed": web.page(link.url) + "/events",
        "404": web.base + "/p/nothing-here",
        "healthz": web.base + "/healthz",
        "metrics": web.base + "/metrics",
    }[what]

    async def headers() -> dict[str, str]:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return dict(response.headers)

    found = web.call(headers())
    assert found["Cache-Control"] == "no-store"
    assert found["Referrer-Policy"] == "no-referrer"
    assert found["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in found["Content-Security-Policy"]
    if what != "page":
        assert found["Content-Security-Policy"] == page.STRICT_CSP
    if what == "feed":
        assert found["Content-Type"] == "text/event-stream; charset=utf-8" and found["X-Accel-Buffering"] == "no"


def test_every_token_that_opens_nothing_gets_the_same_404(web: WebThread, services: Services) -> None:
    """Unknown, replaced, and closed-session tokens, a malformed one and any other path: one status, one body."""
    services.attendance.open_session()
    replaced = services.projector.link()
    live = services.projector.link(new=True)
    closing = web.page(live.url)
    assert get(web, closing)[0] == 200
    services.attendance.close_session()
    answers = {
        get(web, url)[0:3:2]
        for url in (
            web.base + "/p/" + "A" * 32,
            web.page(replaced.url),
            closing,
            closing + "/events",
            web.base + "/p/%C3%A9t%C3%A9",
            web.base + "/p/a/b/c",
            web.base + "/elsewhere",
        )
    }
    assert answers == {(404, messages.page_not_found())}


def test_misses_from_one_address_are_slowed_and_others_are_not() -> None:
    """The first misses of an address answer at once; then each waits longer (to a cap); other
    addresses are not affected, and misses older than the window stop counting."""
    now = [0.0]
    misses = web_app.Misses(clock=lambda: now[0])
    waits = [misses.wait_for("10.0.0.1") for _ in range(web_app.FREE_MISSES + 6)]
    assert waits[: web_app.FREE_MISSES] == [0.0] * web_app.FREE_MISSES
    slowed = waits[web_app.FREE_MISSES :]
    assert slowed[0] == web_app.FIRST_MISS_WAIT and slowed == sorted(slowed) and slowed[-1] == web_app.MAX_MISS_WAIT
    assert misses.wait_for("10.0.0.2") == 0.0
    now[0] += web_app.MISS_WINDOW_SECONDS + 1
    assert misses.wait_for("10.0.0.1") == 0.0


def test_the_feed_never_holds_a_code_before_its_window(
    web: WebThread, link: ProjectorLinkInfo, services: Services
) -> None:
    """Over three windows every event's code is the code of the window it arrived in (or the one
    just ended, on its way), never a later one; the code changes at each boundary."""
    row = Session.get(Session.session_id == link.session_id)
    spec = codes.CodeSpec(
        row.secret, row.interval, row.code_length, row.grace_seconds, (row.window_offset_ms or 0) / 1000
    )
    started = time.time()
    seen = events(
        web, web.page(link.url) + "/events", lambda _: time.time() > started + 3 * INTERVAL + 1, 3 * INTERVAL + 5
    )
    windows = []
    for arrived, state in seen:
        assert state["state"] == "open"
        here = spec.window(arrived)
        assert state["code"] in (spec.code_for(here), spec.code_for(here - 1)), (arrived, state)
        assert state["code"] != spec.code_for(here + 1)
        assert 0 <= state["seconds_left"] <= INTERVAL
        windows.append(next(w for w in (here, here - 1) if spec.code_for(w) == state["code"]))
    assert len(set(windows)) >= 3 and windows == sorted(windows)


def test_the_feed_counts_check_ins_and_says_closed_then_the_link_is_dead(
    web: WebThread, link: ProjectorLinkInfo, services: Services
) -> None:
    """A check-in raises the count (a number, no name); closing the session ends the feed with "closed"; then 404."""
    feed = web.page(link.url) + "/events"

    async def watch() -> list[dict[str, Any]]:
        task = asyncio.ensure_future(_events(feed, lambda s: s["state"] == "closed", 20))
        await asyncio.sleep(1.5)
        code = services.attendance.current_code().code
        await asyncio.to_thread(services.attendance.submit, user_id=42, username="ada", code=code)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(services.attendance.close_session)
        return [state for _, state in await task]

    states = web.call(watch(), 40)
    assert states[0]["count"] == 0 and any(s.get("count") == 1 for s in states)
    assert states[-1] == {"state": "closed"}
    assert not any("ada" in json.dumps(s) for s in states)
    assert get(web, web.page(link.url))[0] == 404


def test_a_replaced_link_ends_its_open_feeds(web: WebThread, link: ProjectorLinkInfo, services: Services) -> None:
    """`/projector new_link:True` while the old page is open: the old page's feed ends with "gone"."""
    feed = web.page(link.url) + "/events"

    async def watch() -> list[dict[str, Any]]:
        task = asyncio.ensure_future(_events(feed, lambda s: s["state"] == "gone", 20))
        await asyncio.sleep(1.0)
        await asyncio.to_thread(services.projector.link, new=True)
        return [state for _, state in await task]

    assert web.call(watch(), 40)[-1] == {"state": "gone"}


@pytest.mark.parametrize(
    ("health", "status", "body"),
    [((True, True), 200, "ok"), ((False, True), 503, "down: database"), ((True, False), 503, "down: discord")],
)
def test_healthz_says_ok_or_what_is_down(web: WebThread, health: tuple[bool, bool], status: int, body: str) -> None:
    web.health = health
    found = get(web, web.base + "/healthz")
    assert (found[0], found[2]) == (status, body + "\n")
    assert body == messages.health_text(*health)


def test_metrics_are_the_bots_registry_in_prometheus_text_format(services: Services) -> None:
    """/metrics: what the bot counted, written by prometheus-client, read back by its parser as Prometheus reads it."""
    metrics = Metrics()
    metrics.checked_in(SubmitResult(Outcome.RECORDED, "S", status="late"))
    metrics.refused(2)
    metrics.open_sessions.set(3)
    with WebThread(services, metrics.registry) as web:
        status, headers, body = get(web, web.base + "/metrics")
    assert status == 200
    assert headers["Content-Type"] == CONTENT_TYPE_LATEST
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }
    counted = {labels[0][1]: v for (name, labels), v in samples.items() if name == "attendance_checkins_total"}
    assert counted == {"present": 0, "late": 1, "wrong": 0, "expired": 0, "throttled": 0, "refused": 2}
    assert samples[("attendance_open_sessions", ())] == 3
    for name in ("attendance_database_errors_total", "attendance_discord_reconnects_total"):
        assert samples[(name, ())] == 0
    for name in ("attendance_reply_seconds_count", "attendance_code_edit_lag_seconds_count"):
        assert samples[(name, ())] == 0
    assert samples[("attendance_bot_info", (("version", __version__),))] == 1


def test_a_port_in_use_is_one_warning_and_no_server(services: Services, caplog: pytest.LogCaptureFixture) -> None:
    """Another program on the port: start() says so in one warning line and returns False."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def start() -> bool:
            async def health() -> tuple[bool, bool]:
                return True, True

            async def run(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
                return func(*args, **kwargs)

            server = web_app.WebServer(services, run, health, bind="127.0.0.1", port=port)
            return await server.start()

        with caplog.at_level(logging.WARNING):
            assert asyncio.run(start()) is False
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [messages.web_port_in_use("127.0.0.1", port, "the port is in use")]


def test_a_feed_that_cannot_read_warns_once_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The database down under an open page: one warning (not one a second), the page keeps what it
    shows, and the first read that works reaches it."""
    monkeypatch.setattr(feed_module, "RETRY_SECONDS", 0.01)
    view = ProjectorView(
        "S", "c", True, 0, code="ABCD", window=1, changes_at=datetime.now(timezone.utc) + timedelta(seconds=30)
    )
    calls = 0

    async def read() -> ProjectorView | None:
        nonlocal calls
        calls += 1
        if calls <= 5:
            raise StorageError("database_failure", action="reading the projector's session")
        return view

    async def watch() -> feed_module.Update | None:
        feed = feed_module.Feed(read, lambda: datetime.now(timezone.utc), lambda done: None)
        update = await feed.watch().next(10)
        await feed.stop()
        return update

    with caplog.at_level(logging.INFO, logger="attendance_bot.web.feed"):
        update = asyncio.run(watch())
    assert update is not None and update.view == view
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
