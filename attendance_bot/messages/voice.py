"""Voice presence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..records import (
    VoiceRule,
)
from .text import shown

if TYPE_CHECKING:
    pass


# -- voice presence (voice_channel, voice_rule; attendance_bot/presence.py, voice.py, bot/cogs/voice.py) --


def not_in_voice_reply(channel_id: int | None) -> str:
    """A right code from a student who is not in the course's voice channel (voice_rule required)."""
    return (
        f"🔊 Your code is right, but this class checks in from its voice channel: join <#{channel_id}>, "
        "then send `/here` again with the code on screen."
    )


def voice_part(channel_id: int | None, rule: str | None) -> str:
    """A course's voice setting in its list line: nothing without a voice channel."""
    if channel_id is None:
        return ""
    return f", voice <#{channel_id}> ({rule or VoiceRule.RECORDED})"


def course_setting_not_a_choice(key: str, value: object, choices: tuple[str, ...]) -> str:
    return f"{key} must be one of {', '.join(choices)}, not {shown(str(value))}."


def voice_rule_without_channel(rule: str) -> str:
    return (
        f"voice_rule {rule} needs a voice channel: set voice_channel (a voice or stage channel of this server) "
        "in the same change or before."
    )


def course_clear_and_set(option: str) -> str:
    return f"{option} was both given and cleared: leave out one of the two."


def voice_channel_elsewhere(channel_id: int) -> str:
    return f"Channel {channel_id} is not a channel of this server: pick this server's voice or stage channel."


def voice_channel_not_voice(channel_id: int) -> str:
    return f"<#{channel_id}> is not a voice or stage channel: pick the voice or stage channel the class meets in."
