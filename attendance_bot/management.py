"""manage.py's subcommands: admin tasks from the shell, over the attendance service."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import peewee

from . import bigtext
from .attendance import AttendanceService
from .errors import AttendanceError, ConfigurationError, quoted
from .export import csv_bytes
from .models import close_db, init_db
from .settings import Settings, load_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent


class CommandError(Exception):
    """A failure that becomes one line on stderr and exit status 1."""


@dataclass
class Context:
    """What every subcommand gets: parsed options, streams, where settings come from."""

    options: argparse.Namespace
    stdout: IO[str]
    stderr: IO[str]
    environ: Mapping[str, str]

    def settings(self, *, require_discord: bool = False) -> Settings:
        env_file = Path(self.options.env_file) if self.options.env_file else PROJECT_DIR / ".env"
        try:
            return load_settings(env_file, environ=self.environ, base_dir=PROJECT_DIR, require_discord=require_discord)
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from exc

    def service(self) -> AttendanceService:
        settings = self.settings()
        try:
            init_db(settings.database_path)
        except AttendanceError as exc:
            raise CommandError(str(exc)) from exc
        return AttendanceService(settings)

    def write(self, line: str = "") -> None:
        self.stdout.write(line + "\n")


Handler = Callable[[Context], int]
COMMANDS: dict[str, tuple[Handler, str, Callable[[argparse.ArgumentParser], None]]] = {}


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    """Register a subcommand: its handler, its one-line help and its arguments."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (handler, help_text, arguments)
        return handler

    return register


def _session_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--session", metavar="ID", help=f"the session id (default: {what})")


# -- run ------------------------------------------------------------------------------------


@command("run", "start the Discord bot (the main job); Ctrl-C or SIGTERM stops it cleanly")
def _run(ctx: Context) -> int:
    settings = ctx.settings(require_discord=True)
    from .bot.app import run  # nextcord is imported only by the commands that talk to Discord

    return run(settings, out=ctx.stdout)


# -- demo -----------------------------------------------------------------------------------


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="FILE",
        default="data/demo.db",
        help="the demo's database (default: data/demo.db; it is replaced at each run)",
    )


@command(
    "demo",
    "the real bot against the local Discord emulator, playing a short class (no Discord needed)",
    _demo_arguments,
)
def _demo(ctx: Context) -> int:
    from .demo import run_demo

    path = Path(ctx.options.database)
    if not path.is_absolute():
        path = PROJECT_DIR / path
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return run_demo(path, ctx.stdout)


# -- check ----------------------------------------------------------------------------------


@command("check", "validate the configuration and the database; say exactly what is wrong")
def _check(ctx: Context) -> int:
    settings = ctx.settings(require_discord=True)
    ctx.write("Configuration validated successfully")
    ctx.write(f"  admin channel:      {settings.admin_channel_id}")
    ctx.write(f"  attendance channel: {settings.attendance_channel_id}")
    ctx.write(f"  code shown in:      {settings.display_channel_id}")
    ctx.write(
        f"  codes:              {settings.code_length} characters, new every {settings.code_rotation_interval} s, "
        f"accepted {settings.code_grace_seconds} s after they change"
    )
    ctx.write(f"  time zone:          {settings.timezone.key}")
    existed = settings.database_path.exists()
    try:
        init_db(settings.database_path)
        sessions = AttendanceService(settings).sessions()
    except (AttendanceError, peewee.DatabaseError) as exc:
        raise CommandError(f"Database {settings.database_path}: {exc}") from exc
    state = f"{len(sessions)} session(s)" if existed else "created, empty"
    ctx.write(f"Database OK: {settings.database_path} ({state})")
    return 0


# -- open / close ---------------------------------------------------------------------------


@command("open", "open an attendance session (a running bot posts its code message)")
def _open(ctx: Context) -> int:
    service = ctx.service()
    user = os.environ.get("USER") or "shell"
    info = service.open_session(opened_by=f"shell:{user}", channel_id=service.settings.display_channel_id)
    current = service.current_code(info.session_id)
    ctx.write(f"Opened session {info.session_id}; code now {current.code} (changes in {current.seconds_left:.0f} s).")
    return 0


@command(
    "close",
    "close the open session (or --session ID); a running bot finalises its message",
    lambda p: _session_option(p, "the open one"),
)
def _close(ctx: Context) -> int:
    closed = ctx.service().close_session(ctx.options.session)
    ctx.write(f"Closed session {closed.session.session_id}: {closed.count} present.")
    return 0


# -- sessions -------------------------------------------------------------------------------


