"""manage.py's subcommands: admin tasks from the shell, over the attendance service."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import signal
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn, cast

import peewee

from . import __version__, bigtext, messages, migrations, models
from .attendance import AttendanceService
from .courses import env_course
from .errors import (
    AttendanceError,
    ConfigurationError,
    CourseError,
    CourseNeeded,
    NoOpenSession,
    UnknownCourse,
    UnknownSession,
    quoted,
)
from .export import csv_bytes
from .messages import MANAGE
from .migrations import fold
from .models import close_db, init_db
from .records import CourseInfo
from .report import PAGE_STUDENTS
from .settings import Settings, load_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
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


class _Printable:
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
    return stream.raw if isinstance(stream, _Printable) else stream


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

    def service(self, *, writes: bool = False) -> AttendanceService:
        """The service over the configured database, opened for what the command does.

        A command that writes (writes=True) brings an older database up to date (a backup copy
        first; what was done goes to stderr) and then creates or updates the course `.env`
        defines. A read-only command changes nothing: it refuses an older database (saying to
        run `migrate`) and sees the `.env` course only once a writing command or the bot has
        added it. None makes a database where there is none (`migrate` and the bot do).
        """
        settings = self.settings()
        for line in _open_database(settings, create=False, upgrade=writes):
            self.stderr.write(line + "\n")
        self.database = settings.database_shown
        service = AttendanceService(settings)
        if writes:
            _sync_env_course(service)
        return service

    def course(self, service: AttendanceService) -> CourseInfo:
        """The course --course names, else the only one not archived (CourseNeeded lists them)."""
        name = self.options.course
        if name is not None and not name.strip():
            raise CommandError(f"--course needs a course name: `{MANAGE} courses` lists them.")
        try:
            if name is not None:
                return _find_course(service, name, None, hint=messages.SEVERAL_SERVERS_HINT)
            return service.courses.for_shell(None)
        except CourseError as exc:
            if _env_course_missing(service) and (name is None or fold(name) == fold(service.settings.course_name)):
                raise NothingThere(messages.env_course_not_added(service.settings.course_name)) from exc
            raise

    def course_id(self, service: AttendanceService, session_id: str | None) -> int | None:
        """The course to look in: none needed when a session id alone says which session."""
        if session_id is not None and self.options.course is None:
            return None
        return self.course(service).id

    def open_course_id(self, service: AttendanceService, session_id: str | None) -> int | None:
        """The course whose open session `close` and `code` act on: as course_id, except that without
        --course or --session the one course with a session open is meant, however many courses there are."""
        if session_id is None and self.options.course is None:
            open_now = [c for c in service.courses.courses() if c.open_session_id]
            if len(open_now) == 1:
                return open_now[0].id
        return self.course_id(service, session_id)

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


def _session_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--session", metavar="ID", help=f"the session id (default: {what})")


def _course_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--course",
        metavar="NAME",
        help=f"{what}; needed only when several courses could be meant (`{MANAGE} courses` lists them)",
    )


def _nothing_open(exc: NoOpenSession, ctx: Context) -> CommandError:
    named = messages.course_argument(ctx.options.course) if ctx.options.course else ""
    return CommandError(f"{exc} Open one with `{MANAGE} open{named}` or /open_attendance in Discord.")


def _of(course_name: str | None) -> str:
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
def _upgrade_sentences() -> Iterator[list[str]]:
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


def _open_database(settings: Settings, *, create: bool, upgrade: bool) -> list[str]:
    """init_db for a command: what an upgrade did, one sentence each (none without one), and
    init_db's warnings (a database others could read, made private) as "Warning: ..." lines."""
    try:
        with _upgrade_sentences() as lines:
            init_db(
                settings.database_target,
                create=create,
                upgrade=upgrade,
                defaults=env_course(settings),
                make_folder=settings.default_database,
            )
    except AttendanceError as exc:  # its sentence names the path and says what to do
        raise CommandError(str(exc)) from exc
    return lines


def _sync_env_course(service: AttendanceService) -> None:
    """Create or update the course `.env` defines, as the bot does at start.

    The shell knows the course's server only from GUILD_ID; without it, CourseService takes the
    course of that name wherever the bot placed it (or makes it without a server, which the bot
    fills in when it starts).
    """
    settings = service.settings
    if not settings.defines_course:
        return
    guild_id = settings.guild_id
    try:
        service.courses.sync_env_course(guild_id)
    except AttendanceError as exc:
        raise CommandError(messages.env_course_refused(settings.course_name, exc)) from exc


def _env_course_missing(service: AttendanceService) -> bool:
    """Whether `.env` defines a course that is not in the database yet."""
    settings = service.settings
    if not settings.defines_course:
        return False
    key = fold(settings.course_name)
    return not any(fold(c.name) == key for c in service.courses.courses())


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
    from .speedups import apply  # before nextcord is imported: it picks its JSON module then

    for line in apply(uvloop=settings.uvloop, orjson=settings.orjson):
        ctx.stdout.write(line + "\n")
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

    return run_demo(_scratch_database(ctx, "demo"), ctx.stdout)


