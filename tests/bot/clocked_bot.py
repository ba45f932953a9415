"""The bot as `manage.py run` starts it, on a clock the test moves: the real time plus the seconds
written in a file (the one clock the bot's services take, so codes, the voice presence and the records
all see the same time). Run as `python tests/bot/clocked_bot.py OFFSET_FILE` with the bot's environment."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from attendance_bot.bot.app import configure_logging, serve
from attendance_bot.clock import utc_now
from attendance_bot.settings import load_settings


class FileClock:
    """The real UTC time plus the offset in a file, read again whenever the file is replaced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._offset = timedelta(0)

    def __call__(self) -> datetime:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return utc_now() + self._offset
        if (stat.st_ino, stat.st_mtime_ns) != self._seen:
            self._seen = (stat.st_ino, stat.st_mtime_ns)
            self._offset = timedelta(seconds=float(self.path.read_text(encoding="ascii").strip() or 0))
        return utc_now() + self._offset


def set_offset(path: Path, seconds: float) -> None:
    """Move the clock of every bot reading `path` to the real time plus `seconds` (a new file each time)."""
    partial = path.with_suffix(".partial")
    partial.write_text(f"{seconds}\n", encoding="ascii")
    partial.replace(path)


def main() -> int:
    settings = load_settings(None, environ=dict(os.environ))
    configure_logging(settings)
    print("Configuration validated successfully", flush=True)
    asyncio.run(serve(settings, clock=FileClock(Path(sys.argv[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
