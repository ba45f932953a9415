"""The shell's frame: the command registry, Context, CommandError, printable output, the database as opened."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .. import messages, models
from ..courses import env_course
from ..errors import (
    AttendanceError,
    ConfigurationError,
    CourseError,
    CourseNeeded,
    NoOpenSession,
)
from ..messages import MANAGE, quoted
from ..migrations import fold
from ..models import init_db
from ..records import CourseInfo
from ..services import Services
from ..settings import Settings, load_settings

# The folder that holds the package: a checkout's own folder, or site-packages once installed.
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent.parent


def project_dir(package_parent: Path = _PACKAGE_PARENT) -> Path:
    """The folder whose `.env`, data/ and relative paths the shell means: a checkout's own folder (manage.py
    beside the package), whatever the current folder; for the installed `attendance-bot` command (the
    package in site-packages, no manage.py beside it) the current folder, never site-packages."""
    return package_parent if (package_parent / "manage.py").is_file() else Path.cwd()


PROJECT_DIR = project_dir()
ENV_HELP = "read settings from PATH (which must exist) instead of ./.env; the environment overrides it"


class CommandError(Exception):
    """A failure that becomes one line on stderr and exit status 1."""


# What the shell never prints raw: control characters (C0, C1: escape sequences, a bell, a carriage
# return), format characters (bidi overrides and isolates, zero-width) and line separators, from a
# name or id stored by an older release or another tool. Newline and tab are the shell's own.
_HIDDEN = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))


def printable(text: str) -> str:
    """Text as the shell prints it: every hidden character but newline and tab shown as a visible \\uXXXX."""
    if text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable():  # (almost) always
        return text
    return "".join(
        f"\\u{ord(ch):04x}" if ch not in "\n\t" and unicodedata.category(ch) in _HIDDEN else ch for ch in text
    )


class Printable:
    """A command's stdout or stderr: every write goes through printable() (the one place that keeps
    raw control characters off the operator's terminal); `raw` is the stream itself, for the bytes
    that are meant (the CSV's CRLF, the projector view's clear-screen)."""

    def __init__(self, stream: IO[str]) -> None:
        self.raw = stream

    def write(self, text: str) -> int:
        return self.raw.write(printable(text))

    def __getattr__(self, name: str) -> object:  # flush, isatty, buffer, fileno, ...: the stream's own
        return getattr(self.raw, name)


def raw_stream(stream: IO[str]) -> IO[str]:
    """The stream under a command's printable stdout (or the stream itself, if it is not wrapped)."""
    return stream.raw if isinstance(stream, Printable) else stream


class NothingThere(CommandError):
    """The database holds no course (or nothing of what was asked): the error names the database."""


@dataclass
class Context:
    """What every subcommand gets: parsed options, streams, where settings come from."""

    options: argparse.Namespace
    stdout: IO[str]
    stderr: IO[str]
    environ: Mapping[str, str]
    stdin: IO[str]
    # The database a command opened, as it may be printed: "not found" errors name it.
    database: str | None = None
    # main() itself, for a command that runs others (the demo shows `sessions` and `export`): handed
    # over, not imported, so that no command module imports the entry point that imports it.
    main: Callable[..., int] | None = None

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
                            *(messages.error_text(error) for error in exc.errors),
                        ]
                    )
                ) from exc
            raise CommandError(messages.error_text(exc)) from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {quoted(str(env_file), 200)}: {exc.strerror}") from exc

    def services(self, *, writes: bool = False) -> Services:
        """The services over the configured database, opened for what the command does.

        A command that writes (writes=True) brings an older database up to date (a backup copy
        first; what was done goes to stderr) and then creates or updates the course `.env`
        defines. A read-only command changes nothing: it refuses an older database (saying to
        run `migrate`) and sees the `.env` course only once a writing command or the bot has
        added it. None makes a database where there is none (`migrate` and the bot do).
        """
        settings = self.settings()
        for line in open_database(settings, create=False, upgrade=writes):
            self.stderr.write(line + "\n")
        self.database = settings.database_shown
        services = Services(settings)
        if writes:
            sync_env_course(services)
        return services

    def course(self, services: Services) -> CourseInfo:
        """The course --course names, else the only one not archived (CourseNeeded lists them)."""
        name = self.options.course
        if name is not None and not name.strip():
            raise CommandError(f"--course needs a course name: `{MANAGE} courses` lists them.")
        try:
            if name is not None:
                return find_course(services, name, None, hint=messages.SEVERAL_SERVERS_HINT)
            return services.courses.for_shell(None)
        except CourseError as exc:
            if env_course_missing(services) and (name is None or fold(name) == fold(services.settings.course_name)):
                raise NothingThere(messages.env_course_not_added(services.settings.course_name)) from exc
            raise

    def course_id(self, services: Services, session_id: str | None) -> int | None:
        """The course to look in: none needed when a session id alone says which session."""
        if session_id is not None and self.options.course is None:
            return None
        return self.course(services).id

    def open_course_id(self, services: Services, session_id: str | None) -> int | None:
        """The course whose open session `close` and `code` act on: as course_id, except that without
        --course or --session the one course with a session open is meant, however many courses there are."""
        if session_id is None and self.options.course is None:
            open_now = [c for c in services.courses.courses() if c.open_session_id]
            if len(open_now) == 1:
                return open_now[0].id
        return self.course_id(services, session_id)

    def session_id(self) -> str | None:
        """--session as given, stripped once here (a pasted id often carries a space), or None."""
        raw = self.options.session
        if raw is None:
            return None
        if not raw.strip():
            raise CommandError(f"--session needs a session id: `{MANAGE} sessions` lists them.")
        return raw.strip()

    def actor(self) -> str:
        """Who did it, for the events and sessions this command writes: shell:<the OS user>."""
        return f"shell:{os_user(self.environ)}"

    def write(self, line: str = "") -> None:
        self.stdout.write(line + "\n")