def _scratch_database(ctx: Context, what: str) -> Path:
    """--database of `demo` or `playground`, emptied for a new run: never the configured database, nor
    a file that is not a SQLite database (a typo must not delete notes)."""
    path = Path(ctx.options.database)
    if not path.is_absolute():
        path = PROJECT_DIR / path
    shown = quoted(str(path), 200)
    example = f"data/{what}.db"
    if _is_database_file(path, ctx.settings()):
        raise CommandError(
            f"--database {shown} is the configured database (DATABASE_PATH), and the {what} deletes its database "
            f"at each run: choose another file, such as {example}."
        )
    if path.exists() and not path.is_file():
        raise CommandError(f"--database {shown} is not a file: name the {what}'s database file, such as {example}.")
    if not os.path.lexists(path.parent):  # only the project's data/ folder is made (private: 0700)
        if path.parent != PROJECT_DIR / "data":
            raise CommandError(messages.demo_folder_missing(path))
        path.parent.mkdir(mode=0o700)
        path.parent.chmod(0o700)
    if path.is_file() and path.stat().st_size and not _looks_like_sqlite(path):
        raise CommandError(
            f"--database {shown} is not a SQLite database, and the {what} deletes its database at each run: "
            f"choose a new file name, such as {example}."
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def _looks_like_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


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
    from .playground import run_playground

    path = _scratch_database(ctx, "playground")
    files = Path(ctx.options.files) if ctx.options.files else path.parent / "playground-files"
    if not files.is_absolute():
        files = PROJECT_DIR / files
    if files.exists() and not files.is_dir():
        raise CommandError(f"--files {quoted(str(files), 200)} is not a folder: name a folder for the files.")
    return run_playground(path, files, ctx.stdin, ctx.stdout)


# -- check ----------------------------------------------------------------------------------


@command(
    "check",
    "validate the configuration (the token and channel ids for form only: `run` contacts Discord) and the "
    "database, only reading it: a missing one is an error naming its path (the default data/attendance.db not "
    "made yet is not: the bot makes it when it starts), an older one is not upgraded (it says so); say exactly "
    "what is wrong, and warn about likely pitfalls",
)
def _check(ctx: Context) -> int:
    settings = ctx.settings(require_discord=True)
    for warning in settings.warnings:
        ctx.stderr.write(f"Warning: {warning}\n")
    if settings.database_url is not None:  # read-only: a PostgreSQL database is never created or upgraded here
        found = _look_at_postgres(settings)
        shown = settings.database_shown
        state = f"{found.sessions} session(s)" if found.version is not None else "empty: no tables yet"
    else:  # read only: a missing database is never made here, nor its folder
        path = settings.database_path
        found, shown = _NOTHING, str(path)
        state = ""
        if path.exists():
            looked = _look_at(path)
            if looked is None or (looked.version is not None and not looked.pending):
                # init_db says what is wrong with an unreadable or too new one, and makes a readable one private
                for line in _open_database(settings, create=False, upgrade=False):
                    ctx.stderr.write(line + "\n")
                looked = _look_at(path, reuse=True)
            if looked is None:  # _open_database read it just now: only a race gets here
                raise CommandError(f"The database at {path} could not be read.")
            found = looked
            state = f"{found.sessions} session(s)" if found.version is not None else "empty: no tables yet"
        elif not settings.default_database:  # a DATABASE_PATH that names no file: mistyped, or moved
            raise CommandError(messages.no_database_at(path))
    ctx.write("Configuration validated successfully")
    ctx.write(f"  (the token and channel ids were checked for form only; `{MANAGE} run` contacts Discord)")
    if settings.defines_course:
        ctx.write(f"  admin channel:      {settings.admin_channel_id}")
        ctx.write(f"  attendance channel: {settings.attendance_channel_id}")
        ctx.write(f"  code shown in:      {settings.display_channel_id}")
    ctx.write(
        f"  codes:              {settings.code_length} characters, new every {settings.code_rotation_interval} s, "
        f"accepted {settings.code_grace_seconds} s after they change"
    )
    ctx.write(f"  time zone:          {settings.timezone.key}")
    ctx.write(f"Database OK: {shown} ({state})" if state else messages.database_not_made_yet(settings.database_path))
    latest = migrations.latest()
    if found.version is None:
        ctx.write(f"  schema version:     {messages.postgres_empty_schema()}")
    elif found.pending:
        ctx.write(f"  schema version:     {messages.upgrade_pending(found.version, latest)}")
    else:
        ctx.write(f"  schema version:     {found.version} (the latest)")
    ctx.write(f"  courses:            {_courses_state(found, settings)}")
    ctx.write(f"  .env course:        {_env_course_state(found, settings)}")
    return 0


@dataclass(frozen=True)
class _Found:
    """What `check` tells about a database, read without changing it."""

    version: int | None
    pending: list[str]
    sessions: int
    courses: int
    archived: int
    names: frozenset[str]  # the courses' names, folded


_NOTHING = _Found(None, [], 0, 0, 0, frozenset())  # a database not made yet


def _look_at(path: Path, *, reuse: bool = False) -> _Found | None:
    """The database's schema version, pending steps and counts, read without upgrading or writing
    (a plain connection when reuse=False); None when it cannot be read (init_db says why)."""
    database = models.database
    if not reuse:
        # query_only: this connection cannot write, whatever a library call might try.
        models.close_all()
        database.initialize(
            peewee.SqliteDatabase(str(path), timeout=models.BUSY_TIMEOUT_SECONDS, pragmas={"query_only": 1})
        )
    return _read_found(reuse=reuse)


def _look_at_postgres(settings: Settings) -> _Found:
    """The same on a PostgreSQL server, over a read-only connection (nothing created or upgraded);
    one line saying what is wrong (server down, authentication failed, database missing) otherwise."""
    assert settings.database_url is not None
    try:
        models.open_postgres_read_only(settings.database_url)
    except AttendanceError as exc:
        raise CommandError(str(exc)) from exc
    try:
        found = _read_found(reuse=False)
    finally:
        models.close_all()
    if found is None:
        raise CommandError(messages.postgres_unreachable(settings.database_shown, "its tables could not be read"))
    return found


def _read_found(*, reuse: bool) -> _Found | None:
    """What `check` tells about the database `models.database` is open on."""
    database = models.database
    try:
        database.connect(reuse_if_open=True)
        tables = set(database.get_tables())
        sessions = database.execute_sql('SELECT COUNT(*) FROM "session"').fetchone()[0] if "session" in tables else 0
        names: list[str] = []
        archived = 0
        if "course" in tables:
            rows = database.execute_sql('SELECT "name", "archived_at" FROM "course"').fetchall()
            names = [fold(name) for name, _ in rows]
            archived = sum(1 for _, when in rows if when is not None)
        return _Found(
            migrations.schema_version(), migrations.pending(), sessions, len(names), archived, frozenset(names)
        )
    except peewee.DatabaseError:
        return None
    finally:
        if not reuse:
            database.close()


def _courses_state(found: _Found, settings: Settings) -> str:
    if found.courses:
        archived = f" ({found.archived} archived)" if found.archived else ""
        return f"{found.courses}{archived}"
    if found.version is not None and found.pending and found.sessions:
        return f"none yet: the upgrade puts the {found.sessions} earlier session(s) in course {settings.course_name!r}"
    return "none yet"


def _env_course_state(found: _Found, settings: Settings) -> str:
    made_first = f"`{MANAGE} migrate` makes the database, then " if found.version is None else ""
    if not settings.defines_course:
        return (
            "none (ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID are not set): courses are set up with /course create "
            f"or, on this machine, {made_first}`{MANAGE} course add`"
        )
    name = settings.course_name
    if fold(name) in found.names:
        return f"{name!r} (ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID), in the database"
    return (
        f"{name!r} (ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID), not in the database yet: the bot adds it when it "
        f"starts, or `{MANAGE} migrate`"
    )


# -- migrate --------------------------------------------------------------------------------


@command(
    "migrate",
    "upgrade the database to this release's schema (a backup copy <database>.bak-<version> is made first) and "
    "say what was done, one line each; where there is none, make a new one (in an existing folder, or the "
    "default data/); the bot does the same when it starts",
)
def _migrate(ctx: Context) -> int:
    settings = ctx.settings()
    made = settings.database_url is None and not settings.database_path.exists()
    lines = _open_database(settings, create=True, upgrade=True)
    for line in lines:
        (ctx.stderr if line.startswith("Warning: ") else ctx.stdout).write(line + "\n")
    if made:
        ctx.write(messages.database_made(settings.database_path, migrations.schema_version()))
    elif not any(not line.startswith("Warning: ") for line in lines):
        ctx.write(messages.database_up_to_date(migrations.schema_version()))
    _sync_env_course(AttendanceService(settings))
    return 0


# -- copy-db --------------------------------------------------------------------------------


def _copy_db_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to",
        metavar="URL",
        required=True,
        help="the database to copy into: postgresql://USER:PASSWORD@HOST:5432/NAME (created beforehand with "
        "createdb) or sqlite:///FILE; its tables are made by this release's migration steps if it has none",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="copy even into a database that holds rows: its tables are emptied first, in the same transaction "
        "as the copy (if the copy fails, it keeps what it held)",
    )


