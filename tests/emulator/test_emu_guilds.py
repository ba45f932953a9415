"""Several guilds, global commands, channel/role options, autocomplete and channel overwrites, with real nextcord."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import aiohttp
import nextcord
import pytest
from emu_guildbot import GLOBAL_COMMANDS, make_guild_bot

from attendance_bot.bot.api_base import apply_api_base
from attendance_bot.emulator import (
    AutocompleteError,
    Emulator,
    EmulatorThread,
    GuildHandle,
    InteractionRefused,
    UnknownCommand,
)
from attendance_bot.emulator.models import (
    ADMINISTRATOR,
    EMBED_LINKS,
    MANAGE_GUILD,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)

Scenario = Callable[[Emulator, GuildHandle, nextcord.Client], Awaitable[None]]


def run_two_guilds(scenario: Scenario, timeout: float = 40.0) -> None:
    """An emulator with a second guild, the guild test bot (``/secret`` in the default guild only), ``scenario``."""

    async def _main() -> None:
        async with Emulator() as emu:
            second = emu.add_guild("Second School")
            apply_api_base(emu.api_base)
            bot = make_guild_bot(emu.guild_id)
            task = asyncio.create_task(bot.start(emu.token))
            try:
                await emu.wait_for_bot(15, commands=(*GLOBAL_COMMANDS, "secret"))
                await asyncio.wait_for(bot.wait_until_ready(), 5)
                await scenario(emu, second, bot)
            finally:
                await bot.close()
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    asyncio.run(asyncio.wait_for(_main(), timeout))


async def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def _raw(emu: Emulator, method: str, path: str, **kw: object) -> tuple[int, object]:
    headers = {"Authorization": f"Bot {emu.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.request(method, emu.api_base + path, headers=headers, **kw) as resp:  # type: ignore[arg-type]
            return resp.status, await resp.json()


# -- the world without a bot -------------------------------------------------------------------


def test_a_new_guild_has_the_default_shape() -> None:
    """add_guild: own @everyone (id == guild id), Instructor with Manage Server, bot role, Student, channels, people."""

    async def _main() -> None:
        async with Emulator() as emu:
            first = emu.default_guild
            second = emu.add_guild("Second School")
            assert emu.guilds == [first, second] and emu.guilds[0].id == emu.guild_id
            assert first.admin_channel_id == emu.admin_channel_id and first.instructor == emu.instructor
            guild = emu.state.guilds[second.id]
            assert guild.roles[second.id].name == "@everyone"
            assert {r.name for r in guild.roles.values()} == {"@everyone", "Instructor", "AttendanceBot", "Student"}
            assert emu.state.permissions_for(second.instructor, second.admin_channel_id) & MANAGE_GUILD
            assert emu.bot_user_id in guild.members
            people = {second.instructor.id, *(s.id for s in second.students)}
            assert len(people) == 4 and not people & {emu.instructor.id, *(s.id for s in emu.students)}
            names = [c.name for c in guild.channels.values()]
            assert names[:4] == ["Text Channels", "instructors", "attendance", "general"]
            assert second.admin_channel_id not in emu.state.guild.channels  # the default guild is unchanged

    asyncio.run(_main())


def test_permissions_follow_discords_order() -> None:
    """@everyone overwrite, then role overwrites together, then the member's own; Administrator bypasses them."""

    async def _main() -> None:
        async with Emulator() as emu:
            cid, student = emu.attendance_channel_id, emu.students[0]
            assert emu.permissions_for(student, cid) & SEND_MESSAGES
            emu.set_channel_overwrite(cid, emu.guild_id, deny=SEND_MESSAGES)
            assert not emu.permissions_for(student, cid) & SEND_MESSAGES
            emu.set_channel_overwrite(cid, emu.student_role_id, allow=SEND_MESSAGES)
            assert emu.permissions_for(student, cid) & SEND_MESSAGES
            emu.set_channel_overwrite(cid, student.id, deny=SEND_MESSAGES | VIEW_CHANNEL, kind="member")
            assert not emu.permissions_for(student, cid) & (VIEW_CHANNEL | SEND_MESSAGES)
            assert emu.permissions_for(emu.students[1], cid) & SEND_MESSAGES
            boss = emu.add_role("Admin", ADMINISTRATOR)
            emu.set_channel_overwrite(cid, boss, deny=VIEW_CHANNEL)
            admin = emu.add_member("boss", role_ids=(boss,))
            assert emu.permissions_for(admin, cid) & SEND_MESSAGES
            emu.set_channel_overwrite(cid, emu.guild_id, deny=EMBED_LINKS)
            assert not emu.permissions_for(emu.students[1], cid) & EMBED_LINKS
            emu.remove_channel_overwrite(cid, emu.guild_id)
            assert emu.permissions_for(emu.students[1], cid) & EMBED_LINKS
            with pytest.raises(ValueError, match="not a role"):
                emu.set_channel_overwrite(cid, emu.add_guild().admin_role_id, kind="role")

    asyncio.run(_main())


