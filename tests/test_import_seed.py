"""manage.py import-seed: a seed bot's database read (read-only), checked whole, and imported once."""

from __future__ import annotations

import hashlib
import itertools
import re
import sqlite3
import subprocess
import sys
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from _course import GUILD_ID
from _shell import run_shell
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from attendance_bot import messages, seedfile, seedimport, storage
from attendance_bot.attendance import AttendanceService
from attendance_bot.courses import CourseService
from attendance_bot.models import Attendance, Event, Session, Student
from attendance_bot.records import CourseInfo
from attendance_bot.seedimport import SeedError, SeedImportService, SeedReport, read_seed
from attendance_bot.shell.entry import main
from attendance_bot.students import StudentService

UTC = ZoneInfo("UTC")
ID_RULE = re.compile(r"[A-Za-z0-9._-]{1,32}")
Row = tuple[Any, ...]  # (user_id, username, timestamp, session_id[, status])

# The seed bot's tables, as its later versions create them.
ATTENDANCE = (
    "CREATE TABLE attendance (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, username TEXT, "
    "timestamp TEXT, date_id TEXT, session_id TEXT{status})"
)
STUDENTS = "CREATE TABLE students (user_id INTEGER PRIMARY KEY, student_id TEXT, student_name TEXT, registered_at TEXT)"

ROWS: list[Row] = [
    (111, "ada", "2024-09-02 09:01:00", "S-1", "present"),
    (222, "bob", "2024-09-02 09:20:30", "S-1", "Late"),
    (333, "cy", "2024-09-02 09:05:00", "S-1", "EXCUSED"),
    (111, "ada", "2024-09-09 09:02:00", "S-2", "absent"),
    (222, "bob", "2024-09-09 09:03:15", "S-2", " present "),
]
STUDENT_ROWS: list[Row] = [
    (111, "A-1", "Ada Lovelace", "2024-09-01 12:00:00"),
    (222, "b.2", None, None),
]


def make_seed(
    path: Path,
    rows: Sequence[Row] = ROWS,
    students: Sequence[Row] | None = STUDENT_ROWS,
    *,
    status: bool = True,
) -> Path:
    """A seed bot database from its schema: with or without `status`, with or without `students`."""
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(ATTENDANCE.format(status=", status TEXT DEFAULT 'present'" if status else ""))
        for row in rows:
            user_id, username, stamp, session_id, *rest = row
            values = [user_id, username, stamp, str(stamp)[:10], session_id]
            columns = "user_id, username, timestamp, date_id, session_id"
            if status:
                values.append(rest[0] if rest else "present")
                columns += ", status"
            marks = ", ".join("?" * len(values))
            connection.execute(f"INSERT INTO attendance ({columns}) VALUES ({marks})", values)
        if students is not None:
            connection.execute(STUDENTS)
            connection.executemany("INSERT INTO students VALUES (?, ?, ?, ?)", students)
    connection.close()
    return path


@pytest.fixture
def course(service: AttendanceService) -> CourseInfo:
    return service.course(None)


@pytest.fixture
def importer(service: AttendanceService) -> SeedImportService:
    return SeedImportService(service.settings, service.clock)


def do_import(importer: SeedImportService, course: CourseInfo, path: Path, tz: ZoneInfo = UTC) -> SeedReport:
    return importer.import_seed(course.id, read_seed(path, tz))


def records() -> list[tuple[Any, ...]]:
    query = Attendance.select().order_by(Attendance.session_id, Attendance.user_id)
    return [
        (r.user_id, r.username, r.timestamp, r.date_id, r.session_id, r.submitted_at, r.status, r.source) for r in query
    ]


def snapshot() -> tuple[list[Any], ...]:
    """Every row of the tables an import writes."""
    return tuple(list(model.select().order_by(model.id).tuples()) for model in (Session, Attendance, Student, Event))


def refused(path: Path, tz: ZoneInfo = UTC, **kwargs: Any) -> str:
    with pytest.raises(SeedError) as caught:
        read_seed(path, tz, **kwargs)
    text = str(caught.value)
    assert "\n" not in text and "nothing was imported" in text
    return text


# -- what is imported ------------------------------------------------------------------------------


