"""A course's roster: the LMS's CSV parsed (and refused whole), imported (merge or replace), listed, linked."""

from __future__ import annotations

import re
import time
import unicodedata
from pathlib import Path

import pytest
from _course import ATTENDANCE_CHANNEL_ID, GUILD_ID
from _shell import run_shell
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from attendance_bot import messages, storage
from attendance_bot.attendance import AttendanceService
from attendance_bot.models import Attendance, Event, RosterEntry
from attendance_bot.roster import (
    MAX_BYTES,
    MAX_ROWS,
    RosterError,
    RosterRow,
    RosterService,
    parse_columns,
    parse_roster,
)
from attendance_bot.shell.entry import main
from attendance_bot.students import StudentService

pytestmark = pytest.mark.backends("sqlite", "postgresql")

ID_RULE = re.compile(r"[A-Za-z0-9._-]{1,32}")
DISCORD_RULE = re.compile(r"[a-z0-9_.]{2,32}")


def refused(data: bytes) -> RosterError:
    with pytest.raises(RosterError) as caught:
        parse_roster(data)
    assert "\n" not in str(caught.value)
    return caught.value


# -- the file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"student_id,name\nS1,Ada\n", [RosterRow("S1", "Ada", None)]),
        (b"\xef\xbb\xbfstudent_id,name\r\nS1,Ada\r\n", [RosterRow("S1", "Ada", None)]),
        (b"student_id;name;discord\nS1;Lovelace, Ada;ada.l\n", [RosterRow("S1", "Lovelace, Ada", "ada.l")]),
        (b'student_id,name\nS1,"Lovelace, Ada"\n', [RosterRow("S1", "Lovelace, Ada", None)]),
        (b'student_id,name\nS1,"Ada ""the"" Countess"\n', [RosterRow("S1", 'Ada "the" Countess', None)]),
        (b" Student_ID , NAME ,Discord\r\n S1 ,  Ada  , @Ada_L \r\n", [RosterRow("S1", "Ada", "ada_l")]),
        (b"Student ID,Name,Email\nS1,Ada,ada@example.org\n", [RosterRow("S1", "Ada", None)]),
        (b"name,student_id\nAda,S1\n\n,\nBob,S2", [RosterRow("S1", "Ada", None), RosterRow("S2", "Bob", None)]),
        (b"student_id,name,discord\nS1,Ada,\n", [RosterRow("S1", "Ada", None)]),
        (b"student_id,name\nS1,Ada,,\n", [RosterRow("S1", "Ada", None)]),  # Excel's empty trailing cells
        ("student_id,name\nS1,\u05e9\u05e8\u05d4 \u200f\U0001f469\u200d\U0001f52c\n".encode(), None),
    ],
    ids=["plain", "bom-crlf", "semicolon", "quoted-comma", "quoted-quote", "header-case", "extra-column",
         "column-order-blank-lines", "empty-discord", "trailing-empty-cells", "rtl-emoji-name"],
)  # fmt: skip
def test_a_roster_file_is_read(data: bytes, expected: list[RosterRow] | None) -> None:
    """UTF-8 with or without BOM, `,` or `;`, RFC 4180 quotes, any header case and column order."""
    rows = parse_roster(data)
    if expected is None:  # right-to-left marks and emoji are kept in names as typed
        expected = [RosterRow("S1", data.decode().splitlines()[1].split(",", 1)[1], None)]
    assert rows == expected