def test_the_thread_wrapper_reaches_other_guilds() -> None:
    """EmulatorThread hands out guild handles whose actions run on the emulator's loop."""
    with EmulatorThread() as thread:
        second = thread.add_guild("Threaded")
        assert [g.id for g in thread.guilds] == [thread.guild_id, second.id]
        newcomer = second.add_member("newcomer", role_ids=(second.student_role_id,))
        channel = second.add_text_channel("lab")
        thread.set_channel_overwrite(channel, second.student_role_id, deny=SEND_MESSAGES)
        assert thread.permissions_for(newcomer, channel) & VIEW_CHANNEL
        assert not thread.permissions_for(newcomer, channel) & SEND_MESSAGES
        assert thread.default_guild.instructor == thread.instructor


def test_a_user_may_join_a_second_guild_with_roles_of_that_guild() -> None:
    """add_member(existing_member=...) keeps the user's id; roles are per guild; strangers are refused."""

    async def _main() -> None:
        async with Emulator() as emu:
            second = emu.add_guild()
            student = emu.students[0]
            with pytest.raises(InteractionRefused, match="not a member"):
                emu.dispatch_interaction(student, second.attendance_channel_id, "anything")
            joined = second.add_member(existing_member=student, role_ids=(second.admin_role_id,))
            assert joined.id == student.id and joined.guild_id == second.id
            assert emu.permissions_for(joined, second.admin_channel_id) & MANAGE_GUILD
            assert not emu.permissions_for(student, emu.admin_channel_id) & MANAGE_GUILD
            with pytest.raises(ValueError, match="not roles of guild"):
                second.add_member("x", role_ids=(emu.admin_role_id,))

    asyncio.run(_main())


# -- the real bot ------------------------------------------------------------------------------


def test_the_bot_sees_both_guilds_and_posts_in_each() -> None:
    """READY lists both guilds, GUILD_CREATE fills nextcord's cache; messages carry their own guild_id."""

    async def scenario(emu: Emulator, second: GuildHandle, bot: nextcord.Client) -> None:
        assert {g.id for g in bot.guilds} == {emu.guild_id, second.id}
        home, away = bot.get_guild(emu.guild_id), bot.get_guild(second.id)
        assert home is not None and away is not None and away.name == "Second School"
        assert away.me is not None and away.get_role(second.admin_role_id) is not None
        for guild in (home, away):
            guild_handle = emu.guild(guild.id)
            channel = guild.get_channel(guild_handle.attendance_channel_id)
            assert isinstance(channel, nextcord.TextChannel)
            sent = await channel.send(f"hello {guild.name}")
            assert sent.guild is not None and sent.guild.id == guild.id
            (stored,) = emu.messages(guild_handle.attendance_channel_id)
            assert stored.guild_id == guild.id and stored.content == f"hello {guild.name}"
        status, body = await _raw(emu, "GET", f"/channels/{second.general_channel_id}")
        assert status == 200 and isinstance(body, dict) and body["guild_id"] == str(second.id)
        status, body = await _raw(emu, "GET", f"/guilds/{second.id}/channels")
        assert status == 200 and isinstance(body, list)
        assert {c["id"] for c in body} == {str(c) for c in emu.state.guilds[second.id].channels}
        status, body = await _raw(emu, "GET", f"/guilds/{second.id}/members/{second.instructor.id}")
        assert status == 200 and isinstance(body, dict) and body["roles"] == [str(second.admin_role_id)]
        status, _ = await _raw(emu, "GET", f"/guilds/{second.id}/members/{emu.instructor.id}")
        assert status == 404
        assert emu.unknown_routes == []

    run_two_guilds(scenario)


