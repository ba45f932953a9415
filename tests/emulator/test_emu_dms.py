"""Direct messages in the emulator, as Discord answers them: the bot's DM channel with a user, a message
to it stored, and Discord's 403 with code 50007 for a member whose settings refuse the bot's messages
(what the bot's warnings and excuse outcomes meet); nextcord's own HTTP client sees the same."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import nextcord
import pytest

from attendance_bot.bot.api_base import apply_api_base
from attendance_bot.emulator import Emulator


async def _raw(emu: Emulator, method: str, path: str, **kw: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.request(method, emu.api_base + path, headers=headers, **kw) as resp:
            return resp.status, await resp.json(content_type=None)


def _with_emulator(scenario: Any) -> None:
    async def _main() -> None:
        async with Emulator() as emu:
            await scenario(emu)

    asyncio.run(asyncio.wait_for(_main(), 30))


def test_a_dm_channel_is_opened_once_and_takes_messages() -> None:
    """POST /users/@me/channels gives a type-1 channel with its recipient (the same one again); a message
    there is stored and listed as the member's direct messages, and sends no gateway event to a bot
    without the direct-messages intent."""

    async def scenario(emu: Emulator) -> None:
        student = emu.students[0]
        status, channel = await _raw(emu, "POST", "/users/@me/channels", json={"recipient_id": str(student.id)})
        assert status == 200 and channel["type"] == 1
        assert [r["id"] for r in channel["recipients"]] == [str(student.id)]
        again = await _raw(emu, "POST", "/users/@me/channels", json={"recipient_id": str(student.id)})
        assert again == (200, channel)
        status, sent = await _raw(emu, "POST", f"/channels/{channel['id']}/messages", json={"content": "hello"})
        assert status == 200 and sent["content"] == "hello"
        assert [m.content for m in emu.direct_messages(student)] == ["hello"]
        assert emu.direct_messages(emu.students[1]) == []

    _with_emulator(scenario)


def test_a_member_who_refuses_dms_gets_none_and_the_bot_error_50007() -> None:
    """refuse_dms: the channel still opens (Discord refuses only the message), the message is 403 with
    code 50007 and is not stored; allowed again, it goes through."""

    async def scenario(emu: Emulator) -> None:
        student = emu.students[0]
        emu.refuse_dms(student)
        status, channel = await _raw(emu, "POST", "/users/@me/channels", json={"recipient_id": str(student.id)})
        assert status == 200
        status, body = await _raw(emu, "POST", f"/channels/{channel['id']}/messages", json={"content": "hello"})
        assert (status, body["code"], body["message"]) == (403, 50007, "Cannot send messages to this user")
        assert emu.direct_messages(student) == []
        emu.refuse_dms(student, False)
        status, _ = await _raw(emu, "POST", f"/channels/{channel['id']}/messages", json={"content": "hello"})
        assert status == 200 and len(emu.direct_messages(student)) == 1

    _with_emulator(scenario)


@pytest.mark.parametrize("recipient", ["1", "not a number", None])
def test_a_dm_with_nobody_is_refused(recipient: str | None) -> None:
    """A recipient the emulator does not know is a 400, and no channel is made."""

    async def scenario(emu: Emulator) -> None:
        status, body = await _raw(emu, "POST", "/users/@me/channels", json={"recipient_id": recipient})
        assert status == 400 and body["code"] == 50035
        assert emu.state.dm_channels == {}

    _with_emulator(scenario)


def test_nextcord_meets_forbidden_50007() -> None:
    """The routes the bot uses (nextcord's start_private_message and send_message): a message to a member
    who refuses DMs raises nextcord.Forbidden with code 50007; to another it arrives."""

    async def scenario(emu: Emulator) -> None:
        apply_api_base(emu.api_base)
        client = nextcord.Client(intents=nextcord.Intents.none())
        await client.login(emu.token)
        try:
            refusing, willing = emu.students[0], emu.students[1]
            emu.refuse_dms(refusing)
            channel = await client.http.start_private_message(refusing.id)
            with pytest.raises(nextcord.Forbidden) as caught:
                await client.http.send_message(int(channel["id"]), "hello")
            assert caught.value.code == 50007
            channel = await client.http.start_private_message(willing.id)
            await client.http.send_message(int(channel["id"]), "hello")
            assert [m.content for m in emu.direct_messages(willing)] == ["hello"]
        finally:
            with contextlib.suppress(Exception):
                await client.close()

    _with_emulator(scenario)
