"""End to end with hostile input sent straight through the gateway: forged admin commands, odd codes, odd names."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from botdriver import live_card
from conftest import World
from faultkit import accepted_replies, parse_csv, row_counts

from attendance_bot import messages
from attendance_bot.emulator import EmulatorThread
from attendance_bot.export import HEADER, text_cell

CHANNELS = ("admin", "attendance", "general")
ADMIN_CALLS = [
    ("open_attendance", {}),
    ("close_attendance", {}),
    ("export_csv", {}),
    ("export_csv", {"session_id": "SESSION"}),
]


def _channel(emu: EmulatorThread, name: str) -> int:
    return {
        "admin": emu.admin_channel_id,
        "attendance": emu.attendance_channel_id,
        "general": emu.emu.general_channel_id,
    }[name]


def _files_sent(emu: EmulatorThread) -> int:
    """Attachments the bot has put anywhere, ephemeral replies included."""

    def count(e) -> int:  # type: ignore[no-untyped-def]
        return sum(
            len(m.attachments)
            for channel in e.state.channels
            for m in e.messages(channel, include_ephemeral=True)
            if m.author_id == e.bot_user_id
        )

    return emu.run(count)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize(("command", "options"), ADMIN_CALLS, ids=["open", "close", "export_all", "export_one"])
def test_non_admin_refused_everywhere(world: World, command: str, options: dict[str, str], channel: str) -> None:
    """A member without Manage Server sending an admin command over the gateway is refused privately; nothing changes."""
    emu = world.emu
    session_id, _ = world.open()
    world.here(world.student(f"present_{command}_{channel}"), live_card(emu, session_id).code)
    if command == "open_attendance":  # with nothing open, a forged open would really open one
        world.db.close_any()
    with world.db.service() as service:
        sessions_before = [(s.session.session_id, s.session.closed_at) for s in service.sessions()]
    files_before = _files_sent(emu)
    values = {k: (session_id if v == "SESSION" else v) for k, v in options.items()}
    reply = emu.invoke(world.student(f"sneaky_{command}_{channel}"), _channel(emu, channel), command, **values)
    assert reply.content == messages.not_admin_reply()
    assert reply.ephemeral
    assert reply.files == []
    assert _files_sent(emu) == files_before
    with world.db.service() as service:
        assert [(s.session.session_id, s.session.closed_at) for s in service.sessions()] == sessions_before
    open_now = world.db.open_session()
    assert (open_now.session_id if open_now else None) == (None if command == "open_attendance" else session_id)


def _fullwidth(code: str) -> str:
    return "".join(chr(ord(ch) - 0x21 + 0xFF01) for ch in code)


def _reversed_not_the_code(code: str) -> str:
    """The code backwards; a palindrome (1 in 729 for four characters) gets its first character changed too."""
    backwards = code[::-1]
    if backwards == code:
        backwards = ("3" if code[0] != "3" else "4") + backwards[1:]
    return backwards


_CYRILLIC = str.maketrans("ABCEHKMPTX", "АВСЕНКМРТХ")
# (id, the typed text made from the code on screen, whether it is that code after normalisation)
HOSTILE_CODES: list[tuple[str, Callable[[str], str], bool]] = [
    ("empty", lambda c: "", False),
    ("6000_chars", lambda c: c * 1500, False),
    ("6000_chars_after_code", lambda c: c + "Z" * 5996, False),
    ("control_chars", lambda c: f"\x00{c[:2]}\x1b[31m\x07{c[2:]}\x7f", False),
    ("newlines", lambda c: f"{c}\n@everyone\n{c}", False),
    ("rtl_marks_around_code", lambda c: f"\u202e{c}\u202c\u200f", True),
    ("rtl_override_reversed", lambda c: f"\u202e{_reversed_not_the_code(c)}", False),
    ("emoji", lambda c: "🙂🔥💯🎉", False),
    ("emoji_in_code", lambda c: f"{c[:2]}👍{c[2:]}", False),
    ("fullwidth_code", _fullwidth, True),
    ("cyrillic_lookalikes", lambda c: c.translate(_CYRILLIC) if c.translate(_CYRILLIC) != c else "АВСЕ", False),
    ("sql", lambda c: f"{c}'; DROP TABLE attendance; --", False),
    ("sql_or", lambda c: "' OR '1'='1", False),
    ("csv_formula", lambda c: "=cmd|' /C calc'!A0", False),
    ("mention_and_markdown", lambda c: "<@&1> @here `**x**`", False),
    ("lone_surrogate_like", lambda c: "\ufffd\ufeff" + c[:3], False),
]


@pytest.mark.parametrize(
    ("make", "is_the_code"), [(m, r) for _, m, r in HOSTILE_CODES], ids=[i for i, _, _ in HOSTILE_CODES]
)
def test_hostile_code_gets_one_line_private_reply(world: World, make: Callable[[str], str], is_the_code: bool) -> None:
    """A hostile /here code gets exactly one private one-line reply and is recorded only if it is the code."""
    emu = world.emu
    session_id, _ = world.open()
    ok = accepted_replies(session_id)
    student = world.student("hostile")
    typed = make(live_card(emu, session_id).code)
    reply = emu.dispatch(student, emu.attendance_channel_id, "here", code=typed).result(15)
    # The bot still works, and by the time it has answered the next student no second reply came.
    assert world.here(world.student("afterhostile"), live_card(emu, session_id).code).content in ok
    assert len(emu.run(lambda e: e.interaction_messages(reply.interaction_id))) == 1
    assert reply.ephemeral
    assert reply.content and "\n" not in reply.content and len(reply.content) <= 2000
    assert all(ch >= " " for ch in reply.content)
    assert "@everyone" not in reply.content and "@here" not in reply.content
    stored = row_counts(world.db.path, session_id)
    if is_the_code:
        assert reply.content in ok
        assert stored.get(student.id) == 1
    else:
        assert reply.content not in ok
        assert student.id not in stored


HOSTILE_NAMES = [
    'O\'Brien "the, great"',
    "comma,separated,name",
    "two\nlines",
    "crlf\r\ninside",
    "李小龍",
    "مُحَمَّد",
    "Ελένη Ωμέγα",
    '=HYPERLINK("http://x","y")',
    "+1 caller",
    "-minus",
    "@at sign",
    "\ttab first",
    " leading space",
    "emoji 🙂 name",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_username_round_trips_in_export(world: World, name: str) -> None:
    """A username with quotes, commas or non-Latin script comes back exactly from /export_csv; formulas are
    quoted and line breaks and tabs are spaces, as in every format (text_cell)."""
    emu = world.emu
    session_id, _ = world.open()
    member = emu.add_member(name)
    assert world.here(member, live_card(emu, session_id).code).content in accepted_replies(session_id)
    reply = emu.invoke(emu.instructor, emu.admin_channel_id, "export_csv", session_id=session_id)
    assert reply.content == messages.export_reply(1, session_id)
    ((_, data),) = reply.files
    table = parse_csv(data)
    assert table[0] == list(HEADER)
    (row,) = table[1:]
    if name.isprintable():  # quotes, commas, scripts, emoji: exactly; a formula start quoted
        expected = "'" + name if name.startswith(("=", "+", "-", "@")) else name
    else:  # a line break or a tab: spaces (stripped at the ends)
        expected = name.replace("\r", " ").replace("\n", " ").replace("\t", " ").strip()
    assert expected == text_cell(name)
    assert (row[0], row[1], row[4]) == (str(member.id), expected, session_id)
