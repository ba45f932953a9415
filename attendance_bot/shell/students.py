"""claims and link: student ids claimed with /register, and confirming them."""

from __future__ import annotations

import argparse
import re

from .. import messages
from .base import (
    CommandError,
    Context,
    command,
    course_option,
)


def _claims_arguments(parser: argparse.ArgumentParser) -> None:
    course_option(parser, "the course whose claims to list")


@command(
    "claims",
    "the student ids claimed with /register that wait for an instructor: of ids on the course's roster, or by "
    "accounts with check-ins in it; read-only",
    _claims_arguments,
)
def _claims(ctx: Context) -> int:

    services = ctx.services()
    course = ctx.course(services)
    claims = services.students.claims(course)
    rows = [(c.student_id, c.user_id, c.name, c.roster_name) for c in claims]
    for line in messages.claims_lines(course.name, rows, mention=False):
        ctx.write(line)
    return 0


def _link_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--student", metavar="ID", required=True, help="the student id (on the course's roster, or claimed)"
    )
    parser.add_argument("--user", metavar="DISCORD_ID", required=True, help="the student's Discord account id")
    course_option(parser, "the course whose roster has the id")


@command(
    "link",
    "confirm a Discord account as a student id of a course (`/attendance link`), replacing any other account's "
    "registration of it in the course's server, with events",
    _link_arguments,
)
def _link(ctx: Context) -> int:

    typed = ctx.options.user.strip()
    if not re.fullmatch(r"[0-9]{15,22}", typed):
        raise CommandError(messages.shell_user_id_invalid(ctx.options.user))
    services = ctx.services(writes=True)
    course = ctx.course(services)
    done = services.students.link(course, ctx.options.student, int(typed), actor=ctx.actor())
    ctx.write(
        messages.linked_reply(done.course_name, done.student_id, done.user_id, list(done.replaced), mention=False)
    )
    return 0