def os_user(environ: Mapping[str, str]) -> str:
    """The OS user running the shell: the login name the environment gives (getpass's order), else
    the account of this process's uid (cron, systemd and containers often set no $USER), else uid=N."""
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        if environ.get(name):
            return environ[name]
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # no pwd module, or a uid without an account
        return f"uid={os.getuid()}"


Handler = Callable[[Context], int]
COMMANDS: dict[str, tuple[Handler, str, Callable[[argparse.ArgumentParser], None]]] = {}


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    """Register a subcommand: its handler, its one-line help and its arguments."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = (handler, help_text, arguments)
        return handler

    return register


def session_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--session", metavar="ID", help=f"the session id (default: {what})")


def course_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--course",
        metavar="NAME",
        help=f"{what}; needed only when several courses could be meant (`{MANAGE} courses` lists them)",
    )


def nothing_open(exc: NoOpenSession, ctx: Context) -> CommandError:
    named = messages.course_argument(ctx.options.course) if ctx.options.course else ""
    said = messages.error_text(exc)
    return CommandError(f"{said} Open one with `{MANAGE} open{named}` or /open_attendance in Discord.")


def of_course(course_name: str | None) -> str:
    return f" of course {course_name!r}" if course_name else ""


# -- the database, as each command needs it -------------------------------------------------


class _Sentences(logging.Handler):
    """Collects what init_db logs while it upgrades: the sentences migrations.upgrade returns."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        self.lines.append(text if record.levelno <= logging.INFO else f"Warning: {text}")


@contextlib.contextmanager
def upgrade_sentences() -> Iterator[list[str]]:
    """init_db logs what an upgrade did (and nothing else at INFO); the shell has no logging
    configured, so listen to its logger for the duration and hand the lines to the command."""
    logger = logging.getLogger(models.__name__)
    handler = _Sentences()
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def open_database(settings: Settings, *, create: bool, upgrade: bool) -> list[str]:
    """init_db for a command: what an upgrade did, one sentence each (none without one), and
    init_db's warnings (a database others could read, made private) as "Warning: ..." lines."""
    try:
        with upgrade_sentences() as lines:
            init_db(
                settings.database_target,
                create=create,
                upgrade=upgrade,
                defaults=env_course(settings),
                make_folder=settings.default_database,
            )
    except AttendanceError as exc:  # its sentence names the path and says what to do
        raise CommandError(messages.error_text(exc)) from exc
    return lines


def sync_env_course(services: Services) -> None:
    """Create or update the course `.env` defines, as the bot does at start.

    The shell knows the course's server only from GUILD_ID; without it, CourseService takes the
    course of that name wherever the bot placed it (or makes it without a server, which the bot
    fills in when it starts).
    """
    settings = services.settings
    if not settings.defines_course:
        return
    guild_id = settings.guild_id
    try:
        services.courses.sync_env_course(guild_id)
    except AttendanceError as exc:
        raise CommandError(messages.env_course_refused(settings.course_name, exc)) from exc


def env_course_missing(services: Services) -> bool:
    """Whether `.env` defines a course that is not in the database yet."""
    settings = services.settings
    if not settings.defines_course:
        return False
    key = fold(settings.course_name)
    return not any(fold(c.name) == key for c in services.courses.courses())


def snowflake(option: str, value: str) -> int:
    text = value.strip()
    if not re.fullmatch(r"[0-9]{15,22}", text):
        raise CommandError(messages.bad_snowflake(option, value))
    return int(text)


def switch(option: str, value: str) -> bool:
    """A yes or no option (also on/off, true/false)."""
    word = value.strip().casefold()
    if word in ("yes", "on", "true"):
        return True
    if word in ("no", "off", "false"):
        return False
    raise CommandError(messages.bad_switch(option, value))


def whole_number(option: str, value: str, unit: str) -> int:
    text = value.strip()
    if not re.fullmatch(r"-?[0-9]+", text):  # ASCII digits only: int() also takes "١٥" and "1_5"
        raise CommandError(messages.bad_number(option, value, unit))
    return int(text)


def find_course(services: Services, name: str, guild_id: int | None, *, hint: str) -> CourseInfo:
    """A course by name; where servers share the name, the one in `guild_id`, else in GUILD_ID's."""
    try:
        return services.courses.find(name, guild_id)
    except CourseNeeded as exc:  # the name exists in several servers
        if guild_id is None and services.settings.guild_id is not None:
            return services.courses.find(name, services.settings.guild_id)
        raise CommandError(f"{messages.error_text(exc)} {hint}") from exc