def test_global_and_guild_commands() -> None:
    """nextcord syncs global commands; they work in both guilds; a guild's own command is unknown elsewhere."""

    async def scenario(emu: Emulator, second: GuildHandle, bot: nextcord.Client) -> None:
        assert {c["name"] for c in emu.registered_commands(None)} == set(GLOBAL_COMMANDS)
        assert [c["name"] for c in emu.registered_commands(emu.guild_id)] == ["secret"]
        assert emu.registered_commands(second.id) == []
        reply = await emu.invoke(emu.students[0], emu.attendance_channel_id, "ping")
        assert reply.content == f"pong {emu.guild_id} send=True"
        reply = await emu.invoke(second.students[0], second.attendance_channel_id, "ping")
        assert reply.content == f"pong {second.id} send=True"
        assert (await emu.invoke(emu.instructor, emu.admin_channel_id, "secret")).content == "secret"
        with pytest.raises(UnknownCommand, match="secret"):
            emu.dispatch_interaction(second.instructor, second.admin_channel_id, "secret")

    run_two_guilds(scenario)


def test_a_guild_added_while_connected_arrives_at_once() -> None:
    """add_guild during a session sends GUILD_CREATE (the bot joins a server); global commands work there."""

    async def scenario(emu: Emulator, second: GuildHandle, bot: nextcord.Client) -> None:
        joined: list[int] = []

        async def on_guild_join(guild: nextcord.Guild) -> None:
            joined.append(guild.id)

        bot.event(on_guild_join)
        third = emu.add_guild("Third School")
        await _until(lambda: bot.get_guild(third.id) is not None and joined == [third.id])
        reply = await emu.invoke(third.instructor, third.general_channel_id, "ping")
        assert reply.content == f"pong {third.id} send=True"

    run_two_guilds(scenario)


def test_channel_and_role_options_arrive_as_objects() -> None:
    """A sub-command's channel and role options reach nextcord as TextChannel and Role of the guild."""

    async def scenario(emu: Emulator, second: GuildHandle, bot: nextcord.Client) -> None:
        handle = emu.dispatch_interaction(
            second.instructor,
            second.admin_channel_id,
            "course create",
            name="Physics",
            attendance_channel=second.attendance_channel_id,
            instructor_role=second.admin_role_id,
        )
        reply = await handle.wait(10)
        channel = f"TextChannel:{second.attendance_channel_id}:{second.id}"
        assert reply.content == f"Physics|{channel}|Role:{second.admin_role_id}:{second.id}"
        data = handle.payload["data"]
        (sub,) = data["options"]
        assert (sub["name"], sub["type"]) == ("create", 1)
        assert {"name": "attendance_channel", "type": 7, "value": str(second.attendance_channel_id)} in sub["options"]
        resolved = data["resolved"]["channels"][str(second.attendance_channel_id)]
        assert resolved["guild_id"] == str(second.id) and resolved["type"] == 0 and resolved["name"] == "attendance"
        assert int(resolved["permissions"]) & MANAGE_GUILD
        assert data["resolved"]["roles"][str(second.admin_role_id)]["name"] == "Instructor"

    run_two_guilds(scenario)


def test_a_sub_command_group() -> None:
    """``/course admin archive`` nests a group and a sub-command, as nextcord registered them."""

    async def scenario(emu: Emulator, second: GuildHandle, bot: nextcord.Client) -> None:
        handle = emu.dispatch_interaction(
            second.instructor, second.admin_channel_id, "course admin archive", course="x"
        )
        assert (await handle.wait(10)).content == "archived x for 30 days"
        (group,) = handle.payload["data"]["options"]
        assert (group["name"], group["type"], group["options"][0]["name"], group["options"][0]["type"]) == (
            "admin",
            2,
            "archive",
            1,
        )
        reply = await emu.invoke(emu.instructor, emu.admin_channel_id, "course admin archive", course="y", keep=7)
        assert reply.content == "archived y for 7 days"
        with pytest.raises(UnknownCommand, match="no sub-command 'delete'"):
            emu.dispatch_interaction(emu.instructor, emu.admin_channel_id, "course admin delete")

    run_two_guilds(scenario)


