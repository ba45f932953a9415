"""backup: a private copy of the configured database, safe while the bot runs (backups.py does it)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import messages
from ..backups import make_backup
from ..clock import utc_now
from ..messages import quoted
from .base import CommandError, Context, command


def _backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        help="the folder to write the backup in, which must exist (default: the database's folder, DATABASE_PATH's)",
    )
    parser.add_argument(
        "--keep",
        metavar="N",
        type=int,
        help="then remove this database's older backups in that folder, keeping the N newest (the new one among them)",
    )


@command(
    "backup",
    "copy the database while the bot may run: SQLite with its online backup API to <name>-backup-<UTC time>.db, "
    "PostgreSQL with pg_dump (custom format, for pg_restore) to <name>-backup-<UTC time>.dump; the file is "
    "readable by this user only (0600); restoring is in the README",
    _backup_arguments,
)
def _backup(ctx: Context) -> int:
    settings = ctx.settings()
    keep = ctx.options.keep
    if keep is not None and keep < 1:
        raise CommandError(messages.backup_keep_invalid(keep))
    folder = Path(ctx.options.output) if ctx.options.output else settings.database_path.parent
    done = make_backup(settings, folder, now=utc_now(), keep=keep, environ=ctx.environ)
    ctx.write(messages.backup_written(quoted(str(done.path), 200), done.size))
    for path in done.pruned:
        ctx.write(messages.backup_pruned(quoted(str(path), 200)))
    return 0
