"""The few statements of the `/here` hot path, written once from the models' own metadata.

Peewee builds each query's SQL in Python on every call; for a whole class checking in at once
that was most of the database thread's time (see the README's benchmark). These statements are
the same queries, derived from the models so a renamed table or column follows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timezone

from .models import Attendance, Session, UTCDateTimeField, WrongAttempt

# S608 below: only identifiers from the models are interpolated; every value is a bound parameter.


def _table(model: type) -> str:
    return '"%s"' % model._meta.table_name  # type: ignore[attr-defined]


def _col(model: type, field: str) -> str:
    return '"%s"' % model._meta.fields[field].column_name  # type: ignore[attr-defined]


_SESSION_FIELDS = tuple(Session._meta.sorted_fields)  # type: ignore[attr-defined]

OPEN_SESSION = (
    f"SELECT {', '.join(_col(Session, f.name) for f in _SESSION_FIELDS)} FROM {_table(Session)} "
    f"WHERE {_col(Session, 'open_flag')} = 1"
)


def session_from(values: Sequence[object]) -> Session:
    """The Session of one OPEN_SESSION row, each value converted as peewee converts it."""
    return Session(**{f.name: f.python_value(v) for f, v in zip(_SESSION_FIELDS, values, strict=True)})


RECENT_WRONG = (
    f"SELECT {_col(WrongAttempt, 'user_id')}, {_col(WrongAttempt, 'attempted_at')} FROM {_table(WrongAttempt)} "
    f"WHERE {_col(WrongAttempt, 'session_id')} = ? AND {_col(WrongAttempt, 'user_id')} IN ({{marks}}) "
    f"AND {_col(WrongAttempt, 'attempted_at')} > ?"
)

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
EXPORT_ALL = _EXPORT.format(where="")
EXPORT_SESSION = _EXPORT.format(where=f"WHERE a.{_col(Attendance, 'session_id')} = ? ")


def utc_from_db(text: str) -> datetime:
    """UTCDateTimeField.python_value without strptime's cost (the stored text is ISO 8601 in UTC)."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    except ValueError:  # a year before 1000 is not zero-padded by strftime
        return _UTC_FIELD.python_value(text)


_UTC_FIELD = UTCDateTimeField()


PRESENT = (
    f"SELECT {_col(Attendance, 'user_id')} FROM {_table(Attendance)} "
    f"WHERE {_col(Attendance, 'session_id')} = ? AND {_col(Attendance, 'user_id')} IN ({{marks}})"
)

# Each write is one multi-row statement per chunk, not executemany: executemany steps SQLite once
# per row and hands the GIL back to the event loop each time, which a busy loop pays for.
MAX_VARIABLES = 900  # bound variables per statement, under SQLite's old limit of 999

_WRONG_FIELDS = ("session_id", "user_id", "attempted_at")
_UPSERT_FIELDS = ("user_id", "username", "display_name", "timestamp", "date_id", "session_id", "submitted_at")
_REPLACED = ("username", "display_name", "timestamp", "date_id", "submitted_at")


def _values(columns: int, rows: int) -> str:
    one = f"({', '.join('?' * columns)})"
    return ", ".join([one] * rows)


@functools.cache
def insert_wrong(rows: int) -> str:
    """INSERT of `rows` wrong attempts (session_id, user_id, attempted_at each)."""
    return (
        f"INSERT INTO {_table(WrongAttempt)} ({', '.join(_col(WrongAttempt, f) for f in _WRONG_FIELDS)}) "
        f"VALUES {_values(len(_WRONG_FIELDS), rows)}"
    )


@functools.cache
def upsert_attendance(rows: int) -> str:
    """Upsert of `rows` distinct students' records: last submission wins."""
    return (
        f"INSERT INTO {_table(Attendance)} ({', '.join(_col(Attendance, f) for f in _UPSERT_FIELDS)}) "
        f"VALUES {_values(len(_UPSERT_FIELDS), rows)} "
        f"ON CONFLICT ({_col(Attendance, 'user_id')}, {_col(Attendance, 'session_id')}) DO UPDATE SET "
        + ", ".join(f"{_col(Attendance, f)} = excluded.{_col(Attendance, f)}" for f in _REPLACED)
    )
