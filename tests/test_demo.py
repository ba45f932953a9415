"""`manage.py demo`: the README's first command plays a whole class on the emulator."""

from __future__ import annotations

import csv
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from attendance_bot import messages
from attendance_bot.demo import demo_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One demo run (it takes some 15 s) for the tests that read what it printed and left behind."""
    tmp_path = tmp_path_factory.mktemp("demo")
    database = tmp_path / "demo.db"
    return database, _demo(tmp_path, database)


def test_demo_plays_a_class_and_leaves_a_database_export_can_read(
    played: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """The demo runs the real bot on the emulator, narrates each step and leaves its records behind."""
    database, demo = played
    assert demo.returncode == 0, demo.stdout + demo.stderr
    out = demo.stdout
    startup = [
        "Configuration validated successfully",
        "Starting Discord bot...",
        "Logged in as AttendanceBot (ID: ",
        "Bot is ready!",
    ]
    assert [out.find(line) for line in startup] == sorted(out.find(line) for line in startup)
    assert -1 not in [out.find(line) for line in startup], out
    for expected in (
        "There is no attendance session open right now",
        "You are marked present",
        "Codes never contain 0",
        "is not the current code",
        "has expired",
        "your earlier check-in was replaced",
        "Only instructors",
        "Use `/here` in #attendance",
        "Closed — 5 present.",
        "attendance_all.csv",
        "Demo finished",
        f"$ {demo_command(f'sqlite:///{database}', 'sessions')}",
    ):
        assert expected in out, f"{expected!r} missing from the demo output"
    assert "Traceback" not in demo.stderr

    exported = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "--env-file", "/dev/null", "export"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DATABASE_PATH": str(database)},
        capture_output=True,
        timeout=60,
    )
    rows = list(csv.reader(io.StringIO(exported.stdout.decode(), newline="")))
    assert rows[0] == ["user_id", "username", "timestamp", "date_id", "session_id"]
    assert sorted(r[1] for r in rows[1:]) == ["ada", "alan", "edsger", "grace", "ken"]


def test_the_demo_shows_what_people_would_see_without_escapes(
    played: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """The shell's CSV shown in the demo reads as a terminal shows it: its CRLF line ends are not
    spelled out as \\u000d (only characters stored by someone else are shown escaped)."""
    _, demo = played
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "\\u" not in demo.stdout, [line for line in demo.stdout.splitlines() if "\\u" in line]
    assert "user_id,username,timestamp,date_id,session_id\n" in demo.stdout


def test_demo_leaves_only_its_database(played: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """Every connection is closed at the end: no -wal or -shm file stays beside the demo's database."""
    database, demo = played
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert sorted(p.name for p in database.parent.iterdir() if p.name.startswith(database.name)) == [database.name]


def test_the_demos_last_line_gives_a_command_that_reads_its_database(
    played: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """The command the demo's last line gives, typed as printed in the project folder, exports the demo's
    records, even where the environment (or .env) names another database."""
    _, demo = played
    commands = re.findall(r"`([^`]+)`", demo.stdout.splitlines()[-1])
    assert commands and "manage.py export" in commands[0], demo.stdout.splitlines()[-1]
    exported = subprocess.run(
        commands[0].replace(".venv/bin/python", shlex.quote(sys.executable)),
        shell=True,
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "DATABASE_URL": "postgresql://attendance:secret@127.0.0.1:1/attendance",
            "DATABASE_PATH": str(tmp_path / "elsewhere.db"),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(exported.stdout, newline="")))
    assert sorted(r[1] for r in rows[1:]) == ["ada", "alan", "edsger", "grace", "ken"]


def _demo(tmp_path: Path, database: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **environ}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "--env-file", "/dev/null", "demo", "--database", str(database)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
def test_demo_refuses_the_configured_database(suffix: str, tmp_path: Path) -> None:
    """`demo --database` naming DATABASE_PATH's file (or its -wal/-shm, via a link) is refused; nothing is deleted."""
    live = tmp_path / "data" / "attendance.db"
    live.parent.mkdir()
    files = {Path(f"{live}{end}"): f"record {end}".encode() for end in ("", "-wal", "-shm")}
    for path, data in files.items():
        path.write_bytes(data)
    (tmp_path / "same-folder").symlink_to(live.parent)
    demo = _demo(tmp_path, tmp_path / "same-folder" / f"attendance.db{suffix}", DATABASE_PATH=str(live))
    assert demo.returncode == 1
    assert "is the configured database" in demo.stderr and demo.stderr.count("\n") == 1
    assert {path: path.read_bytes() for path in files} == files


def test_demo_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    """`demo --database notes.txt` (a typo) does not delete the file; a folder is refused in one line."""
    notes = tmp_path / "notes.txt"
    notes.write_text("my lecture notes")
    demo = _demo(tmp_path, notes)
    assert demo.returncode == 1
    assert "is not a SQLite database" in demo.stderr
    assert notes.read_text() == "my lecture notes"
    folder = _demo(tmp_path, tmp_path)
    assert folder.returncode == 1
    assert "is not a file" in folder.stderr and "Traceback" not in folder.stderr


def test_demo_makes_no_folder_but_data(tmp_path: Path) -> None:
    """`demo --database` in a folder that does not exist: one line naming the folder; nothing made."""
    database = tmp_path / "typo" / "demo.db"
    demo = _demo(tmp_path, database)
    assert demo.returncode == 1 and demo.stdout == ""
    assert demo.stderr == f"Error: {messages.demo_folder_missing(database)}\n"
    assert not database.parent.exists()