def test_records_are_imported_with_their_statuses(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path
) -> None:
    """Each row becomes a record: times in UTC, status folded, source code for present/late, manual otherwise."""
    report = do_import(importer, course, make_seed(tmp_path / "seed.db"))
    assert (report.records_imported, report.records_there) == (5, 0)

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)

    assert records() == [
        (111, "ada", "2024-09-02 09:01:00", "2024-09-02", "S-1", at("2024-09-02 09:01:00"), "present", "code"),
        (222, "bob", "2024-09-02 09:20:30", "2024-09-02", "S-1", at("2024-09-02 09:20:30"), "late", "code"),
        (333, "cy", "2024-09-02 09:05:00", "2024-09-02", "S-1", at("2024-09-02 09:05:00"), "excused", "manual"),
        (111, "ada", "2024-09-09 09:02:00", "2024-09-09", "S-2", at("2024-09-09 09:02:00"), "absent", "manual"),
        (222, "bob", "2024-09-09 09:03:15", "2024-09-09", "S-2", at("2024-09-09 09:03:15"), "present", "code"),
    ]
    assert all(r.student_key is None and r.display_name is None for r in Attendance.select())


def test_each_seed_session_becomes_a_closed_session_of_the_course(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path
) -> None:
    """Opened at its first record, closed at its last, a fresh secret, the course's code settings."""
    report = do_import(importer, course, make_seed(tmp_path / "seed.db"))
    assert report.sessions_created == 2
    rows = list(Session.select().order_by(Session.session_id))
    assert [r.session_id for r in rows] == ["S-1", "S-2"]
    first = rows[0]
    assert first.opened_at == datetime(2024, 9, 2, 9, 1, tzinfo=timezone.utc)
    assert first.closed_at == datetime(2024, 9, 2, 9, 20, 30, tzinfo=timezone.utc)
    for row in rows:
        assert (row.course_id, row.guild_id, row.open_flag, row.opened_by) == (course.id, GUILD_ID, None, "import-seed")
        assert (row.interval, row.code_length, row.grace_seconds) == (
            course.interval,
            course.code_length,
            course.grace_seconds,
        )
        assert row.message_id is None and len(row.secret) >= 16
    assert rows[0].secret != rows[1].secret


def test_registrations_are_imported_into_the_courses_server(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path
) -> None:
    """Each `students` row becomes a registration: id as written, folded key, name, time in UTC."""
    report = do_import(importer, course, make_seed(tmp_path / "seed.db"))
    assert (report.registrations_imported, report.skipped) == (2, ())
    rows = [
        (s.guild_id, s.user_id, s.student_id, s.student_key, s.name, s.registered_at)
        for s in Student.select().order_by(Student.user_id)
    ]
    assert rows == [
        (GUILD_ID, 111, "A-1", "a-1", "Ada Lovelace", datetime(2024, 9, 1, 12, tzinfo=timezone.utc)),
        (GUILD_ID, 222, "b.2", "b.2", None, importer.clock()),  # no time in the seed: the import's
    ]


def test_one_event_per_record_and_registration(importer: SeedImportService, course: CourseInfo, tmp_path: Path) -> None:
    """Action and actor import-seed, no old status, the new status and the record's source."""
    do_import(importer, course, make_seed(tmp_path / "seed.db"))
    events = list(Event.select().order_by(Event.id))
    assert len(events) == 5 + 2
    assert {(e.action, e.actor, e.old_status, e.course_id, e.guild_id) for e in events} == {
        ("import-seed", "import-seed", None, course.id, GUILD_ID)
    }
    assert all(e.at == importer.clock() for e in events)
    registrations = [(e.user_id, e.student_id, e.session_id, e.new_status, e.source) for e in events[:2]]
    assert registrations == [(111, "A-1", None, None, "manual"), (222, "b.2", None, None, "manual")]
    marks = sorted((e.session_id, e.user_id, e.student_id, e.new_status, e.source) for e in events[2:])
    assert marks == [
        ("S-1", 111, "A-1", "present", "code"),
        ("S-1", 222, "b.2", "late", "code"),
        ("S-1", 333, None, "excused", "manual"),
        ("S-2", 111, "A-1", "absent", "manual"),
        ("S-2", 222, "b.2", "present", "code"),
    ]


def test_a_seed_without_status_imports_every_record_as_present(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path
) -> None:
    """Older seed databases have no `status` column: every record is present, from a code."""
    do_import(importer, course, make_seed(tmp_path / "seed.db", [r[:4] for r in ROWS], status=False))
    assert {(r[6], r[7]) for r in records()} == {("present", "code")}
    assert len(records()) == 5


