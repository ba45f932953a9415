"""The house style holds: ruff's rule set (ruff.toml), including DTZ (no naive datetimes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    """`ruff check` passes on the package, manage.py and the tests."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "attendance_bot", "manage.py", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_nothing_to_change() -> None:
    """`ruff format --check` passes: the tree is in the pinned ruff's format."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "attendance_bot", "manage.py", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
