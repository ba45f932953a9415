"""End to end: what the operator sees when `manage.py run` cannot start, and the noise it leaves out."""

from __future__ import annotations

import socket
import subprocess
import sys

from botdriver import ROOT, bot_env
from conftest import World

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
