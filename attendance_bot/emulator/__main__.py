"""Command line entry: ``python -m attendance_bot.emulator [--port N]`` runs a standalone emulator."""

from __future__ import annotations

import argparse
import asyncio
import logging

from .server import Emulator

log = logging.getLogger(__name__)


async def _serve(port: int, token: str | None) -> None:
    emu = Emulator(token, port=port)
    await emu.start()
    print(f"DISCORD_API_BASE={emu.api_base}", flush=True)
    print(f"DISCORD_BOT_TOKEN={emu.token}", flush=True)
    print(
        f"guild_id={emu.guild_id} admin_channel_id={emu.admin_channel_id} "
        f"attendance_channel_id={emu.attendance_channel_id}",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await emu.stop()


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(description="Local Discord emulator for nextcord bots")
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: free port)")
    parser.add_argument("--token", default=None, help="bot token to accept (default: random)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO)
    try:
        asyncio.run(_serve(args.port, args.token))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
