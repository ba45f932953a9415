"""The systemd unit shipped in data/attendance-bot.service: its hardening, `systemd-analyze verify`, and its
ExecStart command line as written, started against the emulator and stopped as systemd stops it.

No systemd runs the unit here. Its paths are made real the way the README's install steps make them: a
checkout at /opt/attendance-bot with its .venv, .env and data/, laid over /opt in a private mount
namespace (the machine's /opt is left as it is), read-only but for data/, as ProtectSystem=strict and
ReadWritePaths= leave it. Skipped, with the reason, where no such namespace can be made."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from attendance_bot import messages
from attendance_bot.emulator import EmulatorThread

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "data" / "attendance-bot.service"
READY_LINE = "Bot is ready!"
EXIT_WITHIN = 5.0
# Lays the tree's /opt over the machine's (read-only), mounts the tree's data/ folder writable at its
# place, enters the working directory and runs the command:
# sh -c LAYOUT sh TREE_OPT TREE_DATA DATA WORKDIR COMMAND...
LAYOUT = (
    'mount -t overlay overlay -o "lowerdir=$1:/opt" /opt && mount --bind "$2" "$3" && cd "$4" && shift 4 && exec "$@"'
)


def _unit() -> dict[str, dict[str, list[str]]]:
    """The unit's sections and their settings (a setting given twice has both values, in order)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


SERVICE = _unit()["Service"]
EXEC_START = shlex.split(SERVICE["ExecStart"][0])
CHECKOUT = Path(EXEC_START[1]).parent  # ExecStart: the checkout's .venv/bin/python, its manage.py, `run`


def test_the_unit_runs_the_bot_hardened_as_the_readme_says() -> None:
    """A dedicated user, everything read-only but the checkout's data/ folder, no privileges to gain, a
    private /tmp, restarted after a failure, its output in the journal."""
    assert EXEC_START == [str(CHECKOUT / ".venv/bin/python"), str(CHECKOUT / "manage.py"), "run"]
    expected = {
        "User": ["attendance-bot"],
        "ProtectSystem": ["strict"],
        "ReadWritePaths": [str(CHECKOUT / "data")],
        "NoNewPrivileges": ["true"],
        "PrivateTmp": ["true"],
        "Restart": ["on-failure"],
        "StandardOutput": ["journal"],
        "StandardError": ["journal"],
    }
    assert {key: SERVICE.get(key) for key in expected} == expected
    assert "ReadOnlyPaths" not in SERVICE and "BindPaths" not in SERVICE


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """/opt as the README's steps leave it: the checkout's code, its .venv (this test's Python) and data/."""
    opt = tmp_path_factory.mktemp("opt")
    checkout = opt / CHECKOUT.relative_to("/opt")
    checkout.mkdir(parents=True)
    shutil.copy2(ROOT / "manage.py", checkout / "manage.py")
    shutil.copytree(ROOT / "attendance_bot", checkout / "attendance_bot", ignore=shutil.ignore_patterns("__pycache__"))
    (checkout / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    (checkout / "data").mkdir(mode=0o700)
    return opt


def _laid_out(opt: Path, *command: str) -> list[str]:
    """`command` run with `opt` laid over /opt in a private mount namespace, in the unit's working directory."""
    data = opt / CHECKOUT.relative_to("/opt") / "data"
    user = [] if os.geteuid() == 0 else ["--map-root-user"]
    workdir = SERVICE.get("WorkingDirectory", ["/"])[0]
    namespace = ["unshare", "--mount", "--propagation", "private", *user]
    return [*namespace, "sh", "-c", LAYOUT, "sh", str(opt), str(data), str(CHECKOUT / "data"), workdir, *command]


@pytest.fixture(scope="module")
def layout(tree: Path) -> Path:
    """The tree, once it is known that a private mount namespace can lay it over /opt here."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed: /opt/attendance-bot cannot be laid out")
    probe = subprocess.run(
        _laid_out(tree, "test", "-x", EXEC_START[0]), capture_output=True, text=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        said = probe.stderr.strip() or f"exit status {probe.returncode}"
        pytest.skip(
            f"no private mount namespace to lay out /opt/attendance-bot in (needs root or user namespaces): {said}"
        )
    return tree


def test_systemd_analyze_verifies_the_unit(layout: Path) -> None:
    """`systemd-analyze verify` finds nothing to say about the unit (its ExecStart exists and runs)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    proc = subprocess.run(
        _laid_out(layout, analyze, "verify", str(UNIT)), capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    said = [line for line in (proc.stdout + proc.stderr).splitlines() if UNIT.name in line]
    assert said == [], "\n".join(said)  # (other units it loads, the machine's own, may have their say)


@pytest.fixture
def emu() -> Iterator[EmulatorThread]:
    with EmulatorThread() as thread:
        yield thread


def test_its_exec_start_as_written_runs_the_bot_and_stops_on_sigterm(layout: Path, emu: EmulatorThread) -> None:
    """ExecStart as written, with the unit's Environment= and a .env for the emulator: the bot connects,
    answers /open_attendance, keeps its database in data/ (the only writable folder), and the unit's
    KillSignal ends it with status 0 within 5 s."""
    checkout = layout / CHECKOUT.relative_to("/opt")
    settings = {**emu.bot_env(), "WEB_PORT": "0"}
    (checkout / ".env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()), encoding="utf-8")
    environment = dict(item.split("=", 1) for line in SERVICE.get("Environment", []) for item in shlex.split(line))
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", **environment}
    gateway = emu.emu.gateway
    proc = subprocess.Popen(
        _laid_out(layout, *EXEC_START), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while READY_LINE not in "".join(lines) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None and READY_LINE in "".join(lines), "".join(lines)
        emu.wait_for_bot(30, commands=("open_attendance", "here"))
        assert gateway.connected
        reply = emu.invoke(emu.instructor, emu.admin_channel_id, "open_attendance")
        session = re.search(r"session (\S+) is open", reply.content)
        assert session and reply.content == messages.opened_reply(session.group(1), emu.attendance_channel_id)
        assert (checkout / "data" / "attendance.db").is_file()
        started = time.monotonic()
        proc.send_signal(signal.Signals[SERVICE.get("KillSignal", ["SIGTERM"])[0]])
        status = proc.wait(EXIT_WITHIN + 20)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    reader.join(5)
    assert status == 0, "".join(lines)
    assert took < EXIT_WITHIN, f"exited {took:.1f} s after {SERVICE.get('KillSignal', ['SIGTERM'])[0]}"
    assert emu.token not in "".join(lines)
