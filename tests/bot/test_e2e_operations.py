"""Operating the bot, end to end: the real bot on the emulator with LOG_FORMAT=json and LOG_LEVEL=DEBUG,
its /metrics read as Prometheus reads them (prometheus-client's parser) after what students did, a
reconnect and a failing disk, and its whole log read back: one JSON object a line, no secret in any."""

from __future__ import annotations

import json
import re
import resource
from datetime import timedelta
from pathlib import Path

import pytest
from botdriver import (
    INTERVAL,
    BotProcess,
    Db,
    bot_env,
    current_card,
    live_card,
    next_card,
    other_code,
    wait_until,
)
from conftest import World
from faultkit import accepted_replies
from prometheus_client.parser import text_string_to_metric_families
from test_e2e_projector import fetch, free_port, link_in

from attendance_bot import messages
from attendance_bot.checkin import FIRST_WAIT_SECONDS
from attendance_bot.clock import utc_now
from attendance_bot.emulator import EmulatorThread
from attendance_bot.records import FREE_WRONG_ATTEMPTS, Outcome, SubmitResult

RESULTS = ("present", "late", "wrong", "expired", "throttled", "refused")


@pytest.fixture(scope="module")
def shared_bot_env() -> dict[str, str]:
    """The module's bot: its page's server (and /metrics) on a free port, its log as JSON at DEBUG."""
    return {"WEB_PORT": str(free_port()), "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}


def scrape(world: World) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics, parsed as Prometheus parses it: (sample name, its labels) -> value."""
    status, body = fetch(f"http://127.0.0.1:{world.env['WEB_PORT']}/metrics")
    assert status == 200, body
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def checkins(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {result: samples[("attendance_checkins_total", (("result", result),))] for result in RESULTS}


def value(world: World, name: str) -> float:
    return scrape(world)[(name, ())]


def test_check_ins_are_counted_by_result_with_their_reply_times(world: World) -> None:
    """Each check-in a student makes is counted under its result, and its reply time observed once."""
    before = scrape(world)
    assert set(checkins(before)) == set(RESULTS)  # every result is there from the start
    nobody = world.here(world.student("early"), "ABCD")
    assert nobody.content == messages.submit_reply(SubmitResult(Outcome.NO_SESSION))

    started = utc_now() - timedelta(seconds=4 * INTERVAL)
    with world.db.service(clock=lambda: started) as service:
        session = service.open_session(opened_by="test")
        old = service.code_at(session, utc_now() - timedelta(seconds=2 * INTERVAL)).code
    session_id = session.session_id
    code = current_card(world.emu, session_id).code
    assert world.here(world.student("ontime"), code).content in accepted_replies(session_id)
    expired = world.here(world.student("slow"), old)
    assert expired.content == messages.submit_reply(SubmitResult(Outcome.EXPIRED, session_id, code=old))
    guesser = world.student("guesser")
    for _ in range(FREE_WRONG_ATTEMPTS):
        world.here(guesser, other_code(code))
    throttled = world.here(guesser, current_card(world.emu, session_id).code)
    waits = {
        messages.submit_reply(SubmitResult(Outcome.THROTTLED, session_id, retry_after=s))
        for s in range(FIRST_WAIT_SECONDS - 10, FIRST_WAIT_SECONDS + 1)
    }
    assert throttled.content in waits

    after = scrape(world)
    counted = {result: checkins(after)[result] - checkins(before)[result] for result in RESULTS}
    assert counted == {
        "present": 1,
        "late": 0,
        "wrong": FREE_WRONG_ATTEMPTS,
        "expired": 1,
        "throttled": 1,
        "refused": 1,
    }
    replies = 4 + FREE_WRONG_ATTEMPTS
    reply_count = ("attendance_reply_seconds_count", ())
    assert after[reply_count] - before[reply_count] == replies
    wait_until(lambda: value(world, "attendance_open_sessions") == 1, 10, "the open session in /metrics")
    world.db.close_any()
    wait_until(lambda: value(world, "attendance_open_sessions") == 0, 10, "no open session in /metrics")


def test_code_message_edits_are_timed(world: World) -> None:
    """Each window's edit of the code message is observed in attendance_code_edit_lag_seconds."""
    before = value(world, "attendance_code_edit_lag_seconds_count")
    session_id, _ = world.open()
    next_card(world.emu, session_id, next_card(world.emu, session_id, live_card(world.emu, session_id)))
    samples = scrape(world)
    edits = samples[("attendance_code_edit_lag_seconds_count", ())] - before
    assert edits >= 2
    assert samples[("attendance_code_edit_lag_seconds_sum", ())] > 0


def test_a_reconnect_is_counted(world: World) -> None:
    """Discord closing the gateway: the bot connects again and attendance_discord_reconnects_total says so."""
    before = value(world, "attendance_discord_reconnects_total")
    world.emu.drop_gateway()
    wait_until(lambda: value(world, "attendance_discord_reconnects_total") == before + 1, 20, "the reconnect counted")
    session_id, _ = world.open()
    code = current_card(world.emu, session_id).code
    assert world.here(world.student("afterdrop"), code).content in accepted_replies(session_id)


def test_each_shard_reconnecting_is_counted_once(tmp_path: Path) -> None:
    """One process running two shards: connecting the second shard is no reconnect; Discord closing one shard's
    gateway is one (the connect event every shard also sends is not counted twice)."""
    with EmulatorThread(shards=2) as emu:
        for shard in range(2):
            emu.add_guild(f"Campus on shard {shard}", shard=(shard, 2))
        env = bot_env(emu, tmp_path / "data" / "attendance.db", SHARD_COUNT="2", WEB_PORT=str(free_port()))
        env["DISCORD_BOT_TOKEN"] = emu.token_alias("all")
        bot = BotProcess(emu, env).start()
        sharded = World(emu, bot, Db(tmp_path / "data" / "attendance.db"), env)
        try:
            assert emu.connected_shards() == [0, 1]
            assert value(sharded, "attendance_discord_reconnects_total") == 0
            emu.drop_gateway(shard=1)
            wait_until(lambda: value(sharded, "attendance_discord_reconnects_total") == 1, 20, "shard 1's reconnect")
            wait_until(lambda: emu.connected_shards() == [0, 1], 20, "both shards connected")
            assert value(sharded, "attendance_discord_reconnects_total") == 1
        finally:
            bot.stop()


def test_database_errors_are_counted(world: World) -> None:
    """A write that fails (the disk full: the bot's file size limit lowered, as tests/bot/test_e2e_faults.py
    does) is a database error, and the student's check-in is counted as refused."""
    proc = world.bot.proc
    assert proc is not None
    session_id, _ = world.open()
    code = current_card(world.emu, session_id).code
    assert world.here(world.student("beforefull"), code).content in accepted_replies(session_id)
    before = scrape(world)
    wal = Path(f"{world.db.path}-wal")
    soft, hard = resource.prlimit(proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (max(wal.stat().st_size, 1), hard))
    try:
        reply = world.here(world.student("duringfull"), code)
    finally:
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
    assert reply.content == messages.storage_failure_reply()
    after = scrape(world)
    assert after[("attendance_database_errors_total", ())] > before[("attendance_database_errors_total", ())]
    assert checkins(after)["refused"] == checkins(before)["refused"] + 1


def test_the_log_is_json_lines_without_secrets(world: World) -> None:
    """Every line the bot wrote on stderr is one JSON object (level, logger, message, time). The token and a
    projector link, quoted back in an error by a careless proxy and logged with the traceback, appear only as
    placeholders; neither the bot token nor the link's token is anywhere in the bot's output, nor an
    interaction's."""
    emu = world.emu
    session_id, opened = world.open()
    page_token = link_in(opened.content).rsplit("/", 1)[1]
    code_edit = emu.faults.add(r"/channels/\d+/messages/\d+$", "PATCH", 400, times=1, echo_request=True)
    next_card(emu, session_id, live_card(emu, session_id))
    wait_until(lambda: code_edit.hits == 1, 2 * INTERVAL + 3, "the code message's edit that fails")
    reply = emu.faults.add(r"/webhooks/\d+/[^/]+$", "POST", 400, times=1, echo_request=True)
    again = emu.invoke(emu.instructor, emu.admin_channel_id, "projector")  # the link, again
    assert reply.hits == 1 and again.content == messages.generic_failure_reply()

    def failures() -> list[dict[str, str]]:
        records = [json.loads(line) for line in list(world.bot.stderr)]
        return [r for r in records if r["level"] == "ERROR" and "Injected fault (request sent" in r.get("exc_info", "")]

    rotation, command = wait_until(lambda: failures()[-2:] if len(failures()) >= 2 else None, 10, "both in the log")
    assert rotation["logger"] == "attendance_bot.bot.rotation"
    assert "request sent Authorization: Bot [token];" in rotation["message"] + rotation["exc_info"]
    assert command["message"] == "Command projector failed"
    assert "/p/[projector-token]" in command["exc_info"]

    lines = list(world.bot.stderr)
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(r, dict) and {"level", "logger", "message", "time"} <= r.keys() for r in records)
    assert any(r["logger"].startswith("nextcord") and r["level"] == "DEBUG" for r in records)
    output = "".join(lines) + "".join(world.bot.stdout)
    assert page_token not in output
    assert emu.token not in output
    assert not [emu.token[i : i + 8] for i in range(len(emu.token) - 7) if emu.token[i : i + 8] in output]
    # Interactions' tokens (nextcord's DEBUG lines name them in paths and gateway events) are replaced too.
    said = "\n".join(r["message"] + r.get("exc_info", "") for r in records)
    assert "/[interaction-token]" in said and '"token": "[interaction-token]"' in said
    assert not re.search(r"/(?:interactions|webhooks)/[0-9]+/(?!\[interaction-token\])[A-Za-z0-9_.-]{20,}", said)
    assert not re.search(r"\"token\": \"(?!\[interaction-token\])", said)
