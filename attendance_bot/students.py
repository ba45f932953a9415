"""Students: a Discord account's student id in a server (`/register`, `/attendance link`), claims
waiting for an instructor, and the rules for ids and names.

A registration is confirmed, or a pending claim that counts for nobody's record. `/register` is
confirmed at once only where a roster of the server names the account's username for that id (its
`discord` column); a roster naming another username refuses it; anything else waits for an
instructor's `/attendance link`. An id is held by one account of a server, confirmed or pending.
Every change and its event are written in one transaction; events are never updated or deleted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import peewee

from . import storage
from .clock import Clock, utc_now
from .errors import AttendanceError
from .models import Attendance, Course, RosterEntry, Session, Student
from .records import CourseInfo, Source

MAX_STUDENT_ID = 32
MAX_NAME = 100
_STUDENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,%d}$" % MAX_STUDENT_ID)


class StudentError(AttendanceError):
    """A registration refused (the message says why, never who holds an id)."""


@dataclass(frozen=True)
class ClaimConflict:
    """A second account typing an id another account holds: for the instructors, who may be told both."""

    guild_id: int
    student_id: str
    holder_id: int
    holder_confirmed: bool
    claimant_id: int
    course_names: tuple[str, ...]
    admin_channel_ids: tuple[int, ...]


class StudentIdTaken(StudentError):
    """An id another account of the server holds; `conflict` says whose, for the admin channels only
    (the student's sentence names no one)."""

    fields = ("conflict",)

    @property
    def conflict(self) -> ClaimConflict:
        conflict: ClaimConflict = self.values["conflict"]
        return conflict


@dataclass(frozen=True)
class Registration:
    """A Discord account's student id in one server, and whether this replaced an earlier one."""

    guild_id: int
    user_id: int
    student_id: str
    name: str | None
    updated: bool
    confirmed: bool = True


@dataclass(frozen=True)
class Claim:
    """A pending claim of a student id, as an instructor of a course sees it."""

    student_id: str
    user_id: int
    name: str | None  # as the claimant typed it
    roster_name: str | None  # the course roster's name for the id; None if it is on no roster of the course
    claimed_at: datetime


@dataclass(frozen=True)
class Link:
    """An instructor's link of an account to a student id, and the accounts whose registration of it it replaced."""

    course_name: str
    student_id: str
    user_id: int
    replaced: tuple[int, ...]


def student_key(student_id: str) -> str:
    """A student id as compared: case does not count (ids are ASCII letters, digits, '-', '_', '.')."""
    return student_id.strip().casefold()


def clean_student_id(typed: str) -> str:
    """A student id as stored; StudentError naming the characters allowed if it is not one."""
    value = str(typed).strip()
    if not _STUDENT_ID.match(value):
        raise StudentError("student_id_invalid", typed=typed, limit=MAX_STUDENT_ID)
    return value


def clean_name(typed: str | None) -> str | None:
    """A person's name as stored (surrounding and repeated spaces removed), None if not given;
    StudentError if it is longer than MAX_NAME or holds control or formatting characters."""
    if typed is None:
        return None
    value = " ".join(str(typed).split())
    if not value:
        return None
    if len(value) > MAX_NAME or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise StudentError("student_name_invalid", limit=MAX_NAME)
    return value


class StudentService:
    """Registrations and claims over the models; holds a clock (the times of its events), no state."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock

    def register(
        self,
        *,
        guild_id: int,
        user_id: int,
        student_id: str,
        name: str | None = None,
        username: str | None = None,
        actor: str | None = None,
    ) -> Registration:
        """Register a Discord account's student id in a server (again: update it), with its event.

        Confirmed when a roster of the server names `username` (the account's Discord username,
        any case) for that id (a pending claim of the id by another account is then dropped, with
        an event), or when the account already holds that id confirmed. Else a pending claim.
        Refused: a malformed id or name; a server with no course; an id whose roster names another
        username; an id another account holds (StudentIdTaken, whose conflict is for the
        instructors). No refusal says which account holds the id.
        """
        sid, cleaned = clean_student_id(student_id), clean_name(name)
        now = self.clock()
        who = actor or str(user_id)
        try:
            with storage.immediate():
                courses = list(Course.select().where(Course.guild_id == guild_id).order_by(Course.id))
                if not courses:
                    raise StudentError("no_course_in_server_reply")
                key = student_key(sid)
                own = Student.get_or_none((Student.guild_id == guild_id) & (Student.user_id == user_id))
                kept = own is not None and bool(own.confirmed) and own.student_key == key  # an instructor decided
                named = _roster_usernames([c.id for c in courses], key)
                mine = bool(username) and str(username).strip().casefold() in named
                if named and not mine and not kept:
                    raise StudentError("student_id_roster_other")
                holder = Student.get_or_none((Student.guild_id == guild_id) & (Student.student_key == key))
                if holder is not None and holder.user_id != user_id:
                    if not mine or holder.confirmed:
                        raise StudentIdTaken("student_id_taken", conflict=_conflict(courses, key, holder, user_id))
                    _drop(holder, now, who, "claim-dropped", f"the roster names {str(username).strip()} for it")
                confirmed = mine or kept
                row, before = storage.save_student(
                    guild_id=guild_id,
                    user_id=user_id,
                    student_id=sid,
                    student_key=key,
                    name=cleaned,
                    at=now,
                    confirmed=confirmed,
                )
                action = ("register" if before is None else "re-register") if confirmed else "claim"
                storage.add_event(
                    at=now,
                    guild_id=guild_id,
                    user_id=user_id,
                    student_id=sid,
                    actor=who,
                    action=action,
                    reason=None if before is None else f"was {before.student_id}",
                    source=Source.MANUAL,
                )
        except peewee.IntegrityError as exc:  # another process registered the id meanwhile
            raise StudentError("student_id_taken") from exc
        except peewee.DatabaseError as exc:
            raise storage.failure("registering", exc) from exc
        return Registration(guild_id, user_id, row.student_id, row.name, before is not None, confirmed)

    def registration(self, guild_id: int, user_id: int) -> Registration | None:
        """A Discord account's registration in a server (confirmed or a pending claim), or None."""
        row = Student.get_or_none((Student.guild_id == guild_id) & (Student.user_id == user_id))
        if row is None:
            return None
        return Registration(guild_id, user_id, row.student_id, row.name, False, bool(row.confirmed))

    def claims(self, course: CourseInfo) -> list[Claim]:
        """The pending claims a course's instructors settle: of an id on its roster, or by an account
        with a record in its sessions; oldest first."""
        if course.guild_id is None:
            return []
        roster = dict(
            RosterEntry.select(RosterEntry.student_key, RosterEntry.name)
            .where(RosterEntry.course_id == course.id)
            .tuples()
        )
        accounts = (
            Attendance.select(Attendance.user_id)
            .join(Session, on=Attendance.session_id == Session.session_id)
            .where((Session.course == course.id) & Attendance.user_id.is_null(False))
        )
        pending = (
            Student.select()
            .where((Student.guild_id == course.guild_id) & (Student.confirmed == False))  # noqa: E712
            .where(Student.student_key.in_(list(roster)) | Student.user_id.in_(accounts))
            .order_by(Student.registered_at, Student.id)
        )
        return [Claim(r.student_id, r.user_id, r.name, roster.get(r.student_key), r.registered_at) for r in pending]

    def link(self, course: CourseInfo, student_id: str, user_id: int, *, actor: str) -> Link:
        """An instructor confirms `user_id` for a student id of the course (on its roster, or claimed
        by someone with a record in its sessions), replacing any other account's registration of
        that id in the course's server; an "unlink" event for each replaced, a "link" event for it."""
        typed = str(student_id).strip()
        try:
            key = student_key(clean_student_id(typed))
        except StudentError:  # no id at all (a NUL, a space, 6,000 characters): nobody of the course
            raise StudentError("link_unknown_student", typed=typed, course_name=course.name) from None
        now = self.clock()
        guild_id = course.guild_id
        try:
            with storage.immediate():
                entry = RosterEntry.get_or_none((RosterEntry.course_id == course.id) & (RosterEntry.student_key == key))
                claimed = next((c for c in self.claims(course) if student_key(c.student_id) == key), None)
                if guild_id is None or (entry is None and claimed is None):
                    raise StudentError("link_unknown_student", typed=typed, course_name=course.name)
                sid = entry.student_id if entry is not None else claimed.student_id  # type: ignore[union-attr]
                others = Student.select().where(
                    (Student.guild_id == guild_id) & (Student.student_key == key) & (Student.user_id != user_id)
                )
                replaced: list[int] = []
                for other in others:
                    _drop(other, now, actor, "unlink", f"{course.name}: linked to account {user_id}")
                    replaced.append(other.user_id)
                own = Student.get_or_none((Student.guild_id == guild_id) & (Student.user_id == user_id))
                name = own.name if own is not None and own.student_key == key else None
                if name is None and entry is not None:
                    name = entry.name
                _, before = storage.save_student(
                    guild_id=guild_id, user_id=user_id, student_id=sid, student_key=key, name=name, at=now
                )
                storage.add_event(
                    at=now,
                    guild_id=guild_id,
                    user_id=user_id,
                    student_id=sid,
                    actor=actor,
                    action="link",
                    reason=None if before is None else f"{course.name}: was {before.student_id}",
                    source=Source.MANUAL,
                )
        except peewee.DatabaseError as exc:
            raise storage.failure("linking the account", exc) from exc
        return Link(course.name, sid, user_id, tuple(replaced))


def _roster_usernames(course_ids: list[int], key: str) -> set[str]:
    """The Discord usernames (folded) the rosters of these courses give the id."""
    rows = RosterEntry.select(RosterEntry.discord).where(
        RosterEntry.course_id.in_(course_ids) & (RosterEntry.student_key == key)
    )
    return {discord.strip().casefold() for (discord,) in rows.tuples() if discord and discord.strip()}


def _conflict(courses: list[Course], key: str, holder: Student, claimant: int) -> ClaimConflict:
    """Who to tell of a second claim: the courses whose roster holds the id, else every course of the server."""
    on_roster = {
        course_id
        for (course_id,) in RosterEntry.select(RosterEntry.course_id)
        .where(RosterEntry.course_id.in_([c.id for c in courses]) & (RosterEntry.student_key == key))
        .tuples()
    }
    told = [c for c in courses if c.id in on_roster] or [c for c in courses if c.archived_at is None]
    channels = tuple(dict.fromkeys(c.admin_channel_id for c in told if c.admin_channel_id is not None))
    return ClaimConflict(
        holder.guild_id,
        holder.student_id,
        holder.user_id,
        bool(holder.confirmed),
        claimant,
        tuple(c.name for c in told),
        channels,
    )


def _drop(row: Student, at: datetime, actor: str, action: str, reason: str) -> None:
    """Delete an account's registration of an id, with the event that says why (inside the caller's transaction)."""
    storage.delete_student(row.id)
    storage.add_event(
        at=at,
        guild_id=row.guild_id,
        user_id=row.user_id,
        student_id=row.student_id,
        actor=actor,
        action=action,
        reason=reason,
        source=Source.MANUAL,
    )
