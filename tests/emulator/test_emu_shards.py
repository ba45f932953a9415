"""Shards: GET /gateway/bot's count, IDENTIFY's [shard_id, shard_count] checked, each shard's guilds and
events only on its session, several sessions at once, with real nextcord AutoShardedClients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import nextcord
import pytest

from attendance_bot.bot.api_base import apply_api_base
from attendance_bot.emulator import Emulator, GuildHandle, NoReply
from attendance_bot.emulator.gateway import shard_of

TIMEOUT = 40.0


@dataclass
class ShardBot:
    """A bare AutoShardedClient running some shards, with what it has seen."""

    name: str
    client: nextcord.AutoShardedClient
    task: asyncio.Task[None] | None = None
    messages: list[tuple[int, str]] = field(default_factory=list)  # members' messages received: (guild id, text)
    joined: list[int] = field(default_factory=list)  # guilds joined during the session

    @property
    def guild_ids(self) -> set[int]:
        return {guild.id for guild in self.client.guilds}

    async def start(self, emu: Emulator) -> ShardBot:
        self.task = asyncio.create_task(self.client.start(emu.token))
        await asyncio.wait_for(self.client.wait_until_ready(), 15)
        return self

    async def stop(self) -> None:
        await self.client.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


def shard_bot(name: str, shard_count: int | None, shard_ids: list[int] | None) -> ShardBot:
    """A client with a global `/whoami` answering its name and the guild's shard; messages and joins noted."""
    intents = nextcord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    client = nextcord.AutoShardedClient(
        intents=intents, shard_count=shard_count, shard_ids=shard_ids, guild_ready_timeout=0.2
    )
    bot = ShardBot(name, client)

    @client.slash_command(name="whoami", description="Which process and shard answer")
    async def whoami(interaction: nextcord.Interaction) -> None:
        assert interaction.guild is not None
        await interaction.response.send_message(f"{name} shard {interaction.guild.shard_id}")

    @client.event
    async def on_message(message: nextcord.Message) -> None:
        if message.guild is not None and not message.author.bot:
            bot.messages.append((message.guild.id, message.content))

    @client.event
    async def on_guild_join(guild: nextcord.Guild) -> None:
        bot.joined.append(guild.id)

    return bot


@contextlib.asynccontextmanager
async def running(*bots: ShardBot, emu: Emulator) -> AsyncIterator[None]:
    """The bots started one after the other (each ready before the next), closed at the end."""
    apply_api_base(emu.api_base)
    try:
        for bot in bots:
            await bot.start(emu)
        await emu.wait_for_bot(15, commands=("whoami",))
        yield
    finally:
        for bot in bots:
            await bot.stop()


async def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def _two_shard_world(emu: Emulator) -> tuple[GuildHandle, GuildHandle]:
    """A guild on each of two shards besides the default one (whose shard is wherever its id falls)."""
    return emu.add_guild("Shard Zero School", shard=(0, 2)), emu.add_guild("Shard One School", shard=(1, 2))


def _on_shard(emu: Emulator, shard: int, count: int = 2) -> set[int]:
    return {g.id for g in emu.guilds if shard_of(g.id, count) == shard}


# -- guild ids and GET /gateway/bot ------------------------------------------------------------


def test_a_guild_can_be_made_on_a_chosen_shard() -> None:
    """add_guild(shard=(id, count)) gives an id Discord's rule puts on that shard; ids keep increasing."""

    async def _main() -> None:
        async with Emulator() as emu:
            made = [emu.add_guild(f"School {i}", shard=(i % 3, 3)) for i in range(7)]
            assert [shard_of(g.id, 3) for g in made] == [i % 3 for i in range(7)]
            assert [emu.shard_of(g.id, 3) for g in made] == [i % 3 for i in range(7)]
            ids = [g.id for g in emu.guilds]
            assert ids == sorted(ids) and len(set(ids)) == len(ids)
            later = emu.add_text_channel("later", guild_id=made[-1].id)
            assert later > made[-1].id  # ids made afterwards are still newer
            with pytest.raises(ValueError, match="not one of 2"):
                emu.add_guild("Nowhere", shard=(2, 2))

    asyncio.run(_main())


