"""Moving from the seed bot: the plan of what its database (read by seedfile.py) brings into a
course, and the import in short transactions with an event per record and registration.

What is already in the course (sessions, records, registrations) is left as it is, so a second
import of the same file changes nothing. The import writes SEED_CHUNK records (or registrations)
per transaction, each with its events, so a running bot's check-ins wait for one chunk at most; a
run that was interrupted is finished by running it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee

from . import codes, storage
from .clock import Clock, utc_now
from .courses import CourseService
from .models import Attendance, Course, Session, Student
from .records import CourseInfo, Source, Status
from .roster import clean_roster_name
from .seedfile import (
    MAX_SEED_ROWS as MAX_SEED_ROWS,
)
from .seedfile import (
    MAX_SEED_SECONDS as MAX_SEED_SECONDS,
)
from .seedfile import (
    SeedError,
    SeedFile,
    SeedRecord,
    SeedRegistration,
)
from .seedfile import (
    read_seed as read_seed,
)
from .settings import Settings
from .students import StudentError, clean_student_id, student_key

ACTOR = "import-seed"
ACTION = "import-seed"
_CHUNK = 500  # ids per IN (...) of a read
SEED_CHUNK = 1_000  # records (or registrations) written per transaction: the write lock is held that long

# Why a registration of the seed file is not brought in (the keys of SeedReport.skipped).
SKIP_INVALID_ID = "invalid id"
SKIP_ID_TAKEN = "id taken"
SKIP_OTHER_ID = "other id"
SKIP_NO_SERVER = "no server"


@dataclass(frozen=True)
class NewSession:
    """A seed session the course does not have yet: a closed session from its first to its last record."""

    session_id: str
    opened_at: datetime
    closed_at: datetime


@dataclass(frozen=True)
class NewRegistration:
    """A seed registration that will be written."""

    user_id: int
    student_id: str
    key: str
    name: str | None
    registered_at: datetime | None


@dataclass
class SeedPlan:
    """What an import of a seed file into a course will write, and what it leaves as it is."""

    sessions: list[NewSession] = field(default_factory=list)
    records: list[SeedRecord] = field(default_factory=list)
    records_there: int = 0
    registrations: list[NewRegistration] = field(default_factory=list)
    registrations_there: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    names_left_out: int = 0


@dataclass(frozen=True)
class SeedReport:
    """What an import did (the counts the shell prints)."""

    sessions_created: int
    records_imported: int
    records_there: int
    duplicates: int
    registrations_imported: int
    registrations_there: int
    skipped: tuple[tuple[str, int], ...]  # (reason key, how many), in a fixed order
    names_left_out: int

    @property
    def changed(self) -> bool:
        return bool(self.sessions_created or self.records_imported or self.registrations_imported)


# -- the plan -------------------------------------------------------------------------------------


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _spans(records: Iterable[SeedRecord]) -> dict[str, tuple[datetime, datetime]]:
    """Each seed session's first and last record time: the times of a session the import creates."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for record in records:
        first, last = spans.get(record.session_id, (record.at, record.at))
        spans[record.session_id] = (min(first, record.at), max(last, record.at))
    return spans


def check_sessions(course: CourseInfo, session_ids: Sequence[str]) -> dict[str, int | None]:
    """The course of each of these session ids the database has; SeedError if one is another course's."""
    existing: dict[str, int | None] = {}
    for chunk in _chunks(sorted(session_ids)):
        query = Session.select(Session.session_id, Session.course).where(Session.session_id.in_(list(chunk)))
        existing.update(query.tuples())
    for session_id, owner in sorted(existing.items()):
        if owner != course.id:
            other = Course.get_or_none(Course.id == owner) if owner is not None else None
            raise SeedError(
                "seed_session_of_another_course", session_id=session_id, course_name=other.name if other else None
            )
    return existing


