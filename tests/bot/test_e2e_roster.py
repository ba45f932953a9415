"""End to end: `/course roster file` imports the LMS's CSV attached in Discord, with the real bot on the emulator."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from conftest import World

from attendance_bot import messages
from attendance_bot.emulator import GuildHandle, Member, Reply, Upload

ROSTER = b"student_id,name,discord\r\nS1,Ada Lovelace,ada.l\r\nS2,Bob Babbage,\r\nS3,Cy Hopper,\r\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def _query(world: World, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{world.db.path}?mode=ro", uri=True, timeout=30)) as con:
        return con.execute(sql, params).fetchall()


def _course_id(world: World, name: str) -> int:
    ((course_id,),) = _query(world, "SELECT id FROM course WHERE name = ?", name)
    return int(course_id)


def _entries(world: World, name: str) -> list[tuple[str, str, str | None]]:
    return _query(
        world,
        "SELECT student_id, name, discord FROM roster_entry WHERE course_id = ? ORDER BY student_key",
        _course_id(world, name),
    )


def _events(world: World) -> int:
    return int(_query(world, "SELECT COUNT(*) FROM event")[0][0])


def _new_course(world: World, name: str) -> int:
    """A course of server 1 made with /course create by its instructor; its admin channel's id."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    admin = world.emu.add_text_channel(f"{slug}-admin")
    attendance = world.emu.add_text_channel(slug)
    reply = world.emu.invoke(world.emu.instructor, admin, "course create", name=name, attendance_channel=attendance)
    assert reply.content == messages.course_created_reply(name, admin, attendance, attendance)
    return admin


def _import(world: World, admin: int, data: bytes, filename: str = "roster.csv", **options: Any) -> Reply:
    """The instructor attaches `data` to /course roster in `admin`."""
    upload = Upload(data, filename, options.pop("content_type", None), options.pop("size", None))
    return _roster(world, world.emu.instructor, admin, upload, **options)


def _roster(world: World, member: Member, channel: int, upload: Upload, **options: Any) -> Reply:
    return world.emu.invoke(member, channel, "course roster", timeout=15, file=upload, **options)


@pytest.fixture
def world(shared_world: World) -> Iterator[World]:
    """The module's bot with no faults, the same afterwards. (conftest's `world` closes "the" open
    session, which this module's several courses make ambiguous; no test here opens one.)"""
    start = len(shared_world.bot.stderr)
    yield shared_world
    print("".join(shared_world.bot.stderr[start:]))  # the bot's log during this test, shown if it fails
    shared_world.emu.faults.clear()
    assert shared_world.bot.proc is not None and shared_world.bot.proc.poll() is None, shared_world.bot.output()


@pytest.fixture(scope="module")
def second(shared_world: World) -> GuildHandle:
    """A second server the bot is in, with no course of its own."""
    return shared_world.emu.add_guild("Second School")


def test_an_instructor_imports_a_csv(world: World) -> None:
    """The file's students are added; the reply (private) is manage.py's report; the rows are in the database."""
    admin = _new_course(world, "Roster 101")
    before = world.emu.downloads()
    reply = _import(world, admin, ROSTER)
    assert reply.content == messages.roster_imported("Roster 101", 3, 0, 0, 0, 3)
    assert reply.ephemeral
    assert _entries(world, "Roster 101") == [
        ("S1", "Ada Lovelace", "ada.l"),
        ("S2", "Bob Babbage", None),
        ("S3", "Cy Hopper", None),
    ]
    assert len(world.emu.downloads()) == len(before) + 1


def test_a_second_import_merges(world: World) -> None:
    """Again: new ids added, changed ones updated, the same ones unchanged, none removed."""
    admin = _new_course(world, "Roster 102")
    _import(world, admin, ROSTER)
    reply = _import(world, admin, b"student_id;name\ns1;Ada King\nS2;Bob Babbage\nS4;Di Ritchie\n")
    assert reply.content == messages.roster_imported("Roster 102", 1, 1, 1, 0, 4)
    assert [e[:2] for e in _entries(world, "Roster 102")] == [
        ("s1", "Ada King"),
        ("S2", "Bob Babbage"),
        ("S3", "Cy Hopper"),
        ("S4", "Di Ritchie"),
    ]


def test_replace_removes_the_students_the_file_lacks(world: World) -> None:
    """replace:True removes the entries the file does not list, and says how many."""
    admin = _new_course(world, "Roster 103")
    _import(world, admin, ROSTER)
    reply = _import(world, admin, b"student_id,name\nS2,Bob Babbage\n", replace=True)
    assert reply.content == messages.roster_imported("Roster 103", 0, 0, 1, 2, 1)
    assert _entries(world, "Roster 103") == [("S2", "Bob Babbage", None)]


def test_the_course_option_names_the_course(world: World) -> None:
    """course:NAME (any case) names the course; its autocomplete offers this server's course names."""
    admin = _new_course(world, "Roster 104")
    choices = world.emu.autocomplete(world.emu.instructor, admin, "course roster", focused="course", course="104")
    assert [c["value"] for c in choices] == ["Roster 104"]
    reply = _import(world, admin, b"student_id,name\nS9,Eve\n", course="roster 104")
    assert reply.content == messages.roster_imported("Roster 104", 1, 0, 0, 0, 1)


