"""The Discord adapter's shape: one cog per feature over one Services, completers on every option that names a record."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from attendance_bot.bot.cogs import COGS

BOT = Path(__file__).resolve().parent.parent.parent / "attendance_bot" / "bot"
# options whose value names a course's record (entry: a timetable line)
COMPLETED = ("course", "student", "session", "entry")


def _payloads() -> list[dict[str, Any]]:
    cogs = [cog.__new__(cog) for cog in COGS]  # the commands are read in __new__; no bot needed
    return [command.get_payload(None) for cog in cogs for command in cog.__cog_application_commands__]


def _options(payload: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    """Every (command path, option) of a command, through its sub-commands and groups."""
    found = []
    for option in payload.get("options", []):
        if option["type"] in (1, 2):  # a sub-command (group)
            found += _options(option, f"{path} {option['name']}")
        else:
            found.append((path, option))
    return found


def test_each_command_is_in_exactly_one_cog() -> None:
    """The feature cogs together hold every slash command once."""
    names = [payload["name"] for payload in _payloads()]
    assert sorted(names) == sorted(
        {
            "course",
            "open_attendance",
            "close_attendance",
            "projector",
            "export_csv",
            "here",
            "attendance",
            "register",
            "my_attendance",
            "excuse",
            "notify",
        }
    )


@pytest.mark.parametrize("name", COMPLETED)
def test_every_option_naming_a_record_completes(name: str) -> None:
    """Each course, student and session option of every command offers choices as it is typed."""
    found = [(path, o) for p in _payloads() for path, o in _options(p, p["name"]) if o["name"] == name]
    assert found
    assert [path for path, option in found if not option.get("autocomplete")] == []


def _called_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


@pytest.mark.parametrize("path", sorted((BOT / "cogs").glob("*.py")), ids=lambda p: p.name)
def test_no_cog_builds_a_service(path: Path) -> None:
    """A cog reaches its services through the shared context: it constructs none itself."""
    assert {name for name in _called_names(path) if name.endswith(("Service", "Services"))} == set()


def test_the_app_builds_the_services_once() -> None:
    """bot/app.py builds the one Services object the cogs share."""
    source = (BOT / "app.py").read_text(encoding="utf-8")
    assert source.count("Services(") == 1 and "Services" in _called_names(BOT / "app.py")
