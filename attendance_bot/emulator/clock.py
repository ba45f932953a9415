"""Emulator clock (shiftable "now") and Discord snowflake id generation."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1420070400000


class Clock:
    """Wall clock in UTC plus an adjustable offset so tests can "age" the world."""

    def __init__(self) -> None:
        self.offset: float = 0.0

    def now(self) -> datetime:
        """Return the emulator's current time (aware, UTC)."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.offset)

    def advance(self, seconds: float) -> None:
        """Move the emulator clock forward by ``seconds``."""
        self.offset += seconds
        log.debug("emulator clock advanced by %.1fs (offset now %.1fs)", seconds, self.offset)


class SnowflakeGenerator:
    """Monotonic Discord-style snowflakes (timestamp << 22 | worker << 17 | increment)."""

    def __init__(self, clock: Clock, worker: int = 1) -> None:
        self._clock = clock
        self._worker = worker & 0x1F
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        """Return a new, strictly increasing snowflake."""
        ms = self._now_ms()
        if ms <= self._last_ms:
            ms = self._last_ms
            self._increment += 1
            if self._increment >= 4096:
                ms += 1
                self._increment = 0
        else:
            self._increment = 0
        self._last_ms = ms
        return (ms << 22) | (self._worker << 17) | self._increment

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """A new snowflake that Discord's shard rule, ``(id >> 22) % shard_count``, puts on ``shard_id``.

        Its timestamp is the first millisecond after every id made so far (and not before now) that
        falls on that shard: at most ``shard_count - 1`` ms ahead of the clock.
        """
        if not 0 <= shard_id < shard_count:
            raise ValueError(f"shard {shard_id} is not one of {shard_count} shard(s)")
        ms = max(self._now_ms(), self._last_ms + 1)
        ms += (shard_id - ms) % shard_count
        self._last_ms, self._increment = ms, 0
        return (ms << 22) | (self._worker << 17)

    def _now_ms(self) -> int:
        return int(self._clock.now().timestamp() * 1000) - DISCORD_EPOCH_MS


def snowflake_time(snowflake: int) -> datetime:
    """Return the creation time encoded in a snowflake."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=timezone.utc)


def iso(dt: datetime) -> str:
    """Format an aware datetime the way Discord does (ISO 8601 with offset)."""
    return dt.isoformat()
