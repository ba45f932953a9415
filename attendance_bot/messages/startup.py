"""Start-up failures of the bot, one line each."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


# -- start-up failures (one line each) ---------------------------------------------------------


def admin_channel_not_visible(channel_id: int | None) -> str:
    return (
        f"The bot cannot see ADMIN_CHANNEL_ID {channel_id} (403 Missing Access): invite it to the "
        "server with the bot and applications.commands scopes and let it view that channel."
    )


def admin_channel_missing(channel_id: int | None) -> str:
    return f"ADMIN_CHANNEL_ID {channel_id} does not exist: copy the id again."


def admin_channel_not_in_a_server(channel_id: int | None) -> str:
    return f"ADMIN_CHANNEL_ID {channel_id} is not a server channel."


def env_course_refused(name: str, error: Exception) -> str:
    return f"The course {name!r} that ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID define cannot be set up: {error}"


def token_refused() -> str:
    return "Discord refused the token: copy DISCORD_BOT_TOKEN again from the portal."


def discord_unreachable(api_base: str, reason: str) -> str:
    return (
        f"Cannot reach Discord at {api_base} ({reason}): check the "
        "network connection, and DISCORD_API_BASE if it is set (unset, the bot uses discord.com)."
    )


def stopped_during_startup() -> str:
    return "Stopped (Ctrl-C or SIGTERM) during start-up, before the bot was connected to Discord."
