"""manage.py with courses: `courses`, `course add|edit|archive`, `--course`, the `.env` course,
`migrate` and `check` on an older database. In this process (tests/_shell.py), against temporary SQLite
files; `code --watch` and its Ctrl-C in a process of its own."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from _shell import manage, ok
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from attendance_bot import messages, migrations
from attendance_bot.attendance import AttendanceService
from attendance_bot.courses import CourseService
from attendance_bot.models import close_db, init_db
from attendance_bot.settings import MAX_INTERVAL, MIN_INTERVAL, load_settings
from attendance_bot.shell import base
from attendance_bot.shell.entry import main

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ROOT / "manage.py"
FIXTURE = ROOT / "tests" / "fixtures" / "attendance-v1.db"
HEADER = b"user_id,username,timestamp,date_id,session_id\r\n"
GUILD = "900000000000000001"
OTHER_GUILD = "900000000000000002"
ENV_CHANNELS = {"ADMIN_CHANNEL_ID": "123456789012345678", "ATTENDANCE_CHANNEL_ID": "123456789012345679"}
COURSES_HEADER = (
    "course               server               admin channel        attendance channel   display channel      "
    "instructor role      length  every  grace     late code       session"
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Nothing of the developer's: PATH, a temporary database (made, empty, as `migrate` or the bot
    makes it), no `.env` course."""
    database = tmp_path / "db" / "attendance.db"
    database.parent.mkdir()
    init_db(database)
    close_db()
    return {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_PATH": str(database),
        "HOME": str(tmp_path),
    }


def fails(*args: str, env: dict[str, str]) -> str:
    """The one error line of a command that must fail with status 1."""
    result = manage(*args, env=env)
    assert result.returncode == 1, result.stdout.decode()
    assert result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr, result.stderr.decode()
    assert result.stdout == b""
    return result.stderr.decode()


def add(env: dict[str, str], name: str, guild: str = GUILD, *extra: str) -> str:
    return ok(
        "course",
        "add",
        "--name",
        name,
        "--guild",
        guild,
        "--admin-channel",
        "800000000000000001",
        "--attendance-channel",
        "800000000000000002",
        *extra,
        env=env,
    )


def session_of(opened: str) -> str:
    """The session id in `open`'s line: "Opened session ID of course 'X'; code now ..."."""
    return opened.split()[2].rstrip(";")


def rows_of(listing: str) -> dict[str, list[str]]:
    """`courses` output: the course name (first column, no spaces in these tests) -> its columns."""
    lines = [line for line in listing.splitlines()[1:] if line != messages.courses_without_server()]
    return {line.split()[0]: line.split() for line in lines}


def _service(env: dict[str, str]) -> AttendanceService:
    settings = load_settings(None, environ={"DATABASE_PATH": env["DATABASE_PATH"]}, require_discord=False)
    init_db(settings.database_path)
    return AttendanceService(settings)


def _submit_correct(env: dict[str, str], session_id: str, students: list[tuple[int, str]]) -> None:
    """Record students through the service, as the bot would, on the same database."""
    service = _service(env)
    try:
        for user_id, name in students:
            code = service.current_code(session_id).code
            assert service.submit(user_id=user_id, username=name, code=code).accepted
    finally:
        close_db()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def old_database(env: dict[str, str], tmp_path: Path) -> Path:
    """A copy of the release-before-courses database (the fixture itself is never written)."""
    path = Path(env["DATABASE_PATH"])
    for made in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):  # the new database env made
        made.unlink(missing_ok=True)
    shutil.copyfile(FIXTURE, path)
    path.chmod(0o600)
    return path


def _counts(path: Path) -> tuple[int, int, int]:
    with contextlib.closing(sqlite3.connect(path)) as db:  # closed: a WAL file is checkpointed at the last close
        return tuple(
            db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in ("session", "attendance", "wrong_attempt")
        )  # type: ignore[return-value]


