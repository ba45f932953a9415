"""Every user-facing sentence, and the code message's content, in one place."""

from __future__ import annotations

import functools
import inspect
import math
import re
import shlex
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from . import codes
from .records import (
    MAX_CHOICE,
    Correction,
    CourseInfo,
    CurrentCode,
    HistoryEvent,
    Outcome,
    SessionBrief,
    Status,
    StudentAttendance,
    StudentRef,
    SubmitResult,
    VoiceRule,
)

if TYPE_CHECKING:
    from .errors import AttendanceError, Said

SHOWN_INPUT_LENGTH = 24
MANAGE = ".venv/bin/python manage.py"  # how the README and every hint run manage.py


def error_text(error: Said) -> str:
    """The sentence that says a domain error (or a notice): the function of this module its kind
    names, called with its values (those the function takes: an error may carry more for the code
    that catches it). Every adapter shows errors through this; tests/test_error_kinds.py checks
    each kind."""
    sentence = _sentence(error.kind)
    if sentence is None:  # a kind without a sentence: a bug, named rather than hidden
        return f"Something went wrong ({error.kind})."
    sentence_fn, takes = sentence
    return sentence_fn(**{name: value for name, value in error.values.items() if name in takes})


@functools.cache
def _sentence(kind: str) -> tuple[Callable[..., str], frozenset[str]] | None:
    """The function named `kind` and the names of its parameters, or None."""
    found = globals().get(kind)
    if kind.startswith("_") or not inspect.isfunction(found):
        return None
    return found, frozenset(inspect.signature(found).parameters)


def configuration_problems(errors: list[AttendanceError]) -> str:
    """Every problem of the settings, one per line."""
    return "\n".join(error_text(error) for error in errors)


def quoted(text: str, limit: int = 40) -> str:
    """User input quoted for an error sentence: escaped (no control characters), shortened."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return repr(short)


def shown(text: str, limit: int = SHOWN_INPUT_LENGTH) -> str:
    """User input made safe to echo: no control or format characters, no mentions, short."""
    cleaned = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    cleaned = cleaned.replace("@", "@\u200b").replace("`", "'")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _wait(value: float) -> str:
    """A wait as a student reads it: seconds up to two minutes, then whole minutes (rounded up)."""
    whole = max(1, math.ceil(value))
    if whole <= 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    return f"{math.ceil(whole / 60)} minutes"


def submit_reply(result: SubmitResult) -> str:
    """The one sentence a student sees after `/here`."""
    outcome = result.outcome
    if outcome in (Outcome.RECORDED, Outcome.UPDATED):
        replaced = " (your earlier check-in was replaced)" if outcome is Outcome.UPDATED else ""
        if result.status == Status.LATE:
            return (
                f"🕒 You are marked late for session {result.session_id}{replaced}: check-ins more than "
                f"{_minutes(result.late_after or 0)} after it opened count as late."
            )
        return f"✅ You are marked present for session {result.session_id}{replaced}."
    if outcome is Outcome.KEPT:
        return (
            f"ℹ️ Your record for session {result.session_id} was set by your instructor "
            f"({result.status}), so this check-in does not change it."
        )
    if outcome is Outcome.EXPIRED:
        return f"⌛ Code {shown(result.code)} has expired: use the code on screen now."
    if outcome is Outcome.WRONG:
        if result.retry_after > 0:
            return (
                f"❌ {shown(result.code)} is not the current code either: too many wrong codes, so wait "
                f"{_wait(result.retry_after)} before your next try, then use the code on screen."
            )
        left = result.attempts_left
        return (
            f"❌ {shown(result.code)} is not the current code: check the screen and try again "
            f"({left} more tr{'ies' if left != 1 else 'y'} before you have to wait)."
        )
    if outcome is Outcome.MALFORMED:
        return malformed_reply(result)
    if outcome is Outcome.THROTTLED:
        return f"⏳ Too many wrong codes: wait {_wait(result.retry_after)}, then use the code on screen."
    if outcome is Outcome.NO_SESSION:
        return no_session_reply()
    if outcome is Outcome.WRONG_CHANNEL:
        return wrong_channel_reply(result.channels)
    if outcome is Outcome.NOT_IN_VOICE:
        return not_in_voice_reply(result.channels[0] if result.channels else None)
    raise ValueError(f"no reply for {outcome}")


def _minutes(minutes: int) -> str:
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def malformed_reply(result: SubmitResult) -> str:
    """Why a typed code cannot be a code at all."""
    length = result.code_length
    look_alikes = [ch for ch in result.bad_characters if ch in codes.LOOK_ALIKES]
    if look_alikes:
        used = ", ".join(look_alikes)
        return (
            f"❌ Codes never contain {used}: they use only {codes.ALPHABET_DESCRIPTION}. "
            f"Look again at the screen ({length} characters)."
        )
    if result.bad_characters or not result.code:
        return f"❌ A code is {length} characters: {codes.ALPHABET_DESCRIPTION}. Type the one on screen."
    if len(result.code) >= codes.MAX_INPUT_LENGTH:
        return f"❌ That is far longer than a code: a code is {length} characters. Type the one on screen."
    return f"❌ A code is {length} characters long, not {len(result.code)}. Type the one on screen."


def no_session_reply() -> str:
    return "There is no attendance session open right now: wait for your instructor to open one."


def wrong_channel_reply(channels: tuple[int, ...] | list[int]) -> str:
    if not channels:
        return "No course takes attendance in this server yet: wait for your instructor to set one up."
    where = " or ".join(f"<#{channel}>" for channel in channels)
    return f"Use `/here` in {where}."


def not_admin_reply(course: str | None = None) -> str:
    whose = f"of {course!r} " if course else ""
    return f"Only instructors {whose}(Manage Server or the course's instructor role) can use this command."


def not_a_manager_reply() -> str:
    return "Only members with Manage Server can create or archive courses."


def not_in_a_server_reply() -> str:
    return "This command works in a server's channels, not in direct messages."


def channel_elsewhere(label: str, channel_id: int) -> str:
    return f"The {label} <#{channel_id}> is not a channel of this server: choose one of this server's text channels."


def channel_not_visible(label: str, channel_id: int) -> str:
    return f"I cannot see the {label} <#{channel_id}>: give my role View Channel there, or choose another channel."


def channel_permission_missing(label: str, channel_id: int, missing: list[str]) -> str:
    return (
        f"I cannot post in the {label} <#{channel_id}>: my role lacks {', '.join(missing)} there. "
        "Give it that permission in the channel's settings, or choose another channel."
    )


def role_elsewhere() -> str:
    return "That role is not a role of this server: choose one of this server's roles."


def course_created_reply(name: str, admin: int | None, attendance: int | None, display: int | None) -> str:
    shown_in = f", codes shown in <#{display}>" if display and display != attendance else ""
    return (
        f"Course {name!r} is set up: instructors run it from <#{admin}>, students type `/here` in "
        f"<#{attendance}>{shown_in}. Open a session with `/open_attendance`."
    )


def course_edited_reply(name: str) -> str:
    return f"Course {name!r} is updated; the changes apply from its next session (an open one keeps its settings)."


def course_archived_reply(name: str) -> str:
    return f"Course {name!r} is archived: no new sessions; its records and exports stay."


def course_line(course: CourseInfo) -> str:
    """One course in a list: name, channels, whether a session is open."""
    state = (
        "archived" if course.archived else (f"open: {course.open_session_id}" if course.open_session_id else "closed")
    )
    display = (
        f", codes in <#{course.display_channel_id}>"
        if course.display_channel_id != course.attendance_channel_id
        else ""
    )
    role = f", instructors <@&{course.instructor_role_id}>" if course.instructor_role_id else ""
    late = f", late after {_minutes(course.late_after)}" if course.late_after else ""
    hidden = f", {code_not_in_channel()}" if not course.code_in_channel else ""
    return (
        f"**{course.name}**: admin <#{course.admin_channel_id}>, attendance <#{course.attendance_channel_id}>"
        f"{display}{role}{late}{voice_part(course.voice_channel_id, course.voice_rule)}{hidden} ({state})"
    )


def course_list_reply(courses: list[CourseInfo]) -> str:
    if not courses:
        return "No course in this server yet: run `/course create` in the channel that becomes its admin channel."
    return "\n".join(course_line(c) for c in courses)


def storage_failure_reply() -> str:
    return "⚠️ Attendance could not be recorded right now: please try again in a moment, or tell your instructor."


def generic_failure_reply() -> str:
    return "Something went wrong on our side; it has been logged. Please try again."


def shutting_down_reply() -> str:
    return "⚠️ The attendance bot is restarting: this check-in was not recorded. Send `/here` again in a moment."


def shutdown_unconfirmed_reply() -> str:
    return (
        "⚠️ The attendance bot is restarting and could not confirm this check-in: "
        "send `/here` again in a moment to be sure."
    )


def opened_reply(session_id: str, channel_id: int | None, late_after: int | None = None) -> str:
    where = f" in <#{channel_id}>" if channel_id else ""
    late = f" Check-ins more than {_minutes(late_after)} after now count as late." if late_after else ""
    return f"Attendance session {session_id} is open; the code is shown{where}.{late}"


def closed_reply(session_id: str, count: int) -> str:
    return f"Attendance session {session_id} is closed: {count} present."


@dataclass(frozen=True)
class CodeCard:
    """The code message's content, independent of Discord's types (the bot turns it into an embed)."""

    title: str
    description: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    footer: str = ""
    closed: bool = False


def code_card(current: CurrentCode, count: int, course: str | None = None, *, in_channel: bool = True) -> CodeCard:
    """The live code message: the code large, how to submit, when it changes, the count (and the
    course, so sections sharing a channel tell their codes apart). Without `in_channel` (the course's
    code_in_channel off) it says a session is open and how to check in, but shows no code."""
    changes = int(current.changes_at.timestamp())
    spaced = " ".join(current.code)
    description = (
        f"# `{spaced}`\nType **`/here {current.code}`** to check in.\nOr press **{check_in_button_label()}** below."
        if in_channel
        else (
            f"The code is on the screen in the room. Press **{check_in_button_label()}** and type it, "
            "or type **`/here`** and the code."
        )
    )
    return CodeCard(
        title="Attendance is open",
        description=description,
        fields=[
            *([("Course", course)] if course else []),
            ("Code changes", f"<t:{changes}:R>"),
            ("Checked in", str(count)),
            ("Session", current.session_id),
        ],
        footer="Codes rotate; a code stays valid a little after it changes.",
    )


def closed_card(session_id: str, count: int, closed_at: datetime) -> CodeCard:
    """The code message's final form once the session is closed."""
    return CodeCard(
        title="Attendance is closed",
        description=f"Closed — {count} present.",
        fields=[("Session", session_id), ("Closed", f"<t:{int(closed_at.timestamp())}:t>")],
        closed=True,
    )


