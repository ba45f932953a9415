"""Course settings are described once (coursesettings.COURSE_SETTINGS): create, edit, info, the shell's
options, the Discord options and the `.env` course follow the table, so a new setting is one entry there."""

from __future__ import annotations

import argparse
import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from _course import ADMIN_CHANNEL_ID, ATTENDANCE_CHANNEL_ID, GUILD_ID

from attendance_bot import messages
from attendance_bot.attendance import AttendanceService
from attendance_bot.bot.cogs import COGS
from attendance_bot.courses import EDITABLE, CourseService
from attendance_bot.coursesettings import COURSE_SETTINGS, CourseSetting
from attendance_bot.errors import CourseError
from attendance_bot.migrations import CourseDefaults
from attendance_bot.models import Course
from attendance_bot.records import CourseInfo
from attendance_bot.settings import Settings
from attendance_bot.shell.entry import build_parser

pytestmark = pytest.mark.backends("sqlite", "postgresql")
NUMBERS = [s for s in COURSE_SETTINGS if s.is_number]
SWITCHES = [s for s in COURSE_SETTINGS if s.is_switch]
POINTS = [s for s in COURSE_SETTINGS if s.is_points]


def _shell_options(action: str) -> list[str]:
    """The setting options of `manage.py course ACTION`, in order (name, guild, env file left out)."""
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    course = commands.choices["course"]
    actions = next(a for a in course._actions if isinstance(a, argparse._SubParsersAction))
    child = actions.choices[action]
    options = [a.option_strings[0] for a in child._actions if a.option_strings]
    return [o for o in options if o not in ("-h", "--name", "--guild", "--env-file")]


def _discord_options(sub: str) -> list[dict[str, Any]]:
    """The options of `/course SUB` as Discord receives them (course and name left out)."""
    cogs = [cog.__new__(cog) for cog in COGS]
    payloads = [c.get_payload(None) for cog in cogs for c in cog.__cog_application_commands__]
    course = next(p for p in payloads if p["name"] == "course")
    options = next(o for o in course["options"] if o["name"] == sub)["options"]
    return [o for o in options if o["name"] not in ("course", "name", "clear")]


@pytest.mark.parametrize("action", ["add", "edit"])
def test_the_shell_offers_every_setting(action: str) -> None:
    """`course add|edit` have one option per setting, in the table's order."""
    assert _shell_options(action) == [f"--{s.option.replace('_', '-')}" for s in COURSE_SETTINGS]


def test_the_shell_help_gives_each_numbers_bounds() -> None:
    """The help of a number setting names the bounds the table checks (and a decimal's places)."""
    assert NUMBERS and POINTS
    for setting in NUMBERS + POINTS:
        assert f"{setting.low}-{setting.high}" in setting.help, setting.field
    for setting in POINTS:
        assert f"at most {setting.places} decimals" in setting.help, setting.field


@pytest.mark.parametrize(("sub", "described"), [("create", lambda s: s.discord_create), ("edit", lambda s: s.discord)])
def test_discord_offers_the_settings_the_table_puts_there(sub: str, described: Any) -> None:
    """/course create|edit have one option per setting the table describes for it, with its bounds."""
    on_discord = [s for s in COURSE_SETTINGS if described(s)]
    options = _discord_options(sub)
    assert [o["name"] for o in options] == [s.option for s in on_discord]
    for option, setting in zip(options, on_discord, strict=True):
        assert option["description"] == described(setting)
        if setting.is_number:
            assert (option["min_value"], option["max_value"]) == (setting.low, setting.high)
            assert option["type"] == 4  # Discord's INTEGER
        if setting.is_points:
            assert (option["min_value"], option["max_value"]) == (setting.low, setting.high)
            assert option["type"] == 10  # Discord's NUMBER: a decimal typed as it is
        if setting.is_choice:
            assert [c["value"] for c in option["choices"]] == list(setting.choices)
        if setting.is_switch:
            assert option["type"] == 5  # a boolean: Discord's True/False picker


def test_every_setting_is_a_column_an_info_field_and_editable() -> None:
    """Each setting is stored (a Course column), shown (a CourseInfo field) and editable; `.env` sets exactly
    the settings the table says on the course it defines."""
    info_fields = {f.name for f in dataclasses.fields(CourseInfo)}
    env_fields = {f.name for f in dataclasses.fields(CourseDefaults)} - {"name", "guild_id"}
    for setting in COURSE_SETTINGS:
        assert setting.field in Course._meta.fields, setting.field
        assert setting.field in info_fields, setting.field
        assert setting.field in EDITABLE, setting.field
    assert env_fields == {s.field for s in COURSE_SETTINGS if s.env}


