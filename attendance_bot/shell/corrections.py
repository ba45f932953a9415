"""history and mark: a student's events, an instructor's correction."""

from __future__ import annotations

import argparse

from .. import messages
from ..messages import MANAGE
from .base import (
    CommandError,
    Context,
    NothingThere,
    command,
    course_option,
    session_option,
)

# -- history / mark (attendance_bot/corrections.py) -----------------------------------------

_STUDENT_HELP = "the student: a student id, a Discord username, a Discord account id or mention, or a full name"


def _history_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--student", metavar="WHO", required=True, help=_STUDENT_HELP)
    parser.add_argument(
        "--course",
        metavar="NAME",
        help="only this course's events and the registrations (default: every course of the database; "
        f"`{MANAGE} courses` lists them)",
    )


@command(
    "history",
    "a student's events, oldest first, one line each: when, course, session, action, old → new status, reason, "
    "who did it and the source (code or manual); read-only",
    _history_arguments,
)
def _history(ctx: Context) -> int:
    from ..corrections import AmbiguousStudent, UnknownStudent

    services = ctx.services()
    corrections = services.corrections
    course = ctx.course(services) if ctx.options.course is not None else None
    if course is None and not services.courses.courses():
        raise NothingThere(messages.shell_course_needed([]))
    typed = ctx.options.student
    course_id = course.id if course is not None else None
    try:  # the shell has no server: every course of the database, or the one --course names
        who = corrections.resolve_student(course_id, None, typed, everywhere=True)
        events = corrections.history(None, who, course_id, everywhere=True)
    except UnknownStudent as exc:
        where = course.name if course is not None else None
        if not typed.strip():
            raise CommandError(messages.shell_student_unknown(typed, where)) from None
        raise NothingThere(messages.shell_student_unknown(typed, where)) from exc  # the error names the database
    except AmbiguousStudent as exc:
        labels = [messages.student_choice_label(ref) for ref in exc.choices]
        raise CommandError(messages.shell_student_ambiguous(typed, labels)) from exc
    if not events:
        ctx.write(messages.history_empty(messages.student_who(who)))
    for event in events:
        ctx.write(messages.history_line(event, services.settings.timezone))
    return 0


def _mark_arguments(parser: argparse.ArgumentParser) -> None:
    from ..corrections import MAX_REASON
    from ..records import Status

    parser.add_argument("--student", metavar="WHO", required=True, help=_STUDENT_HELP)
    statuses = ", ".join(status.value for status in Status)
    parser.add_argument("--status", metavar="STATUS", required=True, help=f"one of {statuses}")
    session_option(parser, "the course's open one, else its latest; closed sessions can be corrected")
    parser.add_argument("--reason", metavar="TEXT", help=f"why, up to {MAX_REASON} characters (kept in the history)")
    course_option(parser, "the course of the session")


@command(
    "mark",
    "set a student's status in a session (an instructor's correction: a later check-in does not change it), "
    "with its event in the history",
    _mark_arguments,
)
def _mark(ctx: Context) -> int:
    from ..corrections import clean_reason, clean_status

    clean_status(ctx.options.status)  # refused before the database is opened
    clean_reason(ctx.options.reason)
    session_id = ctx.session_id()
    services = ctx.services(writes=True)
    course_id = ctx.course_id(services, session_id)
    if course_id is None and session_id is not None:
        course_id = services.attendance.get_session(session_id).course_id
    if course_id is None:  # a session of a database older than courses that no course took
        course_id = ctx.course(services).id
    correction = services.corrections.mark(
        course_id, ctx.options.student, ctx.options.status, session_id, ctx.options.reason, actor=ctx.actor()
    )
    ctx.write(messages.marked_reply(correction))
    return 0
