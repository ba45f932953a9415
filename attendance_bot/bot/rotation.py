"""The code message: posted when a session opens, edited at each window, finalised on close."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import nextcord

from .. import messages
from ..attendance import AttendanceService
from ..records import SessionInfo
from .checkin_form import button_row
from .dbworker import DatabaseWorker, cancel_and_wait
from .metrics import Metrics

log = logging.getLogger(__name__)

# Discord refuses edits to messages older than an hour (30046): replace the message before that.
MESSAGE_MAX_AGE = timedelta(minutes=55)
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
IDLE_POLL_SECONDS = 5.0
EDIT_TOO_OLD = 30046
# Discord allows a bot 50 requests a second in all; the code messages take at most this many, so
# posting or closing 50 courses' messages at once never meets the global limit (and the rest is
# left to the bot's other requests). Window edits are spread by the sessions' offsets anyway.
MESSAGE_REQUESTS_PER_SECOND = 40


class Pacer:
    """Spaces awaited requests at least 1/rate s apart (first come, first served)."""

    def __init__(self, rate: float) -> None:
        self._gap = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        at = max(now, self._next)
        self._next = at + self._gap
        if at > now:
            await asyncio.sleep(at - now)


def _card(session: SessionInfo, current, count: int) -> messages.CodeCard:  # type: ignore[no-untyped-def]
    return messages.code_card(current, count, session.course_name, in_channel=session.code_in_channel)


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
    """One task that keeps every open session's code message current.

    It keeps nothing it cannot rebuild: each round it reads the open sessions from the database,
    so sessions opened or closed by manage.py are noticed within one window, and a restarted bot
    finds the same message ids and edits them again. Sessions' windows start at different
    instants (see attendance.free_offset_ms), so each round has few messages to edit; each is
    edited in a task of its own, within Discord's rate limits (nextcord waits out a 429).

    With shards, `looks_after(guild_id)` says which servers' messages are this process's (those of
    its shards); the other processes' sessions are left alone.
    """

    def __init__(
        self,
        client: nextcord.Client,
        service: AttendanceService,
        db: DatabaseWorker,
        clock: Callable[[], datetime],
        looks_after: Callable[[int | None], bool] = lambda guild_id: True,
        metrics: Metrics | None = None,
        closed: Callable[[str], None] = lambda session_id: None,
    ) -> None:
        self._client = client
        self._closed = closed  # told of every session whose closing this process sees (its warning digest)
        self._service = service
        self._db = db
        self._clock = clock
        self._looks_after = looks_after
        self._metrics = metrics or Metrics()  # the open sessions, and how late each window's edit lands
        self._wake = asyncio.Event()
        self._shown: dict[str, _Shown] = {}
        self._failures: dict[str, int] = {}
        self._updating: dict[str, asyncio.Task[None]] = {}  # sessions whose message is being updated
        self._pace = Pacer(MESSAGE_REQUESTS_PER_SECOND)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="code-rotation")

    def poke(self) -> None:
        """Look at the database now (after /open_attendance or /close_attendance)."""
        self._wake.set()

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        for task in list(self._updating.values()):
            await cancel_and_wait(task)

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
        """Start bringing every message up to date; return how long to sleep before the next round.

        Each session's post or edit runs in a task of its own and the round does not wait for it:
        one slow edit (behind a class's burst of replies, or waiting out a 429) never holds up
        another course's next window. A session whose update is still running is left to it.
        """
        now = self._clock()
        live = await self._db.run(self._service.live_codes, now)
        live = [entry for entry in live if self._looks_after(entry[0].guild_id)]
        self._metrics.open_sessions.set(len(live))
        open_ids = {session.session_id for session, _, _ in live}
        gone = [shown for sid, shown in self._shown.items() if sid not in open_ids and sid not in self._updating]
        if gone:
            await asyncio.gather(*(self._finalise_safely(shown) for shown in gone))
        if not live:
            return IDLE_POLL_SECONDS
        for session, current, count in live:
            sid = session.session_id
            shown = self._shown.get(sid)
            due = shown is None or shown.window != current.window or now - shown.posted_at >= MESSAGE_MAX_AGE
            if due and sid not in self._updating:
                task = asyncio.create_task(self._update(session, current, count, now), name=f"code-message-{sid}")
                self._updating[sid] = task
                task.add_done_callback(functools.partial(self._updated, sid))
        delay = min((current.changes_at - self._clock()).total_seconds() for _, current, _ in live)
        return max(delay, 0.0) + 0.01

    def _updated(self, sid: str, task: asyncio.Task[None]) -> None:
        """One session's update ended: a failure is retried after a back-off (the round is woken then)."""
        self._updating.pop(sid, None)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            self._failures.pop(sid, None)
            return
        failures = self._failures.get(sid, 0)
        self._failures[sid] = failures + 1
        retry = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
        log.error(
            "Code message of session %s not updated (attempt %d): %s; retrying in %.1f s",
            sid,
            failures + 1,
            error,
            retry,
            exc_info=error,
        )
        asyncio.get_running_loop().call_later(retry, self._wake.set)

    async def _update(self, session: SessionInfo, current, count: int, now: datetime) -> None:  # type: ignore[no-untyped-def]
        """Post, replace or edit one session's message as its window needs."""
        sid = session.session_id
        shown = self._shown.get(sid)
        if shown is None:
            shown = await self._adopt_or_post(session, current, count)
        elif now - shown.posted_at >= MESSAGE_MAX_AGE:
            shown = await self._replace(session, shown, current, count)
        elif shown.window != current.window:
            shown = await self._edit(session, shown, current, count)
            started = current.changes_at - timedelta(seconds=session.interval)
            self._metrics.code_edit_lag.observe(max((self._clock() - started).total_seconds(), 0.0))
        shown.window = current.window
        self._shown[sid] = shown
        if current.changes_at <= self._clock():
            # The window ended while Discord took the message (the round at its boundary left this
            # session to this update): wake the round now, or the message would show a passing code
            # until the next boundary.
            self._wake.set()

    async def _finalise_safely(self, shown: _Shown) -> None:
        """Finalise a message whose session is no longer open; a failure is retried next round."""
        try:
            await self._finalise(shown)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Could not finalise the code message of session %s; retrying", shown.session_id)
            return
        self._shown.pop(shown.session_id, None)
        self._failures.pop(shown.session_id, None)

    def _channel(self, channel_id: int) -> nextcord.PartialMessageable:
        return self._client.get_partial_messageable(channel_id)

    async def _edit_message(
        self, channel_id: int, message_id: int, card: messages.CodeCard, session_id: str | None = None
    ) -> None:
        """Edit a code message: the open card with its Check in button (given the session), else the
        closed card without it. The raw route: nextcord 2.6's PartialMessage refuses a PartialMessageable
        channel; the button is sent each time, so a message posted before it existed gets it too."""
        await self._pace.wait()
        components = button_row(session_id) if session_id is not None else []
        await self._client.http.edit_message(
            channel_id, message_id, embeds=[card_embed(card).to_dict()], components=components
        )

    async def _adopt_or_post(self, session: SessionInfo, current, count: int) -> _Shown:  # type: ignore[no-untyped-def]
        """Edit the message the database names (after a restart), or post a new one."""
        if session.message_id and session.channel_id and session.message_posted_at:
            shown = _Shown(session.session_id, session.channel_id, session.message_id, session.message_posted_at)
            if self._clock() - shown.posted_at >= MESSAGE_MAX_AGE:
                return await self._replace(session, shown, current, count)
            try:
                await self._edit_message(
                    shown.channel_id, shown.message_id, _card(session, current, count), session.session_id
                )
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
        channel_id = session.channel_id  # the course's display channel, as it was when the session opened
        if channel_id is None:
            raise RuntimeError(f"session {session.session_id} has no channel to show its code in")
        await self._pace.wait()
        embed = card_embed(_card(session, current, count)).to_dict()
        # The raw route, as for edits: the button is a plain component (no nextcord View to keep).
        sent = await self._client.http.send_message(
            channel_id, None, embeds=[embed], components=button_row(session.session_id)
        )
        message_id = int(sent["id"])
        posted_at = self._clock()
        await self._db.run(
            self._service.record_message,
            session.session_id,
            channel_id=channel_id,
            message_id=message_id,
            posted_at=posted_at,
        )
        log.info("Posted code message %s for session %s", message_id, session.session_id)
        return _Shown(session.session_id, channel_id, message_id, posted_at)

    async def _edit(self, session: SessionInfo, shown: _Shown, current, count: int) -> _Shown:  # type: ignore[no-untyped-def]
        """Edit the message for a new window; the message shown afterwards (a new one if it was gone)."""
        try:
            await self._edit_message(
                shown.channel_id, shown.message_id, _card(session, current, count), session.session_id
            )
        except nextcord.NotFound:
            log.warning("Code message %s was deleted; posting it again", shown.message_id)
            return await self._post(session, current, count)
        except nextcord.HTTPException as exc:
            if exc.code != EDIT_TOO_OLD:
                raise
            return await self._replace(session, shown, current, count)
        return shown

    async def _replace(self, session: SessionInfo, old: _Shown, current, count: int) -> _Shown:  # type: ignore[no-untyped-def]
        """Post a fresh message before the old one turns an hour old, then delete the old one."""
        new = await self._post(session, current, count)
        await self._delete_quietly(old.channel_id, old.message_id)
        return new

    async def _delete_quietly(self, channel_id: int, message_id: int) -> None:
        """Delete a replaced code message; a failure only leaves a stale message behind."""
        try:
            await self._pace.wait()
            await self._client.http.delete_message(channel_id, message_id)
        except nextcord.HTTPException as exc:
            log.warning("Could not delete old code message %s: %s", message_id, exc)

    async def _finalise(self, shown: _Shown) -> None:
        """The last edit of a session's message: closed, with the count."""
        info = await self._db.run(self._service.get_session, shown.session_id)
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
            await self._pace.wait()
            await self._channel(channel_id).send(embed=card_embed(card))
        except nextcord.Forbidden as exc:
            # Nothing a retry can fix; do not let one message block the next session's rotation.
            log.warning("Cannot finalise code message %s of session %s: %s", message_id, info.session_id, exc)
            self._closed(info.session_id)
            return
        except nextcord.HTTPException as exc:
            if exc.code != EDIT_TOO_OLD:
                raise
            await self._pace.wait()
            await self._channel(channel_id).send(embed=card_embed(card))
            await self._delete_quietly(channel_id, message_id)
        log.info("Finalised code message of session %s (%d present)", info.session_id, count)
        self._closed(info.session_id)

    async def _finalise_stale(self) -> None:
        """On start: finalise the code message of a session closed while the bot was down.

        Only messages Discord still lets us edit (younger than an hour) are looked at, and only
        if they still show the open card.
        """
        now = self._clock()
        recent = await self._db.run(self._service.recently_closed_with_message, now - timedelta(hours=1))
        closed_title = messages.closed_card("", 0, now).title
        for info in recent:
            if info.closed_at is None or not self._looks_after(info.guild_id):
                continue
            self._closed(info.session_id)  # closed while the bot was down, or before a stop made its digest
            if not (info.message_id and info.channel_id and info.message_posted_at):
                continue
            try:
                await self._pace.wait()
                data = await self._client.http.get_message(info.channel_id, info.message_id)
            except nextcord.NotFound:
                continue
            embeds = data.get("embeds") or []
            if embeds and embeds[0].get("title") == closed_title:
                continue
            await self._finalise_message(info, info.channel_id, info.message_id)
