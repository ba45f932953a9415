"""export and report: a course's records as CSV, its report as CSV and heat-map pictures."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import messages
from ..errors import SessionWithoutCourse
from ..export import FORMATS
from ..messages import quoted
from ..report import PAGE_STUDENTS
from .base import (
    CommandError,
    Context,
    command,
    course_option,
    raw_stream,
    session_option,
)
from .files import check_export_target, write_private

# -- export ---------------------------------------------------------------------------------


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    session_option(parser, "every session of the course")
    course_option(parser, "the course whose records to export")
    parser.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="write the CSV to FILE (mode 0600) instead of stdout; never the database itself",
    )
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists already")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="records",
        help="records (default): the seed's columns, one row per present or late record; full: those columns "
        "plus student_id,student_name,status,source,course, every status, computed absences included; "
        "gradebook: one row per roster student, student_id,name,discord, a P/L/E/A column per session, then "
        "sessions,present,late,excused,absent,rate,grade (grade: 0-100 by the course's late_points and drop_lowest; "
        "for an LMS grade import, see the README)",
    )


@command(
    "export",
    "the attendance CSV of a course (user_id,username,timestamp,date_id,session_id), or of one session; "
    "--format full|gradebook for every status or the LMS gradebook",
    _export_arguments,
)
def _export(ctx: Context) -> int:
    services = ctx.services()
    session_id = ctx.session_id()
    course_id = ctx.course_id(services, session_id)
    target = Path(ctx.options.output) if ctx.options.output else None
    if target is not None:
        check_export_target(target, services.settings, force=ctx.options.force)
    fmt = ctx.options.format
    try:
        done = services.exports.export(fmt, course_id, session_id)
    except SessionWithoutCourse as exc:
        raise CommandError(messages.session_without_course(exc.session_id)) from exc
    data, count = done.data, done.count
    if target is not None:
        write_private(target, data)
        ctx.stderr.write(messages.export_written(count, quoted(str(target), 200), fmt) + "\n")
        return 0
    buffer = getattr(ctx.stdout, "buffer", None)
    if buffer is not None:
        ctx.stdout.flush()
        buffer.write(data)
        buffer.flush()
    else:
        raw_stream(ctx.stdout).write(data.decode("utf-8"))  # the CSV's CRLF as it is (its cells are clean)
    return 0


# -- report ---------------------------------------------------------------------------------


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    course_option(parser, "the course to report on")
    parser.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        help="the folder to write the files in (default: the current folder); each is written 0600",
    )
    parser.add_argument("--force", action="store_true", help="replace the files if they exist already")


@command(
    "report",
    "a course's attendance report: attendance_report_<course>.csv (student_id,name,discord,sessions,"
    "present,late,excused,absent,rate,grade,voice_minutes; rate = (present + late) / (sessions - excused); grade "
    "0-100 by the course's late_points and drop_lowest, which it prints) and "
    "attendance_report_<course>.png, a heat map of every student in every session; a course of more "
    f"than {PAGE_STUDENTS} students gets one picture per {PAGE_STUDENTS}: attendance_report_<course>-1.png, -2.png ...",
    _report_arguments,
)
def _report(ctx: Context) -> int:
    from ..report import page_count, report_names, report_of

    services = ctx.services()
    course = ctx.course(services)
    folder = Path(ctx.options.output) if ctx.options.output else Path.cwd()
    try:
        is_folder = folder.is_dir()
    except (OSError, ValueError):  # a NUL in the name, or a path that cannot be looked at
        is_folder = False
    if not is_folder:
        raise CommandError(messages.report_output_not_a_folder(quoted(str(folder), 200)))
    book = services.gradebook.gradebook(course.id)
    csv_name, png_names = report_names(course.name, page_count(len(book.rows)))
    targets = [folder / name for name in (csv_name, *png_names)]
    for target in targets:  # every file refused before any is drawn or written
        check_export_target(target, services.settings, force=ctx.options.force)
    report = report_of(book)
    write_private(targets[0], report.csv_data)
    for target, picture in zip(targets[1:], report.pictures, strict=True):
        write_private(target, picture.data)
    ctx.write(
        messages.report_written(
            quoted(str(targets[0]), 200), [quoted(str(t), 200) for t in targets[1:]], report.students, report.sessions
        )
    )
    ctx.write(messages.grading_policy(report.policy))
    return 0