@pytest.mark.parametrize(
    ("data", "sentence", "line"),
    [
        (b"", messages.roster_empty(), 1),
        (b" \r\n\r\n", messages.roster_empty(), 1),
        (b"student_id,name\r\n", messages.roster_no_students(), 1),
        (b"id,name\nS1,Ada\n", messages.roster_missing_columns(["student_id"], ["id", "name"]), 1),
        (b"student_id,name,Name\nS1,Ada,A\n", messages.roster_duplicate_column("name"), 1),
        (b"student_id,name\nS1,Ada\nS 2,Bob\n", messages.roster_bad_student_id(3, "S 2", 32), 3),
        (b"student_id,name\nS1,Ada\n,Bob\n", messages.roster_bad_student_id(3, "", 32), 3),
        (b"student_id,name\n" + b"S" * 33 + b",Ada\n", messages.roster_bad_student_id(2, "S" * 33, 32), 2),
        (b"student_id,name\nS1,\n", messages.roster_bad_name(2, 100), 2),
        (b'student_id,name\nS1,"Ada\nLovelace"\n', messages.roster_bad_name(2, 100), 2),
        (b"student_id,name\nS1," + b"a" * 101 + b"\n", messages.roster_bad_name(2, 100), 2),
        (b"student_id,name,discord\nS1,Ada,a\n", messages.roster_bad_discord(2, "a"), 2),
        (b"student_id,name,discord\nS1,Ada,ada lovelace\n", messages.roster_bad_discord(2, "ada lovelace"), 2),
        (b"student_id,name\nS1,Ada\nS2,Bob\ns1,Ann\n", messages.roster_duplicate_student(2, 4, "s1"), 4),
        (b"student_id,name\nS1,Ada\nS2,Bob,x\n", messages.roster_extra_cells(3, 3, 2), 3),
        (b'student_id,name\nS1,Ada\n"S2,Bob\nS3,Cy\n', None, 3),  # an unclosed quote: where it starts
        (b"student_id,name\nS1,Ada\nS2,\xe9\n", messages.roster_not_utf8(3), 3),
    ],
    ids=["empty", "blank", "header-only", "missing-column", "column-twice", "bad-id", "empty-id", "long-id",
         "empty-name", "name-line-break", "long-name", "short-discord", "discord-space", "duplicate-id",
         "extra-cells", "unclosed-quote", "latin-1"],
)  # fmt: skip
def test_a_malformed_roster_is_refused_with_its_line(data: bytes, sentence: str | None, line: int) -> None:
    """The first problem is one sentence naming its line (the header is line 1)."""
    error = refused(data)
    assert error.line == line
    if sentence is not None:
        assert str(error) == sentence
    assert f"Line {line} " in str(error) or f" {line} " in str(error) or line == 1


def test_a_duplicate_id_names_both_lines() -> None:
    """Two rows with one student id (case does not count) name both lines."""
    error = refused(b"student_id,name\nab-1,Ada\nx,y\nAB-1,Ann\n")
    assert "Lines 2 and 4 " in str(error)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "a PNG image"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "a JPEG image"),
        (b"GIF89a" + b"\x01" * 100, "a GIF image"),
        (b"PK\x03\x04" + b"\x00" * 100, "a ZIP archive (an Excel workbook?)"),
        ("student_id,name\nS1,Ada\n".encode("utf-16"), "UTF-16 text"),
        (b"student_id,name\nS1,A\x00da\n", "a binary file"),
    ],
)
def test_a_file_that_is_not_text_is_refused_in_one_line(data: bytes, kind: str) -> None:
    """Images, workbooks, UTF-16 and NUL bytes are refused by what they are."""
    assert str(refused(data)) == messages.roster_not_text(kind)


