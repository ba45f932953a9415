"""schedule add|list|remove|skip|unskip: a course's timetable (a running bot opens and closes its sessions)."""

from __future__ import annotations

import argparse

from .. import messages
from ..timetable import MAX_MINUTES, MIN_MINUTES, WEEKDAYS
from .base import ENV_HELP, Context, command, course_option, whole_number


def _schedule_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    add_help = "the course meets every week on a weekday at a local time (its timezone) for some minutes"
    add = actions.add_parser("add", help=add_help, description=add_help)
    add.add_argument("--weekday", required=True, metavar="DAY", help=f"{', '.join(WEEKDAYS)} (or Mon, Tue, ...)")
    add.add_argument("--start", required=True, metavar="HH:MM", help="the start, 24-hour, in the course's timezone")
    add.add_argument(
        "--minutes", required=True, metavar="N", help=f"how long its session stays open, {MIN_MINUTES}-{MAX_MINUTES}"
    )
    add.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="the first date it meets (default: from now)")
    add.add_argument("--until", metavar="YYYY-MM-DD", help="the last date it meets (default: no end)")

    list_help = "the course's timetable (its lines with their numbers), its skipped dates and its next session"
    listing = actions.add_parser("list", help=list_help, description=list_help)

    remove_help = "take a line off the timetable (a session it opened stays open until its end)"
    remove = actions.add_parser("remove", help=remove_help, description=remove_help)
    remove.add_argument("entry", metavar="LINE", help="the line's number, as `schedule list` shows it (#3 or 3)")

    skip_help = "the course does not meet on this date (a holiday): the timetable opens nothing that day"
    skip = actions.add_parser("skip", help=skip_help, description=skip_help)
    skip.add_argument("date", metavar="YYYY-MM-DD", help="the date, in the course's timezone")

    unskip_help = "the course meets on a skipped date after all"
    unskip = actions.add_parser("unskip", help=unskip_help, description=unskip_help)
    unskip.add_argument("date", metavar="YYYY-MM-DD", help="the skipped date")

    for child in (add, listing, remove, skip, unskip):
        course_option(child, "the course whose timetable this is")
        child.add_argument("--env-file", metavar="PATH", default=argparse.SUPPRESS, help=ENV_HELP)


@command(
    "schedule",
    "a course's weekly timetable: add, list, remove lines, skip or unskip dates (`schedule ACTION --help`)",
    _schedule_arguments,
)
def _schedule(ctx: Context) -> int:
    action = ctx.options.action
    services = ctx.services(writes=action != "list")
    course = ctx.course(services)
    schedule = services.schedule
    if action == "add":
        minutes = whole_number("--minutes", ctx.options.minutes, "minutes")
        entry = schedule.add(
            course.id,
            weekday=ctx.options.weekday,
            start=ctx.options.start,
            minutes=minutes,
            first=ctx.options.first,
            until=ctx.options.until,
            created_by=ctx.actor(),
        )
        ctx.write(messages.schedule_added(course.name, entry, course.timezone))
    elif action == "list":
        ctx.write(messages.timetable_reply(schedule.timetable(course.id)))
    elif action == "remove":
        ctx.write(messages.schedule_removed(course.name, schedule.remove(course.id, ctx.options.entry)))
    elif action == "skip":
        ctx.write(messages.schedule_skipped(course.name, schedule.skip(course.id, ctx.options.date)))
    else:
        ctx.write(messages.schedule_unskipped(course.name, schedule.unskip(course.id, ctx.options.date)))
    return 0
