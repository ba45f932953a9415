"""Discord's REST rate limits: per-route buckets per top-level resource, the global limit, their headers."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RouteLimit:
    """``limit`` requests per ``window`` seconds."""

    limit: int
    window: float


# Route keys are "METHOD /path/{template}" after /api/v10; the top-level resource (channel, guild,
# webhook) in the path gets a bucket of its own, as on Discord.
ROUTE_LIMITS: dict[str, RouteLimit] = {
    "POST /channels/{channel_id}/messages": RouteLimit(5, 5.0),
    "PATCH /channels/{channel_id}/messages/{message_id}": RouteLimit(5, 5.0),
    "DELETE /channels/{channel_id}/messages/{message_id}": RouteLimit(5, 5.0),
}
DEFAULT_LIMIT = RouteLimit(50, 1.0)
GLOBAL_LIMIT = RouteLimit(50, 1.0)
# Interaction callbacks and webhook (followup) requests are not bot-authenticated on Discord: no
# global limit, and the emulator gives them no bucket either (each interaction token is its own).
EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")


def is_exempt(path: str) -> bool:
    """True for paths (after /api/v10) outside the bot token's limits."""
    return path.startswith(EXEMPT_PREFIXES)


def bucket_id(route: str) -> str:
    """A stable opaque id for a route, like Discord's ``X-RateLimit-Bucket``."""
    return hashlib.blake2b(route.encode(), digest_size=16).hexdigest()


def _ceil_ms(seconds: float) -> float:
    """Round up to the millisecond, so a client that waits exactly this long is never early."""
    return math.ceil(seconds * 1000) / 1000


@dataclass
class _Window:
    reset_at: float
    used: int = 0


@dataclass(frozen=True)
class Verdict:
    """What the limiter says about one request: go ahead (with headers) or 429 after ``retry_after``."""

    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False


class RateLimiter:
    """Fixed windows per (route, top-level resource) plus one global window, on a monotonic clock."""

    def __init__(
        self,
        routes: Mapping[str, RouteLimit] | None = None,
        *,
        default: RouteLimit = DEFAULT_LIMIT,
        global_limit: RouteLimit = GLOBAL_LIMIT,
        enabled: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.routes: dict[str, RouteLimit] = dict(ROUTE_LIMITS if routes is None else routes)
        self.default = default
        self.global_limit = global_limit
        self.enabled = enabled
        self._monotonic = monotonic
        self._wall = wall
        self._windows: dict[tuple[str, str], _Window] = {}
        self._global = _Window(0.0)
        self._bucket_ids: dict[str, str] = {}
        self.refused = 0  # 429s given by the limiter (not by injected faults)

    def rule(self, route: str) -> RouteLimit:
        """The limit of a route key."""
        return self.routes.get(route, self.default)

    def check(self, route: str, major: str) -> Verdict:
        """Count one bot-token request to ``route`` on resource ``major``; refuse it when a limit is spent."""
        now = self._monotonic()
        spent = self._spend_global(now)
        if spent is not None:
            return spent
        rule = self.rule(route)
        window = self._window(route, major, rule, now)
        if window.used >= rule.limit:
            self.refused += 1
            retry = _ceil_ms(window.reset_at - now)
            log.debug("emulator: rate limited %s (%s) for %.3fs", route, major, retry)
            return Verdict(False, self._headers(route, rule, 0, retry), retry)
        window.used += 1
        return Verdict(True, self._headers(route, rule, rule.limit - window.used, window.reset_at - now))

    def fault_headers(self, route: str, retry_after: float) -> dict[str, str]:
        """Headers for an injected 429 on ``route`` (nothing counted)."""
        return self._headers(route, self.rule(route), 0, retry_after)

    def _spend_global(self, now: float) -> Verdict | None:
        g = self._global
        if now >= g.reset_at:
            g.reset_at, g.used = now + self.global_limit.window, 0
        if g.used >= self.global_limit.limit:
            self.refused += 1
            return Verdict(False, {}, _ceil_ms(g.reset_at - now), is_global=True)
        g.used += 1
        return None

    def _window(self, route: str, major: str, rule: RouteLimit, now: float) -> _Window:
        key = (route, major)
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) > 10_000:
                self._windows = {k: w for k, w in self._windows.items() if w.reset_at > now}
            window = self._windows[key] = _Window(now + rule.window)
        elif now >= window.reset_at:
            window.reset_at, window.used = now + rule.window, 0
        return window

    def _headers(self, route: str, rule: RouteLimit, remaining: int, reset_after: float) -> dict[str, str]:
        bucket = self._bucket_ids.get(route)
        if bucket is None:
            bucket = self._bucket_ids[route] = bucket_id(route)
        reset_after = _ceil_ms(max(reset_after, 0.001))
        return {
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{self._wall() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        }
