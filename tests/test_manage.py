"""manage.py as an operator runs it, against a temporary database: in this process (tests/_shell.py), and in
a process of its own where one matters (signals, `run`, `.env` reading, separate processes, a missing install)."""

from __future__ import annotations

import csv
import io
import os
import pwd
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _shell import ShellResult, run_shell

from attendance_bot import __version__, messages, migrations
from attendance_bot.attendance import AttendanceService
from attendance_bot.models import close_db, init_db
from attendance_bot.settings import load_settings
from attendance_bot.shell import base

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ROOT / "manage.py"
COMMANDS = ("run", "check", "open", "close", "sessions", "export", "code")
HEADER = b"user_id,username,timestamp,date_id,session_id\r\n"
CHANNELS = {"ADMIN_CHANNEL_ID": "123456789012345678", "ATTENDANCE_CHANNEL_ID": "123456789012345679"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with nothing of the developer's: PATH, a temporary database (made, empty, as
    `migrate` or the bot makes it) and the channels of the `.env` course (every session belongs to
    a course; `open` creates this one)."""
    database = tmp_path / "db" / "attendance.db"
    database.parent.mkdir()
    init_db(database)
    close_db()
    return {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_PATH": str(database),
        "HOME": str(tmp_path),
        **CHANNELS,
    }


def manage(*args: str, env: dict[str, str], cwd: Path | None = None) -> ShellResult:
    """`manage.py ARGS` in this process, with an empty .env (none is read from the checkout)."""
    env_file = Path(env["HOME"]) / "empty.env"
    env_file.touch()
    return run_shell(*args, environ=env, env_file=env_file, cwd=cwd)


def manage_process(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """Run `python manage.py ARGS` in a process of its own, with an empty .env, where a real process matters."""
    env_file = Path(env["HOME"]) / "empty.env"
    env_file.touch()
    return subprocess.run(
        [sys.executable, str(MANAGE), "--env-file", str(env_file), *args],
        env=env,
        cwd=cwd or ROOT,
        capture_output=True,
        timeout=timeout,
    )


def test_help_lists_every_subcommand(env: dict[str, str]) -> None:
    """`manage.py --help` names each subcommand."""
    result = manage("--help", env=env)
    assert result.returncode == 0
    for name in COMMANDS:
        assert name in result.stdout.decode()


@pytest.mark.parametrize("name", COMMANDS)
def test_each_subcommand_has_help(name: str, env: dict[str, str]) -> None:
    """`manage.py NAME --help` works without any configuration."""
    result = manage(name, "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert b"usage: manage.py" in result.stdout


def test_check_with_empty_environment_names_the_token(env: dict[str, str]) -> None:
    """With nothing configured, `check` fails and says which variable is missing."""
    result = manage("check", env=env)
    assert result.returncode != 0
    assert b"DISCORD_BOT_TOKEN" in result.stderr
    assert b"Traceback" not in result.stderr


def test_check_with_malformed_channel_says_what_it_should_look_like(env: dict[str, str]) -> None:
    """A channel mention instead of an id is explained, not accepted."""
    env.update(
        DISCORD_BOT_TOKEN="x" * 40, ADMIN_CHANNEL_ID="<#123456789012345678>", ATTENDANCE_CHANNEL_ID="123456789012345679"
    )
    result = manage("check", env=env)
    assert result.returncode == 1
    assert b"ADMIN_CHANNEL_ID" in result.stderr and b"123456789012345678, without <#...>" in result.stderr


def test_check_passes_and_never_prints_the_token(env: dict[str, str]) -> None:
    """A complete configuration validates and the token stays secret."""
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-token-value"
    env.update(
        DISCORD_BOT_TOKEN=token, ADMIN_CHANNEL_ID="123456789012345678", ATTENDANCE_CHANNEL_ID="123456789012345679"
    )
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr
    assert b"Configuration validated successfully" in result.stdout
    assert token.encode() not in result.stdout + result.stderr


def test_export_on_new_database_prints_exactly_the_header(env: dict[str, str]) -> None:
    """A database with no records exports just the header line (once the `.env` course is in it:
    `check` writes no course, and `export` says which command adds it)."""
    assert manage("check", env={**env, "DISCORD_BOT_TOKEN": "x" * 40, **CHANNELS}).returncode == 0
    before = manage("export", env=env)
    assert before.returncode == 1 and before.stdout == b""
    assert messages.env_course_not_added("default").encode() in before.stderr
    assert manage("open", env=env).returncode == 0
    result = manage("export", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == HEADER


def test_open_then_code_in_separate_processes_agree(env: dict[str, str]) -> None:
    """`open` and a later `code` in another process print the same code within one window."""
    for _ in range(5):
        opened = manage_process("open", env=env)
        assert opened.returncode == 0, opened.stderr
        shown = manage_process("code", env=env)
        assert shown.returncode == 0, shown.stderr
        opened_code = opened.stdout.decode().split("code now ")[1].split()[0]
        shown_code = shown.stdout.decode().split()[0]
        if opened_code == shown_code:
            return
        # The window turned between the two processes; close and try again.
        assert manage_process("close", env=env).returncode == 0
    pytest.fail("open and code never agreed on the code")


def test_database_file_is_private(env: dict[str, str]) -> None:
    """The database manage.py creates is readable by its owner only."""
    assert manage("open", env=env).returncode == 0
    mode = Path(env["DATABASE_PATH"]).stat().st_mode & 0o777
    assert mode == 0o600


def test_second_open_is_refused_and_names_the_open_session(env: dict[str, str]) -> None:
    """Only one session may be open; the refusal says which one is."""
    first = manage("open", env=env)
    session_id = first.stdout.decode().split()[2].rstrip(";")
    second = manage("open", env=env)
    assert second.returncode == 1
    assert session_id.encode() in second.stderr
    assert second.stderr.count(b"\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("close",), messages.no_open_session().encode()),
        (("code",), messages.no_open_session().encode()),
        (("code", "--watch"), messages.no_open_session().encode()),
        (("close", "--session", "nope"), b"There is no session 'nope'"),
        (("export", "--session", "nope"), b"There is no session 'nope'"),
        (("code", "--session", "nope"), b"There is no session 'nope'"),
    ],
)
def test_failures_are_one_line_and_exit_one(args: tuple[str, ...], message: bytes, env: dict[str, str]) -> None:
    """Unknown session ids and no open session fail with one clear line."""
    session_id = manage("open", env=env).stdout.decode().split()[2].rstrip(";")
    assert manage("close", "--session", session_id, env=env).returncode == 0
    result = manage(*args, env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stderr.count(b"\n") == 1
    assert b"Traceback" not in result.stderr


def test_unreadable_database_fails_clearly(env: dict[str, str]) -> None:
    """A file that is not a database is reported, not overwritten."""
    path = Path(env["DATABASE_PATH"])
    path.write_bytes(b"this is not sqlite" * 100)
    for args in (("sessions",), ("export",), ("open",)):
        result = manage(*args, env=env)
        assert result.returncode == 1
        assert b"not a database" in result.stderr
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_sessions_lists_counts_and_marks_the_open_one(env: dict[str, str]) -> None:
    """`sessions` shows each session with its count of present and late (not the instructor's
    absent or excused marks, as `close` says too); the open one has a star."""
    first = manage("open", env=env).stdout.decode().split()[2].rstrip(";")
    _submit_correct(env, first, [(1001, "ada"), (1002, "grace"), (1003, "alan")])
    for student, status in (("grace", "excused"), ("700000000000000004", "absent"), ("alan", "late")):
        assert manage("mark", "--student", student, "--status", status, env=env).returncode == 0
    closed = manage("close", env=env)
    assert closed.returncode == 0
    assert closed.stdout.decode().strip() == f"Closed session {first} of course 'default': 2 present."
    second = manage("open", env=env).stdout.decode().split()[2].rstrip(";")
    listing = manage("sessions", env=env).stdout.decode().splitlines()
    rows = {line.split()[1] if line.startswith("*") else line.split()[0]: line for line in listing[1:]}
    assert rows[first].split()[-1] == "2" and not rows[first].startswith("*")
    assert rows[second].startswith("*") and rows[second].split()[-1] == "0"


def _submit_correct(env: dict[str, str], session_id: str, students: list[tuple[int, str]]) -> None:
    """Record students through the service, as the bot would, on the same database."""
    settings = load_settings(None, environ={"DATABASE_PATH": env["DATABASE_PATH"]}, require_discord=False)
    init_db(settings.database_path)
    try:
        service = AttendanceService(settings)
        for user_id, name in students:
            code = service.current_code(session_id).code
            assert service.submit(user_id=user_id, username=name, code=code).accepted
    finally:
        close_db()


def test_export_bytes_match_the_records(env: dict[str, str], tmp_path: Path) -> None:
    """`export` writes exactly the expected CSV, to stdout and to --output alike."""
    session_id = manage("open", env=env).stdout.decode().split()[2].rstrip(";")
    _submit_correct(env, session_id, [(42, 'O\'Brien, "Bob"'), (43, "Zoë 李")])
    stdout = manage("export", env=env).stdout
    out_file = tmp_path / "out.csv"
    written = manage("export", "--session", session_id, "--output", str(out_file), env=env)
    assert written.returncode == 0
    assert out_file.read_bytes() == stdout
    rows = list(csv.reader(io.StringIO(stdout.decode("utf-8"), newline="")))
    assert rows[0] == ["user_id", "username", "timestamp", "date_id", "session_id"]
    assert [(r[0], r[1], r[4]) for r in rows[1:]] == [
        ("42", 'O\'Brien, "Bob"', session_id),
        ("43", "Zoë 李", session_id),
    ]
    assert b'"O\'Brien, ""Bob"""' in stdout
    timestamp, date_id = rows[1][2], rows[1][3]
    assert len(timestamp) == 19 and timestamp.startswith(date_id)
    expected = (
        HEADER
        + f'42,"O\'Brien, ""Bob""",{rows[1][2]},{rows[1][3]},{session_id}\r\n'.encode()
        + f"43,Zoë 李,{rows[2][2]},{rows[2][3]},{session_id}\r\n".encode()
    )
    assert stdout == expected


