"""The framework's ceiling: a bare nextcord bot whose guild command `/here code` only answers "ok", and
whose button (posted by `/panel`) opens a one-field form whose submission only answers "ok"."""

from __future__ import annotations

import logging
import os
import sys

import nextcord

log = logging.getLogger(__name__)
GUILD_READY_SECONDS = 0.5  # as attendance_bot.bot.app's (not imported: the bare bot stands alone)


def make_bot(guild_id: int) -> nextcord.Client:
    """A client with the same intents as the attendance bot and one ephemeral `/here`."""
    intents = nextcord.Intents.none()
    intents.guilds = True
    # The same short wait for the server list as the attendance bot's: it only moves the start; the
    # figures are measured after both are ready.
    client = nextcord.Client(intents=intents, guild_ready_timeout=GUILD_READY_SECONDS)
    announced = False

    @client.slash_command(name="here", description="Check in with the code on screen", guild_ids=[guild_id])
    async def here(
        interaction: nextcord.Interaction,
        code: str = nextcord.SlashOption(name="code", description="The code", required=True, max_length=32),
    ) -> None:
        await interaction.response.send_message("ok", ephemeral=True)

    @client.slash_command(name="panel", description="Post a message with a Check in button", guild_ids=[guild_id])
    async def panel(interaction: nextcord.Interaction) -> None:
        button = {"type": 2, "style": 1, "label": "Check in", "custom_id": "bare-check-in"}
        sent = await client.http.send_message(
            interaction.channel_id, "Check in", components=[{"type": 1, "components": [button]}]
        )
        await interaction.response.send_message(str(sent["id"]), ephemeral=True)

    @client.event
    async def on_interaction(interaction: nextcord.Interaction) -> None:
        """The button opens the form (the first answer), the form answers "ok"; commands as nextcord runs them."""
        if interaction.type is nextcord.InteractionType.component:
            form = nextcord.ui.Modal("Check in", custom_id="bare-form", auto_defer=False)
            form.add_item(nextcord.ui.TextInput("The code", custom_id="code", min_length=1, max_length=32))
            await interaction.response.send_modal(form)
            form.stop()
        elif interaction.type is nextcord.InteractionType.modal_submit:
            await interaction.response.send_message("ok", ephemeral=True)
        else:
            await client.process_application_commands(interaction)

    @client.event
    async def on_ready() -> None:
        nonlocal announced
        if not announced:
            announced = True
            print("Bot is ready!", flush=True)

    return client


def main() -> None:
    """Subprocess entry: env DISCORD_API_BASE, DISCORD_BOT_TOKEN, BENCH_GUILD_ID."""
    from ..bot.api_base import apply_api_base

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    apply_api_base(os.environ["DISCORD_API_BASE"])
    client = make_bot(int(os.environ["BENCH_GUILD_ID"]))
    client.run(os.environ["DISCORD_BOT_TOKEN"], reconnect=True)


if __name__ == "__main__":
    main()
