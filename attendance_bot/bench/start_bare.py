"""The bare bot's process: the UVLOOP/ORJSON switches first (nextcord picks its JSON module when it
is imported), then the bot of barebot.py."""

from __future__ import annotations

import asyncio

from ..messages import error_text
from ..speedups import apply_from_environ


def main() -> None:
    lines = [error_text(notice) for notice in apply_from_environ()]
    for line in lines:
        print(line, flush=True)
    if any(line.startswith("Using uvloop ") for line in lines):
        # nextcord 2.6's Client() asks for the current loop outside any running one: the default
        # policy makes one then, uvloop's refuses, so the loop is made here.
        asyncio.set_event_loop(asyncio.new_event_loop())
    from .barebot import main as run_bare

    run_bare()


if __name__ == "__main__":
    main()
