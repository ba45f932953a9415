"""Schema versions, run with peewee's own migration runner (playhouse.migrations.Runner).

The steps are the numbered scripts in attendance_bot/schema/; the runner records each applied
one in the `schema_migration` table. A database's version is its highest applied step. Version 1
is the release before courses, whose databases have no history: they are recorded as at step 1
before the later steps run. Before the first step on an existing database, the file is copied
with SQLite's backup API to `<database>.bak-<version it had>`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import peewee
from playhouse.migrations import Runner

from .backups import sqlite_copy
from .database import database
from .errors import Notice, StorageError

log = logging.getLogger(__name__)

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
HISTORY_TABLE = "schema_migration"
DEFAULT_COURSE_NAME = "default"
_V1_TABLES = {"session", "attendance", "wrong_attempt"}


@dataclass(frozen=True)
class CourseDefaults:
    """What `.env` says about the default course (any of it may be unknown)."""

    name: str = DEFAULT_COURSE_NAME
    guild_id: int | None = None
    admin_channel_id: int | None = None
    attendance_channel_id: int | None = None
    display_channel_id: int | None = None
    instructor_role_id: int | None = None


# What the running steps may read and say (the runner calls up(migrator, db) and nothing more).
_defaults = CourseDefaults()
_reports: list[Notice] = []


def course_defaults() -> CourseDefaults:
    """For the steps: the `.env` course that earlier sessions join."""
    return _defaults


def report(kind: str, /, **values: object) -> None:
    """For the steps: one thing done worth telling the operator (a kind of messages and its values)."""
    _reports.append(Notice(kind, **values))


def fold(name: str) -> str:
    """A course name as compared for uniqueness: case and repeated spaces do not count."""
    return " ".join(name.split()).casefold()


def _runner() -> Runner:
    return Runner(database.obj, str(SCHEMA_DIR), table_name=HISTORY_TABLE)


def latest() -> int:
    """The version this release writes: its highest step (no database needed to know it)."""
    steps = Runner(peewee.SqliteDatabase(":memory:"), str(SCHEMA_DIR), table_name=HISTORY_TABLE).migrations()
    return max(step.idx for step in steps)


def schema_version() -> int | None:
    """The open database's version; None for an empty database (no tables at all)."""
    tables = set(database.get_tables())
    if HISTORY_TABLE in tables:
        applied = [step.idx for step in _runner().status() if step.applied]
        return max(applied, default=0)
    if _V1_TABLES & tables:
        return 1
    return None


def pending() -> list[str]:
    """The names of the steps the open database has still to run (empty: up to date)."""
    version = schema_version()
    steps = _runner().migrations()
    if version is None:
        return [step.name for step in steps]
    return [step.name for step in steps if step.idx > version]


def backup(path: Path, version: int) -> Path:
    """Copy the database with SQLite's backup API (consistent, WAL included) to `<path>.bak-<version>`,
    written as `<path>.bak-<version>.partial` made with mode 0600 before the copy and renamed after it.

    A copy of that version made before is kept as it is: it is the older, untouched one.
    """
    target = Path(f"{path}.bak-{version}")
    if target.exists():
        log.info("Backup %s exists already; keeping it", target)
        return target
    # Made private before SQLite writes its first byte (the umask would give 0644): it holds every secret.
    sqlite_copy(path, target)
    return target


@contextlib.contextmanager
def _context(defaults: CourseDefaults) -> Iterator[list[str]]:
    global _defaults
    _defaults = defaults
    _reports.clear()
    try:
        yield _reports
    finally:
        _defaults = CourseDefaults()


def upgrade(path: Path | None, defaults: CourseDefaults | None = None) -> list[Notice]:
    """Bring the open database to the latest version; what was done, one notice each (str() of
    each is its sentence).

    An empty database runs every step (that is how it is created). An existing one is copied
    first when `path` is an SQLite file (a PostgreSQL server's backups are pg_dump's). Each step
    runs in one transaction with its history row: a failure leaves the database as it was before
    that step, and the backup beside it.
    """
    version = schema_version()
    runner = _runner()
    done: list[Notice] = []
    if version is not None and not pending():
        return done
    if version is not None:
        if path is not None:
            done.append(Notice("backup_made", copy=backup(path, version)))
        if HISTORY_TABLE not in database.get_tables():
            runner.fake(runner.migrations()[0].name)  # the release before courses: it is step 1
    with _context(defaults or CourseDefaults()) as reports:
        try:
            for name in pending():
                runner.up(name)
                done.append(Notice("migration_step_done", step=name))
                done.extend(Notice("step_report", notice=line) for line in reports)
                reports.clear()
        except peewee.DatabaseError as exc:
            raise StorageError("migration_failed", step=name, error=exc) from exc
    return done if version is not None else []