def test_a_50_mb_file_is_refused_quickly() -> None:
    """Anything over 5 MB is refused before it is decoded or parsed."""
    data = b"student_id,name\n" + b"S1,Ada\n" * (50 * 1024 * 1024 // 7)
    started = time.perf_counter()
    error = refused(data)
    assert time.perf_counter() - started < 0.5
    assert str(error) == messages.roster_too_large(MAX_BYTES // (1024 * 1024))


def test_more_than_the_row_limit_is_refused() -> None:
    """The 10,001st student stops the reading."""
    data = b"student_id,name\n" + b"".join(b"S%d,N\n" % i for i in range(MAX_ROWS + 1))
    error = refused(data)
    assert str(error) == messages.roster_too_many_rows(MAX_ROWS)
    assert error.line == MAX_ROWS + 2
    assert len(parse_roster(data[: data.rindex(b"S")])) == MAX_ROWS


# -- the LMS's own exports ----------------------------------------------------------------------

ROSTERS = Path(__file__).parent / "fixtures" / "rosters"
ADA, CHARLES, GRACE = ("S1001", "Ada Lovelace"), ("S1002", "Charles Babbage"), ("S1003", "Grace Hopper")


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("moodle-participants.csv", [ADA, CHARLES, GRACE, ("S1004", "José Núñez García")]),
        ("moodle-grades.txt", [ADA, CHARLES, GRACE]),
        ("canvas-gradebook.csv", [("S1001", "Lovelace, Ada"), ("S1002", "Babbage, Charles"),
                                  ("S1003", "Hopper, Grace"), ("10599", "Student, Test")]),
        ("google-classroom.csv", [("ada.lovelace", "Ada Lovelace"), ("charles.babbage", "Charles Babbage"),
                                  ("grace.hopper", "Grace Hopper")]),
        ("plain.tsv", [("S1001", "Lovelace, Ada"), ("S1002", "Charles Babbage")]),
    ],
    ids=["moodle-participants", "moodle-grades-tab", "canvas", "google-classroom", "plain-tab"],
)  # fmt: skip
def test_an_lms_export_is_read_as_it_comes(fixture: str, expected: list[tuple[str, str]]) -> None:
    """Moodle (id = ID number, name = first + last), Canvas (SIS User ID, else ID; Student as given; its
    Points Possible row skipped), Google Classroom (the email's local part; its summary rows skipped), tabs."""
    rows = parse_roster((ROSTERS / fixture).read_bytes())
    assert [(row.student_id, row.name) for row in rows] == expected
    assert [row.discord for row in rows] == (["ada.l", None] if fixture == "plain.tsv" else [None] * len(expected))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"idnumber,firstname,lastname,email\nS1,Ada,Lovelace,a@x.org\n", RosterRow("S1", "Ada Lovelace", None)),
        (b"Username,First name,Last name\nalovelace,Ada,Lovelace\n", RosterRow("alovelace", "Ada Lovelace", None)),
        (b"ID number;First name;Last name;Discord\nS1;Ada;Lovelace;@Ada.L\n", RosterRow("S1", "Ada Lovelace", "ada.l")),
        (b'Student,ID,Section\n"Lovelace, Ada",10501,A\n', RosterRow("10501", "Lovelace, Ada", None)),
        (b"First Name,Last Name,Email Address\nAda,,ada@x.org\n", RosterRow("ada", "Ada", None)),
    ],
    ids=["moodle-field-names", "moodle-username", "moodle-discord", "canvas-no-sis", "google-first-name-only"],
)
def test_lms_headers_in_their_variants(data: bytes, expected: RosterRow) -> None:
    """Moodle's upload field names, Username where there is no ID number, a discord column beside an
    LMS's columns, a Canvas export without SIS columns, a name of one part."""
    assert parse_roster(data) == [expected]


@pytest.mark.parametrize(
    ("typed", "data", "expected"),
    [
        ('student_id="ID number",name="Full name",discord="Discord"',
         b"ID number,Full name,Discord\nS1,Ada Lovelace,ada\n", RosterRow("S1", "Ada Lovelace", "ada")),
        ("student_id=ID number,name=Full name",  # as the shell leaves `student_id="ID number",name="Full name"`
         b"ID number\tFull name\nS1\tAda Lovelace\n", RosterRow("S1", "Ada Lovelace", None)),
        ('student_id="Matrikel",name="Vorname+Nachname"',
         "Matrikel;Vorname;Nachname\n4711;Jürgen;Groß\n".encode(), RosterRow("4711", "Jürgen Groß", None)),
        ('name = "Vorname" + "Nachname" , student_id = matrikel',
         b"Matrikel,Vorname,Nachname\n4711,Ada,Lovelace\n", RosterRow("4711", "Ada Lovelace", None)),
        ("student_id=Username", b"ID number,First name,Last name,Username\n,Ada,Lovelace,alovelace\n",
         RosterRow("alovelace", "Ada Lovelace", None)),
        ('student_id="No., Matr."', b'"No., Matr.",name\n7,Ada\n', RosterRow("7", "Ada", None)),
        ('name="A+B"', b"student_id,A+B\nS1,Ada\n", RosterRow("S1", "Ada", None)),
    ],
    ids=["quoted", "shell-unquoted-tab", "joined-name", "spaces-and-quoted-parts", "over-an-lms-layout",
         "comma-in-column", "plus-in-column"],
)  # fmt: skip
def test_columns_names_the_columns_to_use(typed: str, data: bytes, expected: RosterRow) -> None:
    """--columns KEY="Column": any header; name="A+B" joins columns with a space; keys it does not name
    come from the LMS's layout or the plain header."""
    assert parse_roster(data, parse_columns(typed)) == [expected]


