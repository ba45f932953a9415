"""check, migrate and copy-db: the configuration and the database, looked at, upgraded or copied."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import peewee

from .. import messages, migrations, models
from ..errors import AttendanceError, ConfigurationError
from ..messages import MANAGE
from ..migrations import fold
from ..models import init_db
from ..services import Services
from ..settings import Settings, load_settings
from . import base
from .base import (
    CommandError,
    Context,
    command,
    open_database,
    sync_env_course,
    upgrade_sentences,
)
from .files import is_database_file

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
    for notice in settings.notices:
        ctx.stderr.write(f"Warning: {messages.error_text(notice)}\n")
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
                for line in open_database(settings, create=False, upgrade=False):
                    ctx.stderr.write(line + "\n")
                looked = _look_at(path, reuse=True)
            if looked is None:  # open_database read it just now: only a race gets here
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
        raise CommandError(messages.error_text(exc)) from exc
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
    lines = open_database(settings, create=True, upgrade=True)
    for line in lines:
        (ctx.stderr if line.startswith("Warning: ") else ctx.stdout).write(line + "\n")
    if made:
        ctx.write(messages.database_made(settings.database_path, migrations.schema_version()))
    elif not any(not line.startswith("Warning: ") for line in lines):
        ctx.write(messages.database_up_to_date(migrations.schema_version()))
    sync_env_course(Services(settings))
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
    from ..copydb import copy_into_target

    settings = ctx.settings()
    target = _copy_target(ctx.options.to)
    if _same_database(settings, target):
        raise CommandError(messages.copy_same_database(target.database_shown))
    for line in open_database(settings, create=False, upgrade=False):
        ctx.stderr.write(line + "\n")
    version, latest = migrations.schema_version(), migrations.latest()
    if version != latest:
        raise CommandError(messages.copy_source_not_latest(settings.database_shown, version, latest))
    source = models.database.obj
    try:
        try:
            with upgrade_sentences() as lines:  # the target's schema, by the same steps as every database's
                init_db(target.database_target)
        except AttendanceError as exc:
            said = messages.error_text(exc)
            raise CommandError(said.replace("DATABASE_URL", "--to").replace("DATABASE_PATH", "--to")) from exc
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
        return load_settings(None, environ={"DATABASE_URL": url}, base_dir=base.PROJECT_DIR, require_discord=False)
    except ConfigurationError as exc:
        problems = [messages.error_text(error).replace("DATABASE_URL", "the URL") for error in exc.errors]
        raise CommandError(messages.copy_bad_target("; ".join(problems))) from exc


def _same_database(settings: Settings, target: Settings) -> bool:
    """Whether the target is the configured database (another spelling of its file, or the same
    PostgreSQL server and database whatever the user, as the driver will connect: see postgres_endpoint)."""
    if settings.database_url is None and target.database_url is None:
        return is_database_file(target.database_path, settings)
    if settings.database_url is not None and target.database_url is not None:
        return models.postgres_endpoint(settings.database_url) == models.postgres_endpoint(target.database_url)
    return False
