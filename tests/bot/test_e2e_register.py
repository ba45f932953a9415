"""End to end: `/register` with the real bot on the emulator."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timezone
from typing import Any

import pytest
from botdriver import live_card
from conftest import World

from attendance_bot import messages
from attendance_bot.emulator import Member, Upload


def _registrations(world: World, *members: Member) -> list[tuple[int, str, str | None]]:
    """These members' registrations (the world's database is shared by the module's tests)."""
    ids = ", ".join(str(m.id) for m in members)
    with closing(sqlite3.connect(f"file:{world.db.path}?mode=ro", uri=True)) as con:
        return con.execute(
            f"SELECT user_id, student_id, name FROM student WHERE user_id IN ({ids}) ORDER BY id"
        ).fetchall()


def _events(world: World, member: Member) -> list[tuple[int, str, str]]:
    with closing(sqlite3.connect(f"file:{world.db.path}?mode=ro", uri=True)) as con:
        return con.execute(
            "SELECT user_id, action, student_id FROM event WHERE user_id = ? ORDER BY id", (member.id,)
        ).fetchall()


def test_register_of_an_id_on_no_roster_is_a_private_claim_and_again_updates_it(world: World) -> None:
    """A student registers in any channel of the server (only they see the reply): an id on no
    roster is a claim waiting for an instructor; again updates it."""
    ada = world.student("ada_reg")
    reply = world.emu.invoke(ada, world.emu.general_channel_id, "register", student_id="s1001", name="Ada L.")
    assert reply.content == messages.claim_pending_reply("s1001", "Ada L.")
    assert reply.ephemeral
    again = world.emu.invoke(ada, world.emu.attendance_channel_id, "register", student_id="s1002")
    assert again.content == messages.claim_pending_reply("s1002", None)
    assert _registrations(world, ada) == [(ada.id, "s1002", None)]
    assert _events(world, ada) == [(ada.id, "claim", "s1001"), (ada.id, "claim", "s1002")]


def test_the_account_the_roster_names_is_registered_at_once(world: World) -> None:
    """The roster's discord column names this account's username: registered at once, as before."""
    _roster(world, "R1001,Rae Roster,rae_reg\r\n")
    rae = world.student("rae_reg")
    reply = world.emu.invoke(rae, world.emu.general_channel_id, "register", student_id="r1001")
    assert reply.content == messages.registered_reply("r1001", None, False)
    assert _registrations(world, rae) == [(rae.id, "r1001", None)]
    assert _events(world, rae) == [(rae.id, "register", "r1001")]


def test_an_id_taken_by_another_account_is_refused_without_naming_it(world: World) -> None:
    """Another account typing a registered id is told to ask the instructor; nothing changes."""
    first, second = world.student("first_reg"), world.student("second_reg")
    world.emu.invoke(first, world.emu.general_channel_id, "register", student_id="s2001")
    reply = world.emu.invoke(second, world.emu.general_channel_id, "register", student_id="S2001")
    assert reply.content == messages.student_id_taken()
    assert reply.ephemeral
    assert _registrations(world, first, second) == [(first.id, "s2001", None)]


def test_a_malformed_id_says_which_characters_ids_use(world: World) -> None:
    """An id with a space or an accent is refused with the rule; nothing is stored."""
    typo = world.student("typo_reg")
    reply = world.emu.invoke(typo, world.emu.general_channel_id, "register", student_id="s 1")
    assert reply.content == messages.student_id_invalid("s 1", 32)
    assert _registrations(world, typo) == []


# -- claims: a registration earns trust (issue 15 item 1) ----------------------------------------


def _roster(world: World, rows: str) -> None:
    """The instructor merges `rows` into the default course's roster (/course roster in its admin channel)."""
    upload = Upload(("student_id,name,discord\r\n" + rows).encode(), "roster.csv", None, None)
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "course roster", timeout=15, file=upload)
    assert "roster" in (reply.content or "").lower(), reply.content


def _query(world: World, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(f"file:{world.db.path}?mode=ro", uri=True, timeout=30)) as con:
        return con.execute(sql, params).fetchall()


def _admin_messages(world: World) -> list[str]:
    return [m.content or "" for m in world.emu.messages(world.emu.admin_channel_id)]


