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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..emulator import Emulator

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "Bot is ready!"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


SPEEDUPS = ("uvloop", "orjson")  # the speed-ups a bot can run with (attendance_bot/speedups.py)


@dataclass(frozen=True)
class BotKind:
    """Which bot to run: ours (manage.py run) on SQLite or on PostgreSQL, or the bare ceiling; each
    with the speed-ups it switches on (UVLOOP, ORJSON; every other one is switched off)."""

    program: str  # "ours" or "bare"
    postgres: bool = False
    speedups: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """As the table shows it: ours, ours-pg or bare, then +uvloop, +orjson."""
        return self.program + ("-pg" if self.postgres else "") + "".join(f"+{s}" for s in self.speedups)

    @property
    def ours(self) -> bool:
        return self.program == "ours"

    @property
    def commands(self) -> tuple[str, ...]:
        return ("here", "open_attendance", "close_attendance") if self.ours else ("here", "panel")

    def argv(self) -> list[str]:
        if self.ours:
            return [sys.executable, "-u", "manage.py", "--env-file", "/dev/null", "run"]
        return [sys.executable, "-u", "-m", "attendance_bot.bench.start_bare"]

    def env(self) -> dict[str, str]:
        """UVLOOP and ORJSON, each on or off."""
        return {name: "on" if module in self.speedups else "off" for name, module in _SWITCHES.items()}


_SWITCHES = {"UVLOOP": "uvloop", "ORJSON": "orjson"}
OURS = BotKind("ours")
OURS_PG = BotKind("ours", postgres=True)
BARE = BotKind("bare")


def parse_kind(text: str) -> BotKind:
    """`ours`, `ours-pg` or `bare`, then any of `+uvloop` and `+orjson` (ValueError otherwise)."""
    base, *extras = text.strip().split("+")
    programs = {"ours": OURS, "ours-pg": OURS_PG, "bare": BARE}
    if base not in programs or any(e not in SPEEDUPS for e in extras) or len(set(extras)) != len(extras):
        raise ValueError(f"bad bot {text!r}: use ours, ours-pg or bare, optionally followed by +uvloop and/or +orjson")
    kind = programs[base]
    return BotKind(kind.program, kind.postgres, tuple(s for s in SPEEDUPS if s in extras))


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
    kind: BotKind,
    emu: Emulator,
    database: Path | str,
    *,
    interval: int | None,
    timeout: float = 60.0,
    shard_count: int | None = None,
    shard_ids: Sequence[int] = (),
    extra_env: dict[str, str] | None = None,
) -> BotProcess:
    """Spawn the bot on 127.0.0.1 against ``emu`` and return once its commands are registered.

    ``database``: an SQLite file (DATABASE_PATH) or a PostgreSQL URL (DATABASE_URL). With
    ``shard_count`` the process runs ``shard_ids`` of that many shards (SHARD_COUNT, SHARD_IDS)
    and is ready once each of them is connected. The speed-ups the kind names are switched on,
    every other one off, and the bot must say it uses them. ``extra_env`` is set last (a
    scenario's own settings, such as the projector page's WEB_PORT).
    """
    env = dict(os.environ)
    for name in ("DATABASE_PATH", "DATABASE_URL", "SHARD_COUNT", "SHARD_IDS"):
        env.pop(name, None)
    env.update(emu.bot_env())
    env.update(kind.env())
    env.update(
        BENCH_GUILD_ID=str(emu.guild_id),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p),
    )
    if isinstance(database, str):
        env["DATABASE_URL"] = database
    else:
        env["DATABASE_PATH"] = str(database)
    if shard_count is not None:
        env["SHARD_COUNT"] = str(shard_count)
        env["SHARD_IDS"] = ",".join(str(i) for i in shard_ids)
    if interval is not None:
        env["CODE_ROTATION_INTERVAL"] = str(interval)
    else:
        env.pop("CODE_ROTATION_INTERVAL", None)
    env.update(extra_env or {})
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

    def connected() -> bool:
        if shard_count is None:
            return emu.gateway.identify_count > baseline and emu.gateway.connected
        return emu.gateway.identify_count >= baseline + len(shard_ids) and set(shard_ids) <= set(
            emu.gateway.connected_shards
        )

    try:
        while not (bot.ready.is_set() and connected()):
            if not bot.alive():
                raise RuntimeError(f"{kind.name} bot exited with {proc.returncode}:\n{bot.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind.name} bot not ready after {timeout:.0f}s:\n{bot.output()}")
            await asyncio.sleep(0.05)
        await emu.wait_for_bot(max(deadline - time.monotonic(), 1.0), commands=kind.commands)
        missing = [s for s in kind.speedups if not any(line.startswith(f"Using {s} ") for line in bot.tail)]
        if missing:
            raise RuntimeError(f"{kind.name} bot runs without {', '.join(missing)}:\n{bot.output()}")
    except BaseException:
        await bot.stop(5)
        raise
    return bot
