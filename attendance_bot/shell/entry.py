"""manage.py's entry point: the parser over every command, in the order --help lists them, and main()."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, NoReturn, cast

import peewee

from .. import __version__, messages
from ..errors import (
    AttendanceError,
    CourseNeeded,
    UnknownCourse,
    UnknownSession,
)
from ..messages import MANAGE
from ..models import close_db

# Importing a command module registers its commands.
from . import backup, corrections, courses, database, records, roster, run, seedimport, sessions, students  # noqa: F401
from .base import COMMANDS, ENV_HELP, CommandError, Context, NothingThere, Printable

# The commands in the order `--help` lists them (each module registers its own).
ORDER = (
    "run",
    "demo",
    "playground",
    "check",
    "migrate",
    "backup",
    "copy-db",
    "open",
    "close",
    "sessions",
    "courses",
    "course",
    "roster",
    "export",
    "report",
    "code",
    "projector",
    "import-seed",
    "history",
    "mark",
    "claims",
    "link",
)


class _UsageError(Exception):
    """A mistyped command or option: one line on stderr and exit status 1, like every other error."""


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error is one line (naming the command and its --help) and
    status 1 instead of the usage text and status 2; subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("manage.py")
        what = "options" if command else "commands"
        # argparse echoes unrecognized arguments as typed: no control or reordering character reaches the terminal
        shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in " ".join(message.split()))
        raise _UsageError(f"{self.prog}: {shown} (`{MANAGE}{command} --help` lists the {what})")


def _found_nothing(exc: BaseException) -> bool:
    """Whether an error says a course, student or session is not in the database (or no course is):
    the shell then names the database it looked in, in case DATABASE_PATH names the wrong one."""
    from ..corrections import UnknownStudent

    not_found = (UnknownCourse, UnknownStudent, UnknownSession)
    for error in (exc, exc.__cause__):
        if isinstance(error, not_found) or isinstance(error, NothingThere):
            return True
        if isinstance(error, CourseNeeded) and not error.names:
            return True
    return False


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="manage.py",
        description="attendance_bot: rotating-code attendance for Discord. Admin tasks from the shell; "
        f"run from the project folder as `{MANAGE} COMMAND`. Errors, mistyped options included, are one "
        "line on stderr and exit status 1.",
    )
    parser.add_argument("--version", action="version", version=f"attendance_bot {__version__}")
    parser.add_argument("--env-file", metavar="PATH", help=ENV_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in sorted(COMMANDS, key=ORDER.index):  # a command missing from ORDER fails here, loudly
        _, help_text, arguments = COMMANDS[name]
        child = sub.add_parser(name, help=help_text, description=help_text)
        # Also after the subcommand (`manage.py check --env-file x`); SUPPRESS keeps an earlier one.
        child.add_argument("--env-file", metavar="PATH", default=argparse.SUPPRESS, help=ENV_HELP)
        arguments(child)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    environ: Mapping[str, str] | None = None,
    stdin: IO[str] | None = None,
) -> int:
    """Run one subcommand; return its exit status (errors: one line on stderr, status 1). Whatever it
    writes shows control and text-reordering characters as \\uXXXX (printable())."""
    stdout = cast(IO[str], Printable(stdout or sys.stdout))
    stderr = cast(IO[str], Printable(stderr or sys.stderr))
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed --help or --version
        return int(exc.code or 0)
    except _UsageError as exc:
        stderr.write(f"Error: {exc}\n")
        return 1
    ctx = Context(options, stdout, stderr, os.environ if environ is None else environ, stdin or sys.stdin, main=main)
    handler = COMMANDS[options.command][0]
    try:
        return handler(ctx)
    except (CommandError, AttendanceError) as exc:
        said = messages.error_text(exc) if isinstance(exc, AttendanceError) else str(exc)
        lines = said.splitlines() or ["failed"]
        if ctx.database is not None and _found_nothing(exc):
            lines[-1] += f" {messages.looked_in(ctx.database)}"
        for line in lines:
            stderr.write(f"Error: {line}\n")
        return 1
    except peewee.DatabaseError as exc:
        stderr.write(f"Error: the database could not be read: {exc}\n")
        return 1
    finally:
        close_db()
