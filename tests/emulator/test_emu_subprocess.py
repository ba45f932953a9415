"""Emulator tests with the bot in a separate process, driven through ``EmulatorThread``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from emu_testbot import COMMANDS

from attendance_bot.emulator import EmulatorThread

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parents[1]


def _spawn_bot(emu: EmulatorThread) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        DISCORD_API_BASE=emu.api_base,
        DISCORD_BOT_TOKEN=emu.token,
        EMU_GUILD_ID=str(emu.guild_id),
        EMU_REPO_ROOT=str(_ROOT),
        PYTHONPATH=os.pathsep.join([str(_ROOT), env.get("PYTHONPATH", "")]),
    )
    return subprocess.Popen([sys.executable, str(_HERE / "emu_testbot.py")], env=env)


def test_subprocess_bot_survives_kill_9_and_restart() -> None:
    with EmulatorThread() as emu:
        proc = _spawn_bot(emu)
        try:
            emu.wait_for_bot(30, commands=COMMANDS)
            reply = emu.invoke(emu.students[0], emu.attendance_channel_id, "echo", text="first")
            assert reply.content == "echo: first" and reply.ephemeral
            ids_before = {c["name"]: c["id"] for c in emu.registered_commands(emu.guild_id)}

            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            proc = _spawn_bot(emu)
            emu.wait_for_bot(30, commands=COMMANDS, fresh=True)
            reply = emu.invoke(emu.instructor, emu.admin_channel_id, "card")
            assert reply.embeds[0]["title"] == "Attendance card"
            # the restarted bot found its commands already registered and kept their ids
            assert {c["name"]: c["id"] for c in emu.registered_commands(emu.guild_id)} == ids_before

            emu.faults.add(r"/callback$", status=500, times=1)
            reply = emu.invoke(emu.students[1], emu.attendance_channel_id, "echo", text="retry", timeout=15)
            assert reply.content == "echo: retry"
            assert [m.content for m in emu.messages(emu.admin_channel_id)] == [""]
            assert emu.unknown_routes == []
        finally:
            proc.kill()
            proc.wait(10)
