"""The emulator refuses the command registrations Discord refuses, with Discord's 50035 error shape."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from attendance_bot.bot.cogs import COGS
from attendance_bot.emulator import Emulator
from attendance_bot.emulator.commands import check_command_list, is_valid_chat_name

Body = dict[str, Any]


def cmd(name: str = "here", description: str = "Check in", **extra: Any) -> Body:
    """A chat-input command body."""
    return {"type": 1, "name": name, "description": description, **extra}


def opt(name: str = "code", kind: int = 3, description: str = "The code", **extra: Any) -> Body:
    """An option body (``kind`` 1 sub-command, 2 group, 3 string, ...)."""
    return {"type": kind, "name": name, "description": description, **extra}


def choices(n: int) -> list[Body]:
    """``n`` string choices."""
    return [{"name": f"choice {i}", "value": f"v{i}"} for i in range(n)]


def _call(method: str, path: str, payload: Any, *, scope: str = "guild") -> tuple[int, Any, Emulator]:
    """One request with the bot token to a fresh emulator's commands route; (status, body, emulator)."""

    async def _main() -> tuple[int, Any, Emulator]:
        async with Emulator() as emu:
            base = f"/applications/{emu.application_id}"
            base += f"/guilds/{emu.guild_id}/commands" if scope == "guild" else "/commands"
            headers = {"Authorization": f"Bot {emu.token}"}
            async with aiohttp.ClientSession() as session:
                url = emu.api_base + base + path
                async with session.request(method, url, json=payload, headers=headers) as resp:
                    return resp.status, await resp.json(), emu

    return asyncio.run(asyncio.wait_for(_main(), 20))


def _errors_at(body: Body, path: tuple[str, ...]) -> list[str]:
    node = body["errors"]
    for key in path:
        node = node[key]
    return [e["code"] for e in node["_errors"]]