def test_a_channel_of_another_guild_is_sent_as_is() -> None:
    """An id of another guild's channel is sent with its own resolved data; nextcord finds it in its cache."""

    async def scenario(emu: Emulator, second: GuildHandle, bot: nextcord.Client) -> None:
        handle = emu.dispatch_interaction(
            emu.instructor,
            emu.admin_channel_id,
            "course create",
            name="Stolen",
            attendance_channel=second.attendance_channel_id,
            instructor_role=second.admin_role_id,
        )
        reply = await handle.wait(10)
        assert reply.content == f"Stolen|TextChannel:{second.attendance_channel_id}:{second.id}|None"
        resolved = handle.payload["data"]["resolved"]["channels"][str(second.attendance_channel_id)]
        assert resolved["guild_id"] == str(second.id) and resolved["permissions"] == "0"

    run_two_guilds(scenario)


def test_channel_types_are_enforced_like_discords_client() -> None:
    """A voice channel for a text-only option is refused before anything is sent."""

    async def scenario(emu: Emulator, second: GuildHandle, bot: nextcord.Client) -> None:
        with pytest.raises(InteractionRefused, match="channel_types"):
            emu.dispatch_interaction(
                emu.instructor,
                emu.admin_channel_id,
                "course create",
                name="x",
                attendance_channel=emu.voice_channel_id,
                instructor_role=emu.admin_role_id,
            )
        cmd = next(c for c in emu.registered_commands(None) if c["name"] == "course")
        create = next(o for o in cmd["options"] if o["name"] == "create")
        assert next(o for o in create["options"] if o["name"] == "attendance_channel")["channel_types"] == [0]

    run_two_guilds(scenario)


def test_autocomplete_round_trip() -> None:
    """The focused option goes as a partial string; nextcord's on_autocomplete answers with choices."""

    async def scenario(emu: Emulator, second: GuildHandle, bot: nextcord.Client) -> None:
        member, cid = second.instructor, second.admin_channel_id
        choices = await emu.autocomplete(member, cid, "course edit", focused="course", course="ma")
        assert choices == [{"name": "math", "value": "math"}, {"name": "maths-lab", "value": "maths-lab"}]
        everything = await emu.autocomplete(member, cid, "course edit", focused="course")
        assert len(everything) == 4
        renamed = await emu.autocomplete(member, cid, "course edit", focused="course", course="renamed", name="Bio")
        assert renamed == [{"name": "Bio (renamed)", "value": "Bio"}]
        handle = emu.dispatch_autocomplete(member, cid, "course edit", focused="course", course="m", name="N")
        await handle.wait(10)
        (sub,) = handle.payload["data"]["options"]
        assert handle.payload["type"] == 4
        assert {"name": "course", "type": 3, "value": "m", "focused": True} in sub["options"]
        assert {"name": "name", "type": 3, "value": "N"} in sub["options"]
        reply = await emu.invoke(member, cid, "course edit", course="math", name="Maths")
        assert reply.content == "edited math -> Maths"

    run_two_guilds(scenario)


def test_autocomplete_answers_discord_refuses() -> None:
    """Over 25 choices or a message instead of choices are errors the test sees; unregistered focus is refused."""

    async def scenario(emu: Emulator, second: GuildHandle, bot: nextcord.Client) -> None:
        member, cid = emu.instructor, emu.admin_channel_id
        with pytest.raises(AutocompleteError, match="BASE_TYPE_MAX_LENGTH"):
            await emu.autocomplete(member, cid, "course edit", focused="course", course="too-many")
        with pytest.raises(AutocompleteError, match="callback type 4"):
            await emu.autocomplete(member, cid, "course edit", focused="course", course="reply")
        with pytest.raises(InteractionRefused, match="autocomplete"):
            await emu.autocomplete(member, cid, "course edit", focused="name", course="m")
        assert await emu.autocomplete(member, cid, "course edit", focused="course", course="ph") == [
            {"name": "physics", "value": "physics"}
        ]

    run_two_guilds(scenario)


