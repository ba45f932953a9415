"""Rate-limit buckets per channel, with the real nextcord client (2.6 and 3.x) against the emulator.

Discord answers one `X-RateLimit-Bucket` hash for a route in every channel, and each channel has
its own 5 per 5 s. nextcord 3.x keyed buckets by the hash alone and so held twenty courses' code
messages to one channel's limit; the bot reads the hash with the channel added (bot/buckets.py).
"""

from __future__ import annotations

import asyncio
import itertools

import nextcord

from attendance_bot.bot.api_base import apply_api_base
from attendance_bot.bot.buckets import bucket_with_major, use_major_buckets
from attendance_bot.bot.rotation import MESSAGE_REQUESTS_PER_SECOND, Pacer
from attendance_bot.emulator import Emulator

CHANNELS = 4
PER_CHANNEL = 5  # each channel's whole allowance: nothing needs to wait if buckets are per channel
BUCKET_WINDOW = 5.0  # seconds: a client that shared one bucket across channels waits this long


def test_the_major_parameter_joins_the_hash() -> None:
    """Channels, servers and webhooks get buckets of their own; a route without one keeps the hash."""
    assert bucket_with_major("abc", "/api/v10/channels/123/messages/456") == "abc:123"
    assert bucket_with_major("abc", "/api/v10/guilds/77/members") == "abc:77"
    assert bucket_with_major("abc", "/api/v10/webhooks/9/tok") == "abc:9"
    assert bucket_with_major("abc", "/api/v10/users/@me") == "abc"


def test_messages_to_several_channels_are_not_held_to_one_channels_limit() -> None:
    """Twenty messages, five to each of four channels, sent at once: all reach Discord without the
    client waiting for a bucket to reset (they arrive well within one 5-s window) and none is refused."""

    async def scenario() -> tuple[list[tuple[float, str, str, int]], int]:
        async with Emulator() as emu:
            apply_api_base(emu.api_base)
            channels = [emu.add_text_channel(f"course-{i}") for i in range(CHANNELS)]
            client = nextcord.Client(intents=nextcord.Intents.none())
            use_major_buckets(client.http)
            await client.login(emu.token)
            try:
                await asyncio.gather(
                    *(
                        client.http.send_message(channel, content=f"code {n}")
                        for n in range(PER_CHANNEL)
                        for channel in channels
                    )
                )
            finally:
                await client.close()
            sends = [r for r in emu.requests("POST") if any(f"/channels/{c}/messages" in r[2] for c in channels)]
            return sends, sum(len(emu.messages(c)) for c in channels)

    sends, stored = asyncio.run(scenario())
    assert stored == CHANNELS * PER_CHANNEL
    assert [status for _, _, _, status in sends] == [200] * (CHANNELS * PER_CHANNEL)
    span = max(t for t, _, _, _ in sends) - min(t for t, _, _, _ in sends)
    assert span < BUCKET_WINDOW * 0.8, f"the client held messages back for a shared bucket: {span:.1f} s"


def test_code_message_requests_are_spaced_under_discords_global_limit() -> None:
    """The rotator's pacer lets requests out at most `rate` a second, however many wait at once
    (50 courses opened or closed together stay under Discord's 50 requests per second)."""

    async def scenario() -> list[float]:
        pacer = Pacer(20)
        loop = asyncio.get_running_loop()
        released: list[float] = []

        async def one() -> None:
            await pacer.wait()
            released.append(loop.time())

        await asyncio.gather(*(one() for _ in range(6)))
        return sorted(released)

    released = asyncio.run(scenario())
    gaps = [later - earlier for earlier, later in itertools.pairwise(released)]
    assert min(gaps) >= 1 / 20 - 0.002, gaps
    assert MESSAGE_REQUESTS_PER_SECOND < 50
