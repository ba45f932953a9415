"""What every slash command shares about its options: who may see instructor commands, the
`course` option's name, Discord's choice limit, and the options as Discord sent them (the options
with a completer are built in completers.py)."""

from __future__ import annotations

import nextcord

# Instructor commands are hidden from members without Manage Server (the bot checks again itself).
ADMIN_PERMISSIONS = nextcord.Permissions(manage_guild=True)
COURSE_OPTION = "course"
MAX_AUTOCOMPLETE = 25  # Discord's limit of choices


def typed_options(interaction: nextcord.Interaction) -> dict[str, object]:
    """The options of the (sub-)command as Discord sent them, by name (values before nextcord
    converts them; in an autocomplete, the others as typed so far)."""
    options = (interaction.data or {}).get("options") or []
    while options and options[0].get("type") in (1, 2):  # a sub-command (group): its own options
        options = options[0].get("options") or []
    return {option["name"]: option.get("value") for option in options}
