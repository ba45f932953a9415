"""Timetables (issue 18): a course's timezone, its lines and skipped dates, and the scheduler's step
(ScheduleService.tick) on an injected clock: meetings open at their start and close after their
minutes, in local time across daylight saving, once across processes."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from _course import ADMIN_CHANNEL_ID, GUILD_ID

from attendance_bot import messages
from attendance_bot.errors import CourseError, ScheduleError
from attendance_bot.models import ScheduleRun, Session, close_db
from attendance_bot.schedule import TIMETABLE_ACTOR
from attendance_bot.services import Services
from attendance_bot.settings import Settings
from attendance_bot.timetable import Entry, Tick, parse_start

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")

UTC = timezone.utc
# Monday 2026-10-19, a week before Europe/Berlin leaves summer time (Sunday 2026-10-25).
MONDAY = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)


@pytest.fixture
def services(settings: Settings, db: object, clock: FakeClock) -> Services:
    clock.set(MONDAY - timedelta(days=1))  # the timetable is made the day before its first meeting
    return Services(settings, clock)


@pytest.fixture
def course_id(services: Services) -> int:
    return services.courses.for_shell(None).id


def _at(clock: FakeClock, services: Services, moment: datetime) -> Tick:
    clock.set(moment)
    return services.schedule.tick()


def _sessions() -> list[Session]:
    return list(Session.select().order_by(Session.id))


# -- local time across daylight saving ---------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "weekday", "before", "after"),
    [
        # Berlin leaves summer time on Sunday 2026-10-25: 10:00 is 08:00 UTC before, 09:00 UTC after.
        ("Europe/Berlin", "Monday", datetime(2026, 10, 19, 8, 0, tzinfo=UTC), datetime(2026, 10, 26, 9, 0, tzinfo=UTC)),
        # New York starts summer time on Sunday 2026-03-08: 10:00 is 15:00 UTC before, 14:00 UTC after.
        (
            "America/New_York",
            "Monday",
            datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
            datetime(2026, 3, 9, 14, 0, tzinfo=UTC),
        ),
    ],
)
def test_a_ten_oclock_class_opens_at_ten_local_on_both_sides_of_a_daylight_saving_change(
    services: Services, course_id: int, clock: FakeClock, zone: str, weekday: str, before: datetime, after: datetime
) -> None:
    """The same line opens at 10:00 local the week before and the week after the clocks change: the
    UTC instant moves by an hour, and an hour off (the old instant) opens nothing."""
    clock.set(before - timedelta(days=3))
    services.courses.edit(course_id, timezone=zone)
    services.schedule.add(course_id, weekday=weekday, start="10:00", minutes=50)
    assert _at(clock, services, before - timedelta(seconds=1)).opened == ()
    [first] = _at(clock, services, before).opened
    assert first.occurrence.starts_at == before
    assert messages.scheduled_opened(first).count("10:00-10:50") == 1
    [closed] = _at(clock, services, before + timedelta(minutes=50)).closed
    assert closed.session_id == first.session_id
    assert after - before != timedelta(days=7)  # the UTC instant moved by an hour
    assert _at(clock, services, after - timedelta(seconds=1)).opened == ()
    [second] = _at(clock, services, after).opened
    assert second.occurrence.starts_at == after
    assert [m.occurrence.starts_at.astimezone(ZoneInfo(zone)).strftime("%A %H:%M") for m in (first, second)] == [
        f"{weekday} 10:00"
    ] * 2
    assert [s.opened_at for s in _sessions()] == [before, after]


# -- opening and closing on time ---------------------------------------------------------------


def test_a_meeting_opens_at_its_start_and_closes_after_its_minutes(
    services: Services, course_id: int, clock: FakeClock
) -> None:
    """At the start the session opens (opened by the timetable, with the course's settings); it stays
    open through the meeting and closes at its end with the count; the next tick does nothing."""
    services.schedule.add(course_id, weekday="Mon", start="08:00", minutes=90)
    start = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    assert _at(clock, services, start - timedelta(seconds=1)).next_at == start
    done = _at(clock, services, start)
    [meeting] = done.opened
    session = services.attendance.open_session_info(course_id)
    assert session is not None and session.session_id == meeting.session_id
    assert session.opened_by == TIMETABLE_ACTOR and session.opened_at == start
    assert done.next_at == start + timedelta(minutes=90)
    assert _at(clock, services, start + timedelta(minutes=89)) == Tick(next_at=start + timedelta(minutes=90))
    services.attendance.submit(user_id=1, username="ada", code=services.attendance.current_code().code)
    [closed] = _at(clock, services, start + timedelta(minutes=90)).closed
    assert messages.scheduled_closed(closed) == f"{messages.closed_reply(meeting.session_id or '', 1)} " + (
        "(the end of its time on the timetable)"
    )
    assert services.attendance.open_session_info(course_id) is None
    assert _at(clock, services, start + timedelta(minutes=91)).closed == ()
    assert len(_sessions()) == 1


def test_a_session_opened_by_hand_counts_and_is_closed_at_the_end(
    services: Services, course_id: int, clock: FakeClock
) -> None:
    """An instructor opens two minutes early: the meeting adopts that session (no second one) and
    closes it at its end."""
    services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=30)
    start = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    clock.set(start - timedelta(minutes=2))
    by_hand = services.attendance.open_session(course_id, opened_by="42")
    done = _at(clock, services, start + timedelta(seconds=1))
    assert done.opened == () and [m.session_id for m in done.adopted] == [by_hand.session_id]
    [closed] = _at(clock, services, start + timedelta(minutes=30)).closed
    assert closed.session_id == by_hand.session_id
    assert [s.session_id for s in _sessions()] == [by_hand.session_id]


def test_closing_early_is_not_undone_and_the_meeting_never_reopens(
    services: Services, course_id: int, clock: FakeClock
) -> None:
    """An instructor closes the timetable's session early: nothing reopens it during the meeting, and
    its end closes nothing (a session opened by hand meanwhile stays open)."""
    services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=60)
    start = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    _at(clock, services, start)
    clock.set(start + timedelta(minutes=20))
    services.attendance.close_session(course_id=course_id)
    assert _at(clock, services, start + timedelta(minutes=21)) == Tick(next_at=start + timedelta(minutes=60))
    later = services.attendance.open_session(course_id, opened_by="42")
    assert _at(clock, services, start + timedelta(minutes=60)).closed == ()
    assert services.attendance.open_session_info(course_id) == later
    assert len(_sessions()) == 2


def test_a_start_missed_while_down_opens_for_the_rest_of_its_minutes(
    services: Services, course_id: int, clock: FakeClock
) -> None:
    """The first look comes 20 minutes into a 60-minute meeting: it opens now and closes at the
    meeting's own end, not 60 minutes later."""
    services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=60)
    start = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    [meeting] = _at(clock, services, start + timedelta(minutes=20)).opened
    assert services.attendance.get_session(meeting.session_id or "").opened_at == start + timedelta(minutes=20)
    assert _at(clock, services, start + timedelta(minutes=59)).closed == ()
    assert len(_at(clock, services, start + timedelta(minutes=60)).closed) == 1


