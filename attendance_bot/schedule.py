"""The schedule service: a course's timetable (lines, skipped dates) and the meetings it gives, opened
and closed on time. The database decides which process acts on a meeting: a run row per (entry, local
date), inserted in the same transaction as the session it opens."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import peewee

from . import storage
from .attendance import AttendanceService
from .clock import Clock
from .errors import CourseError, ScheduleError, StorageError
from .models import ScheduleEntry, ScheduleRun, ScheduleSkip
from .records import CourseInfo
from .settings import Settings
from .timetable import (
    Entry,
    Meeting,
    Occurrence,
    Tick,
    Timetable,
    check_minutes,
    occurrences,
    parse_day,
    parse_start,
    parse_weekday,
    remaining,
    zone,
)

log = logging.getLogger(__name__)

# Who opened a session the timetable opened (Session.opened_by).
TIMETABLE_ACTOR = "timetable"
# How far back a meeting that passed unopened (the bot was down) is still reported as missed.
MISSED_HORIZON = timedelta(hours=12)
# How far ahead the scheduler looks for the next start (it looks again at least every few seconds).
LOOKAHEAD = timedelta(days=1)
# How far ahead a timetable's "next meeting" is looked for.
NEXT_WITHIN = timedelta(days=60)
OPENED, ADOPTED, MISSED = "opened", "adopted", "missed"


def _entry(row: ScheduleEntry) -> Entry:
    hours, minutes = (int(part) for part in row.start.split(":"))
    return Entry(
        id=row.id,
        course_id=row.course_id,
        weekday=row.weekday,
        start=time(hours, minutes),
        minutes=row.minutes,
        first=row.first_day,
        until=row.last_day,
        created_at=row.created_at,
    )


def _day(value: date | str | None, option: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return parse_day(value, option)


class ScheduleService:
    """Timetables over the models, and the scheduler's one step (tick); holds settings, a clock and
    the attendance service (whose sessions it opens and closes), no state."""

    def __init__(self, settings: Settings, clock: Clock, attendance: AttendanceService) -> None:
        self.settings = settings
        self.clock = clock
        self.attendance = attendance
        self.courses = attendance.courses

    # -- instructors ------------------------------------------------------------------------

    def add(
        self,
        course_id: int,
        *,
        weekday: str | int,
        start: str,
        minutes: int,
        first: date | str | None = None,
        until: date | str | None = None,
        created_by: str | None = None,
    ) -> Entry:
        """A new line of the course's timetable; ScheduleError if a value is unusable or it overlaps a line."""
        course = self.courses.get(course_id)
        if course.archived:
            raise CourseError("course_archived_refusal", name=course.name)
        wanted = Entry(
            0,
            course.id,
            parse_weekday(weekday),
            parse_start(start),
            check_minutes(minutes),
            _day(first, "from"),
            _day(until, "until"),
        )
        if wanted.first and wanted.until and wanted.until < wanted.first:
            raise ScheduleError("schedule_until_before_from", first=wanted.first, until=wanted.until)
        try:
            with storage.immediate():
                for other in self._entries(course.id):
                    if wanted.overlaps(other):
                        raise ScheduleError(
                            "schedule_overlaps",
                            entry_id=other.id,
                            weekday=other.weekday_name,
                            start=f"{other.start:%H:%M}",
                            minutes=other.minutes,
                        )
                row = storage.add_entry(
                    course=course.id,
                    weekday=wanted.weekday,
                    start=f"{wanted.start:%H:%M}",
                    minutes=wanted.minutes,
                    first_day=wanted.first,
                    last_day=wanted.until,
                    created_at=self.clock(),
                    created_by=created_by,
                )
        except peewee.DatabaseError as exc:
            raise storage.failure("adding to the timetable", exc) from exc
        log.info(
            "Course %r meets %s at %s for %d min (entry %d)", course.name, row.weekday, row.start, row.minutes, row.id
        )
        return _entry(row)

    def remove(self, course_id: int, entry_id: int | str) -> Entry:
        """Take a line off the course's timetable (a session it opened stays open until its end)."""
        entries = {entry.id: entry for entry in self._entries(course_id)}
        key = str(entry_id).strip().removeprefix("#")
        found = entries.get(int(key)) if key.isascii() and key.isdigit() else None
        if found is None:
            raise ScheduleError("schedule_unknown_entry", entry_id=str(entry_id), ids=sorted(entries))
        try:
            with storage.immediate():
                storage.remove_entry(found.id, self.clock())
        except peewee.DatabaseError as exc:
            raise storage.failure("changing the timetable", exc) from exc
        log.info("Removed timetable entry %d of course %d", found.id, course_id)
        return found

    def skip(self, course_id: int, day: date | str) -> date:
        """The course does not meet on this local date; ScheduleError if it is skipped already."""
        skipped = _day(day, "date")
        assert skipped is not None
        try:
            with storage.immediate():
                storage.add_skip(self.courses.get(course_id).id, skipped, self.clock())
        except peewee.IntegrityError as exc:
            raise ScheduleError("schedule_already_skipped", day=skipped) from exc
        except peewee.DatabaseError as exc:
            raise storage.failure("skipping a date", exc) from exc
        return skipped

    def unskip(self, course_id: int, day: date | str) -> date:
        """The course meets on this date again; ScheduleError if it was not skipped."""
        skipped = _day(day, "date")
        assert skipped is not None
        try:
            with storage.immediate():
                removed = storage.remove_skip(self.courses.get(course_id).id, skipped)
        except peewee.DatabaseError as exc:
            raise storage.failure("skipping a date", exc) from exc
        if not removed:
            raise ScheduleError("schedule_not_skipped", day=skipped)
        return skipped

    def timetable(self, course_id: int) -> Timetable:
        """The course's timetable, its dates skipped from today on, and its next meeting."""
        course = self.courses.get(course_id)
        now = self.clock()
        tz = zone(course.timezone)
        today = now.astimezone(tz).date()
        entries = self._entries(course.id)
        skipped = self._skipped([course.id], today).get(course.id, set())
        upcoming = occurrences(entries, skipped, tz, now, now + NEXT_WITHIN)
        return Timetable(
            course.name, course.timezone, tuple(entries), tuple(sorted(skipped)), next(iter(upcoming), None)
        )

    def upcoming(self, course_id: int, entry_id: int, count: int) -> list[Occurrence]:
        """The next `count` meetings of one line of the course's timetable (skipped dates left out)."""
        course = self.courses.get(course_id)
        now = self.clock()
        tz = zone(course.timezone)
        entries = [entry for entry in self._entries(course.id) if entry.id == entry_id]
        skipped = self._skipped([course.id], now.astimezone(tz).date()).get(course.id, set())
        return occurrences(entries, skipped, tz, now, now + NEXT_WITHIN)[:count]

    def remaining_occurrences(self, course_id: int, after: datetime) -> int | None:
        """How many meetings of the course start strictly after `after` up to the end of its timetable
        (skipped dates left out); None when it has no timetable or a line without an end date."""
        course = self.courses.get(course_id)
        entries = self._entries(course.id)
        skipped = self._skipped([course.id], after.astimezone(zone(course.timezone)).date()).get(course.id, set())
        return remaining(entries, skipped, zone(course.timezone), after)

    # -- the scheduler ----------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> Tick:
        """Act on every timetable at `now`: open each meeting under way that no process has acted on
        (a session open by hand is adopted), note as missed each that passed unopened, close each
        session whose meeting has ended; and say when to look next."""
        now = now or self.clock()
        courses = {course.id: course for course in self.courses.courses(archived=False)}
        # Ended meetings first: a class that follows another at once opens its own session, not the last one's.
        closed = self._close_ended(courses, now)
        entries = [entry for entry in self._entries() if entry.course_id in courses]
        by_course: dict[int, list[Entry]] = defaultdict(list)
        for entry in entries:
            by_course[entry.course_id].append(entry)
        since = now - MISSED_HORIZON
        skipped = self._skipped(list(by_course), since.date() - timedelta(days=2))
        claimed = set(
            ScheduleRun.select(ScheduleRun.entry, ScheduleRun.day)
            .where(ScheduleRun.day >= since.date() - timedelta(days=2))
            .tuples()
        )
        created = {entry.id: entry.created_at for entry in entries}
        due: list[tuple[CourseInfo, Occurrence]] = []
        missed: list[Meeting] = []
        upcoming: list[datetime] = []
        for course_id, its in by_course.items():
            course = courses[course_id]
            tz = zone(course.timezone)
            for meeting in occurrences(its, skipped.get(course_id, set()), tz, since, now + LOOKAHEAD):
                if meeting.starts_at > now:
                    upcoming.append(meeting.starts_at)
                    continue
                started = created[meeting.entry_id]
                if (meeting.entry_id, meeting.day) in claimed or (started and meeting.starts_at < started):
                    continue
                if meeting.ends_at > now:
                    due.append((course, meeting))
                elif self._miss(meeting, now):
                    missed.append(self._meeting(course, meeting))
        opened: list[Meeting] = []
        adopted: list[Meeting] = []
        for course, meeting, session_id, state in self._open_all(due):
            (opened if state == OPENED else adopted).append(self._meeting(course, meeting, session_id))
        ends = [
            end
            for (end,) in ScheduleRun.select(ScheduleRun.ends_at)
            .where(ScheduleRun.finished_at.is_null() & (ScheduleRun.ends_at > now))
            .tuples()
        ]
        return Tick(
            opened=tuple(opened),
            adopted=tuple(adopted),
            closed=tuple(closed),
            missed=tuple(missed),
            next_at=min([*upcoming, *ends], default=None),
        )

    def _open_all(self, due: list[tuple[CourseInfo, Occurrence]]) -> list[tuple[CourseInfo, Occurrence, str, str]]:
        """Open (or adopt) every meeting due, and claim each, in one transaction: a timetable's whole
        minute (200 courses starting at 10:00) is one read of the open sessions and one commit. A
        meeting another process claimed first is left to it. Should the transaction meet a unique
        index (a new session id drawn twice; a session opened by hand in another process), each
        meeting is opened in a transaction of its own instead."""
        if not due:
            return []
        at = self.clock()  # the instant the sessions open (the look may have begun a moment before)
        done: list[tuple[CourseInfo, Occurrence, str, str]] = []
        try:
            with storage.immediate():
                storage.lock_for_opening()
                live = storage.open_sessions()
                taken = [o.row.window_offset_ms for o in live]
                current = {o.row.course_id: o.row.session_id for o in live}
                claimed = self._claimed_among([meeting for _, meeting in due])
                for course, meeting in due:
                    if (meeting.entry_id, meeting.day) in claimed:
                        continue
                    if course.id in current:
                        session_id, state = current[course.id], ADOPTED
                    else:
                        opened = self.attendance.insert_session(course, at, opened_by=TIMETABLE_ACTOR, taken=taken)
                        session_id, state = opened.session_id, OPENED
                        current[course.id] = session_id
                    self._claim(meeting, state, session_id, at)
                    done.append((course, meeting, session_id, state))
        except peewee.IntegrityError:
            done = []
            for course, meeting in due:
                one_id, one_state = self._open(course, meeting, at)
                if one_id is not None and one_state is not None:
                    done.append((course, meeting, one_id, one_state))
            return done
        except peewee.DatabaseError as exc:
            raise storage.failure("opening sessions on the timetable", exc) from exc
        for course, meeting, session_id, state in done:
            log.info(
                "Timetable of course %r: session %s %s (until %s)", course.name, session_id, state, meeting.ends_at
            )
        return done

    def _open(self, course: CourseInfo, meeting: Occurrence, now: datetime) -> tuple[str | None, str | None]:
        """Open the meeting's session and claim the meeting, in one transaction: (its session id, OPENED);
        (the session open by hand, ADOPTED) when one is open; (None, None) when another process
        claimed the meeting first."""
        for _ in range(10):
            try:
                with storage.immediate():
                    storage.lock_for_opening()
                    current = storage.find_open_session(course.id)
                    if current is not None:
                        session_id, state = current.session_id, ADOPTED
                    else:
                        session_id = self.attendance.insert_session(course, now, opened_by=TIMETABLE_ACTOR).session_id
                        state = OPENED
                    self._claim(meeting, state, session_id, now)
            except peewee.IntegrityError:
                if self._claimed(meeting):
                    return None, None
                continue  # the new session's id was taken, or a session opened by hand meanwhile: again
            except peewee.DatabaseError as exc:
                raise storage.failure("opening a session on the timetable", exc) from exc
            log.info(
                "Timetable of course %r: session %s %s (until %s)", course.name, session_id, state, meeting.ends_at
            )
            return session_id, state
        raise StorageError("no_free_session_id")

    def _miss(self, meeting: Occurrence, now: datetime) -> bool:
        """Note a meeting that passed while no process could open it; False if one noted it already."""
        try:
            with storage.immediate():
                self._claim(meeting, MISSED, None, now)
        except peewee.IntegrityError:
            return False
        except peewee.DatabaseError as exc:
            raise storage.failure("noting a missed meeting", exc) from exc
        log.warning(
            "Timetable: the meeting of %s (entry %d) passed while the bot was down", meeting.day, meeting.entry_id
        )
        return True

    def _close_ended(self, courses: dict[int, CourseInfo], now: datetime) -> list[Meeting]:
        """Close the session of every meeting that has ended (if it is still open: an instructor may
        have closed it early); each by one process only."""
        closed: list[Meeting] = []
        runs = list(ScheduleRun.select().where(ScheduleRun.finished_at.is_null() & (ScheduleRun.ends_at <= now)))
        for run in runs:
            try:
                with storage.immediate():
                    if not storage.finish_run(run.id, now):
                        continue
                    current = storage.find_open_session(run.course_id)
                    if current is None or current.session_id != run.session_id:
                        continue
                    done = self.attendance.close_session(run.session_id, course_id=run.course_id)
            except peewee.DatabaseError as exc:
                raise storage.failure("closing a session on the timetable", exc) from exc
            course = courses.get(run.course_id) or self.courses.get(run.course_id)
            meeting = Occurrence(run.entry_id, run.course_id, run.day, run.starts_at, run.ends_at)
            closed.append(self._meeting(course, meeting, run.session_id, done.count))
        return closed

    # -- helpers ----------------------------------------------------------------------------

    def _claim(self, meeting: Occurrence, state: str, session_id: str | None, now: datetime) -> None:
        storage.claim_run(
            entry_id=meeting.entry_id,
            day=meeting.day,
            course_id=meeting.course_id,
            state=state,
            session_id=session_id,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            at=now,
        )

    @staticmethod
    def _claimed_among(meetings: list[Occurrence]) -> set[tuple[int, date]]:
        """Which of these meetings some process has acted on already, as (line, local date)."""
        query = ScheduleRun.select(ScheduleRun.entry, ScheduleRun.day).where(
            ScheduleRun.entry.in_(sorted({m.entry_id for m in meetings}))
            & ScheduleRun.day.in_(sorted({m.day for m in meetings}))
        )
        return set(query.tuples())

    @staticmethod
    def _claimed(meeting: Occurrence) -> bool:
        query = ScheduleRun.select().where((ScheduleRun.entry == meeting.entry_id) & (ScheduleRun.day == meeting.day))
        return query.exists()

    @staticmethod
    def _meeting(
        course: CourseInfo, meeting: Occurrence, session_id: str | None = None, count: int | None = None
    ) -> Meeting:
        return Meeting(course.name, course.admin_channel_id, course.timezone, meeting, session_id, count)

    @staticmethod
    def _entries(course_id: int | None = None) -> list[Entry]:
        """The timetable's lines (of one course), oldest first; removed ones left out."""
        query = ScheduleEntry.select().where(ScheduleEntry.removed_at.is_null())
        if course_id is not None:
            query = query.where(ScheduleEntry.course == course_id)
        return [_entry(row) for row in query.order_by(ScheduleEntry.id)]

    @staticmethod
    def _skipped(course_ids: list[int], since: date) -> dict[int, set[date]]:
        """The courses' skipped dates from `since` on, by course."""
        found: dict[int, set[date]] = defaultdict(set)
        if not course_ids:
            return found
        query = ScheduleSkip.select(ScheduleSkip.course, ScheduleSkip.day).where(
            ScheduleSkip.course.in_(course_ids) & (ScheduleSkip.day >= since)
        )
        for course_id, day in query.tuples():
            found[course_id].add(day)
        return found
