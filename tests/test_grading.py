"""The grading policy: a grade read from the record by the course's late_points and drop_lowest,
counted by hand on the gradebook's small class, set from the shell, shown in the report and exports."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from _course import GUILD_ID
from _semester import SESSIONS, build_semester

from attendance_bot import messages
from attendance_bot.courses import CourseService
from attendance_bot.errors import CourseError
from attendance_bot.export import format_document
from attendance_bot.gradebook import GradebookService, grade
from attendance_bot.models import Course
from attendance_bot.records import GradebookRow, GradingPolicy, Totals
from attendance_bot.settings import Settings
from attendance_bot.shell.entry import main

pytestmark = pytest.mark.backends("sqlite", "postgresql")

# The class of tests/_semester.py (P present, L late, E excused, A absent, - no status; S4 is open):
#   A001 Ada   E L A P      B002 Bob  P P A -      C003 Cy   A E A -      D004 Dee  A A A -
#   E005 Eve   E E E -      X999 Xena - L - -      zed       P - - P
# Default policy (late 0.8, none dropped):   Ada (0.8 + 0 + 1) / 3 = 60.00; Bob 2 / 3 = 66.67;
#   Cy 0 / 2 = 0.00; Dee 0.00; Eve excused throughout: no grade; Xena 0.8 / 1 = 80.00; zed 100.00.
# Late 0.5, the lowest dropped:   Ada drops A: (0.5 + 1) / 2 = 75.00; Bob drops A: 100.00; Cy drops
#   one A: 0.00; Dee 0.00; Eve none; Xena has one graded session, never dropped: 50.00; zed 100.00.
DEFAULT_GRADES = {"A001": "60.00", "B002": "66.67", "C003": "0.00", "D004": "0.00", "E005": "", "X999": "80.00"}
DEFAULT_GRADES |= {"zed": "100.00"}
HALF_DROP_ONE = {"A001": "75.00", "B002": "100.00", "C003": "0.00", "D004": "0.00", "E005": "", "X999": "50.00"}
HALF_DROP_ONE |= {"zed": "100.00"}


@pytest.fixture
def semester(db: Path) -> int:
    return build_semester()


def _grades(settings: Settings, course: int) -> dict[str, str]:
    book = GradebookService(settings).gradebook(course)
    return {_label(row): row.grade_text for row in book.rows}


def _label(row: GradebookRow) -> str:
    return row.student.student_id or row.student.username or ""


def test_grades_by_hand_with_the_default_policy(settings: Settings, semester: int) -> None:
    """Present 1, late 0.8, absent 0, excused left out (Eve, excused throughout, has no grade)."""
    assert _grades(settings, semester) == DEFAULT_GRADES


def test_a_changed_policy_regrades_past_sessions(settings: Settings, semester: int) -> None:
    """late_points 0.5 and drop_lowest 1 set after the sessions: every grade follows at once, the
    record is untouched, and a student with one graded session keeps it."""
    CourseService(settings).edit(semester, late_points=Decimal("0.5"), drop_lowest=1)
    assert _grades(settings, semester) == HALF_DROP_ONE
    CourseService(settings).edit(semester, late_points=None, drop_lowest=None)  # unset: the defaults again
    assert _grades(settings, semester) == DEFAULT_GRADES


def test_the_policy_is_stored_not_the_grades(settings: Settings, semester: int) -> None:
    """The course row holds the two settings as set (0.5 as 0.50); no grade is written anywhere."""
    CourseService(settings).edit(semester, late_points=Decimal("0.5"), drop_lowest=2)
    row = Course.get_by_id(semester)
    assert (row.late_points, row.drop_lowest) == (Decimal("0.50"), 2)
    assert CourseService(settings).get(semester).policy == GradingPolicy(Decimal("0.5"), 2)


@pytest.mark.parametrize(
    ("counts", "policy", "expected"),
    [
        ((4, 1, 1, 1, 1), GradingPolicy(), Decimal("60.00")),  # excused left out: 1.8 / 3
        ((3, 3, 0, 0, 0), GradingPolicy(), Decimal("100.00")),
        ((3, 0, 3, 0, 0), GradingPolicy(Decimal("0.75")), Decimal("75.00")),
        ((3, 0, 3, 0, 0), GradingPolicy(Decimal("0")), Decimal("0.00")),
        ((3, 0, 0, 3, 0), GradingPolicy(), None),  # every session excused: nothing to grade
        ((0, 0, 0, 0, 0), GradingPolicy(drop_lowest=3), None),
        ((5, 3, 1, 0, 1), GradingPolicy(drop_lowest=1), Decimal("95.00")),  # the absence goes: 3.8 / 4
        ((5, 3, 1, 0, 1), GradingPolicy(drop_lowest=2), Decimal("100.00")),  # then the late one
        ((2, 0, 0, 0, 2), GradingPolicy(drop_lowest=10), Decimal("0.00")),  # never the last session
        ((8, 0, 1, 0, 7), GradingPolicy(Decimal("0.01")), Decimal("0.13")),  # 0.125 rounds half up, not to even
        ((3, 2, 0, 0, 1), GradingPolicy(), Decimal("66.67")),
    ],
)
def test_grade_rules_and_rounding(
    counts: tuple[int, int, int, int, int], policy: GradingPolicy, expected: object
) -> None:
    """grade() over (sessions, present, late, excused, absent): points kept over sessions kept, 0-100, two places."""
    assert grade(Totals(*counts), policy) == expected


def test_the_gradebook_export_has_the_grade_after_the_rate(settings: Settings, semester: int) -> None:
    """The gradebook CSV's last column is `grade`, by the course's policy, roster students only."""
    CourseService(settings).edit(semester, late_points=Decimal("0.5"), drop_lowest=1)
    data, _ = format_document("gradebook", GradebookService(settings).gradebook(semester), settings.timezone)
    table = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert table[0][-2:] == ["rate", "grade"]
    assert {row[0]: row[-1] for row in table[1:]} == {k: v for k, v in HALF_DROP_ONE.items() if k[0] in "ABCDE"}


def test_one_sessions_export_grades_that_session_alone(settings: Settings, semester: int) -> None:
    """A gradebook of one session grades over that session: Bob was absent in S3, so 0.00."""
    data, _ = format_document(
        "gradebook", GradebookService(settings).gradebook(semester, SESSIONS[2]), settings.timezone
    )
    table = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert {row[0]: row[-1] for row in table[1:]}["B002"] == "0.00"


def test_my_attendance_carries_the_grade_and_the_policy(settings: Settings, semester: int) -> None:
    """A student's own view has their grade and the policy it follows, and says both."""
    CourseService(settings).edit(semester, drop_lowest=1)
    [mine] = GradebookService(settings).student_attendance(GUILD_ID, 101)
    assert (mine.grade, mine.policy) == (Decimal("90.00"), GradingPolicy(Decimal("0.8"), 1))
    line = messages.my_attendance_lines([mine], settings.timezone)[0]
    assert messages.grade_part(Decimal("90.00"), mine.policy) in line
    assert "grade 90.00/100 (late counts 0.8, your lowest session dropped)" in line


