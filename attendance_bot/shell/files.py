"""The shell's file safety: private atomic writes, never over the database, scratch databases (demo, playground)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .. import messages
from ..messages import quoted
from ..settings import Settings
from . import base
from .base import CommandError, Context


def _database_files(settings: Settings) -> list[Path]:
    path = settings.database_path
    return [path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal"))]


def is_database_file(path: Path, settings: Settings) -> bool:
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


def scratch_database(ctx: Context, what: str) -> Path:
    """--database of `demo` or `playground`, emptied for a new run: never the configured database, nor
    a file that is not a SQLite database (a typo must not delete notes)."""
    path = Path(ctx.options.database)
    if not path.is_absolute():
        path = base.PROJECT_DIR / path
    shown = quoted(str(path), 200)
    example = f"data/{what}.db"
    if is_database_file(path, ctx.settings()):
        raise CommandError(
            f"--database {shown} is the configured database (DATABASE_PATH), and the {what} deletes its database "
            f"at each run: choose another file, such as {example}."
        )
    if path.exists() and not path.is_file():
        raise CommandError(f"--database {shown} is not a file: name the {what}'s database file, such as {example}.")
    if not os.path.lexists(path.parent):  # only the project's data/ folder is made (private: 0700)
        if path.parent != base.PROJECT_DIR / "data":
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


def check_export_target(target: Path, settings: Settings, *, force: bool) -> None:
    """Refuse the database (however spelled), anything but a regular file, and an existing file without --force."""
    shown = quoted(str(target), 200)
    try:
        if is_database_file(target, settings):
            raise CommandError(f"{shown} is the database (DATABASE_PATH) or one of its files: export to another file.")
        if target.exists() or target.is_symlink():
            if not target.is_file():
                raise CommandError(f"{shown} is not a regular file: name a file to write the CSV to.")
            if not force:
                raise CommandError(f"{shown} exists already: choose another name, or add --force to replace it.")
    except ValueError as exc:  # a NUL in the name
        raise CommandError(f"Cannot write {shown}: not a usable file name") from exc


def write_private(target: Path, data: bytes) -> None:
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
