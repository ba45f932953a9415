"""The gradebook: who each record belongs to, every cell's status and the totals, on a hand-counted course."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from _course import GUILD_ID
from _semester import SESSIONS, add_session, build_semester, course_id, record, register, roster

from attendance_bot.gradebook import GradebookService, totals
from attendance_bot.models import database
from attendance_bot.records import Cell, Gradebook, GradebookRow, Totals
from attendance_bot.settings import Settings

pytestmark = pytest.mark.backends("sqlite", "postgresql")


@pytest.fixture
def gradebooks(settings: Settings, db: Path) -> GradebookService:
    return GradebookService(settings)


@pytest.fixture
def book(gradebooks: GradebookService) -> Gradebook:
    return gradebooks.gradebook(build_semester())


def row_of(book: Gradebook, label: str) -> GradebookRow:
    """A row by student id, else by Discord username."""
    return next(r for r in book.rows if label in (r.student.student_id, r.student.username))


def statuses(row: GradebookRow) -> list[str | None]:
    return [None if cell is None else cell.status for cell in row.cells]


def test_sessions_come_in_opening_order_with_the_open_one_last(book: Gradebook) -> None:
    """Columns are the course's sessions, oldest first; only S4 is open."""
    assert [s.session_id for s in book.sessions] == list(SESSIONS)
    assert [s.is_open for s in book.sessions] == [False, False, False, True]


def test_roster_students_come_first_then_the_others(book: Gradebook) -> None:
    """Roster entries by student id, then the students not on the roster by username."""
    assert [(r.student.student_id, r.student.on_roster) for r in book.rows] == [
        ("A001", True),
        ("B002", True),
        ("C003", True),
        ("D004", True),
        ("E005", True),
        ("X999", False),
        (None, False),
    ]


@pytest.mark.parametrize(
    ("who", "cells", "counts"),
    [
        ("A001", ["excused", "late", "absent", "present"], (4, 1, 1, 1, 1)),
        ("B002", ["present", "present", "absent", None], (3, 2, 0, 0, 1)),
        ("C003", ["absent", "excused", "absent", None], (3, 0, 0, 1, 2)),
        ("D004", ["absent", "absent", "absent", None], (3, 0, 0, 0, 3)),
        ("E005", ["excused", "excused", "excused", None], (3, 0, 0, 3, 0)),
        ("X999", [None, "late", None, None], (1, 0, 1, 0, 0)),
        ("zed", ["present", None, None, "present"], (2, 2, 0, 0, 0)),
    ],
)
def test_cells_and_totals_match_the_hand_count(
    book: Gradebook, who: str, cells: list[str | None], counts: tuple[int, ...]
) -> None:
    """Each student's statuses per session and (sessions, present, late, excused, absent), counted by hand."""
    row = row_of(book, who)
    assert statuses(row) == cells
    t = row.totals
    assert (t.sessions, t.present, t.late, t.excused, t.absent) == counts


def test_a_registered_account_is_its_roster_student(book: Gradebook) -> None:
    """Account 101 registered A001: its check-ins are Ada's, and Ada's account is 101."""
    ada = row_of(book, "A001")
    assert (ada.student.user_id, ada.student.username, ada.student.name) == (101, "ada", "Ada")


def test_the_discord_column_links_an_account_whatever_its_case(book: Gradebook) -> None:
    """Bob's roster username "bobby" takes the records of account 102, named "Bobby"."""
    bob = row_of(book, "B002")
    assert (bob.student.user_id, bob.student.username) == (102, "Bobby")


def test_a_mark_of_an_unlinked_roster_student_counts_for_them(book: Gradebook) -> None:
    """Cy's excused mark (user_id NULL, student key c003) is Cy's, and Cy has no account."""
    cy = row_of(book, "C003")
    assert cy.cells[1] is not None and cy.cells[1].record is not None
    assert cy.cells[1].record.user_id is None
    assert cy.student.user_id is None


def test_an_instructors_mark_stands_over_a_check_in_of_the_same_student(book: Gradebook) -> None:
    """Ada's S1 has her /here (present) and an earlier excused mark by student id: the mark counts."""
    cell = row_of(book, "A001").cells[0]
    assert cell is not None and cell.record is not None
    assert (cell.status, cell.record.source) == ("excused", "manual")


def test_absences_are_computed_only_for_closed_sessions(book: Gradebook) -> None:
    """Dee has no record: absent in S1-S3 (no stored record), blank in the open S4."""
    dee = row_of(book, "D004")
    assert all(cell is not None and cell.record is None for cell in dee.cells[:3])
    assert dee.cells[3] is None


def test_students_not_on_the_roster_are_never_absent(book: Gradebook) -> None:
    """zed's sessions are the ones with a record: no absence, two sessions."""
    zed = row_of(book, "zed")
    assert zed.totals.absent == 0
    assert zed.student.student_id is None and zed.student.display_name == "Zed Display"


def test_a_registration_not_on_the_roster_names_the_student(book: Gradebook) -> None:
    """Account 202 registered as X999, not on the roster: listed with that id and its registered name."""
    xena = row_of(book, "X999")
    assert (xena.student.name, xena.student.user_id, xena.student.on_roster) == ("Xena", 202, False)


@pytest.mark.parametrize(
    ("who", "rate"),
    [("A001", "0.667"), ("B002", "0.667"), ("C003", "0.000"), ("D004", "0.000"), ("E005", ""), ("zed", "1.000")],
)
def test_rate_is_present_and_late_over_sessions_less_excused(book: Gradebook, who: str, rate: str) -> None:
    """rate = (present + late) / (sessions - excused), 3 places; excused shrinks the divisor; 0 gives empty."""
    assert row_of(book, who).totals.rate_text == rate