@pytest.mark.parametrize("value", [Decimal("-0.01"), Decimal("1.01"), Decimal("0.333"), 2, Decimal("NaN")])
def test_late_points_out_of_range_or_too_fine_are_refused(settings: Settings, semester: int, value: object) -> None:
    """late_points is 0-1 with at most two decimals: anything else is the range sentence, and nothing changes."""
    courses = CourseService(settings)
    before = courses.get(semester)
    with pytest.raises(CourseError) as caught:
        courses.edit(semester, late_points=value)
    assert str(caught.value) == messages.course_setting_out_of_range("late_points", value, 0, 1, "points")
    assert courses.get(semester) == before


def _shell(settings: Settings, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env_file = tmp_path / "empty.env"
    env_file.touch()
    out, err = io.StringIO(), io.StringIO()
    key, value = (
        ("DATABASE_URL", settings.database_url)
        if settings.database_url
        else ("DATABASE_PATH", str(settings.database_path))
    )
    status = main(["--env-file", str(env_file), *args], stdout=out, stderr=err, environ={key: str(value)})
    return status, out.getvalue(), err.getvalue()


def test_the_shell_sets_and_unsets_the_policy(settings: Settings, semester: int, tmp_path: Path) -> None:
    """`course edit --late-points 0.5 --drop-lowest 1` sets both; `default` goes back to 0.8 and 0."""
    status, _, err = _shell(
        settings, tmp_path, "course", "edit", "default", "--late-points", "0.5", "--drop-lowest", "1"
    )
    assert status == 0, err
    assert CourseService(settings).get(semester).policy == GradingPolicy(Decimal("0.5"), 1)
    status, _, err = _shell(
        settings, tmp_path, "course", "edit", "default", "--late-points", "default", "--drop-lowest", "default"
    )
    assert status == 0, err
    assert CourseService(settings).get(semester).policy == GradingPolicy()


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("0,8", messages.bad_points("--late-points", "0,8")),
        ("1e-1", messages.bad_points("--late-points", "1e-1")),
        ("NaN", messages.bad_points("--late-points", "NaN")),
        ("0.125", messages.course_setting_out_of_range("late_points", Decimal("0.125"), 0, 1, "points")),
        ("1.5", messages.course_setting_out_of_range("late_points", Decimal("1.5"), 0, 1, "points")),
    ],
)
def test_the_shell_refuses_a_bad_late_points(
    settings: Settings, semester: int, tmp_path: Path, typed: str, said: str
) -> None:
    """A comma, an exponent, NaN, three decimals or more than 1: one line saying so, and nothing changes."""
    status, _, err = _shell(settings, tmp_path, "course", "edit", "default", "--late-points", typed)
    assert (status, err) == (1, f"Error: {said}\n")
    assert CourseService(settings).get(semester).policy == GradingPolicy()


def test_the_shell_report_prints_the_policy(settings: Settings, semester: int, tmp_path: Path) -> None:
    """`report` writes the grade column after the rate and prints how the grades were made."""
    CourseService(settings).edit(semester, late_points=Decimal("0.5"), drop_lowest=1)
    status, out, err = _shell(settings, tmp_path, "report", "--output", str(tmp_path))
    assert status == 0, err
    assert out.splitlines()[-1] == messages.grading_policy(GradingPolicy(Decimal("0.5"), 1))
    table = list(csv.reader(io.StringIO((tmp_path / "attendance_report_default.csv").read_text(), newline="")))
    assert table[0][8:10] == ["rate", "grade"]
    assert {row[0] or row[2]: row[9] for row in table[1:]} == HALF_DROP_ONE
