"""A course's roster: the LMS's CSV read into rows (pure), and its import and listing over the models.

The file is `student_id,name[,discord]` with a header (any case; other columns are ignored),
or an LMS's own export as it comes (see _lms_layout: Moodle, Canvas, Google Classroom), or any
header with the columns named by `--columns` (parse_columns); UTF-8 with or without a BOM,
separated by commas, semicolons or tabs (whichever the header line has most of). It is read
whole or refused whole: the first problem found is one sentence naming its line (the header is
line 1), and nothing is imported. Values are stored as typed; formula-looking names (`=cmd|...`)
are neutralised only where the record is written for a spreadsheet (export.py), as every other
value is.

A roster entry is linked to a Discord account when a `/register` of the course's server has the
same student id (folded), or, failing that, when its `discord` username is the username of an
attendance record in one of the course's sessions (Discord usernames are known only from those).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import peewee

from . import storage
from .clock import Clock, utc_now
from .courses import CourseService
from .errors import AttendanceError
from .models import Attendance, RosterEntry, Session, Student
from .records import CourseInfo
from .settings import Settings
from .students import MAX_NAME, MAX_STUDENT_ID, StudentError, clean_student_id, student_key

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
COLUMNS = ("student_id", "name", "discord")
REQUIRED = ("student_id", "name")
SEPARATORS = (",", ";", "\t")  # the first wins a tie: a header with none of them is read as CSV
_DISCORD = re.compile(r"[a-z0-9_.]{2,32}")
# What a file that is not text starts with; NUL bytes anywhere also say "binary".
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel workbook?)"),
    (b"\xff\xfe", "UTF-16 text"),
    (b"\xfe\xff", "UTF-16 text"),
)
# Characters a name may not hold: control characters and line or paragraph separators. Format
# characters (right-to-left marks, the joiners inside emoji) are allowed: names are typed by people.
_NOT_IN_NAMES = ("Cc", "Zl", "Zp")


class RosterError(AttendanceError):
    """A roster file refused (the sentence names the line and what is wrong); nothing was imported.
    `line` is the file's line at fault, where there is one."""

    fields = ("line",)

    @property
    def line(self) -> int | None:
        line = self.values.get("line")
        return int(line) if line is not None else None


@dataclass(frozen=True)
class RosterRow:
    """One student of a roster file, as stored: id and name trimmed, username lowercased."""

    student_id: str
    name: str
    discord: str | None


@dataclass(frozen=True)
class RosterReport:
    """What an import did; `unmatched` counts the course's entries (after it) linked to no account."""

    added: int
    updated: int
    unchanged: int
    removed: int
    unmatched: int


@dataclass(frozen=True)
class RosterLine:
    """One entry of a course's roster, and the Discord account it is linked to (None: not yet)."""

    student_id: str
    name: str
    discord: str | None
    user_id: int | None


# -- the file ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterColumns:
    """The columns `--columns` (or `/course roster columns:`) names, by key (student_id, name,
    discord), as typed; a name value may join several columns with `+`."""

    wanted: Mapping[str, str]


@dataclass(frozen=True)
class _Layout:
    """Where a file's header puts a roster row's values (cell indexes)."""

    student_id: tuple[int, ...]  # the first of these cells that is not empty holds the id
    name: tuple[int, ...]  # these cells joined by a space make the name
    discord: int | None
    id_column: str | None = None  # the header cell an empty id is refused by (None: the plain format's refusal)
    from_email: bool = False  # the id is the local part of an email address (Google Classroom)
    lms: str = ""  # "canvas" or "google": whose own rows that are no student to skip


_PAIR = re.compile(r'\s*([A-Za-z_]+)\s*=((?:"[^"]*"|[^",])*)(?:,|\Z)')  # one quoted run or one character at a time


def parse_columns(typed: str, *, from_discord: bool = False) -> RosterColumns:
    """`student_id="ID number",name="First name+Last name",discord=Discord` (quotes optional where a
    column has no comma) read into RosterColumns; RosterError (one sentence) if it is not that."""
    text, at = typed.strip(), 0
    wanted: dict[str, str] = {}
    while at < len(text):
        match = _PAIR.match(text, at)
        key = match[1].lower() if match else ""
        value = " ".join(match[2].replace('"', "").split()) if match else ""
        if match is None or key not in COLUMNS or key in wanted or not value.strip("+ "):
            raise RosterError("roster_bad_columns", typed=typed, from_discord=from_discord)
        wanted[key] = value
        at = match.end()
    if not wanted:
        raise RosterError("roster_bad_columns", typed=typed, from_discord=from_discord)
    return RosterColumns(wanted)


