"""The web adapter: the projector page, its live feed and /healthz, served by the bot process (aiohttp)."""
