"""Discord bot package: nextcord client, cogs and runtime wiring."""
