"""Docker and Compose for real: the image the Dockerfile builds (its own user, `demo` inside it with no
network, a clear line for a missing token file), and docker-compose.yml's bot and PostgreSQL against the
emulator this test starts on 127.0.0.1: a /here recorded, kept across `down` and `up`, and a stop within
5 s. The Compose run adds .ci/docker-compose.ci.yml (PostgreSQL built from the local base image, the
host's network), as no image can be pulled on the CI machines and their dockerd has no bridge.

Skipped, with the reason, where no docker daemon answers; failed instead with ATTENDANCE_REQUIRE_DOCKER=1,
which .ci/docker.sh sets once it has started a daemon (it runs this file once, not under each Python)."""

from __future__ import annotations

import csv
import io
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import pytest

from attendance_bot import messages
from attendance_bot.emulator import EmulatorThread, Member, NoReply
from attendance_bot.records import CurrentCode, Outcome, SubmitResult

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_ENV = "ATTENDANCE_REQUIRE_DOCKER"
IMAGE = "attendance-bot"  # docker-compose.yml's image: the Compose run uses the one built here
CI_POSTGRES_IMAGE = "attendance-bot-ci-postgres"  # .ci/docker-compose.ci.yml's
# The machine's extra CA certificates (those update-ca-certificates installs), handed to the build as
# EXTRA_CA_CERTS: pip inside the build may reach PyPI through a TLS-inspecting proxy.
CA_FOLDER = Path("/usr/local/share/ca-certificates")
EXIT_WITHIN = 5.0
BUILD_SECONDS = 900
START_SECONDS = 120
COMMANDS = ("open_attendance", "here")

T = TypeVar("T")


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"Docker is required ({REQUIRE_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"Docker tests skipped: {reason} (.ci/docker.sh starts a daemon of its own and runs them)")


@dataclass(frozen=True)
class Docker:
    """The docker command and Compose's (docker-compose v1, or the `docker compose` plugin)."""

    cli: str
    compose: tuple[str, ...]

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`docker ARGS`; with `check`, a failure fails the test with the end of what it printed."""
        return _run([self.cli, *args], timeout, check)


def _run(argv: list[str], timeout: float, check: bool) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        argv,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        said = (proc.stdout + proc.stderr).splitlines()[-40:]
        raise AssertionError(f"{' '.join(argv[:4])} ... exited {proc.returncode}:\n" + "\n".join(said))
    return proc


def wait_until(predicate: Callable[[], T], timeout: float, what: str, poll: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _extra_ca_certificates() -> str:
    return "\n".join(path.read_text(encoding="ascii").strip() for path in sorted(CA_FOLDER.rglob("*.crt")))


@pytest.fixture(scope="module")
def docker() -> Docker:
    cli = shutil.which("docker")
    if cli is None:
        _unavailable("there is no docker command")
        raise AssertionError  # unreachable: _unavailable skips or fails
    probe = _run([cli, "version", "--format", "{{.Server.Version}}"], 30, check=False)
    if probe.returncode != 0:
        said = (probe.stderr.strip().splitlines() or ["no answer"])[-1]
        _unavailable(f"no docker daemon answers ({said})")
    compose: tuple[str, ...] = ()
    if shutil.which("docker-compose"):
        compose = (str(shutil.which("docker-compose")),)
    elif _run([cli, "compose", "version"], 30, check=False).returncode == 0:
        compose = (cli, "compose")
    if not compose:
        _unavailable("neither docker-compose nor the `docker compose` plugin is installed")
    return Docker(cli, compose)


@pytest.fixture(scope="module")
def image(docker: Docker) -> str:
    """The Dockerfile built as a user builds it, plus the machine's extra CA certificates as a build argument."""
    certificates = _extra_ca_certificates()
    extra = ["--build-arg", f"EXTRA_CA_CERTS={certificates}"] if certificates else []
    docker.run("build", "--network=host", *extra, "--tag", IMAGE, str(ROOT), timeout=BUILD_SECONDS)
    return IMAGE


def test_the_image_runs_as_its_own_user_and_plays_the_demo_without_network(docker: Docker, image: str) -> None:
    """`docker run --rm attendance-bot demo`: the real bot on the emulator inside the container, with no
    network at all, run by the image's own user (not root); its database goes to the /data volume."""
    uid = docker.run("run", "--rm", "--network=none", "--entrypoint", "id", image, "-u").stdout.strip()
    assert uid.isdigit() and uid != "0", uid
    demo = docker.run("run", "--rm", "--network=none", image, "demo", timeout=300)
    for expected in ("Bot is ready!", "You are marked present", "Closed — 5 present.", "Demo finished"):
        assert expected in demo.stdout, f"{expected!r} missing from the demo:\n{demo.stdout[-3000:]}"
    assert "Traceback" not in demo.stdout + demo.stderr


