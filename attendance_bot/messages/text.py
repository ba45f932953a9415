"""How people's input, waits and durations are shown in sentences; how hints run manage.py."""

from __future__ import annotations

import math
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


SHOWN_INPUT_LENGTH = 24
MANAGE = ".venv/bin/python manage.py"  # how the README and every hint run manage.py


def quoted(text: str, limit: int = 40) -> str:
    """User input quoted for an error sentence: escaped (no control characters), shortened."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return repr(short)


def shown(text: str, limit: int = SHOWN_INPUT_LENGTH) -> str:
    """User input made safe to echo: no control or format characters, no line or paragraph
    separators (U+2028 and U+2029 end a line as a newline does), no mentions, short."""
    cleaned = "".join(
        ch for ch in text if unicodedata.category(ch)[0] != "C" and unicodedata.category(ch) not in ("Zl", "Zp")
    )
    cleaned = cleaned.replace("@", "@\u200b").replace("`", "'")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _wait(value: float) -> str:
    """A wait as a student reads it: seconds up to two minutes, then whole minutes (rounded up)."""
    whole = max(1, math.ceil(value))
    if whole <= 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    return f"{math.ceil(whole / 60)} minutes"


def _minutes(minutes: int) -> str:
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
