"""`manage.py schedule add|list|remove|skip|unskip` and `course edit --timezone`, run in-process."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from _shell import manage, ok

from attendance_bot import messages
from attendance_bot.models import close_db, init_db
from attendance_bot.services import Services
from attendance_bot.settings import load_settings

GUILD = "900000000000000001"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A made, empty database and one course, Math."""
    database = tmp_path / "db" / "attendance.db"
    database.parent.mkdir()
    init_db(database)
    close_db()
    environ = {"PATH": os.environ.get("PATH", ""), "DATABASE_PATH": str(database), "HOME": str(tmp_path)}
    ok(
        "course",
        "add",
        "--name",
        "Math",
        "--guild",
        GUILD,
        "--admin-channel",
        "800000000000000001",
        "--attendance-channel",
        "800000000000000002",
        env=environ,
    )
    return environ


def fails(*args: str, env: dict[str, str]) -> str:
    """The one error line of a command that fails with status 1."""
    result = manage(*args, env=env)
    assert result.returncode == 1, result.stdout.decode()
    assert result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr, result.stderr.decode()
    return result.stderr.decode().removeprefix("Error: ").rstrip("\n")


def _services(env: dict[str, str]) -> Services:
    settings = load_settings(None, environ=env, require_discord=False)
    init_db(settings.database_target, upgrade=False)
    return Services(settings)


def test_add_list_remove_skip_and_unskip_from_the_shell(env: dict[str, str]) -> None:
    """Each action says what it did with the same sentences as Discord; list shows the lines and skips."""
    ok("course", "edit", "Math", "--timezone", "europe/berlin", env=env)
    added = ok(
        "schedule", "add", "--weekday", "mon", "--start", "10:00", "--minutes", "90", "--until", "2027-02-12", env=env
    )
    services = _services(env)
    try:
        course = services.courses.find("Math")
        [entry] = services.schedule.timetable(course.id).entries
    finally:
        close_db()
    assert course.timezone == "Europe/Berlin"
    assert added == messages.schedule_added("Math", entry, "Europe/Berlin") + "\n"
    assert ok("schedule", "skip", "2026-12-21", env=env) == messages.schedule_skipped("Math", date(2026, 12, 21)) + "\n"
    listing = ok("schedule", "list", "--course", "Math", env=env).splitlines()
    assert listing[:3] == [
        "Math's timetable (Europe/Berlin):",
        f"  {messages.schedule_entry_line(entry)}",
        "Skipped: 2026-12-21",
    ]
    assert (
        ok("schedule", "unskip", "2026-12-21", env=env)
        == messages.schedule_unskipped("Math", date(2026, 12, 21)) + "\n"
    )
    assert fails("schedule", "unskip", "2026-12-21", env=env) == messages.schedule_not_skipped(date(2026, 12, 21))
    assert ok("schedule", "remove", f"#{entry.id}", env=env) == messages.schedule_removed("Math", entry) + "\n"
    assert ok("schedule", "list", env=env).startswith("Math has no timetable")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--weekday", "Funday", "--start", "10:00", "--minutes", "60"), "The weekday is one of Monday"),
        (("--weekday", "Monday", "--start", "10h", "--minutes", "60"), messages.schedule_bad_start("10h")),
        (("--weekday", "Monday", "--start", "10:00", "--minutes", "600"), messages.schedule_bad_minutes(600, 1, 240)),
        (("--weekday", "Monday", "--start", "10:00", "--minutes", "lots"), "--minutes"),
        (
            ("--weekday", "Monday", "--start", "10:00", "--minutes", "60", "--from", "1 Sept"),
            messages.schedule_bad_date("from", "1 Sept"),
        ),
    ],
)
def test_a_bad_line_is_one_error_line_and_changes_nothing(
    env: dict[str, str], args: tuple[str, ...], expected: str
) -> None:
    assert expected in fails("schedule", "add", *args, env=env)
    assert ok("schedule", "list", env=env).startswith("Math has no timetable")


def test_an_unknown_timezone_is_refused_in_one_line(env: dict[str, str]) -> None:
    assert fails("course", "edit", "Math", "--timezone", "Berlin", env=env) == messages.course_timezone_unknown(
        "Berlin"
    )
    ok("course", "edit", "Math", "--timezone", "Asia/Tokyo", env=env)
    ok("course", "edit", "Math", "--timezone", "default", env=env)
    services = _services(env)
    try:
        assert services.courses.find("Math").timezone == "UTC"
    finally:
        close_db()


def test_every_schedule_action_has_help(env: dict[str, str]) -> None:
    for action in ("add", "list", "remove", "skip", "unskip"):
        result = manage("schedule", action, "--help", env=env)
        assert result.returncode == 0 and b"--course" in result.stdout, action
