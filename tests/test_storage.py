"""Storage: the seed's table, last submission wins, one open session, file mode, WAL, concurrency."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _backends import columns, connect, fetch, integrity_errors, placeholders
from _workers import first_user

from attendance_bot import messages
from attendance_bot.attendance import AttendanceService
from attendance_bot.errors import SessionAlreadyOpen, StorageError
from attendance_bot.models import close_db, init_db
from attendance_bot.records import Outcome
from attendance_bot.settings import Settings

if TYPE_CHECKING:
    from conftest import FakeClock

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.backends("sqlite", "postgresql")


def rows(db: Path | str, sql: str = "SELECT user_id, username, timestamp, date_id, session_id FROM attendance") -> list:
    """Read the database with a separate plain connection (sqlite3 or psycopg): what another process would see."""
    return fetch(db, sql)


def right_code(service: AttendanceService) -> str:
    return service.current_code().code


def test_attendance_table_keeps_the_seed_columns_first(service: AttendanceService, db: Path | str) -> None:
    """Table `attendance` starts with the seed's columns, in the seed's order."""
    assert columns(db, "attendance")[:6] == ["id", "user_id", "username", "timestamp", "date_id", "session_id"]


def test_user_and_session_are_unique_in_the_database(service: AttendanceService, db: Path | str) -> None:
    """The database itself refuses a second row for the same student and session."""
    insert = (
        "INSERT INTO attendance (user_id, username, timestamp, date_id, session_id, submitted_at)"
        " VALUES (?, ?, ?, ?, ?, ?)"
    )
    values = (1, "a", "2024-09-02 09:00:00", "2024-09-02", "S", "2024-09-02 09:00:00.000000")
    with connect(db) as conn:
        conn.execute(placeholders(db, insert), values)
        with pytest.raises(integrity_errors()):
            conn.execute(placeholders(db, insert), values)


def test_last_submission_wins(service: AttendanceService, clock: FakeClock, db: Path) -> None:
    """A second submission replaces the first one's username and time; there is still one row."""
    session = service.open_session()
    first = service.submit(user_id=42, username="alice", code=right_code(service))
    clock.advance(65)
    second = service.submit(user_id=42, username="alice_renamed", code=right_code(service))
    assert (first.outcome, second.outcome) == (Outcome.RECORDED, Outcome.UPDATED)
    assert rows(db) == [(42, "alice_renamed", "2024-09-02 09:01:05", "2024-09-02", session.session_id)]


def test_same_student_in_two_sessions_has_two_rows(service: AttendanceService, clock: FakeClock, db: Path) -> None:
    """Uniqueness is per student per session, not per student."""
    ids = []
    for _ in range(2):
        ids.append(service.open_session().session_id)
        assert service.submit(user_id=7, username="bob", code=right_code(service)).outcome is Outcome.RECORDED
        service.close_session()
        clock.advance(3600)
    assert sorted(r[4] for r in rows(db)) == sorted(ids)
    assert [s.count for s in service.sessions()] == [1, 1]


def test_two_sessions_opened_in_the_same_second_get_different_ids(service: AttendanceService) -> None:
    """Open, close and open again at the very same instant: two distinct session ids."""
    ids = set()
    for _ in range(20):
        ids.add(service.open_session().session_id)
        service.close_session()
    assert len(ids) == 20
    assert len(service.sessions()) == 20


def test_only_one_session_is_open_at_a_time(service: AttendanceService, clock: FakeClock) -> None:
    """Opening while one is open fails with SessionAlreadyOpen naming the open session."""
    session = service.open_session(opened_by="prof")
    clock.advance(600)
    with pytest.raises(SessionAlreadyOpen) as caught:
        service.open_session(opened_by="ta")
    assert caught.value.session_id == session.session_id
    assert session.session_id in str(caught.value)
    assert [s.session.session_id for s in service.sessions()] == [session.session_id]


def test_one_open_session_is_kept_by_the_database(service: AttendanceService, db: Path | str) -> None:
    """Even a writer that skips the service cannot store a second open session."""
    service.open_session()
    with connect(db) as conn, pytest.raises(integrity_errors()):
        conn.execute(
            "INSERT INTO session (session_id, secret, interval, code_length, grace_seconds, opened_at, open_flag)"
            " VALUES ('X', 'S', 15, 4, 15, '2024-09-02 09:00:00.000000', 1)"
        )


