"""The few statements of the `/here` hot path, written once from the models' own metadata.

Peewee builds each query's SQL in Python on every call; for a whole class checking in at once
that was most of the database thread's time (see the README's benchmark). These statements are
the same queries, derived from the models so a renamed table or column follows.
"""

from __future__ import annotations

from .models import Attendance, WrongAttempt

# S608 below: only identifiers from the models are interpolated; every value is a bound parameter.


def _table(model: type) -> str:
    return '"%s"' % model._meta.table_name  # type: ignore[attr-defined]


def _col(model: type, field: str) -> str:
    return '"%s"' % model._meta.fields[field].column_name  # type: ignore[attr-defined]


RECENT_WRONG = (
    f"SELECT {_col(WrongAttempt, 'user_id')}, {_col(WrongAttempt, 'attempted_at')} FROM {_table(WrongAttempt)} "
    f"WHERE {_col(WrongAttempt, 'session_id')} = ? AND {_col(WrongAttempt, 'user_id')} IN ({{marks}}) "
    f"AND {_col(WrongAttempt, 'attempted_at')} > ?"
)

PRESENT = (
    f"SELECT {_col(Attendance, 'user_id')} FROM {_table(Attendance)} "
    f"WHERE {_col(Attendance, 'session_id')} = ? AND {_col(Attendance, 'user_id')} IN ({{marks}})"
)

INSERT_WRONG = (
    f"INSERT INTO {_table(WrongAttempt)} ({_col(WrongAttempt, 'session_id')}, {_col(WrongAttempt, 'user_id')}, "
    f"{_col(WrongAttempt, 'attempted_at')}) VALUES (?, ?, ?)"
)

_UPSERT_FIELDS = ("user_id", "username", "display_name", "timestamp", "date_id", "session_id", "submitted_at")
_REPLACED = ("username", "display_name", "timestamp", "date_id", "submitted_at")

UPSERT_ATTENDANCE = (
    f"INSERT INTO {_table(Attendance)} ({', '.join(_col(Attendance, f) for f in _UPSERT_FIELDS)}) "
    f"VALUES ({', '.join('?' * len(_UPSERT_FIELDS))}) "
    f"ON CONFLICT ({_col(Attendance, 'user_id')}, {_col(Attendance, 'session_id')}) DO UPDATE SET "
    + ", ".join(f"{_col(Attendance, f)} = excluded.{_col(Attendance, f)}" for f in _REPLACED)
)