@command(
    "copy-db",
    "copy every table of the configured database (DATABASE_URL or DATABASE_PATH) into another, e.g. SQLite to "
    "PostgreSQL, ids and values kept, in one transaction, the row counts checked table by table; the "
    "configured database must be at the latest schema (stop the bot first: what it records later is not copied)",
    _copy_db_arguments,
)
def _copy_db(ctx: Context) -> int:
    from .copydb import copy_into_target

    settings = ctx.settings()
    target = _copy_target(ctx.options.to)
    if _same_database(settings, target):
        raise CommandError(messages.copy_same_database(target.database_shown))
    for line in _open_database(settings, create=False, upgrade=False):
        ctx.stderr.write(line + "\n")
    version, latest = migrations.schema_version(), migrations.latest()
    if version != latest:
        raise CommandError(messages.copy_source_not_latest(settings.database_shown, version, latest))
    source = models.database.obj
    try:
        try:
            with _upgrade_sentences() as lines:  # the target's schema, by the same steps as every database's
                init_db(target.database_target)
        except AttendanceError as exc:
            raise CommandError(str(exc).replace("DATABASE_URL", "--to").replace("DATABASE_PATH", "--to")) from exc
        for line in lines:
            ctx.stderr.write(line + "\n")
        copied = copy_into_target(source, force=ctx.options.force)
    finally:
        closer = getattr(source, "close_all", None)  # a PostgreSQL source's pool
        if closer is not None:
            closer()
        models.close_all()
    for done in copied:
        ctx.write(messages.copied_table(done.table, done.rows))
    ctx.write(messages.copy_done(sum(done.rows for done in copied), settings.database_shown, target.database_shown))
    return 0


def _copy_target(url: str) -> Settings:
    """--to read as DATABASE_URL is (a PostgreSQL URL, or sqlite:/// and a file relative to the project)."""
    try:
        return load_settings(None, environ={"DATABASE_URL": url}, base_dir=PROJECT_DIR, require_discord=False)
    except ConfigurationError as exc:
        problems = [problem.replace("DATABASE_URL", "the URL") for problem in exc.problems]
        raise CommandError(messages.copy_bad_target("; ".join(problems))) from exc


def _same_database(settings: Settings, target: Settings) -> bool:
    """Whether the target is the configured database (another spelling of its file, or the same
    PostgreSQL server and database whatever the user, as the driver will connect: see postgres_endpoint)."""
    if settings.database_url is None and target.database_url is None:
        return _is_database_file(target.database_path, settings)
    if settings.database_url is not None and target.database_url is not None:
        return models.postgres_endpoint(settings.database_url) == models.postgres_endpoint(target.database_url)
    return False


# -- open / close ---------------------------------------------------------------------------


def _open_arguments(parser: argparse.ArgumentParser) -> None:
    _course_option(parser, "the course to open a session of")
    parser.add_argument(
        "--late-after",
        metavar="MINUTES",
        help="check-ins more than this many minutes after opening count as late, 0-240, 0 for never "
        "(default: the course's rule)",
    )


@command(
    "open",
    "open an attendance session of a course (a running bot posts its code message); adds the course .env "
    "defines if missing (the database must exist: the bot or `migrate` makes it)",
    _open_arguments,
)
def _open(ctx: Context) -> int:
    service = ctx.service(writes=True)
    course = ctx.course(service)
    late = ctx.options.late_after
    late_after = None if late is None else _whole("--late-after", late, "minutes")
    info = service.open_session(course.id, opened_by=ctx.actor(), late_after=late_after)
    current = service.current_code(info.session_id)
    ctx.write(
        f"Opened session {info.session_id}{_of(course.name)}; code now {current.code} "
        f"(changes in {current.seconds_left:.0f} s)."
    )
    return 0