def plan_records(
    course: CourseInfo, records: Sequence[SeedRecord], spans: dict[str, tuple[datetime, datetime]]
) -> SeedPlan:
    """What importing these records into `course` writes (their sessions the course lacks, the records
    not there yet), read from the database now: call it inside the chunk's transaction."""
    plan = SeedPlan()
    session_ids = sorted({r.session_id for r in records})
    existing = check_sessions(course, session_ids)
    plan.sessions = [NewSession(sid, *spans[sid]) for sid in session_ids if sid not in existing]
    there: set[tuple[int | None, str]] = set()
    users = sorted({r.user_id for r in records})
    for chunk in _chunks(session_ids):
        for accounts in _chunks(users):  # these accounts only: a chunk never reads a whole large session
            query = Attendance.select(Attendance.user_id, Attendance.session_id).where(
                Attendance.session_id.in_(list(chunk)) & Attendance.user_id.in_(list(accounts))
            )
            there.update(query.tuples())
    for record in records:
        if (record.user_id, record.session_id) in there:
            plan.records_there += 1
        else:
            plan.records.append(record)
    return plan


def plan_registrations(course: CourseInfo, registrations: Sequence[SeedRegistration]) -> SeedPlan:
    """What importing these registrations into the course's server writes, and what it skips (why),
    read from the database now: call it inside the chunk's transaction."""
    plan = SeedPlan()
    if course.guild_id is None:
        plan.skipped[SKIP_NO_SERVER] += len(registrations)
        return plan
    by_user: dict[int, str] = {}
    by_key: dict[str, int] = {}
    users = sorted({r.user_id for r in registrations})
    for chunk in _chunks(users):
        query = Student.select(Student.user_id, Student.student_key).where(
            (Student.guild_id == course.guild_id) & Student.user_id.in_(list(chunk))
        )
        by_user.update(query.tuples())
    keys: set[str] = set()
    cleaned: list[tuple[SeedRegistration, str | None]] = []
    for registration in registrations:
        try:
            sid = clean_student_id(registration.student_id or "")
        except StudentError:
            sid = None
        cleaned.append((registration, sid))
        if sid is not None:
            keys.add(student_key(sid))
    for chunk in _chunks(sorted(keys)):
        query = Student.select(Student.student_key, Student.user_id).where(
            (Student.guild_id == course.guild_id) & Student.student_key.in_(list(chunk))
        )
        by_key.update(query.tuples())
    for registration, sid in cleaned:
        if sid is None:
            plan.skipped[SKIP_INVALID_ID] += 1
            continue
        key = student_key(sid)
        held_by = by_key.get(key)
        has = by_user.get(registration.user_id)
        if has == key and held_by == registration.user_id:
            plan.registrations_there += 1
        elif held_by is not None and held_by != registration.user_id:
            plan.skipped[SKIP_ID_TAKEN] += 1
        elif has is not None:
            plan.skipped[SKIP_OTHER_ID] += 1
        else:
            typed = (registration.name or "").strip()
            name = clean_roster_name(typed) if typed else None
            if typed and name is None:  # a control character or a line break, or over 100 characters
                plan.names_left_out += 1
            plan.registrations.append(NewRegistration(registration.user_id, sid, key, name, registration.registered_at))
            by_key[key] = registration.user_id  # a later row of the file with this id or account is a conflict
            by_user[registration.user_id] = key
    return plan


# -- the import -----------------------------------------------------------------------------------


