"""manage.py as an operator runs it: real subprocesses against a temporary database."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attendance_bot.attendance import AttendanceService
from attendance_bot.models import close_db, init_db
from attendance_bot.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
MANAGE = ROOT / "manage.py"
COMMANDS = ("run", "check", "open", "close", "sessions", "export", "code")
HEADER = b"user_id,username,timestamp,date_id,session_id\r\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with nothing of the developer's: only PATH and a temporary database."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_PATH": str(tmp_path / "db" / "attendance.db"),
        "HOME": str(tmp_path),
    }


def manage(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """Run `python manage.py ARGS` with an empty .env (none is read from the checkout)."""
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
    """A database with no records exports just the header line."""
    result = manage("export", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == HEADER


def test_open_then_code_in_separate_processes_agree(env: dict[str, str]) -> None:
    """`open` and a later `code` in another process print the same code within one window."""
    for _ in range(5):
        opened = manage("open", env=env)
        assert opened.returncode == 0, opened.stderr
        shown = manage("code", env=env)
        assert shown.returncode == 0, shown.stderr
        opened_code = opened.stdout.decode().split("code now ")[1].split()[0]
        shown_code = shown.stdout.decode().split()[0]
        if opened_code == shown_code:
            return
        # The window turned between the two processes; close and try again.
        assert manage("close", env=env).returncode == 0
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
        (("close",), b"No attendance session is open"),
        (("code",), b"No attendance session is open"),
        (("code", "--watch"), b"No attendance session is open"),
        (("close", "--session", "nope"), b"There is no session 'nope'"),
        (("export", "--session", "nope"), b"There is no session 'nope'"),
        (("code", "--session", "nope"), b"There is no session 'nope'"),
    ],
)
def test_failures_are_one_line_and_exit_one(args: tuple[str, ...], message: bytes, env: dict[str, str]) -> None:
    """Unknown session ids and no open session fail with one clear line."""
    result = manage(*args, env=env)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stderr.count(b"\n") == 1
    assert b"Traceback" not in result.stderr


def test_unreadable_database_fails_clearly(env: dict[str, str]) -> None:
    """A file that is not a database is reported, not overwritten."""
    path = Path(env["DATABASE_PATH"])
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not sqlite" * 100)
    for args in (("sessions",), ("export",), ("open",)):
        result = manage(*args, env=env)
        assert result.returncode == 1
        assert b"not a database" in result.stderr
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_sessions_lists_counts_and_marks_the_open_one(env: dict[str, str]) -> None:
    """`sessions` shows each session with its count; the open one has a star."""
    first = manage("open", env=env).stdout.decode().split()[2].rstrip(";")
    _submit_correct(env, first, [(1001, "ada"), (1002, "grace")])
    assert manage("close", env=env).returncode == 0
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


def test_export_to_unwritable_file_fails_clearly(env: dict[str, str], tmp_path: Path) -> None:
    """--output into a missing folder is one line of error."""
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
    assert again.returncode == 1 and b"already closed" in again.stderr


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
