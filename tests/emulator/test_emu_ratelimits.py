"""Discord's rate limits in the emulator: per-route buckets, headers, 429 bodies, the global limit, exemptions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aiohttp
import nextcord
import pytest
from emu_testbot import COMMANDS, make_bot

from attendance_bot.bot.api_base import apply_api_base
from attendance_bot.emulator import Emulator
from attendance_bot.emulator.ratelimits import RateLimiter, RouteLimit

SEND = "POST /channels/{channel_id}/messages"
EDIT = "PATCH /channels/{channel_id}/messages/{message_id}"
DELETE = "DELETE /channels/{channel_id}/messages/{message_id}"
GET_CHANNEL = "GET /channels/{channel_id}"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(monotonic=clock, wall=lambda: 1_700_000_000.0)


@pytest.mark.parametrize(("route", "limit", "window"), [(SEND, 5, 5.0), (EDIT, 5, 5.0), (DELETE, 5, 5.0)])
def test_message_routes_allow_five_per_five_seconds_per_channel(route: str, limit: int, window: float) -> None:
    """Five requests pass with Remaining counting down, the sixth waits for the window, another channel does not."""
    clock = FakeClock()
    limiter = _limiter(clock)
    verdicts = [limiter.check(route, "111") for _ in range(limit)]
    assert [v.headers["X-RateLimit-Remaining"] for v in verdicts] == [str(limit - 1 - i) for i in range(limit)]
    first = verdicts[0].headers
    assert first["X-RateLimit-Limit"] == str(limit) and first["X-RateLimit-Reset-After"] == f"{window:.3f}"
    assert first["X-RateLimit-Reset"] == f"{1_700_000_000.0 + window:.3f}"
    clock.now += 1.25
    refused = limiter.check(route, "111")
    assert not refused.allowed and not refused.is_global and refused.retry_after == pytest.approx(window - 1.25)
    assert limiter.check(route, "222").allowed  # a channel of its own
    assert limiter.check(route, "222").headers["X-RateLimit-Bucket"] == first["X-RateLimit-Bucket"]
    clock.now += window
    assert limiter.check(route, "111").allowed


def test_global_limit_is_fifty_per_second_across_routes() -> None:
    """The 51st bot-token request within a second is refused globally, whatever its route."""
    clock = FakeClock()
    limiter = _limiter(clock)
    for i in range(50):
        assert limiter.check(GET_CHANNEL, str(i)).allowed
    refused = limiter.check(SEND, "999")
    assert not refused.allowed and refused.is_global and 0 < refused.retry_after <= 1.0
    clock.now += 1.0
    assert limiter.check(SEND, "999").allowed


async def _raw(emu: Emulator, method: str, path: str, **kw: Any) -> tuple[int, Any, Any]:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.request(method, emu.api_base + path, headers=headers, **kw) as resp:
            return resp.status, await resp.json(content_type=None), resp.headers


def _with_emulator(scenario: Any, **kw: Any) -> None:
    async def _main() -> None:
        async with Emulator(**kw) as emu:
            await scenario(emu)

    asyncio.run(asyncio.wait_for(_main(), 30))


def test_sixth_message_in_five_seconds_is_429_with_discords_body_and_headers() -> None:
    """Over HTTP: headers on every answer, then 429 with retry_after, Retry-After and the user scope."""

    async def scenario(emu: Emulator) -> None:
        path = f"/channels/{emu.attendance_channel_id}/messages"
        answers = [await _raw(emu, "POST", path, json={"content": f"m{i}"}) for i in range(5)]
        assert [s for s, _, _ in answers] == [200] * 5
        assert [h["X-RateLimit-Remaining"] for _, _, h in answers] == ["4", "3", "2", "1", "0"]
        assert {h["X-RateLimit-Limit"] for _, _, h in answers} == {"5"}
        assert len({h["X-RateLimit-Bucket"] for _, _, h in answers}) == 1
        assert all(0 < float(h["X-RateLimit-Reset-After"]) <= 5 for _, _, h in answers)
        assert all(float(h["X-RateLimit-Reset"]) > time.time() for _, _, h in answers)
        status, body, headers = await _raw(emu, "POST", path, json={"content": "one too many"})
        assert status == 429
        assert set(body) == {"message", "retry_after", "global"}
        assert body["message"] == "You are being rate limited." and body["global"] is False
        assert 0 < body["retry_after"] <= 5
        assert int(headers["Retry-After"]) >= body["retry_after"] and headers["X-RateLimit-Scope"] == "user"
        assert headers["X-RateLimit-Remaining"] == "0"
        assert len(emu.messages(emu.attendance_channel_id)) == 5  # the refused one was not stored
        status, _, _ = await _raw(emu, "POST", f"/channels/{emu.admin_channel_id}/messages", json={"content": "x"})
        assert status == 200

    _with_emulator(scenario)


def test_global_limit_over_http_and_interaction_routes_exempt() -> None:
    """51 bot-token requests in a second meet the global 429; callbacks and webhooks never do."""

    async def scenario(emu: Emulator) -> None:
        path = f"{emu.api_base}/channels/{emu.general_channel_id}"
        async with aiohttp.ClientSession(headers={"Authorization": f"Bot {emu.token}"}) as session:

            async def get() -> tuple[int, Any, Any]:
                async with session.get(path) as resp:
                    return resp.status, await resp.json(), resp.headers

            answers = await asyncio.gather(*(get() for _ in range(60)))
        limited = [(body, headers) for status, body, headers in answers if status == 429]
        assert limited, "60 requests at once should meet the global limit of 50 per second"
        body, headers = limited[0]
        assert body["global"] is True and headers["X-RateLimit-Global"] == "true"
        assert headers["X-RateLimit-Scope"] == "global" and "X-RateLimit-Bucket" not in headers
        for i in range(120):  # unknown interactions: 404, never 429, and no bucket headers
            status, _, headers = await _raw(emu, "POST", f"/interactions/{i}/tok{i}/callback", json={"type": 4})
            assert status == 404 and "X-RateLimit-Bucket" not in headers
            status, _, _ = await _raw(emu, "POST", f"/webhooks/{emu.application_id}/tok{i}", json={"content": "x"})
            assert status == 404

    _with_emulator(scenario)


def test_rate_limits_can_be_switched_off() -> None:
    """``Emulator(rate_limits=False)``: no 429 and no rate-limit headers."""

    async def scenario(emu: Emulator) -> None:
        path = f"/channels/{emu.attendance_channel_id}/messages"
        answers = [await _raw(emu, "POST", path, json={"content": f"m{i}"}) for i in range(60)]
        assert {s for s, _, _ in answers} == {200}
        assert "X-RateLimit-Bucket" not in answers[0][2]

    _with_emulator(scenario, rate_limits=False)


def test_nextcord_sends_eight_messages_through_the_limits() -> None:
    """The real client: 8 quick sends to a channel whose bucket another client just spent all arrive,
    after at least one 429 that nextcord waited out (the window is 1 s here to keep the test short)."""

    async def _main() -> None:
        async with Emulator() as emu:
            emu.rest.limiter.routes[SEND] = RouteLimit(5, 1.0)
            apply_api_base(emu.api_base)
            bot = make_bot(emu.guild_id)
            task = asyncio.create_task(bot.start(emu.token))
            try:
                await emu.wait_for_bot(15, commands=COMMANDS)
                cid = emu.attendance_channel_id
                for i in range(5):  # e.g. the bot's previous process, just before a restart
                    assert (await _raw(emu, "POST", f"/channels/{cid}/messages", json={"content": f"old {i}"}))[
                        0
                    ] == 200
                channel = bot.get_channel(cid)
                assert isinstance(channel, nextcord.TextChannel)
                started = time.perf_counter()
                sent = await asyncio.gather(*(channel.send(f"new {i}") for i in range(8)))
                elapsed = time.perf_counter() - started
                assert len(sent) == 8
                # All eight arrive; concurrent sends have no order (nextcord 3.x re-sends the refused one last).
                contents = [m.content for m in emu.messages(cid)]
                assert contents[:5] == [f"old {i}" for i in range(5)]
                assert sorted(contents[5:]) == [f"new {i}" for i in range(8)]
                statuses = [s for _, m, p, s in emu.request_log if m == "POST" and p == f"/channels/{cid}/messages"]
                assert statuses.count(429) >= 1 and statuses.count(200) == 13
                assert elapsed >= 1.0  # waited out the 429, then the exhausted bucket, rather than failing
            finally:
                await bot.close()
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    asyncio.run(asyncio.wait_for(_main(), 40))
