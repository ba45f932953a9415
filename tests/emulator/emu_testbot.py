"""A bare nextcord bot used by the emulator tests (importable, and runnable as a subprocess script)."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
from typing import Any

import nextcord

log = logging.getLogger(__name__)

COMMANDS = ("echo", "card", "report", "post", "silent")


def make_bot(guild_id: int) -> nextcord.Client:
    """Client with guild-scoped slash commands exercising the emulator's features."""
    intents = nextcord.Intents.none()
    intents.guilds = True
    client = nextcord.Client(intents=intents)

    @client.slash_command(name="echo", description="Echo text back ephemerally", guild_ids=[guild_id])
    async def echo(
        interaction: nextcord.Interaction,
        text: str = nextcord.SlashOption(description="what to echo"),
    ) -> None:
        await interaction.response.send_message(f"echo: {text}", ephemeral=True)

    @client.slash_command(name="card", description="Reply with an embed", guild_ids=[guild_id])
    async def card(interaction: nextcord.Interaction) -> None:
        embed = nextcord.Embed(title="Attendance card", description="Session 1", colour=0x2ECC71)
        embed.add_field(name="present", value="3")
        await interaction.response.send_message(embed=embed)

    @client.slash_command(name="report", description="Deferred reply with a file", guild_ids=[guild_id])
    async def report(interaction: nextcord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        await asyncio.sleep(0.05)
        data = io.BytesIO(b"student,present\nalice,yes\n")
        await interaction.followup.send("report ready", file=nextcord.File(data, filename="report.csv"))

    @client.slash_command(name="post", description="Post and edit a channel message", guild_ids=[guild_id])
    async def post(
        interaction: nextcord.Interaction,
        text: str = nextcord.SlashOption(description="message text"),
    ) -> None:
        await interaction.response.defer(ephemeral=True)
        channel: Any = interaction.channel
        msg = await channel.send(f"posted: {text}")
        msg = await msg.edit(content=f"edited: {text}")
        await interaction.followup.send(f"{msg.id}", ephemeral=True)

    @client.slash_command(name="silent", description="Never answers", guild_ids=[guild_id])
    async def silent(interaction: nextcord.Interaction) -> None:
        return None

    return client


def main() -> None:
    """Subprocess entry: env DISCORD_API_BASE, DISCORD_BOT_TOKEN, EMU_GUILD_ID."""
    sys.path.insert(0, os.environ.get("EMU_REPO_ROOT", "."))
    from attendance_bot.bot.api_base import apply_api_base

    logging.basicConfig(level=logging.WARNING)
    apply_api_base(os.environ["DISCORD_API_BASE"])
    client = make_bot(int(os.environ["EMU_GUILD_ID"]))
    client.run(os.environ["DISCORD_BOT_TOKEN"])


if __name__ == "__main__":
    main()
