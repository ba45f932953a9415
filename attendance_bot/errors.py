"""Domain errors: str() of each is a sentence that is safe to show a user."""

from __future__ import annotations


def quoted(text: str, limit: int = 40) -> str:
    """User input quoted for an error sentence: escaped (no control characters), shortened."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return repr(short)


class AttendanceError(Exception):
    """Base of every error whose message may be shown to an instructor or a student."""


class ConfigurationError(AttendanceError):
    """One or more settings are missing or malformed; the message names each of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class NoOpenSession(AttendanceError):
    """No attendance session is open."""


class SessionAlreadyOpen(AttendanceError):
    """A session is open already; only one may be open at a time."""

    def __init__(self, message: str, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(message)


class UnknownSession(AttendanceError):
    """A session id that is not in the database."""

    def __init__(self, message: str, session_id: str, recent: list[str]) -> None:
        self.session_id = session_id
        self.recent = list(recent)
        super().__init__(message)


class SessionClosed(AttendanceError):
    """The session named is closed already."""


class StorageError(AttendanceError):
    """The database could not be read or written; nothing was recorded."""


class CourseError(AttendanceError):
    """A course cannot be created, changed or used as asked (the message says why and what to do)."""


class UnknownCourse(CourseError):
    """No course of that name (in this server); the message lists the ones there are."""


class CourseNeeded(CourseError):
    """More than one course could be meant (or none exists): the message lists them."""

    def __init__(self, message: str, names: list[str]) -> None:
        self.names = list(names)
        super().__init__(message)


class NotAllowed(AttendanceError):
    """The member may not run this command here (the message says who may, or where)."""


class CopyRefused(AttendanceError):
    """`manage.py copy-db` will not copy (a target holding rows, counts that differ); nothing was written."""


class SessionWithoutCourse(AttendanceError):
    """A session older than courses, asked for in a format that reads a course's roster (full, gradebook).

    It carries the session id, not a sentence: the shell, the only edge that can name such a session
    without a course, says it with messages.session_without_course.
    """

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        super().__init__(session_id)
