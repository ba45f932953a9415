"""One vocabulary per concept: a status is spelled once, as records.Status, and every list of statuses follows it."""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "attendance_bot"
WORDS = ("present", "late", "excused", "absent")
COLOURS = ("#009e73", "#e69f00", "#56b4e9", "#d55e00")  # the heat map's Okabe-Ito colours of the statuses
# Where a status may be spelled: the vocabulary itself; the model's column default and the schema
# steps (frozen history, owned by migrations); the emulator (a stand-in Discord, no statuses).
SPELLED_HERE = ("records.py", "models.py", "schema", "emulator")
# The same words meaning something else: (file, word, what it is).
OTHER_MEANINGS = {
    ("shell/sessions.py", "present"),  # the session list's column of present-or-late counts
    ("shell/courses.py", "late"),  # the course list's column of the late_after setting
    ("bench/report.py", "late"),  # the bench's column of answers later than Discord's limit
}


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and functions (prose, not vocabulary)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _scanned() -> Iterator[tuple[str, ast.Module, set[int]]]:
    """Each module outside the vocabulary: its path in the package, its tree, its docstrings' ids."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.split("/")[0] not in SPELLED_HERE:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            yield relative, tree, _docstrings(tree)


def _spellings() -> list[tuple[str, str]]:
    """(file, text) of every string constant in the package that is a status's word or colour."""
    found = []
    for relative, tree, skip in _scanned():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                text = node.value
                if (text in WORDS and (relative, text) not in OTHER_MEANINGS) or text in COLOURS:
                    found.append((relative, node.value))
    return found


def test_a_status_is_spelled_only_in_the_vocabulary() -> None:
    """No module outside records.py spells a status's word or colour: each takes it from Status."""
    assert _spellings() == []


def _source_spellings() -> list[tuple[str, int]]:
    """(file, line) of every record source spelled as a string: `manual` anywhere, `code` where it is a
    source (compared with `.source`, given as `source=`, or a `"source"` key's value)."""
    found = []
    for relative, tree, skip in _scanned():
        for node in ast.walk(tree):
            texts: list[ast.AST] = []
            if isinstance(node, ast.Constant) and node.value == "manual" and id(node) not in skip:
                texts.append(node)
            elif isinstance(node, ast.Compare) and any(
                isinstance(side, ast.Attribute) and side.attr == "source" for side in [node.left, *node.comparators]
            ):
                texts.extend(side for side in [node.left, *node.comparators] if isinstance(side, ast.Constant))
            elif isinstance(node, ast.keyword) and node.arg == "source":
                texts.extend(n for n in ast.walk(node.value) if isinstance(n, ast.Constant))
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "source":
                        texts.extend(n for n in ast.walk(value) if isinstance(n, ast.Constant))
            found.extend(
                (relative, text.lineno) for text in texts if getattr(text, "value", None) in ("code", "manual")
            )
    return sorted(set(found))


def test_a_source_is_spelled_only_in_the_vocabulary() -> None:
    """A record's source (code, manual) is records.Source everywhere but the vocabulary and the frozen schema."""
    assert _source_spellings() == []


def test_status_is_the_word_the_database_and_csv_hold() -> None:
    """A Status is its word: equal to it, hashed as it, written as it by f-strings and the csv module."""
    from attendance_bot.records import Status

    buffer = io.StringIO()
    csv.writer(buffer).writerow(list(Status))
    assert [str(s) for s in Status] == [f"{s}" for s in Status] == list(WORDS)
    assert buffer.getvalue() == ",".join(WORDS) + "\r\n"
    assert {"late": 1}[Status.LATE] == 1
    assert Status("excused") is Status.EXCUSED


@pytest.mark.parametrize(
    ("word", "letter", "attended", "colour", "order"),
    [
        ("present", "P", True, "#009e73", 0),
        ("late", "L", True, "#e69f00", 1),
        ("excused", "E", False, "#56b4e9", 2),
        ("absent", "A", False, "#d55e00", 3),
    ],
)
def test_each_status_carries_its_letter_attendance_colour_and_order(
    word: str, letter: str, attended: bool, colour: str, order: int
) -> None:
    """The gradebook's letter, whether it counts as there, the heat map's colour and its place in every list."""
    from attendance_bot.records import Status

    status = Status(word)
    assert (status.letter, status.attended, status.colour, status.order) == (letter, attended, colour, order)


def test_every_list_of_statuses_is_in_the_status_order() -> None:
    """The report's and the gradebook's total columns, the legend, the shell's --status help and the
    Discord /attendance mark choices all list the statuses in Status order."""
    from _shell import run_shell

    from attendance_bot import export, messages, report
    from attendance_bot.records import Status

    words = [s.value for s in Status]
    assert list(report.HEADER[4 : 4 + len(words)]) == words and report.HEADER[4 + len(words)] == "rate"
    assert list(export.TOTAL_COLUMNS[1:-1]) == words
    assert list(messages.report_legend())[:-1] == words
    result = run_shell("mark", "--help", environ={})
    assert f"one of {', '.join(words)}" in " ".join(result.out.split())
    assert [choice["value"] for choice in _mark_choices()] == words


def _mark_choices() -> list[dict[str, str]]:
    """The choices of /attendance mark's status option, as nextcord sends them to Discord."""
    from attendance_bot.bot.cogs import COGS

    for cog in COGS:
        for command in cog.__new__(cog).__cog_application_commands__:
            payload = command.get_payload(None)
            for sub in payload.get("options", []):
                if (payload["name"], sub["name"]) == ("attendance", "mark"):
                    return next(o for o in sub["options"] if o["name"] == "status")["choices"]
    raise AssertionError("no /attendance mark")


def test_totals_count_every_status() -> None:
    """Totals has one count per status, named by its word, so the totals columns and the rate see each one."""
    from dataclasses import fields

    from attendance_bot.records import Status, Totals

    assert [f.name for f in fields(Totals)] == ["sessions", *(s.value for s in Status)]


def test_my_attendance_marks_every_status() -> None:
    """Each status has its own mark in /my_attendance (the hourglass is for no status yet)."""
    from datetime import datetime, timezone

    from attendance_bot import messages
    from attendance_bot.gradebook import totals
    from attendance_bot.records import (
        Cell,
        GradebookSession,
        GradebookStudent,
        SessionStatus,
        Status,
        StudentAttendance,
    )

    opened = datetime(2026, 9, 1, 9, tzinfo=timezone.utc)
    sessions = tuple(
        SessionStatus(GradebookSession(f"s{n}", opened, opened), status.value) for n, status in enumerate(Status)
    )
    student = GradebookStudent("s1", "Ada", "ada", None, 1, True)
    course = StudentAttendance(1, "C", student, sessions, totals(Cell(s.value) for s in Status))
    lines = messages.my_attendance_lines([course], timezone.utc)[1:]
    marks = [line.split(" ", 1)[0] for line in lines]
    assert [line.rsplit(": ", 1)[1] for line in lines] == [s.value for s in Status]
    assert "⏳" not in marks
    assert len(set(marks)) == len(Status)