@pytest.mark.parametrize("fmt", ["full", "gradebook"])
def test_export_of_a_session_older_than_courses_names_the_records_format(env: dict[str, str], fmt: str) -> None:
    """A session no course holds (older than courses) exports as records; full and gradebook, which read a
    course's roster, are one line of error that says to use records, and print nothing."""
    session_id = manage("open", env=env).stdout.decode().split()[2].rstrip(";")
    _submit_correct(env, session_id, [(42, "ada")])
    assert manage("close", env=env).returncode == 0
    with sqlite3.connect(env["DATABASE_PATH"]) as connection:
        connection.execute("UPDATE session SET course_id = NULL WHERE session_id = ?", (session_id,))
    connection.close()
    records = manage("export", "--session", session_id, env=env)
    assert records.returncode == 0 and records.stdout.count(b"\r\n") == 2
    refused = manage("export", "--session", session_id, "--format", fmt, env=env)
    assert (refused.returncode, refused.stdout) == (1, b"")
    assert refused.stderr == f"Error: {messages.session_without_course(session_id)}\n".encode()


def test_export_to_unwritable_file_fails_clearly(env: dict[str, str], tmp_path: Path) -> None:
    """--output into a missing folder is one line of error."""
    _database_with_a_record(env)
    result = manage("export", "--output", str(tmp_path / "missing" / "x.csv"), env=env)
    assert result.returncode == 1
    assert b"Cannot write" in result.stderr


