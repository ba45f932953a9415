"""Fault injection rules for REST routes (5xx, 429 and added latency)."""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from dataclasses import dataclass, field
from re import Pattern

log = logging.getLogger(__name__)


@dataclass
class Fault:
    """One injection rule; ``hits`` counts how many requests it affected."""

    pattern: Pattern[str]
    method: str | None
    status: int | None
    retry_after: float
    delay: float
    times: int | None
    ratio: float | None
    deadline: float | None
    global_limit: bool = False
    echo_request: bool = False
    hits: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def active(self, now: float) -> bool:
        """Still applicable (not exhausted, not expired)."""
        if self.times is not None and self.hits >= self.times:
            return False
        return self.deadline is None or now < self.deadline

    def matches(self, method: str, path: str) -> bool:
        """Does the rule apply to this request (ignoring ratio)?"""
        if self.method is not None and self.method != method:
            return False
        return self.pattern.search(path) is not None


class Faults:
    """Registry of fault rules consulted by the REST layer for every request."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        path_regex: str = ".*",
        method: str | None = None,
        status: int | None = 500,
        *,
        retry_after: float = 0.1,
        delay: float = 0.0,
        times: int | None = None,
        ratio: float | None = None,
        until: float | None = None,
        global_limit: bool = False,
        seed: int | None = None,
        echo_request: bool = False,
    ) -> Fault:
        """Add a rule.

        ``path_regex`` is searched in the path after ``/api/v10`` (e.g. ``r"/interactions/.*/callback"``).
        ``status`` None means "only add ``delay``". ``times`` limits the number of hits, ``ratio`` makes
        it probabilistic, ``until`` expires it after that many seconds. 429s carry ``retry_after``.
        ``echo_request`` quotes the request (its Authorization header and body) in a 4xx error's message
        (other than 403, 404 and 429), as a careless proxy's error page might: the bot's log must not
        show the secrets in it.
        """
        rule = Fault(
            pattern=re.compile(path_regex),
            method=method.upper() if method else None,
            status=status,
            retry_after=retry_after,
            delay=delay,
            times=times,
            ratio=ratio,
            deadline=time.monotonic() + until if until is not None else None,
            global_limit=global_limit,
            echo_request=echo_request,
        )
        if seed is not None:
            rule._rng.seed(seed)
        with self._lock:
            self._rules.append(rule)
        log.debug("fault added: %s %s -> %s", method, path_regex, status)
        return rule

    def remove(self, rule: Fault) -> None:
        """Remove one rule."""
        with self._lock:
            if rule in self._rules:
                self._rules.remove(rule)

    def clear(self) -> None:
        """Remove all rules."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[Fault]:
        """Snapshot of current rules."""
        with self._lock:
            return list(self._rules)

    def pick(self, method: str, path: str) -> Fault | None:
        """First active rule that fires for this request (counts the hit)."""
        if not self._rules:
            return None
        now = time.monotonic()
        with self._lock:
            for rule in self._rules:
                if not rule.active(now) or not rule.matches(method, path):
                    continue
                if rule.ratio is not None and rule._rng.random() >= rule.ratio:
                    continue
                rule.hits += 1
                return rule
        return None