@pytest.mark.sqlite_only("the SQLite file's mode and folder")
def test_database_file_is_private_and_only_its_default_folder_is_made(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    """init_db makes a file only its owner can read (0600); a missing folder is an error naming it,
    unless it is the default data/ folder (make_folder), which is made 0700."""
    path = tmp_path / "deep" / "er" / "attendance.db"
    settings = settings_factory(DATABASE_PATH=str(path))
    with pytest.raises(StorageError) as caught:
        init_db(settings.database_path)
    assert str(caught.value) == messages.database_folder_missing(path)
    assert not (tmp_path / "deep").exists()
    path = tmp_path / "fresh" / "attendance.db"
    old = os.umask(0o022)
    try:
        init_db(path, make_folder=True)
    finally:
        os.umask(old)
        close_db()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_readable_database_is_made_private(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A database another tool made with mode 0644 (as the seed bot did) is tightened to 0600, with a warning."""
    path = tmp_path / "attendance.db"
    old = os.umask(0o022)
    try:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("CREATE TABLE keep (x)")
            conn.execute("INSERT INTO keep VALUES (42)")
            conn.commit()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    with caplog.at_level(logging.WARNING, logger="attendance_bot.models"):
        try:
            init_db(path)
        finally:
            close_db()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert rows(path, "SELECT x FROM keep") == [(42,)]
    assert [r.getMessage() for r in caplog.records] == [
        f"{path} was readable by other users (mode 0644); it is now 0600"
    ]


@pytest.mark.sqlite_only("SQLite's -wal and -shm files")
def test_wal_side_files_are_private_too(service: AttendanceService, db: Path) -> None:
    """The -wal and -shm files (which hold recent records and secrets) are 0600 as well."""
    service.open_session()
    service.submit(user_id=1, username="a", code=right_code(service))
    side = [db.with_name(db.name + suffix) for suffix in ("-wal", "-shm")]
    assert [stat.S_IMODE(p.stat().st_mode) for p in side] == [0o600, 0o600]


@pytest.mark.sqlite_only("SQLite's journal mode")
def test_database_uses_wal(db: Path) -> None:
    """The file is in WAL mode, so readers do not block the bot's writes."""
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]


def test_read_only_open_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    """init_db(create=False) on a missing file says so and does not invent an empty database."""
    path = tmp_path / "missing" / "attendance.db"
    with pytest.raises(StorageError) as caught:
        init_db(path, create=False)
    assert str(caught.value) == messages.no_database_at(path)
    assert not path.parent.exists()


def test_a_database_that_cannot_be_created_says_what_to_do(tmp_path: Path) -> None:
    """A DATABASE_PATH in a folder that cannot hold it names the path once and says to choose another."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    path = blocker / "attendance.db"
    with pytest.raises(StorageError) as caught:
        init_db(path)
    message = str(caught.value)
    assert message.count(str(path)) == 1
    assert "cannot create a file there" in message and "choose a writable folder" in message


def test_records_survive_a_restart(service: AttendanceService, settings: Settings, clock: FakeClock) -> None:
    """A new process (re-init, new service) sees the sessions and records of the old one."""
    session = service.open_session()
    service.submit(user_id=1, username="a", code=right_code(service))
    close_db()
    init_db(settings.database_target)
    again = AttendanceService(settings, clock)
    assert again.open_session_info() == session
    assert again.current_code().code == right_code(service)
    assert [(s.session.session_id, s.count) for s in again.sessions()] == [(session.session_id, 1)]


WORKERS, PER_WORKER, RESUBMIT = 4, 750, 100


def test_concurrent_processes_lose_and_duplicate_nothing(
    service: AttendanceService, clock: FakeClock, db: Path, tmp_path: Path
) -> None:
    """4 processes submit 3,400 codes at once to one database: each acknowledged student is there exactly once."""
    session = service.open_session()
    instant = clock.advance(5)  # same window: every worker computes the same code itself
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(REPO / "tests" / "_workers.py"),
                str(db),
                str(w),
                str(PER_WORKER),
                str(RESUBMIT),
                repr(instant.timestamp()),
                str(go),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for w in range(WORKERS)
    ]
    go.touch()
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))

    assert {r["code"] for r in reports} == {right_code(service)}
    assert [r["errors"] for r in reports] == [[]] * WORKERS
    acknowledged = {u for r in reports for u in r["recorded"]}
    assert len(acknowledged) == WORKERS * PER_WORKER
    assert sum(len(r["updated"]) for r in reports) == WORKERS * RESUBMIT

    stored = rows(db, "SELECT user_id, username, session_id FROM attendance")
    user_ids = [u for u, _, _ in stored]
    assert len(stored) == len(set(user_ids)) == WORKERS * PER_WORKER
    assert set(user_ids) == acknowledged
    assert {s for _, _, s in stored} == {session.session_id}
    names = dict((u, n) for u, n, _ in stored)
    for w in range(WORKERS):
        base = first_user(w)
        assert names[base] == f"student-{w}-0-again"
        assert names[base + RESUBMIT] == f"student-{w}-{RESUBMIT}"
    assert service.close_session().count == WORKERS * PER_WORKER


@pytest.mark.sqlite_only("a database file made by an older release")
def test_the_pre_course_fixture_database_reads_with_this_code(
    tmp_path: Path, settings_factory: Callable[..., Settings]
) -> None:
    """tests/fixtures/attendance-v1.db (made by the release before courses) opens, with every row there."""
    copy = tmp_path / "attendance.db"
    copy.write_bytes((Path(__file__).parent / "fixtures" / "attendance-v1.db").read_bytes())
    settings = settings_factory(DATABASE_PATH=str(copy))
    init_db(copy, create=False)
    try:
        service = AttendanceService(settings)
        summaries = service.sessions()
        assert [s.count for s in summaries] == [5, 6, 7]
        assert [s.session.is_open for s in summaries] == [False, False, True]
        assert len(service.export_rows()) == 18
    finally:
        close_db()
    with closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM wrong_attempt").fetchone() == (2,)