def _close_arguments(parser: argparse.ArgumentParser) -> None:
    _session_option(parser, "the course's open one")
    _course_option(parser, "the course whose open session to close")


@command(
    "close",
    "close a course's open session (or --session ID; without either option, the one session open in any "
    "course); a running bot finalises its message",
    _close_arguments,
)
def _close(ctx: Context) -> int:
    service = ctx.service(writes=True)
    session_id = ctx.session_id()
    try:
        closed = service.close_session(session_id, course_id=ctx.open_course_id(service, session_id))
    except NoOpenSession as exc:
        raise _nothing_open(exc, ctx) from exc
    ctx.write(f"Closed session {closed.session.session_id}{_of(closed.session.course_name)}: {closed.count} present.")
    return 0


# -- sessions -------------------------------------------------------------------------------


def _sessions_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--course",
        metavar="NAME",
        help="list only this course's sessions (default: every course's, with a course column when there are "
        f"several; `{MANAGE} courses` lists them)",
    )


@command(
    "sessions",
    "list the sessions, oldest first: session id, opened, closed, present (and course, when there are several); "
    "* marks an open one",
    _sessions_arguments,
)
def _sessions(ctx: Context) -> int:
    service = ctx.service()
    courses = service.courses.courses()
    several = ctx.options.course is None and len(courses) > 1
    if several:
        summaries = service.sessions(every_course=True)
    else:  # the course named, the only one (archived or not), or none: the sentence says how to add one
        course = courses[0] if ctx.options.course is None and courses else ctx.course(service)
        summaries = service.sessions(course.id)
    if not summaries:
        ctx.write("No sessions yet.")
        return 0
    tz = service.settings.timezone
    course_header = "  course" if several else ""
    ctx.write(f"  {'session':<20} {'opened':<19} {'closed':<19} {'present':>7}{course_header}")
    for summary in summaries:
        info = summary.session
        opened = info.opened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        closed = info.closed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if info.closed_at else "open"
        mark = "*" if info.is_open else " "
        course = f"  {info.course_name or '-'}" if several else ""
        ctx.write(f"{mark} {info.session_id:<20} {opened:<19} {closed:<19} {summary.count:>7}{course}")
    return 0


# -- courses --------------------------------------------------------------------------------


@command(
    "courses",
    "list every course: name, server (- until the bot knows it), admin / attendance / display channel, "
    "instructor role, code length, interval, grace and late rule, and its open session (or archived, or -)",
)
def _courses(ctx: Context) -> int:
    service = ctx.service()
    courses = service.courses.courses()
    if not courses:
        if _env_course_missing(service):
            ctx.write(messages.env_course_not_added(service.settings.course_name))
        else:
            ctx.write(messages.shell_course_needed([]))
        return 0
    width = max(20, *(len(c.name) for c in courses))
    ctx.write(
        f"{'course':<{width}} {'server':<20} {'admin channel':<20} {'attendance channel':<20} "
        f"{'display channel':<20} {'instructor role':<20} {'length':>6} {'every':>6} {'grace':>6} {'late':>8}  session"
    )
    for c in courses:
        state = "archived" if c.archived else (c.open_session_id or "-")
        late = f"{c.late_after} min" if c.late_after else "-"
        ctx.write(
            f"{c.name:<{width}} {_id(c.guild_id):<20} {_id(c.admin_channel_id):<20} "
            f"{_id(c.attendance_channel_id):<20} {_id(c.display_channel_id):<20} {_id(c.instructor_role_id):<20} "
            f"{c.code_length:>6} {f'{c.interval} s':>6} {f'{c.grace_seconds} s':>6} {late:>8}  {state}"
        )
    if any(c.guild_id is None for c in courses):
        ctx.write(messages.courses_without_server())
    if _env_course_missing(service):
        ctx.write(messages.env_course_not_added(service.settings.course_name))
    return 0


def _id(value: int | None) -> str:
    return "-" if value is None else str(value)


# -- course add / edit / archive ------------------------------------------------------------

# The options of `course add` and `course edit`: option -> (CourseService field, kind, help).
_COURSE_FIELDS: dict[str, tuple[str, str, str]] = {
    "--admin-channel": ("admin_channel_id", "id", "the channel instructors run the course from"),
    "--attendance-channel": ("attendance_channel_id", "id", "the channel students type /here in"),
    "--display-channel": (
        "display_channel_id",
        "id",
        "where the code message goes (default: the attendance channel; the admin channel for a projector)",
    ),
    "--instructor-role": (
        "instructor_role_id",
        "id",
        "a role whose members may run the course besides Manage Server (not @everyone)",
    ),
    "--interval": ("interval", "seconds", "seconds each code is shown, 5-120 (default: CODE_ROTATION_INTERVAL)"),
    "--code-length": ("code_length", "characters", "characters per code, 4-8 (default: CODE_LENGTH)"),
    "--grace": (
        "grace_seconds",
        "seconds",
        "seconds a code stays accepted after it changes, 0-600 (default: CODE_GRACE_SECONDS)",
    ),
    "--late-after": (
        "late_after",
        "minutes",
        "minutes after a session opens from which a check-in counts as late, 0-240 (default, or 0: never late)",
    ),
}
_CLEARABLE = {"--display-channel": "none", "--instructor-role": "none"}  # and the code settings: "default"
_REQUIRED_TO_ADD = ("--admin-channel", "--attendance-channel")


def _dest(option: str) -> str:
    return option.removeprefix("--").replace("-", "_")


