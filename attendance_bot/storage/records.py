"""The records read and written in bulk: the export, roster entries, an instructor's corrections,
a seed import's rows and a copied database's tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..models import Attendance, Event, RosterEntry, Session, Student, backend
from ..records import ExportRow, Status
from .base import MAX_VARIABLES, _chunks, _col, _from_db, _insert_many, _run, _table, _values

# The export reads plain tuples in the seed's order (session opening, then time); an
# attendance row whose session is gone still exports (LEFT JOIN), first as NULL sorts first.
_EXPORT = (
    f"SELECT a.{_col(Attendance, 'user_id')}, a.{_col(Attendance, 'username')}, "
    f"a.{_col(Attendance, 'submitted_at')}, a.{_col(Attendance, 'session_id')} "
    f"FROM {_table(Attendance)} AS a LEFT OUTER JOIN {_table(Session)} AS s "
    f"ON a.{_col(Attendance, 'session_id')} = s.{_col(Session, 'session_id')} "
    "{where}"
    f"ORDER BY s.{_col(Session, 'opened_at')}, a.{_col(Attendance, 'session_id')}, "
    f"a.{_col(Attendance, 'submitted_at')}, a.{_col(Attendance, 'user_id')}"
)
# The default (`records`) export holds the records that say the student was there: present or late
# (an instructor's excused or absent mark is in the `full` format only). A database without marks
# holds nothing else, so its export is today's, byte for byte.
EXPORTED_STATUSES = tuple(status.value for status in Status if status.attended)
_COUNTED = f"a.{_col(Attendance, 'status')} IN ({', '.join(repr(s) for s in EXPORTED_STATUSES)}) "
_EXPORT_ALL = _EXPORT.format(where=f"WHERE {_COUNTED}")
_EXPORT_SESSION = _EXPORT.format(where=f"WHERE a.{_col(Attendance, 'session_id')} = ? AND {_COUNTED}")
_EXPORT_COURSE = _EXPORT.format(where=f"WHERE s.{_col(Session, 'course')} = ? AND {_COUNTED}")


def export_slices(session_id: str | None, size: int, *, course_id: int | None = None) -> Iterator[list[ExportRow]]:
    """Every record of one session, or of one course, (or every record) in export order, read as
    plain tuples in slices of `size`.

    The statement runs at once; the slices are read as they are asked for.
    """
    if session_id is not None:
        cursor = _run(_EXPORT_SESSION, (session_id,))
    elif course_id is not None:
        cursor = _run(_EXPORT_COURSE, (course_id,))
    else:
        cursor = _run(_EXPORT_ALL)
    return _slices(cursor, size)


def _slices(cursor: Any, size: int) -> Iterator[list[ExportRow]]:
    utc = _from_db
    while rows := cursor.fetchmany(size):
        yield [ExportRow(user_id, username, utc(at), sid) for user_id, username, at, sid in rows]


# -- roster writes (attendance_bot/roster.py) -----------------------------------------------------


def upsert_roster_entries(rows: Sequence[dict[str, Any]]) -> None:
    """Add or update roster entries, each a dict of RosterEntry's fields; an entry already there
    (same course and student key) takes the row's id, name and username and keeps its added_at."""

    fields = (RosterEntry.student_id, RosterEntry.name, RosterEntry.discord)
    target = [RosterEntry.course_id, RosterEntry.student_key]
    for chunk in _chunks(list(rows), MAX_VARIABLES // len(RosterEntry._meta.fields)):  # type: ignore[attr-defined]
        RosterEntry.insert_many(chunk).on_conflict(conflict_target=target, preserve=fields).execute()


def delete_roster_entries(course_id: int, student_keys: Sequence[str]) -> int:
    """Remove a course's roster entries with these student keys (never a record); how many."""

    deleted = 0
    for chunk in _chunks(list(student_keys), MAX_VARIABLES - 1):
        query = RosterEntry.delete().where((RosterEntry.course_id == course_id) & RosterEntry.student_key.in_(chunk))
        deleted += int(query.execute())
    return deleted


# -- corrections (attendance_bot/corrections.py) --------------------------------------------------
# Each is called inside the service's immediate() transaction, next to the add_event() that says
# what it did.


def insert_manual_record(**fields: Any) -> None:
    """Insert an instructor's record, fields named as Attendance's (user_id NULL for a roster
    student with no linked account)."""
    Attendance.insert(**fields).execute()


def update_record(record_id: int, **fields: Any) -> None:
    """Change an attendance record's columns (an instructor's status; its check-in time stays)."""
    Attendance.update(**fields).where(Attendance.id == record_id).execute()


def delete_records(record_ids: Sequence[int]) -> None:
    """Delete attendance records by id (a removal, or a duplicate folded into the record marked)."""
    if record_ids:
        Attendance.delete().where(Attendance.id.in_(list(record_ids))).execute()


# -- seed import writes (attendance_bot/seedimport.py) ---------------------------------------------


def insert_seed_sessions(rows: Sequence[dict[str, Any]]) -> None:
    """Insert the closed sessions a seed import creates (IntegrityError if an id is taken)."""
    _insert_many(Session, rows)


def insert_seed_records(rows: Sequence[dict[str, Any]]) -> None:
    """Insert a seed import's attendance records (IntegrityError if a student's session has one)."""
    _insert_many(Attendance, rows)


def insert_seed_registrations(rows: Sequence[dict[str, Any]]) -> None:
    """Insert a seed import's registrations (IntegrityError if an account or id of the server has one),
    confirmed: the operator brought them from the seed bot's own database."""
    _insert_many(Student, [{"confirmed": True, **row} for row in rows])


def insert_seed_events(rows: Sequence[dict[str, Any]]) -> None:
    """Append a seed import's events, one per record and registration brought in."""
    _insert_many(Event, rows)


# -- copy-db writes (attendance_bot/copydb.py) -----------------------------------------------------
# Whole tables copied from another database, row values as that database stored them; the table and
# column names are the target's own (read from its schema), every value a bound parameter.


def empty_tables(tables: Sequence[str]) -> None:
    """Delete every row of these tables, in the order given (dependents first)."""
    for table in tables:
        _run(f'DELETE FROM "{table}"')


def insert_copied_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Insert rows as they are (ids included), as few statements as the variable limit allows."""
    names = ", ".join(f'"{name}"' for name in columns)
    for chunk in _chunks(list(rows), max(1, MAX_VARIABLES // len(columns))):
        sql = f'INSERT INTO "{table}" ({names}) VALUES {_values(len(columns), len(chunk))}'
        _run(sql, [value for row in chunk for value in row])


def advance_id_sequences(tables: Sequence[str]) -> None:
    """PostgreSQL: set each table's id sequence past its highest id, so the next insert after a copy
    (which wrote the ids itself) does not collide. SQLite takes the highest id + 1 by itself."""
    if backend() != "postgresql":
        return
    for table in tables:
        _run(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'COALESCE((SELECT MAX("id") FROM "{table}"), 0) + 1, false)'
        )