@pytest.fixture
def courses(service: AttendanceService) -> CourseService:
    return service.courses


def _create(courses: CourseService, **more: int | None) -> CourseInfo:
    return courses.create(
        name="Math 101",
        guild_id=GUILD_ID,
        admin_channel_id=ADMIN_CHANNEL_ID,
        attendance_channel_id=ATTENDANCE_CHANNEL_ID,
        **more,
    )


@pytest.mark.parametrize("setting", NUMBERS, ids=lambda s: s.field)
@pytest.mark.parametrize("edge", ["low", "high"])
def test_a_number_just_outside_its_bounds_is_refused(courses: CourseService, setting: CourseSetting, edge: str) -> None:
    """create refuses a value one past either bound with the range message, and stores nothing."""
    assert setting.low is not None and setting.high is not None
    value = setting.low - 1 if edge == "low" else setting.high + 1
    before = courses.courses()
    with pytest.raises(CourseError) as caught:
        _create(courses, **{setting.field: value})
    low, high = setting.low, setting.high
    assert str(caught.value) == messages.course_setting_out_of_range(setting.field, value, low, high, setting.kind)
    assert courses.courses() == before


@pytest.mark.parametrize("setting", NUMBERS, ids=lambda s: s.field)
def test_a_number_at_its_bounds_is_kept_and_shown(courses: CourseService, setting: CourseSetting) -> None:
    """Both bounds are accepted by create and edit, and info shows what was set."""
    assert setting.low is not None and setting.high is not None
    course = _create(courses, **{setting.field: setting.high})
    assert getattr(course, setting.field) == setting.high
    edited = courses.edit(course.id, **{setting.field: setting.low})
    shown = None if setting.zero_unsets else setting.low  # late_after 0: never late, stored as unset (warn_below too)
    assert getattr(edited, setting.field) == shown


def test_an_unset_setting_follows_what_the_table_says(courses: CourseService, settings: Settings) -> None:
    """info fills an unset setting from its `.env` default or the setting it follows, else leaves it unset."""
    course = _create(courses)
    for setting in COURSE_SETTINGS:
        if setting.required:
            continue
        if setting.default is not None:
            expected = getattr(settings, setting.default)
        elif setting.default_field is not None:
            expected = getattr(course, setting.default_field)
        elif setting.default_value is not None:
            expected = setting.default_value
        else:
            expected = None
        assert getattr(course, setting.field) == expected, setting.field


@pytest.mark.parametrize("setting", SWITCHES, ids=lambda s: s.field)
def test_a_switch_is_kept_turned_off_and_on_again(courses: CourseService, setting: CourseSetting) -> None:
    """An on/off setting: create and edit keep False and True, info shows them; anything else is a bug, not a value."""
    course = _create(courses, **{setting.field: not setting.default_value})
    assert getattr(course, setting.field) is (not setting.default_value)
    assert (
        getattr(courses.edit(course.id, **{setting.field: setting.default_value}), setting.field)
        is setting.default_value
    )
    with pytest.raises(TypeError):
        courses.edit(course.id, **{setting.field: "no"})


@pytest.mark.parametrize("setting", POINTS, ids=lambda s: s.field)
def test_a_decimal_at_its_bounds_and_places_is_kept_and_shown(courses: CourseService, setting: CourseSetting) -> None:
    """A decimal setting takes both bounds and a value with its places of decimals, and info shows it."""
    assert setting.low is not None and setting.high is not None
    course = _create(courses, **{setting.field: Decimal(setting.high)})
    assert getattr(course, setting.field) == setting.high
    finest = Decimal(1).scaleb(-setting.places)  # 0.01 for two places
    for value in (Decimal(setting.low), setting.high - finest):
        assert getattr(courses.edit(course.id, **{setting.field: value}), setting.field) == value


@pytest.mark.parametrize("setting", POINTS, ids=lambda s: s.field)
@pytest.mark.parametrize("case", ["below", "above", "too fine"])
def test_a_decimal_outside_its_bounds_or_places_is_refused(
    courses: CourseService, setting: CourseSetting, case: str
) -> None:
    """create refuses a value just past a bound, or with one decimal too many, with the range message; stores nothing."""
    assert setting.low is not None and setting.high is not None
    finest = Decimal(1).scaleb(-setting.places)
    value = {
        "below": setting.low - finest,
        "above": setting.high + finest,
        "too fine": setting.low + finest / 2,
    }[case]
    before = courses.courses()
    with pytest.raises(CourseError) as caught:
        _create(courses, **{setting.field: value})
    low, high = setting.low, setting.high
    assert str(caught.value) == messages.course_setting_out_of_range(setting.field, value, low, high, setting.kind)
    assert courses.courses() == before