@pytest.mark.parametrize(
    "typed",
    ["", "student_id", "id=ID number", 'student_id="ID number",student_id=X', 'name=""', 'student_id="ID', "name=+"],
    ids=["empty", "no-value", "unknown-key", "key-twice", "empty-value", "unclosed-quote", "empty-part"],
)
def test_a_malformed_columns_option_is_refused(typed: str) -> None:
    """One sentence that shows the option as typed and how it is written."""
    with pytest.raises(RosterError) as caught:
        parse_columns(typed)
    assert str(caught.value) == messages.roster_bad_columns(typed, from_discord=False)


def test_a_header_we_do_not_know_shows_the_columns_found() -> None:
    """The columns found, separated visibly; the headers expected; how to name them with --columns."""
    error = refused(b"Matrikel;Vorname;Nachname;;\n4711;Ada;Lovelace;;\n")
    text = str(error)
    assert text == messages.roster_missing_columns(["student_id", "name"], ["Matrikel", "Vorname", "Nachname", "", ""])
    assert '"Matrikel" | "Vorname" | "Nachname"' in text
    assert "Moodle" in text and "Canvas" in text and "Google Classroom" in text
    assert '--columns student_id="ID number",name="First name+Last name"' in text
    assert error.line == 1
    with pytest.raises(RosterError) as caught:
        parse_roster(b"Matrikel\n4711\n", from_discord=True)
    assert 'columns:student_id="ID number"' in str(caught.value) and "--columns" not in str(caught.value)


def test_columns_naming_a_column_the_file_lacks_is_refused() -> None:
    """The column asked for, and the columns found."""
    error = refused_with(b"ID number,First name\nS1,Ada\n", 'student_id="ID number",name="First name+Surname"')
    assert str(error) == messages.roster_no_such_column(
        "name", "Surname", ["ID number", "First name"], from_discord=False
    )
    assert '"ID number" | "First name"' in str(error)


def test_columns_naming_only_the_id_says_the_name_is_missing() -> None:
    """With --columns student_id=X on a header with no name column, the refusal asks for the name only."""
    error = refused_with(b"Matrikel,Vorname\n4711,Ada\n", "student_id=Matrikel")
    assert str(error) == messages.roster_missing_columns(["name"], ["Matrikel", "Vorname"])


@pytest.mark.parametrize(
    ("data", "column", "line"),
    [
        (b"ID number,First name,Last name\nS1,Ada,Lovelace\n,Charles,Babbage\n", "ID number", 3),
        (b'Student,ID,SIS User ID\n"Lovelace, Ada",,\n', "SIS User ID", 2),
        (b"Last Name,First Name,Email Address\nLovelace,Ada,\n", "Email Address", 2),
    ],
    ids=["moodle", "canvas", "google"],
)
def test_an_empty_id_in_an_lms_export_names_its_column(data: bytes, column: str, line: int) -> None:
    """A student with no id is refused, naming the column it was read from and --columns."""
    error = refused(data)
    assert (str(error), error.line) == (messages.roster_empty_student_id(line, column, from_discord=False), line)


def refused_with(data: bytes, typed: str) -> RosterError:
    with pytest.raises(RosterError) as caught:
        parse_roster(data, parse_columns(typed))
    assert "\n" not in str(caught.value)
    return caught.value


# -- hostile values -------------------------------------------------------------------------------

HOSTILE = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.sampled_from(
        [
            "=cmd|' /C calc'!A0",
            "+SUM(A1)",
            "-2+3",
            '@HYPERLINK("x")',
            "\u202eevil",
            "\u200fS1",
            "S1\u200b",
            "\U0001f600",
            "\x00",
            "\x1b[31m",
            "a\rb",
            "\u2028",
            "x" * 6000,
            "",
            " ",
            '"',
            ";",
            ",",
        ]
    ),
)


