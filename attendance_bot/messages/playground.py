"""The playground's sentences (manage.py playground)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from .text import MANAGE, quoted, shown

if TYPE_CHECKING:
    pass


# -- the playground (manage.py playground; attendance_bot/playground.py) --------------------------

PLAYGROUND_TEACHER = "teacher"  # the one name a new person gets Manage Server (instructor) with


def playground_intro(database: Path, files: Path, emulator: str) -> list[str]:
    return [
        "attendance_bot playground: the real bot on a local Discord emulator; you type as its people.",
        f"  emulator: {emulator} (loopback only; no Discord account or network needed)",
        f"  database: {database} (replaced at each start)",
        f"  files the bot attaches (CSV exports, reports) are saved in {files}",
        "  Type `help` for what you can type, `quit` (or Ctrl-D) to stop. The bot starts:",
    ]


def playground_ready() -> str:
    return (
        f"Ready. Try `as {PLAYGROUND_TEACHER}: /open_attendance`, then `as ada: /here CODE` with the code "
        "the code message shows."
    )


def playground_help(usages: list[str]) -> list[str]:
    return [
        "What you can type:",
        "  as NAME: /COMMAND [OPTION:VALUE ...]   run a slash command as NAME, e.g. `as ada: /here 7KQ3`",
        "  as NAME in #CHANNEL: /COMMAND ...      the same in another channel, e.g. `as ada in #general: /here 7KQ3`",
        f"      A person is made on first use: {PLAYGROUND_TEACHER!r} is an instructor (Manage Server), any other",
        "      name a plain member. Instructors type in #instructors, members in #attendance, unless `in` says.",
        '      Options are NAME:VALUE, with quotes around spaces (reason:"was sick"); the first required',
        "      option may be given bare (/here 7KQ3). A file option takes a path (file:roster.csv).",
        "  code                                   the code message as it is now (its rotations are not printed)",
        "  show #CHANNEL                          a channel's last messages as they are now",
        "  people                                 who is in the server, and where each types by default",
        "  help                                   this list",
        "  quit                                   stop the bot and leave (Ctrl-D too)",
        "The bot's slash commands:",
        *(f"  {usage}" for usage in usages),
    ]


def playground_unknown_input(text: str) -> str:
    return f"Cannot read {quoted(text, 40)}: type `as NAME: /COMMAND`, or `help` for what you can type."


def playground_needs_person(command: str) -> str:
    return (
        f"Who types {quoted(command, 40)}? Start the line with `as NAME:`, e.g. "
        f"`as {PLAYGROUND_TEACHER}: /open_attendance` or `as ada: /here 7KQ3`."
    )


def playground_bad_name(name: str) -> str:
    return (
        f"{quoted(name, 40)} cannot be a Discord username: 2-32 lower-case letters, digits, '_' and '.', "
        "e.g. ada or grace_h."
    )


def playground_unknown_command(name: str, known: list[str]) -> str:
    return f"The bot has no command /{shown(name, 40)}; it has {', '.join('/' + k for k in known)}."


def playground_needs_subcommand(command: str, subcommands: list[str]) -> str:
    return f"/{command} needs one of: {', '.join(subcommands)} (e.g. /{command} {subcommands[0]} ...)."


def playground_unknown_option(command: str, option: str, options: list[str]) -> str:
    has = f"its options are {', '.join(options)}" if options else "it takes no options"
    return f"/{command} has no option {shown(option, 40)}: {has}."


def playground_extra_value(command: str, value: str, options: list[str]) -> str:
    has = f"name the option, one of {', '.join(options)}, as NAME:VALUE" if options else "it takes no options"
    return f"/{command}: {quoted(value, 40)} is not for any option: {has}."


def playground_option_twice(command: str, option: str) -> str:
    return f"/{command}: option {option} is given twice; give it once."


def playground_missing_options(command: str, missing: list[str]) -> str:
    return f"/{command} needs {', '.join(m + ':…' for m in missing)}: Discord's client does not send it without."


def playground_bad_value(option: str, value: str, expected: str) -> str:
    return f"{option}: {quoted(value, 40)} is not {expected}."


def playground_unknown_channel(name: str, channels: list[str]) -> str:
    return f"There is no channel #{shown(name, 40)}; the server has {', '.join('#' + c for c in channels)}."


def playground_unreadable_file(path: str, reason: str) -> str:
    return f"Cannot attach {quoted(path, 80)}: {reason}."


def playground_quotes(text: str) -> str:
    return f"Unbalanced quotes in {quoted(text, 60)}: close each \" or '."


def playground_joined(name: str, instructor: bool) -> str:
    what = "an instructor (Manage Server)" if instructor else "a member"
    return f"{name} joins the server as {what}."


def playground_person(name: str, instructor: bool, channel: str) -> str:
    what = "instructor" if instructor else "member"
    return f"  {name:<20} {what:<11} types in #{channel}"


def playground_no_reply(command: str, seconds: float) -> str:
    return f"The bot did not answer /{command} within {seconds:.0f} s."


def playground_no_code_message() -> str:
    return f"No code message yet: `as {PLAYGROUND_TEACHER}: /open_attendance` opens a session, which posts one."


def playground_empty_channel(channel: str) -> str:
    return f"#{channel} has no messages yet."


def playground_saved_file(name: str, size: int, path: Path) -> str:
    return f"📎 {name} ({size} bytes) saved as {path}"


def playground_stopped(database: Path) -> str:
    return (
        f"Playground closed: the bot stopped. The database stays at {database}: "
        f"`DATABASE_PATH={shlex.quote(str(database))} {MANAGE} sessions` (or `export`) reads it."
    )


def playground_bot_failed(error: object) -> str:
    return f"The bot stopped on its own ({error}); the playground ends."
