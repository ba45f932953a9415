"""Errors carry data: every kind the package raises (or reports as a notice) has its sentence in
messages, and the values given are the ones that sentence takes (or fields of the error's class)."""

from __future__ import annotations

import ast
import inspect
import pickle
from pathlib import Path

import pytest

from attendance_bot import choices, corrections, messages, report, roster, seedimport, settings, students  # noqa: F401
from attendance_bot.errors import AttendanceError, CourseNeeded, Notice, UnknownSession
from attendance_bot.records import StudentRef

PACKAGE = Path(__file__).resolve().parent.parent / "attendance_bot"
# Calls that take a kind and its values besides the error classes: the settings' problems and notices,
# a schema step's report.
KIND_CALLS = {"Notice", "problem", "notice", "report"}
# Where a kind is passed on (the calls that pass it are checked): the report worker's error, rebuilt
# in the bot's process; the helpers behind a schema step's report() and the settings' problem() and notice().
PASSED_ON = {
    ("reports.py", "ReportError(kind, **values)"),
    ("migrations.py", "Notice(kind, **values)"),
    ("settings.py", "SettingProblem(kind, **values)"),
    ("settings.py", "Notice(kind, **values)"),
    ("warnings.py", "Notice(kind, **values)"),  # a note for a student as stored, made again
}


def _error_classes() -> dict[str, type[AttendanceError]]:
    found: dict[str, type[AttendanceError]] = {}
    todo: list[type[AttendanceError]] = [AttendanceError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


ERRORS = _error_classes()


def problems_in(source: str, filename: str = "<source>") -> list[str]:
    """What is wrong with the kinds of the calls in `source`: a kind messages has no sentence for, a
    value its sentence does not take (and the class does not declare), a value it needs and lacks."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in ERRORS and name not in KIND_CALLS:
            continue
        cls = ERRORS.get(name)
        if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            kind = node.args[0].value
        elif not node.args and cls is not None and _kind_default(cls):
            kind = _kind_default(cls)
        elif (filename, ast.unparse(node)) in PASSED_ON:
            continue
        else:
            found.append(f"{filename}:{node.lineno}: {name}(...) without a kind of messages as its first argument")
            continue
        where = f"{filename}:{node.lineno}: {name}({kind!r})"
        sentence = getattr(messages, kind, None)
        if not inspect.isfunction(sentence) or kind.startswith("_"):
            found.append(f"{where}: messages has no sentence {kind}")
            continue
        if any(keyword.arg is None for keyword in node.keywords) or len(node.args) > 1:
            found.append(f"{where}: values must be given by name")
            continue
        parameters = inspect.signature(sentence).parameters
        given = {keyword.arg for keyword in node.keywords if keyword.arg}
        fields = set(cls.fields) if cls is not None else set()
        found.extend(
            f"{where}: {value}= is not a value of the sentence" for value in sorted(given - set(parameters) - fields)
        )
        needed = {n for n, p in parameters.items() if p.default is inspect.Parameter.empty}
        found.extend(f"{where}: the sentence needs {value}=" for value in sorted(needed - given))
    return found


def _kind_default(cls: type[AttendanceError]) -> str | None:
    parameters = list(inspect.signature(cls.__init__).parameters.values())
    default = parameters[1].default if len(parameters) > 1 else inspect.Parameter.empty
    return default if isinstance(default, str) else None


SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_every_kind_has_its_sentence(path: Path) -> None:
    """Each error or notice the module makes names a sentence of messages, with that sentence's values."""
    assert problems_in(path.read_text(encoding="utf-8"), path.name) == []


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ('raise CourseError("no_such_sentence")', "messages has no sentence no_such_sentence"),
        ('raise CourseError("course_name_taken", nmae="x")', "nmae= is not a value of the sentence"),
        ('raise CourseError("course_name_taken")', "the sentence needs name="),
        ('raise CourseError("course_name_taken", **values)', "values must be given by name"),
        ('reader.problem("setting_missing", name="X")', "the sentence needs example="),
        ('raise CourseNeeded("unknown_course", name="x", names=[], guild_ids=[])', "guild_ids= is not a value"),
        ('raise CourseError("_names", names=[])', "messages has no sentence _names"),
        ("raise CourseError(messages.course_name_taken(name))", "without a kind of messages"),
        ("raise SessionWithoutCourse(session_id)", "without a kind of messages"),
        ("raise CourseError(problem)", "without a kind of messages"),
    ],
)
def test_the_check_finds_a_wrong_kind(source: str, problem: str) -> None:
    """A misspelt kind or value, a missing value: each is named (the check can fail)."""
    found = problems_in(source)
    assert found and all(problem in line for line in found[:1]), found


