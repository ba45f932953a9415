"""Low-attendance warnings: the admin channel's digest, the notes a student is shown once, /notify."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .corrections import plain_label, student_label
from .text import shown

if TYPE_CHECKING:
    from ..records import GradebookStudent, WarningDigest


# -- the digest (attendance_bot/warnings.py, bot/notices.py) -------------------------------------


def _warned(student: GradebookStudent) -> str:
    parts = (
        student.student_id and plain_label(student.student_id),
        student.name and plain_label(student.name),
        student.username and plain_label(student.username),
    )
    return shown(student_label(*parts, student.user_id, student.on_roster), 100)


def _rate(value: object) -> str:
    return "no rate" if value is None else f"{float(value) * 100:.1f} %"  # type: ignore[arg-type]


def warning_digest_lines(digest: WarningDigest) -> list[str]:
    """The admin channel's digest after a session closed: who crossed the warning line (each once)."""
    lines = [f"⚠️ **{shown(digest.course_name, 50)}**, after session {digest.session_id}: attendance warnings"]
    if digest.below:
        lines.append(f"Now below {digest.warn_below} %:")
        lines.extend(f"• {_warned(w.student)}: {_rate(w.rate)}" for w in digest.below)
    if digest.unreachable:
        left = digest.remaining if digest.remaining is not None else 0
        lines.append(
            f"Can no longer reach {digest.warn_below} % by the end of the timetable "
            f"({left} session{'s' if left != 1 else ''} left):"
        )
        lines.extend(f"• {_warned(w.student)}: {_rate(w.rate)}, at best {_rate(w.best)}" for w in digest.unreachable)
    lines.append("Each student is named once, when they cross; students who turned on /notify get a direct message.")
    return lines


# -- notes for a student (kinds of errors.Notice, stored until shown) -------------------------------


def below_line_notice(course_name: str, line: int, rate: str | None) -> str:
    return (
        f"⚠️ Your attendance in **{shown(course_name, 50)}** is {rate or '?'} %, below the course's line of "
        f"{line} %. Talk to your instructor if something keeps you away; `/excuse` asks to be excused from a session."
    )


def line_out_of_reach_notice(course_name: str, line: int, rate: str | None, best: str | None) -> str:
    return (
        f"⚠️ Your attendance in **{shown(course_name, 50)}** is {rate or '?'} %: even attending every session left "
        f"it can reach only {best or '?'} %, below the course's line of {line} %. Talk to your instructor."
    )


def with_notes(reply: str, notes: Sequence[str]) -> str:
    """A reply with the notes that waited for the student (each already said) after it."""
    return "\n".join([reply, *notes]) if notes else reply


def direct_message_text(notes: Sequence[str]) -> str:
    """A direct message: the notes (each already said), and how to stop them."""
    return "\n".join([*notes, "(You turned these messages on with `/notify on`; `/notify off` stops them.)"])


# -- /notify ---------------------------------------------------------------------------------------


def notify_reply(on: bool) -> str:
    if on:
        return (
            "🔔 Direct messages on: the bot will tell you of attendance warnings and of your excuse requests' outcomes "
            "by direct message (at most one a day). If your privacy settings refuse messages from this server's "
            "members, you will see them in the reply to your next command instead."
        )
    return "🔕 Direct messages off: you will see warnings and outcomes in the reply to your next command."


def notify_choice_invalid(typed: str) -> str:
    return f"/notify takes `on` or `off`, not {shown(typed)}: nothing changed."
