"""The gradebook: who each record belongs to, every cell's status and every student's totals and grade, read.

The one resolution rule. A course's students are its roster entries plus everyone with a record
in its sessions. A record belongs to, in this order:

1. its `student_key` (an instructor's mark names the student id);
2. else the confirmed registration (`/register` the roster vouched for, or `/attendance link`) of
   its Discord account in the course's server (a pending claim counts for nothing);
3. else the roster entry whose `discord` column is its username (case does not count);
4. else to nobody on the roster: the student is the Discord account itself.

A cell is the record's status. A roster student without a record is `absent` in a closed session
(computed here, never stored) and has no status yet (None, a blank cell) in the open one. Students
not on the roster are never absent: their sessions are the ones they have a record in. Should two
records land on one student in one session (a mark made before the account was linked, and the
account's check-in), the instructor's (`manual`) one counts, else the later one.

A grade is read too, never stored: by the course's GradingPolicy, present 1, late `late_points`,
absent 0, excused left out, the `drop_lowest` worst sessions dropped (grade() below), so a change
of the policy changes the grades of past sessions as well.

Everything is read with a handful of queries per course (the course, its sessions, roster,
registrations and records), whatever its size; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from .clock import Clock, utc_now
from .courses import CourseService
from .models import Attendance, RosterEntry, Session, Student
from .records import (
    Cell,
    CourseInfo,
    Gradebook,
    GradebookRow,
    GradebookSession,
    GradebookStudent,
    GradingPolicy,
    SessionStatus,
    Source,
    Status,
    StoredRecord,
    StudentAttendance,
    Totals,
)
from .settings import Settings
from .voice import voice_seconds

# Who a record belongs to: ("key", student key) or ("user", Discord id); ("name", username) only
# for a row with neither (not written by this bot).
Identity = tuple[str, object]


@dataclass
class _Person:
    """What the rows say about one student while the gradebook is built."""

    identity: Identity
    cells: dict[str, Cell] = field(default_factory=dict)  # session id -> the record that counts
    manual: dict[str, bool] = field(default_factory=dict)
    user_id: int | None = None  # the latest record's account
    username: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class _Registration:
    user_id: int
    student_id: str
    student_key: str
    name: str | None


def totals(cells: Iterable[Cell | None]) -> Totals:
    """The counts over a student's cells; blank cells (None) are not sessions of theirs."""
    counts = dict.fromkeys(Status, 0)
    sessions = 0
    for cell in cells:
        if cell is None:
            continue
        sessions += 1
        if cell.status in counts:
            counts[cell.status] += 1
    return Totals.of(sessions, counts)


def grade(counts: Totals, policy: GradingPolicy) -> Decimal | None:
    """A student's grade from their totals: the points of their graded sessions (present, late,
    absent; excused ones are left out) less the `drop_lowest` lowest, never the last one, over the
    sessions kept, as 0-100 rounded half up to two places; None when no session is graded."""
    points = sorted(
        earned
        for status in Status
        if (earned := policy.points(status)) is not None
        for _ in range(counts.count(status))
    )
    kept = points[min(policy.drop_lowest, max(len(points) - 1, 0)) :]
    if not kept:
        return None
    return (sum(kept, Decimal(0)) * 100 / len(kept)).quantize(Decimal("0.01"), ROUND_HALF_UP)


class GradebookService:
    """Reads courses' records into Gradebook objects; holds settings only."""

    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock  # for the minutes in voice of a session still open
        self.courses = CourseService(settings, clock)

    def gradebook(self, course_id: int, session_id: str | None = None) -> Gradebook:
        """A course's gradebook (CourseError for an unknown course); with `session_id`, only that
        session's column (and totals over it; a session of another course gives no column)."""
        return build(self.courses.get(course_id), session_id, now=self.clock())

    def student_attendance(
        self, guild_id: int, user_id: int, *, username: str | None = None, course_id: int | None = None
    ) -> list[StudentAttendance]:
        """What `/my_attendance` shows: a Discord account's record in the courses of a server.

        Every course of the server that is not archived (or only `course_id`, archived or not, if
        it is a course of that server) where the account is a student: through its confirmed
        registration (a pending claim shows its own records only), its records, or the roster's
        `discord` column when `username` (the account's Discord username) is given. Each with the
        sessions that count for that student and the totals; courses where the account is nobody
        are left out, so [] means "no record anywhere".
        """
        if course_id is not None:
            courses = [c for c in self.courses.courses(guild_id) if c.id == course_id]
        else:
            courses = self.courses.courses(guild_id, archived=False)
        registration = Student.get_or_none(
            (Student.guild_id == guild_id) & (Student.user_id == user_id) & (Student.confirmed == True)  # noqa: E712
        )
        key = registration.student_key if registration is not None else None
        found: list[StudentAttendance] = []
        for course in courses:
            book = build(course, now=self.clock())
            row = _find(book.rows, user_id, key, username)
            if row is None:
                continue
            sessions = tuple(
                SessionStatus(session, None if cell is None else cell.status)
                for session, cell in zip(book.sessions, row.cells, strict=True)
                if cell is not None or (row.student.on_roster and session.is_open)
            )
            found.append(
                StudentAttendance(course.id, course.name, row.student, sessions, row.totals, row.grade, book.policy)
            )
        return found


def _find(rows: Sequence[GradebookRow], user_id: int, key: str | None, username: str | None) -> GradebookRow | None:
    for row in rows:
        if row.student.user_id == user_id or (key is not None and row.student.key == key):
            return row
    if username:
        wanted = username.strip().lower()
        for row in rows:
            if row.student.user_id is None and (row.student.username or "").lower() == wanted:
                return row
    return None


