"""Students: a Discord account's student id in a server (`/register`), and the rules for ids and names.

A registration and its event are written in one transaction; events are never updated or deleted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

import peewee

from . import messages, storage
from .errors import AttendanceError
from .models import Course, Student

MAX_STUDENT_ID = 32
MAX_NAME = 100
_STUDENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,%d}$" % MAX_STUDENT_ID)


class StudentError(AttendanceError):
    """A registration refused (the message says why, never who holds an id)."""


@dataclass(frozen=True)
class Registration:
    """A Discord account's student id in one server, and whether this replaced an earlier one."""

    guild_id: int
    user_id: int
    student_id: str
    name: str | None
    updated: bool


def student_key(student_id: str) -> str:
    """A student id as compared: case does not count (ids are ASCII letters, digits, '-', '_', '.')."""
    return student_id.strip().casefold()


def clean_student_id(typed: str) -> str:
    """A student id as stored; StudentError naming the characters allowed if it is not one."""
    value = str(typed).strip()
    if not _STUDENT_ID.match(value):
        raise StudentError(messages.student_id_invalid(typed, MAX_STUDENT_ID))
    return value


def clean_name(typed: str | None) -> str | None:
    """A person's name as stored (surrounding and repeated spaces removed), None if not given;
    StudentError if it is longer than MAX_NAME or holds control or formatting characters."""
    if typed is None:
        return None
    value = " ".join(str(typed).split())
    if not value:
        return None
    if len(value) > MAX_NAME or any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise StudentError(messages.student_name_invalid(MAX_NAME))
    return value


class StudentService:
    """Registrations over the models; no state."""

    def register(
        self, *, guild_id: int, user_id: int, student_id: str, name: str | None = None, actor: str | None = None
    ) -> Registration:
        """Link a Discord account to a student id in a server (again: update it), with its event.

        Refused: a malformed id or name; a server with no course; an id another account of the
        server registered (the refusal never says which account).
        """
        sid, cleaned = clean_student_id(student_id), clean_name(name)
        now = datetime.now(timezone.utc)
        try:
            with storage.immediate():
                if not Course.select().where(Course.guild_id == guild_id).exists():
                    raise StudentError(messages.no_course_in_server_reply())
                key = student_key(sid)
                holder = Student.get_or_none((Student.guild_id == guild_id) & (Student.student_key == key))
                if holder is not None and holder.user_id != user_id:
                    raise StudentError(messages.student_id_taken())
                row, before = storage.save_student(
                    guild_id=guild_id, user_id=user_id, student_id=sid, student_key=key, name=cleaned, at=now
                )
                storage.add_event(
                    at=now,
                    guild_id=guild_id,
                    user_id=user_id,
                    student_id=sid,
                    actor=actor or str(user_id),
                    action="register" if before is None else "re-register",
                    reason=None if before is None else f"was {before.student_id}",
                    source="manual",
                )
        except peewee.IntegrityError as exc:  # another process registered the id meanwhile
            raise StudentError(messages.student_id_taken()) from exc
        except peewee.DatabaseError as exc:
            raise storage.failure("registering", exc) from exc
        return Registration(guild_id, user_id, row.student_id, row.name, updated=before is not None)

    def registration(self, guild_id: int, user_id: int) -> Registration | None:
        """A Discord account's registration in a server, or None."""
        row = Student.get_or_none((Student.guild_id == guild_id) & (Student.user_id == user_id))
        if row is None:
            return None
        return Registration(guild_id, user_id, row.student_id, row.name, updated=False)
