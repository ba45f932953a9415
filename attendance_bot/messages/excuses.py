"""Excuse requests: /excuse's replies and pick-list, the request as the admin channel shows it, its
buttons, the decision, and the notes telling the student the outcome."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from ..records import Decision
from .corrections import _fit, plain_label, session_label
from .text import shown

if TYPE_CHECKING:
    from ..records import ExcuseInfo, SessionStatus


# -- /excuse ---------------------------------------------------------------------------------------


def excuse_session_choice_label(course_name: str, one: SessionStatus, tz: tzinfo) -> str:
    """One of the student's sessions in /excuse's pick-list, at most 100 characters."""
    opened = one.session.opened_at.astimezone(tz)
    status = one.status or "no status yet"
    return _fit(
        plain_label(f"{course_name} · {session_label(one.session.session_id, opened, one.session.is_open)} · {status}")
    )


def excuse_requested_reply(info: ExcuseInfo, tz: tzinfo, posted: bool) -> str:
    when = info.session_opened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    said = (
        "Your instructors will decide; you will see the outcome in the reply to your next command (or by direct "
        "message if you turned them on with `/notify on`)."
        if posted
        else "It is recorded, but the course's admin channel could not be reached just now: tell your instructor."
    )
    course = shown(info.course_name, 50)
    return f"📝 Your request to be excused from {course} on {when} ({info.session_id}) is sent. {said}"


def excuse_reason_needed() -> str:
    return "Give a reason (up to 200 characters) for your instructors to decide on. Only text: attach no documents."


def excuse_session_not_yours(session_id: str) -> str:
    return (
        f"{shown(session_id, 40)} is none of your sessions in this server's courses: pick one of yours from the list."
    )


def excuse_already_excused(session_id: str) -> str:
    return f"You are excused from session {shown(session_id, 40)} already."


def excuse_already_asked(session_id: str, decision: str | None) -> str:
    state = "waits for your instructors" if decision is None else f"was {decision}"
    return f"You asked to be excused from session {shown(session_id, 40)} already; that request {state}."


# -- the admin channel ------------------------------------------------------------------------------


def excuse_request_text(info: ExcuseInfo, tz: tzinfo) -> str:
    """The request as the course's admin channel shows it (with Approve and Deny under it)."""
    when = info.session_opened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    who = shown(info.student_id, 40) + " · " if info.student_id else ""
    status = info.status or "no record"
    return (
        f"📝 **Excuse request** #{info.id} for **{shown(info.course_name, 50)}**, session {info.session_id} ({when})\n"
        f"From {who}@{shown(info.username, 40)} (<@{info.user_id}>), now {status}\n"
        f"Reason: {shown(info.reason, 200)}"
    )


def excuse_decided_text(info: ExcuseInfo, tz: tzinfo) -> str:
    """The request once decided: the buttons are gone and it says by whom."""
    decision = (info.decision or "?").capitalize()
    return f"{excuse_request_text(info, tz)}\n**{decision}** by {shown(info.decided_by or '?', 60)}"


def excuse_approve_label() -> str:
    return "Approve"


def excuse_deny_label() -> str:
    return "Deny"


def excuse_unknown() -> str:
    return "This excuse request is not one of this server's courses' (or no longer exists)."


def excuse_already_decided(decision: str | None, by: str | None) -> str:
    return f"This request was {decision or 'decided'} already, by {shown(by or '?', 60)}."


def excuse_decided_reply(info: ExcuseInfo) -> str:
    """The instructor's private confirmation."""
    if info.decision == Decision.APPROVED:
        return f"✅ Approved: {shown(info.username, 40)} is now excused from session {info.session_id}."
    return f"❌ Denied: {shown(info.username, 40)}'s record of session {info.session_id} stays as it is."


# -- notes for the student (kinds of errors.Notice) -------------------------------------------------


def excuse_approved_notice(course_name: str, session_id: str) -> str:
    return f"✅ Your request to be excused from **{shown(course_name, 50)}** session {session_id} was approved."


def excuse_denied_notice(course_name: str, session_id: str) -> str:
    return (
        f"❌ Your request to be excused from **{shown(course_name, 50)}** session {session_id} was denied; "
        "your record stays as it was. Ask your instructor if you need to know why."
    )