def test_back_to_back_classes_each_get_their_own_session(services: Services, course_id: int, clock: FakeClock) -> None:
    """10:00-11:00 then 11:00-12:00: at 11:00 the first class's session closes and the second's opens."""
    services.schedule.add(course_id, weekday="Monday", start="10:00", minutes=60)
    services.schedule.add(course_id, weekday="Monday", start="11:00", minutes=60)
    first = _at(clock, services, datetime(2026, 10, 19, 10, 0, tzinfo=UTC))
    second = _at(clock, services, datetime(2026, 10, 19, 11, 0, tzinfo=UTC))
    assert [m.session_id for m in second.closed] == [m.session_id for m in first.opened]
    assert len(second.opened) == 1 and second.adopted == ()
    assert services.attendance.open_session_info(course_id).session_id == second.opened[0].session_id  # type: ignore[union-attr]
    assert len(_at(clock, services, datetime(2026, 10, 19, 12, 0, tzinfo=UTC)).closed) == 1


def test_many_courses_starting_at_once_open_in_one_go_and_a_clash_of_ids_falls_back_to_one_by_one(
    services: Services, course_id: int, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two courses at 08:00 whose new sessions draw the same id: the one transaction for both meets the
    unique index, and each opens in its own (with another id); both are claimed once."""
    other = services.courses.create(
        name="Physics", guild_id=GUILD_ID, admin_channel_id=ADMIN_CHANNEL_ID, attendance_channel_id=900000000000000009
    )
    for course in (course_id, other.id):
        services.schedule.add(course, weekday="Monday", start="08:00", minutes=60)
    drawn = iter(["20261019-0800-SAME", "20261019-0800-SAME"])
    real = services.attendance._new_session_id
    monkeypatch.setattr(services.attendance, "_new_session_id", lambda now: next(drawn, None) or real(now))
    done = _at(clock, services, datetime(2026, 10, 19, 8, 0, tzinfo=UTC))
    assert sorted(m.course_name for m in done.opened) == ["Physics", "default"]
    assert len({s.session_id for s in _sessions()}) == 2
    assert sorted(r.state for r in ScheduleRun.select()) == ["opened", "opened"]


def test_a_meeting_that_passed_while_down_is_noted_missed_once_and_never_opened(
    services: Services, course_id: int, clock: FakeClock
) -> None:
    """The first look comes after the meeting's end: one missed meeting, said once; nothing opened."""
    services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=60)
    start = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    done = _at(clock, services, start + timedelta(minutes=61))
    [missed] = done.missed
    assert done.opened == () and _sessions() == []
    assert messages.scheduled_missed(missed) == (
        "default's class of Monday 2026-10-19 (08:00-09:00 UTC) was not opened: the bot was not running at any "
        "time during it."
    )
    assert _at(clock, services, start + timedelta(minutes=62)).missed == ()
    assert [r.state for r in ScheduleRun.select()] == ["missed"]


