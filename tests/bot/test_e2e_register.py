"""End to end: `/register` with the real bot on the emulator."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from conftest import World

from attendance_bot import messages
from attendance_bot.emulator import Member


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


def test_register_links_the_account_privately_and_again_updates_it(world: World) -> None:
    """A student registers in any channel of the server (only they see the reply); again updates it."""
    ada = world.student("ada_reg")
    reply = world.emu.invoke(ada, world.emu.general_channel_id, "register", student_id="s1001", name="Ada L.")
    assert reply.content == messages.registered_reply("s1001", "Ada L.", False)
    assert reply.ephemeral
    again = world.emu.invoke(ada, world.emu.attendance_channel_id, "register", student_id="s1002")
    assert again.content == messages.registered_reply("s1002", None, True)
    assert _registrations(world, ada) == [(ada.id, "s1002", None)]
    assert _events(world, ada) == [(ada.id, "register", "s1001"), (ada.id, "re-register", "s1002")]


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
