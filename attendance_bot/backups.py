"""Backup copies of the database: SQLite's online backup API (a consistent copy while the bot writes,
its WAL included) or PostgreSQL's pg_dump; each file private (0600) from its first byte, written
beside its final name and renamed when complete, named by the UTC time it was made; the oldest
pruned on request. The upgrade's `.bak-<version>` copy (migrations.backup) is made here too.

Nothing here opens the database through peewee or changes it: a backup of a database of any schema
version is taken as it is.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import BackupError
from .settings import Settings, hide_secrets, shown_url

STAMP = "%Y%m%dT%H%M%SZ"  # the UTC time in a backup's name: attendance-backup-20261208T025500Z.db
SQLITE_SUFFIX = ".db"
DUMP_SUFFIX = ".dump"  # pg_dump's custom format, for pg_restore
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 30  # as the bot's: a checkpoint in progress is waited for, not an error
# Where pg_dump is looked for after PATH: Debian's versioned folders, newest first.
PG_BIN_FOLDERS = Path("/usr/lib/postgresql")


@dataclass(frozen=True)
class Backup:
    """A backup made: its file, its size in bytes, and the older backups `keep` removed."""

    path: Path
    size: int
    pruned: tuple[Path, ...] = ()


# -- one private file, written whole or not at all ------------------------------------------------


@contextlib.contextmanager
def private_file(target: Path) -> Iterator[Path]:
    """A new `<target>.partial` made with mode 0600 before anything is written to it (whatever the
    umask), renamed to `target` when the block ends without error and removed when it fails."""
    partial = Path(f"{target}.partial")
    partial.unlink(missing_ok=True)
    made = os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.fchmod(made, 0o600)  # exactly 0600, whatever bits the umask took away
    finally:
        os.close(made)
    try:
        yield partial
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy an SQLite database with its backup API into a new private file `target`: one consistent
    snapshot (pages still in the -wal included), while other connections go on reading and writing."""
    with private_file(target) as partial:
        reader = sqlite3.connect(str(source), timeout=BUSY_TIMEOUT_SECONDS)
        try:
            copy = sqlite3.connect(str(partial))
            try:
                reader.backup(copy)
            finally:
                copy.close()
        finally:
            reader.close()


# -- manage.py backup ------------------------------------------------------------------------------


def make_backup(
    settings: Settings, folder: Path, *, now: datetime, keep: int | None = None, environ: Mapping[str, str]
) -> Backup:
    """Back up the configured database into `folder` (which must exist): `<name>-backup-<UTC time>.db`
    for SQLite, `.dump` (pg_dump's custom format) for PostgreSQL; then, with `keep`, remove this
    database's older backups in the folder past the `keep` newest (the new one among them).

    BackupError says what is wrong: the folder, a missing or unreadable database, pg_dump missing
    or failing (the URL's password never in it). `environ` is where pg_dump is looked for (PATH)
    and what it runs with.
    """
    if settings.database_url is not None:
        _check_folder(folder)
        name = _safe(postgres_connection(settings.database_url)[2])
        target = _free_name(folder, name, DUMP_SUFFIX, now)
        _pg_dump(settings.database_url, target, environ)
        suffix = DUMP_SUFFIX
    else:
        source = settings.database_path
        _check_sqlite(source)  # first: a fresh checkout has neither the database nor data/
        _check_folder(folder)
        name = _safe(source.stem)
        target = _free_name(folder, name, SQLITE_SUFFIX, now)
        try:
            sqlite_copy(source, target)
        except (sqlite3.Error, OSError) as exc:
            raise BackupError("backup_failed", database=str(source), reason=str(exc)) from exc
        suffix = SQLITE_SUFFIX
    pruned = prune(folder, name, suffix, keep, made=target, protect=_database_files(settings)) if keep else ()
    return Backup(target, target.stat().st_size, pruned)


def _check_folder(folder: Path) -> None:
    try:
        exists, is_dir = folder.exists(), folder.is_dir()
    except (OSError, ValueError):  # a NUL in the name, or a path that cannot be looked at
        exists = is_dir = False
    if not exists:
        raise BackupError("backup_folder_missing", folder=str(folder))
    if not is_dir:
        raise BackupError("backup_folder_not_a_folder", folder=str(folder))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BackupError("backup_folder_not_writable", folder=str(folder))


def _check_sqlite(path: Path) -> None:
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except FileNotFoundError as exc:
        raise BackupError("backup_no_database", database=str(path)) from exc
    except OSError as exc:
        raise BackupError("backup_failed", database=str(path), reason=exc.strerror or str(exc)) from exc
    if header != SQLITE_HEADER:
        raise BackupError("backup_not_sqlite", database=str(path))


