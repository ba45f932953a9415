"""`manage.py backup`: what it wrote and removed, and why it could not (backups.py's errors)."""

from __future__ import annotations

from .text import MANAGE, quoted

# -- manage.py backup (attendance_bot/backups.py, shell/backup.py) --------------------------------


def _size(size: int) -> str:
    """A file's size as people read it: 834 bytes, 12.4 KB, 3.1 MB (powers of 1,000)."""
    if size < 1000:
        return f"{size} byte{'s' if size != 1 else ''}"
    value = size / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def backup_written(path: str, size: int) -> str:
    """`manage.py backup`'s line: the file it wrote (mode 0600)."""
    return f"Wrote {path} ({_size(size)}, readable by this user only)"


def backup_pruned(path: str) -> str:
    """One older backup `--keep` removed."""
    return f"Removed the older backup {path}"


def backup_keep_invalid(value: int) -> str:
    return f"--keep must be 1 or more (how many backups to keep, the new one among them), not {value}"


def backup_folder_missing(folder: str) -> str:
    return (
        f"The backup folder {quoted(folder, 200)} does not exist: make it first (mkdir -m 700), or name another "
        "with --output."
    )


def backup_folder_not_a_folder(folder: str) -> str:
    return f"{quoted(folder, 200)} is not a folder: name the folder to write the backup in with --output."


def backup_folder_not_writable(folder: str) -> str:
    return f"This user may not write in the backup folder {quoted(folder, 200)}: name one it may with --output."


def backup_no_database(database: str) -> str:
    return (
        f"There is no database at {quoted(database, 200)} (DATABASE_PATH), so nothing to back up: check "
        f"DATABASE_PATH, or `{MANAGE} check`."
    )


def backup_not_sqlite(database: str) -> str:
    return f"{quoted(database, 200)} (DATABASE_PATH) is not an SQLite database: nothing was backed up."


def backup_failed(database: str, reason: str) -> str:
    return f"The backup of {quoted(database, 200)} failed: {reason}. Nothing was written."


def backup_pg_dump_missing(shown: str) -> str:
    return (
        f"Backing up PostgreSQL ({shown}) takes pg_dump, which is not installed here (not on PATH nor in "
        "/usr/lib/postgresql/*/bin): install PostgreSQL's client tools (Debian and Ubuntu: "
        "`apt install postgresql-client`), of the server's major version or newer. Nothing was written."
    )


def backup_pg_dump_failed(shown: str, problem: str) -> str:
    return f"pg_dump could not back up {shown}: {problem}. Nothing was written."