@pytest.mark.parametrize(("configured", "recommended"), [(None, 1), (1, 1), (2, 2), (5, 5)])
def test_gateway_bot_recommends_the_configured_shard_count(configured: int | None, recommended: int) -> None:
    """GET /gateway/bot says how many shards to run: 1 unless the emulator is told otherwise."""

    async def _main() -> None:
        async with Emulator(shards=configured) as emu:
            headers = {"Authorization": f"Bot {emu.token}"}
            async with aiohttp.ClientSession() as session:
                async with session.get(emu.api_base + "/gateway/bot", headers=headers) as resp:
                    body = await resp.json()
            assert resp.status == 200
            assert body["shards"] == recommended
            assert body["url"] == emu.gateway_url

    asyncio.run(_main())


# -- IDENTIFY's shard, raw ---------------------------------------------------------------------


async def _identify(emu: Emulator, shard: Any = "absent", token: str | None = None) -> tuple[Any, list[dict]]:
    """IDENTIFY on a raw websocket: (the close code, or the open socket when READY came; the dispatches seen)."""
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(emu.gateway_url)
    hello = await ws.receive_json(timeout=5)
    assert hello["op"] == 10
    d: dict[str, Any] = {"token": token or emu.token, "intents": 1 << 9, "properties": {}}
    if shard != "absent":
        d["shard"] = shard
    await ws.send_json({"op": 2, "d": d})
    message = await ws.receive(timeout=5)
    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
        code = ws.close_code
        await ws.close()
        await session.close()
        return code, []
    events = [json.loads(message.data)]
    ws._test_session = session  # type: ignore[attr-defined]  # closed by _hang_up
    return ws, events


