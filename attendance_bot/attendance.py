"""The attendance service: open, close, submit, current code, sessions and export rows."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone

import peewee

from . import codes, storage
from .checkin import (
    THROTTLE_WINDOW_SECONDS,
    Batch,
    candidates_of,
    code_spec,
)
from .clock import Clock, utc_now
from .courses import CourseService
from .errors import CourseError, NoOpenSession, SessionAlreadyOpen, SessionClosed, StorageError, UnknownSession
from .models import Attendance, Session
from .presence import VoicePresence
from .records import (
    MAX_LATE_AFTER,
    ClosedSession,
    CourseInfo,
    CurrentCode,
    ExportRow,
    Outcome,
    ProjectorView,
    SessionInfo,
    SessionSummary,
    Status,
    Submission,
    SubmitResult,
    VoiceRule,
)
from .settings import Settings

log = logging.getLogger(__name__)

SESSION_ID_ALPHABET = codes.ALPHABET
RECENT_SESSIONS = 5
EXPORT_CHUNK = 500  # rows per slice of an export read


def _info(row: Session, course_name: str | None = None) -> SessionInfo:
    if course_name is None and row.course_id is not None:
        course_name = row.course.name  # one more read, off the hot path (callers that have it pass it)
    return SessionInfo(
        session_id=row.session_id,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        interval=row.interval,
        code_length=row.code_length,
        grace_seconds=row.grace_seconds,
        opened_by=row.opened_by,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        message_id=row.message_id,
        message_posted_at=row.message_posted_at,
        course_id=row.course_id,
        course_name=course_name,
        late_after=row.late_after,
        voice_channel_id=row.voice_channel_id,
        voice_rule=row.voice_rule,
        code_in_channel=row.code_in_channel is not False,
    )


def _counted() -> peewee.Expression:
    """The records "N present" counts: present or late, never an instructor's absent or excused."""
    return Attendance.status.in_([status.value for status in Status if status.attended])