def test_a_line_added_after_a_start_neither_opens_nor_misses_that_meeting(
    services: Services, course_id: int, clock: FakeClock
) -> None:
    """A line added during (or after) today's meeting acts from its next meeting on."""
    start = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    clock.set(start + timedelta(minutes=5))
    services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=60)
    assert _at(clock, services, start + timedelta(minutes=6)).opened == ()
    assert _at(clock, services, start + timedelta(minutes=61)).missed == ()
    assert len(_at(clock, services, start + timedelta(days=7)).opened) == 1


def test_a_skipped_date_opens_nothing_and_unskipping_brings_it_back(
    services: Services, course_id: int, clock: FakeClock
) -> None:
    """skip leaves out that local date (a holiday); unskip puts it back; each is refused twice."""
    services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=60)
    assert services.schedule.skip(course_id, "2026-10-19") == date(2026, 10, 19)
    with pytest.raises(ScheduleError) as again:
        services.schedule.skip(course_id, "2026-10-19")
    assert str(again.value) == messages.schedule_already_skipped(date(2026, 10, 19))
    assert services.schedule.timetable(course_id).next.day == date(2026, 10, 26)  # type: ignore[union-attr]
    assert _at(clock, services, datetime(2026, 10, 19, 8, 0, 1, tzinfo=UTC)).opened == ()
    services.schedule.unskip(course_id, date(2026, 10, 19))
    with pytest.raises(ScheduleError) as twice:
        services.schedule.unskip(course_id, "2026-10-19")
    assert str(twice.value) == messages.schedule_not_skipped(date(2026, 10, 19))
    assert len(_at(clock, services, datetime(2026, 10, 19, 8, 0, 2, tzinfo=UTC)).opened) == 1


def test_a_removed_line_opens_no_more_but_its_open_session_still_closes_at_the_end(
    services: Services, course_id: int, clock: FakeClock
) -> None:
    entry = services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=60)
    start = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    _at(clock, services, start)
    assert services.schedule.remove(course_id, f"#{entry.id}") == entry
    assert services.schedule.timetable(course_id).entries == ()
    assert len(_at(clock, services, start + timedelta(minutes=60)).closed) == 1
    assert _at(clock, services, start + timedelta(days=7)).opened == ()
    with pytest.raises(ScheduleError) as gone:
        services.schedule.remove(course_id, str(entry.id))
    assert str(gone.value) == messages.schedule_unknown_entry(str(entry.id), [])


