"""manage.py's subcommands: admin tasks from the shell, over the attendance service."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import peewee

from . import bigtext
from .attendance import AttendanceService
from .errors import AttendanceError, ConfigurationError, NoOpenSession, quoted
from .export import csv_bytes
from .models import close_db, init_db
from .settings import Settings, load_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
MANAGE = ".venv/bin/python manage.py"  # how the README and every hint run this script


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
        """Settings from --env-file (which must exist) or ./.env (which may be missing) and the environment."""
        explicit = self.options.env_file
        env_file = Path(explicit) if explicit else PROJECT_DIR / ".env"
        if explicit and not env_file.exists():
            raise CommandError(f"--env-file {quoted(explicit, 200)}: no such file (name your settings file, e.g. .env)")
        if explicit and env_file.is_dir():
            raise CommandError(f"--env-file {quoted(explicit, 200)} is a folder: name your settings file, e.g. .env")
        try:
            return load_settings(env_file, environ=self.environ, base_dir=PROJECT_DIR, require_discord=require_discord)
        except ConfigurationError as exc:
            if not env_file.exists():  # the default .env: say so before what is missing
                raise CommandError(
                    "\n".join(
                        [
                            f"{env_file}: no such file: `cp .env.example .env` and fill it in, "
                            "or set these variables in the environment",
                            *exc.problems,
                        ]
                    )
                ) from exc
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {quoted(str(env_file), 200)}: {exc.strerror}") from exc

    def service(self, *, create: bool = True) -> AttendanceService:
        """The service over the configured database; create=False (read-only commands) never makes one."""
        settings = self.settings()
        try:
            init_db(settings.database_path, create=create)
        except AttendanceError as exc:
            raise CommandError(str(exc)) from exc
        return AttendanceService(settings)

    def session_id(self) -> str | None:
        """--session as given, stripped once here (a pasted id often carries a space), or None."""
        raw = self.options.session
        if raw is None:
            return None
        if not raw.strip():
            raise CommandError(f"--session needs a session id: `{MANAGE} sessions` lists them.")
        return raw.strip()

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


def _nothing_open(exc: NoOpenSession) -> CommandError:
    return CommandError(f"{exc} Open one with `{MANAGE} open` or /open_attendance in Discord.")


def _database_files(settings: Settings) -> list[Path]:
    path = settings.database_path
    return [path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal"))]


def _is_database_file(path: Path, settings: Settings) -> bool:
    """True if `path` is the configured database or one of its side files: the same file (a link,
    another spelling), or a path that does not exist yet but resolves to the same place."""
    real = os.path.realpath(path)
    for side in _database_files(settings):
        if os.path.realpath(side) == real:
            return True
        try:
            if os.path.samefile(path, side):
                return True
        except OSError:  # one of them does not exist
            continue
    return False


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
        help="the demo's database (default: data/demo.db; it is replaced at each run, so it may not be "
        "DATABASE_PATH's database or any other file that is not an earlier demo's database)",
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
    shown = quoted(str(path), 200)
    if _is_database_file(path, ctx.settings()):
        raise CommandError(
            f"--database {shown} is the configured database (DATABASE_PATH), and the demo deletes its database "
            "at each run: choose another file, such as data/demo.db."
        )
    if path.exists() and not path.is_file():
        raise CommandError(f"--database {shown} is not a file: name the demo's database file, such as data/demo.db.")
    if path.is_file() and path.stat().st_size and not _looks_like_sqlite(path):
        raise CommandError(
            f"--database {shown} is not a SQLite database, and the demo deletes its database at each run: "
            "choose a new file name, such as data/demo.db."
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return run_demo(path, ctx.stdout)


def _looks_like_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


# -- check ----------------------------------------------------------------------------------


@command(
    "check",
    "validate the configuration (the token and channel ids for form only: `run` contacts Discord) and the "
    "database, creating it if missing; say exactly what is wrong, and warn about likely pitfalls",
)
def _check(ctx: Context) -> int:
    settings = ctx.settings(require_discord=True)
    for warning in settings.warnings:
        ctx.stderr.write(f"Warning: {warning}\n")
    existed = settings.database_path.exists()
    try:
        init_db(settings.database_path)
        sessions = AttendanceService(settings).sessions()
    except AttendanceError as exc:  # its sentence names the path and says what to do
        raise CommandError(str(exc)) from exc
    except peewee.DatabaseError as exc:
        raise CommandError(f"The database at {settings.database_path} could not be read: {exc}.") from exc
    ctx.write("Configuration validated successfully")
    ctx.write(f"  (the token and channel ids were checked for form only; `{MANAGE} run` contacts Discord)")
    ctx.write(f"  admin channel:      {settings.admin_channel_id}")
    ctx.write(f"  attendance channel: {settings.attendance_channel_id}")
    ctx.write(f"  code shown in:      {settings.display_channel_id}")
    ctx.write(
        f"  codes:              {settings.code_length} characters, new every {settings.code_rotation_interval} s, "
        f"accepted {settings.code_grace_seconds} s after they change"
    )
    ctx.write(f"  time zone:          {settings.timezone.key}")
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
    service = ctx.service(create=False)
    try:
        closed = service.close_session(ctx.session_id())
    except NoOpenSession as exc:
        raise _nothing_open(exc) from exc
    ctx.write(f"Closed session {closed.session.session_id}: {closed.count} present.")
    return 0


# -- sessions -------------------------------------------------------------------------------


@command("sessions", "list the sessions, oldest first: session id, opened, closed, present; * marks the open one")
def _sessions(ctx: Context) -> int:
    service = ctx.service(create=False)
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
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write the CSV to FILE (mode 0600) instead of stdout; never the database itself",
    )
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists already")


@command("export", "the attendance CSV (user_id,username,timestamp,date_id,session_id)", _export_arguments)
def _export(ctx: Context) -> int:
    service = ctx.service(create=False)
    session_id = ctx.session_id()
    target = Path(ctx.options.output) if ctx.options.output else None
    if target is not None:
        _check_export_target(target, service.settings, force=ctx.options.force)
    data = csv_bytes(service.export_rows(session_id), service.settings.timezone)
    if target is not None:
        _write_private(target, data)
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


def _check_export_target(target: Path, settings: Settings, *, force: bool) -> None:
    """Refuse the database (however spelled), anything but a regular file, and an existing file without --force."""
    shown = quoted(str(target), 200)
    try:
        if _is_database_file(target, settings):
            raise CommandError(f"{shown} is the database (DATABASE_PATH) or one of its files: export to another file.")
        if target.exists() or target.is_symlink():
            if not target.is_file():
                raise CommandError(f"{shown} is not a regular file: name a file to write the CSV to.")
            if not force:
                raise CommandError(f"{shown} exists already: choose another name, or add --force to replace it.")
    except ValueError as exc:  # a NUL in the name
        raise CommandError(f"Cannot write {shown}: not a usable file name") from exc


def _write_private(target: Path, data: bytes) -> None:
    """Write to a temporary file (mode 0600) in the same folder, then rename it over `target`: a
    reader sees the old file or the whole new one, and a failure leaves no half-written CSV."""
    temporary: str | None = None
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
        temporary = None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a usable file name"
        raise CommandError(f"Cannot write {quoted(str(target), 200)}: {reason}") from exc
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


# -- code -----------------------------------------------------------------------------------


def _code_arguments(parser: argparse.ArgumentParser) -> None:
    _session_option(parser, "the open one")
    parser.add_argument(
        "--watch", action="store_true", help="keep the code on screen, large, with a countdown (Ctrl-C ends)"
    )


@command("code", "show the current code of the open session (--watch for a projector view)", _code_arguments)
def _code(ctx: Context) -> int:
    service = ctx.service(create=False)
    session_id = ctx.session_id()
    try:
        if not ctx.options.watch:
            current = service.current_code(session_id)
            ctx.write(f"{current.code}  (session {current.session_id}, changes in {current.seconds_left:.0f} s)")
            return 0
        return _watch(ctx, service, session_id)
    except NoOpenSession as exc:
        raise _nothing_open(exc) from exc


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
        description="attendance_bot: rotating-code attendance for Discord. Admin tasks from the shell; "
        f"run from the project folder as `{MANAGE} COMMAND`.",
    )
    env_help = "read settings from PATH (which must exist) instead of ./.env; the environment overrides it"
    parser.add_argument("--env-file", metavar="PATH", help=env_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (_, help_text, arguments) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        # Also after the subcommand (`manage.py check --env-file x`); SUPPRESS keeps an earlier one.
        child.add_argument("--env-file", metavar="PATH", default=argparse.SUPPRESS, help=env_help)
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