def _safe(name: str) -> str:
    """A database's name as part of a file name (letters, digits, '.', '_', '-')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:50] or "attendance"


def _free_name(folder: Path, name: str, suffix: str, now: datetime) -> Path:
    """`<name>-backup-<UTC time><suffix>`, or with `-2`, `-3` ... when a backup of that second exists."""
    stem = f"{name}-backup-{now.astimezone(timezone.utc).strftime(STAMP)}"
    target = folder / f"{stem}{suffix}"
    count = 1
    while os.path.lexists(target) or os.path.lexists(f"{target}.partial"):
        count += 1
        target = folder / f"{stem}-{count}{suffix}"
    return target


def _pattern(name: str, suffix: str) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(name)}-backup-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?{re.escape(suffix)}")


def backups_in(folder: Path, name: str, suffix: str) -> list[Path]:
    """This database's backups in `folder` (regular files named as make_backup names them), oldest first."""
    pattern = _pattern(name, suffix)
    found: list[tuple[str, int, Path]] = []
    for entry in os.scandir(folder):
        matched = pattern.fullmatch(entry.name)
        if matched and entry.is_file(follow_symlinks=False):
            found.append((matched.group(1), int(matched.group(2) or 1), Path(entry.path)))
    return [path for _, _, path in sorted(found)]


def prune(
    folder: Path, name: str, suffix: str, keep: int, *, made: Path, protect: tuple[Path, ...] = ()
) -> tuple[Path, ...]:
    """Remove this database's backups in `folder` but the `keep` newest; `made` (the new one) and
    the `protect`ed files (the database itself) are never removed. The removed ones, oldest first."""
    if keep < 1:
        raise ValueError(f"keep must be 1 or more, not {keep}")
    spared = {os.path.realpath(path) for path in (made, *protect)}
    older = [path for path in backups_in(folder, name, suffix) if os.path.realpath(path) not in spared]
    removed = older[: max(0, len(older) - (keep - 1))]
    for path in removed:
        path.unlink(missing_ok=True)
    return tuple(removed)


def _database_files(settings: Settings) -> tuple[Path, ...]:
    path = settings.database_path
    return (path, *(Path(f"{path}{side}") for side in ("-wal", "-shm", "-journal")))


# -- PostgreSQL ----------------------------------------------------------------------------------


def postgres_connection(url: str) -> tuple[str, str | None, str]:
    """libpq's connection string for a DATABASE_URL as the bot connects (peewee's reading of the URL,
    its query's parameters included, as in models), without the password; the password apart (for
    PGPASSWORD); and the database's name. BackupError for a URL libpq cannot take."""
    from playhouse.db_url import parse
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = parse(url, unquote_user=True, unquote_password=True)
    name = params.pop("database")
    password = params.pop("password", None)
    params.setdefault("dbname", name)
    try:
        conninfo = make_conninfo("", **{key: str(value) for key, value in params.items() if value is not None})
    except Exception as exc:  # psycopg.ProgrammingError: an option libpq does not know (`?PASSWORD=`)
        problem = hide_secrets(str(exc).strip() or type(exc).__name__, url)
        raise BackupError("backup_pg_dump_failed", shown=shown_url(url), problem=problem) from exc
    dbname = str(conninfo_to_dict(conninfo).get("dbname") or name or "postgres")
    return conninfo, None if password is None else str(password), dbname


def find_pg_dump(environ: Mapping[str, str]) -> str | None:
    """pg_dump on PATH, else in Debian's /usr/lib/postgresql/<version>/bin (the newest); None if neither."""
    found = shutil.which("pg_dump", path=environ.get("PATH", os.defpath))
    if found:
        return found
    versions: list[tuple[int, Path]] = []
    if PG_BIN_FOLDERS.is_dir():
        for bindir in PG_BIN_FOLDERS.glob("*/bin"):
            number = re.match(r"\d+", bindir.parent.name)
            if (bindir / "pg_dump").is_file() and number:
                versions.append((int(number.group()), bindir / "pg_dump"))
    return str(max(versions)[1]) if versions else None


def _pg_dump(url: str, target: Path, environ: Mapping[str, str]) -> None:
    """pg_dump --format=custom of the database `url` names into a new private file `target`. The
    password goes to pg_dump in PGPASSWORD, never on its command line (which any user may read)."""
    program = find_pg_dump(environ)
    shown = shown_url(url)
    if program is None:
        raise BackupError("backup_pg_dump_missing", shown=shown)
    conninfo, password, _ = postgres_connection(url)
    env = dict(environ)
    env.pop("PGPASSWORD", None)
    if password is not None:
        env["PGPASSWORD"] = password
    try:
        with private_file(target) as partial, partial.open("wb") as out:
            done = subprocess.run(
                [program, "--format=custom", "--no-password", f"--dbname={conninfo}"],
                stdout=out,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=env,
                check=False,
            )
            if done.returncode != 0:
                lines = [line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
                said = lines[0] if lines else f"it ended with status {done.returncode}"
                problem = hide_secrets(re.sub(r"^pg_dump:\s*(error:\s*)?", "", said), url)
                raise BackupError("backup_pg_dump_failed", shown=shown, problem=problem)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:  # the file could not be made or written, or pg_dump could not be started
        problem = hide_secrets(f"{exc.strerror or exc}", url)
        raise BackupError("backup_pg_dump_failed", shown=shown, problem=problem) from exc


__all__ = [
    "Backup",
    "backups_in",
    "find_pg_dump",
    "make_backup",
    "postgres_connection",
    "private_file",
    "prune",
    "sqlite_copy",
]