def free_offset_ms(interval: int, taken: Sequence[int]) -> int:
    """Where a new session's windows should start (ms past the interval's multiples): 0 when no
    other session is open, else the middle of the widest gap between the open sessions' window
    starts, so their code messages are edited at instants spread over the interval."""
    span = interval * 1000
    points = sorted({offset % span for offset in taken})
    if not points:
        return 0
    gaps = [((points[(i + 1) % len(points)] - p) % span or span, p) for i, p in enumerate(points)]
    width, start = max(gaps, key=lambda gap: (gap[0], -gap[1]))  # the earliest of equally wide gaps
    return (start + width // 2) % span


class AttendanceService:
    """The rules of attendance, over the models; holds settings and a clock, no session state.

    Every session belongs to a course. Where a method takes `course_id`, None means the only
    course not archived (the shell's and the tests' default; CourseNeeded lists them otherwise).
    """

    def __init__(self, settings: Settings, clock: Clock = utc_now, presence: VoicePresence | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.courses = CourseService(settings, clock)
        # Who is in voice (the bot feeds it from the gateway; elsewhere it stays empty).
        self.presence = presence if presence is not None else VoicePresence()

    def course(self, course_id: int | None) -> CourseInfo:
        """The course meant: the one with this id, else the only one not archived."""
        return self.courses.get(course_id) if course_id is not None else self.courses.for_shell(None)

    # -- sessions ---------------------------------------------------------------------------

    def open_session(
        self, course_id: int | None = None, *, opened_by: str | None = None, late_after: int | None = None
    ) -> SessionInfo:
        """Open a new session of a course with a fresh secret; refuse if the course has one open.

        Its code settings, late rule and voice channel and rule are the course's at this moment (a later edit never
        changes it; `late_after` minutes, 0 for never, replaces the course's rule for this
        session), and its windows start where they are spread furthest from the other open
        sessions'.
        """
        course = self.course(course_id)
        if course.archived:
            raise CourseError("course_archived_refusal", name=course.name)
        if late_after is not None and not 0 <= late_after <= MAX_LATE_AFTER:
            raise CourseError(
                "course_setting_out_of_range",
                key="late_after",
                value=late_after,
                low=0,
                high=MAX_LATE_AFTER,
                unit="minutes",
            )
        late = course.late_after if late_after is None else late_after or None
        now = self.clock()
        for _ in range(10):
            session_id = self._new_session_id(now)
            try:
                with storage.immediate():
                    storage.lock_for_opening()
                    current = storage.find_open_session(course.id)
                    if current is not None:
                        raise SessionAlreadyOpen(
                            "session_already_open",
                            session_id=current.session_id,
                            since=f"{self._local(current.opened_at):%H:%M}",
                        )
                    row = self._insert_session(course, session_id, now, opened_by=opened_by, late_after=late)
            except peewee.IntegrityError as exc:
                # Either the id was taken (retry with another) or another process opened one.
                current = storage.find_open_session(course.id)
                if current is not None:
                    raise SessionAlreadyOpen("session_already_open", session_id=current.session_id) from exc
                continue
            except peewee.DatabaseError as exc:
                raise storage.failure("opening a session", exc) from exc
            log.info("Opened session %s of course %r", row.session_id, course.name)
            return _info(row, course.name)
        raise StorageError("no_free_session_id")

    def insert_session(
        self, course: CourseInfo, now: datetime, *, opened_by: str | None, taken: list[int] | None = None
    ) -> SessionInfo:
        """The new session of a course with none open, with the course's own late rule: for a caller
        that holds immediate() and lock_for_opening() (the timetable, which claims the meeting in the
        same transaction). IntegrityError if its id is taken: the caller's transaction is then undone.
        `taken`: the open sessions' window offsets when the caller has read them (the new one is added)."""
        row = self._insert_session(
            course, self._new_session_id(now), now, opened_by=opened_by, late_after=course.late_after, taken=taken
        )
        if taken is not None:
            taken.append(row.window_offset_ms)
        return _info(row, course.name)

    def _insert_session(
        self,
        course: CourseInfo,
        session_id: str,
        now: datetime,
        *,
        opened_by: str | None,
        late_after: int | None,
        taken: list[int] | None = None,
    ) -> Session:
        """The row of a course's new session, its windows spread furthest from the other open sessions'."""
        if taken is None:
            taken = [o.row.window_offset_ms for o in storage.open_sessions()]
        return storage.create_session(
            session_id=session_id,
            secret=codes.new_secret(),
            interval=course.interval,
            code_length=course.code_length,
            grace_seconds=course.grace_seconds,
            opened_at=now,
            opened_by=opened_by,
            guild_id=course.guild_id,
            channel_id=course.display_channel_id,
            course_id=course.id,
            window_offset_ms=free_offset_ms(course.interval, taken),
            attendance_channel_id=course.attendance_channel_id,
            late_after=late_after,
            voice_channel_id=course.voice_channel_id,
            voice_rule=(course.voice_rule or VoiceRule.RECORDED) if course.voice_channel_id else None,
            code_in_channel=course.code_in_channel,
        )

    def close_session(self, session_id: str | None = None, *, course_id: int | None = None) -> ClosedSession:
        """Close a course's open session (or the session named, of that course if one is given)."""
        try:
            with storage.immediate():
                if session_id:
                    row = self._session_row(session_id, course_id)
                else:
                    row = self._open_row(self.course(course_id))
                if row.closed_at is not None:
                    raise SessionClosed("session_already_closed", session_id=row.session_id)
                closed_at = self.clock()
                storage.mark_closed(row, closed_at)
                storage.close_session_spans(row.session_id, closed_at)  # nothing is logged after it closes
                count = self.count(row.session_id)
                # Waits end with the session: its wrong attempts no longer matter.
                storage.delete_wrong_attempts(row.session_id)
        except peewee.DatabaseError as exc:
            raise storage.failure("closing the session", exc) from exc
        log.info("Closed session %s with %d present", row.session_id, count)
        return ClosedSession(_info(row), count)

    def open_session_info(self, course_id: int | None = None) -> SessionInfo | None:
        """A course's open session, or None."""
        course = self.course(course_id)
        row = storage.find_open_session(course.id)
        return _info(row, course.name) if row else None

    def get_session(self, session_id: str, course_id: int | None = None) -> SessionInfo:
        """A session by id (of that course, if given); UnknownSession lists recent ids."""
        return _info(self._session_row(session_id, course_id))

    def sessions(self, course_id: int | None = None, *, every_course: bool = False) -> list[SessionSummary]:
        """A course's sessions (or every course's), oldest first, with their count of students present or late."""
        counts = dict(
            Attendance.select(Attendance.session_id, peewee.fn.COUNT(Attendance.id))
            .where(_counted())
            .group_by(Attendance.session_id)
            .tuples()
        )
        rows = Session.select().order_by(Session.opened_at, Session.id)
        if not every_course:
            rows = rows.where(Session.course == self.course(course_id).id)
        return [SessionSummary(_info(r), counts.get(r.session_id, 0)) for r in rows]

    def live_codes(self, now: datetime) -> list[tuple[SessionInfo, CurrentCode, int]]:
        """What every code message shows at `now`: each open session, its code and its count.

        One read for all the rotating messages of a window.
        """
        live = storage.open_sessions()
        if not live:
            return []
        ids = [o.row.session_id for o in live]
        counts = dict(
            Attendance.select(Attendance.session_id, peewee.fn.COUNT(Attendance.id))
            .where(Attendance.session_id.in_(ids) & _counted())
            .group_by(Attendance.session_id)
            .tuples()
        )
        return [(_info(o.row, o.course_name), self._code_of(o.row, now), counts.get(o.row.session_id, 0)) for o in live]

    def recently_closed_with_message(self, since: datetime) -> list[SessionInfo]:
        """Closed sessions whose code message was posted after `since` (for finalising on start)."""
        rows = Session.select().where(
            Session.closed_at.is_null(False) & Session.message_id.is_null(False) & (Session.message_posted_at >= since)
        )
        return [_info(r) for r in rows]

    def count(self, session_id: str) -> int:
        """How many students were there: the session's records present or late ("N present")."""
        return Attendance.select().where((Attendance.session_id == session_id) & _counted()).count()

    def record_message(self, session_id: str, *, channel_id: int, message_id: int, posted_at: datetime) -> None:
        """Remember where a session's code message is, so a restart edits the same one."""
        storage.record_message(session_id, channel_id=channel_id, message_id=message_id, posted_at=posted_at)

    # -- codes ------------------------------------------------------------------------------

    def current_code(self, session_id: str | None = None, *, course_id: int | None = None) -> CurrentCode:
        """The code of a course's open session (or of the session named) at this instant."""
        row = self._session_row(session_id, course_id) if session_id else self._open_row(self.course(course_id))
        if row.closed_at is not None:
            raise SessionClosed("closed_session_has_no_code", session_id=row.session_id)
        return self._code_of(row, self.clock())

    def projector_view(self, session_id: str | None = None, *, course_id: int | None = None) -> ProjectorView:
        """What a projector shows now of a course's open session (or of the session named): the one
        read behind the projector page and `manage.py code --watch`. A closed session shows no code."""
        row = self._session_row(session_id, course_id) if session_id else self._open_row(self.course(course_id))
        info = _info(row)
        count = self.count(row.session_id)
        if row.closed_at is not None:
            return ProjectorView(row.session_id, info.course_name, is_open=False, count=count)
        current = self._code_of(row, self.clock())
        return ProjectorView(
            row.session_id,
            info.course_name,
            is_open=True,
            count=count,
            code=current.code,
            window=current.window,
            changes_at=current.changes_at,
            seconds_left=current.seconds_left,
        )

    def code_at(self, session: SessionInfo, now: datetime) -> CurrentCode:
        """The code of a session at a given instant (for the rotating message)."""
        return self._code_of(self._session_row(session.session_id), now)

    def _code_of(self, row: Session, now: datetime) -> CurrentCode:
        spec = code_spec(row)
        t = now.timestamp()
        end = spec.window_end(t)
        return CurrentCode(
            session_id=row.session_id,
            code=spec.code_at(t),
            window=spec.window(t),
            seconds_left=end - t,
            changes_at=datetime.fromtimestamp(end, timezone.utc),
        )

    # -- submissions ------------------------------------------------------------------------

    def submit(
        self,
        *,
        user_id: int,
        username: str,
        code: str,
        display_name: str | None = None,
        channel_id: int | None = None,
        guild_id: int | None = None,
    ) -> SubmitResult:
        """Judge a typed code and record it if right; last one wins.

        Returns only after the record is committed: an accepted result is durable.
        """
        return self.submit_many([Submission(user_id, username, code, display_name, channel_id, guild_id)])[0]

    def submit_many(self, submissions: Sequence[Submission]) -> list[SubmitResult]:
        """Judge and record several submissions in one transaction (one commit for all).

        Each goes to the open sessions of the courses that take attendance in the channel it was
        typed in (its server's courses only), and is judged as if it came alone, in order, so a
        student's later submission wins and wrong codes earlier in the batch count towards the
        throttle. The work is set-based (one query per table and channel, bulk writes) so a whole
        class checking in at once costs a few queries. If the commit fails, StorageError is
        raised for the whole batch: nothing is acknowledged.
        """
        now = self.clock()
        results: list[SubmitResult | None] = [None] * len(submissions)
        groups: dict[tuple[int | None, int | None, str | None], list[int]] = {}
        for index, submission in enumerate(submissions):
            groups.setdefault((submission.guild_id, submission.channel_id, submission.session_id), []).append(index)
        try:
            with storage.immediate():
                live = storage.open_sessions()
                for (guild_id, channel_id, session_id), indexes in groups.items():
                    candidates, throttled = candidates_of(live, guild_id, channel_id, session_id)
                    if not candidates:
                        refusal = (
                            SubmitResult(Outcome.NO_SESSION)
                            if session_id is not None
                            else self._nothing_open_here(guild_id, channel_id, live)
                        )
                        for index in indexes:
                            results[index] = refusal
                        continue
                    batch = Batch(candidates, now, [submissions[i].user_id for i in indexes], self.presence, throttled)
                    judged = [(index, batch.judge(submissions[index])) for index in indexes]
                    batch.write()
                    for index, result in judged:
                        results[index] = batch.settle(result, submissions[index].user_id)
                    batch.deliver()
        except peewee.DatabaseError as exc:
            raise storage.failure("recording attendance", exc) from exc
        return [r for r in results if r is not None]

    def _nothing_open_here(
        self, guild_id: int | None, channel_id: int | None, live: Sequence[storage.OpenSession]
    ) -> SubmitResult:
        """No open session takes codes in this channel: none is open, or no course takes attendance here."""
        if channel_id is None:
            return SubmitResult(Outcome.NO_SESSION)
        channels = storage.attendance_channels(guild_id, live)
        if channel_id in channels:
            return SubmitResult(Outcome.NO_SESSION)
        return SubmitResult(Outcome.WRONG_CHANNEL, channels=tuple(channels))

    def prune_wrong_attempts(self, now: datetime | None = None) -> int:
        """Delete the wrong attempts that no longer count: of sessions not open, or older than the
        throttle window. Returns how many were deleted (run at start; close_session prunes its own)."""
        cutoff = (now or self.clock()) - timedelta(seconds=THROTTLE_WINDOW_SECONDS)
        try:
            with storage.immediate():
                deleted = storage.prune_wrong_attempts(cutoff)
        except peewee.DatabaseError as exc:
            raise storage.failure("pruning wrong attempts", exc) from exc
        if deleted:
            log.info("Pruned %d wrong attempt(s) that no longer count", deleted)
        return deleted

    # -- export -----------------------------------------------------------------------------

    def export_rows(self, session_id: str | None = None, *, course_id: int | None = None) -> list[ExportRow]:
        """A course's records (or one session's) in a stable order: session opening, then time."""
        return [row for chunk in self.export_chunks(session_id, course_id=course_id) for row in chunk]

    def export_chunks(
        self, session_id: str | None = None, size: int = EXPORT_CHUNK, *, course_id: int | None = None
    ) -> Iterator[list[ExportRow]]:
        """The rows of export_rows() in slices of `size`, read as they are asked for.

        Read as plain tuples with one prepared statement: 40,000 model instances held the
        database thread for seconds, and every `/here` of a class in progress waits behind it.
        The session (of the course, when one is given) and the course are looked up at once
        (UnknownSession or CourseNeeded here, not at the first slice).
        """
        if session_id is not None:
            session_id = self._session_row(session_id, course_id).session_id  # stripped once, here
            return storage.export_slices(session_id, size)
        return storage.export_slices(None, size, course_id=self.course(course_id).id)

    # -- helpers ----------------------------------------------------------------------------

    def _open_row(self, course: CourseInfo) -> Session:
        row = storage.find_open_session(course.id)
        if row is None:
            raise NoOpenSession("no_open_session")
        return row

    def _session_row(self, session_id: str, course_id: int | None = None) -> Session:
        """A session by id; with a course, only that course's (another's is as unknown as no session)."""
        query = Session.select().where(Session.session_id == session_id.strip())
        recent_query = Session.select(Session.session_id)
        if course_id is not None:
            query = query.where(Session.course == course_id)
            recent_query = recent_query.where(Session.course == course_id)
        row = query.first() if "\x00" not in session_id else None  # NUL is in no id (PostgreSQL refuses it)
        if row is None:
            recent = [r.session_id for r in recent_query.order_by(Session.opened_at.desc()).limit(RECENT_SESSIONS)]
            raise UnknownSession("unknown_session", session_id=session_id, recent=recent)
        return row

    def _new_session_id(self, now: datetime) -> str:
        suffix = "".join(secrets.choice(SESSION_ID_ALPHABET) for _ in range(4))
        return f"{self._local(now):%Y%m%d-%H%M}-{suffix}"

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.settings.timezone)
