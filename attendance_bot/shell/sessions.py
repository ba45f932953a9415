"""open, close, sessions, code (--watch: the terminal projector) and projector (the page's link): sessions."""

from __future__ import annotations

import argparse
import signal
import threading

from .. import bigtext, messages
from ..errors import AttendanceError, NoOpenSession, SessionClosed
from ..messages import MANAGE
from ..services import Services
from .base import (
    Context,
    command,
    course_option,
    nothing_open,
    of_course,
    raw_stream,
    session_option,
    whole_number,
)

# -- open / close ---------------------------------------------------------------------------


def _open_arguments(parser: argparse.ArgumentParser) -> None:
    course_option(parser, "the course to open a session of")
    parser.add_argument(
        "--late-after",
        metavar="MINUTES",
        help="check-ins more than this many minutes after opening count as late, 0-240, 0 for never "
        "(default: the course's rule)",
    )


@command(
    "open",
    "open an attendance session of a course (a running bot posts its code message); adds the course .env "
    "defines if missing (the database must exist: the bot or `migrate` makes it)",
    _open_arguments,
)
def _open(ctx: Context) -> int:
    services = ctx.services(writes=True)
    course = ctx.course(services)
    late = ctx.options.late_after
    late_after = None if late is None else whole_number("--late-after", late, "minutes")
    info = services.attendance.open_session(course.id, opened_by=ctx.actor(), late_after=late_after)
    current = services.attendance.current_code(info.session_id)
    ctx.write(
        f"Opened session {info.session_id}{of_course(course.name)}; code now {current.code} "
        f"(changes in {current.seconds_left:.0f} s)."
    )
    return 0


def _close_arguments(parser: argparse.ArgumentParser) -> None:
    session_option(parser, "the course's open one")
    course_option(parser, "the course whose open session to close")


@command(
    "close",
    "close a course's open session (or --session ID; without either option, the one session open in any "
    "course); a running bot finalises its message",
    _close_arguments,
)
def _close(ctx: Context) -> int:
    services = ctx.services(writes=True)
    session_id = ctx.session_id()
    try:
        closed = services.attendance.close_session(session_id, course_id=ctx.open_course_id(services, session_id))
    except NoOpenSession as exc:
        raise nothing_open(exc, ctx) from exc
    closed_in = of_course(closed.session.course_name)
    ctx.write(f"Closed session {closed.session.session_id}{closed_in}: {closed.count} present.")
    return 0


# -- sessions -------------------------------------------------------------------------------


def _sessions_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--course",
        metavar="NAME",
        help="list only this course's sessions (default: every course's, with a course column when there are "
        f"several; `{MANAGE} courses` lists them)",
    )


@command(
    "sessions",
    "list the sessions, oldest first: session id, opened, closed, present (and course, when there are several); "
    "* marks an open one",
    _sessions_arguments,
)
def _sessions(ctx: Context) -> int:
    services = ctx.services()
    courses = services.courses.courses()
    several = ctx.options.course is None and len(courses) > 1
    if several:
        summaries = services.attendance.sessions(every_course=True)
    else:  # the course named, the only one (archived or not), or none: the sentence says how to add one
        course = courses[0] if ctx.options.course is None and courses else ctx.course(services)
        summaries = services.attendance.sessions(course.id)
    if not summaries:
        ctx.write("No sessions yet.")
        return 0
    tz = services.settings.timezone
    course_header = "  course" if several else ""
    ctx.write(f"  {'session':<20} {'opened':<19} {'closed':<19} {'present':>7}{course_header}")
    for summary in summaries:
        info = summary.session
        opened = info.opened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
        closed = info.closed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if info.closed_at else "open"
        mark = "*" if info.is_open else " "
        course = f"  {info.course_name or '-'}" if several else ""
        ctx.write(f"{mark} {info.session_id:<20} {opened:<19} {closed:<19} {summary.count:>7}{course}")
    return 0


# -- code -----------------------------------------------------------------------------------


def _code_arguments(parser: argparse.ArgumentParser) -> None:
    session_option(parser, "the course's open one")
    course_option(parser, "the course whose open session's code to show")
    parser.add_argument(
        "--watch", action="store_true", help="keep the code on screen, large, with a countdown (Ctrl-C ends)"
    )


@command(
    "code",
    "show the current code of a course's open session (without --course or --session, the one session open in "
    "any course; --watch for a projector view)",
    _code_arguments,
)
def _code(ctx: Context) -> int:
    services = ctx.services()
    session_id = ctx.session_id()
    course_id = ctx.open_course_id(services, session_id)
    try:
        if not ctx.options.watch:
            current = services.attendance.current_code(session_id, course_id=course_id)
            course_name = services.attendance.get_session(current.session_id).course_name
            ctx.write(
                f"{current.code}  (session {current.session_id}{of_course(course_name)}, "
                f"changes in {current.seconds_left:.0f} s)"
            )
            return 0
        return _watch(ctx, services, session_id, course_id)
    except NoOpenSession as exc:
        raise nothing_open(exc, ctx) from exc


def _watch(ctx: Context, services: Services, session_id: str | None, course_id: int | None) -> int:
    """Redraw each second until Ctrl-C (or SIGTERM), which only sets a flag: a signal that lands
    inside library code can never be swallowed there and leave the view running.

    What it draws is the projector page's view (attendance.projector_view): the course, the code,
    the countdown and the count."""
    tty = ctx.stdout.isatty() if hasattr(ctx.stdout, "isatty") else False
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    shown: tuple[str, int] | None = None
    title = ""
    try:
        while not stop.is_set():
            view = services.attendance.projector_view(session_id, course_id=course_id)
            if not view.is_open or view.code is None or view.window is None:
                raise SessionClosed("closed_session_has_no_code", session_id=view.session_id)
            if not title:  # follow this session even if another opens later
                session_id = view.session_id
                title = f"Session {session_id}{of_course(view.course_name)}"
            left = max(1, int(view.seconds_left + 0.999))
            if tty:
                raw_stream(ctx.stdout).write("\x1b[2J\x1b[H")  # clear the screen
            if tty or shown != (view.code, view.window):
                ctx.write(f"{title}: type /here {view.code}")
                ctx.write()
                for line in bigtext.render(view.code):
                    ctx.write("    " + line)
                ctx.write()
                shown = (view.code, view.window)
            ctx.write(messages.watch_status(left, view.count))
            ctx.stdout.flush()
            stop.wait(min(1.0, view.seconds_left) if view.seconds_left > 0 else 0.05)
    except AttendanceError as exc:
        if shown is None:  # nothing to watch at all: fail like `code`
            raise
        ctx.write(messages.error_text(exc))  # closed or gone while watching
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    ctx.write()
    return 0


# -- projector ------------------------------------------------------------------------------


def _projector_arguments(parser: argparse.ArgumentParser) -> None:
    course_option(parser, "the course whose open session's page to link")
    parser.add_argument(
        "--new-link",
        action="store_true",
        help="replace the link with a new one; the old one stops working at once (e.g. if it was shared)",
    )


@command(
    "projector",
    "print the link to a course's open session's projector page (the code, large, for the room's screen; "
    "the running bot serves it on WEB_PORT); the same link each time, until --new-link replaces it",
    _projector_arguments,
)
def _projector(ctx: Context) -> int:
    services = ctx.services(writes=True)
    course_id = ctx.open_course_id(services, None)
    try:
        link = services.projector.link(course_id, new=ctx.options.new_link)
    except NoOpenSession as exc:
        raise nothing_open(exc, ctx) from exc
    ctx.write(messages.projector_shell_line(link.session_id, link.course_name, link.url, link.new))
    return 0
