"""Low-attendance warnings and the notes a student is to be told privately.

After a session of a course with a warning line (`warn_below`, a percentage) closes, one process
claims its digest (the database decides which) and, in the same transaction, compares every
student's rate with the line: those now below it, and those who can no longer reach it by the end
of the timetable (`remaining`, the timetable's sessions still to come), are named once, when they
cross; their standing is kept in `warning_state`, so the next digest names them again only after
they rose above the line and fell again. No warning before the course has had `warn_after`
sessions. Each student named who has an account gets a note: shown once, in the reply to their
next check-in or command in that server, or by direct message if they turned those on (`/notify`;
at most one a day; an account that refuses them, Discord's 50007, is noted and not tried again).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import peewee

from . import storage
from .clock import Clock, utc_now
from .courses import CourseService
from .errors import Notice
from .gradebook import build
from .models import Session
from .records import (
    DirectMessage,
    GradebookStudent,
    Status,
    StudentAttendance,
    Totals,
    WarnedStudent,
    WarningDigest,
)
from .settings import Settings

log = logging.getLogger(__name__)

# The timetable's sessions of a course still to come after an instant (None: it has no timetable).
Remaining = Callable[[int, datetime], "int | None"]
DIRECT_MESSAGE_EVERY = timedelta(days=1)  # at most one direct message per student in this time


def no_timetable(course_id: int, after: datetime) -> int | None:
    """`remaining` for a service given no timetable (Services gives it the timetable's
    `remaining_occurrences`): no course has one."""
    return None


def notice_of(kind: str, detail: str) -> Notice:
    """A note as stored (its kind and its values as JSON) made a Notice again."""
    values: dict[str, Any] = json.loads(detail)
    return Notice(kind, **values)


def leave_notice(notice: Notice, *, guild_id: int | None, user_id: int, course_id: int | None, at: datetime) -> int:
    """Store a note for a student (in the caller's transaction); its id."""
    detail = json.dumps(notice.values, sort_keys=True)
    return storage.add_notice(
        guild_id=guild_id, user_id=user_id, course_id=course_id, kind=notice.kind, detail=detail, at=at
    )


def identity(student: GradebookStudent) -> str | None:
    """Who a student is in `warning_state`: their student id (folded), else their account."""
    if student.key is not None:
        return f"key:{student.key}"
    if student.user_id is not None:
        return f"user:{student.user_id}"
    return None


def percent(rate: Decimal | None) -> str | None:
    """A rate as a percentage with one decimal (for a note's values, which are JSON)."""
    return None if rate is None else f"{rate * 100:.1f}"


def best_rate(totals: Totals, remaining: int | None) -> Decimal | None:
    """The highest rate a student can reach if they attend every session still to come (None without
    a timetable, or with no session that counts)."""
    if remaining is None:
        return None
    divisor = totals.sessions - sum(totals.count(s) for s in Status if not s.in_rate) + remaining
    if divisor <= 0:
        return None
    attended = sum(totals.count(s) for s in Status if s.attended) + remaining
    return Decimal(attended) / Decimal(divisor)


def under(rate: Decimal | None, line: int) -> bool:
    """Whether a rate (0-1) is below a line given in percent; no rate is never below."""
    return rate is not None and rate * 100 < line


class WarningService:
    """Warning digests, where a student stands, and the notes for students with their direct
    messages; holds settings, a clock and `remaining` (the timetable's sessions still to come)."""

    def __init__(self, settings: Settings, clock: Clock = utc_now, remaining: Remaining = no_timetable) -> None:
        self.settings = settings
        self.clock = clock
        self.remaining = remaining
        self.courses = CourseService(settings, clock)

    # -- digests ----------------------------------------------------------------------------

    def digest(self, session_id: str) -> WarningDigest | None:
        """The warning digest of a closed session, made by the one caller whose claim lands (None for
        the others, for a session still open or unknown, and for a course without a warning line).
        Claim, standings and notes are one transaction."""
        row = Session.get_or_none(Session.session_id == session_id)
        if row is None or row.closed_at is None or row.course_id is None:
            return None
        course = self.courses.get(row.course_id)
        line = course.warn_below
        if line is None:
            return None
        remaining = self.remaining(course.id, row.closed_at)
        now = self.clock()
        below: list[WarnedStudent] = []
        unreachable: list[WarnedStudent] = []
        notes: list[int] = []
        try:
            with storage.immediate():
                if not storage.claim_digest(session_id, course.id, now):
                    return None
                book = build(course, now=now)
                held = sum(1 for s in book.sessions if not s.is_open)
                before = storage.standings(course.id)
                for student_row in book.rows:
                    student, totals = student_row.student, student_row.totals
                    who = identity(student)
                    if who is None:
                        continue
                    was = before.get(who, storage.Standing(False, False))
                    best = best_rate(totals, remaining)
                    counts = held >= course.warn_after
                    now_standing = storage.Standing(counts and under(totals.rate, line), counts and under(best, line))
                    if now_standing != was:
                        storage.save_standing(course.id, who, student.user_id, now_standing, now)
                    crossed_below = now_standing.below and not was.below
                    crossed_unreachable = now_standing.unreachable and not was.unreachable
                    if crossed_below:
                        below.append(WarnedStudent(student, totals.rate, best))
                    if crossed_unreachable:
                        unreachable.append(WarnedStudent(student, totals.rate, best))
                    if (crossed_below or crossed_unreachable) and student.user_id is not None:
                        note = self._warning_note(course.name, line, totals.rate, best, now_standing.unreachable)
                        notes.append(
                            leave_notice(
                                note, guild_id=course.guild_id, user_id=student.user_id, course_id=course.id, at=now
                            )
                        )
        except peewee.DatabaseError as exc:
            raise storage.failure("making the warning digest", exc) from exc
        if below or unreachable:
            log.info(
                "Warning digest of session %s: %d below the line, %d cannot reach it",
                session_id,
                len(below),
                len(unreachable),
            )
        return WarningDigest(
            course.id,
            course.name,
            course.admin_channel_id,
            session_id,
            line,
            tuple(below),
            tuple(unreachable),
            remaining,
            tuple(notes),
        )

    @staticmethod
    def _warning_note(course_name: str, line: int, rate: Decimal | None, best: Decimal | None, lost: bool) -> Notice:
        if lost:
            return Notice(
                "line_out_of_reach_notice", course_name=course_name, line=line, rate=percent(rate), best=percent(best)
            )
        return Notice("below_line_notice", course_name=course_name, line=line, rate=percent(rate))

    # -- a student's own view ---------------------------------------------------------------

    def standing(self, mine: Sequence[StudentAttendance]) -> list[Notice]:
        """For `/my_attendance`: a line for each course (of the student's) with a warning line they are
        below, once the course has had its `warn_after` sessions."""
        found: list[Notice] = []
        for attendance in mine:
            course = self.courses.get(attendance.course_id)
            line = course.warn_below
            if line is None or not under(attendance.totals.rate, line):
                continue
            held = Session.select().where((Session.course == course.id) & Session.closed_at.is_null(False)).count()
            if held >= course.warn_after:
                found.append(
                    Notice(
                        "below_line_notice", course_name=course.name, line=line, rate=percent(attendance.totals.rate)
                    )
                )
        return found

    # -- notes for students -----------------------------------------------------------------

    def take_notices(self, guild_id: int | None, user_id: int) -> list[Notice]:
        """The notes waiting for an account in a server, oldest first, now marked shown (the caller
        shows them in its reply)."""
        try:
            with storage.immediate():
                rows = storage.unshown_notices(guild_id, [user_id]).get(user_id, [])
                marked = set(storage.mark_shown([r.id for r in rows], self.clock()))
        except peewee.DatabaseError as exc:
            raise storage.failure("reading your notes", exc) from exc
        return [notice_of(r.kind, r.detail) for r in rows if r.id in marked]

    # -- direct messages --------------------------------------------------------------------

    def set_direct_messages(self, user_id: int, on: bool) -> None:
        """`/notify on|off`: turning them on also forgets that Discord refused one before."""
        try:
            with storage.immediate():
                storage.set_direct_messages(user_id, on, self.clock())
        except peewee.DatabaseError as exc:
            raise storage.failure("changing your direct messages", exc) from exc

    def direct_messages_on(self, user_id: int) -> bool:
        row = storage.direct_messages(user_id)
        return row is not None and bool(row.enabled)

    def direct_messages_due(self, notice_ids: Sequence[int]) -> list[DirectMessage]:
        """Of these notes, those not shown yet whose students take direct messages today, grouped by
        student; each student's one message of the day is taken here (by the database, so two processes
        cannot both send it). The others wait for the student's next command."""
        if not notice_ids:
            return []
        now = self.clock()
        due: list[DirectMessage] = []
        try:
            with storage.immediate():
                waiting: dict[int, list[storage.NoticeRow]] = {}
                for row in storage.notices_by_id(notice_ids, waiting=True):
                    waiting.setdefault(row.user_id, []).append(row)
                for user_id, rows in waiting.items():
                    if storage.claim_direct_message(user_id, now, now - DIRECT_MESSAGE_EVERY):
                        due.append(
                            DirectMessage(
                                user_id, tuple(r.id for r in rows), tuple(notice_of(r.kind, r.detail) for r in rows)
                            )
                        )
        except peewee.DatabaseError as exc:
            raise storage.failure("preparing direct messages", exc) from exc
        return due

    def direct_message_sent(self, message: DirectMessage) -> None:
        """Its notes were delivered: they are not shown again."""
        with storage.immediate():
            storage.mark_shown(list(message.notice_ids), self.clock())

    def direct_message_refused(self, user_id: int) -> None:
        """Discord refused the message (50007): noted, and no direct message is tried again until the
        student turns them on again; the notes wait for their next command."""
        with storage.immediate():
            storage.note_refusal(user_id, self.clock())
        log.info("Account %s does not accept direct messages; noted, not retried", user_id)


__all__ = [
    "DIRECT_MESSAGE_EVERY",
    "Remaining",
    "WarningService",
    "best_rate",
    "leave_notice",
    "no_timetable",
    "notice_of",
]