@pytest.mark.parametrize(
    ("counts", "rate"),
    [
        ((7, 6, 0, 0, 1), Decimal("0.857")),
        ((16, 1, 0, 0, 15), Decimal("0.063")),  # 0.0625 rounds half up, not to even
        ((3, 0, 0, 3, 0), None),
        ((0, 0, 0, 0, 0), None),
        ((5, 3, 2, 0, 0), Decimal("1.000")),
    ],
)
def test_rate_rounding_and_zero_divisor(counts: tuple[int, int, int, int, int], rate: Decimal | None) -> None:
    """Rates round half up to three places; a divisor of 0 has no rate."""
    assert Totals(*counts).rate == rate


def test_totals_skip_blank_cells() -> None:
    """A blank cell (the open session, or not a session of theirs) is not counted as a session."""
    assert totals([Cell("present"), None, Cell("absent"), Cell("late")]) == Totals(3, 1, 1, 0, 1)


def test_one_session_gives_one_column(gradebooks: GradebookService) -> None:
    """gradebook(course, session) holds only that session, with totals over it."""
    course = build_semester()
    book = gradebooks.gradebook(course, SESSIONS[2])
    assert [s.session_id for s in book.sessions] == [SESSIONS[2]]
    assert statuses(row_of(book, "B002")) == ["absent"]
    assert row_of(book, "D004").totals.sessions == 1
    assert all(r.student.student_id != "X999" for r in book.rows)  # no record in S3


def test_an_empty_course_has_no_rows(gradebooks: GradebookService) -> None:
    """No sessions and no roster: an empty gradebook, not an error."""
    book = gradebooks.gradebook(course_id())
    assert (book.sessions, book.rows) == ((), ())


def test_the_read_is_a_handful_of_queries_whatever_the_size(gradebooks: GradebookService) -> None:
    """Reading 60 students x 6 sessions runs the same few statements as reading 2 x 1."""
    course = course_id()

    def count_queries() -> int:
        seen: list[str] = []
        execute = database.execute_sql

        def spy(sql: str, params: object = None, *args: object, **kwargs: object) -> object:
            seen.append(sql)
            return execute(sql, params, *args, **kwargs)

        database.obj.execute_sql = spy  # the proxy's database: the proxy itself takes no attributes
        try:
            gradebooks.gradebook(course)
        finally:
            del database.obj.execute_sql
        return len(seen)

    add_session(course, 0)
    roster(course, "A1", "One")
    register(1, "A1")
    record(SESSIONS[0], user_id=1, username="one")
    small = count_queries()
    for n in range(60):
        roster(course, f"R{n}", f"Student {n}")
        register(1000 + n, f"R{n}")
    for day in range(1, 6):
        sid = add_session(course, day)
        for n in range(60):
            record(sid, user_id=1000 + n, username=f"u{n}")
    assert count_queries() == small <= 6


def test_my_attendance_finds_a_registered_student(gradebooks: GradebookService) -> None:
    """The view of account 101: course "default", Ada's four sessions with their statuses, and her totals."""
    build_semester()
    [mine] = gradebooks.student_attendance(GUILD_ID, 101)
    assert mine.course_name == "default" and mine.student.student_id == "A001"
    assert [s.status for s in mine.sessions] == ["excused", "late", "absent", "present"]
    assert mine.totals.rate_text == "0.667"


def test_my_attendance_of_a_roster_student_shows_the_open_session_blank(gradebooks: GradebookService) -> None:
    """Bob (linked by the discord column) sees S1-S3 and the open S4 with no status yet."""
    build_semester()
    [mine] = gradebooks.student_attendance(GUILD_ID, 102)
    assert [(s.session.session_id, s.status) for s in mine.sessions][-1] == (SESSIONS[3], None)


def test_my_attendance_links_by_username_before_any_record(gradebooks: GradebookService) -> None:
    """A roster student whose discord column names the account sees their absences before checking in."""
    course = build_semester()
    roster(course, "F006", "Fay", "fay")
    [mine] = gradebooks.student_attendance(GUILD_ID, 303, username="Fay")
    assert mine.student.student_id == "F006" and mine.totals.absent == 3


def test_my_attendance_of_a_student_not_on_the_roster_lists_their_sessions_only(gradebooks: GradebookService) -> None:
    """zed sees the two sessions they have a record in."""
    build_semester()
    [mine] = gradebooks.student_attendance(GUILD_ID, 201)
    assert [s.session.session_id for s in mine.sessions] == [SESSIONS[0], SESSIONS[3]]


def test_my_attendance_of_a_stranger_is_empty(gradebooks: GradebookService) -> None:
    """An account that is nobody in the server's courses gets [] (and so does another server)."""
    build_semester()
    assert gradebooks.student_attendance(GUILD_ID, 999) == []
    assert gradebooks.student_attendance(GUILD_ID + 1, 101) == []


def test_my_attendance_can_name_one_course(gradebooks: GradebookService) -> None:
    """course_id restricts the view to that course (an unknown one gives [])."""
    course = build_semester()
    assert len(gradebooks.student_attendance(GUILD_ID, 101, course_id=course)) == 1
    assert gradebooks.student_attendance(GUILD_ID, 101, course_id=course + 100) == []