async def _hang_up(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.close()
    await ws._test_session.close()  # type: ignore[attr-defined]


async def _drain(ws: aiohttp.ClientWebSocketResponse, quiet: float = 0.3) -> list[dict]:
    """The dispatches that arrive until the socket has been quiet for `quiet` s."""
    events = []
    while True:
        try:
            message = await ws.receive(timeout=quiet)
        except TimeoutError:
            return events
        if message.type != aiohttp.WSMsgType.TEXT:
            return events
        frame = json.loads(message.data)
        if frame["op"] == 0:
            events.append(frame)


@pytest.mark.parametrize(
    ("expected", "shard", "code"),
    [
        (None, [2, 2], 4010),  # the id must be below the count
        (None, [-1, 2], 4010),
        (None, [0, 0], 4010),
        (None, "0,2", 4010),
        (None, [0, 1, 2], 4010),
        (2, [0, 3], 4011),  # another count than the emulator expects
        (2, [1, 1], 4010),  # invalid first
        (2, "absent", 4011),  # no shard at all: [0, 1], sharding required
        (3, [0, 2], 4011),
    ],
)
def test_an_invalid_shard_or_a_wrong_count_closes_the_connection(expected: int | None, shard: Any, code: int) -> None:
    """IDENTIFY with an invalid shard is closed with 4010, with another shard count than expected with 4011."""

    async def _main() -> None:
        async with Emulator(shards=expected) as emu:
            closed, _ = await _identify(emu, shard)
            assert closed == code
            assert emu.gateway.identify_count == 0 and emu.connected_shards == []

    asyncio.run(_main())


@pytest.mark.parametrize(("expected", "shard"), [(None, "absent"), (None, [1, 3]), (2, [1, 2]), (1, [0, 1])])
def test_a_valid_shard_is_echoed_in_ready(expected: int | None, shard: Any) -> None:
    """A valid shard (any count when the emulator expects none) gets READY with that shard and its guilds only."""

    async def _main() -> None:
        async with Emulator(shards=expected) as emu:
            for i in range(4):
                emu.add_guild(f"School {i}")
            shard_id, count = (0, 1) if shard == "absent" else shard
            ws, events = await _identify(emu, shard)
            try:
                ready = events[0]
                assert ready["t"] == "READY"
                assert ready["d"]["shard"] == [shard_id, count]
                mine = _on_shard(emu, shard_id, count)
                assert {int(g["id"]) for g in ready["d"]["guilds"]} == mine
                creates = [e for e in await _drain(ws) if e["t"] == "GUILD_CREATE"]
                assert {int(e["d"]["id"]) for e in creates} == mine
            finally:
                await _hang_up(ws)

    asyncio.run(_main())


def test_events_of_no_guild_go_to_shard_zero() -> None:
    """A DM-like event (no guild) is sent to shard 0 only; a guild's event to its shard only."""

    async def _main() -> None:
        async with Emulator(shards=2) as emu:
            zero, one = _two_shard_world(emu)
            ws0, _ = await _identify(emu, [0, 2])
            ws1, _ = await _identify(emu, [1, 2])
            try:
                await _drain(ws0)
                await _drain(ws1)
                assert emu.connected_shards == [0, 1]
                dm = {"id": "1", "channel_id": "2", "content": "hi", "author": emu.owner.user_payload()}
                assert emu.gateway.dispatch("MESSAGE_CREATE", dm)
                await emu.post_message(emu.guild(one.id).students[0], one.general_channel_id, "in one")
                await emu.post_message(emu.guild(zero.id).students[0], zero.general_channel_id, "in zero")
                got0 = [(e["t"], e["d"].get("guild_id")) for e in await _drain(ws0)]
                got1 = [(e["t"], e["d"].get("guild_id")) for e in await _drain(ws1)]
                assert got0 == [("MESSAGE_CREATE", None), ("MESSAGE_CREATE", str(zero.id))]
                assert got1 == [("MESSAGE_CREATE", str(one.id))]
            finally:
                await _hang_up(ws0)
                await _hang_up(ws1)

    asyncio.run(_main())


# -- real nextcord clients ---------------------------------------------------------------------


def test_two_processes_each_get_only_their_shards_guilds_and_events() -> None:
    """Two AutoShardedClients (shard 0, shard 1 of 2): each sees only its guilds, answers only their
    interactions and gets only their messages; a guild joined later goes to its shard's client only."""

    async def _main() -> None:
        async with Emulator(shards=2) as emu:
            zero, one = _two_shard_world(emu)
            first, second = shard_bot("first", 2, [0]), shard_bot("second", 2, [1])
            async with running(first, second, emu=emu):
                assert first.guild_ids == _on_shard(emu, 0) and zero.id in first.guild_ids
                assert second.guild_ids == _on_shard(emu, 1) and one.id in second.guild_ids
                assert emu.connected_shards == [0, 1]
                assert sorted(s.shard_id for s in emu.gateway.shard_sessions.values()) == [0, 1]

                for guild, answer in ((zero, "first shard 0"), (one, "second shard 1")):
                    reply = await emu.invoke(guild.instructor, guild.general_channel_id, "whoami")
                    assert reply.content == answer

                await emu.post_message(one.students[0], one.general_channel_id, "hello one")
                await emu.post_message(zero.students[0], zero.general_channel_id, "hello zero")
                seen = ([(zero.id, "hello zero")], [(one.id, "hello one")])
                await _until(lambda: (first.messages, second.messages) == seen)

                late = emu.add_guild("Late School", shard=(1, 2))
                await _until(lambda: late.id in second.guild_ids)
                assert second.joined == [late.id] and first.joined == []
                assert late.id not in first.guild_ids
                reply = await emu.invoke(late.instructor, late.general_channel_id, "whoami")
                assert reply.content == "second shard 1"
                await asyncio.sleep(0.2)
                assert (first.messages, second.messages) == seen  # nothing went twice

    asyncio.run(asyncio.wait_for(_main(), TIMEOUT))


def test_one_process_can_run_every_shard() -> None:
    """shard_count alone: one client runs both shards, sees every guild and answers in each."""

    async def _main() -> None:
        async with Emulator(shards=2) as emu:
            zero, one = _two_shard_world(emu)
            both = shard_bot("both", 2, None)
            async with running(both, emu=emu):
                assert both.guild_ids == {g.id for g in emu.guilds}
                assert emu.connected_shards == [0, 1]
                for guild, shard in ((zero, 0), (one, 1)):
                    reply = await emu.invoke(guild.instructor, guild.general_channel_id, "whoami")
                    assert reply.content == f"both shard {shard}"

    asyncio.run(asyncio.wait_for(_main(), TIMEOUT))


def test_a_dropped_shard_resumes_alone() -> None:
    """Shard 1's websocket dropped: it resumes (events missed meanwhile replayed); shard 0's session never noticed."""

    async def _main() -> None:
        async with Emulator(shards=2) as emu:
            zero, one = _two_shard_world(emu)
            first, second = shard_bot("first", 2, [0]), shard_bot("second", 2, [1])
            async with running(first, second, emu=emu):
                session0 = emu.gateway.shard_sessions[0]
                conn0 = session0.conn
                resumes = emu.gateway.resume_count
                await emu.drop_gateway(shard=1)
                assert emu.connected_shards == [0]
                missed = emu.dispatch_interaction(one.instructor, one.general_channel_id, "whoami")
                assert (await emu.invoke(zero.instructor, zero.general_channel_id, "whoami")).content == "first shard 0"
                assert (await missed.wait(15)).content == "second shard 1"
                await _until(lambda: emu.gateway.resume_count == resumes + 1 and emu.connected_shards == [0, 1])
                assert emu.gateway.shard_sessions[0] is session0 and session0.conn is conn0

    asyncio.run(asyncio.wait_for(_main(), TIMEOUT))


def test_a_restarted_shard_takes_over_its_guilds_only() -> None:
    """Shard 1's process gone: its guilds' interactions go unanswered while shard 0 carries on; a new
    process identifying as shard 1 gets them, and shard 0's session stays as it was."""

    async def _main() -> None:
        async with Emulator(shards=2) as emu:
            zero, one = _two_shard_world(emu)
            first, second = shard_bot("first", 2, [0]), shard_bot("second", 2, [1])
            async with running(first, second, emu=emu):
                session0 = emu.gateway.shard_sessions[0]
                await second.stop()
                await _until(lambda: emu.connected_shards == [0])
                with pytest.raises(NoReply):
                    await emu.invoke(one.instructor, one.general_channel_id, "whoami", timeout=1.0)
                assert (await emu.invoke(zero.instructor, zero.general_channel_id, "whoami")).content == "first shard 0"

                third = await shard_bot("third", 2, [1]).start(emu)
                try:
                    assert third.guild_ids == _on_shard(emu, 1)
                    assert emu.connected_shards == [0, 1]
                    assert emu.gateway.shard_sessions[0] is session0
                    reply = await emu.invoke(one.instructor, one.general_channel_id, "whoami")
                    assert reply.content == "third shard 1"
                    reply = await emu.invoke(zero.instructor, zero.general_channel_id, "whoami")
                    assert reply.content == "first shard 0"
                finally:
                    await third.stop()

    asyncio.run(asyncio.wait_for(_main(), TIMEOUT))


def test_nextcord_told_the_wrong_shard_count_stops_with_4011() -> None:
    """A client running 3 shards where the emulator expects 2 is closed with 4011, which nextcord raises."""

    async def _main() -> None:
        async with Emulator(shards=2) as emu:
            apply_api_base(emu.api_base)
            wrong = shard_bot("wrong", 3, [0])
            try:
                with pytest.raises(nextcord.ConnectionClosed) as caught:
                    await asyncio.wait_for(wrong.client.start(emu.token), 15)
                assert caught.value.code == 4011
            finally:
                await wrong.stop()

    asyncio.run(asyncio.wait_for(_main(), TIMEOUT))


# -- token aliases -----------------------------------------------------------------------------


def test_token_aliases_tell_processes_apart() -> None:
    """A token alias works as the bot's token on REST and the gateway; requests and sessions carry its name."""

    async def _main() -> None:
        async with Emulator(shards=2) as emu:
            _, one = _two_shard_world(emu)
            alias = emu.token_alias("worker-1")
            assert emu.token_alias("worker-1") == alias and alias != emu.token
            async with aiohttp.ClientSession() as http:
                for token, status in ((alias, 200), (emu.token, 200), (alias + "x", 401)):
                    async with http.get(emu.api_base + "/users/@me", headers={"Authorization": f"Bot {token}"}) as r:
                        assert r.status == status
            assert [(m, p, s, a) for _, m, p, s, a in emu.requests_by("worker-1")] == [
                ("GET", "/users/@me", 200, "worker-1")
            ]

            apply_api_base(emu.api_base)
            bot = shard_bot("aliased", 2, [1])
            bot.task = asyncio.create_task(bot.client.start(alias))
            try:
                await asyncio.wait_for(bot.client.wait_until_ready(), 15)
                assert emu.gateway.shard_sessions[1].label == "worker-1"
                await emu.wait_for_bot(15, commands=("whoami",))
                reply = await emu.invoke(one.instructor, one.general_channel_id, "whoami")
                assert reply.content == "aliased shard 1"
                assert emu.requests_by("worker-1", "GET", "/gateway")
                assert emu.requests_by("nobody") == []
            finally:
                await bot.stop()

    asyncio.run(asyncio.wait_for(_main(), TIMEOUT))