def test_close_reports_the_count_and_a_second_close_fails(env: dict[str, str]) -> None:
    """`close` says how many were present; closing again is refused."""
    session_id = manage("open", env=env).stdout.decode().split()[2].rstrip(";")
    _submit_correct(env, session_id, [(7, "x")])
    closed = manage("close", env=env)
    assert closed.returncode == 0 and b"1 present" in closed.stdout
    again = manage("close", "--session", session_id, env=env)
    assert again.returncode == 1 and messages.session_already_closed(session_id).encode() in again.stderr


def test_code_watch_refreshes_and_exits_cleanly_on_ctrl_c(env: dict[str, str]) -> None:
    """`code --watch` draws the code large with a countdown, and Ctrl-C ends it with status 0."""
    assert manage("open", env=env).returncode == 0
    env_file = Path(env["HOME"]) / "empty.env"
    proc = subprocess.Popen(
        [sys.executable, "-u", str(MANAGE), "--env-file", str(env_file), "code", "--watch"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum("changes in" in ln for ln in lines) < 2:
            lines.append(proc.stdout.readline().decode())
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert sum("changes in" in ln for ln in lines) >= 2
    assert any("█" in ln for ln in lines)
    assert b"Traceback" not in err


# -- nothing writes over the database -------------------------------------------------------


def _database_with_a_record(env: dict[str, str]) -> tuple[Path, bytes]:
    """A database with one closed session and one record; its bytes, to compare after."""
    session_id = manage("open", env=env).stdout.decode().split()[2].rstrip(";")
    _submit_correct(env, session_id, [(1, "ada")])
    assert manage("close", env=env).returncode == 0
    path = Path(env["DATABASE_PATH"])
    return path, path.read_bytes()


@pytest.mark.parametrize(
    "spelling",
    ["same string", "other string", "symlink", "hard link", "-wal", "-shm", "-wal through a symlinked folder"],
)
def test_export_refuses_to_write_over_the_database(spelling: str, env: dict[str, str], tmp_path: Path) -> None:
    """`export --output` naming the database (or its -wal/-shm), however spelled, is refused; the record survives."""
    path, before = _database_with_a_record(env)
    targets = {
        "same string": lambda: path,
        "other string": lambda: path.parent / ".." / path.parent.name / path.name,
        "symlink": lambda: _link(tmp_path / "link.csv", path),
        "hard link": lambda: _hard_link(tmp_path / "hard.csv", path),
        "-wal": lambda: Path(f"{path}-wal"),
        "-shm": lambda: Path(f"{path}-shm"),
        "-wal through a symlinked folder": lambda: _link(tmp_path / "folder", path.parent) / f"{path.name}-wal",
    }
    target = targets[spelling]()
    for force in ((), ("--force",)):
        result = manage("export", "--output", str(target), *force, env=env)
        assert result.returncode == 1
        assert b"is the database" in result.stderr and result.stderr.count(b"\n") == 1
    assert path.read_bytes() == before
    assert manage("sessions", env=env).stdout.splitlines()[1].split()[-1] == b"1"


def _link(link: Path, target: Path) -> Path:
    link.symlink_to(target)
    return link


def _hard_link(link: Path, target: Path) -> Path:
    link.hardlink_to(target)
    return link


def test_export_refuses_to_replace_an_existing_file_without_force(env: dict[str, str], tmp_path: Path) -> None:
    """An existing --output file is kept unless --force; with --force it is replaced by the CSV."""
    _database_with_a_record(env)
    target = tmp_path / "report.csv"
    target.write_bytes(b"last week's export\n")
    refused = manage("export", "--output", str(target), env=env)
    assert refused.returncode == 1
    assert b"exists already" in refused.stderr and b"--force" in refused.stderr
    assert target.read_bytes() == b"last week's export\n"
    replaced = manage("export", "--output", str(target), "--force", env=env)
    assert replaced.returncode == 0, replaced.stderr
    assert target.read_bytes().startswith(HEADER) and b",ada," in target.read_bytes()


def test_exported_files_are_private_and_nothing_is_left_behind(env: dict[str, str], tmp_path: Path) -> None:
    """An exported CSV (student ids inside) is mode 0600 whatever the umask; no temporary file remains."""
    _database_with_a_record(env)
    folder = tmp_path / "exports"
    folder.mkdir()
    result = manage("export", "--output", str(folder / "a.csv"), env=env)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in folder.iterdir()] == ["a.csv"]
    assert stat.S_IMODE((folder / "a.csv").stat().st_mode) == 0o600


def test_export_to_something_that_is_not_a_file_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    """--output naming a folder is refused, --force or not."""
    _database_with_a_record(env)
    result = manage("export", "--output", str(tmp_path), "--force", env=env)
    assert result.returncode == 1
    assert b"not a regular file" in result.stderr
    assert tmp_path.is_dir()


# -- read-only commands never create a database ---------------------------------------------


@pytest.mark.parametrize("args", [("export",), ("sessions",), ("code",), ("close",), ("export", "-o", "x.csv")])
def test_read_only_commands_on_a_missing_database_say_so(args: tuple[str, ...], env: dict[str, str]) -> None:
    """A mistyped DATABASE_PATH is reported (exit 1), never turned into a new empty database."""
    path = Path(env["HOME"]) / "typo" / "attendance.db"
    env["DATABASE_PATH"] = str(path)
    result = manage(*args, env=env, cwd=Path(env["HOME"]))
    assert result.returncode == 1
    assert messages.no_database_at(path).encode() in result.stderr
    assert result.stdout == b""
    assert not path.parent.exists()
    assert not (Path(env["HOME"]) / "x.csv").exists()


def test_export_session_id_pasted_with_spaces_finds_its_records(env: dict[str, str]) -> None:
    """`export --session " ID "` (a pasted id) exports that session's records, not an empty CSV."""
    session_id = manage("open", env=env).stdout.decode().split()[2].rstrip(";")
    _submit_correct(env, session_id, [(5, "ada"), (6, "alan")])
    result = manage("export", "--session", f" {session_id} ", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(session_id.encode()) == 2


@pytest.mark.parametrize("args", [("code",), ("close",), ("code", "--watch")])
def test_nothing_open_says_how_to_open_a_session(args: tuple[str, ...], env: dict[str, str]) -> None:
    """`code` and `close` with no open session say how to open one, in one line."""
    _database_with_a_record(env)
    result = manage(*args, env=env)
    assert result.returncode == 1
    assert messages.no_open_session().encode() in result.stderr
    assert b".venv/bin/python manage.py open" in result.stderr and b"/open_attendance" in result.stderr
    assert result.stderr.count(b"\n") == 1


# -- the operator's first hour --------------------------------------------------------------


def test_a_missing_dependency_is_one_line_saying_how_to_install(env: dict[str, str]) -> None:
    """Run by a Python without the requirements (here: -S, no site-packages), manage.py says how to install."""
    result = subprocess.run(
        [sys.executable, "-S", str(MANAGE), "sessions"], env=env, cwd=ROOT, capture_output=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.count(b"\n") == 1 and b"Traceback" not in result.stderr
    assert b"python3 -m venv .venv && .venv/bin/pip install -r requirements.txt" in result.stderr
    assert b".venv/bin/python manage.py" in result.stderr


@pytest.mark.parametrize("where", ["before the command", "after the command"])
def test_an_env_file_that_does_not_exist_is_reported(where: str, env: dict[str, str], tmp_path: Path) -> None:
    """`--env-file` naming a missing file is an error, before or after the subcommand, whatever the command."""
    missing = tmp_path / "typo.env"
    env["DATABASE_PATH"] = str(tmp_path / "typo" / "attendance.db")
    for command in ("sessions", "check", "open"):
        args = (
            ["--env-file", str(missing), command]
            if where == "before the command"
            else [command, "--env-file", str(missing)]
        )
        result = subprocess.run(
            [sys.executable, str(MANAGE), *args], env=env, cwd=ROOT, capture_output=True, timeout=60
        )
        assert result.returncode == 1
        assert str(missing).encode() in result.stderr and b"no such file" in result.stderr
        assert result.stderr.count(b"\n") == 1
    assert not Path(env["DATABASE_PATH"]).exists()


def test_env_file_after_the_subcommand_is_read(env: dict[str, str], tmp_path: Path) -> None:
    """`manage.py check --env-file FILE` reads FILE."""
    env_file = tmp_path / "class.env"
    env_file.write_text(
        "DISCORD_BOT_TOKEN=MTIzNDU2Nzg5MDEyMzQ1Njc4.secret\nADMIN_CHANNEL_ID=123456789012345678\n"
        "ATTENDANCE_CHANNEL_ID=123456789012345679\nTIMEZONE=Europe/Berlin\n"
    )
    result = subprocess.run(
        [sys.executable, str(MANAGE), "check", "--env-file", str(env_file)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert b"Europe/Berlin" in result.stdout


@pytest.mark.skipif((ROOT / ".env").exists(), reason="this checkout has a .env")
def test_a_missing_default_env_is_named_when_settings_are_missing(env: dict[str, str]) -> None:
    """Without .env, `check` says there is no .env and how to make one, before the missing variables."""
    result = subprocess.run([sys.executable, str(MANAGE), "check"], env=env, cwd=ROOT, capture_output=True, timeout=60)
    assert result.returncode == 1
    first = result.stderr.decode().splitlines()[0]
    assert str(ROOT / ".env") in first and "no such file" in first and "cp .env.example .env" in first
    assert b"DISCORD_BOT_TOKEN is missing" in result.stderr


@pytest.mark.skipif((ROOT / ".env").exists(), reason="this checkout has a .env")
def test_a_missing_default_env_is_fine_when_the_environment_has_everything(env: dict[str, str]) -> None:
    """Commands that need no token run without .env; `check` too when the environment gives the token and channels."""
    assert subprocess.run([sys.executable, str(MANAGE), "open"], env=env, cwd=ROOT, capture_output=True).returncode == 0
    env.update(
        DISCORD_BOT_TOKEN="x" * 40, ADMIN_CHANNEL_ID="123456789012345678", ATTENDANCE_CHANNEL_ID="123456789012345679"
    )
    result = subprocess.run([sys.executable, str(MANAGE), "check"], env=env, cwd=ROOT, capture_output=True)
    assert result.returncode == 0, result.stderr


def test_check_says_what_it_checked_and_what_it_did_not(env: dict[str, str]) -> None:
    """`check` says the token and channels were checked for form only: `run` is what contacts Discord."""
    env.update(
        DISCORD_BOT_TOKEN="x" * 40, ADMIN_CHANNEL_ID="123456789012345678", ATTENDANCE_CHANNEL_ID="123456789012345679"
    )
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "checked for form only" in out and "manage.py run" in out
    assert "Database OK" in out


@pytest.mark.parametrize("database", ["/proc/attendance-test.db", "{home}/a-file/attendance.db"])
def test_an_unusable_database_path_says_what_to_do(database: str, env: dict[str, str]) -> None:
    """A DATABASE_PATH that cannot be made: `check` (which never makes one) says there is none, no "validated
    successfully"; `migrate` says it cannot make a file there; one line each, the path once."""
    (Path(env["HOME"]) / "a-file").write_text("a file, not a folder")
    database = database.format(home=env["HOME"])
    env.update(DISCORD_BOT_TOKEN="x" * 40, DATABASE_PATH=database)
    result = manage("check", env=env)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr == f"Error: {messages.no_database_at(Path(database))}\n".encode()
    result = manage("migrate", env=env)
    assert result.returncode == 1
    assert b"cannot create a file there" in result.stderr and b"choose a writable folder" in result.stderr
    assert result.stderr.count(database.encode()) == 1
    assert result.stderr.count(b"\n") == 1


def test_check_prints_warnings_about_likely_pitfalls(env: dict[str, str]) -> None:
    """A legacy zone, a `Bot ` prefix and one channel for both jobs: `check` passes and warns about each."""
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret-token-value"
    env.update(
        DISCORD_BOT_TOKEN=f"Bot {token}",
        ADMIN_CHANNEL_ID="123456789012345678",
        ATTENDANCE_CHANNEL_ID="123456789012345678",
        TIMEZONE="EST",
    )
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.decode().splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 3
    assert any("America/New_York" in w for w in warnings)
    assert any("'Bot ' prefix" in w for w in warnings)
    assert any("same channel" in w for w in warnings)
    assert token.encode() not in result.stdout + result.stderr


def test_the_readme_runs_manage_py_one_way(env: dict[str, str]) -> None:
    """Every `manage.py` in the README and .env.example is run as `.venv/bin/python manage.py`."""
    for name in ("README.md", ".env.example"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert re.findall(r"(?<![\w/.])python3? manage\.py", text) == [], name
        assert ".venv/bin/python manage.py" in text, name


def test_the_readme_shows_the_sessions_header_as_printed(env: dict[str, str]) -> None:
    """The README's `sessions` example starts with exactly the header `sessions` prints."""
    assert manage("open", env=env).returncode == 0
    printed = manage("sessions", env=env).stdout.decode().splitlines()
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert printed[0] in readme
    example = readme[readme.index(printed[0]) + 1 :]
    assert len(example[0]) == len(printed[1]) or len(example[1]) == len(printed[1])


def test_version_prints_the_package_version(env: dict[str, str]) -> None:
    """`manage.py --version` prints attendance_bot's version and exits 0, with no configuration."""
    result = manage("--version", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().strip() == f"attendance_bot {__version__}"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "the following arguments are required: COMMAND"),
        (("opne",), "invalid choice: 'opne'"),
        (("export", "--format", "xlsx"), "invalid choice: 'xlsx'"),
        (("course", "add", "--name", "Algebra"), "manage.py course add: the following arguments are required"),
        (("close", "--frobnicate"), "unrecognized arguments: --frobnicate"),
        (("close", "--x\x1b[2J\u202e"), "unrecognized arguments: --x\\x1b[2J\\u202e"),
    ],
)
def test_usage_errors_are_one_line_and_exit_one(args: tuple[str, ...], expected: str, env: dict[str, str]) -> None:
    """A mistyped command or option is an error like any other: one line naming it and where help is, status 1."""
    result = manage(*args, env=env)
    assert result.returncode == 1, result.stderr
    error = result.stderr.decode()
    assert error.count("\n") == 1 and error.startswith("Error: "), error
    assert expected in error and "--help" in error
    assert result.stdout == b""


def test_the_shell_names_the_os_user_when_user_is_unset(env: dict[str, str], tmp_path: Path) -> None:
    """Without $USER or $LOGNAME (cron, systemd, containers), the shell's events still name the account
    that ran it, as the OS knows it."""
    assert not {"USER", "LOGNAME", "LNAME", "USERNAME"} & set(env)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\nS1,Ada Lovelace\n")
    for args in (("open",), ("roster", "import", str(roster)), ("mark", "--student", "S1", "--status", "excused")):
        assert manage(*args, env=env).returncode == 0
    history = manage("history", "--student", "S1", env=env)
    assert history.returncode == 0, history.stderr
    account = pwd.getpwuid(os.getuid()).pw_name
    assert f"by shell:{account} (manual)" in history.stdout.decode()


@pytest.mark.parametrize(
    ("environ", "account", "expected"),
    [
        ({"LOGNAME": "ada", "USER": "root"}, "nobody", "ada"),
        ({"USER": "grace"}, "nobody", "grace"),
        ({}, "alan", "alan"),
        ({}, None, f"uid={os.getuid()}"),
    ],
)
def test_os_user_falls_back_to_the_account_then_the_uid(
    environ: dict[str, str], account: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The login name from the environment (getpass's order), else the uid's account, else uid=N."""

    def getpwuid(uid: int) -> object:
        if account is None:
            raise KeyError(f"getpwuid(): uid not found: {uid}")
        return pwd.struct_passwd((account, "x", uid, uid, "", "/", "/bin/sh"))

    monkeypatch.setattr(pwd, "getpwuid", getpwuid)
    assert base.os_user(environ) == expected


# -- a mistyped DATABASE_PATH: only run, migrate and demo make a database, never a folder but data/ --

TOKEN_ONLY = {"DISCORD_BOT_TOKEN": "x" * 40}
COURSE_ADD = (
    "course", "add", "--name", "Algebra", "--guild", "800000000000000000",
    "--admin-channel", "800000000000000001", "--attendance-channel", "800000000000000002",
)  # fmt: skip


def shell(*args: str, environ: dict[str, str]) -> tuple[int, str, str]:
    """manage.py ARGS in this process, with no settings file: status, stdout, stderr."""
    done = run_shell(*args, environ=environ, env_file="/dev/null")
    return done.returncode, done.out, done.err


@pytest.mark.parametrize("where", ["attendance.db", "typo/attendance.db", "typo/deeper/attendance.db"])
def test_check_reports_a_missing_database_and_makes_nothing(where: str, tmp_path: Path) -> None:
    """`check` on a DATABASE_PATH that names no file: one error naming the path, exit 1; no file, no folder."""
    path = tmp_path / where
    status, out, err = shell("check", environ={**TOKEN_ONLY, "DATABASE_PATH": str(path)})
    assert (status, out) == (1, "")
    assert err == f"Error: {messages.no_database_at(path)}\n"
    assert sorted(tmp_path.iterdir()) == []


def test_check_on_a_fresh_checkout_says_the_bot_makes_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default data/attendance.db not made yet: `check` passes, says who makes it, and makes nothing."""
    monkeypatch.setattr(base, "PROJECT_DIR", tmp_path)
    status, out, err = shell("check", environ=TOKEN_ONLY)
    assert status == 0, err
    assert "Configuration validated successfully" in out
    assert messages.database_not_made_yet(tmp_path / "data" / "attendance.db") in out.splitlines()
    assert sorted(tmp_path.iterdir()) == []


def test_check_leaves_an_empty_file_empty(tmp_path: Path) -> None:
    """An existing file with no tables is reported as empty; `check` writes nothing into it."""
    path = tmp_path / "attendance.db"
    path.touch(mode=0o600)
    status, out, err = shell("check", environ={**TOKEN_ONLY, "DATABASE_PATH": str(path)})
    assert status == 0, err
    assert f"Database OK: {path} (empty: no tables yet)" in out.splitlines()
    assert path.stat().st_size == 0


def test_migrate_makes_the_default_database_in_a_private_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a checkout without data/, `migrate` makes data/ (0700) and the database (0600) at the latest schema."""
    monkeypatch.setattr(base, "PROJECT_DIR", tmp_path)
    previous = os.umask(0o022)
    try:
        status, out, err = shell("migrate", environ={})
    finally:
        os.umask(previous)
    assert status == 0, err
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "data" / "attendance.db").stat().st_mode) == 0o600
    assert out == messages.database_made(tmp_path / "data" / "attendance.db", migrations.latest()) + "\n"


@pytest.mark.parametrize(
    "args",
    [
        ("migrate",),
        ("open",),
        COURSE_ADD,
    ],
)
def test_a_database_under_a_missing_folder_is_one_error_naming_it(args: tuple[str, ...], tmp_path: Path) -> None:
    """DATABASE_PATH under a folder that does not exist: one line naming the folder; nothing made."""
    folder = tmp_path / "typo"
    status, out, err = shell(*args, environ={"DATABASE_PATH": str(folder / "attendance.db")})
    assert (status, out) == (1, "")
    assert err.count("\n") == 1 and str(folder) in err, err
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ("open",),
        COURSE_ADD,
    ],
)
def test_commands_that_write_never_make_a_database(args: tuple[str, ...], tmp_path: Path) -> None:
    """`open` and `course add` on a DATABASE_PATH that names no file refuse, saying so; no file made."""
    path = tmp_path / "attendance.db"
    status, out, err = shell(*args, environ={**CHANNELS, "DATABASE_PATH": str(path)})
    assert (status, out) == (1, "")
    assert err == f"Error: {messages.no_database_at(path)}\n"
    assert not path.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--course", "Nope"),
        ("sessions", "--course", "Nope"),
        ("history", "--student", "S999"),
        ("mark", "--student", "S999", "--status", "late"),
        ("export", "--session", "20260101-0000-NOPE"),
    ],
)
def test_not_found_errors_name_the_database_they_looked_in(args: tuple[str, ...], tmp_path: Path) -> None:
    """A course, student or session the database does not hold: the error names that database."""
    path = tmp_path / "attendance.db"
    environ = {**CHANNELS, "DATABASE_PATH": str(path), "GUILD_ID": "800000000000000000"}
    init_db(path)
    close_db()
    assert shell("open", environ=environ)[0] == 0
    status, out, err = shell(*args, environ=environ)
    assert (status, out) == (1, "")
    assert err.count("\n") == 1 and err.rstrip("\n").endswith(messages.looked_in(str(path))), err


def test_check_with_the_example_env_on_a_fresh_checkout_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """.env.example copied as it is (DATABASE_PATH=data/attendance.db): `check` passes on a fresh checkout."""
    monkeypatch.setattr(base, "PROJECT_DIR", tmp_path)
    status, out, err = shell("check", environ={**TOKEN_ONLY, "DATABASE_PATH": "data/attendance.db"})
    assert status == 0, err
    assert messages.database_not_made_yet(tmp_path / "data" / "attendance.db") in out.splitlines()
    assert sorted(tmp_path.iterdir()) == []


def test_run_makes_no_folder_for_a_database_path(env: dict[str, str], tmp_path: Path) -> None:
    """`run` with DATABASE_PATH under a folder that does not exist stops with one error naming it, before
    contacting Discord; nothing is made."""
    database = tmp_path / "typo" / "attendance.db"
    env.update(DISCORD_BOT_TOKEN="x" * 40, DATABASE_PATH=str(database), DISCORD_API_BASE="http://127.0.0.1:1")
    result = manage_process("run", env=env, timeout=60)
    assert result.returncode == 1
    assert f"Error: {messages.database_folder_missing(database)}".encode() in result.stderr
    assert not database.parent.exists()


@pytest.mark.parametrize("extra", [{}, CHANNELS])
def test_the_hint_check_gives_on_a_fresh_checkout_works(
    extra: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a fresh checkout (no database yet), the command `check` names for the courses is one that
    works now, and after it the course `check` spoke of is there."""
    monkeypatch.setattr(base, "PROJECT_DIR", tmp_path)
    status, out, err = shell("check", environ={**TOKEN_ONLY, **extra})
    assert status == 0, err
    (line,) = [line for line in out.splitlines() if line.startswith("  .env course:")]
    commands = re.findall(r"`\.venv/bin/python manage\.py ([a-z-]+)[^`]*`", line)
    assert commands and commands[0] == "migrate", line
    assert shell("migrate", environ=extra)[0] == 0
    status, out, err = shell("courses", environ=extra)
    assert status == 0, err
    assert ("'default'" in out or "default" in out.split()) == bool(extra), out