def _course_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    add_help = "add a course (the same rules as /course create in Discord)"
    add = actions.add_parser("add", help=add_help, description=add_help)
    add.add_argument("--name", required=True, help="the course's name, unique in its server (1-50 characters)")
    add.add_argument("--guild", metavar="ID", help="the course's server id (default: GUILD_ID)")
    for option, (_, kind, text) in _COURSE_FIELDS.items():
        metavar = "ID" if kind == "id" else "N"
        add.add_argument(option, metavar=metavar, required=option in _REQUIRED_TO_ADD, help=text)

    edit_help = (
        "change a course (the same rules as /course edit); the changes apply from its next session, "
        "never to an open one"
    )
    edit = actions.add_parser("edit", help=edit_help, description=edit_help)
    edit.add_argument("course", metavar="NAME", help="the course to change")
    edit.add_argument("--name", metavar="NEW", help="its new name")
    for option, (_, kind, text) in _COURSE_FIELDS.items():
        if kind == "id":
            clear = _CLEARABLE.get(option)
            metavar = f"ID|{clear}" if clear else "ID"
            extra = f"; {clear} to unset it" if clear else ""
        else:
            metavar, extra = "N|default", "; default to follow .env again"
        edit.add_argument(option, metavar=metavar, help=text + extra)
    _guild_selector(edit)

    archive_help = "archive a course: no new sessions; its records and exports stay (close its open session first)"
    archive = actions.add_parser("archive", help=archive_help, description=archive_help)
    archive.add_argument("course", metavar="NAME", help="the course to archive")
    _guild_selector(archive)

    for child in (add, edit, archive):
        child.add_argument("--env-file", metavar="PATH", default=argparse.SUPPRESS, help=ENV_HELP)


def _guild_selector(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--guild", metavar="ID", help="the course's server id, when courses of that name exist in several servers"
    )


@command("course", "add, edit or archive a course: `course ACTION --help` explains each", _course_arguments)
def _course(ctx: Context) -> int:
    return {"add": _course_add, "edit": _course_edit, "archive": _course_archive}[ctx.options.action](ctx)


def _snowflake(option: str, value: str) -> int:
    text = value.strip()
    if not re.fullmatch(r"[0-9]{15,22}", text):
        raise CommandError(messages.bad_snowflake(option, value))
    return int(text)


def _whole(option: str, value: str, unit: str) -> int:
    text = value.strip()
    if not re.fullmatch(r"-?[0-9]+", text):  # ASCII digits only: int() also takes "١٥" and "1_5"
        raise CommandError(messages.bad_number(option, value, unit))
    return int(text)


def _course_changes(ctx: Context, *, editing: bool) -> dict[str, object]:
    """The course fields the options give, validated for form (CourseService checks the rest)."""
    changes: dict[str, object] = {}
    if ctx.options.name is not None:
        changes["name"] = ctx.options.name
    for option, (field, kind, _) in _COURSE_FIELDS.items():
        value = getattr(ctx.options, _dest(option))
        if value is None:
            continue
        word = value.strip().casefold()
        if editing and (word == _CLEARABLE.get(option) or (kind != "id" and word == "default")):
            changes[field] = None
        elif kind == "id":
            changes[field] = _snowflake(option, value)
        else:
            changes[field] = _whole(option, value, kind)
    return changes


def _guild(ctx: Context, settings: Settings, *, default: bool) -> int | None:
    if ctx.options.guild is not None:
        return _snowflake("--guild", ctx.options.guild)
    return settings.guild_id if default else None


def _course_add(ctx: Context) -> int:
    settings = ctx.settings()
    fields = _course_changes(ctx, editing=False)
    guild_id = _guild(ctx, settings, default=True)
    if guild_id is None:
        raise CommandError(messages.guild_needed())
    beside_env = settings.defines_course
    if beside_env:  # refused before the database is opened (which adds the .env course)
        if fold(str(fields["name"])) == fold(settings.course_name):
            raise CommandError(messages.course_add_is_env_course(settings.course_name))
        channels = (fields["admin_channel_id"], fields["attendance_channel_id"])
        if channels == (settings.admin_channel_id, settings.attendance_channel_id):
            raise CommandError(messages.env_course_has_these_channels(settings.course_name, str(fields["name"])))
    service = ctx.service(writes=True)
    course = service.courses.create(guild_id=guild_id, **fields)  # type: ignore[arg-type]
    if course.admin_channel_id == course.attendance_channel_id:
        ctx.stderr.write(f"Warning: {messages.same_admin_and_attendance_channel()}\n")
    if beside_env:
        count = len(service.courses.courses(archived=False))
        ctx.stderr.write(f"Warning: {messages.course_added_beside_env_course(settings.course_name, count)}\n")
    ctx.write(messages.course_added(course))
    return 0


def _named_course(ctx: Context, service: AttendanceService) -> CourseInfo:
    return _find_course(
        service, ctx.options.course, _guild(ctx, service.settings, default=False), hint="Add --guild ID."
    )


def _find_course(service: AttendanceService, name: str, guild_id: int | None, *, hint: str) -> CourseInfo:
    """A course by name; where servers share the name, the one in `guild_id`, else in GUILD_ID's."""
    try:
        return service.courses.find(name, guild_id)
    except CourseNeeded as exc:  # the name exists in several servers
        if guild_id is None and service.settings.guild_id is not None:
            return service.courses.find(name, service.settings.guild_id)
        raise CommandError(f"{exc} {hint}") from exc


def _course_edit(ctx: Context) -> int:
    changes = _course_changes(ctx, editing=True)
    if not changes:
        raise CommandError(messages.nothing_to_change())
    service = ctx.service(writes=True)
    course = _named_course(ctx, service)
    edited = service.courses.edit(course.id, **changes)
    settings = service.settings
    follows_env = {"name", "admin_channel_id", "attendance_channel_id", "display_channel_id", "instructor_role_id"}
    if settings.defines_course and fold(course.name) == fold(settings.course_name) and follows_env & set(changes):
        ctx.stderr.write(f"Warning: {messages.edits_env_course(course.name)}\n")
    ctx.write(messages.course_edited_reply(edited.name))
    return 0


def _course_archive(ctx: Context) -> int:
    service = ctx.service(writes=True)
    course = _named_course(ctx, service)
    archived = service.courses.archive(course.id)
    ctx.write(messages.course_archived_reply(archived.name))
    return 0


