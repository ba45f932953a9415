"""The Check in button, its form and a code only the room sees."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .text import shown

if TYPE_CHECKING:
    pass


# -- the Check in button and code_in_channel (bot/cogs/checkin.py, bot/rotation.py, the course setting) --


def check_in_button_label() -> str:
    """The button on the code message."""
    return "Check in"


def check_in_modal_title(session_id: str) -> str:
    """The title of the form the button opens (Discord allows 45 characters)."""
    return f"Check in: session {session_id}"[:45]


def check_in_field_label() -> str:
    """The form's one field (Discord allows 45 characters)."""
    return "The code on the screen"


def check_in_field_placeholder(example: str) -> str:
    return f"e.g. {example}"


def code_not_in_channel() -> str:
    """How a course list says the code message shows no code."""
    return "code only on the projector"


def code_in_channel_column(shown: bool) -> str:
    """The `courses` listing's column: where the code is shown."""
    return "channel" if shown else "projector"


def bad_switch(option: str, value: str) -> str:
    return f"{option} takes yes or no, not {shown(value)!r}."