def _tables(path: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _expected_export(path: Path) -> bytes:
    """The records CSV computed straight from the old file with sqlite3 (times in UTC, formula cells
    neutralised), in export order: session opening, then time."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT a.user_id, a.username, a.timestamp, a.date_id, a.session_id FROM attendance a "
            'JOIN "session" s ON s.session_id = a.session_id ORDER BY s.opened_at, a.session_id, a.submitted_at, a.user_id'
        ).fetchall()
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["user_id", "username", "timestamp", "date_id", "session_id"])
    for user_id, username, timestamp, date_id, session_id in rows:
        safe = "'" + username if username.startswith(("=", "+", "-", "@", "\t", "\r")) else username
        writer.writerow([user_id, safe, timestamp, date_id, session_id])
    return buffer.getvalue().encode("utf-8")


# -- courses and course add / edit / archive ------------------------------------------------


def test_add_edit_archive_and_list_round_trip(env: dict[str, str]) -> None:
    """A course added from the shell is listed with every setting, edits show, archiving shows."""
    added = add(
        env,
        "Algebra",
        GUILD,
        "--instructor-role",
        "700000000000000001",
        "--interval",
        "30",
        "--code-length",
        "6",
        "--grace",
        "0",
    )
    assert "Added course 'Algebra' in server 900000000000000001" in added
    add(env, "Biology", GUILD, "--display-channel", "800000000000000001")
    listing = ok("courses", env=env)
    assert listing.splitlines()[0] == COURSES_HEADER
    rows = rows_of(listing)
    assert rows["Algebra"] == [
        "Algebra", GUILD, "800000000000000001", "800000000000000002", "800000000000000002",
        "700000000000000001", "6", "30", "s", "0", "s", "-", "channel", "-",
    ]  # fmt: skip
    assert rows["Biology"][4:6] == ["800000000000000001", "-"] and rows["Biology"][6:11] == ["4", "15", "s", "15", "s"]

    edited = ok(
        "course",
        "edit",
        "algebra",
        "--name",
        "Algebra I",
        "--interval",
        "default",
        "--instructor-role",
        "none",
        env=env,
    )
    assert edited.strip() == messages.course_edited_reply("Algebra I")
    ok("course", "edit", "Biology", "--display-channel", "none", "--code-length", "8", env=env)
    rows = {line[:20].strip(): line.split() for line in ok("courses", env=env).splitlines()[1:]}
    assert rows["Algebra I"][2:] == [
        GUILD,
        "800000000000000001",
        "800000000000000002",
        "800000000000000002",
        "-",
        "6",
        "15",
        "s",
        "0",
        "s",
        "-",
        "channel",
        "-",
    ]
    assert rows["Biology"][4] == "800000000000000002" and rows["Biology"][6] == "8"

    archived = ok("course", "archive", "Biology", env=env)
    assert archived.strip() == messages.course_archived_reply("Biology")
    assert ok("courses", env=env).splitlines()[-1].split()[-1] == "archived"
    assert messages.course_archived_refusal("Biology") in fails("open", "--course", "Biology", env=env)
    assert messages.course_already_archived("Biology") in fails("course", "archive", "Biology", env=env)


def test_courses_shows_the_open_session(env: dict[str, str]) -> None:
    """The last column of `courses` is a course's open session, `-` once it is closed."""
    add(env, "Algebra")
    session_id = session_of(ok("open", env=env))
    assert rows_of(ok("courses", env=env))["Algebra"][-1] == session_id
    assert messages.close_before_archiving("Algebra", session_id) in fails("course", "archive", "Algebra", env=env)
    ok("close", env=env)
    assert rows_of(ok("courses", env=env))["Algebra"][-1] == "-"


def test_duplicate_name_is_refused_in_the_same_server_but_allowed_in_another(env: dict[str, str]) -> None:
    """Names are unique per server whatever the case and spacing; another server may reuse one."""
    add(env, "Math 101")
    error = fails(
        "course",
        "add",
        "--name",
        "math  101",
        "--guild",
        GUILD,
        "--admin-channel",
        "800000000000000001",
        "--attendance-channel",
        "800000000000000002",
        env=env,
    )
    assert messages.course_name_taken("Math 101") in error  # the course as it is stored, not as typed
    add(env, "MATH 101", OTHER_GUILD)
    assert ok("courses", env=env).count("\n") == 3
    add(env, "Physics")
    assert messages.course_name_taken("Physics") in fails(
        "course", "edit", "Math 101", "--guild", GUILD, "--name", "physics", env=env
    )


def test_a_name_in_two_servers_needs_the_server(env: dict[str, str]) -> None:
    """Where two servers share a course name, --guild (or GUILD_ID) says which one is meant."""
    add(env, "Math", GUILD)
    add(env, "Math", OTHER_GUILD)
    assert "Add --guild ID." in fails("course", "edit", "Math", "--interval", "20", env=env)
    assert "GUILD_ID" in fails("open", "--course", "math", env=env)
    ok("course", "edit", "Math", "--guild", OTHER_GUILD, "--interval", "20", env=env)
    opened = ok("open", "--course", "Math", env={**env, "GUILD_ID": OTHER_GUILD})
    listing = ok("courses", env=env).splitlines()[1:]
    other = next(line.split() for line in listing if line.split()[1] == OTHER_GUILD)
    assert other[7] == "20" and other[-1] == session_of(opened)


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--admin-channel", "<#800000000000000001>", "--admin-channel must be a numeric Discord id of 15-22 digits"),
        ("--attendance-channel", "12345", "--attendance-channel must be a numeric Discord id"),
        ("--display-channel", "general", "--display-channel must be a numeric Discord id"),
        ("--instructor-role", "none", "--instructor-role must be a numeric Discord id"),
        ("--guild", "my server", "--guild must be a numeric Discord id"),
        ("--interval", "fast", "--interval must be a whole number of seconds, not 'fast'"),
        ("--code-length", "١٥", "--code-length must be a whole number of characters"),
        (
            "--interval",
            str(MIN_INTERVAL - 1),
            messages.course_setting_out_of_range("interval", MIN_INTERVAL - 1, MIN_INTERVAL, MAX_INTERVAL, "seconds"),
        ),
        ("--instructor-role", GUILD, messages.instructor_role_is_everyone()),
        ("--name", "x" * 51, "A course name is 1-50 characters"),
    ],
)
def test_course_add_refuses_bad_values_in_one_line(option: str, value: str, expected: str, env: dict[str, str]) -> None:
    """A malformed id or number names its option; the service's rules give Discord's own sentences."""
    args = {
        "--name": "Algebra",
        "--guild": GUILD,
        "--admin-channel": "800000000000000001",
        "--attendance-channel": "800000000000000002",
    }
    args[option] = value
    error = fails("course", "add", *[part for pair in args.items() for part in pair], env=env)
    assert expected in error
    if option == "--admin-channel":
        assert "(use 800000000000000001, without <#...>)" in error