def _cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@given(rows=st.lists(st.tuples(HOSTILE, HOSTILE, HOSTILE), max_size=6), semicolon=st.booleans())
@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hostile_values_are_refused_or_obey_the_rules(rows: list[tuple[str, str, str]], semicolon: bool) -> None:
    """Control characters, RTL marks, emoji, formulas, 6,000-character cells: a RosterError, or rows
    whose values obey the rules (formulas stored as typed)."""
    sep = ";" if semicolon else ","
    text = f"student_id{sep}name{sep}discord\r\n" + "".join(sep.join(_cell(v) for v in row) + "\r\n" for row in rows)
    try:
        parsed = parse_roster(text.encode("utf-8", "surrogatepass"))
    except RosterError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    keys = [row.student_id.casefold() for row in parsed]
    assert len(keys) == len(set(keys))
    for row in parsed:
        assert ID_RULE.fullmatch(row.student_id)
        assert 0 < len(row.name) <= 100 and row.name == row.name.strip()
        assert not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in row.name)
        assert row.discord is None or DISCORD_RULE.fullmatch(row.discord)


LMS_HEADERS = (
    ("ID number", "First name", "Last name", "Email address"),
    ("Student", "ID", "SIS User ID", "Section"),
    ("Last Name", "First Name", "Email Address", "Quiz 1"),
    ("Matrikel", "Vorname", "Nachname", "Discord"),  # read with --columns
)


@given(
    header=st.sampled_from(LMS_HEADERS),
    rows=st.lists(st.tuples(HOSTILE, HOSTILE, HOSTILE, HOSTILE), max_size=5),
    sep=st.sampled_from([",", ";", "\t"]),
)
@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hostile_values_in_lms_exports_are_refused_or_obey_the_rules(
    header: tuple[str, ...], rows: list[tuple[str, str, str, str]], sep: str
) -> None:
    """The same rules whatever the layout: joined names, email local parts and Canvas's fallback
    id give a RosterError (one sentence) or rows whose values obey them."""
    columns = (
        parse_columns("student_id=Matrikel,name=Vorname+Nachname,discord=Discord") if "Matrikel" in header else None
    )
    lines = [header, *rows]
    text = "".join(sep.join(_cell(v) for v in line) + "\r\n" for line in lines)
    try:
        parsed = parse_roster(text.encode("utf-8", "surrogatepass"), columns)
    except RosterError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    keys = [row.student_id.casefold() for row in parsed]
    assert len(keys) == len(set(keys))
    for row in parsed:
        assert ID_RULE.fullmatch(row.student_id)
        assert 0 < len(row.name) <= 100 and row.name == row.name.strip()
        assert not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in row.name)
        assert row.discord is None or DISCORD_RULE.fullmatch(row.discord)


@given(typed=st.text(max_size=80))
@hsettings(max_examples=300)
def test_any_columns_value_is_read_or_one_sentence(typed: str) -> None:
    """Whatever is typed as --columns: RosterColumns with known keys, or one sentence."""
    try:
        columns = parse_columns(typed)
    except RosterError as exc:
        assert "\n" not in str(exc)
        return
    assert set(columns.wanted) <= {"student_id", "name", "discord"} and all(columns.wanted.values())


@given(
    name=st.sampled_from(["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)", "\u202eAda", "Ada \U0001f469\u200d\U0001f52c"])
)
def test_formula_and_rtl_names_are_stored_as_typed(name: str) -> None:
    """Formula-looking names and right-to-left marks are kept (neutralised only on export)."""
    assert parse_roster(f"student_id,name\nS1,{_cell(name)}\n".encode())[0].name == name


@given(
    value=st.sampled_from(["=cmd|' /C calc'!A0", "\u202eS1", "S1\u200f", "\U0001f600", "S\x011", "S\t1", "S-\u0661"])
)
def test_formula_rtl_and_emoji_ids_are_refused(value: str) -> None:
    """Only ASCII letters, digits, '-', '_' and '.' make a student id."""
    error = refused(f"student_id,name\n{_cell(value)},Ada\n".encode())
    assert error.line == 2 and "\n" not in str(error)