def build(course: CourseInfo, session_id: str | None = None, *, now: datetime | None = None) -> Gradebook:
    """Read one course into a Gradebook: four queries (sessions, roster, registrations, records;
    none per student), a fifth for the minutes in voice when a session has a voice channel, then
    the rule above in Python. `now` ends the voice time of a session still open (without it, an
    open session's time in voice counts only its spans that ended)."""
    query = Session.select(Session.session_id, Session.opened_at, Session.closed_at, Session.voice_channel_id).where(
        Session.course == course.id
    )
    if session_id is not None:
        query = query.where(Session.session_id == session_id.strip())
    sessions = tuple(
        GradebookSession(sid, opened, closed, voice)
        for sid, opened, closed, voice in query.order_by(Session.opened_at, Session.id).tuples()
    )
    voiced = [(s.session_id, s.opened_at, s.closed_at) for s in sessions if s.voice_channel_id is not None]
    seconds = voice_seconds(voiced, now) if voiced else {}
    entries = list(
        RosterEntry.select(RosterEntry.student_id, RosterEntry.student_key, RosterEntry.name, RosterEntry.discord)
        .where(RosterEntry.course_id == course.id)
        .tuples()
    )
    by_user: dict[int, _Registration] = {}
    by_key: dict[str, _Registration] = {}
    if course.guild_id is not None:
        registered = Student.select(Student.user_id, Student.student_id, Student.student_key, Student.name).where(
            (Student.guild_id == course.guild_id) & (Student.confirmed == True)  # noqa: E712
        )
        for user, sid, key, name in registered.tuples():
            by_user[user] = by_key[key] = _Registration(user, sid, key, name)
    roster_keys = {key for _, key, _, _ in entries}
    by_discord: dict[str, str] = {}
    for _, key, _, discord in sorted(entries, key=lambda e: e[1]):
        if discord:
            by_discord.setdefault(discord.lower(), key)

    people: dict[Identity, _Person] = {}
    wanted = {s.session_id for s in sessions}
    records = (
        Attendance.select(
            Attendance.user_id,
            Attendance.username,
            Attendance.display_name,
            Attendance.submitted_at,
            Attendance.session_id,
            Attendance.status,
            Attendance.source,
            Attendance.student_key,
            Attendance.in_voice,
        )
        .join(Session, on=Attendance.session_id == Session.session_id)
        .where(Session.course == course.id)
        .order_by(Attendance.submitted_at, Attendance.id)
    )
    if session_id is not None:
        records = records.where(Attendance.session_id == session_id.strip())
    for user, username, display, at, sid, status, source, key, in_voice in records.tuples():
        if sid not in wanted:
            continue
        identity = _identity(user, username, key, by_user, by_discord)
        person = people.get(identity)
        if person is None:
            person = people[identity] = _Person(identity)
        manual = source == Source.MANUAL
        if manual or not person.manual.get(sid, False):  # rows come oldest first: the later one wins
            voiced_here = None if in_voice is None else bool(in_voice)
            person.cells[sid] = Cell(status, StoredRecord(user, username, at, source, voiced_here))
            person.manual[sid] = manual or person.manual.get(sid, False)
        if user is not None:
            person.user_id = user
            person.username = username or person.username
            person.display_name = display or person.display_name

    policy = course.policy
    rows: list[GradebookRow] = []
    for sid_text, key, name, discord in sorted(entries, key=lambda e: (e[1], e[0])):
        person = people.get(("key", key)) or _Person(("key", key))
        registration = by_key.get(key)
        student = GradebookStudent(
            student_id=sid_text,
            name=name,
            username=person.username or discord,
            display_name=person.display_name,
            user_id=registration.user_id if registration is not None else person.user_id,
            on_roster=True,
            key=key,
        )
        cells = tuple(person.cells.get(s.session_id) or (None if s.is_open else Cell(Status.ABSENT)) for s in sessions)
        counts = totals(cells)
        rows.append(GradebookRow(student, cells, counts, grade(counts, policy)))

    others: list[GradebookRow] = []
    for (kind, value), person in people.items():
        key = str(value) if kind == "key" else None
        if key in roster_keys:
            continue
        registration = by_key.get(key) if key is not None else None
        student = GradebookStudent(
            student_id=registration.student_id if registration is not None else key,
            name=registration.name if registration is not None else None,
            username=person.username or (str(value) if kind == "name" else None),
            display_name=person.display_name,
            user_id=registration.user_id if registration is not None else person.user_id,
            on_roster=False,
            key=key,
        )
        cells = tuple(person.cells.get(s.session_id) for s in sessions)
        counts = totals(cells)
        others.append(GradebookRow(student, cells, counts, grade(counts, policy)))
    others.sort(key=_not_on_roster_order)
    return Gradebook(course.id, course.name, sessions, tuple(rows + others), seconds, policy)


def _identity(
    user: int | None,
    username: str,
    key: str | None,
    by_user: dict[int, _Registration],
    by_discord: dict[str, str],
) -> Identity:
    """Who a record belongs to (the rule in this module's docstring)."""
    if key:
        return ("key", key)
    if user is not None and user in by_user:
        return ("key", by_user[user].student_key)
    if username and username.lower() in by_discord:
        return ("key", by_discord[username.lower()])
    if user is not None:
        return ("user", user)
    return ("name", username)


def _not_on_roster_order(row: GradebookRow) -> tuple[str, str, int]:
    student = row.student
    label = student.username or student.student_id or student.display_name or ""
    return (label.casefold(), student.student_id or "", student.user_id or 0)


__all__ = ["GradebookService", "build", "grade", "totals"]
