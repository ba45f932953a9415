"""roster import|list: a course's roster from the LMS's CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import messages
from .base import (
    ENV_HELP,
    CommandError,
    Context,
    command,
    course_option,
)

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
    course_option(imports, "the course whose roster to import")

    list_help = "list a course's roster: student id, name, Discord username and the linked Discord account (or -)"
    listing = actions.add_parser("list", help=list_help, description=list_help)
    course_option(listing, "the course whose roster to list")

    for child in (imports, listing):
        child.add_argument("--env-file", metavar="PATH", default=argparse.SUPPRESS, help=ENV_HELP)


@command("roster", "import or list a course's roster: `roster ACTION --help` explains each", _roster_arguments)
def _roster(ctx: Context) -> int:
    return {"import": _roster_import, "list": _roster_list}[ctx.options.action](ctx)


def _roster_import(ctx: Context) -> int:
    from ..roster import MAX_BYTES, parse_columns, parse_roster

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
    services = ctx.services(writes=True)
    course = ctx.course(services)
    report = services.roster.import_roster(course.id, rows, replace=ctx.options.replace, actor=ctx.actor())
    ctx.write(
        messages.roster_imported(
            course.name, report.added, report.updated, report.unchanged, report.removed, report.unmatched
        )
    )
    return 0


def _roster_list(ctx: Context) -> int:

    services = ctx.services()
    course = ctx.course(services)
    lines = services.roster.roster_list(course.id)
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
