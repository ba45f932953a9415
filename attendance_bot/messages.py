"""Every user-facing sentence, and the code message's content, in one place."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from . import codes
from .attendance import CurrentCode, Outcome, SubmitResult

SHOWN_INPUT_LENGTH = 24


def shown(text: str, limit: int = SHOWN_INPUT_LENGTH) -> str:
    """User input made safe to echo: no control or format characters, no mentions, short."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    cleaned = cleaned.replace("@", "@\u200b").replace("`", "'")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _wait(value: float) -> str:
    """A wait as a student reads it: seconds up to two minutes, then whole minutes (rounded up)."""
    whole = max(1, math.ceil(value))
    if whole <= 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    return f"{math.ceil(whole / 60)} minutes"


def submit_reply(result: SubmitResult) -> str:
    """The one sentence a student sees after `/here`."""
    outcome = result.outcome
    if outcome is Outcome.RECORDED:
        return f"✅ You are marked present for session {result.session_id}."
    if outcome is Outcome.UPDATED:
        return f"✅ You are marked present for session {result.session_id} (your earlier check-in was replaced)."
    if outcome is Outcome.EXPIRED:
        return f"⌛ Code {shown(result.code)} has expired: use the code on screen now."
    if outcome is Outcome.WRONG:
        if result.retry_after > 0:
            return (
                f"❌ {shown(result.code)} is not the current code either: too many wrong codes, so wait "
                f"{_wait(result.retry_after)} before your next try, then use the code on screen."
            )
        left = result.attempts_left
        return (
            f"❌ {shown(result.code)} is not the current code: check the screen and try again "
            f"({left} more tr{'ies' if left != 1 else 'y'} before you have to wait)."
        )
    if outcome is Outcome.MALFORMED:
        return malformed_reply(result)
    if outcome is Outcome.THROTTLED:
        return f"⏳ Too many wrong codes: wait {_wait(result.retry_after)}, then use the code on screen."
    if outcome is Outcome.NO_SESSION:
        return no_session_reply()
    raise ValueError(f"no reply for {outcome}")


def malformed_reply(result: SubmitResult) -> str:
    """Why a typed code cannot be a code at all."""
    length = result.code_length
    look_alikes = [ch for ch in result.bad_characters if ch in codes.LOOK_ALIKES]
    if look_alikes:
        used = ", ".join(look_alikes)
        return (
            f"❌ Codes never contain {used}: they use only {codes.ALPHABET_DESCRIPTION}. "
            f"Look again at the screen ({length} characters)."
        )
    if result.bad_characters or not result.code:
        return f"❌ A code is {length} characters: {codes.ALPHABET_DESCRIPTION}. Type the one on screen."
    if len(result.code) >= codes.MAX_INPUT_LENGTH:
        return f"❌ That is far longer than a code: a code is {length} characters. Type the one on screen."
    return f"❌ A code is {length} characters long, not {len(result.code)}. Type the one on screen."


def no_session_reply() -> str:
    return "There is no attendance session open right now: wait for your instructor to open one."


def wrong_channel_reply(channel_id: int | None) -> str:
    where = f"<#{channel_id}>" if channel_id else "the attendance channel"
    return f"Use `/here` in {where}."


def admin_channel_reply(channel_id: int | None) -> str:
    where = f"<#{channel_id}>" if channel_id else "the admin channel"
    return f"Attendance commands are used in {where}."


def not_admin_reply() -> str:
    return "Only instructors (Manage Server or the instructor role) can use this command."


def storage_failure_reply() -> str:
    return "⚠️ Attendance could not be recorded right now: please try again in a moment, or tell your instructor."


def generic_failure_reply() -> str:
    return "Something went wrong on our side; it has been logged. Please try again."


def shutting_down_reply() -> str:
    return "⚠️ The attendance bot is restarting: this check-in was not recorded. Send `/here` again in a moment."


def shutdown_unconfirmed_reply() -> str:
    return (
        "⚠️ The attendance bot is restarting and could not confirm this check-in: "
        "send `/here` again in a moment to be sure."
    )


def opened_reply(session_id: str, channel_id: int | None) -> str:
    where = f" in <#{channel_id}>" if channel_id else ""
    return f"Attendance session {session_id} is open; the code is shown{where}."


def closed_reply(session_id: str, count: int) -> str:
    return f"Attendance session {session_id} is closed: {count} present."


@dataclass(frozen=True)
class CodeCard:
    """The code message's content, independent of Discord's types (the bot turns it into an embed)."""

    title: str
    description: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""
    closed: bool = False


def code_card(current: CurrentCode, count: int) -> CodeCard:
    """The live code message: the code large, how to submit, when it changes, the count."""
    changes = int(current.changes_at.timestamp())
    spaced = " ".join(current.code)
    return CodeCard(
        title="Attendance is open",
        description=f"# `{spaced}`\nType **`/here {current.code}`** to check in.",
        fields=[
            ("Code changes", f"<t:{changes}:R>"),
            ("Checked in", str(count)),
            ("Session", current.session_id),
        ],
        footer="Codes rotate; a code stays valid a little after it changes.",
    )


def closed_card(session_id: str, count: int, closed_at: datetime) -> CodeCard:
    """The code message's final form once the session is closed."""
    return CodeCard(
        title="Attendance is closed",
        description=f"Closed — {count} present.",
        fields=[("Session", session_id), ("Closed", f"<t:{int(closed_at.timestamp())}:t>")],
        closed=True,
    )


def unknown_session_reply(error: Exception) -> str:
    return str(error)


def export_reply(count: int, session_id: str | None) -> str:
    scope = f"session {session_id}" if session_id else "all sessions"
    return f"Attendance export for {scope}: {count} record{'s' if count != 1 else ''}."


def storage_warning() -> str:
    return (
        "⚠️ The attendance database cannot be written: students are being told their check-in "
        "was not recorded. Check the disk and the file permissions of the database."
    )
