"""The projector page end to end: the real bot (its page's server on a free port) on the emulator, the
link in `/open_attendance`'s reply, `/projector` and `new_link`, a restart, a port in use, /healthz."""

from __future__ import annotations

import json
import re
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botdriver import BotProcess, Db, bot_env, live_card, manage, wait_until
from conftest import World, bot_database

from attendance_bot import messages
from attendance_bot.emulator import EmulatorThread
from attendance_bot.records import Outcome, SubmitResult

_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/p/[A-Za-z0-9_-]+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    """GET: the status and the body."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def first_event(url: str) -> dict[str, Any]:
    """The first event of a page's feed."""
    with urllib.request.urlopen(url + "/events", timeout=10) as response:
        buffer = b""
        while b"\n\n" not in buffer:
            buffer += response.read1(4096)
    data = b"".join(line[5:] for line in buffer.split(b"\n\n")[0].split(b"\n") if line.startswith(b"data:"))
    return json.loads(data)  # type: ignore[no-any-return]


def link_in(text: str | None) -> str:
    found = _LINK.search(text or "")
    assert found, text
    return found.group(1)


@pytest.fixture(scope="module")
def shared_bot_env() -> dict[str, str]:
    """The module's bot serves its projector page on a free port."""
    return {"WEB_PORT": str(free_port())}


def test_the_open_reply_carries_a_link_that_works(world: World) -> None:
    """`/open_attendance`'s private reply holds the page's link; the page opens, and the code its feed
    gives is one `/here` accepts."""
    session_id, reply = world.open()
    url = link_in(reply.content)
    port = world.env["WEB_PORT"]
    assert url.startswith(f"http://127.0.0.1:{port}/p/")
    assert reply.ephemeral
    assert reply.content == messages.opened_with_projector(session_id, world.emu.attendance_channel_id, None, url)
    status, body = fetch(url)
    assert status == 200 and session_id in body
    event = first_event(url)
    assert event["state"] == "open" and event["session"] == session_id and event["count"] == 0
    answer = world.here(world.student("pagereader"), event["code"])
    assert answer.content == messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))
    wait_until(lambda: first_event(url)["count"] == 1, 5, "the page's count to show the check-in")


def test_projector_gives_the_same_link_and_new_link_kills_the_old(world: World) -> None:
    """`/projector` repeats the link; `/projector new_link:True` gives another, and the old one is 404 at once."""
    session_id, reply = world.open()
    old = link_in(reply.content)
    again = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "projector")
    assert again.ephemeral and again.content == messages.projector_reply(session_id, "default", old, False)
    renewed = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "projector", new_link=True)
    new = link_in(renewed.content)
    assert new != old and renewed.content == messages.projector_reply(session_id, "default", new, True)
    assert fetch(old) == (404, messages.page_not_found())
    assert fetch(new)[0] == 200


def test_the_shell_prints_the_same_link(world: World) -> None:
    """`manage.py projector` prints the link the bot gave."""
    session_id, reply = world.open()
    printed = manage(world.env, "projector").stdout.decode().strip()
    assert printed == messages.projector_shell_line(session_id, "default", link_in(reply.content), False)


def test_closing_kills_the_link(world: World) -> None:
    _, reply = world.open()
    url = link_in(reply.content)
    world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "close_attendance")
    assert fetch(url) == (404, messages.page_not_found())


def test_a_student_gets_no_link(world: World) -> None:
    """`/projector` from a student is refused like every instructor command, and holds no link."""
    world.open()
    reply = world.emu.invoke(world.student("curious"), world.emu.admin_channel_id, "projector")
    assert reply.content == messages.not_admin_reply() and reply.ephemeral


def test_healthz_is_ok_while_connected(world: World) -> None:
    assert fetch(f"http://127.0.0.1:{world.env['WEB_PORT']}/healthz") == (200, "ok\n")


# -- a bot of its own ---------------------------------------------------------------------------


@pytest.fixture
def own_world(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[World]:
    """A bot (not started) on an emulator of its own, its page on a free port."""
    with EmulatorThread() as emu, bot_database(request, backend, tmp_path) as database:
        env = bot_env(emu, database, WEB_PORT=str(free_port()))
        world = World(emu, BotProcess(emu, env), Db(database), env)
        try:
            yield world
        finally:
            world.bot.stop()


def test_a_restart_keeps_the_link_working(own_world: World) -> None:
    """After kill -9 and a new start the same link opens the page again, with the code `/here` accepts."""
    own_world.bot.start()
    session_id, reply = own_world.open()
    url = link_in(reply.content)
    live_card(own_world.emu, session_id)
    assert own_world.bot.signal(signal.SIGKILL) == -signal.SIGKILL
    own_world.bot = BotProcess(own_world.emu, own_world.env).start()
    assert fetch(url)[0] == 200
    event = first_event(url)
    answer = own_world.here(own_world.student("afterrestart"), event["code"])
    assert answer.content == messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))


def test_a_port_in_use_is_one_warning_and_the_bot_runs_on(own_world: World) -> None:
    """Another program holds WEB_PORT: one warning line, then the bot works as ever (without the page)."""
    port = int(own_world.env["WEB_PORT"])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        own_world.bot.start()
        session_id, _ = own_world.open()
        card = live_card(own_world.emu, session_id)
        answer = own_world.here(own_world.student("portless"), card.code)
        assert answer.content == messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))
    warning = messages.web_port_in_use("127.0.0.1", port, "the port is in use")
    said = [line for line in own_world.bot.stderr if "projector page" in line.lower()]
    assert len(said) == 1 and said[0].rstrip("\n").endswith(warning), own_world.bot.output()
    wait_until(lambda: own_world.bot.proc is not None and own_world.bot.proc.poll() is None, 1, "the bot to run on")


def test_healthz_says_discord_is_down_during_a_gateway_outage(own_world: World) -> None:
    """The gateway down (reconnects refused): /healthz answers 503 "down: discord"; back up, ok again."""
    own_world.bot.start()
    healthz = f"http://127.0.0.1:{own_world.env['WEB_PORT']}/healthz"
    assert fetch(healthz) == (200, "ok\n")
    own_world.emu.gateway_outage(True)
    try:
        wait_until(lambda: fetch(healthz) == (503, "down: discord\n"), 10, "/healthz to say Discord is down")
    finally:
        own_world.emu.gateway_outage(False)
    wait_until(lambda: fetch(healthz) == (200, "ok\n"), 60, "/healthz to say ok again")  # after nextcord's back-off


def test_a_stop_with_pages_open_ends_their_feeds_and_exits_in_time(own_world: World) -> None:
    """SIGTERM while 20 pages watch the session: each feed's stream ends (the pages reconnect to the next
    start by themselves) and the bot exits 0 within the 5 s every stop keeps to."""
    own_world.bot.start()
    _, reply = own_world.open()
    url = link_in(reply.content)
    streams = [urllib.request.urlopen(url + "/events", timeout=15) for _ in range(20)]
    try:
        for stream in streams:
            assert stream.read1(4096).startswith(b"data: ")
        assert own_world.bot.proc is not None
        started = time.monotonic()
        own_world.bot.proc.send_signal(signal.SIGTERM)
        code = own_world.bot.proc.wait(20)
        took = time.monotonic() - started
        for stream in streams:
            while stream.read1(4096):  # the rest of the stream, up to its end
                pass
    finally:
        for stream in streams:
            stream.close()
    assert code == 0, own_world.bot.output()
    assert took < 5.0, f"exited {took:.1f} s after SIGTERM"