# -- roster ---------------------------------------------------------------------------------


def _roster_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    import_help = (
        "import a course's roster from the LMS's CSV: a header student_id,name and optionally discord, or a "
        "Moodle, Canvas or Google Classroom export as it comes, or any header with --columns (UTF-8; comma-, "
        "semicolon- or tab-separated): new students are added and changed ones updated; a malformed file is "
        "refused with its line number and nothing is imported"
    )
    imports = actions.add_parser("import", help=import_help, description=import_help)
    imports.add_argument("file", metavar="FILE", help="the roster CSV (at most 5 MB, 10,000 students)")
    imports.add_argument(
        "--columns",
        metavar="KEY=COLUMN,...",
        help='the columns to read, as the header writes them, e.g. student_id="ID number",name="Full name",'
        'discord="Discord"; name="First name+Last name" joins two columns with a space. Keys not given are read '
        "from the columns named student_id, name and discord, or as the Moodle, Canvas or Google Classroom "
        "export has them",
    )
    imports.add_argument(
        "--replace",
        action="store_true",
        help="also remove the roster entries the file does not list (their attendance records stay)",
    )
    _course_option(imports, "the course whose roster to import")

    list_help = "list a course's roster: student id, name, Discord username and the linked Discord account (or -)"
    listing = actions.add_parser("list", help=list_help, description=list_help)
    _course_option(listing, "the course whose roster to list")

    for child in (imports, listing):
        child.add_argument("--env-file", metavar="PATH", default=argparse.SUPPRESS, help=ENV_HELP)


@command("roster", "import or list a course's roster: `roster ACTION --help` explains each", _roster_arguments)
def _roster(ctx: Context) -> int:
    return {"import": _roster_import, "list": _roster_list}[ctx.options.action](ctx)


def _roster_import(ctx: Context) -> int:
    from .roster import MAX_BYTES, RosterService, parse_columns, parse_roster

    columns = None if ctx.options.columns is None else parse_columns(ctx.options.columns)  # before the file
    path = Path(ctx.options.file)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)  # one byte more than allowed is enough to refuse it
    except OSError as exc:
        raise CommandError(messages.roster_unreadable(str(path), exc.strerror or "not a readable file")) from exc
    except ValueError as exc:  # a NUL in the name
        raise CommandError(messages.roster_unreadable(str(path), "not a usable file name")) from exc
    rows = parse_roster(data, columns)  # refused before the database is opened
    service = ctx.service(writes=True)
    course = ctx.course(service)
    report = RosterService(service.settings, service.clock).import_roster(
        course.id, rows, replace=ctx.options.replace, actor=ctx.actor()
    )
    ctx.write(
        messages.roster_imported(
            course.name, report.added, report.updated, report.unchanged, report.removed, report.unmatched
        )
    )
    return 0


def _roster_list(ctx: Context) -> int:
    from .roster import RosterService

    service = ctx.service()
    course = ctx.course(service)
    lines = RosterService(service.settings, service.clock).roster_list(course.id)
    if not lines:
        ctx.write(messages.roster_is_empty(course.name))
        return 0
    id_width = max(10, *(len(line.student_id) for line in lines))
    name_width = min(40, max(4, *(len(line.name) for line in lines)))
    ctx.write(f"{'student id':<{id_width}}  {'name':<{name_width}}  {'discord':<32}  linked")
    for line in lines:
        linked = "-" if line.user_id is None else str(line.user_id)
        ctx.write(f"{line.student_id:<{id_width}}  {line.name:<{name_width}}  {line.discord or '-':<32}  {linked}")
    return 0


# -- export ---------------------------------------------------------------------------------


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    _session_option(parser, "every session of the course")
    _course_option(parser, "the course whose records to export")
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write the CSV to FILE (mode 0600) instead of stdout; never the database itself",
    )
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists already")
    parser.add_argument(
        "--format",
        choices=("records", "full", "gradebook"),
        default="records",
        help="records (default): the seed's columns, one row per present or late record; full: those columns "
        "plus student_id,student_name,status,source,course, every status, computed absences included; "
        "gradebook: one row per roster student, student_id,name,discord, a P/L/E/A column per session, then "
        "sessions,present,late,excused,absent,rate (for an LMS grade import; see the README)",
    )


@command(
    "export",
    "the attendance CSV of a course (user_id,username,timestamp,date_id,session_id), or of one session; "
    "--format full|gradebook for every status or the LMS gradebook",
    _export_arguments,
)
def _export(ctx: Context) -> int:
    service = ctx.service()
    session_id = ctx.session_id()
    course_id = ctx.course_id(service, session_id)
    target = Path(ctx.options.output) if ctx.options.output else None
    if target is not None:
        _check_export_target(target, service.settings, force=ctx.options.force)
    fmt = ctx.options.format
    if fmt == "records":
        data = csv_bytes(service.export_rows(session_id, course_id=course_id), service.settings.timezone)
        count = data.count(b"\r\n") - 1  # quoted newlines inside cells are bare \n
    else:
        data, count = _gradebook_export(service, session_id, course_id, fmt)
    if target is not None:
        _write_private(target, data)
        ctx.stderr.write(messages.export_written(count, quoted(str(target), 200), fmt) + "\n")
        return 0
    buffer = getattr(ctx.stdout, "buffer", None)
    if buffer is not None:
        ctx.stdout.flush()
        buffer.write(data)
        buffer.flush()
    else:
        raw_stream(ctx.stdout).write(data.decode("utf-8"))  # the CSV's CRLF as it is (its cells are clean)
    return 0


def _gradebook_export(
    service: AttendanceService, session_id: str | None, course_id: int | None, fmt: str
) -> tuple[bytes, int]:
    """The `full` or `gradebook` CSV of a course (or of one session's column) and its row count."""
    from .export import format_document
    from .gradebook import GradebookService

    if session_id is not None:
        info = service.get_session(session_id, course_id)  # UnknownSession lists the recent ones
        session_id, course_id = info.session_id, info.course_id
        if course_id is None:
            raise CommandError(messages.session_without_course(session_id))
    if course_id is None:
        course_id = service.course(None).id
    book = GradebookService(service.settings).gradebook(course_id, session_id)
    return format_document(fmt, book, service.settings.timezone)


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


