"""Warnings and excuse requests: where students stand against their course's warning line, the
digests' claims, the notes waiting for a student, direct-message settings, excuse requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from ..models import Digest, DirectMessages, ExcuseRequest, StudentNotice, WarningState
from .base import MAX_VARIABLES, _chunks, _col, _run, _table, stored_time

# -- warning states and digests -------------------------------------------------------------------


_CLAIM_DIGEST = (
    f"INSERT INTO {_table(Digest)} ({_col(Digest, 'session_id')}, {_col(Digest, 'course_id')}, "
    f"{_col(Digest, 'claimed_at')}) VALUES (?, ?, ?) ON CONFLICT ({_col(Digest, 'session_id')}) DO NOTHING"
)


def claim_digest(session_id: str, course_id: int, at: datetime) -> bool:
    """Claim the digest of a closed session for this process: True for the one claim that lands
    (the unique session id decides between processes, whatever their timing)."""
    return bool(_run(_CLAIM_DIGEST, (session_id, course_id, stored_time(at))).rowcount == 1)


class Standing(NamedTuple):
    """Where a student stood at the last digest: below the line, unable to reach it."""

    below: bool
    unreachable: bool


def standings(course_id: int) -> dict[str, Standing]:
    """Every student of a course with a warning state: identity -> standing."""
    query = WarningState.select(WarningState.student, WarningState.below, WarningState.unreachable).where(
        WarningState.course_id == course_id
    )
    return {student: Standing(bool(below), bool(unreachable)) for student, below, unreachable in query.tuples()}


def save_standing(course_id: int, student: str, user_id: int | None, standing: Standing, at: datetime) -> None:
    """Set a student's standing (an upsert on the course and student)."""
    WarningState.insert(
        course_id=course_id,
        student=student,
        user_id=user_id,
        below=standing.below,
        unreachable=standing.unreachable,
        changed_at=at,
    ).on_conflict(
        conflict_target=[WarningState.course_id, WarningState.student],
        update={
            WarningState.below: standing.below,
            WarningState.unreachable: standing.unreachable,
            WarningState.user_id: user_id,
            WarningState.changed_at: at,
        },
    ).execute()


# -- notes for students ---------------------------------------------------------------------------


class NoticeRow(NamedTuple):
    """A note waiting for a student: its id, server, account, course, kind and values (JSON)."""

    id: int
    guild_id: int | None
    user_id: int
    course_id: int | None
    kind: str
    detail: str


def add_notice(
    *, guild_id: int | None, user_id: int, course_id: int | None, kind: str, detail: str, at: datetime
) -> int:
    """Leave a note for a student; its id."""
    return int(
        StudentNotice.insert(
            guild_id=guild_id, user_id=user_id, course_id=course_id, kind=kind, detail=detail, created_at=at
        ).execute()
    )


_UNSHOWN = (
    f"SELECT {_col(StudentNotice, 'id')}, {_col(StudentNotice, 'guild_id')}, {_col(StudentNotice, 'user_id')}, "
    f"{_col(StudentNotice, 'course_id')}, {_col(StudentNotice, 'kind')}, {_col(StudentNotice, 'detail')} "
    f"FROM {_table(StudentNotice)} WHERE {_col(StudentNotice, 'shown_at')} IS NULL "
    f"AND {_col(StudentNotice, 'user_id')} IN "
)


def unshown_notices(guild_id: int | None, user_ids: Sequence[int]) -> dict[int, list[NoticeRow]]:
    """The notes not shown yet of these accounts in a server, oldest first, by account: one indexed
    read for a whole batch of check-ins (the hot path's only read here)."""
    found: dict[int, list[NoticeRow]] = {}
    for chunk in _chunks(sorted(set(user_ids)), MAX_VARIABLES - 1):
        sql = _UNSHOWN + f"({', '.join('?' * len(chunk))})"
        params: list[object] = list(chunk)
        if guild_id is not None:
            sql += f" AND {_col(StudentNotice, 'guild_id')} = ?"
            params.append(guild_id)
        for row in _run(sql + f" ORDER BY {_col(StudentNotice, 'id')}", params).fetchall():
            notice = NoticeRow(*row)
            found.setdefault(notice.user_id, []).append(notice)
    return found