class SeedImportService:
    """Imports a seed database into a course; holds settings and a clock, no state."""

    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.courses = CourseService(settings, clock)

    def import_seed(self, course_id: int, seed: SeedFile) -> SeedReport:
        """Bring a seed file's registrations, then its sessions and records into a course, each with
        its event, SEED_CHUNK at a time, each chunk in a transaction of its own: a failure keeps the
        chunks written before it, and running the import again brings in the rest (what is there
        already stays as it is). A seed session of another course refuses the file before any write."""
        course = self.courses.get(course_id)
        now = self.clock()
        done = SeedPlan()
        records = sorted(seed.records, key=lambda r: (r.session_id, r.user_id))
        spans = _spans(records)
        try:
            check_sessions(course, list(spans))
            late_after = Course.get_by_id(course.id).late_after
            for start in range(0, len(seed.registrations), SEED_CHUNK):
                with storage.immediate():
                    plan = plan_registrations(course, seed.registrations[start : start + SEED_CHUNK])
                    self._write(course, plan, late_after, now)
                _add(done, plan)
            for start in range(0, len(records), SEED_CHUNK):
                with storage.immediate():
                    plan = plan_records(course, records[start : start + SEED_CHUNK], spans)
                    self._write(course, plan, late_after, now)
                _add(done, plan)
        except peewee.DatabaseError as exc:
            raise storage.failure("importing the seed database", exc) from exc
        order = (SKIP_ID_TAKEN, SKIP_OTHER_ID, SKIP_INVALID_ID, SKIP_NO_SERVER)
        return SeedReport(
            sessions_created=len(done.sessions),
            records_imported=len(done.records),
            records_there=done.records_there,
            duplicates=seed.duplicates,
            registrations_imported=len(done.registrations),
            registrations_there=done.registrations_there,
            skipped=tuple((reason, done.skipped[reason]) for reason in order if done.skipped[reason]),
            names_left_out=done.names_left_out,
        )

    def _write(self, course: CourseInfo, plan: SeedPlan, late_after: int | None, now: datetime) -> None:
        """A chunk's plan written, with its events (inside the chunk's transaction)."""
        storage.insert_seed_sessions(
            [
                {
                    "session_id": s.session_id,
                    "secret": codes.new_secret(),
                    "interval": course.interval,
                    "code_length": course.code_length,
                    "grace_seconds": course.grace_seconds,
                    "opened_at": s.opened_at,
                    "closed_at": s.closed_at,
                    "open_flag": None,
                    "opened_by": ACTOR,
                    "guild_id": course.guild_id,
                    "course": course.id,
                    "late_after": late_after,
                }
                for s in plan.sessions
            ]
        )
        storage.insert_seed_records([_record_row(r) for r in plan.records])
        storage.insert_seed_registrations(
            [
                {
                    "guild_id": course.guild_id,
                    "user_id": r.user_id,
                    "student_id": r.student_id,
                    "student_key": r.key,
                    "name": r.name,
                    "registered_at": r.registered_at or now,
                }
                for r in plan.registrations
            ]
        )
        storage.insert_seed_events(self._events(course, plan, now))

    def _events(self, course: CourseInfo, plan: SeedPlan, now: datetime) -> list[dict[str, object]]:
        """One event per record and per registration brought in; a record's names the account's
        student id in the course's server, where it has one (after this import)."""
        registered: dict[int, str] = {}
        if course.guild_id is not None and plan.records:
            users = sorted({r.user_id for r in plan.records})
            for chunk in _chunks(users):
                query = Student.select(Student.user_id, Student.student_id).where(
                    (Student.guild_id == course.guild_id) & Student.user_id.in_(list(chunk))
                )
                registered.update(query.tuples())
        registered.update({r.user_id: r.student_id for r in plan.registrations})
        common = {"at": now, "course_id": course.id, "guild_id": course.guild_id, "actor": ACTOR, "action": ACTION}
        events: list[dict[str, object]] = [
            {
                **common,
                "session_id": None,
                "user_id": r.user_id,
                "student_id": r.student_id,
                "old_status": None,
                "new_status": None,
                "reason": "seed registration",
                "source": Source.MANUAL,
            }
            for r in plan.registrations
        ]
        events.extend(
            {
                **common,
                "session_id": r.session_id,
                "user_id": r.user_id,
                "student_id": registered.get(r.user_id),
                "old_status": None,
                "new_status": r.status,
                "reason": f"seed row {r.row_id}",
                "source": _source(r.status),
            }
            for r in plan.records
        )
        return events


def _add(done: SeedPlan, plan: SeedPlan) -> None:
    """A chunk's plan added to the import's totals."""
    done.sessions.extend(plan.sessions)
    done.records.extend(plan.records)
    done.records_there += plan.records_there
    done.registrations.extend(plan.registrations)
    done.registrations_there += plan.registrations_there
    done.skipped.update(plan.skipped)
    done.names_left_out += plan.names_left_out


def _source(status: str) -> str:
    """The source an imported record of `status` gets: `code` for one a check-in gives (present,
    late), else `manual` (an instructor set excused and absent)."""
    return Source.CODE if Status(status).by_code else Source.MANUAL


def _record_row(record: SeedRecord) -> dict[str, object]:
    return {
        "user_id": record.user_id,
        "username": record.username,
        "timestamp": record.at.strftime("%Y-%m-%d %H:%M:%S"),
        "date_id": record.at.strftime("%Y-%m-%d"),
        "session_id": record.session_id,
        "submitted_at": record.at,
        "status": record.status,
        "source": _source(record.status),
    }
