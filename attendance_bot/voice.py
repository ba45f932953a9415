"""The voice log: the stretches of time each account spends in an open session's voice channel."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from datetime import datetime

import peewee

from . import storage
from .clock import Clock, utc_now
from .models import Session
from .presence import VoicePresence

log = logging.getLogger(__name__)


class VoiceService:
    """Writes the voice log (voice_span rows) of the open sessions that have a voice channel, from
    the bot's in-memory presence; holds the presence and a clock.

    Only open sessions are looked at, so nothing is logged outside them: a span starts when its
    account joined the channel, or when the session opened if it was there already; it ends when
    the account left or moved away, or when the session closes (AttendanceService.close_session).
    A restart keeps the spans of those still there open (no gap) and ends the others at the first
    sync after the restart (a gap no longer than the restart).
    """

    def __init__(self, presence: VoicePresence, clock: Clock = utc_now) -> None:
        self.presence = presence
        self.clock = clock

    def sync(self, guild_ids: Collection[int]) -> int:
        """Bring the log of every open session with a voice channel in one of these servers (the ones
        whose voice states this process has: its shards', once available) in line with who is in that
        channel now; returns how many spans were started or ended."""
        now = self.clock()
        try:
            with storage.immediate():
                live = [
                    o.row
                    for o in storage.open_sessions()
                    if o.row.voice_channel_id is not None and o.row.guild_id in guild_ids
                ]
                if not live:
                    return 0
                held = storage.open_spans([row.session_id for row in live])
                started: list[storage.SpanRow] = []
                ended: dict[int, datetime] = {}
                for row in live:
                    self._compare(row, held, now, started, ended)
                storage.close_spans(ended)
                storage.insert_spans(started)
        except peewee.DatabaseError as exc:
            raise storage.failure("logging who is in voice", exc) from exc
        if started or ended:
            log.debug("Voice log: %d span(s) started, %d ended", len(started), len(ended))
        self.presence.forget_old_leaves(now)
        return len(started) + len(ended)

    def _compare(
        self,
        row: Session,
        held: dict[tuple[str, int], tuple[int, datetime]],
        now: datetime,
        started: list[storage.SpanRow],
        ended: dict[int, datetime],
    ) -> None:
        session_id, guild_id, channel_id, opened = row.session_id, row.guild_id, row.voice_channel_id, row.opened_at
        there = self.presence.members(guild_id, channel_id) if guild_id is not None else {}
        mine = {user_id: span for (sid, user_id), span in held.items() if sid == session_id}
        for user_id, (span_id, joined) in mine.items():
            left = self.presence.left_at(guild_id, channel_id, user_id) if guild_id is not None else None
            if user_id in there and (left is None or left < joined):
                continue  # still there since the span began
            # Gone (or gone and back since the span began): the span ends when they left.
            ended[span_id] = min(max(left or now, joined), now)
            if user_id not in there:
                continue
            started.append(_span(session_id, user_id, channel_id, max(there[user_id], opened, ended[span_id])))
        for user_id, since in there.items():
            if user_id not in mine:
                started.append(_span(session_id, user_id, channel_id, min(max(since, opened), now)))


def _span(session_id: str, user_id: int, channel_id: int, joined: datetime) -> storage.SpanRow:
    return storage.SpanRow(session_id, user_id, channel_id, storage.stored_time(joined), None)


def voice_seconds(
    sessions: Iterable[tuple[str, datetime, datetime | None]], now: datetime | None
) -> dict[tuple[str, int], float]:
    """Seconds each account spent in each session's voice channel while it was open, from the log:
    (session id, opened, closed or None) each; an open span of an open session counts until `now`
    (without `now`, not at all)."""
    bounds = {session_id: (opened, closed or now or opened) for session_id, opened, closed in sessions}
    seconds: dict[tuple[str, int], float] = {}
    for session_id, user_id, joined, left in storage.spans_of(list(bounds)):
        opened, closed = bounds[session_id]
        start, end = max(joined, opened), min(left or closed, closed)
        if end > start:
            key = (session_id, user_id)
            seconds[key] = seconds.get(key, 0.0) + (end - start).total_seconds()
    return seconds
