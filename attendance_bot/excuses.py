"""Excuse requests: a student asks to be excused from one of their sessions, with a reason (text
only: no document is stored); a course's instructor approves (the student's status in that session
becomes `excused`, by the same path as `/attendance mark`, with the student's reason) or denies it.
The request and the decision are events of the audit trail, each written in the transaction of its
change; the student is left a note of the outcome (warnings.py shows it once)."""

from __future__ import annotations

import dataclasses
import logging

import peewee

from . import storage
from .clock import Clock
from .corrections import CorrectionService, clean_reason
from .courses import CourseService
from .errors import AttendanceError, Notice
from .gradebook import GradebookService
from .models import ExcuseRequest, Session
from .records import Decision, ExcuseInfo, SessionStatus, Source, Status, StudentAttendance
from .settings import Settings
from .warnings import leave_notice

log = logging.getLogger(__name__)

# The events of a request's life, in the `event` table's `action`; a request is the student's own.
REQUEST_EVENT = "excuse-request"
DECISION_EVENTS = {Decision.APPROVED: "excuse-approved", Decision.DENIED: "excuse-denied"}
REQUEST_SOURCE = "student"


class ExcuseError(AttendanceError):
    """An excuse request or decision refused (the sentence says why)."""


class ExcuseService:
    """Students' excuse requests and instructors' decisions; holds settings, a clock and the
    corrections (an approval is a mark) and gradebook (a student's own sessions) services."""

    def __init__(
        self, settings: Settings, clock: Clock, corrections: CorrectionService, gradebook: GradebookService
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.corrections = corrections
        self.gradebook = gradebook
        self.courses = CourseService(settings, clock)

    # -- a student's sessions ---------------------------------------------------------------

    def own_sessions(
        self, guild_id: int, user_id: int, username: str | None = None
    ) -> list[tuple[StudentAttendance, SessionStatus]]:
        """The sessions a student may ask to be excused from: theirs in the server's courses (every
        session of a course whose roster has them; the ones with their record otherwise), newest
        first, those they are excused from already left out."""
        found = [
            (course, one)
            for course in self.gradebook.student_attendance(guild_id, user_id, username=username)
            for one in course.sessions
            if one.status != Status.EXCUSED
        ]
        found.sort(key=lambda pair: pair[1].session.opened_at, reverse=True)
        return found

    # -- requests ---------------------------------------------------------------------------

    def request(self, *, guild_id: int, user_id: int, username: str, session_id: str, reason: str) -> ExcuseInfo:
        """A student's request to be excused from one of their sessions, with its event; ExcuseError
        for a session that is not theirs, an empty reason, or a second request about one session."""
        why = clean_reason(reason)
        if not why:
            raise ExcuseError("excuse_reason_needed")
        typed = str(session_id).strip()
        mine = self.gradebook.student_attendance(guild_id, user_id, username=username)
        found = next(
            ((course, one) for course in mine for one in course.sessions if one.session.session_id == typed), None
        )
        if found is None:
            raise ExcuseError("excuse_session_not_yours", session_id=typed)
        course, one = found
        if one.status == Status.EXCUSED:
            raise ExcuseError("excuse_already_excused", session_id=typed)
        info = self.courses.get(course.course_id)
        now = self.clock()
        try:
            with storage.immediate():
                earlier = storage.excuse_request_of(typed, user_id)
                if earlier is not None:
                    raise ExcuseError("excuse_already_asked", session_id=typed, decision=earlier.decision)
                row = storage.add_excuse_request(
                    course_id=info.id,
                    guild_id=guild_id,
                    session_id=typed,
                    user_id=user_id,
                    username=username,
                    reason=why,
                    status=one.status,
                    requested_at=now,
                )
                storage.add_event(
                    at=now,
                    course_id=info.id,
                    session_id=typed,
                    guild_id=guild_id,
                    user_id=user_id,
                    student_id=course.student.student_id,
                    actor=username,
                    action=REQUEST_EVENT,
                    old_status=one.status,
                    new_status=Status.EXCUSED.value,
                    reason=why,
                    source=REQUEST_SOURCE,
                )
        except peewee.IntegrityError as exc:  # another process took the same request meanwhile
            raise ExcuseError("excuse_already_asked", session_id=typed, decision=None) from exc
        except peewee.DatabaseError as exc:
            raise storage.failure("recording your request", exc) from exc
        log.info("Excuse request %d of %s for session %s", row.id, user_id, typed)
        return self._info(row, student_id=course.student.student_id)

    def record_message(self, request_id: int, channel_id: int, message_id: int) -> None:
        """Remember where the request was posted for the instructors."""
        with storage.immediate():
            storage.record_excuse_message(request_id, channel_id, message_id)

    def get(self, request_id: int, guild_id: int | None) -> ExcuseInfo:
        """A request by id, of a course of this server (ExcuseError otherwise: nothing crosses servers)."""
        row = storage.excuse_request(request_id)
        if row is None or (guild_id is not None and row.guild_id != guild_id):
            raise ExcuseError("excuse_unknown")
        return self._info(row)

    # -- decisions --------------------------------------------------------------------------

    def decide(self, request_id: int, approve: bool, *, guild_id: int | None, actor: str) -> ExcuseInfo:
        """An instructor's decision (the caller checked they instruct the course), with its event and
        the student's note, in one transaction; an approval marks the student `excused` in the session
        with their reason, as `/attendance mark` does. ExcuseError if it was decided already."""
        request = self.get(request_id, guild_id)
        decision = Decision.APPROVED if approve else Decision.DENIED
        who = None
        if approve:  # the student as the gradebook has them: their student id, else their account
            typed = f"student:{request.student_id}" if request.student_id else f"user:{request.user_id}"
            who = self.corrections.resolve_student(request.course_id, request.guild_id, typed, strangers=True)
        now = self.clock()
        try:
            with storage.immediate():
                if not storage.decide_excuse(request_id, decision, actor, now):
                    row = storage.excuse_request(request_id)
                    raise ExcuseError(
                        "excuse_already_decided",
                        decision=row.decision if row else None,
                        by=row.decided_by if row else None,
                    )
                if who is not None:
                    self.corrections.mark(
                        request.course_id, who, Status.EXCUSED.value, request.session_id, request.reason, actor=actor
                    )
                storage.add_event(
                    at=now,
                    course_id=request.course_id,
                    session_id=request.session_id,
                    guild_id=request.guild_id,
                    user_id=request.user_id,
                    student_id=request.student_id,
                    actor=actor,
                    action=DECISION_EVENTS[decision],
                    old_status=None,
                    new_status=None,
                    reason=request.reason,
                    source=Source.MANUAL,
                )
                if approve:
                    note = Notice(
                        "excuse_approved_notice", course_name=request.course_name, session_id=request.session_id
                    )
                else:
                    note = Notice(
                        "excuse_denied_notice", course_name=request.course_name, session_id=request.session_id
                    )
                note_id = leave_notice(
                    note, guild_id=request.guild_id, user_id=request.user_id, course_id=request.course_id, at=now
                )
        except peewee.DatabaseError as exc:
            raise storage.failure("recording the decision", exc) from exc
        log.info("Excuse request %d %s by %s", request_id, decision, actor)
        return dataclasses.replace(self.get(request_id, guild_id), notice_ids=(note_id,))

    # -- helpers ----------------------------------------------------------------------------

    def _info(self, row: ExcuseRequest, *, student_id: str | None = None) -> ExcuseInfo:
        course = self.courses.get(row.course_id)
        session = Session.get(Session.session_id == row.session_id)
        if student_id is None:
            student_id = self._student_id(row)
        return ExcuseInfo(
            id=row.id,
            course_id=course.id,
            course_name=course.name,
            guild_id=row.guild_id,
            admin_channel_id=course.admin_channel_id,
            session_id=row.session_id,
            session_opened_at=session.opened_at,
            user_id=row.user_id,
            username=row.username,
            student_id=student_id,
            reason=row.reason,
            requested_at=row.requested_at,
            status=row.status,
            decision=row.decision,
            decided_by=row.decided_by,
            channel_id=row.channel_id,
            message_id=row.message_id,
        )

    def _student_id(self, row: ExcuseRequest) -> str | None:
        """The student id of the request's account in its course, if it has one."""
        for course in self.gradebook.student_attendance(row.guild_id, row.user_id, username=row.username):
            if course.course_id == row.course_id:
                return course.student.student_id
        return None


__all__ = ["DECISION_EVENTS", "REQUEST_EVENT", "ExcuseError", "ExcuseService"]
