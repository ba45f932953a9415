"""Operating the bot, end to end: the real bot on the emulator with LOG_FORMAT=json and LOG_LEVEL=DEBUG,
its whole log read back: one JSON object a line, no secret in any."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botdriver import (
    INTERVAL,
    BotProcess,
    Db,
    bot_env,
    live_card,
    next_card,
    wait_until,
)
from conftest import World, bot_database
from test_e2e_projector import free_port, link_in

from attendance_bot.emulator import EmulatorThread


@pytest.fixture(scope="module")
def ops_world(
    emu: EmulatorThread, tmp_path_factory: pytest.TempPathFactory, backend: str, request: pytest.FixtureRequest
) -> Iterator[World]:
    """One bot for the module: its page's server on a free port (the links), its log as JSON at DEBUG."""
    with bot_database(request, backend, tmp_path_factory.mktemp("bot")) as database:
        env = bot_env(emu, database, WEB_PORT=str(free_port()), LOG_FORMAT="json", LOG_LEVEL="DEBUG")
        bot = BotProcess(emu, env).start()
        try:
            yield World(emu, bot, Db(database), env)
        finally:
            bot.stop()


@pytest.fixture
def world(ops_world: World) -> Iterator[World]:
    ops_world.db.close_any()
    start = len(ops_world.bot.stderr)
    yield ops_world
    print("".join(ops_world.bot.stderr[start:])[-20000:])
    ops_world.emu.faults.clear()
    ops_world.db.close_any()


def test_the_log_is_json_lines_without_secrets(world: World) -> None:
    """Every line the bot wrote on stderr is one JSON object (level, logger, message, time). A projector
    link (in nextcord's DEBUG lines of the reply) and the token (quoted back in an error by a careless
    proxy, logged with its traceback) appear only as placeholders; neither the link's token nor the
    bot token is anywhere in the bot's output."""
    emu = world.emu
    session_id, opened = world.open()
    link = link_in(opened.content)
    page_token = link.rsplit("/", 1)[1]
    rule = emu.faults.add(r"/channels/\d+/messages/\d+$", "PATCH", 400, times=1, echo_authorization=True)
    card = live_card(emu, session_id)
    next_card(emu, session_id, card)
    wait_until(lambda: rule.hits == 1, 2 * INTERVAL + 3, "the edit that fails")

    quoted = "request sent Authorization: Bot [token])"

    def failures() -> list[dict[str, str]]:
        records = [json.loads(line) for line in list(world.bot.stderr)]
        return [r for r in records if r["level"] == "ERROR" and quoted in r.get("exc_info", "")]

    (failure,) = wait_until(failures, 10, "the failed edit in the log, with its traceback")
    assert failure["logger"] == "attendance_bot.bot.rotation"

    lines = list(world.bot.stderr)
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(r, dict) and {"level", "logger", "message", "time"} <= r.keys() for r in records)
    assert any(r["logger"].startswith("nextcord") and r["level"] == "DEBUG" for r in records)
    assert any("/p/[projector-token]" in r["message"] for r in records)
    output = "".join(lines) + "".join(world.bot.stdout)
    assert page_token not in output
    assert emu.token not in output
    assert not [emu.token[i : i + 8] for i in range(len(emu.token) - 7) if emu.token[i : i + 8] in output]
