"""Layering: the core never imports nextcord, and importing the package has no side effects."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "attendance_bot"
ADAPTERS = ("bot", "emulator", "bench")  # the packages that import nextcord
# thin shell adapters (files, and the shell/ package): may import ADAPTERS (lazily)
EDGES = ("__main__.py", "demo.py", "emulated.py", "playground.py", "shell")
CORE = sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in (*ADAPTERS, *EDGES))
# What the core may not import: nextcord, and every module that imports it or leads to it.
NOT_FOR_THE_CORE = (
    "nextcord",
    *(f"attendance_bot.{name}" for name in ADAPTERS),
    *(f"attendance_bot.{name.removesuffix('.py')}" for name in EDGES),
)


def module_name(path: Path) -> str:
    """The dotted name Python gives the file (`attendance_bot/bot/__init__.py` is `attendance_bot.bot`)."""
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(relative: str, package: list[str], level: int) -> str:
    """`from ..x import y` resolved against the importing module's package, as the import system does."""
    base = package[: len(package) - (level - 1)] if level - 1 <= len(package) else []
    return ".".join([*base, relative] if relative else base)


def _is_type_checking(node: ast.AST) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`: a block that never runs."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST, type_checking: bool) -> Iterator[ast.AST]:
    """Every node of the tree, as `ast.walk`, leaving out the bodies of `if TYPE_CHECKING:` unless asked."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if not type_checking and _is_type_checking(node):
            assert isinstance(node, ast.If)
            todo.extend([node.test, *node.orelse])
        else:
            todo.extend(ast.iter_child_nodes(node))


def imported_modules(path: Path, module: str | None = None, *, type_checking: bool = True) -> set[str]:
    """Every module name the file imports, relative imports resolved to absolute names, anywhere in
    the file (top level, inside functions, importlib calls). `from X import y` counts X and X.y,
    since y may be a submodule. `module` is the file's dotted name (default: from its path).
    `type_checking=False` leaves out imports under `if TYPE_CHECKING:`, which never run."""
    module = module or module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in _nodes(tree, type_checking):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", package, node.level) if node.level else node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if texts and texts[0].startswith("."):  # import_module(".x", "package")
                dots = len(texts[0]) - len(texts[0].lstrip("."))
                anchor = texts[1].split(".") if len(texts) > 1 else package
                names.add(_absolute(texts[0][dots:], anchor, dots))
            elif texts:
                names.add(texts[0])
    return names


def offending_imports(path: Path, module: str | None = None) -> set[str]:
    """The imports of `path` that the core may not make."""
    return {
        name
        for name in imported_modules(path, module)
        if any(name == banned or name.startswith(banned + ".") for banned in NOT_FOR_THE_CORE)
    }


def test_the_core_modules_are_found() -> None:
    """The scan covers the core (guards against a scan of nothing passing vacuously)."""
    found = {p.relative_to(PACKAGE).as_posix() for p in CORE}
    assert {
        "__init__.py",
        "codes.py",
        "settings.py",
        "models.py",
        "records.py",
        "storage/__init__.py",
        "attendance.py",
        "export.py",
        "messages/__init__.py",
    } <= found
    assert not found & set(EDGES)


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_core_module_does_not_import_nextcord(path: Path) -> None:
    """No core module imports nextcord, bot/, emulator/, bench/ or the shell edges, absolutely or relatively."""
    assert not offending_imports(path)


@pytest.mark.parametrize(
    ("source", "module", "caught"),
    [
        ("from .bot.app import serve", "attendance_bot.attendance", "attendance_bot.bot.app"),
        ("from .bot import app", "attendance_bot.attendance", "attendance_bot.bot.app"),
        ("from . import bot", "attendance_bot.attendance", "attendance_bot.bot"),
        ("def later():\n    from .emulator import Emulator", "attendance_bot.codes", "attendance_bot.emulator"),
        ("from ..bot.app import serve", "attendance_bot.storage.sqlite", "attendance_bot.bot.app"),
        ("from .demo import run_demo", "attendance_bot.export", "attendance_bot.demo"),
        ("from . import shell", "attendance_bot", "attendance_bot.shell"),
        ("from .shell.base import Context", "attendance_bot.export", "attendance_bot.shell.base"),
        (
            "import importlib\nimportlib.import_module('.bot.app', 'attendance_bot')",
            "attendance_bot.x",
            "attendance_bot.bot.app",
        ),
        ("from nextcord.ext import commands", "attendance_bot.attendance", "nextcord.ext"),
        ("import attendance_bot.bench.run", "attendance_bot.attendance", "attendance_bot.bench.run"),
    ],
)
def test_the_scan_sees_relative_imports(source: str, module: str, caught: str, tmp_path: Path) -> None:
    """A relative import of a nextcord-importing module (`from .bot.app import serve`) is caught like an absolute one."""
    path = tmp_path / ("__init__.py" if module == "attendance_bot" else "module.py")
    path.write_text(source + "\n", encoding="utf-8")
    assert caught in offending_imports(path, module)


def test_relative_imports_of_the_core_itself_are_allowed(tmp_path: Path) -> None:
    """`from .errors import quoted` and `from . import codes` are fine in the core."""
    path = tmp_path / "module.py"
    path.write_text("from . import codes\nfrom .errors import quoted\nfrom .models import database\n", encoding="utf-8")
    assert imported_modules(path, "attendance_bot.attendance") >= {"attendance_bot.codes", "attendance_bot.errors"}
    assert not offending_imports(path, "attendance_bot.attendance")


@pytest.mark.parametrize("name", ["shell/run.py", "emulated.py"])
def test_the_shell_edges_are_where_the_bot_is_imported(name: str) -> None:
    """shell/run.py and emulated.py (demo's and playground's bot) are edges: they reach bot/ (lazily), which is
    why they are not core."""
    assert any(m.startswith("attendance_bot.bot") for m in imported_modules(PACKAGE / name))


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
for name in ("codes", "errors", "settings", "models", "records", "storage", "attendance", "export", "messages"):
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


def import_graph() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports at run time (inside functions too,
    not under TYPE_CHECKING)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {other for other in imported_modules(path, type_checking=False) if other in modules and other != name}
        for name, path in modules.items()
    }


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that reach each other through imports (strongly connected, more than one module)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(name: str) -> None:
        order[name] = low[name] = len(order)
        stack.append(name)
        for other in sorted(graph[name]):
            if other not in order:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in stack:
                low[name] = min(low[name], order[other])
        if low[name] == order[name]:
            group = [stack.pop()]
            while group[-1] != name:
                group.append(stack.pop())
            if len(group) > 1:
                circles.append(sorted(group))

    for name in sorted(graph):
        if name not in order:
            visit(name)
    return sorted(circles)


@pytest.mark.parametrize(
    ("graph", "circles"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}}, [["a", "b", "c"], ["d", "e"]]),
    ],
)
def test_the_circle_finder_finds_circles(graph: dict[str, set[str]], circles: list[list[str]]) -> None:
    """The circle finder names every group of modules that import each other, and nothing else."""
    assert import_circles(graph) == circles


def test_type_checking_imports_are_left_out(tmp_path: Path) -> None:
    """An import under `if TYPE_CHECKING:` never runs, so it closes no circle; one inside a function does."""
    path = tmp_path / "module.py"
    path.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .models import Course\n"
        "else:\n    from . import codes\ndef later():\n    from . import storage\n",
        encoding="utf-8",
    )
    found = imported_modules(path, "attendance_bot.attendance", type_checking=False)
    assert {"attendance_bot.codes", "attendance_bot.storage"} <= found
    assert "attendance_bot.models" not in found
    assert "attendance_bot.models" in imported_modules(path, "attendance_bot.attendance")


def test_no_import_circles() -> None:
    """No two modules of the package import each other, directly or round a loop, even inside functions."""
    graph = import_graph()
    assert {"attendance_bot.models", "attendance_bot.emulator.rest", "attendance_bot.bench.runner"} <= set(graph)
    assert import_circles(graph) == []


# -- the layers and the arrows between them ---------------------------------------------------------

# Every top-level module and package of attendance_bot, by layer. A new module is placed here (the
# test below fails until it is), and the README's architecture section says the same.
LAYERS: dict[str, set[str]] = {
    # rules and vocabulary, no database and no sentences: codes, the clock, the record types, the
    # errors (kinds and values), the settings and the course settings described once
    "pure": {
        "attendance_bot",
        "codes",
        "clock",
        "records",
        "errors",
        "settings",
        "coursesettings",
        "speedups",
        "export",
        "bigtext",
        "shards",
        "presence",
        "timetable",
    },
    # the database: the deferred handle, the tables, the schema steps and every write
    "storage": {"database", "models", "migrations", "schema", "storage", "copydb", "backups"},
    # one module per feature, and Services(settings, clock) that holds them
    "services": {
        "attendance",
        "checkin",
        "courses",
        "students",
        "roster",
        "corrections",
        "gradebook",
        "seedimport",
        "seedfile",
        "exports",
        "projector",
        "services",
        "voice",
        "warnings",
        "excuses",
        "schedule",
    },
    # every sentence (messages) and what is drawn or listed for people from the services' data
    "text": {"messages", "report", "choices"},
    # the edges: Discord, the shell, the web (the projector page), and the demo and playground that run the bot locally
    "adapters": {"bot", "shell", "web", "__main__", "demo", "playground", "emulated"},
    # apart: the local Discord and the benchmark
    "test beds": {"emulator", "bench"},
}
BELOW = {
    "pure": {"pure"},
    "storage": {"pure", "storage"},
    "services": {"pure", "storage", "services"},
    "text": {"pure", "storage", "services", "text"},
    "adapters": {"pure", "storage", "services", "text", "adapters"},
    "test beds": set(LAYERS),
}
# The arrows outside the rule, each with its reason.
EXCEPTIONS = {
    ("errors", "messages"): "str() of an error is its English sentence, for logs and tests (made lazily)",
    ("demo", "emulator"): "the demo runs the bot against the local emulator",
    ("playground", "emulator"): "the playground is the emulator driven by hand",
    ("emulated", "emulator"): "the bot in-process against the emulator, for the demo and the playground",
}


def _top(module: str) -> str:
    """`attendance_bot.bot.cogs.courses` -> `bot`; the package itself is `attendance_bot`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def layer_of(name: str) -> str | None:
    return next((layer for layer, names in LAYERS.items() if name in names), None)


def wrong_arrows(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """The imports between top-level modules that go up a layer (or sideways between adapters and test
    beds) and are not among the EXCEPTIONS."""
    wrong = set()
    for module, imported in graph.items():
        here = _top(module)
        for other in imported:
            there = _top(other)
            if here == there or (here, there) in EXCEPTIONS:
                continue
            if layer_of(there) not in BELOW.get(layer_of(here) or "", set()):
                wrong.add((here, there))
    return sorted(wrong)


def test_every_module_has_a_layer() -> None:
    """Each top-level module and package of attendance_bot is placed in exactly one layer."""
    found = {p.name.removesuffix(".py") for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    found = {"attendance_bot" if name == "__init__" else name for name in found} | {"schema"}
    placed = [name for names in LAYERS.values() for name in names]
    assert len(placed) == len(set(placed))
    assert found == set(placed)


@pytest.mark.parametrize(
    ("graph", "wrong"),
    [
        ({"attendance_bot.storage": {"attendance_bot.messages"}}, [("storage", "messages")]),
        ({"attendance_bot.courses": {"attendance_bot.bot.app"}}, [("courses", "bot")]),
        ({"attendance_bot.settings": {"attendance_bot.models"}}, [("settings", "models")]),
        ({"attendance_bot.bot.app": {"attendance_bot.emulator.server"}}, [("bot", "emulator")]),
        ({"attendance_bot.report": {"attendance_bot.gradebook", "attendance_bot.messages"}}, []),
        ({"attendance_bot.errors": {"attendance_bot.messages"}}, []),
    ],
)
def test_an_arrow_up_the_layers_is_caught(graph: dict[str, set[str]], wrong: list[tuple[str, str]]) -> None:
    """The check names an import from a lower layer into a higher one, and passes the allowed ones."""
    assert wrong_arrows(graph) == wrong


def test_imports_go_down_the_layers() -> None:
    """Adapters -> text -> services -> storage -> pure, never back: in particular storage, models,
    migrations, settings and the services import no messages (not even inside a function)."""
    assert wrong_arrows(import_graph()) == []
