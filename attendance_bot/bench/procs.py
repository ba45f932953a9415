"""Bot processes under test: start against the emulator, wait until ready, read RSS and CPU, stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ..emulator import Emulator

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "Bot is ready!"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class BotKind:
    """Which bot to run: ours (manage.py run) or the bare ceiling."""

    name: str
    commands: tuple[str, ...]

    def argv(self) -> list[str]:
        if self.name == "ours":
            return [sys.executable, "-u", "manage.py", "--env-file", "/dev/null", "run"]
        return [sys.executable, "-u", "-m", "attendance_bot.bench.barebot"]


OURS = BotKind("ours", ("here", "open_attendance", "close_attendance"))
BARE = BotKind("bare", ("here",))


class BotProcess:
    """One running bot process; its output is drained into a short tail for error messages."""

    def __init__(self, kind: BotKind, proc: asyncio.subprocess.Process) -> None:
        self.kind = kind
        self.proc = proc
        self.tail: deque[str] = deque(maxlen=60)
        self.ready = asyncio.Event()
        self._drain = asyncio.ensure_future(self._read_output())

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def _read_output(self) -> None:
        assert self.proc.stdout is not None
        while True:
            raw = await self.proc.stdout.readline()
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip()
            self.tail.append(line)
            if READY_LINE in line:
                self.ready.set()

    def output(self) -> str:
        return "\n".join(self.tail)

    def alive(self) -> bool:
        return self.proc.returncode is None

    def status_kb(self, field: str) -> int:
        """A `VmXXX` line of /proc/<pid>/status in kB (0 once the process is gone)."""
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far."""
        try:
            with open(f"/proc/{self.pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    async def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (the bot closes cleanly), SIGKILL if it does not exit in time."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                log.warning("%s bot did not stop within %.0fs; killing it", self.kind.name, timeout)
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._drain, 5)


async def start_bot(
    kind: BotKind, emu: Emulator, database_path: Path, *, interval: int | None, timeout: float = 60.0
) -> BotProcess:
    """Spawn the bot on 127.0.0.1 against ``emu`` and return once its commands are registered."""
    env = dict(os.environ)
    env.update(emu.bot_env())
    env.update(
        DATABASE_PATH=str(database_path),
        BENCH_GUILD_ID=str(emu.guild_id),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p),
    )
    if interval is not None:
        env["CODE_ROTATION_INTERVAL"] = str(interval)
    else:
        env.pop("CODE_ROTATION_INTERVAL", None)
    baseline = emu.gateway.identify_count
    proc = await asyncio.create_subprocess_exec(
        *kind.argv(),
        cwd=str(REPO_ROOT),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    bot = BotProcess(kind, proc)
    deadline = time.monotonic() + timeout
    try:
        while not (bot.ready.is_set() and emu.gateway.identify_count > baseline and emu.gateway.connected):
            if not bot.alive():
                raise RuntimeError(f"{kind.name} bot exited with {proc.returncode}:\n{bot.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind.name} bot not ready after {timeout:.0f}s:\n{bot.output()}")
            await asyncio.sleep(0.05)
        await emu.wait_for_bot(max(deadline - time.monotonic(), 1.0), commands=kind.commands)
    except BaseException:
        await bot.stop(5)
        raise
    return bot