def test_an_archived_course_opens_nothing(services: Services, course_id: int, clock: FakeClock) -> None:
    services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=60)
    services.courses.archive(course_id)
    assert _at(clock, services, datetime(2026, 10, 19, 8, 0, tzinfo=UTC)) == Tick()
    with pytest.raises(CourseError):
        services.schedule.add(course_id, weekday="Tuesday", start="08:00", minutes=60)


def test_two_processes_looking_at_once_open_a_meeting_once(
    services: Services, settings: Settings, course_id: int, clock: FakeClock
) -> None:
    """Two schedulers (threads, each with its own connection) look at the same instant, many times
    over: each meeting is opened by one of them and closed by one of them; the database decides."""
    services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=1)
    other = Services(settings, clock)
    results: list[Tick] = []

    def look(which: Services, barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            results.append(which.schedule.tick())
        finally:
            close_db()  # this thread's connection (with a pool: handed back)

    for week in range(4):
        for offset in (0, 60):  # the start, then the end
            clock.set(datetime(2026, 10, 19, 8, 0, tzinfo=UTC) + timedelta(days=7 * week, seconds=offset))
            barrier = threading.Barrier(2)
            threads = [threading.Thread(target=look, args=(s, barrier)) for s in (services, other)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert len(results) == 16  # 4 weeks, start and end, 2 processes
    assert sum(len(r.opened) for r in results) == 4
    assert sum(len(r.closed) for r in results) == 4
    assert sum(len(r.adopted) for r in results) == 0
    assert [s.closed_at is not None for s in _sessions()] == [True] * 4


# -- the timetable's lines -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"weekday": "Someday"},
            messages.schedule_bad_weekday(
                "Someday", ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
            ),
        ),
        ({"start": "24:00"}, messages.schedule_bad_start("24:00")),
        ({"start": "9.30"}, messages.schedule_bad_start("9.30")),
        ({"minutes": 0}, messages.schedule_bad_minutes(0, 1, 240)),
        ({"minutes": 241}, messages.schedule_bad_minutes(241, 1, 240)),
        ({"first": "2026-02-30"}, messages.schedule_bad_date("from", "2026-02-30")),
        ({"until": "next week"}, messages.schedule_bad_date("until", "next week")),
        (
            {"first": "2026-12-01", "until": "2026-11-01"},
            messages.schedule_until_before_from(date(2026, 12, 1), date(2026, 11, 1)),
        ),
    ],
)
def test_an_unusable_line_is_refused_with_its_reason_and_changes_nothing(
    services: Services, course_id: int, values: dict[str, object], expected: str
) -> None:
    line: dict[str, object] = {"weekday": "Monday", "start": "10:00", "minutes": 90} | values
    with pytest.raises(ScheduleError) as refused:
        services.schedule.add(course_id, **line)  # type: ignore[arg-type]
    assert str(refused.value) == expected
    assert services.schedule.timetable(course_id).entries == ()


def test_a_line_that_overlaps_another_is_refused_but_one_after_it_is_kept(services: Services, course_id: int) -> None:
    first = services.schedule.add(course_id, weekday="Monday", start="10:00", minutes=90, until="2026-12-18")
    with pytest.raises(ScheduleError) as refused:
        services.schedule.add(course_id, weekday="Monday", start="11:00", minutes=30)
    assert str(refused.value) == messages.schedule_overlaps(first.id, "Monday", "10:00", 90)
    with pytest.raises(ScheduleError):  # an earlier one that runs into it
        services.schedule.add(course_id, weekday="Monday", start="09:00", minutes=61)
    services.schedule.add(course_id, weekday="Monday", start="11:30", minutes=30)
    services.schedule.add(course_id, weekday="Monday", start="11:00", minutes=30, first="2027-01-04")  # after it ends
    assert len(services.schedule.timetable(course_id).entries) == 3


