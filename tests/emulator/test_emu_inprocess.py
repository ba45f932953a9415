"""Emulator tests driving a real nextcord client in-process on the same event loop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import aiohttp
import nextcord
import pytest
from emu_testbot import COMMANDS, make_bot

from attendance_bot.bot.api_base import apply_api_base
from attendance_bot.emulator import Emulator, NoReply

Scenario = Callable[[Emulator, nextcord.Client], Awaitable[None]]


def run_with_bot(scenario: Scenario, timeout: float = 40.0) -> None:
    """Start an emulator and the test bot, run ``scenario``, tear everything down."""

    async def _main() -> None:
        async with Emulator() as emu:
            apply_api_base(emu.api_base)
            bot = make_bot(emu.guild_id)
            task = asyncio.create_task(bot.start(emu.token))
            try:
                await emu.wait_for_bot(15, commands=COMMANDS)
                await scenario(emu, bot)
            finally:
                await bot.close()
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    asyncio.run(asyncio.wait_for(_main(), timeout))


async def _raw(emu: Emulator, method: str, path: str, **kw: object) -> tuple:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.request(method, emu.api_base + path, headers=headers, **kw) as resp:  # type: ignore[arg-type]
            return resp.status, await resp.json(), dict(resp.headers)


def test_startup_and_command_registration() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        cmds = emu.registered_commands(emu.guild_id)
        assert sorted(c["name"] for c in cmds) == sorted(COMMANDS)
        for c in cmds:
            assert int(c["id"]) > 1 << 40
            assert c["application_id"] == str(emu.application_id)
            assert c["guild_id"] == str(emu.guild_id)
        assert emu.registered_commands() == []
        paths = [(m, p) for _, m, p, _ in emu.request_log]
        assert ("GET", "/users/@me") in paths and ("GET", "/gateway") in paths
        assert emu.unknown_routes == []
        assert bot.user is not None and bot.user.id == emu.bot_user_id
        guild = bot.get_guild(emu.guild_id)
        assert guild is not None and guild.get_channel(emu.attendance_channel_id) is not None
        assert guild.me is not None and guild.me.id == emu.bot_user_id  # no members intent: only the bot
        status, body, headers = await _raw(emu, "GET", f"/channels/{emu.admin_channel_id}")
        assert status == 200 and body["name"] and "X-RateLimit-Bucket" in headers
        status, body, _ = await _raw(emu, "GET", f"/guilds/{emu.guild_id}/members/{emu.instructor.id}")
        assert status == 200 and str(emu.admin_role_id) in body["roles"]

    run_with_bot(scenario)


def test_ephemeral_reply_with_content() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        reply = await emu.invoke(emu.students[0], emu.attendance_channel_id, "echo", text="hello")
        assert reply.content == "echo: hello"
        assert reply.ephemeral and not reply.deferred and reply.type == 4
        assert 0 < reply.latency < 5
        # ephemeral replies are hidden from the channel history by default
        assert emu.messages(emu.attendance_channel_id) == []
        assert len(emu.messages(emu.attendance_channel_id, include_ephemeral=True)) == 1

    run_with_bot(scenario)


def test_embed_reply() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        reply = await emu.invoke(emu.instructor, emu.admin_channel_id, "card")
        assert not reply.ephemeral
        assert reply.embeds[0]["title"] == "Attendance card"
        assert reply.embeds[0]["fields"][0] == {"name": "present", "value": "3", "inline": True}
        assert "Session 1" in reply.text
        (msg,) = emu.messages(emu.admin_channel_id)
        assert msg.embeds == reply.embeds and msg.author_id == emu.bot_user_id

    run_with_bot(scenario)


def test_deferred_reply_with_file() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        reply = await emu.invoke(emu.instructor, emu.admin_channel_id, "report")
        assert reply.deferred and reply.type == 5 and reply.ephemeral
        assert reply.content == "report ready"
        assert reply.files == [("report.csv", b"student,present\nalice,yes\n")]
        assert reply.latency >= reply.ack_latency
        msg = emu.get_message(reply.message_id or 0)
        assert msg is not None and msg.attachments[0].url.startswith(emu.base_url)
        async with aiohttp.ClientSession() as session:
            async with session.get(msg.attachments[0].url) as resp:
                assert await resp.read() == b"student,present\nalice,yes\n"

    run_with_bot(scenario)


def test_channel_message_create_edit_delete_history() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        cid = emu.attendance_channel_id
        reply = await emu.invoke(emu.instructor, cid, "post", text="roll call")
        (msg,) = emu.messages(cid)
        assert str(msg.id) == reply.content
        assert msg.content == "edited: roll call"
        assert [v.content for v in msg.edits] == ["posted: roll call"]
        assert msg.edited_at is not None and msg.edits[0].timestamp <= msg.edited_at
        await emu.delete_message(cid, msg.id)
        assert emu.messages(cid)[0].deleted
        assert emu.messages(cid, include_deleted=False) == []
        status, body, _ = await _raw(emu, "GET", f"/channels/{cid}/messages/{msg.id}")
        assert (status, body["code"]) == (404, 10008)
        # an edit of a message older than an hour (emulator time) is refused with 30046
        fresh = await bot.get_channel(cid).send("old news")  # type: ignore[union-attr]
        emu.advance_clock(3700)
        with pytest.raises(nextcord.HTTPException) as info:
            await fresh.edit(content="too late")
        assert info.value.code == 30046

    run_with_bot(scenario)


def test_unknown_route_is_404_and_recorded() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        status, body, _ = await _raw(emu, "GET", "/no/such/route")
        assert status == 404 and body == {"message": "404: Not Found", "code": 0}
        assert ("GET", "/no/such/route") in emu.unknown_routes
        async with aiohttp.ClientSession() as session:
            async with session.get(emu.api_base + "/users/@me") as resp:
                assert resp.status == 401

    run_with_bot(scenario)


def test_500_and_429_faults_are_survived() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        fail = emu.faults.add(r"/interactions/\d+/[^/]+/callback", status=500, times=1)
        reply = await emu.invoke(emu.students[1], emu.attendance_channel_id, "echo", text="again", timeout=15)
        assert reply.content == "echo: again" and fail.hits == 1
        limited = emu.faults.add(r"/channels/\d+/messages$", "POST", status=429, retry_after=0.2, times=1)
        reply = await emu.invoke(emu.instructor, emu.attendance_channel_id, "post", text="busy", timeout=15)
        assert limited.hits == 1
        assert [m.content for m in emu.messages(emu.attendance_channel_id)] == ["edited: busy"]
        statuses = [s for _, m, p, s in emu.request_log if m == "POST" and p.endswith("/messages")]
        assert statuses == [429, 200]
        emu.faults.clear()
        assert emu.faults.rules == []

    run_with_bot(scenario)


def test_gateway_drop_then_resume_replays_missed_interaction() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        identifies = emu.gateway.identify_count
        await emu.drop_gateway()
        handle = emu.dispatch_interaction(emu.students[2], emu.attendance_channel_id, "echo", text="missed")
        await emu.wait_for_resume(15)
        reply = await handle.wait(15)
        assert reply.content == "echo: missed"
        reply = await emu.invoke(emu.students[2], emu.attendance_channel_id, "echo", text="after")
        assert reply.content == "echo: after"
        assert emu.gateway.identify_count == identifies  # resumed, not re-identified

    run_with_bot(scenario)


def test_no_reply_raises() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        started = time.perf_counter()
        with pytest.raises(NoReply, match="silent"):
            await emu.invoke(emu.students[0], emu.attendance_channel_id, "silent", timeout=0.5)
        assert time.perf_counter() - started < 3

    run_with_bot(scenario)


def test_many_concurrent_interactions() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        handles = [
            emu.dispatch_interaction(emu.students[i % 3], emu.attendance_channel_id, "echo", text=str(i))
            for i in range(200)
        ]
        replies = await asyncio.gather(*(h.wait(20) for h in handles))
        assert sorted(r.content for r in replies) == sorted(f"echo: {i}" for i in range(200))

    run_with_bot(scenario)


def test_interaction_payload_shape() -> None:
    async def scenario(emu: Emulator, bot: nextcord.Client) -> None:
        handle = emu.dispatch_interaction(emu.instructor, emu.admin_channel_id, "echo", text="shape")
        await handle.wait(5)
        payload = handle.payload
        assert payload["id"] == str(handle.id) and payload["application_id"] == str(emu.application_id)
        assert payload["type"] == 2 and payload["version"] == 1 and payload["context"] == 0
        assert payload["data"]["options"] == [{"name": "text", "type": 3, "value": "shape"}]
        assert payload["data"]["guild_id"] == str(emu.guild_id)
        perms = int(payload["member"]["permissions"])
        assert perms & (1 << 5)  # instructor has Manage Server
        assert payload["channel"]["id"] == str(emu.admin_channel_id)

    run_with_bot(scenario)
