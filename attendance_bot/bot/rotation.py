"""The code message: posted when a session opens, edited at each window, finalised on close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import nextcord

from .. import messages
from ..attendance import AttendanceService
from ..records import SessionInfo
from .dbworker import DatabaseWorker, cancel_and_wait

log = logging.getLogger(__name__)

# Discord refuses edits to messages older than an hour (30046): replace the message before that.
MESSAGE_MAX_AGE = timedelta(minutes=55)
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
IDLE_POLL_SECONDS = 5.0
EDIT_TOO_OLD = 30046


def card_embed(card: messages.CodeCard) -> nextcord.Embed:
    """A nextcord embed for a code card."""
    colour = nextcord.Colour.dark_grey() if card.closed else nextcord.Colour.green()
    embed = nextcord.Embed(title=card.title, description=card.description, colour=colour)
    for name, value in card.fields:
        embed.add_field(name=name, value=value, inline=True)
    if card.footer:
        embed.set_footer(text=card.footer)
    return embed


@dataclass
class _Shown:
    """What this process last put on screen for a session."""

    session_id: str
    channel_id: int
    message_id: int
    posted_at: datetime
    window: int | None = None


class CodeRotator:
    """One task that keeps the open session's code message current.

    It keeps nothing it cannot rebuild: each round it reads the open session from the database,
    so sessions opened or closed by manage.py are noticed within one window, and a restarted bot
    finds the same message id and edits it again.
    """

    def __init__(
        self,
        client: nextcord.Client,
        service: AttendanceService,
        db: DatabaseWorker,
        clock: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._service = service
        self._db = db
        self._clock = clock
        self._wake = asyncio.Event()
        self._shown: _Shown | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="code-rotation")

    def poke(self) -> None:
        """Look at the database now (after /open_attendance or /close_attendance)."""
        self._wake.set()

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        try:
            await self._finalise_stale()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Could not check the code messages of sessions closed while the bot was down")
        failures = 0
        while True:
            # Cleared before the round, so a poke that arrives during the round is not lost.
            self._wake.clear()
            try:
                delay = await self._round()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                failures += 1
                log.exception("Code rotation failed (attempt %d); retrying in %.1f s", failures, delay)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.0))
            except TimeoutError:
                pass

    async def _round(self) -> float:
        """Bring the message up to date; return how long to sleep before the next round."""
        now = self._clock()
        live = await self._db.run(self._service.live_code, now)
        session = live[0] if live else None
        if self._shown is not None and (session is None or session.session_id != self._shown.session_id):
            await self._finalise(self._shown.session_id)
            self._shown = None
        if live is None:
            return IDLE_POLL_SECONDS
        session, current, count = live
        shown = self._shown
        if shown is None:
            self._shown = await self._adopt_or_post(session, current, count)
        elif now - shown.posted_at >= MESSAGE_MAX_AGE:
            self._shown = await self._replace(session, shown, current, count)
        elif shown.window != current.window:
            await self._edit(session, shown, current, count)  # may post a new message into self._shown
        if self._shown is not None:
            self._shown.window = current.window
        return max((current.changes_at - self._clock()).total_seconds(), 0.0) + 0.01

    def _channel(self, channel_id: int) -> nextcord.PartialMessageable:
        return self._client.get_partial_messageable(channel_id)

    async def _edit_message(self, channel_id: int, message_id: int, card: messages.CodeCard) -> None:
        # The raw route: nextcord 2.6's PartialMessage refuses a PartialMessageable channel.
        await self._client.http.edit_message(channel_id, message_id, embeds=[card_embed(card).to_dict()])

    async def _adopt_or_post(self, session: SessionInfo, current, count: int) -> _Shown:  # type: ignore[no-untyped-def]
        """Edit the message the database names (after a restart), or post a new one."""
        if session.message_id and session.channel_id and session.message_posted_at:
            shown = _Shown(session.session_id, session.channel_id, session.message_id, session.message_posted_at)
            if self._clock() - shown.posted_at >= MESSAGE_MAX_AGE:
                return await self._replace(session, shown, current, count)
            try:
                await self._edit_message(shown.channel_id, shown.message_id, messages.code_card(current, count))
                log.info("Resumed code message %s of session %s", shown.message_id, session.session_id)
                return shown
            except nextcord.NotFound:
                log.warning("Code message of session %s is gone; posting a new one", session.session_id)
            except nextcord.HTTPException as exc:
                if exc.code != EDIT_TOO_OLD:
                    raise
                return await self._replace(session, shown, current, count)
        return await self._post(session, current, count)

    async def _post(self, session: SessionInfo, current, count: int) -> _Shown:  # type: ignore[no-untyped-def]
        channel_id = self._service.settings.display_channel_id or session.channel_id
        if channel_id is None:
            raise RuntimeError("no channel to show the code in: set ATTENDANCE_CHANNEL_ID")
        message = await self._channel(channel_id).send(embed=card_embed(messages.code_card(current, count)))
        posted_at = self._clock()
        await self._db.run(
            self._service.record_message,
            session.session_id,
            channel_id=channel_id,
            message_id=message.id,
            posted_at=posted_at,
        )
        log.info("Posted code message %s for session %s", message.id, session.session_id)
        return _Shown(session.session_id, channel_id, message.id, posted_at)

    async def _edit(self, session: SessionInfo, shown: _Shown, current, count: int) -> None:  # type: ignore[no-untyped-def]
        try:
            await self._edit_message(shown.channel_id, shown.message_id, messages.code_card(current, count))
        except nextcord.NotFound:
            log.warning("Code message %s was deleted; posting it again", shown.message_id)
            self._shown = await self._post(session, current, count)
        except nextcord.HTTPException as exc:
            if exc.code != EDIT_TOO_OLD:
                raise
            self._shown = await self._replace(session, shown, current, count)

    async def _replace(self, session: SessionInfo, old: _Shown, current, count: int) -> _Shown:  # type: ignore[no-untyped-def]
        """Post a fresh message before the old one turns an hour old, then delete the old one."""
        new = await self._post(session, current, count)
        await self._delete_quietly(old.channel_id, old.message_id)
        return new

    async def _delete_quietly(self, channel_id: int, message_id: int) -> None:
        """Delete a replaced code message; a failure only leaves a stale message behind."""
        try:
            await self._client.http.delete_message(channel_id, message_id)
        except nextcord.HTTPException as exc:
            log.warning("Could not delete old code message %s: %s", message_id, exc)

    async def _finalise(self, session_id: str) -> None:
        """The last edit: closed, with the count."""
        shown = self._shown
        if shown is None:
            return
        info = await self._db.run(self._service.get_session, session_id)
        if info.closed_at is None:
            return
        await self._finalise_message(info, shown.channel_id, shown.message_id)

    async def _finalise_message(self, info: SessionInfo, channel_id: int, message_id: int) -> None:
        """Turn a session's code message into its closed card (a new message if it cannot be edited)."""
        assert info.closed_at is not None
        count = await self._db.run(self._service.count, info.session_id)
        card = messages.closed_card(info.session_id, count, info.closed_at)
        try:
            await self._edit_message(channel_id, message_id, card)
        except nextcord.NotFound:
            await self._channel(channel_id).send(embed=card_embed(card))
        except nextcord.Forbidden as exc:
            # Nothing a retry can fix; do not let one message block the next session's rotation.
            log.warning("Cannot finalise code message %s of session %s: %s", message_id, info.session_id, exc)
            return
        except nextcord.HTTPException as exc:
            if exc.code != EDIT_TOO_OLD:
                raise
            await self._channel(channel_id).send(embed=card_embed(card))
            await self._delete_quietly(channel_id, message_id)
        log.info("Finalised code message of session %s (%d present)", info.session_id, count)

    async def _finalise_stale(self) -> None:
        """On start: finalise the code message of a session closed while the bot was down.

        Only messages Discord still lets us edit (younger than an hour) are looked at, and only
        if they still show the open card.
        """
        now = self._clock()
        recent = await self._db.run(self._service.recently_closed_with_message, now - timedelta(hours=1))
        closed_title = messages.closed_card("", 0, now).title
        for info in recent:
            if info.closed_at is None or not (info.message_id and info.channel_id and info.message_posted_at):
                continue
            try:
                data = await self._client.http.get_message(info.channel_id, info.message_id)
            except nextcord.NotFound:
                continue
            embeds = data.get("embeds") or []
            if embeds and embeds[0].get("title") == closed_title:
                continue
            await self._finalise_message(info, info.channel_id, info.message_id)
