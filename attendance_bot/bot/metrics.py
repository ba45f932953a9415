"""The bot's Prometheus metrics (prometheus-client): counted by the adapters that see each event (the
check-in cog, the database thread, the /here batcher, the code rotation, the gateway's events) in a
registry of this bot's own, and served by the projector page's server at GET /metrics."""

from __future__ import annotations

import enum

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, PlatformCollector, ProcessCollector

from .. import __version__
from ..records import Outcome, Status, SubmitResult

# Seconds from a check-in reaching the bot to its reply: Discord wants an answer within 3 s.
REPLY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
# Seconds from a code window's start to its code message showing the new code.
EDIT_LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0, 60.0)


class CheckinResult(enum.StrEnum):
    """What a check-in came to, as the `result` label of attendance_checkins_total says it."""

    PRESENT = Status.PRESENT.value
    LATE = Status.LATE.value
    WRONG = Outcome.WRONG.value  # a code that is no session's (or not a code at all)
    EXPIRED = Outcome.EXPIRED.value  # a session's code past its grace
    THROTTLED = Outcome.THROTTLED.value  # too many wrong codes: asked to wait
    # Not taken for another reason: no session open, typed in the wrong channel, not in the voice
    # channel, the instructor's record stands, or not recorded (the bot stopping, the database failing).
    REFUSED = "refused"


# The other outcomes, each under the result it counts as.
RESULTS = {
    Outcome.EXPIRED: CheckinResult.EXPIRED,
    Outcome.WRONG: CheckinResult.WRONG,
    Outcome.MALFORMED: CheckinResult.WRONG,
    Outcome.THROTTLED: CheckinResult.THROTTLED,
    Outcome.NO_SESSION: CheckinResult.REFUSED,
    Outcome.WRONG_CHANNEL: CheckinResult.REFUSED,
    Outcome.KEPT: CheckinResult.REFUSED,
    Outcome.NOT_IN_VOICE: CheckinResult.REFUSED,
}


RECORDED = (Outcome.RECORDED, Outcome.UPDATED)  # counted by their status


def result_of(result: SubmitResult) -> CheckinResult:
    """The label of one judged check-in: recorded ones by their status (present or late). An outcome
    missing from the table counts as refused rather than break the hot path (a test keeps it complete)."""
    if result.outcome in RECORDED:
        return CheckinResult.LATE if result.status == Status.LATE else CheckinResult.PRESENT
    return RESULTS.get(result.outcome, CheckinResult.REFUSED)


class Metrics:
    """One bot's metrics, in a registry of its own (not prometheus-client's global one: a test process
    starts many bots), with the process's own (CPU, memory, open files) and Python's version."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        Info("attendance_bot", "The bot's version.", registry=self.registry).info({"version": __version__})
        checkins = Counter(
            "attendance_checkins",
            "Check-ins (/here and the Check in button's form) answered, by result.",
            ["result"],
            registry=self.registry,
        )
        # Every result from the start, at 0: a rate over a series that appears late misses its first rise.
        self._checkins = {result: checkins.labels(result=result.value) for result in CheckinResult}
        self.reply_seconds = Histogram(
            "attendance_reply_seconds",
            "Seconds from a check-in reaching the bot to its reply sent.",
            buckets=REPLY_BUCKETS,
            registry=self.registry,
        )
        self.open_sessions = Gauge(
            "attendance_open_sessions",
            "Open sessions whose code message this process keeps (its shards' servers' ones).",
            registry=self.registry,
        )
        self.database_errors = Counter(
            "attendance_database_errors",
            "Database calls that failed (a read or write, a batch of check-ins).",
            registry=self.registry,
        )
        self.discord_reconnects = Counter(
            "attendance_discord_reconnects",
            "Gateway connections made again after the first one (a new session or a resume).",
            registry=self.registry,
        )
        self.code_edit_lag = Histogram(
            "attendance_code_edit_lag_seconds",
            "Seconds from a code window's start to its code message showing the new code.",
            buckets=EDIT_LAG_BUCKETS,
            registry=self.registry,
        )

    def checked_in(self, result: SubmitResult) -> None:
        """One check-in judged and answered."""
        self._checkins[result_of(result)].inc()

    def refused(self, count: int = 1) -> None:
        """Check-ins answered without a verdict (not in a server, not recorded, the database failing)."""
        self._checkins[CheckinResult.REFUSED].inc(count)

    def count(self, result: CheckinResult) -> float:
        """How many check-ins had this result so far."""
        return self.registry.get_sample_value("attendance_checkins_total", {"result": result.value}) or 0.0