def parse_roster(data: bytes, columns: RosterColumns | None = None, *, from_discord: bool = False) -> list[RosterRow]:
    """The students of a roster file, in file order; RosterError (one sentence) for the first problem.

    Cheap refusals come first: over MAX_BYTES, an image or other binary file, not UTF-8; then
    the rows are read one by one, and more than MAX_ROWS stops the reading. `columns` names the
    columns to read (over the plain or LMS header's own); `from_discord` words the refusals for
    `/course roster` (its `columns:` option) rather than the shell's `--columns`.
    """
    refuse_size(len(data))
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise RosterError("roster_not_text", kind=kind)
    if b"\x00" in data:
        raise RosterError("roster_not_text", kind="a binary file")
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RosterError("roster_not_utf8", line=line) from exc
    if not text.strip():
        raise RosterError("roster_empty", line=1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    return _rows(_records(reader), columns, from_discord)


def refuse_size(size: int) -> None:
    """RosterError if a roster file of `size` bytes is over MAX_BYTES: told before it is read or downloaded."""
    if size > MAX_BYTES:
        raise RosterError("roster_too_large", limit_mb=MAX_BYTES // (1024 * 1024))


def _delimiter(text: str) -> str:
    """The separator the header line has most of: `,`; `;` (Excel in many locales); tab (Moodle's
    plain-text export, a spreadsheet's "tab delimited"). A tie goes to the earlier of SEPARATORS."""
    header = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    return max(SEPARATORS, key=header.count)


def _column(cell: str) -> str:
    return re.sub(r"[\s-]+", "_", cell.strip().casefold())


def _key(cell: str) -> str:
    """A header cell as an LMS header is matched: letters and digits only (`ID number`, `idnumber`)."""
    return re.sub(r"[\W_]+", "", cell.casefold())


def _records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Each record of csv's reader with the line it starts on (a quoted cell may span lines);
    RosterError naming that line for a record that is not valid CSV."""
    end = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RosterError("roster_bad_csv", line=end + 1, reason=str(exc)) from exc
        line, end = end + 1, reader.line_num
        yield line, record


def _rows(
    records: Iterator[tuple[int, list[str]]], columns: RosterColumns | None, from_discord: bool
) -> list[RosterRow]:
    _, header = next(records, (1, []))
    layout = _layout(header, columns, from_discord)
    width = len(header)
    rows: list[RosterRow] = []
    first_line: dict[str, int] = {}  # a student's key -> the line that listed it
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue  # a blank line, or Excel's row of empty cells
        if _not_a_student(record, layout):
            continue  # Canvas's "Points Possible", Google Classroom's "Class average"
        if len(rows) == MAX_ROWS:
            raise RosterError("roster_too_many_rows", limit=MAX_ROWS, line=line)
        if len(record) > width and any(cell.strip() for cell in record[width:]):
            raise RosterError("roster_extra_cells", line=line, cells=len(record), columns=width)
        row = _row(record, layout, line, from_discord)
        key = student_key(row.student_id)
        if key in first_line:
            raise RosterError(
                "roster_duplicate_student", first=first_line[key], second=line, student_id=row.student_id, line=line
            )
        first_line[key] = line
        rows.append(row)
    if not rows:
        raise RosterError("roster_no_students", line=1)
    return rows


def _layout(header: list[str], columns: RosterColumns | None, from_discord: bool) -> _Layout:
    """Where the header puts each value: the plain format's columns if it names student_id and name,
    else an LMS's export's, then whatever `columns` names over them; RosterError (line 1) if the
    id or the name has no column."""
    names = [_column(cell) for cell in header]
    layout: _Layout | None
    if all(name in names for name in REQUIRED):
        where: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in COLUMNS:
                if name in where:
                    raise RosterError("roster_duplicate_column", name=name, line=1)
                where[name] = index
        layout = _Layout((where["student_id"],), (where["name"],), where.get("discord"))
    else:
        layout = _lms_layout(header)
    if columns is not None:
        layout = _named_layout(layout, header, columns, from_discord)
    if layout is None:
        given = columns.wanted if columns is not None else {}
        missing = [name for name in REQUIRED if name not in names and name not in given]
        raise RosterError("roster_missing_columns", missing=missing, found=header, from_discord=from_discord, line=1)
    return layout


def _lms_layout(header: list[str]) -> _Layout | None:
    """The layout of an LMS's own export, or None if the header is none of these:

    - Canvas (Grades → Export): `Student, ID, SIS User ID, SIS Login ID, Section`, assignments after.
      The id is the SIS User ID (the school's), or Canvas's own ID where that is empty (a Canvas
      with no SIS, the Test Student); the name is `Student` as Canvas writes it ("Lovelace, Ada").
    - Moodle (participants or gradebook export): `ID number` (else `Username`), `First name`,
      `Last name`; the name is first and last name joined.
    - Google Classroom (grades download), or any `First name, Last name, Email address` (Moodle
      without ID numbers): the id is the email address's part before the `@`.

    A `discord` column beside them is read too.
    """
    keys = [_key(cell) for cell in header]

    def find(*wanted: str) -> int | None:
        return next((keys.index(key) for key in wanted if key in keys), None)

    layout: _Layout | None = None
    discord = find("discord")
    student, canvas_id, first, last = find("student"), find("id"), find("firstname"), find("lastname")
    if student is not None and canvas_id is not None and {"sisuserid", "sisloginid", "section"} & set(keys):
        sis = find("sisuserid")
        ids = (canvas_id,) if sis is None else (sis, canvas_id)
        layout = _Layout(ids, (student,), discord, header[ids[0]].strip(), lms="canvas")
    elif first is not None and last is not None:
        moodle, email = find("idnumber", "username"), find("emailaddress", "email")
        if moodle is not None:
            layout = _Layout((moodle,), (first, last), discord, header[moodle].strip())
        elif email is not None:
            layout = _Layout((email,), (first, last), discord, header[email].strip(), from_email=True, lms="google")
    if layout is not None:
        for index in (*layout.student_id, *layout.name, *([] if discord is None else [discord])):
            if keys.count(keys[index]) > 1:
                raise RosterError("roster_duplicate_column", name=header[index].strip(), line=1)
    return layout


def _named_layout(
    layout: _Layout | None, header: list[str], columns: RosterColumns, from_discord: bool
) -> _Layout | None:
    """`layout` with the columns `columns` names in place of its own (without a layout: the
    plain format's column names for the keys it does not name); None if the id or name has none."""
    names = [_column(cell) for cell in header]

    def find(key: str, typed: str) -> tuple[int, ...]:
        """The cells `typed` names: one column, or (for the name) columns joined by `+`."""
        parts = [typed] if _column(typed) in names or key != "name" else typed.split("+")
        indexes: list[int] = []
        for part in parts:
            column = _column(part)
            if not column or column not in names:
                raise RosterError(
                    "roster_no_such_column",
                    key=key,
                    column=part.strip(),
                    found=header,
                    from_discord=from_discord,
                    line=1,
                )
            if names.count(column) > 1:
                raise RosterError("roster_duplicate_column", name=header[names.index(column)].strip(), line=1)
            indexes.append(names.index(column))
        return tuple(indexes)

    if layout is None:
        if not all(key in names or key in columns.wanted for key in REQUIRED):
            return None
        own = {key: (names.index(key),) for key in COLUMNS if key in names}
        discord = names.index("discord") if "discord" in names else None
        layout = _Layout(own.get("student_id", ()), own.get("name", ()), discord)
    wanted = {key: find(key, typed) for key, typed in columns.wanted.items()}
    if "student_id" in wanted:
        ids = wanted["student_id"]
        layout = dataclasses.replace(layout, student_id=ids, id_column=header[ids[0]].strip(), from_email=False)
    if "name" in wanted:
        layout = dataclasses.replace(layout, name=wanted["name"])
    if "discord" in wanted:
        layout = dataclasses.replace(layout, discord=wanted["discord"][0])
    return layout


# What Google Classroom writes in its rows that are no student (summaries above the students).
_GOOGLE_SUMMARIES = frozenset(("", "date", "due date", "points", "points possible", "class average", "average"))


def _not_a_student(record: list[str], layout: _Layout) -> bool:
    """Whether a row is one an LMS adds to its export that names no student: Canvas's "Points
    Possible" (and its muted/posting row), Google Classroom's dates, points and class average."""
    if not layout.lms:
        return False

    def cell(index: int) -> str:
        return record[index].strip().casefold() if index < len(record) else ""

    if layout.lms == "canvas":
        return not any(cell(i) for i in layout.student_id) and all(
            cell(i) in ("", "points possible") for i in layout.name
        )
    return all(cell(i) in _GOOGLE_SUMMARIES for i in (*layout.name, *layout.student_id))


def _row(record: list[str], layout: _Layout, line: int, from_discord: bool) -> RosterRow:
    def cell(index: int | None) -> str:
        return record[index] if index is not None and index < len(record) else ""

    typed_id = next((cell(i) for i in layout.student_id if cell(i).strip()), cell(layout.student_id[0]))
    if layout.id_column is not None and not typed_id.strip():
        raise RosterError("roster_empty_student_id", line=line, column=layout.id_column, from_discord=from_discord)
    if layout.from_email:
        typed_id = typed_id.strip().rpartition("@")[0] or typed_id
    try:
        student_id = clean_student_id(typed_id)
    except StudentError as exc:
        raise RosterError("roster_bad_student_id", line=line, typed=typed_id, limit=MAX_STUDENT_ID) from exc
    name = clean_roster_name(" ".join(cell(i) for i in layout.name))
    if name is None:
        raise RosterError("roster_bad_name", line=line, limit=MAX_NAME)
    typed_discord = cell(layout.discord)
    discord = typed_discord.strip().removeprefix("@").lower() or None
    if discord is not None and not _DISCORD.fullmatch(discord):
        raise RosterError("roster_bad_discord", line=line, typed=typed_discord)
    return RosterRow(student_id, name, discord)


def clean_roster_name(typed: str) -> str | None:
    """A name as stored (trimmed, inner runs of spaces made one), or None if it is empty, longer
    than MAX_NAME or holds a control character or a line break."""
    if any(unicodedata.category(ch) in _NOT_IN_NAMES for ch in typed):
        return None
    value = " ".join(typed.split())
    return value if 0 < len(value) <= MAX_NAME else None


# -- the service --------------------------------------------------------------------------------


class RosterService:
    """Rosters over the models: import (merge or replace) and list; holds settings and a clock."""

    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.courses = CourseService(settings, clock)

    def import_roster(self, course_id: int, rows: Sequence[RosterRow], *, replace: bool, actor: str) -> RosterReport:
        """Merge `rows` into a course's roster (by student id, folded), in one transaction with its event.

        New ids are added and changed ones updated (the file's values win, an empty `discord`
        included); with replace=True the entries the file does not list are removed (their
        attendance records stay). `rows` come from parse_roster (ids unique once folded).
        """
        try:
            return self._import(course_id, rows, replace=replace, actor=actor)
        except peewee.DatabaseError as exc:
            raise storage.failure("importing the roster", exc) from exc

    def _import(self, course_id: int, rows: Sequence[RosterRow], *, replace: bool, actor: str) -> RosterReport:
        course = self.courses.get(course_id)
        now = self.clock()
        with storage.immediate():
            existing = {e.student_key: e for e in RosterEntry.select().where(RosterEntry.course_id == course.id)}
            changed: list[dict[str, object]] = []
            added = unchanged = 0
            keys: set[str] = set()
            for row in rows:
                key = student_key(row.student_id)
                keys.add(key)
                old = existing.get(key)
                if old is not None and (old.student_id, old.name, old.discord) == (
                    row.student_id,
                    row.name,
                    row.discord,
                ):
                    unchanged += 1
                    continue
                added += old is None
                changed.append(
                    {
                        "course_id": course.id,
                        "student_id": row.student_id,
                        "student_key": key,
                        "name": row.name,
                        "discord": row.discord,
                        "added_at": now,
                    }
                )
            gone = sorted(set(existing) - keys) if replace else []
            storage.upsert_roster_entries(changed)
            storage.delete_roster_entries(course.id, gone)
            report = RosterReport(added, len(changed) - added, unchanged, len(gone), 0)
            storage.add_event(
                at=now,
                course_id=course.id,
                guild_id=course.guild_id,
                actor=actor,
                action="roster replace" if replace else "roster import",
                reason=f"{report.added} added, {report.updated} updated, {report.removed} removed",
                source="roster",
            )
            unmatched = sum(1 for line in self._lines(course) if line.user_id is None)
        return RosterReport(report.added, report.updated, report.unchanged, report.removed, unmatched)

    def roster_list(self, course_id: int) -> list[RosterLine]:
        """A course's roster, sorted by student id, each entry with its linked account (or None)."""
        try:
            return self._lines(self.courses.get(course_id))
        except peewee.DatabaseError as exc:
            raise storage.failure("reading the roster", exc) from exc

    def _lines(self, course: CourseInfo) -> list[RosterLine]:
        entries = list(RosterEntry.select().where(RosterEntry.course_id == course.id))
        registered: dict[str, int] = {}
        if course.guild_id is not None:
            query = Student.select(Student.student_key, Student.user_id).where(
                (Student.guild_id == course.guild_id) & (Student.confirmed == True)  # noqa: E712
            )
            registered = dict(query.tuples())
        by_username = _usernames(course.id) if any(e.discord for e in entries) else {}
        lines = [
            RosterLine(
                e.student_id,
                e.name,
                e.discord,
                registered.get(e.student_key, by_username.get(e.discord) if e.discord else None),
            )
            for e in entries
        ]
        return sorted(lines, key=lambda line: (student_key(line.student_id), line.student_id))


def _usernames(course_id: int) -> dict[str, int]:
    """The Discord usernames (lowercased) of the accounts with a record in the course's sessions;
    where a username was seen from several accounts, the one that used it last."""
    query = (
        Attendance.select(peewee.fn.LOWER(Attendance.username), Attendance.user_id)
        .join(Session, on=Attendance.session_id == Session.session_id)
        .where(Session.course == course_id)
        .order_by(Attendance.submitted_at)
    )
    return dict(query.tuples())
