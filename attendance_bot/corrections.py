"""Corrections: an instructor's status for a student in a session (mark, remove) with its
append-only event, the autocomplete behind them, and a student's history of events.

Who a student is follows the gradebook's rule: a course's students are its roster entries and
everyone with a record in its sessions (nobody else: an instructor learns nothing of a member of
no course of theirs); a record belongs to its `student_key`, else to the confirmed registration
of its account in the course's server, else to the roster entry whose `discord` is its username,
else to the account itself ("not on the roster"). Every write and its event are one transaction;
events are never updated or deleted.
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import peewee

from . import storage
from .attendance import RECENT_SESSIONS
from .clock import Clock, utc_now
from .courses import CourseService
from .errors import AttendanceError, UnknownCourse, UnknownSession
from .export import BIDI_CONTROLS
from .models import Attendance, Course, Event, RosterEntry, Session, Student
from .records import MAX_CHOICE, STATUSES, Correction, CourseInfo, HistoryEvent, SessionBrief, Source, StudentRef
from .settings import Settings
from .students import student_key

MAX_REASON = 200
MAX_TYPED = 200  # longer input is no student and no session: refused without a query
_MENTION = re.compile(r"<@!?([0-9]{15,22})>")
_SNOWFLAKE = re.compile(r"[0-9]{15,22}")
_TOKEN = re.compile(r"(student|user):(.+)")


class CorrectionError(AttendanceError):
    """A correction refused (the message says why, in one sentence)."""


class UnknownStudent(CorrectionError):
    """Nobody of the course (or server) answers to what was typed."""


class AmbiguousStudent(CorrectionError):
    """What was typed fits several students; `choices` are theirs, for a pick-list."""

    @property
    def choices(self) -> list[StudentRef]:
        return list(self.values["choices"])


class NoSessions(CorrectionError):
    """The course has no session to correct."""


class NoRecord(CorrectionError):
    """A removal of a record that is not there."""


# -- cleaning what is typed -----------------------------------------------------------------------


def clean_status(typed: str) -> str:
    """A Status's word (any case, surrounding spaces); CorrectionError listing them otherwise."""
    value = str(typed).strip().casefold()
    if value not in STATUSES:
        raise CorrectionError("status_invalid", typed=str(typed), statuses=STATUSES)
    return value


def clean_reason(typed: str | None) -> str | None:
    """A reason as stored, None if empty: runs of whitespace (line breaks and tabs included) made
    one space; other control characters, lone surrogates and the bidi embeddings, overrides and
    isolates removed (right-to-left marks and emoji joiners stay: people write with them);
    CorrectionError if it is still longer than MAX_REASON (it is never cut short silently)."""
    if typed is None:
        return None
    kept = "".join(ch for ch in str(typed) if ch.isspace() or not _hidden(ch))
    value = " ".join(kept.split())
    if len(value) > MAX_REASON:
        raise CorrectionError("reason_too_long", limit=MAX_REASON, length=len(value))
    return value or None


