"""Layering: the core never imports nextcord, and importing the package has no side effects."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "attendance_bot"
ADAPTERS = ("bot", "emulator", "bench")
CORE = sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in ADAPTERS)


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name imported anywhere in the file (top level or inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names.update(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return names


def test_the_core_modules_are_found() -> None:
    """The scan covers the core (guards against a scan of nothing passing vacuously)."""
    found = {p.relative_to(PACKAGE).as_posix() for p in CORE}
    assert {"__init__.py", "codes.py", "settings.py", "models.py", "attendance.py", "export.py", "messages.py"} <= found


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_core_module_does_not_import_nextcord(path: Path) -> None:
    """Nothing outside attendance_bot/bot/ and attendance_bot/emulator/ imports nextcord."""
    offending = {m for m in imported_modules(path) if m == "nextcord" or m.startswith("nextcord.")}
    assert not offending


_PROBE = r"""
import json, logging, sys
seen = []
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        seen.append(("open", str(args[0])))
    elif event == "sqlite3.connect":
        seen.append(("sqlite3.connect", repr(args)))
sys.addaudithook(hook)
import attendance_bot
for name in ("codes", "errors", "settings", "models", "attendance", "export", "messages"):
    __import__("attendance_bot." + name)
print(json.dumps({
    "touched": [s for s in seen if s[0] == "sqlite3.connect" or not s[1].endswith((".py", ".pyc", ".so"))
                and "/zoneinfo" not in s[1] and "site-packages" not in s[1] and "/lib/python" not in s[1]],
    "handlers": len(logging.getLogger().handlers),
    "nextcord": "nextcord" in sys.modules,
}))
"""


def test_importing_the_package_reads_no_env_and_creates_no_database(tmp_path: Path) -> None:
    """Importing attendance_bot and its core opens no .env, no database, configures no logging."""
    (tmp_path / ".env").write_text("DATABASE_PATH=here.db\nDISCORD_BOT_TOKEN=x\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_PATH", "DISCORD_BOT_TOKEN")}
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    report = json.loads(done.stdout)
    assert report == {"touched": [], "handlers": 0, "nextcord": False}
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert not (REPO / "here.db").exists()