# -- report ---------------------------------------------------------------------------------


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    _course_option(parser, "the course to report on")
    parser.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        help="the folder to write the files in (default: the current folder); each is written 0600",
    )
    parser.add_argument("--force", action="store_true", help="replace the files if they exist already")


@command(
    "report",
    "a course's attendance report: attendance_report_<course>.csv (student_id,name,discord,sessions,"
    "present,late,excused,absent,rate; rate = (present + late) / (sessions - excused)) and "
    "attendance_report_<course>.png, a heat map of every student in every session; a course of more "
    f"than {PAGE_STUDENTS} students gets one picture per {PAGE_STUDENTS}: attendance_report_<course>-1.png, -2.png ...",
    _report_arguments,
)
def _report(ctx: Context) -> int:
    from .gradebook import GradebookService
    from .report import page_count, report_names, report_of

    service = ctx.service()
    course = ctx.course(service)
    folder = Path(ctx.options.output) if ctx.options.output else Path.cwd()
    try:
        is_folder = folder.is_dir()
    except (OSError, ValueError):  # a NUL in the name, or a path that cannot be looked at
        is_folder = False
    if not is_folder:
        raise CommandError(messages.report_output_not_a_folder(quoted(str(folder), 200)))
    book = GradebookService(service.settings).gradebook(course.id)
    csv_name, png_names = report_names(course.name, page_count(len(book.rows)))
    targets = [folder / name for name in (csv_name, *png_names)]
    for target in targets:  # every file refused before any is drawn or written
        _check_export_target(target, service.settings, force=ctx.options.force)
    report = report_of(book)
    _write_private(targets[0], report.csv_data)
    for target, picture in zip(targets[1:], report.pictures, strict=True):
        _write_private(target, picture.data)
    ctx.write(
        messages.report_written(
            quoted(str(targets[0]), 200), [quoted(str(t), 200) for t in targets[1:]], report.students, report.sessions
        )
    )
    return 0


# -- code -----------------------------------------------------------------------------------


def _code_arguments(parser: argparse.ArgumentParser) -> None:
    _session_option(parser, "the course's open one")
    _course_option(parser, "the course whose open session's code to show")
    parser.add_argument(
        "--watch", action="store_true", help="keep the code on screen, large, with a countdown (Ctrl-C ends)"
    )


@command(
    "code",
    "show the current code of a course's open session (without --course or --session, the one session open in "
    "any course; --watch for a projector view)",
    _code_arguments,
)
def _code(ctx: Context) -> int:
    service = ctx.service()
    session_id = ctx.session_id()
    course_id = ctx.open_course_id(service, session_id)
    try:
        if not ctx.options.watch:
            current = service.current_code(session_id, course_id=course_id)
            course_name = service.get_session(current.session_id).course_name
            ctx.write(
                f"{current.code}  (session {current.session_id}{_of(course_name)}, "
                f"changes in {current.seconds_left:.0f} s)"
            )
            return 0
        return _watch(ctx, service, session_id, course_id)
    except NoOpenSession as exc:
        raise _nothing_open(exc, ctx) from exc


def _watch(ctx: Context, service: AttendanceService, session_id: str | None, course_id: int | None) -> int:
    """Redraw each second until Ctrl-C (or SIGTERM), which only sets a flag: a signal that lands
    inside library code can never be swallowed there and leave the view running."""
    tty = ctx.stdout.isatty() if hasattr(ctx.stdout, "isatty") else False
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    shown: tuple[str, int] | None = None
    title = ""
    try:
        while not stop.is_set():
            current = service.current_code(session_id, course_id=course_id)
            if not title:  # follow this session even if another opens later
                session_id = current.session_id
                title = f"Session {session_id}{_of(service.get_session(session_id).course_name)}"
            left = max(1, int(current.seconds_left + 0.999))
            if tty:
                raw_stream(ctx.stdout).write("\x1b[2J\x1b[H")  # clear the screen
            if tty or shown != (current.code, current.window):
                ctx.write(f"{title}: type /here {current.code}")
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


# -- import-seed ----------------------------------------------------------------------------

_IMPORT_SEED_HELP = (
    "move from the seed bot: import its SQLite database's attendance records (with their statuses) and "
    "student registrations into a course; its sessions become closed sessions of the course. The seed's times "
    "are read in TIMEZONE. The file is only read; a file that is not the seed's database, or holds an unknown "
    "status, is refused and nothing is imported; so is a view or virtual table in its place, a table of more than "
    "1,000,000 rows or a read of more than 120 s. It writes 1,000 records per transaction, so a running bot is "
    "never kept waiting long; running it again finishes an interrupted import and otherwise changes nothing"
)


def _import_seed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="the seed bot's SQLite database (opened read-only)")
    _course_option(parser, "the course to import into (its server is where the registrations go)")


@command("import-seed", _IMPORT_SEED_HELP, _import_seed_arguments)
def _import_seed(ctx: Context) -> int:
    from .seedimport import SeedImportService, read_seed

    settings = ctx.settings()
    seed = read_seed(ctx.options.path, settings.timezone, own_database=settings.database_path)  # before ours opens
    service = ctx.service(writes=True)
    course = ctx.course(service)
    report = SeedImportService(service.settings, service.clock).import_seed(course.id, seed)
    ctx.write(
        messages.seed_imported(
            course.name,
            sessions=report.sessions_created,
            records=report.records_imported,
            records_there=report.records_there,
            registrations=report.registrations_imported,
            registrations_there=report.registrations_there,
            skipped=sum(count for _, count in report.skipped),
        )
    )
    for why, count in report.skipped:
        ctx.write(messages.seed_skipped(why, count))
    if report.duplicates:
        ctx.write(messages.seed_duplicates(report.duplicates))
    if report.names_left_out:
        ctx.write(messages.seed_names_left_out(report.names_left_out))
    return 0