@given(data=st.binary(max_size=300))
@hsettings(max_examples=300)
def test_any_bytes_are_rows_or_one_sentence(data: bytes) -> None:
    """Whatever the bytes, never an unhandled exception."""
    try:
        parse_roster(b"student_id,name\n" + data)
    except RosterError as exc:
        assert "\n" not in str(exc)


# -- import and list ------------------------------------------------------------------------------


def _rows(text: str) -> list[RosterRow]:
    return parse_roster(("student_id,name,discord\n" + text).encode())


def _entries(course_id: int) -> list[tuple[str, str, str | None]]:
    query = RosterEntry.select().where(RosterEntry.course_id == course_id).order_by(RosterEntry.student_key)
    return [(e.student_id, e.name, e.discord) for e in query]


@pytest.fixture
def roster(service: AttendanceService) -> RosterService:
    return RosterService(service.settings, service.clock)


@pytest.fixture
def course_id(service: AttendanceService) -> int:
    return service.course(None).id


def test_an_import_adds_then_merges(roster: RosterService, course_id: int) -> None:
    """Added, then updated / unchanged / added by student id (case does not count); nothing removed."""
    first = roster.import_roster(course_id, _rows("S1,Ada,\nS2,Bob,\n"), replace=False, actor="t")
    assert (first.added, first.updated, first.unchanged, first.removed, first.unmatched) == (2, 0, 0, 0, 2)
    second = roster.import_roster(course_id, _rows("s1,Ada L,ada\nS2,Bob,\nS3,Cy,\n"), replace=False, actor="t")
    assert (second.added, second.updated, second.unchanged, second.removed) == (1, 1, 1, 0)
    assert _entries(course_id) == [("s1", "Ada L", "ada"), ("S2", "Bob", None), ("S3", "Cy", None)]


def test_replace_removes_the_entries_the_file_lacks(roster: RosterService, course_id: int) -> None:
    """--replace removes roster entries missing from the file; a merge never does."""
    roster.import_roster(course_id, _rows("S1,Ada,\nS2,Bob,\nS3,Cy,\n"), replace=False, actor="t")
    merged = roster.import_roster(course_id, _rows("S2,Bob,\n"), replace=False, actor="t")
    assert merged.removed == 0 and len(_entries(course_id)) == 3
    replaced = roster.import_roster(course_id, _rows("S2,Bob,\nS4,Di,\n"), replace=True, actor="t")
    assert (replaced.added, replaced.unchanged, replaced.removed) == (1, 1, 2)
    assert [e[0] for e in _entries(course_id)] == ["S2", "S4"]


def test_replace_never_deletes_attendance_records(
    service: AttendanceService, roster: RosterService, course_id: int
) -> None:
    """Removing a student from the roster keeps their attendance records."""
    roster.import_roster(course_id, _rows("S1,Ada,ada\nS2,Bob,\n"), replace=False, actor="t")
    session = service.open_session(course_id)
    code = service.current_code(session.session_id).code
    service.submit(user_id=11, username="ada", code=code, channel_id=ATTENDANCE_CHANNEL_ID, guild_id=GUILD_ID)
    before = Attendance.select().count()
    roster.import_roster(course_id, _rows("S2,Bob,\n"), replace=True, actor="t")
    assert before == 1 and Attendance.select().count() == before


def test_each_import_is_one_event(roster: RosterService, course_id: int) -> None:
    """An import appends one event saying who and what it did."""
    roster.import_roster(course_id, _rows("S1,Ada,\n"), replace=True, actor="shell:me")
    event = Event.get(Event.action == "roster replace")
    assert (event.course_id, event.actor, event.reason) == (course_id, "shell:me", "1 added, 0 updated, 0 removed")


