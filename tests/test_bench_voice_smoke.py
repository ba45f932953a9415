"""The voice benchmark runs end to end, quickly: a class at once with voice_rule required, everyone in voice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _table(stdout: str) -> list[dict[str, str]]:
    lines = [line for line in stdout.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True)) for line in lines[2:]]


def test_voice_required_burst_loses_nothing_and_has_a_ratio_to_the_bare_bot() -> None:
    """`--quick --scenarios voice:50`: every check-in from the voice channel is acknowledged and stored
    (the bench exits 1 otherwise), accepted (no note), and compared with the bare bot's same burst."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for name in ("CODE_ROTATION_INTERVAL", "CODE_GRACE_SECONDS", "DATABASE_PATH", "GUILD_ID"):
        env.pop(name, None)
    run = subprocess.run(
        [sys.executable, "-m", "attendance_bot.bench", "--quick", "--scenarios", "voice:50", "--markdown"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {row["bot"]: row for row in _table(run.stdout)}
    assert {row["scenario"] for row in rows.values()} == {"50 at once, in voice"}
    assert (rows["ours"]["answered"], rows["ours"]["lost"], rows["ours"]["duplicates"]) == ("50", "0", "0")
    assert rows["bare"]["lost"] == "0"
    assert float(rows["ours"]["throughput ours/bare"]) > 0
    assert "note:" not in run.stderr  # e.g. "answered but not accepted": a refusal would be one
