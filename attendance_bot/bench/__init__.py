"""The burst benchmark: the real bot and a bare nextcord bot, each in its own process, against the emulator."""