def test_a_null_status_is_present(importer: SeedImportService, course: CourseInfo, tmp_path: Path) -> None:
    """A row written before the seed had statuses (NULL or empty) is present."""
    do_import(importer, course, make_seed(tmp_path / "seed.db", [(1, "a", "2024-09-02 09:00:00", "S", None)]))
    assert records()[0][6:] == ("present", "code")


def test_a_seed_without_students_imports_no_registrations(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path
) -> None:
    """Older seed databases have no `students` table: records only."""
    report = do_import(importer, course, make_seed(tmp_path / "seed.db", students=None))
    assert (report.records_imported, report.registrations_imported, report.skipped) == (5, 0, ())
    assert Student.select().count() == 0


def test_times_are_read_in_timezone_and_stored_in_utc(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path
) -> None:
    """The seed wrote local time: read in TIMEZONE, stored in UTC (the UTC date may be the day before)."""
    seed = make_seed(tmp_path / "seed.db", [(1, "a", "2024-09-02 01:30:00", "S"), (2, "b", "2024-01-15 10:00:00", "T")])
    do_import(importer, course, seed, ZoneInfo("Europe/Amsterdam"))
    rows = {r[4]: r for r in records()}
    assert rows["S"][2:4] == ("2024-09-01 23:30:00", "2024-09-01")  # summer: UTC+2
    assert rows["T"][2:4] == ("2024-01-15 09:00:00", "2024-01-15")  # winter: UTC+1
    assert rows["S"][5] == datetime(2024, 9, 1, 23, 30, tzinfo=timezone.utc)


def test_repeated_rows_keep_the_latest(importer: SeedImportService, course: CourseInfo, tmp_path: Path) -> None:
    """Two rows of one student's session (an old seed had no unique index): the later one is kept."""
    rows = [(1, "a", "2024-09-02 09:00:00", "S", "present"), (1, "a2", "2024-09-02 09:30:00", "S", "excused")]
    report = do_import(importer, course, make_seed(tmp_path / "seed.db", rows))
    assert (report.records_imported, report.duplicates) == (1, 1)
    assert records()[0][1] == "a2" and records()[0][6] == "excused"


def test_a_name_that_is_not_a_name_is_left_out(importer: SeedImportService, course: CourseInfo, tmp_path: Path) -> None:
    """A registration's name with a line break or over 100 characters: registered without it, and counted."""
    students = [
        (1, "S1", "Ada\nLovelace", None),
        (2, "S2", "x" * 101, None),
        (3, "S3", "\u05e9\u05e8\u05d4 \u200f", None),
    ]
    report = do_import(importer, course, make_seed(tmp_path / "seed.db", students=students))
    assert (report.registrations_imported, report.names_left_out) == (3, 2)
    assert [s.name for s in Student.select().order_by(Student.user_id)] == [None, None, "\u05e9\u05e8\u05d4 \u200f"]


# -- twice, and what is there already --------------------------------------------------------------


def test_a_second_import_changes_nothing(importer: SeedImportService, course: CourseInfo, tmp_path: Path) -> None:
    """No new rows, no new events; the counts say everything was there already."""
    seed = make_seed(tmp_path / "seed.db")
    do_import(importer, course, seed)
    before = snapshot()
    again = do_import(importer, course, seed)
    assert snapshot() == before
    assert again == SeedReport(0, 0, 5, 0, 0, 2, (), 0)
    assert not again.changed


def test_records_already_there_are_never_overwritten(
    service: AttendanceService, importer: SeedImportService, course: CourseInfo, tmp_path: Path
) -> None:
    """A seed session already in the course takes the missing records only; existing ones stay as they are."""
    session = service.open_session(course.id)
    code = service.current_code(session.session_id).code
    service.submit(user_id=111, username="ada-now", code=code)
    service.close_session(session.session_id)
    rows = [
        (111, "ada-then", "2024-09-02 09:00:00", session.session_id, "absent"),
        (222, "bob", "2024-09-02 09:00:00", session.session_id, "late"),
    ]
    report = do_import(importer, course, make_seed(tmp_path / "seed.db", rows, students=None))
    assert (report.sessions_created, report.records_imported, report.records_there) == (0, 1, 1)
    kept = Attendance.get(Attendance.user_id == 111)
    assert (kept.username, kept.status) == ("ada-now", "present")
    assert Attendance.get(Attendance.user_id == 222).status == "late"
    assert Session.select().count() == 1


