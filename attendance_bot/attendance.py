"""The attendance service: open, close, submit, current code, sessions and export rows."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone

import peewee

from . import codes, storage
from .clock import Clock, utc_now
from .courses import CourseService
from .errors import CourseError, NoOpenSession, SessionAlreadyOpen, SessionClosed, StorageError, UnknownSession
from .models import Attendance, Session
from .presence import VoicePresence
from .records import (
    FREE_WRONG_ATTEMPTS,
    MAX_LATE_AFTER,
    ClosedSession,
    CourseInfo,
    CurrentCode,
    ExportRow,
    Outcome,
    ProjectorView,
    SessionInfo,
    SessionSummary,
    Source,
    Status,
    Submission,
    SubmitResult,
    VoiceRule,
)
from .settings import Settings

log = logging.getLogger(__name__)

# Throttling with increasing delays (RFC 4226 section 7.3), per student across the open sessions
# of the channel they type in, from the wrong_attempt rows (so a restart keeps the waits; a
# session's wrong attempts end with it). Counting the
# student's wrong codes of the last THROTTLE_WINDOW_SECONDS: the first FREE_WRONG_ATTEMPTS cost
# nothing (a few typos never slow anyone); after that the next try must wait FIRST_WAIT_SECONDS
# after the latest wrong code, doubling with each further one, up to MAX_WAIT_SECONDS.
# That allows at most 13 wrong codes in any hour (throttle_wait, tests/test_hostile.py).
FIRST_WAIT_SECONDS = 15
MAX_WAIT_SECONDS = 900
THROTTLE_WINDOW_SECONDS = 3600
SESSION_ID_ALPHABET = codes.ALPHABET
RECENT_SESSIONS = 5
EXPORT_CHUNK = 500  # rows per slice of an export read


def throttle_wait(wrong: int) -> float:
    """Seconds a student must wait after their latest wrong code, with `wrong` wrong codes in the window."""
    if wrong < FREE_WRONG_ATTEMPTS:
        return 0.0
    return float(min(FIRST_WAIT_SECONDS * 2 ** min(wrong - FREE_WRONG_ATTEMPTS, 30), MAX_WAIT_SECONDS))


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


def _spec(row: Session) -> codes.CodeSpec:
    return codes.CodeSpec(
        secret=row.secret,
        interval=row.interval,
        length=row.code_length,
        grace_seconds=row.grace_seconds,
        offset=(row.window_offset_ms or 0) / 1000,
    )


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


def _candidates(
    live: Sequence[storage.OpenSession], guild_id: int | None, channel_id: int | None, session_id: str | None
) -> tuple[list[Session], list[str] | None]:
    """The sessions a submission may be for, and (for a button's) the sessions its throttle counts across.

    Typed with /here: the open sessions of the courses that take attendance in that channel (every
    open one where the channel is not known). Sent with a code message's Check in button: that
    session alone, if it is still open and of this server; its wrong codes count with those typed in
    its attendance channel, as if they had been typed there.
    """
    if session_id is None:
        return [
            o.row
            for o in live
            if channel_id is None
            or (o.attendance_channel_id == channel_id and (guild_id is None or o.guild_id == guild_id))
        ], None
    found = next(
        (o for o in live if o.row.session_id == session_id and (guild_id is None or o.guild_id == guild_id)), None
    )
    if found is None:
        return [], None
    # The channel's sessions, this one first (its wrong attempts are kept with the first candidate).
    same_channel = [o.row.session_id for o in live if o.attendance_channel_id == found.attendance_channel_id]
    return [found.row], [session_id, *(sid for sid in same_channel if sid != session_id)]


_VERDICT_RANK = {
    codes.Verdict.ACCEPTED: 0,
    codes.Verdict.EXPIRED: 1,
    codes.Verdict.WRONG: 2,
    codes.Verdict.MALFORMED: 3,
}


class _Batch:
    """The submissions typed in one channel in one transaction: read what the rules need once,
    write in bulk. The candidates are the open sessions of the courses taking attendance there:
    usually one; where sections share a channel, the code says whose session it is.

    Repeats are folded: a re-check-in whose student's previous event in that session is a check-in
    or re-check-in of the same UTC minute adds no event (the record's time still moves on), so one
    student writes at most one check-in event per session per minute however often they type. The
    first check-in always has its event, and so does the first attempt after an instructor's mark.
    """

    def __init__(
        self,
        candidates: list[Session],
        now: datetime,
        user_ids: list[int],
        presence: VoicePresence,
        throttled: list[str] | None = None,
    ) -> None:
        self.candidates = candidates
        self.presence = presence
        self.sessions = {row.session_id: row for row in candidates}
        self.now = now
        self.specs = {row.session_id: _spec(row) for row in candidates}
        self.opened = {row.session_id: row.opened_at.timestamp() for row in candidates}
        self.instant = now.timestamp()
        # Each session's verdict on lateness now: a check-in more than late_after minutes after it opened.
        self.status = {
            row.session_id: Status.LATE.value
            if row.late_after and self.instant > self.opened[row.session_id] + row.late_after * 60
            else Status.PRESENT.value
            for row in candidates
        }
        since = now - timedelta(seconds=THROTTLE_WINDOW_SECONDS)
        self.wrong, self.present = storage.recent_wrong_and_present(
            throttled or [row.session_id for row in candidates], sorted(set(user_ids)), since, candidates[0].guild_id
        )
        self.new_wrong: list[storage.WrongAttemptRow] = []
        self.records: dict[tuple[str, int], storage.AttendanceRow] = {}
        self.events: dict[tuple[str, int], storage.EventRow] = {}  # at most one per student and session
        # When each (session, student) last had a check-in logged or folded: a code record's last
        # submission; for an instructor's record, the latest event when it is a check-in.
        self.logged = {key: held.submitted_at for key, held in self.present.items() if held.source == Source.CODE}
        marked = [key for key, held in self.present.items() if held.source != Source.CODE]
        if marked:
            self.logged.update(storage.last_check_ins(marked, candidates[0].guild_id))
        self.stood: dict[tuple[str, int], storage.Held] = {}  # instructors' marks that landed before the write
        utc = now.astimezone(timezone.utc)
        self.stamp = storage.stored_time(utc)
        self.timestamp = utc.strftime("%Y-%m-%d %H:%M:%S")
        self.date_id = utc.strftime("%Y-%m-%d")
        self.verdicts: dict[str, tuple[Session, codes.Check]] = {}

    def _check(self, typed: str) -> tuple[Session, codes.Check]:
        """The session a typed code belongs to and its verdict: the first that accepts it, else the
        one that comes closest (expired before wrong before malformed)."""
        best: tuple[Session, codes.Check] | None = None
        for row in self.candidates:
            sid = row.session_id
            result = codes.check(typed, self.specs[sid], self.instant, earliest=self.opened[sid])
            if result.verdict is codes.Verdict.ACCEPTED:
                return row, result
            if best is None or _VERDICT_RANK[result.verdict] < _VERDICT_RANK[best[1].verdict]:
                best = (row, result)
        assert best is not None
        return best

    def judge(self, submission: Submission) -> SubmitResult:
        """The verdict on one submission, as if it came alone after the earlier ones."""
        first = self.candidates[0].session_id
        recent = self.wrong.get(submission.user_id)
        if recent:
            ready_at = max(recent) + timedelta(seconds=throttle_wait(len(recent)))
            if self.now < ready_at:
                return SubmitResult(Outcome.THROTTLED, first, retry_after=(ready_at - self.now).total_seconds())
        typed = codes.normalise(submission.code)
        found = self.verdicts.get(typed)
        if found is None:  # a class types the same code, spelt many ways: judge each code once
            found = self._check(typed)
            self.verdicts[typed] = found
        row, result = found
        session_id = row.session_id
        if result.verdict is codes.Verdict.MALFORMED:
            return SubmitResult(
                Outcome.MALFORMED,
                session_id,
                code=result.normalised,
                bad_characters=result.bad_characters,
                code_length=row.code_length,
            )
        if result.verdict is codes.Verdict.EXPIRED:
            return SubmitResult(Outcome.EXPIRED, session_id, code=result.normalised)
        if result.verdict is codes.Verdict.WRONG:
            # Counted across the channel's sessions; kept with the first (the oldest open).
            wrong = self.wrong.setdefault(submission.user_id, [])
            wrong.append(self.now)
            self.new_wrong.append(
                storage.WrongAttemptRow(session_id=first, user_id=submission.user_id, attempted_at=self.stamp)
            )
            return SubmitResult(
                Outcome.WRONG,
                session_id,
                code=result.normalised,
                attempts_left=max(FREE_WRONG_ATTEMPTS - len(wrong), 0),
                retry_after=throttle_wait(len(wrong)),
            )
        in_voice = None
        if row.voice_channel_id is not None:  # the one place a check-in meets the voice rule
            guild_id = row.guild_id if row.guild_id is not None else submission.guild_id
            in_voice = self.presence.in_channel(guild_id, submission.user_id, row.voice_channel_id, self.now)
            if not in_voice and row.voice_rule == VoiceRule.REQUIRED:
                return SubmitResult(
                    Outcome.NOT_IN_VOICE, session_id, code=result.normalised, channels=(row.voice_channel_id,)
                )
        key = (session_id, submission.user_id)
        held = self.present.get(key)
        # A re-check-in keeps the first one's status (it can only have been as early).
        status = held.status if held is not None else self.status[session_id]
        last = self.logged.get(key)
        if held is None or last is None or not storage.same_minute(last, self.stamp):
            old = held.status if held is not None else None
            self.events[key] = self._event(row, submission.user_id, submission.username, old, status)
        self.logged[key] = self.stamp
        if held is not None and held.source == Source.MANUAL:  # the instructor's record stands
            return SubmitResult(Outcome.KEPT, session_id, code=result.normalised, status=held.status)
        self.present[key] = storage.Held(status, Source.CODE, self.stamp)
        # A later submission in the batch replaces this one: last submission wins.
        self.records[key] = storage.AttendanceRow(
            user_id=submission.user_id,
            username=submission.username,
            display_name=submission.display_name,
            timestamp=self.timestamp,
            date_id=self.date_id,
            session_id=session_id,
            submitted_at=self.stamp,
            status=status,
            source=Source.CODE,
            in_voice=None if in_voice is None else int(in_voice),
        )
        return SubmitResult(
            Outcome.UPDATED if held is not None else Outcome.RECORDED,
            session_id,
            code=result.normalised,
            status=status,
            late_after=row.late_after,
        )

    def _event(self, row: Session, user_id: int, actor: str, old: str | None, new: str) -> storage.EventRow:
        """A check-in's event (a re-check-in where the student had a record)."""
        return storage.EventRow(
            at=self.stamp,
            course_id=row.course_id,
            session_id=row.session_id,
            guild_id=row.guild_id,
            user_id=user_id,
            actor=actor,
            action="check-in" if old is None else "re-check-in",
            old_status=old,
            new_status=new,
            source=Source.CODE,
        )

    def write(self) -> None:
        """Bulk-write the wrong attempts, upsert the records (last submission wins) and append the
        check-ins' events, in the caller's transaction.

        The outcome is taken from what the upsert did: a record it did not write is one an
        instructor set after this batch read it (another process, on PostgreSQL), and it stands;
        its event becomes a re-check-in of old = new, and settle() tells the student so.
        """
        storage.insert_wrong_attempts(self.new_wrong)
        written = storage.upsert_attendance(list(self.records.values()))
        if len(written) < len(self.records):
            stood = [key for key in self.records if key not in written]
            found = storage.records_held(stood)
            for key in stood:
                held = found.get(key)
                if held is None:  # cannot be: the upsert found it there and (PostgreSQL) locked it
                    log.warning("Check-in of %s in session %s neither written nor found", key[1], key[0])
                    continue
                self.stood[key] = held
                record = self.records[key]
                self.events[key] = self._event(
                    self.sessions[key[0]], record.user_id, record.username, held.status, held.status
                )
        storage.insert_events(list(self.events.values()))

    def settle(self, result: SubmitResult, user_id: int) -> SubmitResult:
        """The reply to a submission after the write: an instructor's record that stood is kept."""
        held = self.stood.get((result.session_id or "", user_id))
        if held is None or result.outcome not in (Outcome.RECORDED, Outcome.UPDATED):
            return result
        return SubmitResult(Outcome.KEPT, result.session_id, code=result.code, status=held.status)


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
                    taken = [o.row.window_offset_ms for o in storage.open_sessions()]
                    row = storage.create_session(
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
                        late_after=late,
                        voice_channel_id=course.voice_channel_id,
                        voice_rule=(course.voice_rule or VoiceRule.RECORDED) if course.voice_channel_id else None,
                        code_in_channel=course.code_in_channel,
                    )
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
        spec = _spec(row)
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
                    candidates, throttled = _candidates(live, guild_id, channel_id, session_id)
                    if not candidates:
                        refusal = (
                            SubmitResult(Outcome.NO_SESSION)
                            if session_id is not None
                            else self._nothing_open_here(guild_id, channel_id, live)
                        )
                        for index in indexes:
                            results[index] = refusal
                        continue
                    batch = _Batch(candidates, now, [submissions[i].user_id for i in indexes], self.presence, throttled)
                    judged = [(index, batch.judge(submissions[index])) for index in indexes]
                    batch.write()
                    for index, result in judged:
                        results[index] = batch.settle(result, submissions[index].user_id)
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
