"""Who is in which voice channel now, and who left one lately: in memory, fed by the gateway."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from .records import VOICE_RECENT_SECONDS

# A leave is remembered this long (the check-in rule needs a minute; the voice log needs it until
# its next sync, a few seconds later).
FORGET_LEAVES_AFTER = timedelta(hours=1)


class VoicePresence:
    """The voice channel each member of each server is in (and since when, as the clock said when the
    gateway told), and when each left each channel last.

    Written on the bot's event loop and read on its database thread (the check-in rule in a batch,
    the voice log's sync): every access holds one lock for a few dictionary operations. Nothing here
    is stored: a restart rebuilds it from the servers' voice states at connect (`rebuild`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._channel: dict[tuple[int, int], int] = {}  # (server, member) -> channel
        self._members: dict[tuple[int, int], dict[int, datetime]] = {}  # (server, channel) -> member -> since
        self._left: dict[tuple[int, int, int], datetime] = {}  # (server, channel, member) -> when they left

    def seen(self, guild_id: int, user_id: int, channel_id: int | None, at: datetime) -> None:
        """A member joined `channel_id`, moved there, or (None) left voice, at `at`."""
        with self._lock:
            self._move(guild_id, user_id, channel_id, at)

    def rebuild(self, guild_id: int, states: Iterable[tuple[int, int]], at: datetime) -> None:
        """A server's voice states as the gateway gave them at connect, (member, channel) each: who
        is no longer there left at `at`; who is still in the same channel keeps the time they joined."""
        wanted = dict(states)
        with self._lock:
            for (guild, user_id), _channel in list(self._channel.items()):
                if guild == guild_id and user_id not in wanted:
                    self._move(guild_id, user_id, None, at)
            for user_id, channel_id in wanted.items():
                self._move(guild_id, user_id, channel_id, at)

    def _move(self, guild_id: int, user_id: int, channel_id: int | None, at: datetime) -> None:
        before = self._channel.get((guild_id, user_id))
        if before == channel_id:
            return
        if before is not None:
            members = self._members.get((guild_id, before), {})
            members.pop(user_id, None)
            if not members:
                self._members.pop((guild_id, before), None)
            self._left[(guild_id, before, user_id)] = at
            del self._channel[(guild_id, user_id)]
        if channel_id is not None:
            self._channel[(guild_id, user_id)] = channel_id
            self._members.setdefault((guild_id, channel_id), {})[user_id] = at

    def in_channel(self, guild_id: int | None, user_id: int, channel_id: int, now: datetime) -> bool:
        """Whether the member is in the channel, or left it less than VOICE_RECENT_SECONDS before `now`."""
        if guild_id is None:
            return False
        with self._lock:
            if self._channel.get((guild_id, user_id)) == channel_id:
                return True
            left = self._left.get((guild_id, channel_id, user_id))
        return left is not None and (now - left).total_seconds() < VOICE_RECENT_SECONDS

    def members(self, guild_id: int, channel_id: int) -> dict[int, datetime]:
        """Who is in a channel now, each with the time they joined it (or were first seen there)."""
        with self._lock:
            return dict(self._members.get((guild_id, channel_id), {}))

    def left_at(self, guild_id: int, channel_id: int, user_id: int) -> datetime | None:
        """When the member last left the channel (None: not in the last hour, as far as this process saw)."""
        with self._lock:
            return self._left.get((guild_id, channel_id, user_id))

    def forget_old_leaves(self, now: datetime) -> None:
        """Drop the leaves older than FORGET_LEAVES_AFTER, so a long-running bot does not keep them all."""
        with self._lock:
            old = [key for key, at in self._left.items() if now - at > FORGET_LEAVES_AFTER]
            for key in old:
                del self._left[key]
