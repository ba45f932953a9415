"""Upgrading a database in place: the fixture made by the release before courses, migrated by
playhouse.migrations' runner; nothing lost, a backup first, and the same schema as a new database."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from attendance_bot import backups, codes, messages, migrations
from attendance_bot.attendance import AttendanceService
from attendance_bot.errors import StorageError
from attendance_bot.migrations import CourseDefaults
from attendance_bot.models import MODELS, close_db, database, init_db
from attendance_bot.settings import Settings

FIXTURE = Path(__file__).parent / "fixtures" / "attendance-v1.db"
# Made by the release at version 3 (d9e24d2): a course, a closed and an open session, records, a
# registration with its event, two roster entries; no student_key, user_id NOT NULL.
FIXTURE_V3 = Path(__file__).parent / "fixtures" / "attendance-v3.db"
GUILD = 111111111111111111  # the server the fixture's sessions remember
V1_TABLES = ("session", "attendance", "wrong_attempt")


def table_rows(path: Path, table: str, columns: str = "*") -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"SELECT {columns} FROM {table} ORDER BY id").fetchall()


def v1_columns(path: Path, table: str) -> list[str]:
    with closing(sqlite3.connect(FIXTURE)) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


@pytest.fixture
def old_copy(tmp_path: Path) -> Path:
    """A copy of the fixture (the fixture itself is never written)."""
    copy = tmp_path / "attendance.db"
    copy.write_bytes(FIXTURE.read_bytes())
    return copy


def test_an_old_database_upgrades_on_open_with_every_row_kept(old_copy: Path) -> None:
    """Every session, record and wrong attempt survives, column for column, and every session joins
    the default course, placed in the server the sessions remember and on .env's channels."""
    before = {table: table_rows(FIXTURE, table, ", ".join(v1_columns(FIXTURE, table))) for table in V1_TABLES}
    init_db(old_copy, defaults=CourseDefaults(admin_channel_id=5 * 10**17, attendance_channel_id=6 * 10**17))
    close_db()
    for table in V1_TABLES:
        assert table_rows(old_copy, table, ", ".join(v1_columns(FIXTURE, table))) == before[table]
    courses = table_rows(old_copy, "course", "id, name, guild_id, admin_channel_id, attendance_channel_id")
    assert courses == [(1, "default", GUILD, 5 * 10**17, 6 * 10**17)]
    assert table_rows(old_copy, "session", "course_id, window_offset_ms") == [(1, 0)] * 3


def test_the_upgraded_database_works_as_before(old_copy: Path, settings_factory: Callable[..., Settings]) -> None:
    """After the upgrade the open session still shows the same codes, and its sessions and records read back."""
    with closing(sqlite3.connect(old_copy)) as conn:
        secret, opened = conn.execute("SELECT secret, opened_at FROM session WHERE open_flag = 1").fetchone()
    init_db(old_copy)
    try:
        service = AttendanceService(settings_factory(DATABASE_PATH=str(old_copy)))
        assert [s.count for s in service.sessions()] == [5, 6, 7]
        assert len(service.export_rows()) == 18
        open_now = service.open_session_info()
        assert open_now is not None and open_now.course_name == "default"
        code = service.current_code()
        from attendance_bot import codes  # the code from the secret alone, as before courses

        spec = codes.CodeSpec(secret=secret, interval=open_now.interval, length=open_now.code_length, grace_seconds=0)
        assert code.code == spec.code_at(service.clock().timestamp())
    finally:
        close_db()
    assert opened


def test_a_backup_is_made_first_with_the_old_contents(old_copy: Path) -> None:
    """attendance.db.bak-1 holds the database as it was, made with SQLite's backup API, private."""
    init_db(old_copy)
    close_db()
    backup = Path(f"{old_copy}.bak-1")
    assert backup.exists()
    assert backup.stat().st_mode & 0o777 == 0o600
    for table in V1_TABLES:
        assert table_rows(backup, table) == table_rows(FIXTURE, table)
    with closing(sqlite3.connect(backup)) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "course" not in tables