def test_a_line_across_midnight_overlaps_the_next_days_first(services: Services, course_id: int) -> None:
    services.schedule.add(course_id, weekday="Sunday", start="23:30", minutes=60)
    with pytest.raises(ScheduleError):
        services.schedule.add(course_id, weekday="Monday", start="00:15", minutes=10)


def test_the_timetable_lists_lines_skipped_dates_and_the_next_meeting(
    services: Services, course_id: int, clock: FakeClock
) -> None:
    services.courses.edit(course_id, timezone="Europe/Berlin")
    monday = services.schedule.add(course_id, weekday="Monday", start="10:00", minutes=90, until="2026-12-18")
    services.schedule.add(course_id, weekday="Wed", start="14:15", minutes=45, first="2026-10-21")
    services.schedule.skip(course_id, "2026-10-19")
    timetable = services.schedule.timetable(course_id)
    assert timetable.next is not None and timetable.next.day == date(2026, 10, 21)
    assert messages.timetable_reply(timetable).splitlines() == [
        "default's timetable (Europe/Berlin):",
        f"  #{monday.id} Monday 10:00 for 90 min, until 2026-12-18",
        f"  #{monday.id + 1} Wednesday 14:15 for 45 min, from 2026-10-21",
        "Skipped: 2026-10-19",
        f"Next: Wed 2026-10-21 14:15 (line #{monday.id + 1})",
    ]


def test_remaining_occurrences_counts_what_is_left_of_a_timetable_with_an_end(
    services: Services, course_id: int
) -> None:
    """Strictly after the instant, skipped dates left out; None without a timetable or with an open end."""
    after = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    assert services.schedule.remaining_occurrences(course_id, after) is None
    services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=60, until="2026-11-09")
    # Mondays 10-19 (08:00 is not after 08:00), 10-26, 11-02, 11-09
    assert services.schedule.remaining_occurrences(course_id, after) == 3
    assert services.schedule.remaining_occurrences(course_id, after - timedelta(seconds=1)) == 4
    services.schedule.skip(course_id, "2026-11-02")
    assert services.schedule.remaining_occurrences(course_id, after) == 2
    services.schedule.add(course_id, weekday="Friday", start="08:00", minutes=60)
    assert services.schedule.remaining_occurrences(course_id, after) is None


# -- the course's timezone ---------------------------------------------------------------------


def test_a_course_timezone_is_an_iana_name_spelled_as_tzdata_spells_it(services: Services, course_id: int) -> None:
    """Unset it follows TIMEZONE; any case is taken and kept as tzdata spells it; an unknown name is
    refused with the reason and changes nothing; None follows TIMEZONE again."""
    assert services.courses.get(course_id).timezone == services.settings.timezone.key == "UTC"
    assert services.courses.edit(course_id, timezone="america/new_york").timezone == "America/New_York"
    for wrong in ("Mars/Olympus_Mons", "../etc/passwd", ""):
        with pytest.raises(CourseError) as refused:
            services.courses.edit(course_id, timezone=wrong)
        assert str(refused.value) == messages.course_timezone_unknown(wrong)
    assert services.courses.get(course_id).timezone == "America/New_York"
    assert services.courses.edit(course_id, timezone=None).timezone == "UTC"


def test_parse_start_reads_hours_and_minutes() -> None:
    assert parse_start(" 9:05 ").strftime("%H:%M") == "09:05"


def test_entries_overlap_around_the_week() -> None:
    sunday = Entry(1, 1, 6, parse_start("23:00"), 120)
    monday = Entry(2, 1, 0, parse_start("00:30"), 10)
    assert sunday.overlaps(monday) and monday.overlaps(sunday)
    assert not sunday.overlaps(Entry(3, 1, 0, parse_start("01:00"), 10))


def test_the_warnings_read_the_classes_still_to_come_from_the_timetable(services: Services, course_id: int) -> None:
    """Services hands the warnings the timetable's count (who can no longer reach the line needs it)."""
    after = datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    assert services.warnings.remaining(course_id, after) is None
    services.schedule.add(course_id, weekday="Monday", start="08:00", minutes=60, until="2026-11-09")
    assert services.warnings.remaining(course_id, after) == 3
