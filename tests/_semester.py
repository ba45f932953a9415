"""A hand-countable course for the gradebook, report and export tests, written through the models.

Sessions S1, S2, S3 are closed, S4 is open. The roster and the records (P present, L late,
E excused, A absent, - no record; * stored by an instructor's mark):

    student            how linked                       S1   S2   S3   S4 (open)
    A001 Ada           /register by account 101         E*   L    -    P      (+ a /here in S1, overridden)
    B002 Bob           roster discord "bobby" = "Bobby" P    P    A*   -
    C003 Cy            none (marks with user_id NULL)   -    E*   -    -
    D004 Dee           none, no record                  -    -    -    -
    E005 Eve           none (marks with user_id NULL)   E*   E*   E*   -
    zed (account 201)  not on the roster                P    -    -    P
    X999 (account 202) registered, not on the roster    -    L    -    -

Totals (sessions, present, late, excused, absent, rate) and grade (late 0.8, none dropped):
    Ada 4,1,1,1,1,0.667 60.00  Bob 3,2,0,0,1,0.667 66.67  Cy 3,0,0,1,2,0.000 0.00  Dee 3,0,0,0,3,0.000 0.00
    Eve 3,0,0,3,0,(empty) (empty)  X999 1,0,1,0,0,1.000 80.00  zed 2,2,0,0,0,1.000 100.00
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from _course import GUILD_ID

from attendance_bot import codes, storage
from attendance_bot.models import Attendance, Course, RosterEntry, Student

T0 = datetime(2024, 9, 2, 9, 0, 0, tzinfo=timezone.utc)
SESSIONS = ("20240902-0900-AAAA", "20240903-0900-BBBB", "20240904-0900-CCCC", "20240905-0900-DDDD")
# The report's rows: the totals, the grade by the default policy (present 1, late 0.8, absent 0,
# excused left out; tests/test_grading.py counts them), then voice_minutes (no session had a voice channel).
CSV_ROWS = [
    ["A001", "Ada", "ada", "4", "1", "1", "1", "1", "0.667", "60.00", ""],
    ["B002", "Bob", "Bobby", "3", "2", "0", "0", "1", "0.667", "66.67", ""],
    ["C003", "Cy", "", "3", "0", "0", "1", "2", "0.000", "0.00", ""],
    ["D004", "Dee", "", "3", "0", "0", "0", "3", "0.000", "0.00", ""],
    ["E005", "Eve", "", "3", "0", "0", "3", "0", "", "", ""],
    ["X999", "Xena (not on the roster)", "xena", "1", "0", "1", "0", "0", "1.000", "80.00", ""],
    ["", "Zed Display (not on the roster)", "zed", "2", "2", "0", "0", "0", "1.000", "100.00", ""],
]


def course_id() -> int:
    return Course.get(Course.name == "default").id


def add_session(course: int, number: int, *, open_: bool = False, session_id: str | None = None) -> str:
    opened = T0 + timedelta(days=number)
    sid = session_id or (SESSIONS[number] if number < len(SESSIONS) else f"{opened:%Y%m%d-%H%M}-S{number:03d}")
    storage.create_session(
        session_id=sid,
        secret=codes.new_secret(),
        interval=15,
        code_length=4,
        grace_seconds=15,
        opened_at=opened,
        opened_by="test",
        closed_at=None if open_ else opened + timedelta(hours=1),
        course_id=course,
    )
    return sid


def record(
    session: str,
    *,
    user_id: int | None,
    username: str = "",
    status: str = "present",
    source: str = "code",
    key: str | None = None,
    minutes: float = 1,
    display_name: str | None = None,
) -> None:
    day = SESSIONS.index(session) if session in SESSIONS else 0
    at = T0 + timedelta(days=day, minutes=minutes)
    Attendance.create(
        user_id=user_id,
        username=username,
        timestamp=at.strftime("%Y-%m-%d %H:%M:%S"),
        date_id=at.strftime("%Y-%m-%d"),
        session_id=session,
        display_name=display_name,
        submitted_at=at,
        status=status,
        source=source,
        student_key=key,
    )


def roster(course: int, student_id: str, name: str, discord: str | None = None) -> None:
    RosterEntry.create(
        course_id=course,
        student_id=student_id,
        student_key=student_id.casefold(),
        name=name,
        discord=discord,
        added_at=T0,
    )


def register(user_id: int, student_id: str, name: str | None = None, guild_id: int = GUILD_ID) -> None:
    Student.create(
        guild_id=guild_id,
        user_id=user_id,
        student_id=student_id,
        student_key=student_id.casefold(),
        name=name,
        registered_at=T0,
    )


def build_semester() -> int:
    """The course above, in the `db` fixture's course "default"; its id."""
    course = course_id()
    s1, s2, s3 = (add_session(course, n) for n in range(3))
    s4 = add_session(course, 3, open_=True)
    for sid, name, discord in (
        ("A001", "Ada", None),
        ("B002", "Bob", "bobby"),
        ("C003", "Cy", None),
        ("D004", "Dee", None),
        ("E005", "Eve", None),
    ):
        roster(course, sid, name, discord)
    register(101, "A001", "Ada Registered")
    register(202, "X999", "Xena")
    # Ada: a /here in S1 that her instructor's excused mark (made before she registered) overrides.
    record(s1, user_id=101, username="ada", minutes=2)
    record(s1, user_id=None, status="excused", source="manual", key="a001", minutes=1)
    record(s2, user_id=101, username="ada", status="late", minutes=20)
    record(s4, user_id=101, username="ada")
    # Bob: linked by the roster's discord column only (usernames compare without case).
    record(s1, user_id=102, username="Bobby")
    record(s2, user_id=102, username="Bobby")
    record(s3, user_id=102, username="Bobby", status="absent", source="manual", key="b002")
    # Cy and Eve: marks of roster students with no linked account.
    record(s2, user_id=None, status="excused", source="manual", key="c003")
    for sid in (s1, s2, s3):
        record(sid, user_id=None, status="excused", source="manual", key="e005")
    # Not on the roster: zed (an account only), Xena (registered as X999).
    record(s1, user_id=201, username="zed", display_name="Zed Display")
    record(s4, user_id=201, username="zed", display_name="Zed Display")
    record(s2, user_id=202, username="xena", status="late", minutes=30)
    return course
