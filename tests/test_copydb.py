"""`manage.py copy-db`: every table of the configured database copied into another (SQLite to PostgreSQL
and back), ids and values kept, counts checked, in one transaction; on a real SQLite file and a real
PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from _backends import Target, execute, fetch
from _postgres import PostgresServer
from _semester import T0, build_semester
from _shell import run_shell

from attendance_bot import codes, messages, migrations, storage
from attendance_bot.attendance import AttendanceService
from attendance_bot.copydb import CHUNK_ROWS, COPIED, TABLES
from attendance_bot.courses import CourseService
from attendance_bot.models import close_all, init_db
from attendance_bot.records import Submission
from attendance_bot.services import Services
from attendance_bot.settings import load_settings
from attendance_bot.shell.entry import main
from attendance_bot.students import StudentService

GUILD = 111111111111111111
ADMIN, ATTENDANCE = 222222222222222222, 333333333333333333
PASSWORD = "s3cret-Pa55"  # the test server trusts loopback: any password is accepted, and must never be shown
EVENTS = CHUNK_ROWS * 2 + 17  # more than two chunks of one table
PENDING = 444444444444444444  # an account whose claim of a student id waits (student.confirmed false)


def with_password(url: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")


def run(*args: str, source: Target) -> tuple[int, str, str]:
    """manage.py ARGS with the configured database `source`; (status, stdout, stderr)."""
    key = "DATABASE_URL" if isinstance(source, str) else "DATABASE_PATH"
    done = run_shell(*args, environ={key: str(source)}, env_file="/dev/null")
    return done.returncode, done.out, done.err


def fill(target: Target) -> None:
    """A semester's worth of every table: the gradebook's hand-counted course, a wrong attempt, a
    check-in through the service, thousands of events, a stretch in a voice channel, a row of each
    table of the warnings and excuse requests, and a timetable."""
    init_db(target)
    try:
        CourseService(_settings(target)).create(
            name="default", guild_id=GUILD, admin_channel_id=ADMIN, attendance_channel_id=ATTENDANCE
        )
        build_semester()
        StudentService().register(guild_id=GUILD, user_id=PENDING, student_id="P1")  # a claim: confirmed false
        storage.insert_wrong_attempts([storage.WrongAttemptRow("20240905-0900-DDDD", 303, storage.stored_time(T0))])
        storage.save_projector_link(  # a session's projector link (its nonce and its token's hash)
            "20240905-0900-DDDD", nonce="nonce", token_hash=codes.link_hash("token"), at=T0, replace=False
        )
        event = storage.EventRow(
            storage.stored_time(T0), 1, "20240905-0900-DDDD", GUILD, 0, "test", "checked_in", None, "present", "code"
        )
        storage.insert_events(
            [event._replace(at=storage.stored_time(T0 + timedelta(seconds=n)), user_id=1000 + n) for n in range(EVENTS)]
        )
        left = storage.stored_time(T0 + timedelta(minutes=50))
        storage.insert_spans([storage.SpanRow("20240905-0900-DDDD", 303, 555, storage.stored_time(T0), left)])
        # A warning digest's claim and standing, a note for a student, direct messages turned on, an excuse request.
        storage.claim_digest("20240903-0900-BBBB", 1, T0)
        storage.save_standing(1, "key:c003", None, storage.Standing(True, False), T0)
        storage.add_notice(guild_id=GUILD, user_id=101, course_id=1, kind="excuse_denied_notice", detail="{}", at=T0)
        storage.set_direct_messages(101, True, T0)
        storage.add_excuse_request(
            course_id=1,
            guild_id=GUILD,
            session_id="20240903-0900-BBBB",
            user_id=101,
            username="ada",
            reason="ill",
            status="late",
            requested_at=T0,
        )
        # A timetable made a week before, a skipped date, and a class that passed unopened (a missed run).
        services = Services(_settings(target), lambda: T0 - timedelta(days=7))
        course = services.courses.find("default")
        services.schedule.add(course.id, weekday=T0.weekday(), start=f"{T0 - timedelta(hours=2):%H:%M}", minutes=30)
        services.schedule.skip(course.id, T0.date() + timedelta(days=7))
        assert len(services.schedule.tick(T0).missed) == 1
    finally:
        close_all()


def _settings(target: Target) -> Any:
    key = "DATABASE_URL" if isinstance(target, str) else "DATABASE_PATH"
    return load_settings(None, environ={key: str(target)}, require_discord=False)


def dump(target: Target) -> dict[str, list[tuple[Any, ...]]]:
    """Every copied table's rows in id order, as another process reads them (the history by id and name:
    its applied column is a timestamp on PostgreSQL and text on SQLite)."""
    tables = {table: fetch(target, f'SELECT * FROM "{table}" ORDER BY "id"') for table in TABLES}
    tables[migrations.HISTORY_TABLE] = fetch(
        target, f'SELECT "id", "name" FROM "{migrations.HISTORY_TABLE}" ORDER BY "id"'
    )
    return tables


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.db"
    fill(path)
    return path


@pytest.fixture
def empty_pg(postgres: PostgresServer) -> Iterator[str]:
    """A database just made with createdb: no tables."""
    url = postgres.create_database("copy")
    try:
        yield url
    finally:
        close_all()
        postgres.drop_database(url)


def test_sqlite_to_postgres_keeps_every_row_and_id(source: Path, empty_pg: str) -> None:
    """SQLite into an empty PostgreSQL database: every table's rows and ids as they were, the counts
    printed table by table, the schema version the latest, the password never shown."""
    status, out, err = run("copy-db", "--to", with_password(empty_pg), source=source)
    assert status == 0, err
    before, after = dump(source), dump(empty_pg)
    assert after == before
    assert all(before[table] for table in COPIED), "every table should hold rows"
    assert len(before["event"]) >= EVENTS > 2 * CHUNK_ROWS
    lines = out.splitlines()
    assert lines[:-1] == [messages.copied_table(table, len(before[table])) for table in COPIED]
    assert lines[-1] == messages.copy_done(
        sum(len(rows) for rows in before.values()), str(source), with_password(empty_pg).replace(PASSWORD, "***")
    )
    assert PASSWORD not in out + err
    assert max(int(name[:4]) for _, name in after[migrations.HISTORY_TABLE]) == migrations.latest()
    assert fetch(empty_pg, "SELECT confirmed FROM student WHERE user_id = ?", (PENDING,)) == [(False,)]


def test_postgres_ids_continue_past_the_copied_ones(source: Path, empty_pg: str) -> None:
    """After a copy into PostgreSQL, new courses, sessions and check-ins get new ids (the sequences were
    moved past the copied ids), and the copied rows are untouched."""
    assert run("copy-db", "--to", empty_pg, source=source)[0] == 0
    copied = dump(empty_pg)
    settings = _settings(empty_pg)
    init_db(empty_pg)
    try:
        course = CourseService(settings).create(
            name="second", guild_id=GUILD, admin_channel_id=ADMIN + 1, attendance_channel_id=ATTENDANCE + 1
        )
        service = AttendanceService(settings)
        info = service.open_session(course_id=course.id)
        code = service.current_code(info.session_id).code
        service.submit_many([Submission(909, "newcomer", code, None, channel_id=ATTENDANCE + 1, guild_id=GUILD)])
    finally:
        close_all()
    after = dump(empty_pg)
    for table in ("course", "session", "attendance", "event"):
        old_ids = {row[0] for row in copied[table]}
        new = [row for row in after[table] if row[0] not in old_ids]
        assert len(new) == 1 if table != "event" else new, table
        assert min(row[0] for row in new) > max(old_ids), table
        assert [row for row in after[table] if row[0] in old_ids] == copied[table], table


def test_postgres_to_sqlite_and_sqlite_to_sqlite(source: Path, empty_pg: str, tmp_path: Path) -> None:
    """Back from PostgreSQL into a new SQLite file, and from one SQLite file into another: the same rows."""
    assert run("copy-db", "--to", empty_pg, source=source)[0] == 0
    back = tmp_path / "back" / "attendance.db"
    status, _, err = run("copy-db", "--to", f"sqlite:///{back}", source=empty_pg)
    assert (status, err) == (1, f"Error: {messages.database_folder_missing(back).replace('DATABASE_PATH', '--to')}\n")
    assert not back.parent.exists()  # copy-db makes the file, never a folder
    back.parent.mkdir()
    status, _, err = run("copy-db", "--to", f"sqlite:///{back}", source=empty_pg)
    assert status == 0, err
    assert dump(back) == dump(source)
    other = tmp_path / "other.db"
    assert run("copy-db", "--to", f"sqlite:///{other}", source=source)[0] == 0
    assert dump(other) == dump(source)
    # The copy is a working database: the service reads its sessions.
    init_db(back, upgrade=False)
    try:
        assert len(AttendanceService(_settings(back)).sessions(every_course=True)) == 4
    finally:
        close_all()


def test_a_target_holding_rows_is_refused_without_force(source: Path, empty_pg: str) -> None:
    """A second copy into the same database is refused in one line, naming --force; the target is unchanged."""
    assert run("copy-db", "--to", empty_pg, source=source)[0] == 0
    execute(empty_pg, 'DELETE FROM "event" WHERE "id" > 10')
    held = dump(empty_pg)
    status, out, err = run("copy-db", "--to", empty_pg, source=source)
    assert status == 1 and out == ""
    counts = {table: len(held[table]) for table in TABLES if held[table]}
    assert err == f"Error: {messages.copy_target_not_empty(counts)}\n"
    assert dump(empty_pg) == held


def test_force_replaces_what_the_target_held(source: Path, empty_pg: str, tmp_path: Path) -> None:
    """--force empties the target's tables first: what only the target held is gone, the source's rows are there."""
    elsewhere = tmp_path / "elsewhere.db"
    init_db(elsewhere)
    try:
        CourseService(_settings(elsewhere)).create(
            name="only in the target", guild_id=GUILD, admin_channel_id=ADMIN, attendance_channel_id=ATTENDANCE
        )
    finally:
        close_all()
    assert run("copy-db", "--to", empty_pg, source=elsewhere)[0] == 0
    status, _, err = run("copy-db", "--force", "--to", empty_pg, source=source)
    assert status == 0, err
    assert dump(empty_pg) == dump(source)


def test_a_failed_copy_leaves_the_target_as_it_was(source: Path, empty_pg: str, tmp_path: Path) -> None:
    """A row the target refuses half-way (a trigger here) fails the copy in one line naming the table, and
    --force's emptying is undone with it: one transaction."""
    elsewhere = tmp_path / "elsewhere.db"
    init_db(elsewhere)
    try:
        CourseService(_settings(elsewhere)).create(
            name="kept", guild_id=GUILD, admin_channel_id=ADMIN, attendance_channel_id=ATTENDANCE
        )
    finally:
        close_all()
    assert run("copy-db", "--to", empty_pg, source=elsewhere)[0] == 0
    execute(
        empty_pg,
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no more events'; END $$ "
        "LANGUAGE plpgsql",
        'CREATE TRIGGER refuse BEFORE INSERT ON "event" FOR EACH ROW EXECUTE FUNCTION refuse()',
    )
    held = dump(empty_pg)
    status, out, err = run("copy-db", "--force", "--to", empty_pg, source=source)
    assert status == 1 and out == ""
    assert err.startswith("Error: Copying table event failed (") and err.count("\n") == 1, err
    assert err.rstrip().endswith("nothing was written to the target.")
    assert dump(empty_pg) == held


