"""Domain errors and notices as data: each has a kind (the name of its sentence in messages) and
the values it is made from. The sentence is made where it is shown (Discord, the shell, the web),
by messages.error_text; nothing below the adapters writes one."""

from __future__ import annotations

from typing import Any, ClassVar


def _rebuilt(cls: type[AttendanceError], kind: str, values: dict[str, Any]) -> AttendanceError:
    """An error rebuilt from its kind and values (pickling: a worker process hands one back)."""
    return cls(kind, **values)


class Said:
    """A kind (the name of its sentence in messages) and the values the sentence is made from."""

    def __init__(self, kind: str, /, **values: Any) -> None:
        self.kind = kind
        self.values = values

    def __str__(self) -> str:
        """The English sentence, for logs and tests (adapters call messages.error_text themselves)."""
        from .messages import error_text  # the text layer, never imported at import time from here

        return error_text(self)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.values.items())
        return f"{type(self).__name__}({self.kind!r}{', ' if shown else ''}{shown})"


class Notice(Said):
    """Something worth telling that is no error (a schema step done, a setting that works but is
    probably not what was meant, a speed-up in use)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Notice) and (other.kind, other.values) == (self.kind, self.values)

    __hash__ = None  # type: ignore[assignment]  # values may be lists


class AttendanceError(Said, Exception):
    """Base of every error that may be shown to an instructor, a student or an operator.

    `kind` names the function of messages that says it; `values` are its arguments by name, and
    may hold the class's `fields` besides: values for the code that catches the error (a line
    number, the candidates of a choice) that the sentence need not take. str() is the English
    sentence; adapters call messages.error_text themselves, which is where a reader's language
    would be chosen.
    """

    fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, kind: str, /, **values: Any) -> None:
        Exception.__init__(self, kind)
        Said.__init__(self, kind, **values)

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuilt, (type(self), self.kind, self.values)


class ConfigurationError(AttendanceError):
    """One or more settings are missing or malformed: `errors` holds one error for each."""

    def __init__(self, kind: str = "configuration_problems", /, **values: Any) -> None:
        super().__init__(kind, **values)

    @property
    def errors(self) -> list[AttendanceError]:
        return list(self.values["errors"])

    @property
    def problems(self) -> list[str]:
        """Each problem's sentence, in English (the shell prints them one per line)."""
        return [str(error) for error in self.errors]


class NoOpenSession(AttendanceError):
    """No attendance session is open."""


class SessionAlreadyOpen(AttendanceError):
    """A session is open already; only one may be open at a time (`session_id` is that one)."""

    @property
    def session_id(self) -> str:
        return str(self.values["session_id"])


class UnknownSession(AttendanceError):
    """A session id that is not in the database (`recent`: the newest ids there are)."""

    @property
    def session_id(self) -> str:
        return str(self.values["session_id"])

    @property
    def recent(self) -> list[str]:
        return list(self.values["recent"])


class SessionClosed(AttendanceError):
    """The session named is closed already."""


class StorageError(AttendanceError):
    """The database could not be read or written; nothing was recorded."""


class CourseError(AttendanceError):
    """A course cannot be created, changed or used as asked (the sentence says why and what to do)."""


class UnknownCourse(CourseError):
    """No course of that name (in this server); the sentence lists the ones there are."""


class CourseNeeded(CourseError):
    """More than one course could be meant (or none exists): `names` are the candidates."""

    fields = ("names",)

    @property
    def names(self) -> list[str]:
        return list(self.values["names"])


class NotAllowed(AttendanceError):
    """The member may not run this command here (the sentence says who may, or where)."""


class CopyRefused(AttendanceError):
    """`manage.py copy-db` will not copy (a target holding rows, counts that differ); nothing was written."""


class BackupError(AttendanceError):
    """`manage.py backup` could not make its copy (a folder, the database, pg_dump); nothing was written."""


class SessionWithoutCourse(AttendanceError):
    """A session older than courses, asked for in a format that reads a course's roster (full, gradebook)."""

    def __init__(self, kind: str = "session_without_course", /, **values: Any) -> None:
        super().__init__(kind, **values)

    @property
    def session_id(self) -> str:
        return str(self.values["session_id"])


class ProjectorOff(AttendanceError):
    """This bot serves no projector page (WEB_PORT=0), so it has no link to give."""
