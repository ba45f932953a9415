"""The real bot on the local Discord emulator, and Discord markup as people read it (for demo and playground)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from .settings import Settings, load_settings

log = logging.getLogger(__name__)

# Every slash command the bot registers: the emulator waits for all of them before anyone types.
BOT_COMMANDS = (
    "course",
    "open_attendance",
    "close_attendance",
    "projector",
    "export_csv",
    "here",
    "register",
    "attendance",
    "my_attendance",
)
READY_LINE = "Bot is ready!"


def quiet_logging() -> None:
    """Warnings only, on stderr, without nextcord's PyNaCl notice (the bot never uses voice)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("nextcord.client").addFilter(lambda record: "PyNaCl" not in record.getMessage())


def local_clock(unix: int) -> str:
    """HH:MM in this machine's zone, as a Discord client shows `<t:UNIX:t>`."""
    return datetime.fromtimestamp(unix, timezone.utc).astimezone().strftime("%H:%M")


def strip_markdown(text: str) -> str:
    return re.sub(r"[`*#]", "", text).strip()


def humane(text: str, channel_names: dict[int, str]) -> str:
    """Render Discord markup as a client would: <#id> as #name, <t:UNIX:R> as 'in N s', <t:UNIX:t> as HH:MM."""
    text = re.sub(r"<#(\d+)>", lambda m: "#" + channel_names.get(int(m.group(1)), m.group(1)), text)
    now = time.time()
    text = re.sub(r"<t:(\d+):R>", lambda m: f"in {max(0, round(int(m.group(1)) - now))} s", text)
    return re.sub(r"<t:(\d+):t>", lambda m: local_clock(int(m.group(1))), text)


def embed_lines(embed: dict[str, Any]) -> list[str]:
    """An embed's description, one line each, then its fields on one line (markup not yet rendered)."""
    lines = [part.strip() for part in strip_markdown(embed.get("description", "")).splitlines() if part.strip()]
    fields = " · ".join(f"{f['name']}: {f['value']}" for f in embed.get("fields", []))
    return [*lines, fields] if fields else lines


class Indented(io.TextIOBase):
    """A text stream that indents each line it passes on, as a terminal shows it (a CSV's CRLF line
    end is a line end, not a character to show), and remembers what it saw."""

    def __init__(self, out: IO[str], prefix: str) -> None:
        self._out = out
        self._prefix = prefix
        self.seen = ""

    def write(self, text: str) -> int:
        self.seen += text
        for line in text.replace("\r\n", "\n").splitlines(keepends=True):
            self._out.write(self._prefix + line if line.strip() else line)
        return len(text)

    def flush(self) -> None:
        self._out.flush()


async def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `predicate` until it is truthy; RuntimeError naming `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def emulated_settings(emu: Any, database_path: Path, **extra: str) -> Settings:
    """The bot's settings for the emulator's server: its channels as the `.env` course, a SQLite file."""
    return load_settings(None, environ={**emu.bot_env(), "DATABASE_PATH": str(database_path), **extra})


@contextlib.asynccontextmanager
async def bot_running(emu: Any, settings: Settings, out: IO[str], prefix: str = "    ") -> AsyncIterator[asyncio.Task]:
    """`manage.py run`'s bot in this event loop against `emu`, its lines indented on `out`, until the block ends.

    Yields once the bot said it is ready and every command is registered; the bot's task (done early
    only if the bot failed). On leaving, the bot is stopped as on Ctrl-C and awaited.
    """
    from .bot.app import serve

    bot_out = Indented(out, prefix)
    bot_out.write("Configuration validated successfully\n")  # what `manage.py run` prints first
    task = asyncio.create_task(serve(settings, out=bot_out, install_signal_handlers=False), name="bot")
    try:
        await emu.wait_for_bot(timeout=30, commands=BOT_COMMANDS)
        await wait_for(lambda: READY_LINE in bot_out.seen, 30, "the bot to be ready")
        yield task
    finally:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception) as exc:  # the caller's result is already decided
            log.debug("bot task ended with %r", exc)
