"""import-seed: the seed bot's database into a course."""

from __future__ import annotations

import argparse

from .. import messages
from .base import Context, command, course_option

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
    course_option(parser, "the course to import into (its server is where the registrations go)")


@command("import-seed", _IMPORT_SEED_HELP, _import_seed_arguments)
def _import_seed(ctx: Context) -> int:
    from ..seedimport import read_seed

    settings = ctx.settings()
    seed = read_seed(ctx.options.path, settings.timezone, own_database=settings.database_path)  # before ours opens
    services = ctx.services(writes=True)
    course = ctx.course(services)
    report = services.seed_import.import_seed(course.id, seed)
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