def test_overwrites_deny_the_bot_like_discord() -> None:
    """No Send Messages: 403 50013 and nextcord's cached permissions_for agrees; hidden: 50001; app_permissions."""

    async def scenario(emu: Emulator, second: GuildHandle, bot: nextcord.Client) -> None:
        target = second.attendance_channel_id
        member, where = second.instructor, second.admin_channel_id
        emu.set_channel_overwrite(target, emu.bot_user_id, deny=SEND_MESSAGES, kind="member")
        await _until(lambda: _cached_send(bot, second.id, target) is False)
        reply = await emu.invoke(member, where, "say", channel=target, text="hi")
        assert reply.content == "forbidden 50013 cached_send=False cached_view=True"
        handle = emu.dispatch_interaction(member, target, "ping")
        assert (await handle.wait(10)).content == f"pong {second.id} send=False"
        assert not int(handle.payload["app_permissions"]) & SEND_MESSAGES
        assert int(handle.payload["member"]["permissions"]) & SEND_MESSAGES

        emu.set_channel_overwrite(target, emu.bot_user_id, deny=EMBED_LINKS, kind="member")
        reply = await emu.invoke(member, where, "say", channel=target, text="plain")
        assert reply.content.startswith("sent")
        reply = await emu.invoke(member, where, "say", channel=target, text="card", embed=True)
        assert reply.content.startswith("forbidden 50013")

        emu.set_channel_overwrite(target, second.everyone_role_id, deny=VIEW_CHANNEL)
        await _until(lambda: _cached_send(bot, second.id, target) is False)
        reply = await emu.invoke(member, where, "say", channel=target, text="hidden")
        assert reply.content == "forbidden 50001 cached_send=False cached_view=False"
        status, body = await _raw(emu, "POST", f"/channels/{target}/messages", json={"content": "x"})
        assert (status, body) == (403, {"message": "Missing Access", "code": 50001})
        # interaction replies are not bound by the channel's permissions, as on Discord
        assert [m.content for m in emu.messages(target)] == [f"pong {second.id} send=False", "plain"]

        emu.remove_channel_overwrite(target, second.everyone_role_id)
        emu.remove_channel_overwrite(target, emu.bot_user_id)
        await _until(lambda: _cached_send(bot, second.id, target) is True)
        reply = await emu.invoke(member, where, "say", channel=target, text="again")
        assert reply.content == "sent cached_send=True cached_view=True"

    run_two_guilds(scenario)


def _cached_send(bot: nextcord.Client, guild_id: int, channel_id: int) -> bool | None:
    guild = bot.get_guild(guild_id)
    channel = guild.get_channel(channel_id) if guild else None
    if not isinstance(channel, nextcord.TextChannel):
        return None
    return channel.permissions_for(channel.guild.me).send_messages


def test_overwrites_arrive_in_guild_create() -> None:
    """Overwrites set before the bot connects are in GUILD_CREATE's channels, @everyone's first."""

    async def _main() -> None:
        async with Emulator() as emu:
            emu.set_channel_overwrite(emu.admin_channel_id, emu.admin_role_id, allow=VIEW_CHANNEL)
            emu.set_channel_overwrite(emu.admin_channel_id, emu.guild_id, deny=VIEW_CHANNEL)
            payload = emu.state.guild_payload(full=True)
            (channel,) = [c for c in payload["channels"] if c["id"] == str(emu.admin_channel_id)]
            assert channel["permission_overwrites"] == [
                {"id": str(emu.guild_id), "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)},
                {"id": str(emu.admin_role_id), "type": 0, "allow": str(VIEW_CHANNEL), "deny": "0"},
            ]
            assert emu.permissions_for(emu.instructor, emu.admin_channel_id) & VIEW_CHANNEL
            assert not emu.permissions_for(emu.students[0], emu.admin_channel_id) & VIEW_CHANNEL

    asyncio.run(_main())