def test_a_claim_of_someone_elses_roster_id_waits_and_an_instructor_settles_it(world: World) -> None:
    """Mal claims R2001 (on the roster, no username there): a claim; Rita, its student, is refused
    and the admin channel is told of both; Mal's /my_attendance shows her own check-in and that her
    claim waits, nothing of R2001; /attendance claims lists it; /attendance link gives R2001 to Rita,
    whose check-in then counts for it (present) and Mal's claim is gone."""
    _roster(world, "R2001,Rita Real,\r\n")
    rita, mal = world.student("rita_claims"), world.student("mal_claims")
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    code = world.db.code_for(card)
    assert "✅" in (world.here(rita, code).content or "")
    assert "✅" in (world.here(mal, code).content or "")
    world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "close_attendance")

    claim = world.emu.invoke(mal, world.emu.general_channel_id, "register", student_id="R2001")
    assert claim.content == messages.claim_pending_reply("R2001", None)
    refused = world.emu.invoke(rita, world.emu.general_channel_id, "register", student_id="r2001")
    assert refused.content == messages.student_id_taken()
    assert str(mal.id) not in (refused.content or "")
    notice = messages.claim_conflict_notice("R2001", mal.id, False, rita.id, ["default"])
    assert notice in _admin_messages(world)

    mine = world.emu.invoke(mal, world.emu.general_channel_id, "my_attendance").content or ""
    assert mine.splitlines()[0] == messages.claim_pending_line("R2001")
    assert "Rita" not in mine and "R2001" not in mine.splitlines()[1] and session_id in mine

    listed = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "attendance claims")
    assert listed.ephemeral
    assert messages.claims_lines("default", [("R2001", mal.id, None, "Rita Real")])[1] in (listed.content or "")

    choices = world.emu.autocomplete(
        world.emu.instructor, world.emu.admin_channel_id, "attendance link", focused="student", student="r2001"
    )
    assert [c["value"] for c in choices] == ["student:R2001"]
    linked = world.emu.invoke(
        world.emu.instructor, world.emu.admin_channel_id, "attendance link", student="student:R2001", account=rita
    )
    assert linked.content == messages.linked_reply("default", "R2001", rita.id, [mal.id])
    assert _registrations(world, rita, mal) == [(rita.id, "R2001", "Rita Real")]
    assert _query(world, "SELECT confirmed FROM student WHERE user_id = ?", rita.id) == [(1,)]
    theirs = world.emu.invoke(rita, world.emu.general_channel_id, "my_attendance").content or ""
    assert f"({session_id}): present" in theirs
    again = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "attendance claims")
    assert "R2001" not in (again.content or "")


def test_a_roster_id_whose_username_is_another_account_is_refused(world: World) -> None:
    """Mal typing R3001, which the roster gives to "ron_claims": refused naming no one; Ron's
    check-ins stay his."""
    _roster(world, "R3001,Ron Roster,ron_claims\r\n")
    ron, mal = world.student("ron_claims"), world.student("mal_roster")
    session_id, _ = world.open()
    world.here(ron, world.db.code_for(live_card(world.emu, session_id)))
    world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "close_attendance")
    reply = world.emu.invoke(mal, world.emu.general_channel_id, "register", student_id="R3001")
    assert reply.content == messages.student_id_roster_other()
    assert "ron" not in (reply.content or "").lower()
    assert _registrations(world, mal) == []
    mine = world.emu.invoke(ron, world.emu.general_channel_id, "my_attendance").content or ""
    assert f"({session_id}): present" in mine
    empty = world.emu.invoke(mal, world.emu.general_channel_id, "my_attendance")
    assert empty.content == messages.my_attendance_lines([], timezone.utc)[0]


def _snapshot(world: World) -> dict[str, list[tuple[Any, ...]]]:
    return {t: _query(world, f"SELECT * FROM {t} ORDER BY id") for t in ("student", "event", "attendance")}


FORGED = [("attendance claims", {}), ("attendance link", {"student": "R2001", "account": None})]


@pytest.mark.parametrize(("command", "options"), FORGED, ids=[c for c, _ in FORGED])
def test_a_student_forging_claims_or_link_is_refused_and_nothing_changes(
    world: World, command: str, options: dict[str, Any]
) -> None:
    """/attendance claims and link sent by a student through the gateway: refused, nothing changes."""
    eve = world.student(f"eve_{command.replace(' ', '_')}")
    if "account" in options:
        options = {**options, "account": eve}
    before = _snapshot(world)
    reply = world.emu.invoke(eve, world.emu.admin_channel_id, command, **options)
    assert reply.content == messages.not_admin_reply()
    assert reply.ephemeral
    assert _snapshot(world) == before


def test_history_of_someone_of_no_course_of_this_one_is_as_unknown_as_nobody(world: World) -> None:
    """Two courses in one server: Lee registered and is on the roster of `lab-history` only. In
    default's admin channel, `/attendance history` of Lee (by mention, account id or student id) is
    the same "no such student" sentence as an unknown id: nothing about Lee is told."""
    admin = world.emu.add_text_channel("lab-history-admin")
    attendance = world.emu.add_text_channel("lab-history")
    world.emu.invoke(world.emu.instructor, admin, "course create", name="lab-history", attendance_channel=attendance)
    upload = Upload(b"student_id,name,discord\r\nL7001,Lee Lab,lee_history\r\n", "roster.csv", None, None)
    world.emu.invoke(world.emu.instructor, admin, "course roster", timeout=15, file=upload)
    lee = world.student("lee_history")
    registered = world.emu.invoke(lee, world.emu.general_channel_id, "register", student_id="L7001")
    assert registered.content == messages.registered_reply("L7001", None, False)
    try:
        for typed in (f"<@{lee.id}>", str(lee.id), "L7001", "L7999"):
            reply = world.emu.invoke(
                world.emu.instructor, world.emu.admin_channel_id, "attendance history", student=typed, course="default"
            )
            assert reply.content == messages.student_unknown(typed, "default")
        theirs = world.emu.invoke(world.emu.instructor, admin, "attendance history", student=f"<@{lee.id}>")
        assert "register" in (theirs.content or "")
    finally:  # the module's other tests use the one course the bot started with
        world.emu.invoke(world.emu.instructor, admin, "course archive", course="lab-history")


def test_a_link_to_an_account_discord_cannot_resolve_is_refused(world: World) -> None:
    """An account id forged into the option (no resolved user): one sentence, nothing changes."""
    _roster(world, "R4001,Una Known,\r\n")
    before = _snapshot(world)
    reply = world.emu.invoke(
        world.emu.instructor,
        world.emu.admin_channel_id,
        "attendance link",
        student="R4001",
        account=900000000000000999,
    )
    assert reply.content == messages.link_unknown_account()
    assert _snapshot(world) == before