def test_registration_conflicts_are_skipped_and_counted(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path
) -> None:
    """An id held by another account, an account with another id, an id we do not accept: skipped, never overwritten."""
    students = StudentService()
    students.register(guild_id=GUILD_ID, user_id=900, student_id="A-1", name="Someone Else")
    students.register(guild_id=GUILD_ID, user_id=222, student_id="B-9")
    seed_students = [
        (111, "a-1", "Ada", None),  # held by account 900 (case does not count)
        (222, "b.2", "Bob", None),  # account 222 is B-9
        (333, "=cmd|' /C calc'!A0", "Cy", None),  # not a student id
        (444, "D-4", "Di", None),
        (555, "d-4", "Dup", None),  # taken by 444, earlier in the same file
    ]
    report = do_import(importer, course, make_seed(tmp_path / "seed.db", students=seed_students))
    assert report.registrations_imported == 1
    assert report.skipped == (("id taken", 2), ("other id", 1), ("invalid id", 1))
    held = {s.user_id: (s.student_id, s.name) for s in Student.select()}
    assert held == {900: ("A-1", "Someone Else"), 222: ("B-9", None), 444: ("D-4", "Di")}
    again = do_import(importer, course, tmp_path / "seed.db")
    assert (again.registrations_imported, again.registrations_there, again.skipped) == (0, 1, report.skipped)


# -- refusals ---------------------------------------------------------------------------------------


def test_a_missing_file_or_a_folder_is_refused(tmp_path: Path) -> None:
    """No such file, a folder: one line each, naming it."""
    assert refused(tmp_path / "nope.db") == messages.seed_missing(str(tmp_path / "nope.db"))
    assert refused(tmp_path) == messages.seed_is_folder(str(tmp_path))


@pytest.mark.parametrize(
    "content",
    [b"", b"user_id,username\n1,ada\n", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64],
    ids=["empty", "csv", "png"],
)
def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path, content: bytes) -> None:
    """Text, images and empty files: one line, by what they are not."""
    path = tmp_path / "seed.db"
    path.write_bytes(content)
    assert refused(path) == messages.seed_not_sqlite(str(path))


def test_a_damaged_sqlite_file_is_refused(tmp_path: Path) -> None:
    """A file that starts like SQLite but is not one: one line saying it cannot be read."""
    path = tmp_path / "seed.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    assert refused(path).startswith(f"Cannot read the seed database {str(path)!r}: ")


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("CREATE TABLE other (x)", "no `attendance` table"),
        ("CREATE TABLE attendance (id INTEGER PRIMARY KEY, user_id INTEGER, username TEXT)", "no column timestamp"),
        (ATTENDANCE.format(status="") + "; CREATE TABLE students (user_id INTEGER, name TEXT)", "no column student_id"),
    ],
    ids=["no-attendance", "attendance-columns", "students-columns"],
)
def test_sqlite_without_the_seeds_tables_is_refused(tmp_path: Path, script: str, expected: str) -> None:
    """A SQLite file without the seed's tables and columns is not a seed database."""
    path = tmp_path / "seed.db"
    connection = sqlite3.connect(path)
    connection.executescript(script)
    connection.close()
    assert expected in refused(path)


def test_our_own_database_is_refused(db: Path, tmp_path: Path) -> None:
    """This bot's database, by its path or as a copy, is never a seed."""
    assert refused(db, own_database=db) == messages.seed_is_this_bot(str(db))
    copy = tmp_path / "copy.db"
    source, target = sqlite3.connect(db), sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    assert refused(copy) == messages.seed_is_this_bot(str(copy))