def notices_by_id(ids: Sequence[int], *, waiting: bool = False) -> list[NoticeRow]:
    """Notes by id, oldest first (with waiting=True only those not shown yet)."""
    query = StudentNotice.select(
        StudentNotice.id,
        StudentNotice.guild_id,
        StudentNotice.user_id,
        StudentNotice.course_id,
        StudentNotice.kind,
        StudentNotice.detail,
    ).where(StudentNotice.id.in_(list(ids)))
    if waiting:
        query = query.where(StudentNotice.shown_at.is_null())
    return [NoticeRow(*row) for row in query.order_by(StudentNotice.id).tuples()]


def mark_shown(ids: Sequence[int], at: datetime) -> list[int]:
    """Mark notes shown (those not shown already); the ids this call marked (another process may have
    shown some meanwhile)."""
    marked: list[int] = []
    for chunk in _chunks(sorted(set(ids)), MAX_VARIABLES - 1):
        waiting = [
            i
            for (i,) in StudentNotice.select(StudentNotice.id)
            .where(StudentNotice.id.in_(chunk) & StudentNotice.shown_at.is_null())
            .tuples()
        ]
        if waiting:
            StudentNotice.update(shown_at=at).where(
                StudentNotice.id.in_(waiting) & StudentNotice.shown_at.is_null()
            ).execute()
            marked.extend(waiting)
    return marked


# -- direct messages ------------------------------------------------------------------------------


def direct_messages(user_id: int) -> DirectMessages | None:
    """An account's direct-message setting, or None when it never used /notify."""
    return DirectMessages.get_or_none(DirectMessages.user_id == user_id)


def set_direct_messages(user_id: int, enabled: bool, at: datetime) -> None:
    """Turn an account's direct messages on or off; turning them on forgets an earlier refusal."""
    update: dict[Any, object] = {DirectMessages.enabled: enabled, DirectMessages.changed_at: at}
    if enabled:
        update[DirectMessages.refused_at] = None
    DirectMessages.insert(user_id=user_id, enabled=enabled, changed_at=at).on_conflict(
        conflict_target=[DirectMessages.user_id], update=update
    ).execute()


def claim_direct_message(user_id: int, at: datetime, since: datetime) -> bool:
    """Take today's direct message of an account: True when its messages are on, not refused, and
    none was sent since `since` (one conditional update: two processes cannot both take it)."""
    last = DirectMessages.last_sent_at
    changed = (
        DirectMessages.update(last_sent_at=at)
        .where(
            (DirectMessages.user_id == user_id)
            & (DirectMessages.enabled == True)  # noqa: E712
            & DirectMessages.refused_at.is_null()
            & (last.is_null() | (last < since))
        )
        .execute()
    )
    return bool(changed)


def note_refusal(user_id: int, at: datetime) -> None:
    """Discord refused a direct message to the account (50007): noted, and none is tried again."""
    DirectMessages.update(refused_at=at).where(DirectMessages.user_id == user_id).execute()


# -- excuse requests ------------------------------------------------------------------------------


def excuse_request(request_id: int) -> ExcuseRequest | None:
    return ExcuseRequest.get_or_none(ExcuseRequest.id == request_id)


def excuse_request_of(session_id: str, user_id: int) -> ExcuseRequest | None:
    return ExcuseRequest.get_or_none((ExcuseRequest.session_id == session_id) & (ExcuseRequest.user_id == user_id))


def add_excuse_request(**fields: Any) -> ExcuseRequest:
    """A new request (IntegrityError if the student asked about that session already)."""
    return ExcuseRequest.create(**fields)


def record_excuse_message(request_id: int, channel_id: int, message_id: int) -> None:
    """Remember where a request was posted for the instructors."""
    ExcuseRequest.update(channel_id=channel_id, message_id=message_id).where(ExcuseRequest.id == request_id).execute()


def decide_excuse(request_id: int, decision: str, by: str, at: datetime) -> bool:
    """Record the decision on a waiting request: True for the one decision that lands (two
    instructors pressing at once: the other finds it decided)."""
    changed = (
        ExcuseRequest.update(decision=decision, decided_by=by, decided_at=at)
        .where((ExcuseRequest.id == request_id) & ExcuseRequest.decision.is_null())
        .execute()
    )
    return bool(changed)


__all__ = [
    "NoticeRow",
    "Standing",
    "add_excuse_request",
    "add_notice",
    "claim_digest",
    "claim_direct_message",
    "decide_excuse",
    "direct_messages",
    "excuse_request",
    "excuse_request_of",
    "mark_shown",
    "note_refusal",
    "notices_by_id",
    "record_excuse_message",
    "save_standing",
    "set_direct_messages",
    "standings",
    "unshown_notices",
]