def test_fields_of_the_class_are_values_too() -> None:
    """CourseNeeded declares `names`, which some of its sentences do not take; that is allowed."""
    assert problems_in('raise CourseNeeded("course_in_several_servers", name="a", guild_ids=[1], names=["a"])') == []


def test_an_error_holds_its_kind_and_values_and_says_its_sentence() -> None:
    """The data is there for the code that catches it; str() and error_text are the sentence, the same."""
    error = UnknownSession("unknown_session", session_id="nope", recent=["a", "b"])
    assert (error.kind, error.values) == ("unknown_session", {"session_id": "nope", "recent": ["a", "b"]})
    assert (error.session_id, error.recent) == ("nope", ["a", "b"])
    assert str(error) == messages.error_text(error) == messages.unknown_session("nope", ["a", "b"])
    assert "nope" in repr(error) and "UnknownSession" in repr(error)


def test_a_sentence_takes_only_its_values() -> None:
    """A value kept for the caller (a field) does not reach the sentence."""
    error = CourseNeeded("course_in_several_servers", name="math", guild_ids=[1, 2], names=["math", "math"])
    assert error.names == ["math", "math"]
    assert messages.error_text(error) == messages.course_in_several_servers("math", [1, 2])


def test_an_error_survives_pickling() -> None:
    """A worker process can hand an error back whole: its class, kind and values."""
    error = UnknownSession("unknown_session", session_id="x", recent=[])
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is UnknownSession and (again.kind, again.values) == (error.kind, error.values)


def test_a_kind_without_a_sentence_is_named_not_hidden() -> None:
    """An error whose kind messages lacks still says something (a bug, caught by the test above)."""
    assert messages.error_text(AttendanceError("no_such_kind")) == "Something went wrong (no_such_kind)."


def test_an_ambiguous_student_lists_the_pick_list_labels() -> None:
    """The sentence for several students names them as the autocomplete list does."""
    refs = [StudentRef("s1", 1, "S1", "Ada", "ada", True), StudentRef(None, 2, None, None, "bob", False)]
    error = corrections.AmbiguousStudent("student_ambiguous_among", typed="a", choices=refs)
    labels = [choices.student_choice(ref).label for ref in refs]
    assert messages.error_text(error) == messages.student_ambiguous("a", labels)
    assert error.choices == refs


def test_notices_are_data_too() -> None:
    """A notice (a schema step done, a pitfall in the settings) compares by kind and values and says its sentence."""
    notice = Notice("migration_step_done", step="0002_courses")
    assert notice == Notice("migration_step_done", step="0002_courses") != Notice("migration_step_done", step="x")
    assert str(notice) == messages.migration_step_done("0002_courses")


def test_every_legacy_zone_has_its_sentence() -> None:
    """settings knows which TIMEZONE names are legacy; messages says what each is and what to use."""
    assert set(settings.LEGACY_ZONES) == messages.LEGACY_ZONE_NAMES


def test_the_services_make_no_sentences() -> None:
    """No module below the text layer calls a function of messages (the layering test forbids the import;
    this catches a sentence smuggled in another way, such as a `messages` argument)."""
    below = ["attendance", "checkin", "courses", "students", "roster", "corrections", "gradebook", "seedimport"]
    below += ["exports", "services", "storage", "models", "migrations", "settings", "copydb", "speedups", "backups"]
    below += ["warnings", "excuses", "schedule", "timetable"]
    for name in below:
        module = PACKAGE / f"{name}.py"
        for path in [module] if module.exists() else sorted((PACKAGE / name).glob("*.py")):
            assert "messages." not in path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix()
