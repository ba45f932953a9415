"""Every user-facing sentence, and the code message's content, in one place."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from . import codes
from .errors import quoted
from .records import CurrentCode, Outcome, SubmitResult

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


def export_reply(count: int, session_id: str | None) -> str:
    scope = f"session {session_id}" if session_id else "all sessions"
    return f"Attendance export for {scope}: {count} record{'s' if count != 1 else ''}."


def storage_warning() -> str:
    return (
        "⚠️ The attendance database cannot be written: students are being told their check-in "
        "was not recorded. Check the disk and the file permissions of the database."
    )


# -- the sentences of errors (str() of each is shown to whoever asked) ----------------------------


def no_open_session() -> str:
    return "No attendance session is open."


def session_already_open(session_id: str, since: str | None = None) -> str:
    """`since` is the opening time as people read it (HH:MM in TIMEZONE), when known."""
    when = f" (since {since})" if since else ""
    return f"Session {session_id} is already open{when}; close it first."


def session_already_closed(session_id: str) -> str:
    return f"Session {session_id} is already closed."


def closed_session_has_no_code(session_id: str) -> str:
    return f"Session {session_id} is closed; it shows no code."


def unknown_session(session_id: str, recent: list[str]) -> str:
    """An id that is not a session, with the most recent ids to pick from."""
    known = f" Recent sessions: {', '.join(recent)}." if recent else " There are no sessions yet."
    return f"There is no session {quoted(session_id)}.{known}"


def database_failure(action: str) -> str:
    """`action` says what was being done, e.g. "opening a session"."""
    return f"The attendance database could not be used ({action}); nothing was changed."


def no_free_session_id() -> str:
    return "Could not find a free session id; try again."


def no_database_at(path: Path) -> str:
    return (
        f"No database at {path}: check DATABASE_PATH (in .env or the environment); nothing has been recorded there yet."
    )


def database_cannot_be_created(path: Path, reason: str | None) -> str:
    return (
        f"Cannot use {path} as the database: cannot create a file there ({reason}); "
        "choose a writable folder for DATABASE_PATH."
    )


def database_unusable(path: Path | str, error: Exception) -> str:
    return f"Cannot use the database at {path}: {error}."


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


def token_refused() -> str:
    return "Discord refused the token: copy DISCORD_BOT_TOKEN again from the portal."


def discord_unreachable(api_base: str, reason: str) -> str:
    return (
        f"Cannot reach Discord at {api_base} ({reason}): check the "
        "network connection, and DISCORD_API_BASE if it is set (unset, the bot uses discord.com)."
    )