def test_a_token_file_that_is_not_there_is_one_clear_line(docker: Docker, image: str) -> None:
    """DISCORD_BOT_TOKEN_FILE naming a secret that was not mounted: `check` in the container says so and exits 1."""
    secret = "/run/secrets/discord_bot_token"
    proc = docker.run(
        "run", "--rm", "--network=none", "-e", f"DISCORD_BOT_TOKEN_FILE={secret}", image, "check", check=False
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"Error: {messages.token_file_missing(secret)}" in proc.stderr.splitlines(), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_secret_the_bot_may_not_read_names_its_uid(docker: Docker, image: str, tmp_path: Path) -> None:
    """A secret file of mode 0600 owned by someone else (bind-mounted as it is on the host): `check` says
    it cannot be read and which uid must read it, and shows nothing of the token."""
    token = "MTIz.secret-part.never-shown"
    secret = tmp_path / "discord_bot_token"
    secret.write_text(token + "\n", encoding="utf-8")
    secret.chmod(0o600)
    uid = int(docker.run("run", "--rm", "--network=none", "--entrypoint", "id", image, "-u").stdout)
    if secret.stat().st_uid == uid:
        pytest.skip(f"this test's user has the image's uid {uid}: the file is readable in the container")
    mounted = "/run/secrets/discord_bot_token"
    proc = docker.run(
        "run", "--rm", "--network=none", "--volume", f"{secret}:{mounted}:ro",
        "--env", f"DISCORD_BOT_TOKEN_FILE={mounted}", image, "check", check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    expected = messages.token_file_unreadable(mounted, "Permission denied", uid)
    assert f"Error: {expected}" in proc.stderr.splitlines(), proc.stderr
    assert "secret-part" not in proc.stdout + proc.stderr


# -- Compose ---------------------------------------------------------------------------------------

_SAMPLE = messages.code_card(CurrentCode("SESSION", "CODE", 0, 0.0, datetime(2024, 1, 1, tzinfo=timezone.utc)), 7)
_SESSION_FIELD = next(name for name, value in _SAMPLE.fields if value == "SESSION")


@dataclass
class Stack:
    """docker-compose.yml (with CI's override) in a project folder of its own, against the emulator."""

    docker: Docker
    emu: EmulatorThread
    folder: Path
    name: str
    token: str
    web_port: int

    def compose(
        self, *args: str, timeout: float = START_SECONDS, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        files = ("--file", str(ROOT / "docker-compose.yml"), "--file", str(ROOT / ".ci" / "docker-compose.ci.yml"))
        where = ("--project-directory", str(self.folder), "--project-name", self.name)
        env_file = ("--env-file", str(self.folder / ".env"))
        return _run([*self.docker.compose, *where, *env_file, *files, *args], timeout, check)

    def users_config(self) -> str:
        """`config` of the files a user's `docker compose up` reads: docker-compose.yml and its override."""
        files = ("--file", str(ROOT / "docker-compose.yml"), "--file", str(ROOT / "docker-compose.override.yml"))
        where = ("--project-directory", str(self.folder), "--env-file", str(self.folder / ".env"))
        return _run([*self.docker.compose, *where, *files, "config"], 60, check=True).stdout

    def up(self) -> None:
        """`up -d` (the images are built already) and wait until the bot has connected and registered."""
        gateway = self.emu.emu.gateway
        identified = gateway.identify_count
        self.compose("up", "--detach", "--no-build")
        try:
            wait_until(
                lambda: gateway.identify_count > identified and gateway.connected, START_SECONDS, "the bot to connect"
            )
            self.emu.wait_for_bot(START_SECONDS, commands=COMMANDS)
        except (AssertionError, NoReply) as exc:
            logs = self.compose("logs", "--no-color", check=False)
            raise AssertionError(f"{exc}\n{(logs.stdout + logs.stderr)[-4000:]}") from exc

    def bot_container(self) -> str:
        return self.compose("ps", "--quiet", "bot").stdout.strip()

    def health(self) -> str:
        return self.docker.run("inspect", "--format", "{{.State.Health.Status}}", self.bot_container()).stdout.strip()

    def export(self) -> list[dict[str, str]]:
        """`attendance-bot export` inside the bot's container: the CSV's rows, as the operator reads them."""
        out = self.compose("exec", "-T", "bot", "attendance-bot", "export").stdout
        return list(csv.DictReader(io.StringIO(out)))


@pytest.fixture
def stack(docker: Docker, image: str, tmp_path: Path) -> Iterator[Stack]:
    docker.run("build", "--network=host", "--tag", CI_POSTGRES_IMAGE, str(ROOT / ".ci" / "postgres"), timeout=600)
    with EmulatorThread() as emu:
        settings = {
            **emu.bot_env(),
            "WEB_PORT": str(_free_port()),
            "POSTGRES_PASSWORD": secrets.token_hex(16),
            "CI_POSTGRES_PORT": str(_free_port()),
        }
        token = settings.pop("DISCORD_BOT_TOKEN")  # the bot gets it as a Docker secret only
        (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()), encoding="utf-8")
        (tmp_path / "secrets").mkdir()
        secret = tmp_path / "secrets" / "discord_bot_token"
        secret.write_text(token + "\n", encoding="utf-8")
        secret.chmod(0o644)  # bind-mounted as it is: the container's user must read it
        stack = Stack(docker, emu, tmp_path, f"attendance-ci-{os.getpid()}", token, int(settings["WEB_PORT"]))
        try:
            yield stack
        finally:
            stack.compose("down", "--volumes", "--remove-orphans", check=False)


def _code(emu: EmulatorThread, session_id: str) -> str:
    """The code on the session's code message in the attendance channel (waits for the bot to post it)."""

    def shown() -> str | None:
        for message in reversed(emu.messages(emu.attendance_channel_id)):
            embed = message.embeds[0] if message.embeds else {}
            fields = {f.get("name"): f.get("value") for f in embed.get("fields") or []}
            code = re.search(r"/here (\S+?)`", embed.get("description") or "")
            if fields.get(_SESSION_FIELD) == session_id and code:
                return code.group(1)
        return None

    return wait_until(shown, 30, f"the code message of session {session_id}")


def _here(stack: Stack, student: Member, session_id: str) -> None:
    reply = stack.emu.invoke(student, stack.emu.attendance_channel_id, "here", code=_code(stack.emu, session_id))
    assert reply.content == messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))


