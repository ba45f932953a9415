"""The presence tables: projector links (attendance_bot/projector.py) and voice spans (attendance_bot/voice.py)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from ..models import ProjectorLink, Session, VoiceSpan
from .base import MAX_VARIABLES, _chunks, _col, _columns, _run, _table, _values, _write_rows

# -- projector links ------------------------------------------------------------------------


def projector_nonce(session_id: str) -> str | None:
    """The nonce of a session's projector link, or None when it has none yet."""
    row = ProjectorLink.get_or_none(ProjectorLink.session_id == session_id)
    return None if row is None else str(row.nonce)


def save_projector_link(session_id: str, *, nonce: str, token_hash: str, at: datetime, replace: bool) -> None:
    """Give a session its projector link: a first one, or (replace) a new one in place of the old,
    which no longer opens anything. Without replace, a link another process made meanwhile stays."""
    insert = ProjectorLink.insert(session_id=session_id, nonce=nonce, token_hash=token_hash, made_at=at)
    if replace:
        insert = insert.on_conflict(
            conflict_target=[ProjectorLink.session_id],
            update={ProjectorLink.nonce: nonce, ProjectorLink.token_hash: token_hash, ProjectorLink.made_at: at},
        )
    else:
        insert = insert.on_conflict_ignore()
    insert.execute()


_LINKED_SESSION = (
    f"SELECT s.{_col(Session, 'session_id')} FROM {_table(ProjectorLink)} AS p "
    f"JOIN {_table(Session)} AS s ON s.{_col(Session, 'session_id')} = p.{_col(ProjectorLink, 'session_id')} "
    f"WHERE p.{_col(ProjectorLink, 'token_hash')} = ?"
)
_LINKED_OPEN_SESSION = f"{_LINKED_SESSION} AND s.{_col(Session, 'open_flag')} = 1"


def linked_session(token_hash: str, *, open_only: bool) -> str | None:
    """The session a link's token hash opens (with open_only, only while it is open), or None: one
    indexed read, the same for every token that opens nothing."""
    found = _run(_LINKED_OPEN_SESSION if open_only else _LINKED_SESSION, (token_hash,)).fetchone()
    return None if found is None else str(found[0])


# -- voice spans (attendance_bot/voice.py) ------------------------------------------------------


class SpanRow(NamedTuple):
    """A stretch of time in a session's voice channel as written; field names are VoiceSpan's columns."""

    session_id: str
    user_id: int
    channel_id: int
    joined_at: str  # as stored: stored_time(an aware datetime)
    left_at: str | None


def open_spans(session_ids: Sequence[str]) -> dict[tuple[str, int], tuple[int, datetime]]:
    """The spans still open (no leave yet) of these sessions: (session, account) -> (the span's id, its start)."""
    if not session_ids:
        return {}
    query = VoiceSpan.select(VoiceSpan.id, VoiceSpan.session_id, VoiceSpan.user_id, VoiceSpan.joined_at).where(
        VoiceSpan.session_id.in_(list(session_ids)) & VoiceSpan.left_at.is_null()
    )
    return {(session_id, user_id): (span_id, joined) for span_id, session_id, user_id, joined in query.tuples()}


def insert_spans(rows: Sequence[SpanRow]) -> None:
    """Write new spans, as few multi-row statements as the variable limit allows."""
    _write_rows(_insert_spans, len(SpanRow._fields), rows)


@functools.cache
def _insert_spans(rows: int) -> str:
    return (
        f"INSERT INTO {_table(VoiceSpan)} ({_columns(VoiceSpan, SpanRow)}) VALUES {_values(len(SpanRow._fields), rows)}"
    )


def close_spans(left: dict[int, datetime]) -> None:
    """End spans (by id) at the times given: one statement per distinct time."""
    by_time: dict[datetime, list[int]] = {}
    for span_id, at in left.items():
        by_time.setdefault(at, []).append(span_id)
    for at, ids in by_time.items():
        for chunk in _chunks(ids, MAX_VARIABLES - 1):
            VoiceSpan.update(left_at=at).where(VoiceSpan.id.in_(chunk) & VoiceSpan.left_at.is_null()).execute()


def close_session_spans(session_id: str, at: datetime) -> None:
    """End every span of a session still open (the session closes: nothing is logged after it)."""
    VoiceSpan.update(left_at=at).where((VoiceSpan.session_id == session_id) & VoiceSpan.left_at.is_null()).execute()


def spans_of(session_ids: Sequence[str]) -> list[tuple[str, int, datetime, datetime | None]]:
    """Every span of these sessions: (session, account, joined, left or None)."""
    found: list[tuple[str, int, datetime, datetime | None]] = []
    for chunk in _chunks(list(session_ids), MAX_VARIABLES):
        query = VoiceSpan.select(VoiceSpan.session_id, VoiceSpan.user_id, VoiceSpan.joined_at, VoiceSpan.left_at).where(
            VoiceSpan.session_id.in_(chunk)
        )
        found.extend(query.tuples())
    return found
