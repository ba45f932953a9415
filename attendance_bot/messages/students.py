"""Students: registration, claims and links."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .corrections import _printable
from .text import MANAGE, shown

if TYPE_CHECKING:
    pass


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
