"""Private follow-ups longer than one Discord message: the first lines shown, the whole attached as a text file."""

from __future__ import annotations

import io

import nextcord

from .. import messages

MAX_REPLY = 1900  # under Discord's 2,000 characters: longer answers come as a text file too


async def send_lines(interaction: nextcord.Interaction, lines: list[str], filename: str) -> None:
    """A private follow-up: all the lines when they fit, else their first ones and the whole as a text file."""
    text = "\n".join(lines)
    if len(text) <= MAX_REPLY:
        await interaction.followup.send(text, ephemeral=True)
        return
    shown: list[str] = []
    for line in lines:
        if len("\n".join([*shown, line])) > MAX_REPLY - 80:
            break
        shown.append(line)
    note = messages.history_truncated(len(lines) - len(shown), filename)
    file = nextcord.File(io.BytesIO(text.encode("utf-8")), filename=filename)
    await interaction.followup.send("\n".join([*shown, note]), file=file, ephemeral=True)
