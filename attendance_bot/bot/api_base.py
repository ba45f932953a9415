"""Points nextcord's REST (and CDN) URLs at a custom Discord-compatible API base, e.g. the local emulator."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

_DISCORD_API = "https://discord.com/api/v10"


def apply_api_base(base: str) -> None:
    """Make nextcord talk to ``base`` (e.g. ``http://127.0.0.1:PORT/api/v10``) instead of discord.com.

    Works for nextcord 2.6 and 3.x: every REST call (bot routes, interaction callbacks and
    webhook followups) builds its URL from ``nextcord.http.Route.BASE``; the gateway URL is then
    obtained from ``GET {base}/gateway`` like on Discord. Asset (CDN) URLs are pointed at
    ``<origin>/cdn`` for non-Discord bases so nothing tries to reach the internet.
    """
    import nextcord.asset
    import nextcord.http

    base = base.rstrip("/")
    nextcord.http.Route.BASE = base
    parts = urlsplit(base)
    if parts.hostname and not parts.hostname.endswith("discord.com"):
        nextcord.asset.Asset.BASE = f"{parts.scheme}://{parts.netloc}/cdn"
    else:
        nextcord.asset.Asset.BASE = "https://cdn.discordapp.com"
    log.debug("nextcord REST base set to %s", base)