# -- history / mark (attendance_bot/corrections.py) -----------------------------------------

_STUDENT_HELP = "the student: a student id, a Discord username, a Discord account id or mention, or a full name"


def _history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--student", metavar="WHO", required=True, help=_STUDENT_HELP)
    parser.add_argument(
        "--course",
        metavar="NAME",
        help="only this course's events and the registrations (default: every course of the database; "
        f"`{MANAGE} courses` lists them)",
    )


@command(
    "history",
    "a student's events, oldest first, one line each: when, course, session, action, old → new status, reason, "
    "who did it and the source (code or manual); read-only",
    _history_arguments,
)
def _history(ctx: Context) -> int:
    from .corrections import AmbiguousStudent, CorrectionService, UnknownStudent

    service = ctx.service()
    corrections = CorrectionService(service.settings, service.clock)
    course = ctx.course(service) if ctx.options.course is not None else None
    if course is None and not service.courses.courses():
        raise NothingThere(messages.shell_course_needed([]))
    typed = ctx.options.student
    course_id = course.id if course is not None else None
    try:  # the shell has no server: every course of the database, or the one --course names
        who = corrections.resolve_student(course_id, None, typed, everywhere=True)
        events = corrections.history(None, who, course_id, everywhere=True)
    except UnknownStudent as exc:
        where = course.name if course is not None else None
        if not typed.strip():
            raise CommandError(messages.shell_student_unknown(typed, where)) from None
        raise NothingThere(messages.shell_student_unknown(typed, where)) from exc  # the error names the database
    except AmbiguousStudent as exc:
        labels = [corrections.choice(ref).label for ref in exc.choices]
        raise CommandError(messages.shell_student_ambiguous(typed, labels)) from exc
    if not events:
        ctx.write(messages.history_empty(messages.student_who(who)))
    for event in events:
        ctx.write(messages.history_line(event, service.settings.timezone))
    return 0


def _mark_arguments(parser: argparse.ArgumentParser) -> None:
    from .corrections import MAX_REASON, STATUSES

    parser.add_argument("--student", metavar="WHO", required=True, help=_STUDENT_HELP)
    parser.add_argument("--status", metavar="STATUS", required=True, help=f"one of {', '.join(STATUSES)}")
    _session_option(parser, "the course's open one, else its latest; closed sessions can be corrected")
    parser.add_argument("--reason", metavar="TEXT", help=f"why, up to {MAX_REASON} characters (kept in the history)")
    _course_option(parser, "the course of the session")


@command(
    "mark",
    "set a student's status in a session (an instructor's correction: a later check-in does not change it), "
    "with its event in the history",
    _mark_arguments,
)
def _mark(ctx: Context) -> int:
    from .corrections import CorrectionService, clean_reason, clean_status

    clean_status(ctx.options.status)  # refused before the database is opened
    clean_reason(ctx.options.reason)
    session_id = ctx.session_id()
    service = ctx.service(writes=True)
    course_id = ctx.course_id(service, session_id)
    if course_id is None and session_id is not None:
        course_id = service.get_session(session_id).course_id
    if course_id is None:  # a session of a database older than courses that no course took
        course_id = ctx.course(service).id
    correction = CorrectionService(service.settings, service.clock).mark(
        course_id, ctx.options.student, ctx.options.status, session_id, ctx.options.reason, actor=ctx.actor()
    )
    ctx.write(messages.marked_reply(correction))
    return 0


def _claims_arguments(parser: argparse.ArgumentParser) -> None:
    _course_option(parser, "the course whose claims to list")


@command(
    "claims",
    "the student ids claimed with /register that wait for an instructor: of ids on the course's roster, or by "
    "accounts with check-ins in it; read-only",
    _claims_arguments,
)
def _claims(ctx: Context) -> int:
    from .students import StudentService

    service = ctx.service()
    course = ctx.course(service)
    claims = StudentService().claims(course)
    rows = [(c.student_id, c.user_id, c.name, c.roster_name) for c in claims]
    for line in messages.claims_lines(course.name, rows, mention=False):
        ctx.write(line)
    return 0


def _link_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--student", metavar="ID", required=True, help="the student id (on the course's roster, or claimed)"
    )
    parser.add_argument("--user", metavar="DISCORD_ID", required=True, help="the student's Discord account id")
    _course_option(parser, "the course whose roster has the id")


@command(
    "link",
    "confirm a Discord account as a student id of a course (`/attendance link`), replacing any other account's "
    "registration of it in the course's server, with events",
    _link_arguments,
)
def _link(ctx: Context) -> int:
    from .students import StudentService

    typed = ctx.options.user.strip()
    if not re.fullmatch(r"[0-9]{15,22}", typed):
        raise CommandError(messages.shell_user_id_invalid(ctx.options.user))
    service = ctx.service(writes=True)
    course = ctx.course(service)
    done = StudentService().link(course, ctx.options.student, int(typed), actor=ctx.actor())
    ctx.write(
        messages.linked_reply(done.course_name, done.student_id, done.user_id, list(done.replaced), mention=False)
    )
    return 0


# -- entry point ----------------------------------------------------------------------------


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
    from .corrections import UnknownStudent

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
    for name, (_, help_text, arguments) in COMMANDS.items():
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
    stdout = cast(IO[str], _Printable(stdout or sys.stdout))
    stderr = cast(IO[str], _Printable(stderr or sys.stderr))
    parser = build_parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed --help or --version
        return int(exc.code or 0)
    except _UsageError as exc:
        stderr.write(f"Error: {exc}\n")
        return 1
    ctx = Context(options, stdout, stderr, os.environ if environ is None else environ, stdin or sys.stdin)
    handler = COMMANDS[options.command][0]
    try:
        return handler(ctx)
    except (CommandError, AttendanceError) as exc:
        lines = str(exc).splitlines() or ["failed"]
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