def test_the_upgrade_reports_what_it_did_and_runs_once(old_copy: Path) -> None:
    """upgrade() says: backup, step, sessions moved; a second run does nothing."""
    database.init(str(old_copy))
    database.connect()
    try:
        assert migrations.schema_version() == 1
        assert migrations.pending() == [
            "0002_courses",
            "0003_gradebook",
            "0004_marks",
            "0005_claims",
            "0006_projector",
            "0007_code_in_channel",
            "0008_voice",
            "0009_schedule",
            "0010_notices",
            "0011_grading",
        ]
        done = [str(notice) for notice in migrations.upgrade(old_copy, CourseDefaults(name="Math 101"))]
        assert done[0] == messages.backup_made(Path(f"{old_copy}.bak-1"))
        assert done[1] == messages.migration_step_done("0002_courses")
        assert "3 earlier session(s) now belong to course 'Math 101'" in done[2]
        assert done[3] == messages.migration_step_done("0003_gradebook")
        assert done[4] == messages.migration_step_done("0004_marks")
        assert done[5:] == [  # no registration to keep
            messages.migration_step_done("0005_claims"),
            messages.migration_step_done("0006_projector"),
            messages.migration_step_done("0007_code_in_channel"),
            messages.migration_step_done("0008_voice"),
            messages.migration_step_done("0009_schedule"),
            messages.migration_step_done("0010_notices"),
            messages.migration_step_done("0011_grading"),
        ]
        assert migrations.schema_version() == migrations.latest() == 11
        assert migrations.upgrade(old_copy) == []
    finally:
        close_db()