@pytest.mark.parametrize(
    "spelling",
    ["sqlite:///{path}", "sqlite:///{parent}/../{parent_name}/{name}"],
)
def test_the_configured_sqlite_file_is_refused_as_target(spelling: str, source: Path) -> None:
    """The configured file itself, however spelled, is refused before anything is opened."""
    to = spelling.format(path=source, parent=source.parent, parent_name=source.parent.name, name=source.name)
    before = dump(source)
    status, out, err = run("copy-db", "--to", to, source=source)
    assert status == 1 and out == ""
    assert err.startswith("Error: --to ") and "is the configured database itself" in err
    assert dump(source) == before


def test_the_configured_postgres_database_is_refused_as_target(empty_pg: str) -> None:
    """The same server and database under another user, host spelling and password: refused, no password shown."""
    fill(empty_pg)
    other = with_password(empty_pg).replace("postgres:", "someone:", 1).replace("127.0.0.1", "localhost")
    status, out, err = run("copy-db", "--to", other, source=empty_pg)
    assert status == 1 and out == ""
    assert err == f"Error: {messages.copy_same_database(other.replace(PASSWORD, '***'))}\n"
    assert PASSWORD not in err


def test_a_source_at_an_older_schema_is_refused(tmp_path: Path, empty_pg: str) -> None:
    """The seed bot's database (schema version 1) is not copied: one line saying to run migrate; no tables made."""
    old = tmp_path / "attendance-v1.db"
    old.write_bytes((Path(__file__).parent / "fixtures" / "attendance-v1.db").read_bytes())
    status, out, err = run("copy-db", "--to", empty_pg, source=old)
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and "migrate" in err, err
    assert fetch(empty_pg, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


@pytest.mark.parametrize(
    ("to", "says"),
    [
        ("data/attendance.db", "--to: the URL must start with postgresql:// or sqlite:///"),
        ("mysql://u:pw@host/db", "--to: the URL must start with postgresql:// or sqlite:///"),
        ("postgresql://u:pw@/db", "--to: the URL must name the server and the database"),
    ],
)
def test_a_target_that_is_not_a_database_url_is_one_line(to: str, says: str, source: Path) -> None:
    status, out, err = run("copy-db", "--to", to, source=source)
    assert status == 1 and out == ""
    assert err.startswith(f"Error: {says}") and err.count("\n") == 1, err
    assert ":pw@" not in err


def test_an_unreachable_target_is_one_line_without_the_password(source: Path, postgres: PostgresServer) -> None:
    """A database the server does not have: one line saying so, naming --to, the password hidden."""
    to = with_password(postgres.url("no_such_database_here"))
    status, out, err = run("copy-db", "--to", to, source=source)
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and "does not exist" in err and "--to" in err, err
    assert PASSWORD not in err and "***" in err


def test_help_says_what_force_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["copy-db", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--force" in text and "emptied first, in the same transaction as the copy" in text


@pytest.mark.parametrize(
    "query",
    [
        "?host=127.0.0.1&port={port}",
        "?host=localhost&port={port}&dbname={name}",
    ],
)
def test_a_target_whose_query_points_back_at_the_configured_database_is_refused(query: str, empty_pg: str) -> None:
    """A URL naming another host and port whose query sets the host, port (and database) the driver
    connects to is the configured database: refused, nothing written to it."""
    fill(empty_pg)
    before = dump(empty_pg)
    parts = urlsplit(empty_pg)
    name = parts.path.strip("/")
    other = f"postgresql://someone:{PASSWORD}@db.elsewhere.example:6543/"
    other += ("another_name" if "dbname" in query else name) + query.format(port=parts.port, name=name)
    status, out, err = run("copy-db", "--to", other, source=empty_pg)
    assert status == 1 and out == ""
    assert err.startswith("Error: --to ") and "is the configured database itself" in err, err
    assert PASSWORD not in err
    assert dump(empty_pg) == before
