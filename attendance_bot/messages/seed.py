"""Moving from the seed bot (manage.py import-seed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .record import _statuses_or
from .text import quoted

if TYPE_CHECKING:
    pass


# -- moving from the seed bot (manage.py import-seed; attendance_bot/seedimport.py) -------------

_SEED_WANTED = "the seed bot's SQLite database (its attendance.db)"


def seed_missing(path: str) -> str:
    return f"{quoted(path, 200)}: no such file: name {_SEED_WANTED}; nothing was imported."


def seed_is_folder(path: str) -> str:
    return f"{quoted(path, 200)} is a folder: name {_SEED_WANTED} inside it; nothing was imported."


def seed_not_sqlite(path: str) -> str:
    return f"{quoted(path, 200)} is not a SQLite database: name {_SEED_WANTED}; nothing was imported."


def seed_unreadable(path: str, reason: str) -> str:
    return f"Cannot read the seed database {quoted(path, 200)}: {' '.join(reason.split())}; nothing was imported."


def seed_is_this_bot(path: str) -> str:
    return (
        f"{quoted(path, 200)} is this bot's own database (or a copy), not the seed bot's: "
        "name the seed bot's database; nothing was imported."
    )


def seed_no_attendance(path: str) -> str:
    return f"{quoted(path, 200)} has no `attendance` table, so it is not the seed bot's database: nothing was imported."


def seed_missing_columns(path: str, table: str, missing: list[str]) -> str:
    return (
        f"The `{table}` table of {quoted(path, 200)} has no column {', '.join(missing)}, so it is not the "
        "seed bot's database: nothing was imported."
    )


def seed_not_a_table(path: str, table: str, kind: str) -> str:
    """The seed's `attendance` or `students` is a view, a virtual table or has computed columns."""
    return (
        f"`{table}` in {quoted(path, 200)} is a {kind}, not the seed bot's plain table, so it is not read: "
        "nothing was imported."
    )


def seed_too_many_rows(path: str, limit: int) -> str:
    return (
        f"A table of {quoted(path, 200)} has more than {limit:,} rows, more than import-seed reads "
        "(far more than a seed bot's database holds): nothing was imported."
    )


def seed_too_slow(path: str, seconds: float) -> str:
    return (
        f"Reading {quoted(path, 200)} took longer than {seconds:g} s, far longer than a seed bot's database "
        "needs, so it was stopped: nothing was imported."
    )


def seed_unknown_status(value: object, row_id: object) -> str:
    shown_value = quoted(value, 40) if isinstance(value, str) else repr(value)
    return (
        f"Row {row_id!r} of the seed's attendance table has the status {shown_value}, which is not "
        f"{_statuses_or()}: nothing was imported."
    )


def seed_bad_value(table: str, row_id: object, column: str, value: object) -> str:
    """A seed value that cannot be imported; a `students` row is named by its user_id (it has no id)."""
    shown_value = quoted(value, 40) if isinstance(value, str) else repr(value)[:40]
    where = (
        f"The seed's students row of user_id {row_id}"
        if table == "students"
        else f"Row {row_id!r} of the seed's {table} table"
    )
    return f"{where} has {column} {shown_value}, which cannot be imported: nothing was imported."


def seed_bad_user_id(table: str, row_id: object, value: object) -> str:
    shown_value = quoted(value, 40) if isinstance(value, str) else repr(value)[:40]
    where = f"Row {row_id!r} of the seed's {table} table" if row_id is not None else f"The seed's {table} table"
    return f"{where} has the user_id {shown_value}, which is not a Discord user id: nothing was imported."


def seed_session_of_another_course(session_id: str, course_name: str | None) -> str:
    owner = f"the course {course_name!r}" if course_name else "no course"
    return (
        f"The seed's session {quoted(session_id)} is already in this database, in {owner}: a session belongs to "
        "one course. Import into that course, or leave this file out; nothing was imported."
    )


_SEED_SKIPS = {
    "id taken": "their student id is registered by another account of the server",
    "other id": "the account is registered with another student id in the server",
    "invalid id": "not a student id (1-32 letters, digits, '-', '_' or '.')",
    "no server": "the course has no server to register them in",
}


def seed_imported(
    course_name: str,
    *,
    sessions: int,
    records: int,
    records_there: int,
    registrations: int,
    registrations_there: int,
    skipped: int,
) -> str:
    """The counts `manage.py import-seed` prints first (nothing new: it says so)."""
    if sessions or records or registrations:
        head = f"Imported into {course_name!r}:"
    else:
        head = f"Nothing to import: everything in this file is in {course_name!r} already:"
    return (
        f"{head} {sessions} session(s) created, {records} record(s) imported, {records_there} already there; "
        f"{registrations} registration(s) imported, {registrations_there} already there, {skipped} skipped."
    )


def seed_skipped(why: str, count: int) -> str:
    return f"  skipped {count} registration(s): {_SEED_SKIPS.get(why, why)}"


def seed_duplicates(count: int) -> str:
    return f"  {count} row(s) repeated a student's session in the seed file: the latest of each was kept."


def seed_names_left_out(count: int) -> str:
    return (
        f"  {count} registration(s) imported without their name "
        "(over 100 characters, or a control character or line break in it)."
    )