def _hidden(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI_CONTROLS


def clean_typed(text: str | None) -> str:
    """What was typed, trimmed, lone surrogates removed (they cannot be stored or sent)."""
    return "".join(ch for ch in str(text or "") if unicodedata.category(ch) != "Cs").strip()


# -- who the students are -------------------------------------------------------------------------


@dataclass
class _Person:
    """A student while the course's students are being gathered."""

    student_key: str | None
    student_id: str | None
    name: str | None
    user_id: int | None
    username: str | None
    on_roster: bool
    discord: str | None = None  # the roster's username column

    def ref(self) -> StudentRef:
        return StudentRef(
            self.student_key, self.user_id, self.student_id, self.name, self.username or self.discord, self.on_roster
        )


class _Students:
    """The students of some courses: their roster entries, the confirmed registrations of their
    servers and the accounts with a record in their sessions, joined by the gradebook's rule."""

    def __init__(self, course_ids: Sequence[int], guild_ids: Sequence[int | None]) -> None:
        self.by_key: dict[str, _Person] = {}
        self.by_user: dict[int, _Person] = {}  # accounts that are no student id's
        self.registered: dict[str, tuple[int, str, str | None]] = {}  # key -> (user_id, student_id, name)
        registered_key: dict[int, str] = {}
        servers = [g for g in guild_ids if g is not None]
        if servers:
            rows = Student.select(Student.student_key, Student.user_id, Student.student_id, Student.name).where(
                Student.guild_id.in_(servers) & (Student.confirmed == True)  # noqa: E712 (a pending claim is nobody's)
            )
            for key, user_id, student_id, name in rows.tuples():
                self.registered[key] = (user_id, student_id, name)
                registered_key[user_id] = key
        by_discord: dict[str, _Person] = {}
        entries = RosterEntry.select(
            RosterEntry.student_key, RosterEntry.student_id, RosterEntry.name, RosterEntry.discord
        )
        for key, student_id, name, discord in entries.where(RosterEntry.course_id.in_(list(course_ids))).tuples():
            if key in self.by_key:
                continue
            user_id = self.registered[key][0] if key in self.registered else None
            person = _Person(key, student_id, name, user_id, None, True, discord)
            self.by_key[key] = person
            if discord:
                by_discord.setdefault(discord.casefold(), person)
        # Each (account, username, student id) once, in the order of its latest record: the latest name wins.
        latest = peewee.fn.MAX(Attendance.submitted_at)
        records = (
            Attendance.select(Attendance.user_id, Attendance.username, Attendance.student_key, latest)
            .join(Session, on=Attendance.session_id == Session.session_id)
            .where(Session.course.in_(list(course_ids)))
            .group_by(Attendance.user_id, Attendance.username, Attendance.student_key)
            .order_by(latest, peewee.fn.MAX(Attendance.id))
        )
        for user_id, username, key, _ in records.tuples():
            if key is None and user_id is not None:
                key = registered_key.get(user_id)
            if key is not None:
                person = self.by_key.get(key) or self._registered_person(key)
                if person.user_id is None:
                    person.user_id = user_id
            elif user_id is None:
                continue
            elif username and username.casefold() in by_discord:
                person = by_discord[username.casefold()]
                if person.student_key not in self.registered:
                    person.user_id = user_id  # the account that used the roster's username last
            else:
                person = self.by_user.setdefault(user_id, _Person(None, None, None, user_id, None, False))
            if user_id is not None and person.user_id == user_id:
                if username:
                    person.username = username  # the latest name wins
                if person is not self.by_user.get(user_id):
                    self.by_user.pop(user_id, None)  # its earlier records were this student's too

    def _registered_person(self, key: str) -> _Person:
        """A student known by a registration (or only by a manual record's key) but not on the roster."""
        user_id, student_id, name = self.registered.get(key, (None, key, None))
        person = _Person(key, student_id, name, user_id, None, False)
        self.by_key[key] = person
        return person

    def everyone(self) -> list[_Person]:
        people = [*self.by_key.values(), *self.by_user.values()]
        return sorted(people, key=lambda p: (not p.on_roster, (p.student_id or "").casefold(), p.username or ""))

    def by_student_id(self, typed: str) -> list[_Person]:
        """The student with this id on the courses' rosters or in their records (a registration
        elsewhere in the server does not make anyone a student of these courses)."""
        key = student_key(typed)
        return [self.by_key[key]] if key in self.by_key else []

    def by_account(self, user_id: int, *, unseen: bool = True) -> list[_Person]:
        """The student of a Discord account; with unseen=True an account the courses do not know
        yet is its registration in the server, else itself (what a mark of a newcomer needs)."""
        found = [p for p in self.everyone() if p.user_id == user_id]
        if found or not unseen:
            return found
        for key, (registered_user, _, _) in self.registered.items():
            if registered_user == user_id:
                return [self.by_key.get(key) or self._registered_person(key)]
        return [_Person(None, None, None, user_id, None, False)]

    def by_username(self, typed: str) -> list[_Person]:
        name = typed.removeprefix("@").strip().casefold()
        if not name:
            return []
        return [p for p in self.everyone() if name in {(p.username or "").casefold(), (p.discord or "").casefold()}]

    def by_name(self, typed: str) -> list[_Person]:
        name = " ".join(typed.split()).casefold()
        return [p for p in self.everyone() if p.name and " ".join(p.name.split()).casefold() == name]


# -- the service ----------------------------------------------------------------------------------


class CorrectionService:
    """Corrections, their autocomplete and a student's history over the models; holds settings and a clock."""

    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.courses = CourseService(settings, clock)

    # -- students ---------------------------------------------------------------------------

    def students_matching(self, course_id: int, typed: str) -> list[StudentRef]:
        """The course's students whose student id, name, Discord username or account id contains
        what is typed (any case), those it starts first, roster students before the rest; only
        those whose value fits an autocomplete choice (choices.py makes the pick-list)."""
        course = self.courses.get(course_id)
        needle = clean_typed(typed).removeprefix("@").casefold()
        if len(needle) > MAX_TYPED:
            return []
        people = _Students([course.id], [course.guild_id]).everyone()
        found = [p for p in people if not needle or any(needle in field for field in _fields(p))]
        found.sort(key=lambda p: not any(field.startswith(needle) for field in _fields(p)))
        return [ref for ref in (p.ref() for p in found) if len(ref.value) <= MAX_CHOICE]

    def resolve_student(
        self,
        course_id: int | None,
        guild_id: int | None,
        typed: str,
        *,
        strangers: bool = False,
        everywhere: bool = False,
    ) -> StudentRef:
        """Who `typed` is among a course's students (course_id None: every course of the server, or
        with everywhere=True every course of the database, as the shell, which has no server, asks):
        an autocomplete value, a mention, `@username`, or else the first that fits of a student id
        (any case), a Discord account id, a username, a full name.

        A course's students are its roster and the accounts with records in its sessions: anyone
        else is as unknown as an id nobody has, so nothing is said about them. With strangers=True
        (a mark: an instructor may mark a student who never checked in) a Discord account id or
        mention the course does not know is that account. UnknownStudent when nobody fits,
        AmbiguousStudent when several do (a username two accounts used, a name two students
        share): one sentence each.
        """
        course_ids, guild_ids, scope = self._scope(course_id, guild_id, everywhere)
        text = clean_typed(typed)
        if not text or len(text) > MAX_TYPED:
            raise UnknownStudent("student_unknown", typed=text, course_name=scope)
        students = _Students(course_ids, guild_ids)
        token = _TOKEN.fullmatch(text)
        mention = _MENTION.fullmatch(text)
        account = int(text) if _SNOWFLAKE.fullmatch(text) else None
        if token and token.group(1) == "student":
            found = students.by_student_id(token.group(2))
        elif token and _SNOWFLAKE.fullmatch(token.group(2)):
            found = students.by_account(int(token.group(2)), unseen=strangers)
        elif mention:
            found = students.by_account(int(mention.group(1)), unseen=strangers)
        elif text.startswith("@"):
            found = students.by_username(text)
        else:  # the first that fits: a student id, an account, a username, a full name, a new account
            found = (
                students.by_student_id(text)
                or (students.by_account(account, unseen=False) if account is not None else [])
                or students.by_username(text)
                or students.by_name(text)
                or (students.by_account(account) if account is not None and strangers else [])
            )
        if not found:
            raise UnknownStudent("student_unknown", typed=text, course_name=scope)
        if len(found) > 1:
            raise AmbiguousStudent("student_ambiguous_among", typed=text, choices=[p.ref() for p in found])
        return found[0].ref()

    def _scope(
        self, course_id: int | None, guild_id: int | None, everywhere: bool = False
    ) -> tuple[list[int], list[int | None], str | None]:
        """The courses to look in, their servers, and the course's name (None: the server's courses,
        or every course of the database with everywhere=True).

        A course of another server is as unknown as no course: nothing crosses servers.
        """
        if course_id is None:
            query = Course.select(Course.id, Course.guild_id)
            if not everywhere:
                query = query.where(_same_guild(Course.guild_id, guild_id))
            rows = list(query.tuples())
            servers = list(dict.fromkeys(g for _, g in rows)) if everywhere else [guild_id]
            return [i for i, _ in rows], servers, None
        course = self.courses.get(course_id)
        if guild_id is not None and course.guild_id is not None and course.guild_id != guild_id:
            raise UnknownCourse("unknown_course", name=str(course_id), names=[])
        return [course.id], [course.guild_id], course.name

    # -- sessions ---------------------------------------------------------------------------

    def sessions_newest_first(self, course_id: int) -> list[SessionBrief]:
        """The course's sessions, newest first, those whose id fits an autocomplete choice (an
        imported id Discord cannot carry is typed instead); choices.py makes the pick-list."""
        course = self.courses.get(course_id)
        rows = Session.select().where(Session.course == course.id).order_by(Session.opened_at.desc(), Session.id.desc())
        return [
            SessionBrief(row.session_id, row.opened_at, row.closed_at)
            for row in rows
            if len(row.session_id) <= MAX_CHOICE
        ]

    def default_session(self, course_id: int) -> str:
        """The session a correction means when none is named: the open one, else the latest."""
        course = self.courses.get(course_id)
        return self._default_row(course).session_id

    def _default_row(self, course: CourseInfo) -> Session:
        row = storage.find_open_session(course.id)
        if row is None:
            row = Session.select().where(Session.course == course.id).order_by(Session.opened_at.desc()).first()
        if row is None:
            raise NoSessions("no_sessions_to_correct", course_name=course.name)
        return row

    def _session_row(self, course: CourseInfo, session_id: str | None) -> Session:
        """A session of this course (another course's id is as unknown as none), else the default."""
        if session_id is None:
            return self._default_row(course)
        typed = clean_typed(session_id)
        row = None
        if typed and len(typed) <= MAX_TYPED and "\x00" not in typed:  # NUL is in no id (PostgreSQL refuses it)
            row = Session.select().where((Session.session_id == typed) & (Session.course == course.id)).first()
        if row is None:
            recent_rows = Session.select(Session.session_id).where(Session.course == course.id)
            recent = [r.session_id for r in recent_rows.order_by(Session.opened_at.desc()).limit(RECENT_SESSIONS)]
            raise UnknownSession("unknown_session", session_id=typed, recent=recent)
        return row

    # -- marks and removals -----------------------------------------------------------------

    def mark(
        self,
        course_id: int,
        student: StudentRef | str,
        status: str,
        session_id: str | None = None,
        reason: str | None = None,
        *,
        actor: str,
    ) -> Correction:
        """Set a student's status in a session of the course (default: the open one, else the
        latest; closed sessions too), with source 'manual' so a later check-in does not replace
        it, and its "mark" event, in one transaction. A mark of the manual status already there
        changes nothing and writes no event (`changed` False)."""
        new = clean_status(status)
        why = clean_reason(reason)
        course = self.courses.get(course_id)
        who = (
            student
            if isinstance(student, StudentRef)
            else self.resolve_student(course.id, course.guild_id, student, strangers=True)
        )
        now = self.clock()
        try:
            with storage.immediate():
                row = self._session_row(course, session_id)
                records = _records(row.session_id, who)
                kept = records[0] if records else None
                old = kept.status if kept is not None else None
                if kept is not None and len(records) == 1 and kept.source == Source.MANUAL and old == new:
                    return Correction(
                        course.id, course.name, row.session_id, row.closed_at is not None, who, old, new, why, False
                    )
                username = who.username or (kept.username if kept is not None else "") or ""
                storage.delete_records([r.id for r in records[1:]])
                if kept is None:
                    utc = now.astimezone(timezone.utc)
                    storage.insert_manual_record(
                        user_id=who.user_id,
                        username=username,
                        timestamp=utc.strftime("%Y-%m-%d %H:%M:%S"),
                        date_id=utc.strftime("%Y-%m-%d"),
                        session_id=row.session_id,
                        display_name=None,
                        submitted_at=now,
                        status=new,
                        source=Source.MANUAL,
                        student_key=who.student_key,
                    )
                else:
                    fields: dict[str, object] = {"status": new, "source": Source.MANUAL}
                    if who.student_key is not None:
                        fields["student_key"] = who.student_key
                    if who.user_id is not None:
                        fields["user_id"] = who.user_id
                    if not kept.username and username:
                        fields["username"] = username
                    storage.update_record(kept.id, **fields)
                self._event(course, row.session_id, who, now, actor, "mark", old, new, why)
        except peewee.DatabaseError as exc:
            raise storage.failure("correcting the record", exc) from exc
        return Correction(course.id, course.name, row.session_id, row.closed_at is not None, who, old, new, why, True)

    def remove(
        self,
        course_id: int,
        student: StudentRef | str,
        session_id: str | None,
        reason: str | None = None,
        *,
        actor: str,
    ) -> Correction:
        """Delete a student's record in a session of the course, with its "remove" event (old
        status -> none), in one transaction; NoRecord if there is none."""
        why = clean_reason(reason)
        course = self.courses.get(course_id)
        who = student if isinstance(student, StudentRef) else self.resolve_student(course.id, course.guild_id, student)
        now = self.clock()
        try:
            with storage.immediate():
                row = self._session_row(course, session_id)
                records = _records(row.session_id, who)
                if not records:
                    raise NoRecord("no_record_of_student", student=who, session_id=row.session_id)
                old = records[0].status
                storage.delete_records([r.id for r in records])
                self._event(course, row.session_id, who, now, actor, "remove", old, None, why)
        except peewee.DatabaseError as exc:
            raise storage.failure("removing the record", exc) from exc
        return Correction(course.id, course.name, row.session_id, row.closed_at is not None, who, old, None, why, True)

    def _event(
        self,
        course: CourseInfo,
        session_id: str,
        who: StudentRef,
        now: datetime,
        actor: str,
        action: str,
        old: str | None,
        new: str | None,
        reason: str | None,
    ) -> None:
        storage.add_event(
            at=now,
            course_id=course.id,
            session_id=session_id,
            guild_id=course.guild_id,
            user_id=who.user_id,
            student_id=who.student_id,
            actor=actor,
            action=action,
            old_status=old,
            new_status=new,
            reason=reason,
            source=Source.MANUAL,
        )

    # -- history ----------------------------------------------------------------------------

    def history(
        self, guild_id: int | None, student: StudentRef | str, course_id: int | None = None, *, everywhere: bool = False
    ) -> list[HistoryEvent]:
        """A student's events, oldest first: their registrations in the server, and the events of
        the server's courses (or of the course given; with everywhere=True, of every course of the
        database and their servers) that name their account or student id."""
        course_ids, guild_ids, _ = self._scope(course_id, guild_id, everywhere)
        who = (
            student
            if isinstance(student, StudentRef)
            else self.resolve_student(course_id, guild_id, student, everywhere=everywhere)
        )
        whose = []
        if who.user_id is not None:
            whose.append(Event.user_id == who.user_id)
        if who.student_key is not None:
            whose.append(peewee.fn.LOWER(Event.student_id) == who.student_key)
        if not whose:
            return []
        server_wide = Event.course_id.is_null() & functools.reduce(
            operator.or_, [_same_guild(Event.guild_id, g) for g in guild_ids] or [peewee.SQL("1 = 0")]
        )
        query = (
            Event.select()
            .where((Event.course_id.in_(course_ids) | server_wide) & functools.reduce(operator.or_, whose))
            .order_by(Event.at, Event.id)
        )
        names = dict(Course.select(Course.id, Course.name).where(Course.id.in_(course_ids)).tuples())
        return [
            HistoryEvent(
                at=e.at,
                action=e.action,
                course_id=e.course_id,
                course_name=names.get(e.course_id),
                session_id=e.session_id,
                old_status=e.old_status,
                new_status=e.new_status,
                reason=e.reason,
                actor=e.actor,
                source=e.source,
                student_id=e.student_id,
                user_id=e.user_id,
            )
            for e in query
        ]


def _fields(person: _Person) -> list[str]:
    """What a student is found by as one types: student id, name, usernames, account id (folded)."""
    values = (person.student_id, person.name, person.username, person.discord, person.user_id)
    return [str(v).casefold() for v in values if v is not None]


def _same_guild(field: peewee.Field, guild_id: int | None) -> peewee.Expression:
    return field.is_null() if guild_id is None else field == guild_id


def _records(session_id: str, who: StudentRef) -> list[Attendance]:
    """The student's records in a session: by account and by student id (two when a mark of a
    roster student was made before their account was linked). The one kept first: a manual one
    (a manual status stands), else the account's."""
    match = []
    if who.user_id is not None:
        match.append(Attendance.user_id == who.user_id)
    if who.student_key is not None:
        match.append(Attendance.student_key == who.student_key)
    if not match:
        return []
    condition = match[0] if len(match) == 1 else match[0] | match[1]
    rows = list(Attendance.select().where((Attendance.session_id == session_id) & condition).order_by(Attendance.id))
    return sorted(rows, key=lambda r: (r.source != Source.MANUAL, r.user_id is None))


__all__ = [
    "MAX_REASON",
    "STATUSES",
    "AmbiguousStudent",
    "CorrectionError",
    "CorrectionService",
    "NoRecord",
    "NoSessions",
    "UnknownStudent",
    "clean_reason",
    "clean_status",
]