def test_course_add_needs_a_server(env: dict[str, str]) -> None:
    """Without --guild or GUILD_ID, `course add` asks for the server (and writes nothing); GUILD_ID is its default."""
    args = (
        "course",
        "add",
        "--name",
        "Algebra",
        "--admin-channel",
        "800000000000000001",
        "--attendance-channel",
        "800000000000000002",
    )
    assert messages.guild_needed() in fails(*args, env=env)
    assert ok("courses", env=env) == messages.shell_course_needed([]) + "\n"
    ok(*args, env={**env, "GUILD_ID": OTHER_GUILD})
    assert rows_of(ok("courses", env=env))["Algebra"][1] == OTHER_GUILD


def test_course_edit_with_nothing_to_change_says_so(env: dict[str, str]) -> None:
    """`course edit NAME` alone is refused, naming the options; an unknown course lists the known ones."""
    add(env, "Algebra")
    assert messages.nothing_to_change() in fails("course", "edit", "Algebra", env=env)
    assert messages.unknown_course("Geometry", ["Algebra"]) in fails(
        "course", "edit", "Geometry", "--grace", "3", env=env
    )


# -- --course -------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("open",), ("close",), ("code",), ("code", "--watch"), ("export",)])
def test_course_option_is_required_with_two_courses_and_the_error_lists_both(
    args: tuple[str, ...], env: dict[str, str]
) -> None:
    """With two courses, a command that needs one says to add --course and names both."""
    add(env, "Algebra")
    add(env, "Biology")
    assert messages.shell_course_needed(["Algebra", "Biology"]) in fails(*args, env=env)


def test_two_courses_open_at_once_and_each_shows_its_own_code(env: dict[str, str]) -> None:
    """Each course has its own open session; `code --course` shows each one's code and names it."""
    add(env, "Algebra")
    add(env, "Biology")
    algebra = session_of(ok("open", "--course", "Algebra", env=env))
    biology = session_of(ok("open", "--course", "biology", env=env))
    assert algebra != biology
    for _ in range(5):
        shown_a = ok("code", "--course", "Algebra", env=env)
        shown_b = ok("code", "--course", "Biology", env=env)
        service = _service(env)
        try:
            expected = (service.current_code(algebra).code, service.current_code(biology).code)
        finally:
            close_db()
        if (shown_a.split()[0], shown_b.split()[0]) == expected:
            break  # else a window turned between the processes: look again
    else:
        pytest.fail("`code --course` never showed the courses' current codes")
    assert f"session {algebra} of course 'Algebra'" in shown_a and f"session {biology} of course 'Biology'" in shown_b
    assert shown_a.split()[0] != shown_b.split()[0]
    assert ok("code", "--session", biology, env=env).split()[0] in {expected[1], shown_b.split()[0]}
    closed = ok("close", "--course", "Algebra", env=env)
    assert closed.startswith(f"Closed session {algebra} of course 'Algebra'")
    assert rows_of(ok("courses", env=env))["Biology"][-1] == biology


