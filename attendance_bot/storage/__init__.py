"""Every write to the database, and the `/here` hot path's reads: rows named by field, SQL prepared once.

Peewee builds each query's SQL in Python on every call; for a whole class checking in at once
that was most of the database thread's time (see the benchmark in docs/DEVELOPMENT.md). The hot path's
statements are therefore prepared once, derived from the models (a renamed table or column
follows) and from the row types: a row's fields are the statement's columns, in the same order, so
a row and its statement cannot disagree. The SQLite-specific parts (the IMMEDIATE transaction, the
statements' variable limit) live in `base`.

One module per concern, and every name here, so callers write `storage.x`:

- `base`: the statements' helpers, failures, transactions and the ping;
- `sessions`: courses, students, events and sessions, and the open sessions as the hot path reads them;
- `checkins`: the `/here` batch's reads and writes;
- `presence`: projector links and voice spans;
- `records`: the export, roster entries, corrections, seed imports and copied tables;
- `schedule`: timetables, skipped dates and the runs that claim a meeting.
- `notices`: warning states, digests' claims, notes for students, direct messages, excuse requests.
"""

from __future__ import annotations

from .base import (
    MAX_VARIABLES,
    SQLITE_HAS_RETURNING,
    drop_broken_connection,
    failure,
    immediate,
    lock_for_opening,
    ping,
    stored_time,
)
from .checkins import (
    CHECK_IN_ACTIONS,
    AttendanceRow,
    EventRow,
    Held,
    WrongAttemptRow,
    delete_wrong_attempts,
    insert_events,
    insert_wrong_attempts,
    last_check_ins,
    prune_wrong_attempts,
    recent_wrong_and_present,
    records_held,
    same_minute,
    upsert_attendance,
)
from .notices import (
    NoticeRow,
    Standing,
    add_excuse_request,
    add_notice,
    claim_digest,
    claim_direct_message,
    decide_excuse,
    direct_messages,
    excuse_request,
    excuse_request_of,
    mark_shown,
    note_refusal,
    notices_by_id,
    record_excuse_message,
    save_standing,
    set_direct_messages,
    standings,
    unshown_notices,
)
from .presence import (
    SpanRow,
    close_session_spans,
    close_spans,
    insert_spans,
    linked_session,
    open_spans,
    projector_nonce,
    save_projector_link,
    spans_of,
)
from .records import (
    EXPORTED_STATUSES,
    advance_id_sequences,
    delete_records,
    delete_roster_entries,
    empty_tables,
    export_slices,
    insert_copied_rows,
    insert_manual_record,
    insert_seed_events,
    insert_seed_records,
    insert_seed_registrations,
    insert_seed_sessions,
    update_record,
    upsert_roster_entries,
)
from .schedule import add_entry, add_skip, claim_run, finish_run, remove_entry, remove_skip
from .sessions import (
    OpenSession,
    add_event,
    attendance_channels,
    create_course,
    create_session,
    delete_student,
    find_open_session,
    mark_closed,
    open_sessions,
    record_message,
    save_student,
    update_course,
)

__all__ = [
    "CHECK_IN_ACTIONS",
    "EXPORTED_STATUSES",
    "MAX_VARIABLES",
    "SQLITE_HAS_RETURNING",
    "AttendanceRow",
    "EventRow",
    "Held",
    "NoticeRow",
    "OpenSession",
    "SpanRow",
    "Standing",
    "WrongAttemptRow",
    "add_entry",
    "add_event",
    "add_excuse_request",
    "add_notice",
    "add_skip",
    "advance_id_sequences",
    "attendance_channels",
    "claim_digest",
    "claim_direct_message",
    "claim_run",
    "close_session_spans",
    "close_spans",
    "create_course",
    "create_session",
    "decide_excuse",
    "delete_records",
    "delete_roster_entries",
    "delete_student",
    "delete_wrong_attempts",
    "direct_messages",
    "drop_broken_connection",
    "empty_tables",
    "excuse_request",
    "excuse_request_of",
    "export_slices",
    "failure",
    "find_open_session",
    "finish_run",
    "immediate",
    "insert_copied_rows",
    "insert_events",
    "insert_manual_record",
    "insert_seed_events",
    "insert_seed_records",
    "insert_seed_registrations",
    "insert_seed_sessions",
    "insert_spans",
    "insert_wrong_attempts",
    "last_check_ins",
    "linked_session",
    "lock_for_opening",
    "mark_closed",
    "mark_shown",
    "note_refusal",
    "notices_by_id",
    "open_sessions",
    "open_spans",
    "ping",
    "projector_nonce",
    "prune_wrong_attempts",
    "recent_wrong_and_present",
    "record_excuse_message",
    "record_message",
    "records_held",
    "remove_entry",
    "remove_skip",
    "same_minute",
    "save_projector_link",
    "save_standing",
    "save_student",
    "set_direct_messages",
    "spans_of",
    "standings",
    "stored_time",
    "unshown_notices",
    "update_course",
    "update_record",
    "upsert_attendance",
    "upsert_roster_entries",
]
