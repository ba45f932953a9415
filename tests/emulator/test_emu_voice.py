"""The emulator's voice: voice and stage channels, voice states in GUILD_CREATE and VOICE_STATE_UPDATE on
join, move and leave, only for a session with the voice-states intent (raw gateway, as Discord sends them)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from attendance_bot.emulator import Emulator

VOICE_STATES = 1 << 7
GUILDS = 1 << 0


async def _connect(emu: Emulator, intents: int) -> tuple[aiohttp.ClientSession, aiohttp.ClientWebSocketResponse]:
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(emu.gateway_url)
    hello = await ws.receive_json(timeout=5)
    assert hello["op"] == 10
    await ws.send_json({"op": 2, "d": {"token": emu.token, "intents": intents, "properties": {}}})
    return session, ws


async def _events(ws: aiohttp.ClientWebSocketResponse, quiet: float = 0.3) -> list[dict[str, Any]]:
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


@pytest.mark.parametrize("intents", [GUILDS | VOICE_STATES, GUILDS])
def test_voice_states_reach_only_a_session_with_the_intent(intents: int) -> None:
    """With the intent: GUILD_CREATE lists who is in voice (no guild_id, the member among the members even
    without the members intent), and a join, a move to a stage channel and a leave each send a
    VOICE_STATE_UPDATE with the guild and the member; without it: none of that."""

    async def _main() -> None:
        async with Emulator() as emu:
            ada, bob = emu.students[0], emu.students[1]
            emu.join_voice(ada, emu.voice_channel_id)
            session, ws = await _connect(emu, intents)
            try:
                ready = await _events(ws)
                (guild,) = [e["d"] for e in ready if e["t"] == "GUILD_CREATE"]
                member_ids = {m["user"]["id"] for m in guild["members"]}
                stage = emu.add_voice_channel("Stage", stage=True)
                emu.join_voice(bob, emu.voice_channel_id)
                emu.join_voice(bob, stage)
                emu.leave_voice(bob)
                updates = [e["d"] for e in await _events(ws) if e["t"] == "VOICE_STATE_UPDATE"]
            finally:
                await ws.close()
                await session.close()
            if not intents & VOICE_STATES:
                assert guild["voice_states"] == [] and updates == []
                assert str(ada.id) not in member_ids
                return
            (state,) = guild["voice_states"]
            assert (state["user_id"], state["channel_id"], "guild_id" in state) == (
                str(ada.id),
                str(emu.voice_channel_id),
                False,
            )
            assert str(ada.id) in member_ids and str(bob.id) not in member_ids
            assert [(u["user_id"], u["channel_id"], u["guild_id"]) for u in updates] == [
                (str(bob.id), str(emu.voice_channel_id), str(emu.guild_id)),
                (str(bob.id), str(stage), str(emu.guild_id)),
                (str(bob.id), None, str(emu.guild_id)),
            ]
            assert all(u["member"]["user"]["id"] == str(bob.id) for u in updates)
            assert len({u["session_id"] for u in updates}) == 1  # one voice session from join to leave
            assert emu.voice_channel_of(bob) is None

    asyncio.run(_main())


def test_a_text_channel_cannot_be_joined() -> None:
    """Only voice and stage channels take members in voice."""

    async def _main() -> None:
        async with Emulator() as emu:
            with pytest.raises(ValueError, match="no voice or stage channel"):
                emu.join_voice(emu.students[0], emu.attendance_channel_id)
            assert emu.voice_channel_of(emu.students[0]) is None

    asyncio.run(_main())