def test_an_upgraded_and_a_new_database_have_the_same_schema(old_copy: Path, tmp_path: Path) -> None:
    """Tables, columns and indexes match, and they match the models."""
    init_db(old_copy)
    close_db()
    fresh = tmp_path / "fresh.db"
    init_db(fresh)
    close_db()

    def schema(path: Path) -> list[tuple[str, str]]:
        with closing(sqlite3.connect(path)) as conn:
            return sorted(conn.execute("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))

    assert schema(old_copy) == schema(fresh)
    database.init(str(fresh))
    database.connect()
    try:
        for model in MODELS:
            table = model._meta.table_name
            columns = {c.name for c in database.get_columns(table)}
            assert columns == {f.column_name for f in model._meta.sorted_fields}, table
            indexes = {(tuple(i.columns), i.unique) for i in database.get_indexes(table)}
            for index in model._meta.fields_to_index():
                names = tuple(part.column_name for part in index._expressions)
                assert (names, index._unique) in indexes, (table, names)
    finally:
        close_db()


def test_one_open_session_per_course_is_the_unique_indexs_rule(old_copy: Path) -> None:
    """After the upgrade, two courses may each have a session open; one course may not have two."""
    init_db(old_copy)
    try:
        with closing(sqlite3.connect(old_copy)) as conn:
            conn.execute(
                "INSERT INTO course (name, name_key, created_at) VALUES ('b', 'b', '2026-01-01 00:00:00.000000')"
            )
            row = "('X{0}', 's', 15, 4, 15, '2026-11-30 09:00:00.000000', 1, {1}, 0)"
            insert = (
                "INSERT INTO session (session_id, secret, interval, code_length, grace_seconds, opened_at, "
                "open_flag, course_id, window_offset_ms) VALUES "
            )
            conn.execute(insert + row.format(1, 2))
            conn.commit()
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(insert + row.format(2, 1))
    finally:
        close_db()


def test_a_pending_upgrade_is_refused_when_upgrading_is_not_allowed(old_copy: Path) -> None:
    """init_db(upgrade=False) (what `check` uses) names the command to run and leaves the file as it was."""
    before = old_copy.read_bytes()
    with pytest.raises(StorageError) as caught:
        init_db(old_copy, upgrade=False)
    assert str(caught.value) == messages.migration_pending(old_copy, 1, migrations.latest())
    assert "manage.py migrate" in str(caught.value)
    assert old_copy.read_bytes() == before
    assert not Path(f"{old_copy}.bak-1").exists()


def test_a_failed_step_leaves_the_database_as_it_was(old_copy: Path) -> None:
    """A step that fails half-way is rolled back: still version 1, every row there, and the backup beside it."""
    with closing(sqlite3.connect(old_copy)) as conn:  # a table in the way of the step's own
        conn.execute("CREATE TABLE course (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("CREATE UNIQUE INDEX course_guild_id_name_key ON course (name)")
        conn.commit()
    with pytest.raises(StorageError) as caught:
        init_db(old_copy)
    assert "0002_courses" in str(caught.value)
    database.init(str(old_copy))
    database.connect()
    try:
        assert migrations.schema_version() == 1
        assert "course_id" not in {c.name for c in database.get_columns("session")}
    finally:
        close_db()
    assert Path(f"{old_copy}.bak-1").exists()
    for table in V1_TABLES:
        assert table_rows(old_copy, table) == table_rows(FIXTURE, table)


def test_a_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    """A schema step this release does not know: a clear error, nothing touched."""
    path = tmp_path / "new.db"
    init_db(path)
    close_db()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("INSERT INTO schema_migration (name, applied) VALUES ('0099_future', '2030-01-01')")
        conn.commit()
    with pytest.raises(StorageError) as caught:
        init_db(path)
    assert str(caught.value) == messages.database_too_new(path, 99, migrations.latest())


def test_an_empty_database_without_sessions_gets_no_course(tmp_path: Path) -> None:
    """A new database is made by the same steps, and has no course until one is created."""
    path = tmp_path / "new.db"
    init_db(path)
    try:
        assert migrations.schema_version() == migrations.latest()
        assert [name for (name,) in database.execute_sql("SELECT name FROM course")] == []
    finally:
        close_db()
    assert not Path(f"{path}.bak-0").exists()


def test_the_migration_runner_is_peewees(old_copy: Path) -> None:
    """The history is playhouse.migrations' own table, one row per step."""
    init_db(old_copy)
    close_db()
    assert [name for (name,) in table_rows(old_copy, migrations.HISTORY_TABLE, "name")] == [
        "0001_initial",
        "0002_courses",
        "0003_gradebook",
        "0004_marks",
        "0005_claims",
        "0006_projector",
        "0007_code_in_channel",
        "0008_voice",
        "0009_schedule",
        "0010_notices",
        "0011_grading",
    ]


def test_a_version_3_database_upgrades_with_every_row_kept_and_takes_marks(
    tmp_path: Path, settings_factory: Callable[..., Settings]
) -> None:
    """The release before marks: every row of every table survives column for column, a backup of
    version 3 is made, the open session shows the same code, and afterwards a record may name a
    student id without an account (user_id NULL), one per student id per session."""
    copy = tmp_path / "attendance.db"
    copy.write_bytes(FIXTURE_V3.read_bytes())
    tables = ("course", "session", "attendance", "student", "roster_entry", "event")
    before = {t: table_rows(FIXTURE_V3, t, ", ".join(v1_columns_of(FIXTURE_V3, t))) for t in tables}
    with closing(sqlite3.connect(copy)) as conn:
        secret, opened = conn.execute("SELECT secret, opened_at FROM session WHERE open_flag = 1").fetchone()
    init_db(copy)
    close_db()
    for table in tables:
        assert table_rows(copy, table, ", ".join(v1_columns_of(FIXTURE_V3, table))) == before[table], table
    assert table_rows(Path(f"{copy}.bak-3"), "attendance") == table_rows(FIXTURE_V3, "attendance")
    assert (4, "0004_marks") in [r[:2] for r in table_rows(copy, "schema_migration")]
    settings = settings_factory(DATABASE_PATH=str(copy))
    init_db(copy)
    try:
        service = AttendanceService(settings)
        session = service.open_session_info(service.courses.find("Math 101").id)
        assert session is not None
        assert session.opened_at.strftime("%Y-%m-%d %H:%M:%S.%f") == opened
        moment = session.opened_at
        assert service.code_at(session, moment).code == codes.CodeSpec(
            secret=secret, interval=session.interval, length=session.code_length, grace_seconds=session.grace_seconds
        ).code_at(moment.timestamp())
    finally:
        close_db()
    with closing(sqlite3.connect(copy)) as conn:
        row = (
            "2026-11-30 09:00:00",
            "2026-11-30",
            session.session_id,
            "2026-11-30 09:00:00.000000",
            "excused",
            "manual",
        )
        insert = (
            "INSERT INTO attendance (user_id, username, timestamp, date_id, session_id, submitted_at, status, "
            "source, student_key) VALUES (NULL, '', ?, ?, ?, ?, ?, ?, 's-1004')"
        )
        conn.execute(insert, row)
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(insert, row)


def v1_columns_of(path: Path, table: str) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_registrations_of_a_version_3_database_are_kept_confirmed(tmp_path: Path) -> None:
    """The release before claims accepted every registration: after the upgrade they are confirmed
    (each row as it was), and the upgrade says so."""
    copy = tmp_path / "attendance.db"
    copy.write_bytes(FIXTURE_V3.read_bytes())
    before = table_rows(FIXTURE_V3, "student")
    assert before
    database.init(str(copy))
    database.connect()
    try:
        done = [str(notice) for notice in migrations.upgrade(copy)]
    finally:
        close_db()
    assert done[-8:] == [
        messages.migration_step_done("0005_claims"),
        f"  {len(before)} registration kept as confirmed (the release that made them accepted them)",
        messages.migration_step_done("0006_projector"),
        messages.migration_step_done("0007_code_in_channel"),
        messages.migration_step_done("0008_voice"),
        messages.migration_step_done("0009_schedule"),
        messages.migration_step_done("0010_notices"),
        messages.migration_step_done("0011_grading"),
    ]
    assert table_rows(copy, "student") == [(*row, 1) for row in before]


class _WatchedSqlite:
    """sqlite3 as migrations.backup uses it (through backups.sqlite_copy), except that each page step of a backup notes the mode
    of the file being written (the `.bak-N.partial`) before SQLite goes on."""

    def __init__(self, partial: Path) -> None:
        self.partial = partial
        self.modes: list[int] = []

    def connect(self, path: str, **_: object) -> object:
        watcher = self

        class Connection:
            def __init__(self) -> None:
                self.real = sqlite3.connect(path)

            def backup(self, target: Connection, **_: object) -> None:
                def progress(status: int, remaining: int, total: int) -> None:
                    watcher.modes.append(watcher.partial.stat().st_mode & 0o777)

                self.real.backup(target.real, pages=1, progress=progress)

            def close(self) -> None:
                self.real.close()

        return Connection()


def test_the_backup_is_private_from_its_first_byte(old_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a umask that would make it 0644, the `.bak-1.partial` is 0600 at every page of the copy."""
    watched = _WatchedSqlite(Path(f"{old_copy}.bak-1.partial"))
    monkeypatch.setattr(backups, "sqlite3", watched)  # the copy is backups.sqlite_copy's, as `manage.py backup`'s
    previous = os.umask(0o022)
    try:
        init_db(old_copy)
    finally:
        os.umask(previous)
        close_db()
    assert len(watched.modes) > 1
    assert set(watched.modes) == {0o600}
    assert Path(f"{old_copy}.bak-1").stat().st_mode & 0o777 == 0o600
