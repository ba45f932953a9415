"""`manage.py demo`: the README's first command plays a whole class on the emulator."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_plays_a_class_and_leaves_a_database_export_can_read(tmp_path: Path) -> None:
    """The demo runs the real bot on the emulator, narrates each step and leaves its records behind."""
    database = tmp_path / "demo.db"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    demo = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "--env-file", "/dev/null", "demo", "--database", str(database)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
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
    ):
        assert expected in out, f"{expected!r} missing from the demo output"
    assert "Traceback" not in demo.stderr

    exported = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "--env-file", "/dev/null", "export"],
        env={**env, "DATABASE_PATH": str(database)},
        capture_output=True,
        timeout=60,
    )
    rows = list(csv.reader(io.StringIO(exported.stdout.decode(), newline="")))
    assert rows[0] == ["user_id", "username", "timestamp", "date_id", "session_id"]
    assert sorted(r[1] for r in rows[1:]) == ["ada", "alan", "edsger", "grace", "ken"]
