"""The result and info types the service returns: plain frozen data, no database, no rules."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# The throttle's free tries: a student may type this many wrong codes before any wait (the rules
# that use it are in checkin.py; here it is the default of SubmitResult.attempts_left).
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
    KEPT = "kept"  # a right code, but the instructor has set this student's record: it stands
    NOT_IN_VOICE = "not_in_voice"  # a right code, but voice_rule required and the student is not in its channel


class Source(enum.StrEnum):
    """Who set a record: a check-in with the code, or an instructor (a mark, a registration's or
    an import's record of excused or absent). An instructor's record stands against a later
    check-in; the database and the full CSV hold the word."""

    CODE = "code"
    MANUAL = "manual"


class VoiceRule(enum.StrEnum):
    """What a course's voice channel means for a check-in (the word the database holds): `required`
    accepts one only from a member in that channel (or there within VOICE_RECENT_SECONDS); `recorded`
    accepts it as without a channel and notes on the record whether the member was there."""

    REQUIRED = "required"
    RECORDED = "recorded"


# A member who left the course's voice channel less than this many seconds ago still counts as in it.
VOICE_RECENT_SECONDS = 60


class Status(enum.StrEnum):
    """A record's status, in the order every table, column and legend lists them: the word the
    database and the CSVs hold (a Status is that str), the gradebook export's letter, whether it
    says the student was there (what "N present" counts, the `records` export holds and the rate's
    numerator adds), whether the session counts in the rate's divisor, whether a check-in gives it
    (its record's source is then `code`, else an instructor's `manual`), and the report's heat map
    colour (Okabe-Ito, colour-blind safe). A new status is one line here, plus its count in Totals
    and its mark in messages."""

    PRESENT = "present", "P", True, True, True, "#009e73"
    LATE = "late", "L", True, True, True, "#e69f00"
    EXCUSED = "excused", "E", False, False, False, "#56b4e9"
    ABSENT = "absent", "A", False, True, False, "#d55e00"

    letter: str
    attended: bool
    in_rate: bool
    by_code: bool
    colour: str

    def __new__(cls, word: str, letter: str, attended: bool, in_rate: bool, by_code: bool, colour: str) -> Status:
        member = str.__new__(cls, word)
        member._value_ = word
        member.letter = letter
        member.attended = attended
        member.in_rate = in_rate
        member.by_code = by_code
        member.colour = colour
        return member

    @property
    def order(self) -> int:
        """Its place in every list of statuses (0 first)."""
        return _STATUS_ORDER[self]


_STATUS_ORDER = {status: n for n, status in enumerate(Status)}
# Every status in order; a check-in gives present or late, an instructor any of them.
STATUSES: tuple[Status, ...] = tuple(Status)
# The statuses that say the student was there: what "N present" counts and the `records` export holds.
COUNTED_STATUSES: tuple[Status, ...] = tuple(s for s in Status if s.attended)
MAX_LATE_AFTER = 240  # minutes; 0 means never late

# The grading policy's bounds and defaults (a course's late_points and drop_lowest; see GradingPolicy).
DEFAULT_LATE_POINTS = Decimal("0.8")  # Canvas Roll Call's weight of a late
MAX_LATE_POINTS = 1
LATE_POINTS_PLACES = 2  # late_points has at most this many decimals (0.8, 0.75)
MAX_DROP_LOWEST = 10


@dataclass(frozen=True)
class GradingPolicy:
    """How a course's record becomes a grade: a present session earns 1 point, a late one
    `late_points`, an absent one 0; excused sessions are left out (like the rate's divisor), and
    the `drop_lowest` sessions with the fewest points are dropped (never the last one left). The
    grade is the points kept over the sessions kept, as 0-100. Read from the record, never stored."""

    late_points: Decimal = DEFAULT_LATE_POINTS
    drop_lowest: int = 0

    def points(self, status: Status) -> Decimal | None:
        """What one session with `status` earns (None: not graded, an excused session)."""
        if not status.in_rate:
            return None
        if status is Status.LATE:
            return Decimal(self.late_points)
        return Decimal(1) if status.attended else Decimal(0)


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
    late_after: int | None = None  # minutes after opening from which a check-in is late; None: never
    voice_channel_id: int | None = None  # the course's voice or stage channel (None: no voice presence)
    voice_rule: str | None = None  # a VoiceRule word; unset with a voice channel: recorded
    code_in_channel: bool = True  # the code message shows the code (else only the projector page does)
    warn_below: int | None = None  # the warning line, a percentage of the rate (None: no warnings)
    warn_after: int = 3  # no warning before the course has had this many sessions
    late_points: Decimal = DEFAULT_LATE_POINTS  # what a late session earns in the grade (present 1, absent 0)
    drop_lowest: int = 0  # how many of a student's worst sessions the grade leaves out
    timezone: str = "UTC"  # the IANA name its timetable's local times are in (set, else TIMEZONE's)

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    @property
    def policy(self) -> GradingPolicy:
        """The course's grading policy (its late_points and drop_lowest)."""
        return GradingPolicy(Decimal(self.late_points), int(self.drop_lowest))


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
    late_after: int | None = None
    voice_channel_id: int | None = None  # the course's voice channel when it opened (None: no voice presence)
    voice_rule: str | None = None  # its VoiceRule then (set when voice_channel_id is)
    code_in_channel: bool = True  # its code message shows the code (the course's setting when it opened)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class SessionBrief:
    """A session in brief (a pick-list's entry, a gradebook's column): its id, when it opened and
    closed (UTC), whether it is open, and its voice channel (None: none, so no minutes in voice)."""

    session_id: str
    opened_at: datetime
    closed_at: datetime | None
    voice_channel_id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class SessionSummary:
    """One line of the session list."""

    session: SessionInfo
    count: int  # records present or late (COUNTED_STATUSES)


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
    # The session whose code message's Check in button was pressed: the only candidate, wherever
    # the button was (the display channel may be the admin channel). None: found by channel.
    session_id: str | None = None


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
    # WRONG_CHANNEL: where this server's courses take attendance; NOT_IN_VOICE: the voice channel to join
    channels: tuple[int, ...] = ()
    status: str = ""  # RECORDED, UPDATED: present or late; KEPT: the status the instructor set
    late_after: int | None = None  # RECORDED, UPDATED as late: the session's rule, in minutes
    # Accepted: the notes that waited for the student (a warning, an excuse's outcome), shown once
    # in this reply (errors.Notice: a kind of messages and its values).
    notices: tuple[Any, ...] = ()

    @property
    def accepted(self) -> bool:
        """A right code whose record is durable (written, or an instructor's that stands)."""
        return self.outcome in (Outcome.RECORDED, Outcome.UPDATED, Outcome.KEPT)


@dataclass(frozen=True)
class ClosedSession:
    """A session that was just closed and how many students were there (present or late)."""

    session: SessionInfo
    count: int


@dataclass(frozen=True)
class ExportRow:
    """One attendance record as stored (UTC), ready for the CSV writer."""

    user_id: int
    username: str
    submitted_at: datetime
    session_id: str


# -- corrections (attendance_bot/corrections.py) -------------------------------------------------


@dataclass(frozen=True)
class StudentRef:
    """Who a correction or a history is about: a student id (folded in `student_key`), a Discord
    account (`user_id`), or both. `username` is the account's latest name, else the roster's
    `discord` column; None when unknown."""

    student_key: str | None
    user_id: int | None
    student_id: str | None
    name: str | None
    username: str | None
    on_roster: bool = False

    @property
    def value(self) -> str:
        """What autocomplete sends back for this student (CorrectionService.resolve_student takes it)."""
        if self.student_key is not None:
            return f"student:{self.student_id or self.student_key}"
        return f"user:{self.user_id}"


MAX_CHOICE = 100  # Discord's limit on an autocomplete choice's name and value


@dataclass(frozen=True)
class Choice:
    """One autocomplete choice: what the instructor reads (≤100 characters) and what comes back (≤100)."""

    label: str
    value: str


@dataclass(frozen=True)
class Correction:
    """What a mark or a removal did; `changed` is False for a mark of the manual status already there."""

    course_id: int
    course_name: str
    session_id: str
    session_closed: bool
    student: StudentRef
    old_status: str | None  # None: there was no record
    new_status: str | None  # None: the record was removed
    reason: str | None
    changed: bool


@dataclass(frozen=True)
class HistoryEvent:
    """One event of a student's history, as stored (UTC); the course's name when it has one."""

    at: datetime
    action: str
    course_id: int | None
    course_name: str | None
    session_id: str | None
    old_status: str | None
    new_status: str | None
    reason: str | None
    actor: str
    source: str
    student_id: str | None
    user_id: int | None


# -- the gradebook (attendance_bot/gradebook.py) --------------------------------------------------


# A session as the gradebook shows it: a column, in opening order.
GradebookSession = SessionBrief


@dataclass(frozen=True)
class GradebookStudent:
    """A student of a course: a roster entry, or someone with a record who is not on the roster.

    `key` is the student id folded (students.student_key), None for a Discord account that is
    neither registered nor on the roster. `username` is the account's latest Discord username,
    else the roster's `discord` column; `user_id` the linked account, None when unknown.
    """

    student_id: str | None
    name: str | None
    username: str | None
    display_name: str | None
    user_id: int | None
    on_roster: bool
    key: str | None = None


@dataclass(frozen=True)
class StoredRecord:
    """The attendance row behind a cell, as stored (UTC)."""

    user_id: int | None
    username: str
    submitted_at: datetime
    source: str  # code (a /here) or manual (an instructor's mark)
    in_voice: bool | None = None  # a check-in of a session with a voice channel: in it then (None: no such note)


@dataclass(frozen=True)
class Cell:
    """A student's status in one session; `record` is None for an absence computed at read
    (a roster student without a record in a closed session)."""

    status: str
    record: StoredRecord | None = None


@dataclass(frozen=True)
class Totals:
    """A student's counts, one field per Status named by its word; rate = (present + late) /
    (sessions - excused) (the attended statuses over the sessions that count), None when that divisor is 0."""

    sessions: int
    present: int
    late: int
    excused: int
    absent: int

    @classmethod
    def of(cls, sessions: int, counts: dict[Status, int]) -> Totals:
        """Totals from a count per status (a status missing counts 0)."""
        return cls(sessions, **{status.value: counts.get(status, 0) for status in Status})

    def count(self, status: Status) -> int:
        """How many of the student's sessions have `status`."""
        return int(getattr(self, status.value))

    @property
    def counts(self) -> tuple[int, ...]:
        """The count of each status, in Status order."""
        return tuple(self.count(status) for status in Status)

    @property
    def rate(self) -> Decimal | None:
        """The rate rounded half up to 3 places (6/7 -> 0.857), or None when the divisor is 0."""
        divisor = self.sessions - sum(self.count(s) for s in Status if not s.in_rate)
        if divisor <= 0:
            return None
        attended = sum(self.count(s) for s in Status if s.attended)
        return (Decimal(attended) / Decimal(divisor)).quantize(Decimal("0.001"), ROUND_HALF_UP)

    @property
    def rate_text(self) -> str:
        """The rate as written in every CSV: `0.857`, `1.000`, or empty when the divisor is 0."""
        rate = self.rate
        return "" if rate is None else f"{rate:.3f}"


def grade_text(grade: Decimal | None) -> str:
    """A grade as written in every CSV: `85.00`, `100.00`, or empty when no session is graded."""
    return "" if grade is None else f"{grade:.2f}"


@dataclass(frozen=True)
class GradebookRow:
    """One student's line: a cell per session of the gradebook (None: blank), the totals, and the
    grade by the course's policy (0-100, two places; None when no session is graded)."""

    student: GradebookStudent
    cells: tuple[Cell | None, ...]
    totals: Totals
    grade: Decimal | None = None

    @property
    def grade_text(self) -> str:
        return grade_text(self.grade)


@dataclass(frozen=True)
class Gradebook:
    """A course's record read at one instant: roster students first (by student id), then the
    students not on the roster (by Discord username)."""

    course_id: int
    course_name: str
    sessions: tuple[GradebookSession, ...]
    rows: tuple[GradebookRow, ...]
    # Seconds in the voice channel per (session id, Discord account), for sessions with one.
    voice_seconds: Mapping[tuple[str, int], float] = field(default_factory=dict)
    policy: GradingPolicy = GradingPolicy()  # the course's, which every row's grade follows

    def voice_minutes(self, session: GradebookSession, user_id: int | None) -> int | None:
        """Whole minutes the account spent in the session's voice channel while it was open (None:
        the session has no voice channel, or no account is known)."""
        if session.voice_channel_id is None or user_id is None:
            return None
        return int(self.voice_seconds.get((session.session_id, user_id), 0.0) // 60)

    def voice_minutes_total(self, row: GradebookRow) -> int | None:
        """A student's whole minutes in voice over the sessions that have a voice channel (None: none has)."""
        voiced = [s for s in self.sessions if s.voice_channel_id is not None]
        if not voiced:
            return None
        return sum(self.voice_minutes(s, row.student.user_id) or 0 for s in voiced)


@dataclass(frozen=True)
class SessionStatus:
    """One session of a student's own view, with their status (None: no status yet, open session)."""

    session: GradebookSession
    status: str | None


@dataclass(frozen=True)
class StudentAttendance:
    """A student's record in one course, for `/my_attendance`: the sessions that count for them
    (every session for a roster student; the ones with a record otherwise), the totals, and the
    grade by the course's policy."""

    course_id: int
    course_name: str
    student: GradebookStudent
    sessions: tuple[SessionStatus, ...]
    totals: Totals
    grade: Decimal | None = None
    policy: GradingPolicy = GradingPolicy()


# -- the projector (attendance_bot/projector.py: the page, `code --watch`) ------------------------


@dataclass(frozen=True)
class ProjectorView:
    """What a projector shows of a session at one instant: its course, the code of that instant and
    when it changes, how many have checked in (a number, never a name); no code once it is closed."""

    session_id: str
    course_name: str | None
    is_open: bool
    count: int
    code: str | None = None  # None once closed
    window: int | None = None
    changes_at: datetime | None = None
    seconds_left: float = 0.0


@dataclass(frozen=True)
class ProjectorLinkInfo:
    """A session's projector link as given to its instructor (the token is derived, never stored)."""

    session_id: str
    course_name: str
    url: str
    new: bool = False


# -- warnings and excuse requests (attendance_bot/warnings.py, excuses.py) -----------------------


@dataclass(frozen=True)
class WarnedStudent:
    """A student a warning digest names: their rate now, and the best rate they can still reach by
    the end of the timetable (None: the course has no timetable)."""

    student: GradebookStudent
    rate: Decimal | None
    best: Decimal | None = None


@dataclass(frozen=True)
class WarningDigest:
    """What one closed session changed against its course's warning line: the students who are now
    below it, and those who can no longer reach it (each named once, when they cross), and the notes
    left for them (their ids, for direct messages)."""

    course_id: int
    course_name: str
    admin_channel_id: int | None
    session_id: str
    warn_below: int
    below: tuple[WarnedStudent, ...]
    unreachable: tuple[WarnedStudent, ...]
    remaining: int | None  # sessions left in the timetable (None: no timetable)
    notice_ids: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        """Nobody crossed: nothing to post."""
        return not self.below and not self.unreachable


@dataclass(frozen=True)
class DirectMessage:
    """The notes one account is to get by direct message (its one a day): their ids and the notes."""

    user_id: int
    notice_ids: tuple[int, ...]
    notices: tuple[Any, ...]  # errors.Notice


class Decision(enum.StrEnum):
    """An instructor's decision on an excuse request (the word the database holds)."""

    APPROVED = "approved"
    DENIED = "denied"


@dataclass(frozen=True)
class ExcuseInfo:
    """A student's excuse request as the callers see it; `decision` is None while it waits."""

    id: int
    course_id: int
    course_name: str
    guild_id: int | None
    admin_channel_id: int | None
    session_id: str
    session_opened_at: datetime
    user_id: int
    username: str
    student_id: str | None
    reason: str
    requested_at: datetime
    status: str | None  # the student's status in the session when they asked (None: no record yet)
    decision: str | None = None
    decided_by: str | None = None
    channel_id: int | None = None
    message_id: int | None = None
    notice_ids: tuple[int, ...] = ()  # a decision's note to the student
