"""The projector page's sentences (web/, `/projector`, `manage.py projector`) and its settings' problems."""

from __future__ import annotations

from dataclasses import dataclass

from .replies import opened_reply
from .text import MANAGE

# -- the projector page (attendance_bot/web/, `/projector`, `manage.py projector`) ------------------


def opened_with_projector(
    session_id: str, channel_id: int | None, late_after: int | None, url: str, *, code_in_channel: bool = True
) -> str:
    """`/open_attendance`'s private reply when the bot serves the projector page: with the session's link."""
    opened = opened_reply(session_id, channel_id, late_after, code_in_channel=code_in_channel)
    return f"{opened}\n{projector_link_line(url)}"


def projector_link_line(url: str) -> str:
    return (
        f"Projector page: {url} (show it on the room's screen; anyone with the link sees the code, "
        "so keep it out of chats: `/projector new_link:True` replaces it)"
    )


def projector_reply(session_id: str, course: str, url: str, new: bool) -> str:
    """`/projector`'s private reply: the open session's link (a new one, the old dead, with new_link)."""
    if new:
        return f"New projector link for session {session_id} of {course!r}: {url}\nThe old link no longer works."
    return f"Projector page of session {session_id} of {course!r}: {url}"


def projector_shell_line(session_id: str, course: str, url: str, new: bool) -> str:
    """`manage.py projector`'s line: the link last, alone after the colon, for copying."""
    made = "new projector link (the old one no longer works)" if new else "projector page"
    return f"Session {session_id} of {course!r}, {made}: {url}"


def projector_page_off() -> str:
    return (
        "The projector page is off: WEB_PORT is 0 in this bot's settings. Set WEB_PORT (default 8765) and restart "
        f"the bot; `{MANAGE} code --watch` shows the code on this machine's screen meanwhile."
    )


def web_serving(bind: str, port: int, public_url: str) -> str:
    """The bot's log line once the page listens."""
    return f"Projector pages and /healthz on {bind}:{port}; links name {public_url}"


def web_port_in_use(bind: str, port: int, reason: str) -> str:
    """The one warning when the page cannot listen: the bot runs on without it."""
    return (
        f"The projector page is off for this run: cannot listen on {bind}:{port} ({reason}). Set WEB_PORT to a free "
        "port (each bot process on a machine needs its own), or 0 to turn the page off; the bot runs on without it"
    )


def health_text(database_up: bool, discord_up: bool) -> str:
    """`GET /healthz`'s body: ok, or what is down."""
    down = [name for name, up in (("database", database_up), ("discord", discord_up)) if not up]
    return "ok" if not down else f"down: {', '.join(down)}"


def page_not_found() -> str:
    """The body of every 404 of the page's server: an unknown link, a dead one (closed or replaced), anything else."""
    return "Not found. A projector link works only while its session is open; ask the instructor for the current one."


@dataclass(frozen=True)
class PageText:
    """The words of the projector page (the page draws the code, countdown and count around them)."""

    title: str
    how: str
    next_code: str
    checked_in: str
    session: str
    closed: str
    reconnecting: str
    dead: str


def page_text(course: str, session_id: str) -> PageText:
    return PageText(
        title=f"Attendance: {course}",
        how="Check in: type /here and this code in Discord",
        next_code="next code in",
        checked_in="checked in",
        session=f"Session {session_id}",
        closed="Attendance is closed.",
        reconnecting="Reconnecting…",
        dead="This projector link no longer works.",
    )


def watch_status(seconds_left: int, count: int) -> str:
    """`code --watch`'s line under the code: the countdown and the count (the page shows the same two)."""
    return f"changes in {seconds_left:>3} s · {count} checked in"


def web_port_malformed(typed: str) -> str:
    return f"WEB_PORT must be a port number from 1 to 65535, or 0 to turn the projector page off, not {typed!r}"


def web_bind_malformed(typed: str, default: str) -> str:
    return (
        f"WEB_BIND must be an IP address to listen on, such as {default} (this machine only) or 0.0.0.0 (every "
        f"address), not {typed!r}"
    )


def public_url_malformed(typed: str, example: str) -> str:
    return (
        f"PUBLIC_URL must be the http:// or https:// address people open the projector page at, such as "
        f"https://attendance.example.edu or {example}, without user, query or fragment, not {typed!r}"
    )


def web_in_clear_text(bind: str, public_url: str) -> str:
    return (
        f"The projector page is served in clear text beyond this machine (WEB_BIND={bind}, PUBLIC_URL={public_url}): "
        "anyone on the network path can read its link, the key to the code. Put a reverse proxy with HTTPS in "
        "front and set PUBLIC_URL to its https:// address"
    )