def test_a_failed_import_changes_nothing(
    roster: RosterService, course_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import is one transaction: a failure halfway leaves the roster as it was."""
    roster.import_roster(course_id, _rows("S1,Ada,\n"), replace=False, actor="t")

    def broken(*args: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(storage, "delete_roster_entries", broken)
    with pytest.raises(RuntimeError):
        roster.import_roster(course_id, _rows("S1,Ann,\nS2,Bob,\n"), replace=True, actor="t")
    assert _entries(course_id) == [("S1", "Ada", None)]
    assert Event.select().where(Event.action.startswith("roster")).count() == 1


def test_a_database_failure_is_one_storage_error(roster: RosterService, course_id: int, db: Path) -> None:
    """A database error during an import is the StorageError sentence; nothing is imported, no event written."""
    from _backends import execute, kind, refusing_trigger

    from attendance_bot.errors import StorageError

    execute(db, *refusing_trigger(kind(db), "no_events", "event", "INSERT", "disk says no"))
    with pytest.raises(StorageError) as caught:
        roster.import_roster(course_id, _rows("S1,Ada,\n"), replace=False, actor="t")
    assert str(caught.value) == messages.database_failure("importing the roster")
    assert _entries(course_id) == [] and Event.select().count() == 0


def test_entries_link_by_registration_or_username(
    service: AttendanceService, roster: RosterService, course_id: int
) -> None:
    """Linked: a confirmed registration of the server with the id (any case; here an instructor's link),
    or a record whose username is the entry's discord; a pending claim links nothing."""
    roster.import_roster(course_id, _rows("S1,Ada,\nS2,Bob,bob.b\nS3,Cy,cy\nS4,Di,\n"), replace=False, actor="t")
    StudentService().link(service.courses.get(course_id), "s1", 21, actor="t")
    StudentService().register(guild_id=GUILD_ID, user_id=24, student_id="S4")  # a claim: S4 stays unlinked
    session = service.open_session(course_id)
    code = service.current_code(session.session_id).code
    service.submit(user_id=22, username="Bob.B", code=code, channel_id=ATTENDANCE_CHANNEL_ID, guild_id=GUILD_ID)
    lines = roster.roster_list(course_id)
    assert [(line.student_id, line.user_id) for line in lines] == [("S1", 21), ("S2", 22), ("S3", None), ("S4", None)]
    report = roster.import_roster(course_id, _rows("S1,Ada,\n"), replace=False, actor="t")
    assert report.unmatched == 2


# -- manage.py roster -----------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path):  # type: ignore[no-untyped-def]
    """manage.py in-process with a temporary database, an empty .env and one course 'Math 101'."""
    env_file = tmp_path / "empty.env"
    env_file.touch()
    environ = {"DATABASE_PATH": str(tmp_path / "db" / "attendance.db"), "GUILD_ID": str(GUILD_ID)}

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


def test_manage_roster_import_and_list(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`roster import` says what it did in one line; `roster list` shows the entries by student id."""
    path = tmp_path / "roster.csv"
    path.write_bytes("\ufeffStudent_ID;Name;Discord\r\nS2;Bob;\r\nS1;Lovelace, Ada;ada\r\n".encode())
    status, out, err = cli("roster", "import", str(path), "--course", "math 101")
    assert (status, err) == (0, "")
    assert out == messages.roster_imported("Math 101", 2, 0, 0, 0, 2) + "\n"
    status, out, _ = cli("roster", "list", "--course", "Math 101")
    assert status == 0
    header, *lines = out.splitlines()
    assert header.split() == ["student", "id", "name", "discord", "linked"]
    assert [line.split()[0] for line in lines] == ["S1", "S2"]
    assert "Lovelace, Ada" in lines[0] and lines[0].split()[-2:] == ["ada", "-"]
    path.write_bytes(b"student_id,name\nS2,Bob\n")
    status, out, _ = cli("roster", "import", str(path), "--replace")
    assert out == messages.roster_imported("Math 101", 0, 0, 1, 1, 1) + "\n"


def test_manage_roster_refuses_a_malformed_file_and_imports_nothing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """One error line with the line number; the roster is as it was."""
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(b"student_id,name\nS1,Ada\n")
    bad.write_bytes(b"student_id,name\nS2,Bob\nS 3,Cy\n")
    assert cli("roster", "import", str(good))[0] == 0
    status, out, err = cli("roster", "import", str(bad), "--replace")
    assert (status, out) == (1, "")
    assert err == f"Error: {messages.roster_bad_student_id(3, 'S 3', 32)}\n"
    status, out, _ = cli("roster", "list")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["S1"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", messages.roster_not_text("a PNG image")),
        (b"\x00" * 1000, messages.roster_not_text("a binary file")),
        (None, messages.roster_too_large(5)),
    ],
    ids=["png", "binary", "50MB"],
)
def test_manage_roster_refuses_files_that_are_not_rosters(
    cli, tmp_path: Path, content: bytes | None, expected: str
) -> None:  # type: ignore[no-untyped-def]
    """Images, binary files and 50 MB files: one line, quickly, nothing imported."""
    path = tmp_path / "file"
    if content is None:
        with path.open("wb") as file:
            file.truncate(50 * 1024 * 1024)  # sparse: 50 MB of NUL bytes
    else:
        path.write_bytes(content)
    started = time.perf_counter()
    status, out, err = cli("roster", "import", str(path))
    assert time.perf_counter() - started < 2
    assert (status, out, err) == (1, "", f"Error: {expected}\n")
    assert cli("roster", "list")[1] == messages.roster_is_empty("Math 101") + "\n"


def test_manage_roster_imports_lms_exports(cli) -> None:  # type: ignore[no-untyped-def]
    """A Moodle, a Canvas and a Google Classroom export import as they come from the LMS."""
    for fixture, added in (("moodle-participants.csv", 4), ("canvas-gradebook.csv", 1), ("google-classroom.csv", 3)):
        status, out, err = cli("roster", "import", str(ROSTERS / fixture))
        assert (status, err) == (0, ""), fixture
        assert out.startswith(f"Roster of 'Math 101': {added} added, "), (fixture, out)
    status, out, _ = cli("roster", "list")
    ids = [line.split()[0] for line in out.splitlines()[1:]]
    assert ids == ["10599", "ada.lovelace", "charles.babbage", "grace.hopper", "S1001", "S1002", "S1003", "S1004"]
    assert "Lovelace, Ada" in out and "José Núñez García" in out


def test_manage_roster_columns_option(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--columns names the columns of any file; a malformed one is refused before the file is read."""
    path = tmp_path / "export.csv"
    path.write_bytes("Matrikelnummer;Vorname;Nachname;Discord\r\n4711;Jürgen;Groß;jgross\r\n".encode())
    status, out, err = cli("roster", "import", str(path))
    assert (status, out) == (1, "")
    assert '"Matrikelnummer" | "Vorname" | "Nachname" | "Discord"' in err and "--columns" in err
    columns = 'student_id="Matrikelnummer",name="Vorname+Nachname"'
    status, out, err = cli("roster", "import", str(path), "--columns", columns)
    assert (status, err, out) == (0, "", messages.roster_imported("Math 101", 1, 0, 0, 0, 1) + "\n")
    assert "Jürgen Groß" in cli("roster", "list")[1] and "jgross" in cli("roster", "list")[1]
    status, out, err = cli("roster", "import", str(tmp_path / "absent.csv"), "--columns", "id=X")
    assert (status, out, err) == (1, "", f"Error: {messages.roster_bad_columns('id=X', from_discord=False)}\n")


def test_manage_roster_names_a_missing_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A file that cannot be read is one line naming it."""
    status, _, err = cli("roster", "import", str(tmp_path / "nope.csv"))
    assert status == 1 and err.startswith("Error: Cannot read the roster file") and err.count("\n") == 1


def test_manage_roster_help_describes_both_actions(capsys: pytest.CaptureFixture[str]) -> None:
    """`roster --help` lists import and list; `roster import --help` explains --replace and --course."""
    assert main(["roster", "--help"]) == 0
    assert "import" in capsys.readouterr().out
    assert main(["roster", "import", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--replace" in text and "their attendance records stay" in text and "--course NAME" in text
    assert "--columns" in text and "Moodle" in text and "Canvas" in text and "Google Classroom" in text
