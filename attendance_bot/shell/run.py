"""run, demo and playground: the bot against Discord or the local emulator."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import messages
from ..messages import quoted
from . import base
from .base import CommandError, Context, command
from .files import scratch_database

# -- run ------------------------------------------------------------------------------------


@command("run", "start the Discord bot (the main job); Ctrl-C or SIGTERM stops it cleanly")
def _run(ctx: Context) -> int:
    settings = ctx.settings(require_discord=True)
    from ..speedups import apply  # before nextcord is imported: it picks its JSON module then

    for notice in apply(uvloop=settings.uvloop, orjson=settings.orjson):
        ctx.stdout.write(messages.error_text(notice) + "\n")
    from ..bot.app import run  # nextcord is imported only by the commands that talk to Discord

    return run(settings, out=ctx.stdout)


# -- demo -----------------------------------------------------------------------------------


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="FILE",
        default="data/demo.db",
        help="the demo's database (default: data/demo.db; it is replaced at each run, so it may not be "
        "DATABASE_PATH's database or any other file that is not an earlier demo's database)",
    )


@command(
    "demo",
    "the real bot against the local Discord emulator, playing a short class (no Discord needed)",
    _demo_arguments,
)
def _demo(ctx: Context) -> int:
    from ..demo import run_demo

    assert ctx.main is not None  # main() hands itself over
    return run_demo(scratch_database(ctx, "demo"), ctx.stdout, shell=ctx.main, project_dir=base.PROJECT_DIR)


# -- playground -----------------------------------------------------------------------------


def _playground_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="FILE",
        default="data/playground.db",
        help="the playground's database (default: data/playground.db; it is replaced at each start, so it may not "
        "be DATABASE_PATH's database or any other file that is not an earlier playground's database)",
    )
    parser.add_argument(
        "--files",
        metavar="DIR",
        help="where the files the bot attaches (CSV exports, reports) are saved, as new 0600 files "
        "(default: playground-files beside the database)",
    )


@command(
    "playground",
    "the real bot on the local Discord emulator with a prompt where you type as the instructor or a student, "
    "e.g. `as teacher: /open_attendance`, `as ada: /here 7KQ3` (stdin: a terminal or a script; `help` at the "
    "prompt lists the rest; no Discord needed)",
    _playground_arguments,
)
def _playground(ctx: Context) -> int:
    from ..playground import run_playground

    path = scratch_database(ctx, "playground")
    files = Path(ctx.options.files) if ctx.options.files else path.parent / "playground-files"
    if not files.is_absolute():
        files = base.PROJECT_DIR / files
    if files.exists() and not files.is_dir():
        raise CommandError(f"--files {quoted(str(files), 200)} is not a folder: name a folder for the files.")
    return run_playground(path, files, ctx.stdin, ctx.stdout)