REFUSED = [
    ("upper-case command name", [cmd("Here")], ("0", "name"), "APPLICATION_COMMAND_INVALID_NAME"),
    ("space in a command name", [cmd("open attendance")], ("0", "name"), "APPLICATION_COMMAND_INVALID_NAME"),
    ("33-character name", [cmd("a" * 33)], ("0", "name"), "APPLICATION_COMMAND_INVALID_NAME"),
    ("empty name", [cmd("")], ("0", "name"), "APPLICATION_COMMAND_INVALID_NAME"),
    ("punctuation in a name", [cmd("here!")], ("0", "name"), "APPLICATION_COMMAND_INVALID_NAME"),
    ("empty description", [cmd(description="")], ("0", "description"), "BASE_TYPE_BAD_LENGTH"),
    ("101-character description", [cmd(description="x" * 101)], ("0", "description"), "BASE_TYPE_BAD_LENGTH"),
    (
        "upper-case option name",
        [cmd(options=[opt("Code")])],
        ("0", "options", "0", "name"),
        "APPLICATION_COMMAND_INVALID_NAME",
    ),
    (
        "empty option description",
        [cmd(options=[opt(description="")])],
        ("0", "options", "0", "description"),
        "BASE_TYPE_BAD_LENGTH",
    ),
    (
        "26 options",
        [cmd(options=[opt(f"o{i}") for i in range(26)])],
        ("0", "options"),
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "26 choices",
        [cmd(options=[opt(choices=choices(26))])],
        ("0", "options", "0", "choices"),
        "BASE_TYPE_MAX_LENGTH",
    ),
    (
        "required option after an optional one",
        [cmd(options=[opt("a"), opt("b", required=True)])],
        ("0", "options", "1"),
        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
    ),
    (
        "two options with one name",
        [cmd(options=[opt("a"), opt("a")])],
        ("0", "options", "1", "name"),
        "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
    ),
    (
        "autocomplete together with choices",
        [cmd(options=[opt(autocomplete=True, choices=choices(2))])],
        ("0", "options", "0", "autocomplete"),
        "APPLICATION_COMMAND_AUTOCOMPLETE_WITH_CHOICES",
    ),
    (
        "bad option name inside a sub-command",
        [cmd(options=[opt("list", 1, options=[opt("Session")])])],
        ("0", "options", "0", "options", "0", "name"),
        "APPLICATION_COMMAND_INVALID_NAME",
    ),
    (
        "misordered options inside a group's sub-command",
        [cmd(options=[opt("admin", 2, options=[opt("close", 1, options=[opt("a"), opt("b", required=True)])])])],
        ("0", "options", "0", "options", "0", "options", "1"),
        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
    ),
    (
        "sub-command next to a plain option",
        [cmd(options=[opt("list", 1), opt("code")])],
        ("0", "options"),
        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
    ),
    (
        "group inside a sub-command",
        [cmd(options=[opt("list", 1, options=[opt("inner", 2)])])],
        ("0", "options", "0", "options"),
        "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
    ),
    ("two commands with one name", [cmd("here"), cmd("here")], ("1", "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME"),
    ("101 chat-input commands", [cmd(f"c{i}") for i in range(101)], (), "BASE_TYPE_MAX_LENGTH"),
    (
        "6 user commands",
        [{"type": 2, "name": f"User {i}", "description": ""} for i in range(6)],
        (),
        "BASE_TYPE_MAX_LENGTH",
    ),
]


@pytest.mark.parametrize(("case", "commands", "path", "code"), REFUSED, ids=[r[0] for r in REFUSED])
def test_bulk_overwrite_refuses_what_discord_refuses(case: str, commands: list[Body], path: tuple, code: str) -> None:
    """A bulk overwrite Discord would refuse is a 400 Invalid Form Body naming the bad field; nothing is stored."""
    status, body, emu = _call("PUT", "", commands)
    assert (status, body["code"], body["message"]) == (400, 50035, "Invalid Form Body"), case
    assert code in _errors_at(body, path), body
    assert emu.registered_commands(emu.guild_id) == []


VALID_NAMES = ["here", "export_csv", "close-attendance", "crème", "日本語", "it's", "a" * 32, "q2", "ß"]
INVALID_NAMES = ["Here", "a b", "", "a" * 33, "a!", "café/bar", "ÉCOLE", 7, None]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_valid_chat_names(name: str) -> None:
    """Lower-case letters of any script, digits, - _ and ' in 1-32 characters are accepted."""
    assert is_valid_chat_name(name)


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_chat_names(name: Any) -> None:
    """Upper case, spaces, punctuation, wrong lengths and non-strings are refused."""
    assert not is_valid_chat_name(name)


DOZEN = [
    cmd("open_attendance", "Open a session"),
    cmd("close_attendance", "Close the open session"),
    cmd("export_csv", "Export records", options=[opt("session_id", description="Only this session")]),
    cmd("here", "Check in", options=[opt(required=True, min_length=1, max_length=32)]),
    cmd("stats", "Numbers", options=[opt("period", choices=choices(25)), opt("limit", 4)]),
    cmd("lookup", "Find a student", options=[opt("student", autocomplete=True, required=True)]),
    cmd(
        "course",
        "Courses",
        options=[
            opt("list", 1, "List courses"),
            opt("admin", 2, "Course admin", options=[opt("add", 1, "Add one", options=[opt(required=True), opt("x")])]),
        ],
    ),
    cmd("présence", "Unicode name"),
    cmd("help", "x" * 100),
    cmd("ping", "Pong", options=[opt(f"o{i:02d}", 5) for i in range(25)]),
    {"type": 2, "name": "Show Attendance", "description": ""},
    {"type": 3, "name": "Report Message", "description": ""},
]


def test_a_valid_dozen_is_accepted_and_stored() -> None:
    """Twelve commands using sub-commands, groups, 25 choices, 25 options and context menus all register."""
    status, body, emu = _call("PUT", "", DOZEN)
    assert status == 200, body
    assert [c["name"] for c in body] == [c["name"] for c in DOZEN]
    assert len(emu.registered_commands(emu.guild_id)) == 12


def test_the_bots_own_commands_pass() -> None:
    """The attendance bot's slash commands, as nextcord sends them, are commands Discord accepts."""
    cogs = [cog.__new__(cog) for cog in COGS]  # the commands are read in __new__; no bot needed
    payloads = [c.get_payload(None) for cog in cogs for c in cog.__cog_application_commands__]
    assert {p["name"] for p in payloads} >= {"open_attendance", "close_attendance", "export_csv", "here"}
    assert check_command_list(payloads) == {}


def test_create_one_refused_without_an_index_in_the_path() -> None:
    """POST of one bad command: the error path starts at the command itself."""
    status, body, _ = _call("POST", "", cmd(options=[opt("a"), opt("b", required=True)]), scope="global")
    assert status == 400 and _errors_at(body, ("options", "1")) == ["APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"]


def test_edit_checks_the_merged_command() -> None:
    """PATCH that would leave the command invalid is refused; the stored command is unchanged."""

    async def _main() -> None:
        async with Emulator() as emu:
            url = f"{emu.api_base}/applications/{emu.application_id}/commands"
            headers = {"Authorization": f"Bot {emu.token}"}
            async with aiohttp.ClientSession(headers=headers) as session:
                async with session.post(url, json=cmd()) as resp:
                    created = await resp.json()
                    assert resp.status == 201
                async with session.patch(f"{url}/{created['id']}", json={"name": "Here"}) as resp:
                    assert resp.status == 400
                    assert _errors_at(await resp.json(), ("name",)) == ["APPLICATION_COMMAND_INVALID_NAME"]
            assert [c["name"] for c in emu.registered_commands()] == ["here"]

    asyncio.run(asyncio.wait_for(_main(), 20))


def test_the_101st_chat_command_is_refused() -> None:
    """Creating a new chat-input command in a scope that already holds 100 is error 30032."""

    async def _main() -> None:
        async with Emulator() as emu:
            emu.state.replace_commands(None, [cmd(f"c{i}") for i in range(100)])
            url = f"{emu.api_base}/applications/{emu.application_id}/commands"
            async with aiohttp.ClientSession(headers={"Authorization": f"Bot {emu.token}"}) as session:
                async with session.post(url, json=cmd("one_more")) as resp:
                    assert (resp.status, (await resp.json())["code"]) == (400, 30032)
                async with session.post(url, json=cmd("c7", "Overwrite keeps the count")) as resp:
                    assert resp.status == 200

    asyncio.run(asyncio.wait_for(_main(), 20))
