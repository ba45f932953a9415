"""`manage.py history --student X [--course X]` (read-only) and `manage.py mark`: a student's events
and an instructor's correction from the shell, over the real database."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sqlite3
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from _course import ATTENDANCE_CHANNEL_ID, GUILD_ID
from _shell import run_shell
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from attendance_bot import messages
from attendance_bot.attendance import AttendanceService
from attendance_bot.corrections import STATUSES, CorrectionService
from attendance_bot.courses import CourseService
from attendance_bot.models import init_db
from attendance_bot.roster import RosterRow, RosterService
from attendance_bot.settings import Settings
from attendance_bot.students import StudentService

if TYPE_CHECKING:
    from conftest import FakeClock

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "attendance-v1.db"
ADA = 900000000000000011
OTHER_GUILD = 900000000000000100


@pytest.fixture
def semester(service: AttendanceService, clock: FakeClock) -> dict[str, str]:
    """Course `default` with a roster (S1 Ada, S3 Cy), Ada registered and checked in to the first of
    two sessions, a second course `lab` in the same server, and a mark of each student."""
    course = service.course(None).id
    RosterService(service.settings, clock).import_roster(
        course, [RosterRow("S1", "Ada Lovelace", "ada"), RosterRow("S3", "Cy Young", None)], replace=False, actor="t"
    )
    StudentService().register(guild_id=GUILD_ID, user_id=ADA, student_id="S1", name="Ada Lovelace", username="ada")
    clock.set(datetime.now(timezone.utc) + timedelta(minutes=1))  # registrations take the wall clock
    first = service.open_session(course).session_id
    code = service.current_code(course_id=course).code
    assert service.submit(
        user_id=ADA, username="ada", code=code, channel_id=ATTENDANCE_CHANNEL_ID, guild_id=GUILD_ID
    ).accepted
    service.close_session(course_id=course)
    clock.advance(86400)
    second = service.open_session(course).session_id
    lab = CourseService(service.settings).create(
        name="lab", guild_id=GUILD_ID, admin_channel_id=900000000000000042, attendance_channel_id=900000000000000043
    )
    lab_session = service.open_session(lab.id).session_id
    corrections = CorrectionService(service.settings, clock)
    clock.advance(60)
    corrections.mark(course, "S1", "late", first, reason="bus", actor="inst")
    clock.advance(60)
    corrections.mark(course, "S3", "excused", second, actor="inst")
    clock.advance(60)
    corrections.mark(lab.id, f"<@{ADA}>", "absent", lab_session, actor="ta")  # S1 is on no roster of lab
    return {"first": first, "second": second, "lab": lab_session}


@pytest.fixture
def environ(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_PATH": str(settings.database_path), "TIMEZONE": "Europe/Paris"}


def run(environ: dict[str, str], *args: str) -> tuple[int, str, str]:
    """manage.py in this process, with an empty settings file: status, stdout, stderr."""
    env_file = Path(environ["DATABASE_PATH"]).parent.parent / "empty.env"
    env_file.touch()
    done = run_shell(*args, environ=environ, env_file=env_file)
    return done.returncode, done.out, done.err


def events(path: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute('SELECT * FROM "event" ORDER BY id').fetchall()


def expected_lines(settings: Settings, student: str, course_id: int | None = None) -> list[str]:
    """The lines history should print, from the service itself (TIMEZONE Europe/Paris)."""
    init_db(settings.database_path)
    found = CorrectionService(settings).history(GUILD_ID, student, course_id)
    return [messages.history_line(event, ZoneInfo("Europe/Paris")) for event in found]


def test_history_prints_one_line_per_event_oldest_first(
    settings: Settings, environ: dict[str, str], semester: dict[str, str]
) -> None:
    """Every course of the server: registration, check-in, marks; times in TIMEZONE; nothing written."""
    before = events(settings.database_path)
    status, out, err = run(environ, "history", "--student", "s1")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines == expected_lines(settings, "S1")
    assert [line.split("  ")[3] for line in lines if "check-in" not in line] == ["register", "mark", "mark"]
    assert f"  default  {semester['first']}  mark  present → late  reason: 'bus'  by inst (manual)" in out
    assert f"  lab  {semester['lab']}  mark  - → absent  no reason  by ta (manual)" in out
    assert events(settings.database_path) == before


def test_history_of_one_course(settings: Settings, environ: dict[str, str], semester: dict[str, str]) -> None:
    """--course keeps that course's events and the registrations."""
    status, out, _ = run(environ, "history", "--student", f"<@{ADA}>", "--course", "LAB")
    assert status == 0
    assert [line.split("  ")[3] for line in out.splitlines()] == ["register", "mark"]


def test_history_of_a_roster_student_without_an_account(
    settings: Settings, environ: dict[str, str], semester: dict[str, str]
) -> None:
    """Cy has only her mark."""
    status, out, _ = run(environ, "history", "--student", "Cy Young")
    assert status == 0
    assert out == f"{expected_lines(settings, 'S3')[0]}\n"
    assert f"{semester['second']}  mark  - → excused" in out


