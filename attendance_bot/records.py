"""The result and info types the service returns: plain frozen data, no database, no rules."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

# The throttle's free tries: a student may type this many wrong codes before any wait (the rules
# that use it are in attendance.py; here it is the default of SubmitResult.attempts_left).
FREE_WRONG_ATTEMPTS = 5


class Outcome(enum.Enum):
    """What happened to one `/here` submission."""

    RECORDED = "recorded"  # first submission for this session
    UPDATED = "updated"  # a later submission replaced the earlier one
    EXPIRED = "expired"
    WRONG = "wrong"
    MALFORMED = "malformed"
    THROTTLED = "throttled"
    NO_SESSION = "no_session"
    WRONG_CHANNEL = "wrong_channel"  # typed where no course takes attendance


@dataclass(frozen=True)
class CourseInfo:
    """A course as the callers see it; the code settings are the ones its next session gets."""

    id: int
    name: str
    guild_id: int | None
    admin_channel_id: int | None
    attendance_channel_id: int | None
    display_channel_id: int | None  # where the code message goes: set, else the attendance channel
    instructor_role_id: int | None
    interval: int
    code_length: int
    grace_seconds: int
    archived_at: datetime | None = None
    open_session_id: str | None = None

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True)
class SessionInfo:
    """A session as the callers see it (no secret)."""

    session_id: str
    opened_at: datetime
    closed_at: datetime | None
    interval: int
    code_length: int
    grace_seconds: int
    opened_by: str | None
    guild_id: int | None
    channel_id: int | None
    message_id: int | None
    message_posted_at: datetime | None
    course_id: int | None = None
    course_name: str | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class SessionSummary:
    """One line of the session list."""

    session: SessionInfo
    count: int


@dataclass(frozen=True)
class CurrentCode:
    """The code on screen now, and when it changes."""

    session_id: str
    code: str
    window: int
    seconds_left: float
    changes_at: datetime


@dataclass(frozen=True)
class Submission:
    """One `/here`: who typed what."""

    user_id: int
    username: str
    code: str
    display_name: str | None = None
    # Where it was typed: the sessions whose course takes attendance there are the candidates.
    # None (the shell and tests only, never Discord): every open session.
    channel_id: int | None = None
    guild_id: int | None = None


@dataclass(frozen=True)
class SubmitResult:
    """The verdict on one submission, with what the reply needs to explain it."""

    outcome: Outcome
    session_id: str | None = None
    code: str = ""
    bad_characters: str = ""
    code_length: int = 0
    retry_after: float = 0.0  # THROTTLED: seconds still to wait; WRONG: the wait before the next try
    attempts_left: int = FREE_WRONG_ATTEMPTS  # WRONG: tries left before any wait
    channels: tuple[int, ...] = ()  # WRONG_CHANNEL: where this server's courses take attendance

    @property
    def accepted(self) -> bool:
        return self.outcome in (Outcome.RECORDED, Outcome.UPDATED)


@dataclass(frozen=True)
class ClosedSession:
    """A session that was just closed and how many students it recorded."""

    session: SessionInfo
    count: int


@dataclass(frozen=True)
class ExportRow:
    """One attendance record as stored (UTC), ready for the CSV writer."""

    user_id: int
    username: str
    submitted_at: datetime
    session_id: str