def export_reply(count: int, session_id: str | None) -> str:
    scope = f"session {session_id}" if session_id else "all sessions"
    return f"Attendance export for {scope}: {count} record{'s' if count != 1 else ''}."


def storage_warning() -> str:
    return (
        "⚠️ The attendance database cannot be written: students are being told their check-in "
        "was not recorded. Check the database: the disk and the file's permissions (SQLite), or that the "
        "PostgreSQL server is running and reachable."
    )


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


def step_report(notice: Said) -> str:
    """A schema step's report, indented under its step."""
    return f"  {error_text(notice)}"


def backup_made(copy: Path) -> str:
    return f"Backed up the database to {copy} before upgrading it."


def migration_step_done(step: str) -> str:
    return f"Applied schema step {step}."


# -- courses ----------------------------------------------------------------------------------


def _names(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "none yet"


def course_name_invalid(name: object, limit: int) -> str:
    return (
        f"A course name is 1-{limit} characters of text (no line breaks, control or text-direction characters), "
        f"not {shown(str(name))}."
    )


def course_name_taken(name: str) -> str:
    return f"There is a course named {name!r} in this server already: choose another name, or edit that course."


def unknown_course(name: str, names: list[str]) -> str:
    return f"No course named {shown(name)} here. Courses: {_names(names)}."


def course_in_several_servers(name: str, guild_ids: list[int | None]) -> str:
    servers = ", ".join(str(g) for g in guild_ids)
    return f"Several servers have a course named {name!r} (servers {servers}); this command cannot tell which."


def course_option_needed(names: list[str]) -> str:
    return f"This channel is the admin channel of several courses: say which with the course option ({_names(names)})."


def shell_course_needed(names: list[str]) -> str:
    if not names:
        return (
            f"There is no course yet: create one with /course create in Discord, or `{MANAGE} course add`, "
            "or set ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID in .env."
        )
    return f"Several courses could be meant: add --course NAME ({_names(names)})."


def no_course_here(courses: list[tuple[str, int | None]]) -> str:
    if not courses:
        return (
            "No course is set up in this server yet: someone with Manage Server runs /course create in the channel "
            "that becomes its admin channel."
        )
    where = ", ".join(f"{name!r} in <#{channel}>" for name, channel in courses)
    return f"This channel is no course's admin channel. Run the command in the course's admin channel: {where}."


def not_this_courses_admin_channel(name: str, channel_id: int | None) -> str:
    return f"Course {name!r} is run from <#{channel_id}>: use the command there."


def instructor_role_is_everyone() -> str:
    return (
        "The instructor role cannot be @everyone: every member would be an instructor. Choose the instructors' "
        "role, or none (Manage Server is enough then)."
    )


def course_setting_out_of_range(key: str, value: object, low: int, high: int, unit: str) -> str:
    label = {
        "interval": "The interval",
        "code_length": "The code length",
        "grace_seconds": "The grace",
        "late_after": "Late after",
    }[key]
    if key == "late_after":
        return f"{label} must be from {low} (never late) to {high} {unit}, not {shown(str(value))}."
    return f"{label} must be from {low} to {high} {unit}, not {shown(str(value))}."


def course_edit_needs_a_change() -> str:
    return (
        "Nothing to change: give at least one of the course's settings (a new name, a channel, a role or a code "
        "setting)."
    )


def course_already_archived(name: str) -> str:
    return f"Course {name!r} is archived already; its records and exports stay."


def close_before_archiving(name: str, session_id: str) -> str:
    return f"Course {name!r} has session {session_id} open: close it first, then archive the course."


def course_archived_refusal(name: str) -> str:
    return f"Course {name!r} is archived: it takes no new sessions (its records and exports stay)."


def course_argument(name: str) -> str:
    """` --course NAME` quoted for a shell, to show in a hint; nothing for a name that cannot be shown as typed."""
    name = " ".join(name.split())
    return f" --course {shlex.quote(name)}" if name.isprintable() else " --course NAME"


# -- students ----------------------------------------------------------------------------------


def student_id_invalid(typed: str, limit: int) -> str:
    return (
        f"A student id is 1-{limit} characters: letters, digits, '-', '_' and '.', not {shown(typed)}. "
        "Type it as your school writes it."
    )


def student_name_invalid(limit: int) -> str:
    return f"A name is 1-{limit} characters of text (no line breaks or control characters)."


def student_id_taken() -> str:
    return (
        "That student id is registered by another account in this server: if it is yours, ask your instructor "
        "to sort it out."
    )


def registered_reply(student_id: str, name: str | None, updated: bool) -> str:
    who = f" ({name})" if name else ""
    if updated:
        return f"✅ Your registration is updated: student id {student_id}{who}."
    return f"✅ You are registered as student id {student_id}{who} in this server."


def no_course_in_server_reply() -> str:
    return "No course uses this server yet: register once your instructor has set one up."


def student_id_roster_other() -> str:
    return (
        "The class list gives that student id another Discord account: if it is yours, ask your instructor "
        "to link it (or to correct the class list)."
    )


def claim_pending_reply(student_id: str, name: str | None) -> str:
    """`/register` of an id no roster gives this account: a claim an instructor confirms."""
    who = f" ({name})" if name else ""
    return (
        f"⏳ Your claim of student id {student_id}{who} waits for an instructor to confirm it. Until then "
        "your record is your own check-ins only, and `/my_attendance` shows just those."
    )


def claim_pending_line(student_id: str) -> str:
    """`/my_attendance`'s line for an account whose claim waits."""
    return (
        f"⏳ Your claim of student id {shown(student_id, 40)} waits for an instructor to confirm it: only your "
        "own check-ins are shown."
    )


def claim_conflict_notice(
    student_id: str, holder_id: int, holder_confirmed: bool, claimant_id: int, course_names: list[str]
) -> str:
    """For a course's admin channel: a second account typed an id another account holds."""
    holds = "is registered with" if holder_confirmed else "claimed (waiting for confirmation)"
    courses = ", ".join(_printable(name, 50) for name in course_names)
    return (
        f"⚠️ Two accounts claim student id {student_id} ({courses}): <@{holder_id}> ({holder_id}) {holds} it, "
        f"and <@{claimant_id}> ({claimant_id}) typed it too and was refused. If the second is the student, "
        f"`/attendance link student:{student_id} account:` them; `/attendance claims` lists the waiting claims."
    )


def _account(user_id: int, mention: bool) -> str:
    """A Discord account in a sentence: a mention and its id in Discord, the id alone in a terminal."""
    return f"<@{user_id}> ({user_id})" if mention else f"account {user_id}"


def claims_lines(
    course_name: str, claims: list[tuple[str, int, str | None, str | None]], *, mention: bool = True
) -> list[str]:
    """`/attendance claims` (`manage.py claims`: mention=False): per pending claim (student id,
    account, name typed, roster name), one line."""
    if not claims:
        return [f"No claim of a student id waits in course {_printable(course_name, 50)}."]
    lines = [
        f"{len(claims)} claim{'s' if len(claims) != 1 else ''} waiting in course {_printable(course_name, 50)} "
        f"(confirm one with {'`/attendance link`' if mention else f'`{MANAGE} link --student ID --user ACCOUNT_ID`'}):"
    ]
    for student_id, user_id, typed_name, roster_name in claims:
        roster = f"on the roster as {_printable(roster_name, 60)}" if roster_name else "on no roster of the course"
        typed = f", says they are {_printable(typed_name, 60)}" if typed_name else ""
        lines.append(f"- {_printable(student_id, 40)} ({roster}): {_account(user_id, mention)}{typed}")
    return lines


def linked_reply(course_name: str, student_id: str, user_id: int, replaced: list[int], *, mention: bool = True) -> str:
    """`/attendance link` (`manage.py link`: mention=False): the account confirmed, and whose
    registration of the id it replaced."""
    gone = ""
    if replaced:
        gone = " It replaces the registration of " + ", ".join(_account(u, mention) for u in replaced) + "."
    server = "this server" if mention else "the course's server"
    return (
        f"✅ {_account(user_id, mention)} is student id {student_id} in {server} now (course "
        f"{_printable(course_name, 50)}): their check-ins count for that student.{gone}"
    )


def shell_user_id_invalid(typed: str) -> str:
    return (
        f"--user takes a Discord account id (15 to 22 digits), not {_printable(typed, 40)!r}: in Discord, "
        "with Developer Mode on, right-click the student and Copy User ID."
    )


def link_unknown_account() -> str:
    return "That Discord account is not one this server knows: pick the student's account from the list."


def link_unknown_student(typed: str, course_name: str) -> str:
    return (
        f"No student id {shown(typed, 40)} on the roster of course {_printable(course_name, 50)}, and no claim of it "
        "by someone of the course: check the id against the roster and the claims."
    )


# -- the shell (manage.py) ---------------------------------------------------------------------


def env_course_not_added(name: str) -> str:
    return (
        f"There is no course in the database yet: .env defines course {name!r} (ADMIN_CHANNEL_ID and "
        f"ATTENDANCE_CHANNEL_ID), which the next `{MANAGE} open` (or the bot, when it starts) adds."
    )


def env_course_in_several_servers(name: str, guild_ids: list[int]) -> str:
    servers = ", ".join(str(g) for g in guild_ids)
    return (
        f"Several servers have a course named {name!r} (servers {servers}): set GUILD_ID in .env to the server "
        "of the course .env defines."
    )


def database_made(path: Path, version: int | None) -> str:
    return f"Made a new database at {path} (schema version {version})."


def database_up_to_date(version: int | None) -> str:
    return f"The database is up to date (schema version {version})."


def upgrade_pending(version: int, latest: int) -> str:
    return (
        f"{version}: an upgrade to version {latest} is pending; run `{MANAGE} migrate` (a backup copy is made "
        "first), or start the bot, which upgrades it"
    )


def bad_snowflake(option: str, value: str) -> str:
    mention = re.fullmatch(r"<[#@&!]+([0-9]{15,22})>", value.strip())
    hint = f" (use {mention.group(1)}, without <#...>)" if mention else ""
    return (
        f"{option} must be a numeric Discord id of 15-22 digits such as 123456789012345678, not "
        f"{quoted(value, 40)}{hint}"
    )


def bad_number(option: str, value: str, unit: str) -> str:
    return f"{option} must be a whole number of {unit}, not {quoted(value, 40)}"


def guild_needed() -> str:
    return (
        "--guild is needed: the id of the course's server (Discord: Developer Mode, right-click the server icon, "
        "Copy Server ID), or set GUILD_ID in .env"
    )


SEVERAL_SERVERS_HINT = (
    "Set GUILD_ID (in .env or the environment) to the server meant, or rename one with "
    f"`{MANAGE} course edit NAME --guild ID --name NEW`."
)


def nothing_to_change() -> str:
    return (
        "Nothing to change: give at least one of --name, --admin-channel, --attendance-channel, --display-channel, "
        "--instructor-role, --interval, --code-length, --grace."
    )


def edits_env_course(name: str) -> str:
    return (
        f"course {name!r} is the one .env defines: its name, channels and role follow .env again at the next "
        f"`{MANAGE} open` or start of the bot; change them in .env to keep them."
    )


def course_added_beside_env_course(env_name: str, count: int) -> str:
    return (
        f".env defines course {env_name!r} too (ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID), so there are {count} "
        "courses now: `open`, `export` and `sessions` take --course NAME where several could be meant, and "
        "`close` and `code` act on the one session open."
    )


def env_course_has_these_channels(env_name: str, name: str) -> str:
    return (
        f"These are the channels of course {env_name!r}, which .env defines (ADMIN_CHANNEL_ID and "
        f"ATTENDANCE_CHANNEL_ID): to call that course {name!r}, set COURSE_NAME in .env instead; or give the new "
        "course channels of its own."
    )


def course_add_is_env_course(env_name: str) -> str:
    return (
        f"Course {env_name!r} is the one .env defines (COURSE_NAME, ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID), "
        "added by the bot when it starts: change it in .env, or give the new course another name."
    )


def same_admin_and_attendance_channel() -> str:
    return (
        "the admin channel and the attendance channel are the same channel: instructors then work where students "
        "type /here (the close summary is posted there too); a separate admin channel is usual."
    )


def courses_without_server() -> str:
    return (
        "server -: not known yet; the bot fills it in when it starts (the server of the course's admin channel, "
        "or GUILD_ID)."
    )


def course_added(course: CourseInfo) -> str:
    return (
        f"Added course {course.name!r} in server {course.guild_id}: admin channel {course.admin_channel_id}, "
        f"attendance channel {course.attendance_channel_id}, code shown in {course.display_channel_id}. Open a "
        f"session with `{MANAGE} open{course_argument(course.name)}` or /open_attendance in Discord."
    )


# -- the playground (manage.py playground; attendance_bot/playground.py) --------------------------

PLAYGROUND_TEACHER = "teacher"  # the one name a new person gets Manage Server (instructor) with


def playground_intro(database: Path, files: Path, emulator: str) -> list[str]:
    return [
        "attendance_bot playground: the real bot on a local Discord emulator; you type as its people.",
        f"  emulator: {emulator} (loopback only; no Discord account or network needed)",
        f"  database: {database} (replaced at each start)",
        f"  files the bot attaches (CSV exports, reports) are saved in {files}",
        "  Type `help` for what you can type, `quit` (or Ctrl-D) to stop. The bot starts:",
    ]


def playground_ready() -> str:
    return (
        f"Ready. Try `as {PLAYGROUND_TEACHER}: /open_attendance`, then `as ada: /here CODE` with the code "
        "the code message shows."
    )


def playground_help(usages: list[str]) -> list[str]:
    return [
        "What you can type:",
        "  as NAME: /COMMAND [OPTION:VALUE ...]   run a slash command as NAME, e.g. `as ada: /here 7KQ3`",
        "  as NAME in #CHANNEL: /COMMAND ...      the same in another channel, e.g. `as ada in #general: /here 7KQ3`",
        f"      A person is made on first use: {PLAYGROUND_TEACHER!r} is an instructor (Manage Server), any other",
        "      name a plain member. Instructors type in #instructors, members in #attendance, unless `in` says.",
        '      Options are NAME:VALUE, with quotes around spaces (reason:"was sick"); the first required',
        "      option may be given bare (/here 7KQ3). A file option takes a path (file:roster.csv).",
        "  code                                   the code message as it is now (its rotations are not printed)",
        "  show #CHANNEL                          a channel's last messages as they are now",
        "  people                                 who is in the server, and where each types by default",
        "  help                                   this list",
        "  quit                                   stop the bot and leave (Ctrl-D too)",
        "The bot's slash commands:",
        *(f"  {usage}" for usage in usages),
    ]


def playground_unknown_input(text: str) -> str:
    return f"Cannot read {quoted(text, 40)}: type `as NAME: /COMMAND`, or `help` for what you can type."


def playground_needs_person(command: str) -> str:
    return (
        f"Who types {quoted(command, 40)}? Start the line with `as NAME:`, e.g. "
        f"`as {PLAYGROUND_TEACHER}: /open_attendance` or `as ada: /here 7KQ3`."
    )


def playground_bad_name(name: str) -> str:
    return (
        f"{quoted(name, 40)} cannot be a Discord username: 2-32 lower-case letters, digits, '_' and '.', "
        "e.g. ada or grace_h."
    )


def playground_unknown_command(name: str, known: list[str]) -> str:
    return f"The bot has no command /{shown(name, 40)}; it has {', '.join('/' + k for k in known)}."


def playground_needs_subcommand(command: str, subcommands: list[str]) -> str:
    return f"/{command} needs one of: {', '.join(subcommands)} (e.g. /{command} {subcommands[0]} ...)."


def playground_unknown_option(command: str, option: str, options: list[str]) -> str:
    has = f"its options are {', '.join(options)}" if options else "it takes no options"
    return f"/{command} has no option {shown(option, 40)}: {has}."


def playground_extra_value(command: str, value: str, options: list[str]) -> str:
    has = f"name the option, one of {', '.join(options)}, as NAME:VALUE" if options else "it takes no options"
    return f"/{command}: {quoted(value, 40)} is not for any option: {has}."


def playground_option_twice(command: str, option: str) -> str:
    return f"/{command}: option {option} is given twice; give it once."


def playground_missing_options(command: str, missing: list[str]) -> str:
    return f"/{command} needs {', '.join(m + ':…' for m in missing)}: Discord's client does not send it without."


def playground_bad_value(option: str, value: str, expected: str) -> str:
    return f"{option}: {quoted(value, 40)} is not {expected}."


def playground_unknown_channel(name: str, channels: list[str]) -> str:
    return f"There is no channel #{shown(name, 40)}; the server has {', '.join('#' + c for c in channels)}."


def playground_unreadable_file(path: str, reason: str) -> str:
    return f"Cannot attach {quoted(path, 80)}: {reason}."


def playground_quotes(text: str) -> str:
    return f"Unbalanced quotes in {quoted(text, 60)}: close each \" or '."


def playground_joined(name: str, instructor: bool) -> str:
    what = "an instructor (Manage Server)" if instructor else "a member"
    return f"{name} joins the server as {what}."


def playground_person(name: str, instructor: bool, channel: str) -> str:
    what = "instructor" if instructor else "member"
    return f"  {name:<20} {what:<11} types in #{channel}"


def playground_no_reply(command: str, seconds: float) -> str:
    return f"The bot did not answer /{command} within {seconds:.0f} s."


def playground_no_code_message() -> str:
    return f"No code message yet: `as {PLAYGROUND_TEACHER}: /open_attendance` opens a session, which posts one."


def playground_empty_channel(channel: str) -> str:
    return f"#{channel} has no messages yet."


def playground_saved_file(name: str, size: int, path: Path) -> str:
    return f"📎 {name} ({size} bytes) saved as {path}"


def playground_stopped(database: Path) -> str:
    return (
        f"Playground closed: the bot stopped. The database stays at {database}: "
        f"`DATABASE_PATH={shlex.quote(str(database))} {MANAGE} sessions` (or `export`) reads it."
    )


def playground_bot_failed(error: object) -> str:
    return f"The bot stopped on its own ({error}); the playground ends."


# -- start-up failures (one line each) ---------------------------------------------------------


def admin_channel_not_visible(channel_id: int | None) -> str:
    return (
        f"The bot cannot see ADMIN_CHANNEL_ID {channel_id} (403 Missing Access): invite it to the "
        "server with the bot and applications.commands scopes and let it view that channel."
    )


def admin_channel_missing(channel_id: int | None) -> str:
    return f"ADMIN_CHANNEL_ID {channel_id} does not exist: copy the id again."


def admin_channel_not_in_a_server(channel_id: int | None) -> str:
    return f"ADMIN_CHANNEL_ID {channel_id} is not a server channel."


def env_course_refused(name: str, error: Exception) -> str:
    return f"The course {name!r} that ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID define cannot be set up: {error}"


def token_refused() -> str:
    return "Discord refused the token: copy DISCORD_BOT_TOKEN again from the portal."


def discord_unreachable(api_base: str, reason: str) -> str:
    return (
        f"Cannot reach Discord at {api_base} ({reason}): check the "
        "network connection, and DISCORD_API_BASE if it is set (unset, the bot uses discord.com)."
    )


def stopped_during_startup() -> str:
    return "Stopped (Ctrl-C or SIGTERM) during start-up, before the bot was connected to Discord."


# -- roster ------------------------------------------------------------------------------------
# A course's roster from the LMS (attendance_bot/roster.py, `manage.py roster`). Every refusal of
# a roster file is one sentence; `line` counts from 1, the header being line 1.


def roster_too_large(limit_mb: int) -> str:
    return f"The roster file is larger than {limit_mb} MB: export only the student id, name and Discord columns."


def roster_not_text(kind: str) -> str:
    return f"The roster file is {kind}, not a CSV file: save the roster as CSV (UTF-8) and import that."


def roster_not_utf8(line: int) -> str:
    return (
        f"Line {line} of the roster file is not UTF-8 text: save it as CSV UTF-8 (Excel: 'CSV UTF-8') and import again."
    )


def roster_empty() -> str:
    return "The roster file is empty: it needs a header line `student_id,name` (and optionally `discord`)."


def roster_no_students() -> str:
    return "The roster file has a header but no students: nothing was imported."


_ROSTER_COLUMNS_EXAMPLE = 'student_id="ID number",name="First name+Last name"'
_ROSTER_COLUMNS_SHOWN = 20  # a gradebook export can have hundreds of columns


def _roster_columns_option(from_discord: bool) -> str:
    """How the columns are named where the file came from: `/course roster`'s option or manage.py's."""
    return "columns:" if from_discord else "--columns "


def _roster_columns_found(found: list[str]) -> str:
    """A header's cells, each quoted and separated by ` | ` (trailing empty cells left out)."""
    cells = list(found)
    while cells and not cells[-1].strip():
        cells.pop()
    listed = " | ".join('"' + shown(cell.strip(), 40).replace('"', "'") + '"' for cell in cells[:_ROSTER_COLUMNS_SHOWN])
    more = len(cells) - _ROSTER_COLUMNS_SHOWN
    return (listed + (f" | … and {more} more" if more > 0 else "")) or "none"


def roster_missing_columns(missing: list[str], found: list[str], *, from_discord: bool = False) -> str:
    return (
        f"Line 1 of the roster file lacks the column(s) {', '.join(missing)}; the columns found: "
        f"{_roster_columns_found(found)}. Expected a header naming student_id and name (and optionally discord), "
        "or a Moodle export (ID number, First name, Last name), a Canvas gradebook (Student, ID, SIS User ID) or "
        "a Google Classroom export (Last Name, First Name, Email Address); for other columns say which to use: "
        f"{_roster_columns_option(from_discord)}{_ROSTER_COLUMNS_EXAMPLE}."
    )


def roster_no_such_column(key: str, column: str, found: list[str], *, from_discord: bool = False) -> str:
    return (
        f'Line 1 of the roster file has no column "{shown(column, 40)}" (given for {key}); the columns found: '
        f"{_roster_columns_found(found)}. Name each column as the header writes it, e.g. "
        f"{_roster_columns_option(from_discord)}{_ROSTER_COLUMNS_EXAMPLE}."
    )


def roster_bad_columns(typed: str, *, from_discord: bool = False) -> str:
    option = _roster_columns_option(from_discord).strip()
    return (
        f'{option} {quoted(typed, 100)} is not KEY="Column" pairs separated by commas (the keys student_id, name '
        f"and discord, each at most once): e.g. {_roster_columns_option(from_discord)}{_ROSTER_COLUMNS_EXAMPLE} "
        '(name="A+B" joins two columns with a space).'
    )


def roster_empty_student_id(line: int, column: str, *, from_discord: bool = False) -> str:
    return (
        f'Line {line} of the roster file has no student id (its "{shown(column, 40)}" cell is empty): fill it in '
        "the LMS and export again, or name the column that holds the ids: "
        f'{_roster_columns_option(from_discord)}student_id="COLUMN".'
    )


def roster_duplicate_column(name: str) -> str:
    return f"Line 1 of the roster file names the column {name} twice: keep one."


def roster_bad_csv(line: int, reason: str) -> str:
    return f"Line {line} of the roster file is not valid CSV ({reason}): check its quotes."


def roster_too_many_rows(limit: int) -> str:
    return f"The roster file has more than {limit:,} students: split it by course."


def roster_extra_cells(line: int, cells: int, columns: int) -> str:
    return f"Line {line} of the roster file has {cells} cells but the header names {columns} columns: check its quotes."


def roster_bad_student_id(line: int, typed: str, limit: int) -> str:
    return (
        f"Line {line} of the roster file: the student id {quoted(typed)} is not 1-{limit} letters, digits, "
        "'-', '_' or '.'."
    )


def roster_bad_name(line: int, limit: int) -> str:
    return (
        f"Line {line} of the roster file: the name must be 1-{limit} characters, with no line breaks or "
        "control characters."
    )


def roster_bad_discord(line: int, typed: str) -> str:
    return (
        f"Line {line} of the roster file: the Discord username {quoted(typed)} is not 2-32 lowercase letters, "
        "digits, '_' or '.' (leave the cell empty if unknown)."
    )


def roster_duplicate_student(first: int, second: int, student_id: str) -> str:
    return f"Lines {first} and {second} of the roster file both list the student id {quoted(student_id)}: keep one."


def roster_unreadable(path: str, reason: str) -> str:
    return f"Cannot read the roster file {quoted(path, 200)}: {reason}"


def roster_imported(course_name: str, added: int, updated: int, unchanged: int, removed: int, unmatched: int) -> str:
    return (
        f"Roster of {course_name!r}: {added} added, {updated} updated, {unchanged} unchanged, {removed} removed; "
        f"{unmatched} not linked to a Discord account yet."
    )


def roster_is_empty(course_name: str) -> str:
    return (
        f"The roster of {course_name!r} is empty: import the LMS's CSV with "
        f"`{MANAGE} roster import FILE{course_argument(course_name)}`."
    )


# -- /course roster -----------------------------------------------------------------------------
# The roster file attached to `/course roster` in Discord (attendance_bot/bot/cogs/courses.py); its refusals
# and its report are the roster section's sentences above.


def roster_download_failed() -> str:
    return "Could not download the roster file from Discord; nothing was imported. Attach it again and retry."


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


# -- corrections (attendance_bot/corrections.py; `/attendance mark|remove|history`, `manage.py history|mark`) --


def _printable(text: str, limit: int = 200) -> str:
    """Stored text for one line of a terminal or a reply: no control, format or surrogate
    characters (no escape sequences, no reordering), whitespace made single spaces, short."""
    cleaned = " ".join("".join(ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C").split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def status_invalid(typed: str, statuses: tuple[str, ...]) -> str:
    return f"A status is one of {', '.join(statuses)}, not {shown(typed)}."


def reason_too_long(limit: int, length: int) -> str:
    return f"A reason is at most {limit} characters; this one has {length:,}: shorten it."


def student_label(
    student_id: str | None, name: str | None, username: str | None, user_id: int | None, on_roster: bool
) -> str:
    """A student in an autocomplete list: `S123 · Ada Lovelace · @ada`, or the account alone."""
    parts = [part for part in (student_id, name, f"@{username}" if username else None) if part]
    if not parts:
        parts = [f"account {user_id}"]
    return " · ".join(parts) + ("" if on_roster else " (not on the roster)")


def student_who(student: StudentRef) -> str:
    """A student in a sentence: `S123 (Ada Lovelace)`, `@ada`, or `account 123...`."""
    if student.student_id:
        name = f" ({shown(student.name, 60)})" if student.name else ""
        return f"{shown(student.student_id, 40)}{name}"
    if student.username:
        return shown(f"@{student.username}", 40)
    return f"account {student.user_id}"


def student_unknown(typed: str, course_name: str | None) -> str:
    where = f"course {course_name!r}" if course_name else "this server's courses"
    if not typed.strip():
        return "Say which student: a student id, a Discord username, id or mention, or pick one from the list."
    return (
        f"No student {shown(typed)} in {where}: type a student id, a Discord username, id or mention, "
        "or pick one from the list."
    )


def plain_label(text: str) -> str:
    """Text for a pick-list label: no control, format or surrogate characters, whitespace made single spaces."""
    return " ".join("".join(ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C").split())


def _fit(text: str, limit: int = MAX_CHOICE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def student_choice_label(student: StudentRef) -> str:
    """A student as an autocomplete choice reads it: student_label of its plain parts, at most 100 characters."""
    label = student_label(
        student.student_id and plain_label(student.student_id),
        student.name and plain_label(student.name),
        student.username and plain_label(student.username),
        student.user_id,
        student.on_roster,
    )
    return _fit(plain_label(label))


def session_choice_label(session: SessionBrief, tz: tzinfo) -> str:
    """A session as an autocomplete choice reads it (opened in `tz`), at most 100 characters."""
    return _fit(plain_label(session_label(session.session_id, session.opened_at.astimezone(tz), session.is_open)))


def student_ambiguous_among(typed: str, choices: list[StudentRef]) -> str:
    """student_ambiguous with the students as their pick-list labels."""
    return student_ambiguous(typed, [student_choice_label(student) for student in choices])


def student_ambiguous(typed: str, labels: list[str]) -> str:
    listed = "; ".join(shown(label, 100) for label in labels[:5]) + ("; …" if len(labels) > 5 else "")
    return f"{shown(typed)} could be {len(labels)} students ({listed}): pick one from the list or type the student id."


def session_label(session_id: str, opened: datetime, is_open: bool) -> str:
    """A session in an autocomplete list; `opened` is already in TIMEZONE."""
    return f"{session_id} · {opened:%a %d %b %Y %H:%M} · {'open' if is_open else 'closed'}"


def no_sessions_to_correct(course_name: str) -> str:
    return f"Course {course_name!r} has no sessions yet: there is nothing to correct."


def no_record_of_student(student: StudentRef, session_id: str) -> str:
    return no_record_to_remove(student_who(student), session_id)


def no_record_to_remove(who: str, session_id: str) -> str:
    return f"{who} has no record in session {session_id}: nothing to remove."


def _because(reason: str | None) -> str:
    return f" (reason: {shown(reason, 200)})" if reason else ""


def marked_reply(correction: Correction) -> str:
    """What an instructor reads after `/attendance mark` or `manage.py mark`."""
    who = student_who(correction.student)
    if not correction.changed:
        return (
            f"{who} is already marked {correction.new_status} by an instructor in session {correction.session_id}: "
            "nothing changed."
        )
    was = correction.old_status or "no record"
    closed = " (closed)" if correction.session_closed else ""
    return (
        f"✅ {who}: {was} → {correction.new_status} in session {correction.session_id}{closed}"
        f"{_because(correction.reason)}. A later check-in will not change it."
    )


def removed_reply(correction: Correction) -> str:
    """What an instructor reads after `/attendance remove`."""
    who = student_who(correction.student)
    return (
        f"✅ {who}: the record in session {correction.session_id} ({correction.old_status}) is removed"
        f"{_because(correction.reason)}."
    )


def history_empty(who: str) -> str:
    return f"No events for {who} yet."


def history_line(event: HistoryEvent, tz: tzinfo) -> str:
    """One event of a student's history: when (TIMEZONE), course, session, action, old → new,
    reason, actor, source."""
    when = event.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    course = _printable(event.course_name or "-", 50)
    change = f"{event.old_status or '-'} → {event.new_status or '-'}"
    reason = f"reason: {_printable(event.reason)!r}" if event.reason else "no reason"
    return (
        f"{when}  {course}  {_printable(event.session_id or '-', 40)}  {_printable(event.action, 20)}  {change}  "
        f"{reason}  by {_printable(event.actor, 60)} ({_printable(event.source, 20)})"
    )


def shell_student_unknown(typed: str, course_name: str | None) -> str:
    """`manage.py history`: nobody of the courses looked in answers to what was typed."""
    where = f"course {_printable(course_name, 50)!r}" if course_name else "any course"
    if not typed.strip():
        return "Say which student with --student: a student id, a Discord username (@name), account id or full name."
    return (
        f"No student {_printable(typed, 60)!r} in {where} (its rosters "
        "and the accounts with check-ins): give a student id, a Discord username (@name), a Discord account id "
        f"or a full name; `{MANAGE} roster list --course NAME` shows a roster."
    )


def shell_student_ambiguous(typed: str, labels: list[str]) -> str:
    listed = "; ".join(_printable(label, 100) for label in labels[:5]) + ("; …" if len(labels) > 5 else "")
    return f"{_printable(typed, 60)!r} could be {len(labels)} students ({listed}): give the student id instead."


# -- the Check in button and code_in_channel (bot/cogs/checkin.py, bot/rotation.py, the course setting) --


def check_in_button_label() -> str:
    """The button on the code message."""
    return "Check in"


def check_in_modal_title(session_id: str) -> str:
    """The title of the form the button opens (Discord allows 45 characters)."""
    return f"Check in: session {session_id}"[:45]


def check_in_field_label() -> str:
    """The form's one field (Discord allows 45 characters)."""
    return "The code on the screen"


def check_in_field_placeholder(example: str) -> str:
    return f"e.g. {example}"


def code_not_in_channel() -> str:
    """How a course list says the code message shows no code."""
    return "code only on the projector"


def code_in_channel_column(shown: bool) -> str:
    """The `courses` listing's column: where the code is shown."""
    return "channel" if shown else "projector"


def bad_switch(option: str, value: str) -> str:
    return f"{option} takes yes or no, not {shown(value)!r}."


# -- the record's Discord commands (bot/cogs/records.py, bot/cogs/students.py) ------------------------

# Each status's mark in `/my_attendance` (its word is the Status itself).
_STATUS_MARK = {Status.PRESENT: "✅", Status.LATE: "🕒", Status.EXCUSED: "🟦", Status.ABSENT: "❌"}


def _statuses_or() -> str:
    """Every status in order: `present, late, excused or absent`."""
    words = [status.value for status in Status]
    return f"{', '.join(words[:-1])} or {words[-1]}"


def report_reply(
    course_name: str, students: int, sessions: int, *, pages: int = 1, per_page: int = 0, attached: int = 1
) -> str:
    """What `/attendance report` says above its attachments: the CSV and `attached` of the heat
    map's `pages` (a large course's pages past what one message takes are named, with where to get them)."""
    text = (
        f"Attendance report of {course_name}: {students} student{'s' if students != 1 else ''}, "
        f"{sessions} session{'s' if sessions != 1 else ''}. The CSV has each student's totals "
        "(rate = (present + late) / (sessions − excused)); "
    )
    if pages == 1:
        return text + "the PNG shows every session."
    text += f"the heat map comes in {pages} pages of {per_page} students."
    if attached < pages:
        left = f"page {pages}" if attached + 1 == pages else f"pages {attached + 1}-{pages}"
        text += (
            f" Discord takes {attached + 1} files in a message: {left} are not attached; every student is in "
            "the CSV, and `python manage.py report` on the bot's computer writes every page."
        )
    return text


def report_page_title(title: str, page: int, pages: int, first: int, last: int) -> str:
    """A heat map page's title: the course's title, then which students and which page."""
    return f"{title}, students {first}-{last}, page {page} of {pages}"


def history_truncated(more: int, filename: str) -> str:
    return f"… and {more} more line{'s' if more != 1 else ''}: the whole history is in {filename}."


def my_attendance_lines(courses: list[StudentAttendance], tz: tzinfo, pending_claim: str | None = None) -> list[str]:
    """What `/my_attendance` shows: per course, each session's status, then the totals and rate; first
    a line saying the account's claim of `pending_claim` waits for an instructor, if it does."""
    lines: list[str] = [claim_pending_line(pending_claim)] if pending_claim else []
    if not courses:
        return [
            *lines,
            "You have no attendance record in this server's courses yet: check in with `/here` during a "
            "session, and `/register` your student id so your instructor can find you.",
        ]
    for course in courses:
        totals = course.totals
        rate = f"{totals.rate * 100:.1f} %" if totals.rate is not None else "no rate yet"
        lines.append(
            f"**{course.course_name}**: {', '.join(f'{totals.count(s)} {s.value}' for s in Status)} "
            f"of {totals.sessions} session{'s' if totals.sessions != 1 else ''} "
            f"(attendance rate {rate})"
        )
        for one in course.sessions:
            when = one.session.opened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            status = one.status or "open, not checked in yet"
            lines.append(f"{_STATUS_MARK.get(one.status or '', '⏳')} {when} ({one.session.session_id}): {status}")
    return lines


# -- reports and export formats (attendance_bot/report.py, export.py, gradebook.py) --------------

NOT_ON_ROSTER = "not on the roster"


def not_on_roster_name(name: str) -> str:
    """The report CSV's `name` of a student not on the roster (its header is fixed: the cell says so)."""
    return f"{name} ({NOT_ON_ROSTER})" if name else f"({NOT_ON_ROSTER})"


def not_on_roster_label(label: str) -> str:
    """A heat map row's label for a student not on the roster."""
    return f"{label} ({NOT_ON_ROSTER})"


def report_title(course_name: str, students: int, sessions: int) -> str:
    return (
        f"Attendance of {course_name}: {students} student{'s' if students != 1 else ''} × "
        f"{sessions} session{'s' if sessions != 1 else ''}"
    )


def report_legend() -> dict[str, str]:
    """The heat map legend's words for each status, and for a blank cell."""
    return {
        **{status.value: status.value for status in Status},
        "blank": "no status (open session, or not on the roster)",
    }


def report_nothing_yet() -> str:
    return "No students or no sessions yet: the report fills in as sessions are held."


def report_written(csv_path: str, png_paths: list[str], students: int, sessions: int) -> str:
    """`manage.py report`'s last line: the CSV and every page of the heat map."""
    pictures = png_paths[0] if len(png_paths) == 1 else f"{len(png_paths)} pages: {', '.join(png_paths)}"
    return (
        f"Wrote the report of {students} student{'s' if students != 1 else ''} × {sessions} "
        f"session{'s' if sessions != 1 else ''}: {csv_path} and {pictures}"
    )


def report_queued_reply(course_name: str, ahead: int) -> str:
    """A `/attendance report` that waits for the reports before it (one is made at a time)."""
    return (
        f"Reports are made one at a time: the report of {course_name} is queued behind {ahead} other"
        f"{'s' if ahead != 1 else ''}. It will appear here when made."
    )


def report_queue_full(waiting: int) -> str:
    return f"{waiting} reports are waiting to be made already: ask again in a minute. Nothing was changed."


def report_stopping_reply() -> str:
    """A report asked for, or being made, while the bot stops."""
    return "The bot is stopping, so this report was not made: ask again when it is back."


def report_failed_reply() -> str:
    """The report's worker process ended without a report (its error is in the bot's log)."""
    return "The report could not be made (the reason is in the bot's log). Nothing was changed: try again."


def report_needs_matplotlib() -> str:
    return "The report's heat map needs matplotlib: install it with `pip install -r requirements.txt`."


def session_without_course(session_id: str) -> str:
    return (
        f"Session {session_id} belongs to no course (it is older than courses), and the full and gradebook "
        "formats read a course's roster: export it with --format records."
    )


def report_output_not_a_folder(path: str) -> str:
    return f"--output {path} is not a folder: name the folder to write the report's files in."


def export_format_reply(count: int, session_id: str | None, fmt: str) -> str:
    """What `/export_csv format:full|gradebook` says above its file (`records` keeps export_reply)."""
    scope = f"session {session_id}" if session_id else "all sessions"
    if fmt == "gradebook":
        return f"Gradebook export for {scope}: {count} roster student{'s' if count != 1 else ''}."
    return f"Full attendance export for {scope}: {count} row{'s' if count != 1 else ''}, absences included."


def export_written(count: int, target: str, fmt: str) -> str:
    """`manage.py export --output FILE`'s line on stderr."""
    if fmt == "gradebook":
        return f"Wrote {count} roster student(s) to {target}"
    if fmt == "full":
        return f"Wrote {count} row(s), absences included, to {target}"
    return f"Wrote {count} record(s) to {target}"


# -- speed-ups (UVLOOP, ORJSON; attendance_bot/speedups.py) ---------------------------------------


def speedup_in_use(module: str, version: str, what: str) -> str:
    """`manage.py run`'s line for a speed-up switched on (the benchmark looks for it)."""
    return f"Using {module} {version} for {what}"


def speedup_missing(name: str, module: str, python: str) -> str:
    """The settings warning when UVLOOP=on or ORJSON=on names a package not installed for `python`."""
    return f"{name}=on but {module} is not installed for {python}: `pip install {module}`; running without it"


# -- the projector page (attendance_bot/web/, `/projector`, `manage.py projector`) ------------------


def opened_with_projector(session_id: str, channel_id: int | None, late_after: int | None, url: str) -> str:
    """`/open_attendance`'s private reply when the bot serves the projector page: with the session's link."""
    return f"{opened_reply(session_id, channel_id, late_after)}\n{projector_link_line(url)}"


def projector_link_line(url: str) -> str:
    return (
        f"Projector page: {url} (show it on the room's screen; anyone with the link sees the code, "
        "so keep it out of chats: `/projector new_link:True` replaces it)"
    )


def projector_reply(session_id: str, course: str, url: str, new: bool) -> str:
    """`/projector`'s private reply: the open session's link (a new one, the old dead, with new_link)."""
    if new:
        return f"New projector link for session {session_id} of {course!r}: {url}\nThe old link no longer works."
    return f"Projector page of session {session_id} of {course!r}: {url}"


def projector_shell_line(session_id: str, course: str, url: str, new: bool) -> str:
    """`manage.py projector`'s line: the link last, alone after the colon, for copying."""
    made = "new projector link (the old one no longer works)" if new else "projector page"
    return f"Session {session_id} of {course!r}, {made}: {url}"


def projector_page_off() -> str:
    return (
        "The projector page is off: WEB_PORT is 0 in this bot's settings. Set WEB_PORT (default 8765) and restart "
        f"the bot; `{MANAGE} code --watch` shows the code on this machine's screen meanwhile."
    )


def web_serving(bind: str, port: int, public_url: str) -> str:
    """The bot's log line once the page listens."""
    return f"Projector pages and /healthz on {bind}:{port}; links name {public_url}"


def web_port_in_use(bind: str, port: int, reason: str) -> str:
    """The one warning when the page cannot listen: the bot runs on without it."""
    return (
        f"The projector page is off for this run: cannot listen on {bind}:{port} ({reason}). Set WEB_PORT to a free "
        "port (each bot process on a machine needs its own), or 0 to turn the page off; the bot runs on without it"
    )


def health_text(database_up: bool, discord_up: bool) -> str:
    """`GET /healthz`'s body: ok, or what is down."""
    down = [name for name, up in (("database", database_up), ("discord", discord_up)) if not up]
    return "ok" if not down else f"down: {', '.join(down)}"


def page_not_found() -> str:
    """The body of every 404 of the page's server: an unknown link, a dead one (closed or replaced), anything else."""
    return "Not found. A projector link works only while its session is open; ask the instructor for the current one."


@dataclass(frozen=True)
class PageText:
    """The words of the projector page (the page draws the code, countdown and count around them)."""

    title: str
    how: str
    next_code: str
    checked_in: str
    session: str
    closed: str
    reconnecting: str
    dead: str


def page_text(course: str, session_id: str) -> PageText:
    return PageText(
        title=f"Attendance: {course}",
        how="Check in: type /here and this code in Discord",
        next_code="next code in",
        checked_in="checked in",
        session=f"Session {session_id}",
        closed="Attendance is closed.",
        reconnecting="Reconnecting…",
        dead="This projector link no longer works.",
    )


def watch_status(seconds_left: int, count: int) -> str:
    """`code --watch`'s line under the code: the countdown and the count (the page shows the same two)."""
    return f"changes in {seconds_left:>3} s · {count} checked in"


def web_port_malformed(typed: str) -> str:
    return f"WEB_PORT must be a port number from 1 to 65535, or 0 to turn the projector page off, not {typed!r}"


def web_bind_malformed(typed: str, default: str) -> str:
    return (
        f"WEB_BIND must be an IP address to listen on, such as {default} (this machine only) or 0.0.0.0 (every "
        f"address), not {typed!r}"
    )


def public_url_malformed(typed: str, example: str) -> str:
    return (
        f"PUBLIC_URL must be the http:// or https:// address people open the projector page at, such as "
        f"https://attendance.example.edu or {example}, without user, query or fragment, not {typed!r}"
    )


def web_in_clear_text(bind: str, public_url: str) -> str:
    return (
        f"The projector page is served in clear text beyond this machine (WEB_BIND={bind}, PUBLIC_URL={public_url}): "
        "anyone on the network path can read its link, the key to the code. Put a reverse proxy with HTTPS in "
        "front and set PUBLIC_URL to its https:// address"
    )


# -- settings (settings.py's problems and notices, by kind) ----------------------------------------

_LEGACY_ZONES = {  # TIMEZONE names that work but rarely mean what is wanted: (what it is, what to use)
    "EST": ("fixed UTC−5, no daylight saving", "America/New_York"),
    "MST": ("fixed UTC−7, no daylight saving", "America/Denver (America/Phoenix in Arizona)"),
    "HST": ("fixed UTC−10, no daylight saving", "Pacific/Honolulu"),
    "EST5EDT": ("US rules only, no local history", "America/New_York"),
    "CST6CDT": ("US rules only, no local history", "America/Chicago"),
    "MST7MDT": ("US rules only, no local history", "America/Denver"),
    "PST8PDT": ("US rules only, no local history", "America/Los_Angeles"),
    "CET": ("EU rules only, no local history", "your city's zone, such as Europe/Berlin or Europe/Paris"),
    "MET": ("EU rules only, no local history", "your city's zone, such as Europe/Berlin or Europe/Paris"),
    "EET": ("EU rules only, no local history", "your city's zone, such as Europe/Athens or Europe/Helsinki"),
    "WET": ("EU rules only, no local history", "your city's zone, such as Europe/Lisbon"),
    "US/Eastern": ("an old alias", "America/New_York"),
    "US/Central": ("an old alias", "America/Chicago"),
    "US/Mountain": ("an old alias", "America/Denver"),
    "US/Arizona": ("an old alias", "America/Phoenix"),
    "US/Pacific": ("an old alias", "America/Los_Angeles"),
    "US/Alaska": ("an old alias", "America/Anchorage"),
    "US/Hawaii": ("an old alias", "Pacific/Honolulu"),
}
_PASTED = {"quotes": "quotes", "bot prefix": "a 'Bot ' prefix"}


def setting_missing(name: str, example: str) -> str:
    return f"{name} is missing: set it in .env, for example {name}={example}"


def channel_id_missing(name: str) -> str:
    return (
        f"{name} is missing: set it to the channel's numeric id, for example "
        f"{name}=123456789012345678 (Discord: Developer Mode, right-click, Copy ID)"
    )


def setting_not_a_snowflake(name: str, value: str, inside: str | None) -> str:
    """`inside`: the number inside a pasted mention (`<#123...>`), when it is an id itself."""
    hint = f" (use {inside}, without <#...>)" if inside else ""
    return f"{name} must be a numeric Discord id of 15-22 digits such as 123456789012345678, not {value!r}{hint}"


def token_pasted_with(pasted: list[str]) -> str:
    """`pasted`: what was removed around the token ("quotes", "bot prefix")."""
    what = " and ".join(_PASTED.get(item, item) for item in pasted)
    return (
        f"DISCORD_BOT_TOKEN was pasted with {what}: removed here, as no token contains them; write the bare "
        "token in .env"
    )


def token_has_spaces() -> str:
    return (
        "DISCORD_BOT_TOKEN contains spaces, which a Discord token never does: copy it again from the "
        "Developer Portal (Bot → Reset Token)"
    )


def setting_not_a_whole_number(name: str, unit: str, low: int, high: int, value: str) -> str:
    return f"{name} must be a whole number of {unit} from {low} to {high}, not {value!r}"


def setting_out_of_range(name: str, low: int, high: int, unit: str, number: int) -> str:
    return f"{name} must be from {low} to {high} {unit}, not {number}"


def legacy_zone(name: str) -> str:
    what, instead = _LEGACY_ZONES[name]
    if what.startswith("fixed"):
        return (
            f"TIMEZONE={name} is a legacy zone ({what}): if clocks change in summer where you teach, "
            f"times will be an hour off; use {instead}"
        )
    return f"TIMEZONE={name} is a legacy zone ({what}); use {instead}"


def inverted_zone(name: str, hours: int) -> str:
    """`hours`: the zone's real offset from UTC (Etc/GMT+5 is UTC-5: the sign of these names is inverted)."""
    offset = f"UTC{'−' if hours < 0 else '+'}{abs(hours)}"
    return (
        f"TIMEZONE={name} means {offset} (the sign of these names is inverted), fixed, no daylight saving; "
        "use your city's zone, such as America/New_York or Asia/Kolkata"
    )


def api_base_malformed(api_base: str, default: str) -> str:
    return f"DISCORD_API_BASE must be an http(s) URL such as {default}, not {api_base!r}"


def api_base_in_clear_text(api_base: str) -> str:
    return (
        "DISCORD_API_BASE may use http:// only on this machine (127.0.0.1, ::1, localhost): anywhere else the "
        f"token would cross the network in clear text; use https://, not {api_base!r}"
    )


def admin_role_is_everyone() -> str:
    return (
        "ADMIN_ROLE_ID is the server's own id, which Discord uses for the @everyone role: every member would be "
        "an instructor. Set it to the instructors' role (Server Settings → Roles → right-click → Copy Role ID), "
        "or leave it unset"
    )


def channel_pair_incomplete(missing: str) -> str:
    return (
        f"{missing} is missing: ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID define a course together; set both "
        f"to the channels' numeric ids (for example {missing}=123456789012345678), or neither and set courses "
        "up with /course create"
    )


def env_course_name_too_long(length: int) -> str:
    return f"COURSE_NAME must be 1-50 characters, not {length}"


def admin_channel_is_attendance_channel() -> str:
    return (
        "ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID are the same channel: instructors then work where students "
        "type /here (the close summary is posted there too); a separate admin channel is usual"
    )


def timezone_unknown(name: str) -> str:
    return f"TIMEZONE must be an IANA time zone name such as UTC or Europe/Berlin, not {name!r}"


def database_path_is_folder(typed: str) -> str:
    return f"DATABASE_PATH must name a file, but {typed!r} is a folder"


def database_path_is_a_url(shown: str, default: str) -> str:
    return (
        f"DATABASE_PATH is a file's path, not a URL ({shown}): write the path alone, as in "
        f"DATABASE_PATH={default}, or give the URL as DATABASE_URL"
    )


def database_path_ignored() -> str:
    return "DATABASE_PATH is ignored: DATABASE_URL is set and wins"


def database_url_unreadable(shown: str, example: str) -> str:
    return (
        f"DATABASE_URL {shown} cannot be read as a URL such as {example}: its port is not a "
        "number, or its password holds / ? # : or @ as they are; write those percent-encoded (%2F %3F %23 %3A %40)"
    )


def database_url_bad_port(example: str) -> str:
    return f"DATABASE_URL is not a URL such as {example} (its port is not a number)"


def database_url_sqlite_without_path(example: str) -> str:
    return f"DATABASE_URL sqlite:/// must be followed by the file's path, as in {example}"


def database_url_bad_scheme(scheme: str, example: str) -> str:
    return f"DATABASE_URL must start with postgresql:// or sqlite:///, as in {example}, not {scheme or 'nothing'}://"


def database_url_incomplete(shown: str, example: str) -> str:
    return f"DATABASE_URL must name the server and the database, as in {example}: {shown} does not"


def shard_ids_without_count() -> str:
    return "SHARD_IDS needs SHARD_COUNT (the number of shards in all), for example SHARD_COUNT=2"


def shard_ids_malformed(highest: int, typed: str) -> str:
    return (
        f"SHARD_IDS must list shard numbers from 0 to {highest} separated by commas, for example "
        f"SHARD_IDS=0,1, not {typed!r}"
    )


def shard_ids_twice(typed: str) -> str:
    return f"SHARD_IDS lists a shard twice: {typed!r}"


def switch_malformed(name: str, typed: str | None) -> str:
    return f"{name} must be on or off, not {typed!r}"


# -- voice presence (voice_channel, voice_rule; attendance_bot/presence.py, voice.py, bot/cogs/voice.py) --


def not_in_voice_reply(channel_id: int | None) -> str:
    """A right code from a student who is not in the course's voice channel (voice_rule required)."""
    return (
        f"🔊 Your code is right, but this class checks in from its voice channel: join <#{channel_id}>, "
        "then send `/here` again with the code on screen."
    )


def voice_part(channel_id: int | None, rule: str | None) -> str:
    """A course's voice setting in its list line: nothing without a voice channel."""
    if channel_id is None:
        return ""
    return f", voice <#{channel_id}> ({rule or VoiceRule.RECORDED})"


def course_setting_not_a_choice(key: str, value: object, choices: tuple[str, ...]) -> str:
    return f"{key} must be one of {', '.join(choices)}, not {shown(str(value))}."


def voice_rule_without_channel(rule: str) -> str:
    return (
        f"voice_rule {rule} needs a voice channel: set voice_channel (a voice or stage channel of this server) "
        "in the same change or before."
    )


def course_clear_and_set(option: str) -> str:
    return f"{option} was both given and cleared: leave out one of the two."


def voice_channel_elsewhere(channel_id: int) -> str:
    return f"Channel {channel_id} is not a channel of this server: pick this server's voice or stage channel."


def voice_channel_not_voice(channel_id: int) -> str:
    return f"<#{channel_id}> is not a voice or stage channel: pick the voice or stage channel the class meets in."


# -- shards (SHARD_COUNT, SHARD_IDS; bot/app.py) --------------------------------------------------


def shards_refused(code: int, shard_count: int | None, shard_ids: tuple[int, ...] | None) -> str:
    """The start-up line when Discord closes the gateway over the shards: 4010 (invalid shard) or 4011
    (sharding required: more shards than asked for)."""
    running = f"shard(s) {','.join(map(str, shard_ids))} of " if shard_ids is not None else ""
    asked = f"{running}SHARD_COUNT={shard_count}" if shard_count is not None else "one connection without SHARD_COUNT"
    if code == 4011:
        return (
            f"Discord refused {asked} (gateway close 4011, sharding required): set SHARD_COUNT to the count "
            "Discord recommends (`shards` in GET /gateway/bot), the same in every process."
        )
    return (
        f"Discord refused {asked} as an invalid shard (gateway close {code}): SHARD_IDS must list shards "
        "below SHARD_COUNT, for example SHARD_COUNT=2 with SHARD_IDS=0 in one process and SHARD_IDS=1 in another."
    )


# -- moving a database (manage.py copy-db; attendance_bot/copydb.py) and check on PostgreSQL -------


def copy_target_not_empty(held: dict[str, int]) -> str:
    rows = ", ".join(f"{table} {count}" for table, count in held.items())
    return (
        f"The target database already holds rows ({rows}): copy into an empty database, or add --force to "
        "empty its tables first (in the same transaction as the copy)."
    )


def copy_counts_differ(table: str, expected: int, found: int) -> str:
    return (
        f"The copy of table {table} holds {found} row(s) instead of the source's {expected}: nothing was written "
        "to the target."
    )


def copy_same_database(shown: str) -> str:
    return f"--to {shown} is the configured database itself: name another database to copy it into."


def copy_bad_target(problem: str) -> str:
    return f"--to: {problem}"


def copy_source_not_latest(shown: str, version: int | None, latest: int) -> str:
    if version is None:
        return f"The configured database {shown} is empty (no tables): there is nothing to copy."
    return (
        f"The configured database {shown} has schema version {version}, not the latest ({latest}): run "
        f"`{MANAGE} migrate` first, then copy it."
    )


def copy_failed(table: str, error: object) -> str:
    return f"Copying table {table} failed ({error}); nothing was written to the target."


def copied_table(table: str, rows: int) -> str:
    return f"  {table + ':':<18} {rows} row(s), as in the source"


def copy_done(rows: int, source: str, target: str) -> str:
    return f"Copied {rows} row(s) from {source} to {target}; the row counts match table by table."


def postgres_database_ok(shown: str, state: str) -> str:
    return f"Database OK: {shown} ({state})"


def postgres_empty_schema() -> str:
    return f"none yet: the tables are made when the bot starts, or by `{MANAGE} migrate`"
