"""One check-in path for every way a code comes in (/here, the Check in button's form): the
throttle, the sessions a code may be for, and the batch that judges submissions and writes them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from . import codes, storage
from .models import Session
from .presence import VoicePresence
from .records import FREE_WRONG_ATTEMPTS, Outcome, Source, Status, Submission, SubmitResult, VoiceRule
from .warnings import notice_of

log = logging.getLogger("attendance_bot.attendance")

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


def throttle_wait(wrong: int) -> float:
    """Seconds a student must wait after their latest wrong code, with `wrong` wrong codes in the window."""
    if wrong < FREE_WRONG_ATTEMPTS:
        return 0.0
    return float(min(FIRST_WAIT_SECONDS * 2 ** min(wrong - FREE_WRONG_ATTEMPTS, 30), MAX_WAIT_SECONDS))


def code_spec(row: Session) -> codes.CodeSpec:
    return codes.CodeSpec(
        secret=row.secret,
        interval=row.interval,
        length=row.code_length,
        grace_seconds=row.grace_seconds,
        offset=(row.window_offset_ms or 0) / 1000,
    )


def candidates_of(
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


class Batch:
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
        self.specs = {row.session_id: code_spec(row) for row in candidates}
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
        # The notes waiting for these students (a warning, an excuse's outcome): one read for the batch;
        # an accepted check-in's reply shows its student's, and deliver() marks them shown.
        self.waiting = storage.unshown_notices(candidates[0].guild_id, user_ids)
        self.delivered: list[int] = []

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
        """The reply to a submission after the write: an instructor's record that stood is kept; an
        accepted one carries the notes that waited for its student (once: the first accepted)."""
        held = self.stood.get((result.session_id or "", user_id))
        if held is not None and result.outcome in (Outcome.RECORDED, Outcome.UPDATED):
            result = SubmitResult(Outcome.KEPT, result.session_id, code=result.code, status=held.status)
        if not self.waiting or not result.accepted:
            return result
        notes = self.waiting.pop(user_id, None)
        if not notes:
            return result
        self.delivered.extend(note.id for note in notes)
        return dataclasses.replace(result, notices=tuple(notice_of(note.kind, note.detail) for note in notes))

    def deliver(self) -> None:
        """Mark the notes the replies carry shown, in the caller's transaction (nothing to write when none)."""
        if self.delivered:
            storage.mark_shown(self.delivered, self.now)