def test_code_watch_shows_the_course_named(env: dict[str, str]) -> None:
    """`code --watch --course` draws that course's session, named on top; Ctrl-C ends it with status 0."""
    add(env, "Algebra")
    add(env, "Biology")
    ok("open", "--course", "Algebra", env=env)
    biology = session_of(ok("open", "--course", "Biology", env=env))
    env_file = Path(env["HOME"]) / "empty.env"
    proc = subprocess.Popen(
        [sys.executable, "-u", str(MANAGE), "--env-file", str(env_file), "code", "--watch", "--course", "Biology"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lines = [proc.stdout.readline().decode() for _ in range(12)]
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert lines[0].startswith(f"Session {biology} of course 'Biology': type /here ")
    assert any("changes in" in line for line in lines)


def test_export_course_gives_only_that_courses_records(env: dict[str, str]) -> None:
    """`export --course` holds one course's records; `--session` alone needs no course."""
    add(env, "Algebra")
    add(env, "Biology")
    algebra = session_of(ok("open", "--course", "Algebra", env=env))
    biology = session_of(ok("open", "--course", "Biology", env=env))
    _submit_correct(env, algebra, [(1, "ada"), (2, "alan")])
    _submit_correct(env, biology, [(3, "barbara")])
    exported = manage("export", "--course", "Algebra", env=env).stdout
    rows = list(csv.reader(io.StringIO(exported.decode(), newline="")))
    assert [(r[0], r[1], r[4]) for r in rows[1:]] == [("1", "ada", algebra), ("2", "alan", algebra)]
    assert exported.startswith(HEADER)
    only_biology = manage("export", "--session", biology, env=env).stdout
    assert manage("export", "--course", "Biology", env=env).stdout == only_biology
    assert only_biology.count(b"\r\n") == 2 and b",barbara," in only_biology
    assert "There is no session" in fails("export", "--course", "Algebra", "--session", biology, env=env)


def test_sessions_lists_every_course_with_a_course_column(env: dict[str, str]) -> None:
    """`sessions` without --course and several courses lists them all with a course column; --course one course's."""
    add(env, "Algebra")
    add(env, "Biology")
    algebra = session_of(ok("open", "--course", "Algebra", env=env))
    biology = session_of(ok("open", "--course", "Biology", env=env))
    listing = ok("sessions", env=env).splitlines()
    assert listing[0].split() == ["session", "opened", "closed", "present", "course"]
    assert {line.split()[1]: line.split()[-1] for line in listing[1:]} == {algebra: "Algebra", biology: "Biology"}
    one = ok("sessions", "--course", "Biology", env=env).splitlines()
    assert one[0].split() == ["session", "opened", "closed", "present"]
    assert [line.split()[1] for line in one[1:]] == [biology]


def test_a_single_course_keeps_the_old_listing_and_export(env: dict[str, str]) -> None:
    """With one course, `sessions` has no course column and --course is never needed."""
    add(env, "Algebra")
    session_id = session_of(ok("open", env=env))
    _submit_correct(env, session_id, [(1, "ada")])
    assert ok("sessions", env=env).splitlines()[0].split() == ["session", "opened", "closed", "present"]
    assert manage("export", env=env).stdout == manage("export", "--course", "Algebra", env=env).stdout
    assert messages.unknown_course("Nope", ["Algebra"]) in fails("export", "--course", "Nope", env=env)


# -- the .env course ------------------------------------------------------------------------


def test_read_only_commands_see_the_env_course_only_once_it_is_in_the_database(env: dict[str, str]) -> None:
    """.env's course is added by a command that writes; before that, read-only commands say so and add nothing."""
    env.update(ENV_CHANNELS)
    ok("check", env={**env, "DISCORD_BOT_TOKEN": "x" * 40})  # a database without any course
    path = Path(env["DATABASE_PATH"])
    before = _digest(path)
    for args in (("sessions",), ("export",), ("code",), ("sessions", "--course", "default")):
        assert messages.env_course_not_added("default") in fails(*args, env=env)
    assert ok("courses", env=env) == messages.env_course_not_added("default") + "\n"
    assert _digest(path) == before
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute('SELECT COUNT(*) FROM "course"').fetchone()[0] == 0
    assert "of course 'default'" in ok("open", env=env)
    assert list(rows_of(ok("courses", env=env))) == ["default"]


def test_the_env_course_placed_by_the_bot_is_reused_without_guild_id(env: dict[str, str]) -> None:
    """Once the bot has put .env's course in its server, the shell (no GUILD_ID) uses that course, not a copy."""
    env.update(ENV_CHANNELS)
    first = session_of(ok("open", env=env))
    assert rows_of(ok("courses", env=env))["default"][1] == "-"  # no server known yet
    settings = load_settings(
        None, environ={"DATABASE_PATH": env["DATABASE_PATH"], **ENV_CHANNELS}, require_discord=False
    )
    init_db(settings.database_path)
    try:
        CourseService(settings).sync_env_course(int(GUILD))  # what the bot does when it starts
    finally:
        close_db()
    ok("close", env=env)
    second = session_of(ok("open", env=env))
    listing = ok("courses", env=env).splitlines()
    assert len(listing) == 2 and listing[1].split()[1] == GUILD and listing[1].split()[-1] == second
    assert [line.split()[0] for line in ok("sessions", env=env).splitlines()[1:]] == [first, "*"]


def test_editing_the_env_course_warns_that_env_wins(env: dict[str, str]) -> None:
    """Changing the .env course's channels from the shell works and warns that .env sets them again."""
    env.update(ENV_CHANNELS)
    ok("open", env=env)
    result = manage("course", "edit", "default", "--attendance-channel", "800000000000000009", env=env)
    assert result.returncode == 0
    assert f"Warning: {messages.edits_env_course('default')}" in result.stderr.decode()
    ok("close", env=env)
    assert rows_of(ok("courses", env=env))["default"][3] == ENV_CHANNELS["ATTENDANCE_CHANNEL_ID"]


def test_course_add_beside_the_env_course_says_there_are_two(env: dict[str, str]) -> None:
    """`course add` where .env defines a course: the course is added, and a warning says that .env's
    course exists too and how commands pick one; then `open --course` and a bare `close` work."""
    env.update(ENV_CHANNELS)
    result = manage(
        "course", "add", "--name", "Algebra", "--guild", GUILD,
        "--admin-channel", "800000000000000001", "--attendance-channel", "800000000000000002",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr.decode() == f"Warning: {messages.course_added_beside_env_course('default', 2)}\n"
    assert list(rows_of(ok("courses", env=env))) == ["Algebra", "default"]
    session_id = session_of(ok("open", "--course", "Algebra", env=env))
    assert ok("close", env=env).startswith(f"Closed session {session_id} of course 'Algebra'")


@pytest.mark.parametrize(
    ("name", "channels", "expected"),
    [
        ("Algebra", ENV_CHANNELS, messages.env_course_has_these_channels("default", "Algebra")),
        (" DEFAULT", {"ADMIN_CHANNEL_ID": "800000000000000001", "ATTENDANCE_CHANNEL_ID": "800000000000000002"},
         messages.course_add_is_env_course("default")),
    ],
)  # fmt: skip
def test_course_add_of_the_env_course_again_is_refused(
    name: str, channels: dict[str, str], expected: str, env: dict[str, str]
) -> None:
    """A second course on the .env course's own two channels, or under its name, is refused in one line,
    before anything is written."""
    env.update(ENV_CHANNELS)
    database = Path(env["DATABASE_PATH"])
    before = database.read_bytes()
    error = fails(
        "course", "add", "--name", name, "--guild", GUILD,
        "--admin-channel", channels["ADMIN_CHANNEL_ID"], "--attendance-channel", channels["ATTENDANCE_CHANNEL_ID"],
        env=env,
    )  # fmt: skip
    assert expected in error
    assert database.read_bytes() == before


def test_course_add_with_one_channel_for_both_warns(env: dict[str, str]) -> None:
    """The same channel as admin and attendance channel is allowed, with a one-line warning."""
    result = manage(
        "course", "add", "--name", "Seminar", "--guild", GUILD,
        "--admin-channel", "800000000000000005", "--attendance-channel", "800000000000000005",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr.decode() == f"Warning: {messages.same_admin_and_attendance_channel()}\n"
    assert rows_of(ok("courses", env=env))["Seminar"][2:4] == ["800000000000000005"] * 2


@pytest.mark.parametrize("command", ["close", "code"])
def test_close_and_code_act_on_the_only_open_session_of_several_courses(command: str, env: dict[str, str]) -> None:
    """With several courses and exactly one session open, `close` and `code` need no --course; with two
    open they still ask which."""
    add(env, "Algebra")
    add(env, "Biology")
    biology = session_of(ok("open", "--course", "Biology", env=env))
    done = ok(command, env=env)
    assert biology in done and "of course 'Biology'" in done
    if command == "close":
        assert rows_of(ok("courses", env=env))["Biology"][-1] == "-"
        ok("open", "--course", "Biology", env=env)
    ok("open", "--course", "Algebra", env=env)
    assert messages.shell_course_needed(["Algebra", "Biology"]) in fails(command, env=env)


def test_courses_explains_a_course_without_a_server(env: dict[str, str]) -> None:
    """A course whose server is not known yet (`-`: the .env course before the bot started) gets a note
    under the table saying what that means; a listing where every server is known has none."""
    add(env, "Algebra")
    assert messages.courses_without_server() not in ok("courses", env=env)
    env.update(ENV_CHANNELS)
    ok("open", "--course", "default", env=env)  # adds the .env course; without GUILD_ID its server is unknown
    listing = ok("courses", env=env).splitlines()
    assert rows_of("\n".join(listing))["default"][1] == "-"
    assert listing[-1] == messages.courses_without_server()


def test_courses_shows_the_late_rule(env: dict[str, str]) -> None:
    """The `late` column: the minutes after opening from which a check-in is late, `-` for never."""
    add(env, "Algebra", GUILD, "--late-after", "10")
    add(env, "Biology")
    listing = ok("courses", env=env)
    assert listing.splitlines()[0] == COURSES_HEADER
    rows = rows_of(listing)
    assert rows["Algebra"][-4:] == ["10", "min", "channel", "-"] and rows["Biology"][-3:] == ["-", "channel", "-"]


# -- migrate and check on an older database -------------------------------------------------


def test_migrate_upgrades_an_old_database_and_keeps_every_record(old_database: Path, env: dict[str, str]) -> None:
    """`migrate` says what it did (backup, each step), every row survives, export gives the same CSV; then up to date."""
    fixture = _digest(FIXTURE)
    counts = _counts(old_database)
    assert counts == (3, 18, 2)
    expected = _expected_export(old_database)
    result = manage("migrate", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    backup = Path(f"{old_database}.bak-1")
    assert lines == [
        messages.backup_made(backup),
        messages.migration_step_done("0002_courses"),
        "  3 earlier session(s) now belong to course 'default'",
        messages.migration_step_done("0003_gradebook"),
        messages.migration_step_done("0004_marks"),
        messages.migration_step_done("0005_claims"),
        messages.migration_step_done("0006_projector"),
        messages.migration_step_done("0007_code_in_channel"),
        messages.migration_step_done("0008_voice"),
        messages.migration_step_done("0009_schedule"),
        messages.migration_step_done("0010_notices"),
        messages.migration_step_done("0011_grading"),
    ]
    assert _counts(old_database) == counts
    assert _counts(backup) == counts
    exported = manage("export", env=env).stdout
    assert exported == expected and exported.count(b"\r\n") == 19
    assert rows_of(ok("courses", env=env))["default"][1] == "111111111111111111"  # the server its sessions knew
    again = manage("migrate", env=env)
    assert again.returncode == 0 and again.stdout.decode() == messages.database_up_to_date(migrations.latest()) + "\n"
    assert {"course", migrations.HISTORY_TABLE} <= _tables(old_database)
    assert _digest(FIXTURE) == fixture  # the copy was upgraded, never the fixture


def test_migrate_names_the_env_course(old_database: Path, env: dict[str, str]) -> None:
    """The earlier sessions join the course .env names (COURSE_NAME)."""
    out = ok("migrate", env={**env, **ENV_CHANNELS, "COURSE_NAME": "Week course"})
    assert "now belong to course 'Week course'" in out
    assert ok("courses", env=env).splitlines()[1].startswith("Week course ")


def test_migrate_makes_no_folder(env: dict[str, str], tmp_path: Path) -> None:
    """`migrate` on a DATABASE_PATH under a mistyped folder says the folder is missing and creates nothing."""
    path = tmp_path / "typo" / "attendance.db"
    assert messages.database_folder_missing(path) in fails("migrate", env={**env, "DATABASE_PATH": str(path)})
    assert not path.parent.exists()


def test_check_says_a_migration_is_pending_and_changes_nothing(old_database: Path, env: dict[str, str]) -> None:
    """`check` on an older database says which version it has and what to run, and leaves the file as it was."""
    before = _digest(old_database)
    result = manage("check", env={**env, "DISCORD_BOT_TOKEN": "x" * 40})
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert f"schema version:     1: an upgrade to version {migrations.latest()} is pending" in out
    assert ".venv/bin/python manage.py migrate" in out
    assert "courses:            none yet: the upgrade puts the 3 earlier session(s) in course 'default'" in out
    assert _digest(old_database) == before
    assert not Path(f"{old_database}.bak-1").exists()
    assert "course" not in _tables(old_database) and migrations.HISTORY_TABLE not in _tables(old_database)


@pytest.mark.parametrize("args", [("sessions",), ("export",), ("code",), ("courses",)])
def test_read_only_commands_refuse_an_old_database_without_changing_it(
    args: tuple[str, ...], old_database: Path, env: dict[str, str]
) -> None:
    """A read-only command never upgrades: it says to run `migrate`."""
    before = _digest(old_database)
    error = fails(*args, env=env)
    assert "needs an upgrade to version" in error and "manage.py migrate" in error
    assert _digest(old_database) == before
    assert "course" not in _tables(old_database)


def test_a_writing_command_upgrades_and_says_so(old_database: Path, env: dict[str, str]) -> None:
    """`close` on an older database upgrades it first (backup, step, on stderr), then closes its open session."""
    result = manage("close", env=env)
    assert result.returncode == 0, result.stderr
    assert messages.backup_made(Path(f"{old_database}.bak-1")) in result.stderr.decode()
    assert result.stdout.decode() == "Closed session 20261116-1000-JG73 of course 'default': 7 present.\n"
    assert _counts(old_database) == (3, 18, 0)  # a closed session's wrong attempts no longer count


@pytest.mark.parametrize(
    ("extra", "env_line", "courses_line"),
    [
        ({}, "none (ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID are not set)", "none yet"),
        (ENV_CHANNELS, "'default' (ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID), not in the database yet", "none yet"),
    ],
)
def test_check_says_how_many_courses_and_whether_env_defines_one(
    extra: dict[str, str], env_line: str, courses_line: str, env: dict[str, str]
) -> None:
    """`check` ends with the schema version, the number of courses and .env's course, one line each."""
    out = ok("check", env={**env, "DISCORD_BOT_TOKEN": "x" * 40, **extra}).splitlines()
    assert out[-3] == f"  schema version:     {migrations.latest()} (the latest)"
    assert out[-2] == f"  courses:            {courses_line}"
    assert out[-1].startswith(f"  .env course:        {env_line}")
    add(env, "Algebra")
    add(env, "Biology")
    ok("course", "archive", "Biology", env=env)
    assert "  courses:            2 (1 archived)" in ok("check", env={**env, "DISCORD_BOT_TOKEN": "x" * 40, **extra})


@pytest.mark.parametrize(
    "args", [("courses",), ("course",), ("course", "add"), ("course", "edit"), ("course", "archive"), ("migrate",)]
)
def test_new_subcommands_have_help(args: tuple[str, ...], env: dict[str, str]) -> None:
    """`--help` works for each new subcommand without any configuration."""
    result = manage(*args, "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert b"usage: manage.py" in result.stdout


@pytest.mark.parametrize("name", ["open", "close", "code", "sessions", "export"])
def test_course_option_is_in_the_help(name: str, env: dict[str, str]) -> None:
    """Each command that acts on one course takes --course."""
    assert b"--course NAME" in manage(name, "--help", env=env).stdout


# -- hostile input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "name"),
    [("add", "\u202eevil"), ("add", "C1\x85x"), ("add", "esc\x1b[2J"), ("edit", "a\u2066b"), ("edit", "zw\u200bsp")],
)
def test_course_add_and_edit_refuse_control_and_text_reordering_characters(
    env: dict[str, str], command: str, name: str
) -> None:
    """`course add --name` and `course edit --name` refuse a name with a control, C1 or bidi
    character in one line (the course rule), and nothing changes."""
    add(env, "Math")
    before = ok("courses", env=env)
    if command == "add":
        args = ("course", "add", "--name", name, "--guild", GUILD, "--admin-channel", "800000000000000011",
                "--attendance-channel", "800000000000000012")  # fmt: skip
    else:
        args = ("course", "edit", "Math", "--name", name)
    assert fails(*args, env=env) == f"Error: {messages.course_name_invalid(name, 50)}\n"
    assert ok("courses", env=env) == before


def _raw_in_the_database(env: dict[str, str], name: str, session_id: str) -> None:
    """A course name and a session id with control characters, written straight into the file (as an
    older release or another tool might have)."""
    connection = sqlite3.connect(env["DATABASE_PATH"])
    with connection:
        connection.execute(
            "UPDATE course SET name = ?, name_key = ? WHERE name = 'Math'", (name, migrations.fold(name))
        )
        connection.execute("UPDATE session SET session_id = ?", (session_id,))
    connection.close()


def _no_raw_controls(text: str) -> None:
    bad = [ch for ch in text if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")]
    assert bad == [], text


def test_the_shell_prints_no_raw_control_characters(env: dict[str, str]) -> None:
    """A course name and a session id stored raw with C0, C1 and bidi characters: `courses`,
    `sessions`, `close` and the errors that name them show each as a visible \\uXXXX, never raw."""
    add(env, "Math")
    add(env, "Other", GUILD, "--admin-channel", "800000000000000021", "--attendance-channel", "800000000000000022")
    session_of(ok("open", "--course", "Math", env=env))
    name, session_id = "M\u202eath\x1b[2J\x85", "S\u2066-1\x07\u2028"
    _raw_in_the_database(env, name, session_id)
    shown_name, shown_id = "M\\u202eath\\u001b[2J\\u0085", "S\\u2066-1\\u0007\\u2028"
    expected = {
        ("courses",): (shown_name, shown_id),
        ("sessions",): (shown_name, shown_id),  # two courses: a course column
        ("sessions", "--course", name): (shown_id,),
        ("close", "--course", name): (),
        ("open", "--course", name): (),
    }
    for args, shown in expected.items():
        result = manage(*args, env=env)
        text = result.stdout.decode() + result.stderr.decode()
        _no_raw_controls(text)
        assert all(part in text for part in shown), (args, text)
        assert name not in text and session_id not in text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain\ttab\nline\n", "plain\ttab\nline\n"),
        ("Юлия 王小明 🎓 a\u00a0b", "Юлия 王小明 🎓 a\u00a0b"),
        ("\x1b[2J\x07\r\x00", "\\u001b[2J\\u0007\\u000d\\u0000"),
        ("c1\x85\x9b", "c1\\u0085\\u009b"),
        ("\u202eevil\u2066\u200b\u2028", "\\u202eevil\\u2066\\u200b\\u2028"),
    ],
)
def test_printable_escapes_only_hidden_characters(text: str, shown: str) -> None:
    """The shell's one escaping rule: C0, C1, format and line-separator characters but newline and tab."""
    assert base.printable(text) == shown


def test_the_shell_keeps_new_lines_tabs_and_csv_bytes(env: dict[str, str]) -> None:
    """Escaping touches only hidden characters: line breaks and the CSV export's CRLF are written as they are."""
    add(env, "Math")
    sid = session_of(ok("open", "--course", "Math", env=env))
    _submit_correct(env, sid, [(1, "ada")])
    exported = manage("export", "--course", "Math", env=env).stdout
    assert exported.startswith(HEADER) and exported.count(b"\r\n") == 2


HOSTILE = ["", " ", "\x00\x1b[31m", "\u202eABC", "Math\n101", "x" * 3000, "' OR 1=1; --", "<#800000000000000001>"]


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    args=st.sampled_from([("open",), ("close",), ("code",), ("sessions",), ("export",), ("course", "archive")]),
    value=st.one_of(st.sampled_from(HOSTILE), st.text(max_size=200)),
)
@example(args=("open",), value="0\u2028")  # Unicode's line and paragraph separators end a line too
@example(args=("course", "archive"), value="Math\u2029101")
def test_any_course_name_ends_in_one_line(args: tuple[str, ...], value: str, tmp_path: Path) -> None:
    """Any --course (or course NAME) value ends in status 0 or one error line without control characters."""
    database = tmp_path / "hostile.db"
    if not database.exists():
        settings = load_settings(None, environ={"DATABASE_PATH": str(database)}, require_discord=False)
        init_db(database)
        for name in ("Math 101", "RTL course"):
            CourseService(settings).create(
                name=name,
                guild_id=int(GUILD),
                admin_channel_id=800000000000000001,
                attendance_channel_id=800000000000000002,
            )
        close_db()
        connection = sqlite3.connect(database)  # a name a release before the rule could store
        with connection:
            name = "\u202eRTL course"
            connection.execute(
                "UPDATE course SET name = ?, name_key = ? WHERE name = 'RTL course'", (name, migrations.fold(name))
            )
        connection.close()
    option = [value] if args[0] == "course" else ["--course", value]
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["--env-file", "/dev/null", *args, *option], stdout=out, stderr=err, environ={"DATABASE_PATH": str(database)}
    )
    assert status in (0, 1)  # a usage error (a value that starts with -) is one line and 1 too
    if status == 1:
        assert err.getvalue().count("\n") == 1, err.getvalue()
        assert "\x1b" not in err.getvalue() and "\x00" not in err.getvalue()


def test_late_after_from_the_shell(env: dict[str, str]) -> None:
    """`course add|edit --late-after` sets a course's late rule (default or 0 clears it) and `open
    --late-after` overrides it for one session; out of range is one line and changes nothing."""
    add(env, "Math", GUILD, "--late-after", "10")
    assert _service(env).courses.find("Math").late_after == 10
    close_db()
    assert "Late after must be from 0 (never late) to 240 minutes" in fails(
        "course", "edit", "Math", "--late-after", "241", env=env
    )
    ok("course", "edit", "Math", "--late-after", "default", env=env)
    assert _service(env).courses.find("Math").late_after is None
    close_db()
    sid = session_of(ok("open", "--course", "Math", "--late-after", "5", env=env))
    assert _service(env).get_session(sid).late_after == 5
    close_db()
    assert "--late-after" in fails("open", "--course", "Math", "--late-after", "soon", env=env)


def test_the_shell_sets_and_clears_a_courses_voice_presence(env: dict[str, str]) -> None:
    """`course add|edit --voice-channel ID --voice-rule WORD`: kept; a word that is no rule and a rule
    without a channel are refused in one line; `--voice-channel none` turns voice presence off, rule and all."""
    add(env, "Choir", GUILD, "--voice-channel", "800000000000000009", "--voice-rule", "Required")
    course = _service(env).courses.find("Choir")
    close_db()
    assert (course.voice_channel_id, course.voice_rule) == (800000000000000009, "required")
    choices = ("required", "recorded")
    wrong = fails("course", "edit", "Choir", "--voice-rule", "sometimes", env=env)
    assert wrong.strip() == f"Error: {messages.course_setting_not_a_choice('voice_rule', 'sometimes', choices)}"
    ok("course", "edit", "Choir", "--voice-channel", "none", env=env)
    course = _service(env).courses.find("Choir")
    close_db()
    assert (course.voice_channel_id, course.voice_rule) == (None, None)
    alone = fails("course", "edit", "Choir", "--voice-rule", "recorded", env=env)
    assert alone.strip() == f"Error: {messages.voice_rule_without_channel('recorded')}"
