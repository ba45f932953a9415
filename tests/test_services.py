"""Services: one object built from settings and a clock; every feature's writes take that clock's time."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from _course import GUILD_ID

from attendance_bot.models import Course, Event, Student
from attendance_bot.services import Services
from attendance_bot.settings import Settings

pytestmark = pytest.mark.backends("sqlite", "postgresql")

LONG_AGO = datetime(2001, 9, 3, 8, 0, tzinfo=timezone.utc)


class _Stopped:
    """A clock that shows one instant, far from the wall clock's, and counts its readings."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> datetime:
        self.readings += 1
        return LONG_AGO


def test_every_service_shares_the_settings_and_the_clock(settings: Settings, db: Path | str) -> None:
    """The services of one Services object see its settings and its clock, and the courses service is one."""
    clock = _Stopped()
    services = Services(settings, clock)
    for service in (
        services.attendance,
        services.roster,
        services.corrections,
        services.seed_import,
        services.warnings,
    ):
        assert service.settings is settings and service.clock is clock
    assert services.students.clock is clock and services.courses.clock is clock
    assert services.courses is services.attendance.courses


def test_a_course_and_a_registration_take_the_injected_time(settings: Settings, db: Path | str) -> None:
    """Creating and archiving a course and registering a student write the clock's time, not the wall clock's."""
    services = Services(settings, _Stopped())
    course = services.courses.create(
        name="Algebra", guild_id=GUILD_ID, admin_channel_id=810000000000000001, attendance_channel_id=810000000000000002
    )
    services.courses.archive(course.id)
    services.students.register(guild_id=GUILD_ID, user_id=42, student_id="S42", username="ada")
    row = Course.get_by_id(course.id)
    assert (row.created_at, row.archived_at) == (LONG_AGO, LONG_AGO)
    assert Student.get(Student.user_id == 42).registered_at == LONG_AGO
    assert [e.at for e in Event.select().where(Event.user_id == 42)] == [LONG_AGO]