def test_compose_records_a_here_on_postgresql_and_keeps_it_across_down_and_up(stack: Stack) -> None:
    """The users' Compose files publish one port, on 127.0.0.1. `compose up`: PostgreSQL becomes healthy, the bot waits for it, connects to the emulator with the
    token from its secret and turns healthy (HEALTHCHECK on /healthz); a /here is recorded and `export` in
    the container shows it; `down` and `up` again keep it; SIGTERM (`docker stop`) ends the bot within 5 s."""
    emu = stack.emu
    published = re.findall(r"^\s+- ([0-9.]+):([0-9]+):([0-9]+)/tcp$", stack.users_config(), re.MULTILINE)
    assert published == [("127.0.0.1", str(stack.web_port), str(stack.web_port))]  # the users' files: one port, local
    stack.up()
    wait_until(lambda: stack.health() == "healthy", 60, "the bot's HEALTHCHECK to pass")
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.web_port}/healthz", timeout=5) as answer:
        assert answer.status == 200

    opened = emu.invoke(emu.instructor, emu.admin_channel_id, "open_attendance")
    session_id = re.search(r"session (\S+) is open", opened.content)
    assert session_id, opened.content
    session = session_id.group(1)
    assert opened.content.splitlines()[0] == messages.opened_reply(session, emu.attendance_channel_id)
    ada = emu.add_member("docker_ada", display_name="Ada")
    _here(stack, ada, session)
    recorded = [(row["user_id"], row["session_id"]) for row in stack.export()]
    assert recorded == [(str(ada.id), session)]

    stack.compose("down")
    stack.up()
    assert [(row["user_id"], row["session_id"]) for row in stack.export()] == recorded
    grace = emu.add_member("docker_grace", display_name="Grace")
    _here(stack, grace, session)  # the session is still open after the restart, and still records

    logs = stack.compose("logs", "--no-color", "bot").stdout
    assert "Bot is ready!" in logs
    assert stack.token not in logs

    container = stack.bot_container()
    started = time.monotonic()
    stack.docker.run("stop", "--time", "20", container, timeout=60)
    took = time.monotonic() - started
    assert stack.docker.run("inspect", "--format", "{{.State.ExitCode}}", container).stdout.strip() == "0"
    assert took < EXIT_WITHIN, f"the bot's container stopped {took:.1f} s after SIGTERM"