@pytest.mark.parametrize("status", ["here", "PRESENTE", "1", "present!"])
def test_an_unknown_status_refuses_the_whole_file(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path, status: str
) -> None:
    """One line naming the value and its row id; nothing imported."""
    rows = [*ROWS, (9, "z", "2024-09-02 09:00:00", "S-3", status)]
    text = refused(make_seed(tmp_path / "seed.db", rows))
    assert text == messages.seed_unknown_status(status, 6)
    assert repr(status) in text and "Row 6 " in text
    assert snapshot()[1:3] == ([], [])


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ((1, "a", "yesterday", "S"), "timestamp"),
        ((1, "a", "2024-09-02", "S"), "timestamp"),
        ((1, "a", "2024-13-02 09:00:00", "S"), "timestamp"),
        ((1, "a", None, "S"), "timestamp"),
        ((1, "a", "2024-09-02 09:00:00", ""), "session_id"),
        (("ada", "a", "2024-09-02 09:00:00", "S"), "user_id"),
        ((-5, "a", "2024-09-02 09:00:00", "S"), "user_id"),
    ],
    ids=["words", "date-only", "month-13", "null-time", "empty-session", "text-user", "negative-user"],
)
def test_a_value_that_cannot_be_imported_refuses_the_file(tmp_path: Path, row: Row, column: str) -> None:
    """A time that is not a time, an empty session id, a user id that is not one: one line naming the row."""
    text = refused(make_seed(tmp_path / "seed.db", [row], status=False))
    assert column in text and "Row 1 " in text


def test_a_session_of_another_course_refuses_the_import(
    service: AttendanceService, importer: SeedImportService, course: CourseInfo, tmp_path: Path
) -> None:
    """A seed session id that another course has: one line, nothing imported."""
    other = CourseService(service.settings).create(
        name="Other", guild_id=GUILD_ID, admin_channel_id=1, attendance_channel_id=2
    )
    session = service.open_session(other.id)
    service.close_session(session.session_id)
    before = snapshot()
    rows = [*ROWS, (9, "z", "2024-09-02 09:00:00", session.session_id)]
    with pytest.raises(SeedError) as caught:
        do_import(importer, course, make_seed(tmp_path / "seed.db", rows))
    assert str(caught.value) == messages.seed_session_of_another_course(session.session_id, "Other")
    assert snapshot() == before