def test_a_student_with_no_events_says_so(
    settings: Settings, environ: dict[str, str], semester: dict[str, str], clock: FakeClock
) -> None:
    """A roster student of whom nothing happened yet: one sentence."""
    init_db(settings.database_path)
    course = CourseService(settings).find("default", GUILD_ID).id
    RosterService(settings, clock).import_roster(course, [RosterRow("S5", "Quiet One", None)], replace=False, actor="t")
    status, out, _ = run(environ, "history", "--student", "S5")
    assert (status, out) == (0, messages.history_empty("S5 (Quiet One)") + "\n")


@pytest.mark.parametrize("typed", ["S99", "nobody", "", "x" * 6000, "=cmd|' /C calc'!A0", "\u202eS1"])
def test_an_unknown_student_is_one_line_and_status_one(
    environ: dict[str, str], semester: dict[str, str], typed: str
) -> None:
    """Nobody by that name: one line on stderr, exit 1."""
    status, out, err = run(environ, "history", "--student", typed)
    assert (status, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith("Error: ")
    assert "No student" in err or "Say which student" in err


@pytest.mark.parametrize("guild", [None, str(GUILD_ID)])
def test_without_course_every_course_of_the_database_is_searched(
    settings: Settings, environ: dict[str, str], semester: dict[str, str], clock: FakeClock, guild: str | None
) -> None:
    """The shell has no server: S001, on the roster of a course of no server beside the server's
    courses, is found without --course (GUILD_ID set or not), with the events of every course;
    --course keeps one."""
    init_db(settings.database_path)
    night = (
        CourseService(settings)
        .create(name="night", guild_id=None, admin_channel_id=None, attendance_channel_id=None)
        .id
    )
    CourseService(settings).create(
        name="elsewhere",
        guild_id=OTHER_GUILD,
        admin_channel_id=900000000000000052,
        attendance_channel_id=900000000000000053,
    )
    RosterService(settings, clock).import_roster(
        night, [RosterRow("S001", "Night Owl", None)], replace=False, actor="t"
    )
    service = AttendanceService(settings, clock)
    session = service.open_session(night).session_id
    CorrectionService(settings, clock).mark(night, "S001", "excused", session, reason="shift", actor="inst")
    env = environ if guild is None else {**environ, "GUILD_ID": guild}
    status, out, err = run(env, "history", "--student", "s001")
    assert (status, err) == (0, "")
    assert [line.split("  ")[1:4] for line in out.splitlines()] == [["night", session, "mark"]]
    status, out, _ = run(env, "history", "--student", "S1")
    assert status == 0 and "register" in out and "  lab  " in out and "  default  " in out
    status, out, err = run(env, "history", "--student", "S001", "--course", "default")
    assert (status, out) == (1, "")
    assert (
        err
        == f"Error: {messages.shell_student_unknown('S001', 'default')} {messages.looked_in(settings.database_shown)}\n"
    )


@pytest.mark.parametrize("typed", ["S99", "nobody", "=cmd|' /C calc'!A0", "\u202eS1", "900000000000000099"])
def test_an_unknown_student_is_worded_for_the_shell(
    settings: Settings, environ: dict[str, str], semester: dict[str, str], typed: str
) -> None:
    """No "in this server", no "pick one from the list": the database looked in is named, and no
    raw control character reaches the terminal."""
    status, out, err = run(environ, "history", "--student", typed)
    assert (status, out) == (1, "")
    assert (
        err == f"Error: {messages.shell_student_unknown(typed, None)} {messages.looked_in(settings.database_shown)}\n"
    )
    assert str(settings.database_path) in err
    assert "this server" not in err and "pick one from the list" not in err
    assert not any(unicodedata.category(ch)[0] == "C" for ch in err.rstrip("\n"))


def test_history_never_creates_a_database(tmp_path: Path) -> None:
    """Read-only: a missing database is one line, and stays missing."""
    path = tmp_path / "none" / "attendance.db"
    status, _, err = run({"DATABASE_PATH": str(path)}, "history", "--student", "S1")
    assert status == 1 and err == f"Error: {messages.no_database_at(path)}\n"
    assert not path.exists()


def test_history_never_upgrades_an_older_database(tmp_path: Path) -> None:
    """Read-only: an older database is refused (run `migrate`) and left byte for byte."""
    path = tmp_path / "old" / "attendance.db"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    path.chmod(0o600)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    status, _, err = run({"DATABASE_PATH": str(path)}, "history", "--student", "S1")
    assert status == 1 and "needs an upgrade" in err and err.count("\n") == 1
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


# -- mark -------------------------------------------------------------------------------------


def test_mark_corrects_the_default_session_and_says_so(
    settings: Settings, environ: dict[str, str], semester: dict[str, str]
) -> None:
    """`mark` without --session: the course's open one; the event names the shell's user."""
    status, out, err = run(environ, "mark", "--student", "S3", "--status", "absent", "--course", "default")
    assert (status, err) == (0, "")
    assert out.startswith(f"✅ S3 (Cy Young): excused → absent in session {semester['second']}.")
    last = events(settings.database_path)[-1]
    assert "mark" in last and "absent" in last and "excused" in last


def test_mark_takes_the_course_from_the_session(
    settings: Settings, environ: dict[str, str], semester: dict[str, str]
) -> None:
    """With two courses, --session alone says which; a closed session can be corrected; again: nothing changes."""
    args = (
        "mark",
        "--student",
        "ada",
        "--status",
        "excused",
        "--session",
        f" {semester['first']} ",
        "--reason",
        "sick",
    )
    status, out, _ = run(environ, *args)
    assert status == 0 and "late → excused" in out and "(closed)" in out and "sick" in out
    count = len(events(settings.database_path))
    status, out, _ = run(environ, *args)
    assert status == 0 and "nothing changed" in out
    assert len(events(settings.database_path)) == count


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--status", "here"), messages.status_invalid("here", STATUSES)),
        (("--status", "absent", "--reason", "r" * 201), messages.reason_too_long(200, 201)),
    ],
)
def test_mark_refuses_before_opening_the_database(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    """A bad status or reason is one line; no database is created for it."""
    path = tmp_path / "none" / "attendance.db"
    status, _, err = run({"DATABASE_PATH": str(path)}, "mark", "--student", "S1", *args)
    assert (status, err) == (1, f"Error: {expected}\n")
    assert not path.exists()


@pytest.mark.parametrize("name", ["history", "mark"])
def test_the_commands_have_help(name: str, tmp_path: Path) -> None:
    """`manage.py history --help` and `mark --help` work without any configuration."""
    result = run_shell(name, "--help", environ={"PATH": "", "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert f"usage: manage.py {name}".encode() in result.stdout and b"--student" in result.stdout


@given(
    typed=st.one_of(
        st.text(max_size=200), st.sampled_from(["x" * 6000, "\x1b[2J", "\u202e1S", "@everyone", "<@1>", "-1", "\x00"])
    )
)
@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_student_value_ends_in_one_line(environ: dict[str, str], semester: dict[str, str], typed: str) -> None:
    """Whatever is typed: lines of history, or one line of error; never a traceback or an escape sequence."""
    if "\x00" in typed:  # a NUL cannot be passed on a real command line
        typed = typed.replace("\x00", "")
    status, out, err = run(environ, "history", f"--student={typed}")
    assert "Traceback" not in err and "\x1b" not in out + err
    if status:
        assert err.count("\n") == 1 and out == ""
    else:
        assert out.endswith("\n")


# -- manage.py claims and link (issue 15 item 1, from the shell) ---------------------------------

MAL = 900000000000000021
CY = 900000000000000013


def test_claims_lists_the_waiting_claims_and_link_settles_one(
    settings: Settings, environ: dict[str, str], semester: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mallory claims S3 (Cy on the roster, no username): `claims` lists it; `link --student S3
    --user CY` confirms Cy, replaces Mallory's claim with events naming shell:$USER; `claims` is empty."""
    init_db(settings.database_path)
    monkeypatch.setenv("USER", "prof")
    StudentService().register(guild_id=GUILD_ID, user_id=MAL, student_id="s3", username="mallory")
    status, out, err = run(environ, "claims", "--course", "default")
    assert (status, err) == (0, "")
    assert out.splitlines() == messages.claims_lines("default", [("s3", MAL, None, "Cy Young")], mention=False)
    status, out, err = run(
        {**environ, "USER": "prof"}, "link", "--student", "S3", "--user", str(CY), "--course", "default"
    )
    assert (status, err) == (0, "")
    assert out == messages.linked_reply("default", "S3", CY, [MAL], mention=False) + "\n"
    with contextlib.closing(sqlite3.connect(settings.database_path)) as conn:
        assert conn.execute(
            "SELECT user_id, student_id, confirmed FROM student WHERE student_key = 's3'"
        ).fetchall() == [(CY, "S3", 1)]
        actions = conn.execute("SELECT action, user_id, actor FROM event WHERE action IN ('link', 'unlink')").fetchall()
    assert actions == [("unlink", MAL, "shell:prof"), ("link", CY, "shell:prof")]
    status, out, _ = run(environ, "claims", "--course", "default")
    assert out == messages.claims_lines("default", [], mention=False)[0] + "\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--student", "S3", "--user", "cy"], messages.shell_user_id_invalid("cy")),
        (["--student", "S3", "--user", "12"], messages.shell_user_id_invalid("12")),
        (["--student", "S99", "--user", str(CY)], messages.link_unknown_student("S99", "default")),
    ],
)
def test_link_refuses_bad_input_and_changes_nothing(
    settings: Settings, environ: dict[str, str], semester: dict[str, str], args: list[str], expected: str
) -> None:
    """Not an account id, or an id of no roster or claim of the course: one line, status 1, nothing written."""
    before = events(settings.database_path)
    status, out, err = run(environ, "link", *args, "--course", "default")
    assert (status, out, err) == (1, "", f"Error: {expected}\n")
    assert events(settings.database_path) == before
