"""Timetables, pure: a course's weekly entries and skipped dates, and the occurrences they give in its
timezone (local times follow daylight saving: a 10:00 class stays at 10:00 local). Times in, times out;
nothing here reads the clock or the database."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from .errors import ScheduleError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MIN_MINUTES = 1
MAX_MINUTES = 240
_START = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WEEK_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Entry:
    """One line of a course's timetable: every `weekday` (0 Monday) at `start` (local) for `minutes`,
    from `first` to `until` (local dates, both included; None: no bound)."""

    id: int
    course_id: int
    weekday: int
    start: time
    minutes: int
    first: date | None = None
    until: date | None = None
    created_at: datetime | None = None

    def covers(self, day: date) -> bool:
        """Whether the entry meets on this local date (its weekday, within its dates)."""
        return (
            day.weekday() == self.weekday
            and (self.first is None or day >= self.first)
            and (self.until is None or day <= self.until)
        )

    @property
    def weekday_name(self) -> str:
        return WEEKDAYS[self.weekday]

    def overlaps(self, other: Entry) -> bool:
        """Whether the two entries could meet at the same time (same week minutes, dates that overlap)."""
        if self.first and other.until and other.until < self.first:
            return False
        if other.first and self.until and self.until < other.first:
            return False
        mine = self.weekday * 1440 + self.start.hour * 60 + self.start.minute
        theirs = other.weekday * 1440 + other.start.hour * 60 + other.start.minute
        ahead = (theirs - mine) % _WEEK_MINUTES  # how long after mine theirs starts, around the week
        return ahead < self.minutes or (_WEEK_MINUTES - ahead) % _WEEK_MINUTES < other.minutes


@dataclass(frozen=True)
class Occurrence:
    """One meeting of a timetable entry: its local date, and when it starts and ends (UTC)."""

    entry_id: int
    course_id: int
    day: date
    starts_at: datetime
    ends_at: datetime


# -- reading what people type ---------------------------------------------------------------


def parse_weekday(text: str | int) -> int:
    """0 (Monday) to 6 from a day's name or its first three letters, any case; ScheduleError otherwise."""
    if isinstance(text, int) and 0 <= text < 7:
        return text
    word = str(text).strip().casefold()
    for number, name in enumerate(WEEKDAYS):
        if len(word) >= 3 and name.casefold().startswith(word):
            return number
    raise ScheduleError("schedule_bad_weekday", value=str(text), weekdays=list(WEEKDAYS))


def parse_start(text: str) -> time:
    """A local time of day from HH:MM (24-hour); ScheduleError otherwise."""
    found = _START.fullmatch(str(text).strip())
    if not found:
        raise ScheduleError("schedule_bad_start", value=str(text))
    return time(int(found.group(1)), int(found.group(2)))


def parse_day(text: str, option: str = "date") -> date:
    """A date from YYYY-MM-DD; ScheduleError naming the option otherwise."""
    cleaned = str(text).strip()
    try:
        if not _DAY.fullmatch(cleaned):
            raise ValueError(cleaned)
        return date.fromisoformat(cleaned)
    except ValueError:
        raise ScheduleError("schedule_bad_date", option=option, value=str(text)) from None


def check_minutes(minutes: int) -> int:
    if not (isinstance(minutes, int) and MIN_MINUTES <= minutes <= MAX_MINUTES):
        raise ScheduleError("schedule_bad_minutes", value=minutes, low=MIN_MINUTES, high=MAX_MINUTES)
    return minutes


# -- timezones ------------------------------------------------------------------------------


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA name tzdata knows, by its case-folded spelling."""
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def zone_name(text: str) -> str | None:
    """The IANA name typed (in any case, spaces as underscores), as tzdata spells it; None if unknown."""
    return _zones().get("_".join(str(text).strip().split()).casefold())


def zone_names(typed: str, limit: int) -> list[str]:
    """IANA names holding what is typed, region/city names first (for autocomplete)."""
    wanted = "_".join(typed.strip().split()).casefold()
    found = [name for key, name in _zones().items() if wanted in key]
    found.sort(key=lambda name: ("/" not in name, not name.casefold().startswith(wanted), name))
    return found[:limit]


def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


# -- occurrences ----------------------------------------------------------------------------


def starts_at(day: date, start: time, tz: zoneinfo.ZoneInfo) -> datetime:
    """The instant (UTC) a local time of a local date names. A time the clocks skip (spring forward)
    is read with the offset before the change, so it falls as far after the change as it was meant
    after midnight; a time that happens twice (fall back) is its first."""
    return datetime.combine(day, start, tzinfo=tz).astimezone(timezone.utc)


def occurrences(
    entries: Iterable[Entry], skipped: Collection[date], tz: zoneinfo.ZoneInfo, since: datetime, before: datetime
) -> list[Occurrence]:
    """The entries' meetings that start in [since, before), skipped dates left out, by start."""
    entries = list(entries)
    found: list[Occurrence] = []
    day = since.astimezone(tz).date() - timedelta(days=1)
    last = before.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        if day not in skipped:
            for entry in entries:
                if not entry.covers(day):
                    continue
                start = starts_at(day, entry.start, tz)
                if since <= start < before:
                    end = start + timedelta(minutes=entry.minutes)
                    found.append(Occurrence(entry.id, entry.course_id, day, start, end))
        day += timedelta(days=1)
    found.sort(key=lambda o: (o.starts_at, o.entry_id))
    return found


def remaining(
    entries: Sequence[Entry], skipped: Collection[date], tz: zoneinfo.ZoneInfo, after: datetime
) -> int | None:
    """How many meetings start strictly after `after` up to the timetable's end; None without a
    timetable or with an entry that has no end date."""
    if not entries or any(entry.until is None for entry in entries):
        return None
    last = max(entry.until for entry in entries if entry.until is not None)
    before = starts_at(last + timedelta(days=1), time(0), tz) + timedelta(days=1)
    return sum(1 for o in occurrences(entries, skipped, tz, after, before) if o.starts_at > after)


# -- what the callers see -------------------------------------------------------------------


@dataclass(frozen=True)
class Timetable:
    """A course's timetable as instructors see it: its zone, its lines, the dates skipped from today
    on, and its next meeting (None: none in the next weeks)."""

    course_name: str
    timezone: str
    entries: tuple[Entry, ...]
    skipped: tuple[date, ...]
    next: Occurrence | None


@dataclass(frozen=True)
class Meeting:
    """A meeting the scheduler acted on, with what its admin channel is told: the session it opened,
    adopted or closed (with the count present), or none (missed)."""

    course_name: str
    admin_channel_id: int | None
    timezone: str
    occurrence: Occurrence
    session_id: str | None = None
    count: int | None = None


@dataclass(frozen=True)
class Tick:
    """One look at every timetable: the meetings opened, adopted (a session open by hand counts),
    closed and missed, and when the next one starts or ends (None: nothing in the next day)."""

    opened: tuple[Meeting, ...] = ()
    adopted: tuple[Meeting, ...] = ()
    closed: tuple[Meeting, ...] = ()
    missed: tuple[Meeting, ...] = ()
    next_at: datetime | None = None
