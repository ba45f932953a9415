"""The grading policy: how the report and /my_attendance say a course's policy and a student's grade."""

from __future__ import annotations

from decimal import Decimal

from ..records import GradingPolicy, grade_text
from .text import quoted

# -- the grading policy (records.GradingPolicy, gradebook.grade) ---------------------------------


def points_text(points: Decimal) -> str:
    """Points as people write them: 0.8, 0.75, 1, 0 (not 0.80 or 1.00)."""
    return format(Decimal(points).normalize(), "f")


def _lowest(count: int, whose: str) -> str:
    """`each student's lowest session dropped`, `your 2 lowest sessions dropped`, or nothing dropped."""
    if count == 0:
        return "no session dropped"
    if count == 1:
        return f"{whose} lowest session dropped"
    return f"{whose} {count} lowest sessions dropped"


def grading_policy(policy: GradingPolicy) -> str:
    """The report's sentence on how its grades are made (read from the record: a change of the policy
    applies to past sessions too)."""
    dropped = _lowest(policy.drop_lowest, "each student's")
    return (
        f"Grades (0-100): present counts 1, late {points_text(policy.late_points)}, absent 0, excused sessions "
        f"are left out, {dropped} (the course's late_points and drop_lowest; a change applies to past sessions too)."
    )


def grade_part(grade: Decimal | None, policy: GradingPolicy) -> str:
    """/my_attendance's words on a student's grade in a course, with the policy in brief."""
    if grade is None:
        return "no grade yet"
    dropped = f", {_lowest(policy.drop_lowest, 'your')}" if policy.drop_lowest else ""
    return f"grade {grade_text(grade)}/100 (late counts {points_text(policy.late_points)}{dropped})"


def bad_points(option: str, value: str) -> str:
    """The shell's `--late-points` given something that is no decimal number."""
    return f"{option} must be a number such as 0.8 (with a point, not a comma), not {quoted(value, 40)}"
