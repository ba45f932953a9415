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
