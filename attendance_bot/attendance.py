"""The attendance service: open, close, submit, current code, sessions and export rows."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone

import peewee

from . import codes, messages, storage
from .errors import NoOpenSession, SessionAlreadyOpen, SessionClosed, StorageError, UnknownSession
from .models import Attendance, Session
from .records import (
    FREE_WRONG_ATTEMPTS,
    ClosedSession,
    CurrentCode,
    ExportRow,
    Outcome,
    SessionInfo,
    SessionSummary,
    Submission,
    SubmitResult,
)
from .settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# Throttling with increasing delays (RFC 4226 section 7.3), per student and session, from the
# wrong_attempt rows (so a restart keeps the waits; a new session starts afresh). Counting the
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


def utc_now() -> datetime:
    """The one real clock; everything else takes `now` or a Clock."""
    return datetime.now(timezone.utc)


def throttle_wait(wrong: int) -> float:
    """Seconds a student must wait after their latest wrong code, with `wrong` wrong codes in the window."""
    if wrong < FREE_WRONG_ATTEMPTS:
        return 0.0
    return float(min(FIRST_WAIT_SECONDS * 2 ** min(wrong - FREE_WRONG_ATTEMPTS, 30), MAX_WAIT_SECONDS))


def _info(row: Session) -> SessionInfo:
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
    )


def _spec(row: Session) -> codes.CodeSpec:
    return codes.CodeSpec(
        secret=row.secret, interval=row.interval, length=row.code_length, grace_seconds=row.grace_seconds
    )


def _root_cause(exc: BaseException) -> BaseException:
    """The error that started it: when SQLite has rolled back by itself (disk full, I/O error),
    peewee's own ROLLBACK fails with 'no transaction is active' and hides the real cause."""
    seen: BaseException | None = exc
    while seen is not None:
        if "no transaction is active" not in str(seen):
            return seen
        seen = seen.__context__
    return exc


def _storage_error(action: str, exc: BaseException) -> StorageError:
    log.error("Database error while %s: %s", action, _root_cause(exc))
    return StorageError(messages.database_failure(action))


class _Batch:
    """The submissions of one transaction: read what the rules need once, write in bulk."""

    def __init__(self, row: Session, now: datetime, user_ids: list[int]) -> None:
        self.row = row
        self.now = now
        self.spec = _spec(row)
        self.opened = row.opened_at.timestamp()
        self.instant = now.timestamp()
        since = now - timedelta(seconds=THROTTLE_WINDOW_SECONDS)
        self.wrong, self.present = storage.recent_wrong_and_present(row.session_id, sorted(set(user_ids)), since)
        self.new_wrong: list[storage.WrongAttemptRow] = []
        self.records: dict[int, storage.AttendanceRow] = {}
        utc = now.astimezone(timezone.utc)
        self.stamp = storage.stored_time(utc)
        self.timestamp = utc.strftime("%Y-%m-%d %H:%M:%S")
        self.date_id = utc.strftime("%Y-%m-%d")
        self.verdicts: dict[str, codes.Check] = {}

    def judge(self, submission: Submission) -> SubmitResult:
        """The verdict on one submission, as if it came alone after the earlier ones."""
        session_id = self.row.session_id
        recent = self.wrong.get(submission.user_id)
        if recent:
            ready_at = max(recent) + timedelta(seconds=throttle_wait(len(recent)))
            if self.now < ready_at:
                return SubmitResult(Outcome.THROTTLED, session_id, retry_after=(ready_at - self.now).total_seconds())
        typed = codes.normalise(submission.code)
        result = self.verdicts.get(typed)
        if result is None:  # a class types the same code, spelt many ways: judge each code once
            result = codes.check(typed, self.spec, self.instant, earliest=self.opened)
            self.verdicts[typed] = result
        if result.verdict is codes.Verdict.MALFORMED:
            return SubmitResult(
                Outcome.MALFORMED,
                session_id,
                code=result.normalised,
                bad_characters=result.bad_characters,
                code_length=self.row.code_length,
            )
        if result.verdict is codes.Verdict.EXPIRED:
            return SubmitResult(Outcome.EXPIRED, session_id, code=result.normalised)
        if result.verdict is codes.Verdict.WRONG:
            wrong = self.wrong.setdefault(submission.user_id, [])
            wrong.append(self.now)
            self.new_wrong.append(
                storage.WrongAttemptRow(session_id=session_id, user_id=submission.user_id, attempted_at=self.stamp)
            )
            return SubmitResult(
                Outcome.WRONG,
                session_id,
                code=result.normalised,
                attempts_left=max(FREE_WRONG_ATTEMPTS - len(wrong), 0),
                retry_after=throttle_wait(len(wrong)),
            )
        existed = submission.user_id in self.present
        self.present.add(submission.user_id)
        # A later submission in the batch replaces this one: last submission wins.
        self.records[submission.user_id] = storage.AttendanceRow(
            user_id=submission.user_id,
            username=submission.username,
            display_name=submission.display_name,
            timestamp=self.timestamp,
            date_id=self.date_id,
            session_id=session_id,
            submitted_at=self.stamp,
        )
        return SubmitResult(Outcome.UPDATED if existed else Outcome.RECORDED, session_id, code=result.normalised)

    def write(self) -> None:
        """Bulk-write the wrong attempts and upsert the records (last submission wins)."""
        storage.insert_wrong_attempts(self.new_wrong)
        storage.upsert_attendance(list(self.records.values()))