def test_a_malformed_file_is_refused_with_its_line(world: World) -> None:
    """A bad id on line 3 is refused with that line; nothing is imported and no event is written."""
    admin = _new_course(world, "Roster 105")
    events = _events(world)
    reply = _import(world, admin, b"student_id,name\nS1,Ada\nS 2,Bob\n")
    assert reply.content == messages.roster_bad_student_id(3, "S 2", 32)
    assert reply.ephemeral
    assert _entries(world, "Roster 105") == [] and _events(world) == events


def test_a_50_mb_attachment_is_refused_without_downloading_it(world: World) -> None:
    """Discord says the file is 50 MB: refused at once in one line, never fetched, nothing imported."""
    admin = _new_course(world, "Roster 106")
    before = world.emu.downloads()
    reply = _import(world, admin, ROSTER, size=50 * 1024 * 1024)
    assert reply.content == messages.roster_too_large(5)
    assert "\n" not in reply.content and reply.latency < 2
    assert world.emu.downloads() == before
    assert _entries(world, "Roster 106") == []


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "kind"),
    [
        (b"student_id,name\nS1,Ada\x00\x01\x02\n", "roster.csv", "text/csv", "a binary file"),
        (PNG, "roster.png", "image/png", "a PNG image"),
    ],
    ids=["binary", "png"],
)
def test_a_file_that_is_not_a_csv_is_refused_in_one_line(
    world: World, data: bytes, filename: str, content_type: str, kind: str
) -> None:
    """A binary file or an image is refused in one line naming what it is; nothing is imported."""
    name = f"Roster {kind}"
    admin = _new_course(world, name)
    reply = _import(world, admin, data, filename, content_type=content_type)
    assert reply.content == messages.roster_not_text(kind)
    assert _entries(world, name) == []


def test_a_failed_download_is_one_line(world: World) -> None:
    """Discord's CDN failing is one sentence; nothing is imported."""
    admin = _new_course(world, "Roster 107")
    world.emu.faults.add(r"^/ephemeral-attachments/", "GET", 503, times=1)
    reply = _import(world, admin, ROSTER)
    assert reply.content == messages.roster_download_failed()
    assert _entries(world, "Roster 107") == []


def test_a_student_forging_the_command_is_refused(world: World) -> None:
    """A student sending /course roster through the gateway: refused, never downloaded, nothing changed, no event."""
    admin = _new_course(world, "Roster 108")
    _import(world, admin, ROSTER)
    entries, events, downloads = _entries(world, "Roster 108"), _events(world), world.emu.downloads()
    student = world.student("forger_roster")
    reply = _roster(world, student, admin, Upload(b"student_id,name\nS1,Mallory\n", "r.csv"), replace=True)
    assert reply.content == messages.not_admin_reply()
    assert reply.ephemeral
    assert (_entries(world, "Roster 108"), _events(world), world.emu.downloads()) == (entries, events, downloads)


def test_another_servers_instructor_is_refused(world: World, second: GuildHandle) -> None:
    """Server 2's instructor, in server 2, cannot name server 1's course; in server 1 they are no instructor."""
    admin = _new_course(world, "Roster 109")
    events, downloads = _events(world), world.emu.downloads()
    upload = Upload(ROSTER, "r.csv")
    reply = _roster(world, second.instructor, second.admin_channel_id, upload, course="Roster 109")
    assert reply.content == messages.unknown_course("Roster 109", [])
    visitor = world.emu.add_member(existing_member=second.instructor)
    reply = _roster(world, visitor, admin, upload)
    assert reply.content == messages.not_admin_reply()
    assert (_entries(world, "Roster 109"), _events(world), world.emu.downloads()) == ([], events, downloads)


MOODLE = Path(__file__).resolve().parent.parent / "fixtures" / "rosters" / "moodle-participants.csv"


def test_a_moodle_export_is_imported_as_it_comes(world: World) -> None:
    """Moodle's participants download, attached as it is: ID number and first + last name are taken."""
    admin = _new_course(world, "Roster 110")
    reply = _import(world, admin, MOODLE.read_bytes(), "courseid_42_participants.csv", content_type="text/csv")
    assert reply.content == messages.roster_imported("Roster 110", 4, 0, 0, 0, 4)
    assert _entries(world, "Roster 110") == [
        ("S1001", "Ada Lovelace", None),
        ("S1002", "Charles Babbage", None),
        ("S1003", "Grace Hopper", None),
        ("S1004", "José Núñez García", None),
    ]


def test_the_columns_option_names_other_columns(world: World) -> None:
    """An unknown header is refused showing its columns and `columns:`; with columns: it is imported."""
    admin = _new_course(world, "Roster 111")
    data = "Matrikel\tVorname\tNachname\r\n4711\tJürgen\tGroß\r\n".encode()
    reply = _import(world, admin, data)
    assert reply.content == messages.roster_missing_columns(
        ["student_id", "name"], ["Matrikel", "Vorname", "Nachname"], from_discord=True
    )
    assert '"Matrikel" | "Vorname" | "Nachname"' in reply.content and "columns:" in reply.content
    assert _entries(world, "Roster 111") == []
    reply = _import(world, admin, data, columns='student_id="Matrikel",name="Vorname+Nachname"')
    assert reply.content == messages.roster_imported("Roster 111", 1, 0, 0, 0, 1)
    assert _entries(world, "Roster 111") == [("4711", "Jürgen Groß", None)]
