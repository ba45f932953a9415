"""Sessions' and the database's errors, and what a schema upgrade says."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .text import MANAGE, quoted

if TYPE_CHECKING:
    pass


# -- the sentences of errors (str() of each is shown to whoever asked) ----------------------------


def no_open_session() -> str:
    return "No attendance session is open."


def session_already_open(session_id: str, since: str | None = None) -> str:
    """`since` is the opening time as people read it (HH:MM in TIMEZONE), when known."""
    when = f" (since {since})" if since else ""
    return f"Session {session_id} is already open{when}; close it first."


def session_already_closed(session_id: str) -> str:
    return f"Session {session_id} is already closed."


def closed_session_has_no_code(session_id: str) -> str:
    return f"Session {session_id} is closed; it shows no code."


def unknown_session(session_id: str, recent: list[str]) -> str:
    """An id that is not a session, with the most recent ids to pick from."""
    known = f" Recent sessions: {', '.join(recent)}." if recent else " There are no sessions yet."
    return f"There is no session {quoted(session_id)}.{known}"


def database_failure(action: str) -> str:
    """`action` says what was being done, e.g. "opening a session"."""
    return f"The attendance database could not be used ({action}); nothing was changed."


def no_free_session_id() -> str:
    return "Could not find a free session id; try again."


def no_database_at(path: Path) -> str:
    return (
        f"No database at {path}: check DATABASE_PATH (in .env or the environment); nothing has been recorded there "
        f"yet (a new database is made there by `{MANAGE} migrate`, or by the bot when it starts)."
    )


def database_folder_missing(path: Path) -> str:
    return (
        f"Cannot make the database {path}: the folder {path.parent} does not exist (only the default data/ folder "
        "is made): check DATABASE_PATH, or create the folder first."
    )


def demo_folder_missing(path: Path) -> str:
    return (
        f"--database {path}: the folder {path.parent} does not exist (only the default data/ folder is made): "
        "create it first, or name a file in a folder that exists."
    )


def database_not_made_yet(path: Path) -> str:
    """`check` on a fresh checkout: the default database, not made yet."""
    return f"Database not made yet: {path} (the bot makes it when it starts, or `{MANAGE} migrate`)"


def looked_in(database: str) -> str:
    """Appended to a shell error that found no course, student or session: where it looked."""
    return f"(Looked in the database {database}.)"


def database_cannot_be_created(path: Path, reason: str | None) -> str:
    return (
        f"Cannot use {path} as the database: cannot create a file there ({reason}); "
        "choose a writable folder for DATABASE_PATH."
    )


def database_unusable(path: Path | str, error: Exception) -> str:
    return f"Cannot use the database at {path}: {error}."


def postgres_unreachable(shown: str, problem: str) -> str:
    return f"Cannot use the PostgreSQL database {shown}: {problem}{'' if problem.endswith(('?', '.')) else '.'}"


def database_too_new(path: Path | str, version: int, latest: int) -> str:
    return (
        f"The database at {path} has schema version {version}, made by a newer release; this release knows up to "
        f"version {latest}: run the newer release (its backup copies are beside the file)."
    )


def migration_pending(path: Path | str, version: int, latest: int) -> str:
    return (
        f"The database at {path} has schema version {version} and needs an upgrade to version {latest}: run "
        f"`{MANAGE} migrate` (or start the bot, which upgrades it); a backup copy is made first."
    )


def migration_failed(step: str, error: Exception) -> str:
    return (
        f"Upgrading the database failed at step {step} ({error}); that step was rolled back, and the backup copy "
        "beside the database is untouched."
    )


def sessions_joined_course(sessions: int, name: str) -> str:
    """Schema step 0002_courses: the sessions older than courses joined the `.env` course."""
    return f"{sessions} earlier session(s) now belong to course {name!r}"


def registrations_kept_confirmed(rows: int) -> str:
    """Schema step 0005_claims: the registrations made before claims stay confirmed."""
    plural = "" if rows == 1 else "s"
    return f"{rows} registration{plural} kept as confirmed (the release that made them accepted them)"


def backup_made(copy: Path) -> str:
    return f"Backed up the database to {copy} before upgrading it."


def migration_step_done(step: str) -> str:
    return f"Applied schema step {step}."