class AttendanceService:
    """The rules of attendance, over the models; holds settings and a clock, no session state."""

    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock

    # -- sessions ---------------------------------------------------------------------------

    def open_session(
        self,
        *,
        opened_by: str | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
    ) -> SessionInfo:
        """Open a new session with a fresh secret; refuse if one is open already."""
        now = self.clock()
        for _ in range(10):
            session_id = self._new_session_id(now)
            try:
                with storage.immediate():
                    current = storage.find_open_session()
                    if current is not None:
                        raise SessionAlreadyOpen(
                            messages.session_already_open(
                                current.session_id, f"{self._local(current.opened_at):%H:%M}"
                            ),
                            current.session_id,
                        )
                    row = storage.create_session(
                        session_id=session_id,
                        secret=codes.new_secret(),
                        interval=self.settings.code_rotation_interval,
                        code_length=self.settings.code_length,
                        grace_seconds=self.settings.code_grace_seconds,
                        opened_at=now,
                        opened_by=opened_by,
                        guild_id=guild_id,
                        channel_id=channel_id,
                    )
            except peewee.IntegrityError as exc:
                # Either the id was taken (retry with another) or another process opened one.
                current = storage.find_open_session()
                if current is not None:
                    raise SessionAlreadyOpen(
                        messages.session_already_open(current.session_id), current.session_id
                    ) from exc
                continue
            except peewee.DatabaseError as exc:
                raise _storage_error("opening a session", exc) from exc
            log.info("Opened session %s", row.session_id)
            return _info(row)
        raise StorageError(messages.no_free_session_id())

    def close_session(self, session_id: str | None = None) -> ClosedSession:
        """Close the open session (or the one named); return it with its count."""
        try:
            with storage.immediate():
                row = self._session_row(session_id) if session_id else self._open_row()
                if row.closed_at is not None:
                    raise SessionClosed(messages.session_already_closed(row.session_id))
                storage.mark_closed(row, self.clock())
                count = self.count(row.session_id)
                # Waits end with the session: its wrong attempts no longer matter.
                storage.delete_wrong_attempts(row.session_id)
        except peewee.DatabaseError as exc:
            raise _storage_error("closing the session", exc) from exc
        log.info("Closed session %s with %d present", row.session_id, count)
        return ClosedSession(_info(row), count)

    def open_session_info(self) -> SessionInfo | None:
        """The open session, or None."""
        row = storage.find_open_session()
        return _info(row) if row else None

    def get_session(self, session_id: str) -> SessionInfo:
        """A session by id; UnknownSession lists recent ids."""
        return _info(self._session_row(session_id))

    def sessions(self) -> list[SessionSummary]:
        """Every session, oldest first, with its count of students."""
        counts = dict(
            Attendance.select(Attendance.session_id, peewee.fn.COUNT(Attendance.id))
            .group_by(Attendance.session_id)
            .tuples()
        )
        rows = Session.select().order_by(Session.opened_at, Session.id)
        return [SessionSummary(_info(r), counts.get(r.session_id, 0)) for r in rows]

    def live_code(self, now: datetime) -> tuple[SessionInfo, CurrentCode, int] | None:
        """What the code message shows at `now`: the open session, its code and its count.

        One read for the rotating message's every window (None when no session is open).
        """
        row = storage.find_open_session()
        if row is None:
            return None
        return _info(row), self._code_of(row, now), self.count(row.session_id)

    def recently_closed_with_message(self, since: datetime) -> list[SessionInfo]:
        """Closed sessions whose code message was posted after `since` (for finalising on start)."""
        rows = Session.select().where(
            Session.closed_at.is_null(False) & Session.message_id.is_null(False) & (Session.message_posted_at >= since)
        )
        return [_info(r) for r in rows]

    def count(self, session_id: str) -> int:
        return Attendance.select().where(Attendance.session_id == session_id).count()

    def record_message(self, session_id: str, *, channel_id: int, message_id: int, posted_at: datetime) -> None:
        """Remember where a session's code message is, so a restart edits the same one."""
        storage.record_message(session_id, channel_id=channel_id, message_id=message_id, posted_at=posted_at)

    # -- codes ------------------------------------------------------------------------------

    def current_code(self, session_id: str | None = None) -> CurrentCode:
        """The code of the open session (or the one named) at this instant."""
        row = self._session_row(session_id) if session_id else self._open_row()
        if row.closed_at is not None:
            raise SessionClosed(messages.closed_session_has_no_code(row.session_id))
        return self._code_of(row, self.clock())

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

    def submit(self, *, user_id: int, username: str, code: str, display_name: str | None = None) -> SubmitResult:
        """Judge a typed code for the open session and record it if right; last one wins.

        Returns only after the record is committed: an accepted result is durable.
        """
        return self.submit_many([Submission(user_id, username, code, display_name)])[0]

    def submit_many(self, submissions: Sequence[Submission]) -> list[SubmitResult]:
        """Judge and record several submissions in one transaction (one commit for all).

        Each is judged as if it came alone, in order, so a student's later submission wins and
        wrong codes earlier in the batch count towards the throttle. The work is set-based (one
        query per table, bulk writes) so a whole class checking in at once costs a few queries.
        If the commit fails, StorageError is raised for the whole batch: nothing is acknowledged.
        """
        now = self.clock()
        try:
            with storage.immediate():
                row = storage.find_open_session()
                if row is None:
                    return [SubmitResult(Outcome.NO_SESSION) for _ in submissions]
                batch = _Batch(row, now, [s.user_id for s in submissions])
                results = [batch.judge(submission) for submission in submissions]
                batch.write()
        except peewee.DatabaseError as exc:
            raise _storage_error("recording attendance", exc) from exc
        return results

    def prune_wrong_attempts(self, now: datetime | None = None) -> int:
        """Delete the wrong attempts that no longer count: of sessions not open, or older than the
        throttle window. Returns how many were deleted (run at start; close_session prunes its own)."""
        cutoff = (now or self.clock()) - timedelta(seconds=THROTTLE_WINDOW_SECONDS)
        try:
            with storage.immediate():
                deleted = storage.prune_wrong_attempts(cutoff)
        except peewee.DatabaseError as exc:
            raise _storage_error("pruning wrong attempts", exc) from exc
        if deleted:
            log.info("Pruned %d wrong attempt(s) that no longer count", deleted)
        return deleted

    # -- export -----------------------------------------------------------------------------

    def export_rows(self, session_id: str | None = None) -> list[ExportRow]:
        """All records (or one session's) in a stable order: session opening, then time."""
        return [row for chunk in self.export_chunks(session_id) for row in chunk]

    def export_chunks(self, session_id: str | None = None, size: int = EXPORT_CHUNK) -> Iterator[list[ExportRow]]:
        """The rows of export_rows() in slices of `size`, read as they are asked for.

        Read as plain tuples with one prepared statement: 40,000 model instances held the
        database thread for seconds, and every `/here` of a class in progress waits behind it.
        The session is looked up at once (UnknownSession here, not at the first slice).
        """
        if session_id is not None:
            session_id = self._session_row(session_id).session_id  # stripped once, here
        return storage.export_slices(session_id, size)

    # -- helpers ----------------------------------------------------------------------------

    def _open_row(self) -> Session:
        row = storage.find_open_session()
        if row is None:
            raise NoOpenSession(messages.no_open_session())
        return row

    def _session_row(self, session_id: str) -> Session:
        row = Session.get_or_none(Session.session_id == session_id.strip())
        if row is None:
            recent = [
                r.session_id
                for r in Session.select(Session.session_id).order_by(Session.opened_at.desc()).limit(RECENT_SESSIONS)
            ]
            raise UnknownSession(messages.unknown_session(session_id, recent), session_id, recent)
        return row

    def _new_session_id(self, now: datetime) -> str:
        suffix = "".join(secrets.choice(SESSION_ID_ALPHABET) for _ in range(4))
        return f"{self._local(now):%Y%m%d-%H%M}-{suffix}"

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.settings.timezone)
