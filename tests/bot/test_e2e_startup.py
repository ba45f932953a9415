"""End to end: what the operator sees when `manage.py run` cannot start, and the noise it leaves out."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

from botdriver import ROOT, BotProcess, bot_env
from conftest import World

from attendance_bot import messages
from attendance_bot.emulator import EmulatorThread


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "--env-file", "/dev/null", "run"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_unreachable_discord_is_one_line(emu: EmulatorThread, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Nothing listens at DISCORD_API_BASE: exit 1 with one line naming the URL and what to check, no traceback."""
    base = f"http://127.0.0.1:{_closed_port()}/api/v10"
    env = bot_env(emu, tmp_path / "attendance.db", DISCORD_API_BASE=base)
    proc = _run(env)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert base in lines[0] and "DISCORD_API_BASE" in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert emu.token not in proc.stderr + proc.stdout


def test_everyone_role_as_admin_role_is_refused(emu: EmulatorThread, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """ADMIN_ROLE_ID equal to the server's id (@everyone) without GUILD_ID: refused at start in one line."""
    env = bot_env(emu, tmp_path / "attendance.db", ADMIN_ROLE_ID=str(emu.guild_id))
    proc = _run(env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "ADMIN_ROLE_ID" in line]
    assert len(errors) == 1 and "@everyone" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Bot is ready!" not in proc.stdout


def test_no_voice_noise_at_start(fresh_world: World) -> None:
    """nextcord's PyNaCl warning (voice is of no use to this bot) is not shown."""
    bot = fresh_world.bot.start()
    assert "PyNaCl" not in bot.output()


def test_ctrl_c_while_discord_does_not_answer_says_stopped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C while the login waits for Discord: the operator stopped it, so exit 0 with "Stopped", not
    "Cannot reach Discord" (which names a network fault that did not happen)."""
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PYTHONUNBUFFERED": "1",
            "DISCORD_BOT_TOKEN": "MTIz.fake.token-for-a-silent-server",
            "DISCORD_API_BASE": f"http://127.0.0.1:{silent.getsockname()[1]}/api/v10",
            "DATABASE_PATH": str(tmp_path / "attendance.db"),
        }
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "--env-file", "/dev/null", "run"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            started = [proc.stdout.readline() for _ in range(2)]
            assert started[-1].strip() == "Starting Discord bot...", started
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert messages.stopped_during_startup() in out
    assert "Cannot reach Discord" not in out + err and "Traceback" not in err, err


def test_a_restart_with_the_same_env_course_logs_no_change(fresh_world: World) -> None:
    """The `.env` course is created at the first start; a restart with the same `.env` changes nothing,
    so it logs no "Changed course" (a log that said it at every start hid the starts that did change it)."""
    first = fresh_world.bot.start()
    assert "Created course 'default'" in first.output()
    assert first.signal(signal.SIGTERM) == 0
    again = BotProcess(fresh_world.emu, fresh_world.env).start()
    fresh_world.bot = again
    log = "".join(again.stderr)
    assert "Course 'default' from .env" in log
    assert "Changed course" not in log and "Created course" not in log