def test_a_failure_half_way_imports_nothing(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk is one transaction: its sessions, records and registrations written, then its events fail:
    nothing of it stays (this seed is one chunk of registrations and one of records)."""

    def broken(rows: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(storage, "insert_seed_events", broken)
    before = snapshot()
    with pytest.raises(RuntimeError):
        do_import(importer, course, make_seed(tmp_path / "seed.db"))
    assert snapshot() == before


def test_the_seed_file_is_never_written(importer: SeedImportService, course: CourseInfo, tmp_path: Path) -> None:
    """Opened read-only: a read-only file imports, and its bytes are as they were."""
    folder = tmp_path / "seed"
    folder.mkdir()
    seed = make_seed(folder / "seed.db")
    digest = hashlib.sha256(seed.read_bytes()).hexdigest()
    seed.chmod(0o400)
    do_import(importer, course, seed)
    assert hashlib.sha256(seed.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in folder.iterdir()) == ["seed.db"]  # no journal, no -wal


# -- hostile values ---------------------------------------------------------------------------------

HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "=cmd|' /C calc'!A0",
            "+SUM(A1)",
            "-2+3",
            '@HYPERLINK("x")',
            "\u202eevil",
            "\u200fS1",
            "S1\u200b",
            "\U0001f469\u200d\U0001f52c",
            "\x00",
            "\x1b[31m",
            "a\rb",
            "x" * 6000,
            "",
            " S-1 ",
        ]
    ),
)
_examples = itertools.count(1)


@given(username=HOSTILE, student_id=HOSTILE, name=HOSTILE)
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_usernames_and_ids_are_kept_as_data_or_skipped(
    service: AttendanceService, tmp_path: Path, username: str, student_id: str, name: str
) -> None:
    """Formulas, RTL letters, emoji: usernames stored as written, less control and format characters;
    a student id stored as written (trimmed) if it is one, else skipped and counted; never an unhandled error."""
    n = next(_examples)
    course = CourseService(service.settings).create(
        name=f"h{n}", guild_id=GUILD_ID + n, admin_channel_id=1, attendance_channel_id=2
    )
    path = tmp_path / f"seed{n}.db"
    make_seed(path, [(n, username, "2024-09-02 09:00:00", f"H-{n}")], [(n, student_id, name, None)])
    report = SeedImportService(service.settings, service.clock).import_seed(course.id, read_seed(path, UTC))
    plain = "".join(ch for ch in username if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Cs"))
    assert Attendance.get(Attendance.session_id == f"H-{n}").username == plain
    registered = Student.get_or_none((Student.guild_id == GUILD_ID + n) & (Student.user_id == n))
    if ID_RULE.fullmatch(student_id.strip()):
        assert registered is not None and registered.student_id == student_id.strip()
        assert report.registrations_imported == 1
    else:
        assert registered is None and report.skipped == (("invalid id", 1),)


def test_control_and_format_characters_never_come_in_from_a_seed(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path
) -> None:
    """Usernames and session ids lose C0 and C1 controls, bidi overrides and zero-width characters
    where they come in; a repeat of a session id that differed only by them is the same session."""
    rows = [
        (1, "ada\u202e\x1b[31m\x85", "2024-09-02 09:00:00", "S\u200b-1\x07"),
        (2, "bob", "2024-09-02 09:05:00", "\u2066S-1\u2069 "),
    ]
    report = do_import(importer, course, make_seed(tmp_path / "seed.db", rows, students=None, status=False))
    assert (report.sessions_created, report.records_imported) == (1, 2)
    assert [(r.session_id, r.username) for r in Attendance.select().order_by(Attendance.user_id)] == [
        ("S-1", "ada[31m"),
        ("S-1", "bob"),
    ]
    assert [s.session_id for s in Session.select()] == ["S-1"]


@pytest.mark.parametrize("session_id", ["\u202e", "\x00\x1b", "\u200b \u2069"])
def test_a_session_id_of_nothing_but_control_characters_refuses_the_file(tmp_path: Path, session_id: str) -> None:
    """Nothing left once cleaned: one line naming the row, as an empty session id; nothing imported."""
    path = make_seed(tmp_path / "seed.db", [(1, "a", "2024-09-02 09:00:00", session_id)], students=None, status=False)
    assert refused(path) == messages.seed_bad_value("attendance", 1, "session_id", session_id)


# -- manage.py import-seed ------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    """manage.py in-process with a temporary database, TIMEZONE Europe/Amsterdam and one course 'Math 101'."""
    env_file = tmp_path / "empty.env"
    env_file.touch()
    environ = {
        "DATABASE_PATH": str(tmp_path / "db" / "attendance.db"),
        "GUILD_ID": str(GUILD_ID),
        "TIMEZONE": "Europe/Amsterdam",
    }

    def run(*args: str) -> tuple[int, str, str]:
        done = run_shell(*args, environ=environ, env_file=env_file)
        return done.returncode, done.out, done.err

    (tmp_path / "db").mkdir()
    assert run("migrate")[0] == 0  # the database, made as an operator makes it
    status, _, err = run(
        "course", "add", "--name", "Math 101", "--admin-channel", "900000000000000010",
        "--attendance-channel", "900000000000000011",
    )  # fmt: skip
    assert status == 0, err
    return run


def stored(tmp_path: Path, query: str) -> Any:
    """One value read straight from the cli fixture's database."""
    connection = sqlite3.connect(tmp_path / "db" / "attendance.db")
    try:
        return connection.execute(query).fetchone()[0]
    finally:
        connection.close()


def test_manage_import_seed_reports_counts_then_nothing_new(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The first run says what it brought in; the second that everything was there already."""
    seed = make_seed(tmp_path / "seed.db")
    status, out, err = cli("import-seed", str(seed), "--course", "math 101")
    assert (status, err) == (0, "")
    expected = dict(sessions=2, records=5, records_there=0, registrations=2, registrations_there=0, skipped=0)
    assert out == messages.seed_imported("Math 101", **expected) + "\n"
    status, out, _ = cli("import-seed", str(seed))
    expected = dict(sessions=0, records=0, records_there=5, registrations=0, registrations_there=2, skipped=0)
    assert (status, out) == (0, messages.seed_imported("Math 101", **expected) + "\n")
    assert out.startswith("Nothing to import")
    assert "2024-09-02 09:01:00 2024-09-02 09:20:30" in cli("sessions")[1]  # shown in TIMEZONE, as the seed wrote
    assert stored(tmp_path, "SELECT MIN(timestamp) FROM attendance") == "2024-09-02 07:01:00"  # stored in UTC


def test_manage_import_seed_refuses_in_one_line(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A file that is not a seed database: one error line, exit 1, nothing imported."""
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    status, out, err = cli("import-seed", str(path))
    assert (status, out, err) == (1, "", f"Error: {messages.seed_not_sqlite(str(path))}\n")
    status, _, err = cli("import-seed", str(tmp_path / "db" / "attendance.db"))
    assert status == 1 and err == f"Error: {messages.seed_is_this_bot(str(tmp_path / 'db' / 'attendance.db'))}\n"
    assert stored(tmp_path, "SELECT COUNT(*) FROM session") == 0


def test_manage_import_seed_help_explains_it(capsys: pytest.CaptureFixture[str]) -> None:
    """`import-seed --help` names PATH, --course, TIMEZONE and that the file is only read."""
    assert main(["import-seed", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "PATH" in text and "--course NAME" in text and "TIMEZONE" in text and "read-only" in text
    assert f"{seedimport.MAX_SEED_ROWS:,} rows" in text and f"{seedimport.MAX_SEED_SECONDS:g} s" in text
    assert f"{seedimport.SEED_CHUNK:,} records per transaction" in text


# -- a hostile seed file (issue 15, item 2) ---------------------------------------------------------

_SEED_IN_A_SUBPROCESS = """
import sys
from zoneinfo import ZoneInfo
from attendance_bot.seedimport import SeedError, read_seed
try:
    read_seed(sys.argv[1], ZoneInfo("UTC"))
except SeedError as exc:
    print(exc)
"""


def _read_in_a_subprocess(path: Path) -> str:
    """read_seed in a child process that is killed (and the test failed) if it has not ended in 30 s."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _SEED_IN_A_SUBPROCESS, str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=Path(__file__).resolve().parent.parent,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("reading the seed file never ended")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("script", "kind"),
    [
        (
            "CREATE VIEW attendance(id, user_id, username, timestamp, date_id, session_id) AS "
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
            "SELECT i, i, 'x', '2024-09-02 09:00:00', '2024-09-02', 'S' FROM n",
            "view",
        ),
        (
            ATTENDANCE.format(status="").replace("TABLE attendance", "TABLE real_rows")
            + "; CREATE VIEW attendance AS SELECT * FROM real_rows",
            "view",
        ),
    ],
    ids=["endless-view", "view-over-a-table"],
)
def test_an_attendance_that_is_not_a_table_is_refused_at_once(tmp_path: Path, script: str, kind: str) -> None:
    """A VIEW named `attendance` (here one over an endless recursive query) is refused in one line,
    before a row is read; the test fails, instead of hanging, if the read never ends."""
    path = tmp_path / "seed.db"
    connection = sqlite3.connect(path)
    connection.executescript(script)
    connection.close()
    assert _read_in_a_subprocess(path) == messages.seed_not_a_table(str(path), "attendance", kind)


def test_a_students_view_is_refused(tmp_path: Path) -> None:
    """The `students` table too must be a real table."""
    path = make_seed(tmp_path / "seed.db", students=None)
    connection = sqlite3.connect(path)
    connection.execute("CREATE VIEW students(user_id, student_id) AS SELECT user_id, username FROM attendance")
    connection.close()
    assert refused(path) == messages.seed_not_a_table(str(path), "students", "view")


def test_a_virtual_attendance_table_is_refused(tmp_path: Path) -> None:
    """A virtual table (sqlite_master says `table`, its code is a module's) is not the seed's table."""
    path = tmp_path / "seed.db"
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE VIRTUAL TABLE attendance USING fts5(id, user_id, username, timestamp, date_id, session_id)"
    )
    connection.close()
    assert refused(path) == messages.seed_not_a_table(str(path), "attendance", "virtual table")


def test_a_generated_column_is_refused(tmp_path: Path) -> None:
    """A column computed at read (it could build a huge value per row) is not the seed's: refused."""
    path = tmp_path / "seed.db"
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE attendance (id INTEGER PRIMARY KEY, user_id INTEGER, timestamp TEXT, date_id TEXT, "
        "session_id TEXT, username TEXT GENERATED ALWAYS AS (printf('%.*c', 100000000, 'x')) VIRTUAL)"
    )
    connection.close()
    assert refused(path) == messages.seed_not_a_table(str(path), "attendance", "table with computed columns")


def test_a_seed_with_more_rows_than_the_bound_is_refused(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More rows than MAX_SEED_ROWS (in either table): one line naming the bound; nothing imported."""
    monkeypatch.setattr(seedfile, "MAX_SEED_ROWS", 4)
    path = make_seed(tmp_path / "seed.db")  # 5 attendance rows
    assert refused(path) == messages.seed_too_many_rows(str(path), 4)
    few = make_seed(
        tmp_path / "few.db", ROWS[:3], [*STUDENT_ROWS, (3, "C", None, None), (4, "D", None, None), (5, "E", None, None)]
    )
    assert refused(few) == messages.seed_too_many_rows(str(few), 4)
    monkeypatch.setattr(seedfile, "MAX_SEED_ROWS", 5)
    assert do_import(importer, course, path).records_imported == 5


def test_a_seed_that_takes_longer_than_the_bound_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's progress handler stops a read that runs past MAX_SEED_SECONDS: one line, nothing imported."""
    monkeypatch.setattr(seedfile, "MAX_SEED_SECONDS", 0.0)
    rows = [(n, f"u{n}", "2024-09-02 09:00:00", "S") for n in range(1, 3001)]
    path = make_seed(tmp_path / "seed.db", rows, students=None, status=False)
    assert refused(path) == messages.seed_too_slow(str(path), 0.0)


def _big_seed(path: Path, rows: int) -> Path:
    """A seed of `rows` records over 50 sessions and a registration per account, written fast."""
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(ATTENDANCE.format(status=", status TEXT DEFAULT 'present'"))
        connection.executemany(
            "INSERT INTO attendance (user_id, username, timestamp, date_id, session_id, status) VALUES (?, ?, ?, ?, ?, ?)",
            (
                (1 + n % 1000, f"u{n % 1000}", "2024-09-02 09:00:00", "2024-09-02", f"B-{n // 1000}", "present")
                for n in range(rows)
            ),
        )
        connection.execute(STUDENTS)
        connection.executemany(
            "INSERT INTO students VALUES (?, ?, ?, ?)", ((1 + n, f"B{n}", None, None) for n in range(1000))
        )
    connection.close()
    return path


def test_a_large_import_lets_other_writers_in_between_chunks(
    importer: SeedImportService, course: CourseInfo, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50,000 rows are written in several short transactions: before each, another connection (as the
    running bot would) takes the write lock at once, with no wait."""
    seed = read_seed(_big_seed(tmp_path / "seed.db", 50_000), UTC)
    transactions = 0
    real = storage.immediate

    def counted():  # type: ignore[no-untyped-def]
        nonlocal transactions
        transactions += 1
        other = sqlite3.connect(db, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the import held the lock
            other.execute("ROLLBACK")
        finally:
            other.close()
        return real()

    monkeypatch.setattr(storage, "immediate", counted)
    report = importer.import_seed(course.id, seed)
    assert (report.records_imported, report.registrations_imported) == (50_000, 1000)
    assert transactions >= 10
    assert Attendance.select().count() == 50_000 and Event.select().count() == 51_000


def test_an_interrupted_import_is_finished_by_running_it_again(
    importer: SeedImportService, course: CourseInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after some chunks were committed keeps them (each with its events); the second run
    brings in the rest, and a third changes nothing."""
    monkeypatch.setattr(seedimport, "SEED_CHUNK", 100)
    path = _big_seed(tmp_path / "seed.db", 1000)
    real = storage.insert_seed_events
    calls = 0

    def failing(rows: Sequence[dict[str, Any]]) -> None:
        nonlocal calls
        calls += any(row["session_id"] is not None for row in rows)
        if calls == 3:  # the third chunk of records
            raise RuntimeError("power cut")
        real(rows)

    monkeypatch.setattr(storage, "insert_seed_events", failing)
    with pytest.raises(RuntimeError):
        do_import(importer, course, path)
    kept = Attendance.select().count()
    assert 0 < kept < 1000
    assert Event.select().where(Event.session_id.is_null(False)).count() == kept  # no record without its event
    monkeypatch.setattr(storage, "insert_seed_events", real)
    again = do_import(importer, course, path)
    assert (again.records_imported, again.records_there) == (1000 - kept, kept)
    assert Attendance.select().count() == 1000 and Event.select().count() == 1000 + 1000
    before = snapshot()
    assert not do_import(importer, course, path).changed
    assert snapshot() == before