@command("sessions", "list sessions: id, opened, closed, count; open ones marked with *")
def _sessions(ctx: Context) -> int:
    service = ctx.service()
    summaries = service.sessions()
    if not summaries:
        ctx.write("No sessions yet.")
        return 0
    tz = service.settings.timezone
    ctx.write(f"  {'session':<20} {'opened':<19} {'closed':<19} {'present':>7}")
    for summary in summaries:
        info = summary.session
        opened = info.opened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        closed = info.closed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if info.closed_at else "open"
        mark = "*" if info.is_open else " "
        ctx.write(f"{mark} {info.session_id:<20} {opened:<19} {closed:<19} {summary.count:>7}")
    return 0


# -- export ---------------------------------------------------------------------------------


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    _session_option(parser, "every session")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the CSV to FILE instead of stdout")


@command("export", "the attendance CSV (user_id,username,timestamp,date_id,session_id)", _export_arguments)
def _export(ctx: Context) -> int:
    service = ctx.service()
    data = csv_bytes(service.export_rows(ctx.options.session), service.settings.timezone)
    if ctx.options.output:
        target = Path(ctx.options.output)
        try:
            target.write_bytes(data)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a usable file name"
            raise CommandError(f"Cannot write {quoted(str(target), 200)}: {reason}") from exc
        records = data.count(b"\r\n") - 1  # quoted newlines inside cells are bare \n
        ctx.stderr.write(f"Wrote {records} record(s) to {quoted(str(target), 200)}\n")
        return 0
    buffer = getattr(ctx.stdout, "buffer", None)
    if buffer is not None:
        ctx.stdout.flush()
        buffer.write(data)
        buffer.flush()
    else:
        ctx.stdout.write(data.decode("utf-8"))
    return 0


# -- code -----------------------------------------------------------------------------------


def _code_arguments(parser: argparse.ArgumentParser) -> None:
    _session_option(parser, "the open one")
    parser.add_argument(
        "--watch", action="store_true", help="keep the code on screen, large, with a countdown (Ctrl-C ends)"
    )


@command("code", "show the current code of the open session (--watch for a projector view)", _code_arguments)
def _code(ctx: Context) -> int:
    service = ctx.service()
    session_id = ctx.options.session
    if not ctx.options.watch:
        current = service.current_code(session_id)
        ctx.write(f"{current.code}  (session {current.session_id}, changes in {current.seconds_left:.0f} s)")
        return 0
    return _watch(ctx, service, session_id)


def _watch(ctx: Context, service: AttendanceService, session_id: str | None) -> int:
    """Redraw each second until Ctrl-C (or SIGTERM), which only sets a flag: a signal that lands
    inside library code can never be swallowed there and leave the view running."""
    tty = ctx.stdout.isatty() if hasattr(ctx.stdout, "isatty") else False
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    shown: tuple[str, int] | None = None
    try:
        while not stop.is_set():
            current = service.current_code(session_id)
            session_id = current.session_id  # follow this session even if another opens later
            left = max(1, int(current.seconds_left + 0.999))
            if tty:
                ctx.stdout.write("\x1b[2J\x1b[H")
            if tty or shown != (current.code, current.window):
                ctx.write(f"Session {current.session_id}: type /here {current.code}")
                ctx.write()
                for line in bigtext.render(current.code):
                    ctx.write("    " + line)
                ctx.write()
                shown = (current.code, current.window)
            ctx.write(f"changes in {left:>3} s")
            ctx.stdout.flush()
            stop.wait(min(1.0, current.seconds_left) if current.seconds_left > 0 else 0.05)
    except AttendanceError as exc:
        if shown is None:  # nothing to watch at all: fail like `code`
            raise
        ctx.write(str(exc))  # closed or gone while watching
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    ctx.write()
    return 0


# -- entry point ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manage.py",
        description="attendance_bot: rotating-code attendance for Discord. Admin tasks from the shell.",
    )
    parser.add_argument("--env-file", metavar="PATH", help="read settings from PATH instead of ./.env")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (_, help_text, arguments) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        arguments(child)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run one subcommand; return its exit status (errors: one line on stderr, status 1)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage or help
        return int(exc.code or 0)
    ctx = Context(options, stdout, stderr, os.environ if environ is None else environ)
    handler = COMMANDS[options.command][0]
    try:
        return handler(ctx)
    except (CommandError, AttendanceError) as exc:
        for line in str(exc).splitlines() or ["failed"]:
            stderr.write(f"Error: {line}\n")
        return 1
    except peewee.DatabaseError as exc:
        stderr.write(f"Error: the database could not be read: {exc}\n")
        return 1
    finally:
        close_db()
