"""`manage.py playground`: the real bot on the local Discord emulator, with a prompt to act as its people."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import shlex
import sys
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from . import messages
from .emulated import bot_running, embed_lines, emulated_settings, humane, quiet_logging
from .export import BIDI_CONTROLS

REPLY_TIMEOUT = 30.0  # a report of a large course takes a while; Discord's own limit is 15 minutes
WATCH_SECONDS = 0.2  # how often the channels are looked at for new messages and edits
# After a command, what it set off (the code message after /open_attendance, its last edit after
# /close_attendance) is awaited until the channels are quiet this long, at most SETTLE_LIMIT: a
# script's next line then comes after it, as a person would type it.
QUIET_SECONDS = 0.4
SETTLE_LIMIT = 3.0
SHOWN_MESSAGES = 5  # `show #channel`: this many of the channel's last messages

# Discord's option types (as registered by the bot; see the emulator's interactions.py)
_SUB_COMMAND, _SUB_COMMAND_GROUP = 1, 2
_INTEGER, _BOOLEAN, _USER, _CHANNEL, _ROLE, _MENTIONABLE, _NUMBER, _ATTACHMENT = 4, 5, 6, 7, 8, 9, 10, 11
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")

_USERNAME = re.compile(r"[a-z0-9_.]{2,32}")
_AS = re.compile(r"as\s+(?P<name>[^\s:]+)(?:\s+in\s+#?(?P<channel>[^\s:]+))?\s*:\s*(?P<command>.*)", re.I | re.S)
_OPTION_NAME = re.compile(r"[a-z_][a-z0-9_-]*")


class InputError(Exception):
    """A line the playground cannot act on; str() is the one line to print, and nothing was done."""


class _Lines:
    """Lines from stdin, read in a thread of their own one at a time, as the loop asks for them.

    A line is read only when asked for, so after `quit` (or end of input) the thread is not left
    blocked in a read; on a terminal, input() gives line editing and the prompt.
    """

    def __init__(self, stdin: IO[str], prompt: str | None) -> None:
        self._stdin = stdin
        self._prompt = prompt
        self._asks: queue.SimpleQueue[asyncio.Future[str | None] | None] = queue.SimpleQueue()
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._read, name="playground-input", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while (future := self._asks.get()) is not None:
            try:
                if self._prompt is not None:
                    line: str | None = input(self._prompt) + "\n"
                else:
                    line = self._stdin.readline() or None
            except EOFError:
                line = None
            except Exception as exc:  # an unreadable input ends the session like its end
                self._loop.call_soon_threadsafe(_settle, future, None, exc)
                return
            self._loop.call_soon_threadsafe(_settle, future, line, None)
            if line is None:
                return

    async def next(self) -> str | None:
        """The next line, or None at the end of input."""
        future: asyncio.Future[str | None] = self._loop.create_future()
        self._asks.put(future)
        return await future

    def close(self) -> None:
        """Let the thread end; it is joined unless it is blocked in a read (the bot stopped mid-line)."""
        self._asks.put(None)
        self._thread.join(0.5)


def _settle(future: asyncio.Future[str | None], line: str | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(line)


class Playground:
    """The emulated server seen by the person at the prompt: what each line does, and what appears."""

    def __init__(self, emu: Any, out: IO[str], files: Path) -> None:
        self.emu = emu
        self.out = out
        self.files = files
        self.guild = emu.state.guild
        self._shown: dict[int, tuple[str, str, tuple[str, ...]]] = {}  # message id -> what was printed of it
        self._who: dict[int, str] = {}  # interaction id -> the name of who typed the command
        self._waiting: set[int] = set()  # interactions whose reply is not in yet: printed when it is
        self._printed = 0  # messages and edits printed so far

    # -- output ------------------------------------------------------------------------------

    def line(self, text: str = "") -> None:
        """One line on the terminal: Discord markup rendered; no control or text-reordering character."""
        self.out.write(_printable(humane(text, self._channel_names())) + "\n")
        self.out.flush()

    def _channel_names(self) -> dict[int, str]:
        return {c.id: c.name for c in self.guild.channels.values()}

    def _text_channels(self) -> list[Any]:
        from .emulator.models import CHANNEL_TEXT

        return sorted((c for c in self.guild.channels.values() if c.type == CHANNEL_TEXT), key=lambda c: c.position)

    def refresh(self) -> None:
        """Print each message that appeared since, and each edit that changed a message's text or title.

        The code message's rotations (a new code under the same title) are not printed: `code` shows it.
        """
        for channel in self._text_channels():
            for message in self.emu.messages(channel.id, include_deleted=False, include_ephemeral=True):
                if message.interaction_id in self._waiting:
                    continue
                if not (message.content or message.embeds or message.attachments):
                    continue  # a deferred reply's placeholder ("thinking..."): shown once it says something
                seen = (message.content, _title(message), tuple(a.filename for a in message.attachments))
                before = self._shown.get(message.id)
                if before == seen:
                    continue
                self._shown[message.id] = seen
                if before is None or before[:2] != seen[:2]:
                    self._print_message(channel.name, message, edited=before is not None)
                    self._printed += 1
                if before is None or before[2] != seen[2]:
                    self._save_files(message)

    def _print_message(self, channel: str, message: Any, *, edited: bool = False, now: bool = False) -> None:
        who = self._who.get(message.interaction_id or 0)
        author = "bot" if message.author_id == self.emu.state.bot.id else self._name_of(message.author_id)
        if who is not None:
            author += f" → {who}" + (f" (only {who} sees this)" if message.ephemeral else "")
        note = " (edited)" if edited else " (now)" if now else ""
        body = [*message.content.splitlines()]
        for embed in message.embeds:
            body += [f"[{embed.get('title') or 'embed'}]", *(f"│ {part}" for part in embed_lines(embed))]
        first, *rest = body or [""]
        self.line(f"  #{channel}  {author}{note}: {first}")
        for part in rest:
            self.line(f"      {part}")

    def _name_of(self, user_id: int) -> str:
        member = self.guild.members.get(user_id)
        return member.username if member else str(user_id)

    def _save_files(self, message: Any) -> None:
        for attachment in message.attachments:
            path = _save(self.files, attachment.filename, attachment.data)
            self.line("      " + messages.playground_saved_file(attachment.filename, len(attachment.data), path))

    async def watch(self) -> None:
        """Print the channels' news as it happens, until cancelled."""
        while True:
            self.refresh()
            await asyncio.sleep(WATCH_SECONDS)

    # -- input -------------------------------------------------------------------------------

    async def handle(self, text: str) -> bool:
        """Act on one line; False when it asks to stop. A bad line prints one sentence and changes nothing."""
        text = text.strip()
        if not text or text.startswith("#"):  # a comment, in a script
            return True
        word, _, rest = text.partition(" ")
        word = word.lower()
        try:
            if word in ("quit", "exit"):
                return False
            if word == "help":
                for part in messages.playground_help(self._usages()):
                    self.line(part)
            elif word == "people":
                self._people()
            elif word == "code":
                self._code()
            elif word == "show":
                self._show(rest.strip())
            elif match := _AS.fullmatch(text):
                await self._as(match["name"], match["channel"], match["command"].strip())
            elif text.startswith("/"):
                raise InputError(messages.playground_needs_person(text))
            else:
                raise InputError(messages.playground_unknown_input(text))
        except InputError as exc:
            self.line(str(exc))
        return True

    async def _as(self, name: str, channel_name: str | None, typed: str) -> None:
        key = name.lower()
        if not _USERNAME.fullmatch(key):
            raise InputError(messages.playground_bad_name(name))
        channel = self._channel(channel_name) if channel_name else None
        path, options = self._parse(typed)
        member = self._person(key)
        channel = channel or self._default_channel(member)
        self.line(f"  #{channel.name}  {member.username}: {typed}")
        from .emulator import InteractionRefused, NoReply, UnknownCommand

        try:
            handle = self.emu.dispatch_interaction(member, channel.id, path, **options)
        except (InteractionRefused, UnknownCommand) as exc:
            raise InputError(str(exc)) from None
        self._who[handle.id] = member.username
        self._waiting.add(handle.id)
        try:
            await handle.wait(REPLY_TIMEOUT)
        except NoReply:
            self.line(messages.playground_no_reply(path, REPLY_TIMEOUT))
        finally:
            self._waiting.discard(handle.id)
            self.refresh()
        await self.settle()

    async def settle(self) -> None:
        """Wait until nothing new appeared for QUIET_SECONDS (at most SETTLE_LIMIT), printing what does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_LIMIT
        quiet_since = loop.time()
        printed = self._printed
        while loop.time() < deadline and loop.time() - quiet_since < QUIET_SECONDS:
            await asyncio.sleep(WATCH_SECONDS / 2)
            self.refresh()
            if self._printed != printed:
                printed, quiet_since = self._printed, loop.time()

    def _person(self, key: str) -> Any:
        for member in self.guild.members.values():
            if member.username == key and not member.bot:
                return member
        instructor = key == messages.PLAYGROUND_TEACHER
        member = self.emu.add_member(key, display_name=key.capitalize(), admin=instructor)
        self.line(messages.playground_joined(key, instructor))
        return member

    def _is_instructor(self, member: Any) -> bool:
        from .emulator.models import MANAGE_GUILD

        return bool(self.guild.base_permissions(member.id) & MANAGE_GUILD)

    def _default_channel(self, member: Any) -> Any:
        return self.guild.admin_channel if self._is_instructor(member) else self.guild.attendance_channel

    def _channel(self, name: str) -> Any:
        channels = self._text_channels()
        for channel in channels:
            if channel.name == name.lower().lstrip("#"):
                return channel
        raise InputError(messages.playground_unknown_channel(name, [c.name for c in channels]))

    # -- slash commands as typed -------------------------------------------------------------

    def _commands(self) -> list[dict[str, Any]]:
        scopes = (self.guild.id, None)
        found = {c["name"]: c for scope in scopes for c in reversed(self.emu.registered_commands(scope))}
        return [found[name] for name in sorted(found)]

    def _parse(self, typed: str) -> tuple[str, dict[str, Any]]:
        """`/attendance mark student:ada status:excused` -> ("attendance mark", {"student": "ada", ...})."""
        try:
            words = shlex.split(typed)
        except ValueError:
            raise InputError(messages.playground_quotes(typed)) from None
        if not words or not words[0].startswith("/") or len(words[0]) < 2:
            raise InputError(messages.playground_unknown_input(typed))
        name = words[0][1:].lower()
        command = next((c for c in self._commands() if c["name"] == name), None)
        if command is None:
            raise InputError(messages.playground_unknown_command(name, [c["name"] for c in self._commands()]))
        path, schema, rest = [name], list(command.get("options") or []), words[1:]
        while schema and all(o["type"] in (_SUB_COMMAND, _SUB_COMMAND_GROUP) for o in schema):
            names = [o["name"] for o in schema]
            if not rest or rest[0].lower() not in names:
                raise InputError(messages.playground_needs_subcommand(" ".join(path), names))
            sub = rest.pop(0).lower()
            path.append(sub)
            schema = list(next(o for o in schema if o["name"] == sub).get("options") or [])
        where = " ".join(path)
        by_name = {o["name"]: o for o in schema}
        values: dict[str, Any] = {}
        for word in rest:
            key, colon, raw = word.partition(":")
            if colon and key.lower() in by_name:
                key = key.lower()
                if key in values:
                    raise InputError(messages.playground_option_twice(where, key))
                values[key] = self._value(by_name[key], raw)
            elif colon and _OPTION_NAME.fullmatch(key.lower()):
                raise InputError(messages.playground_unknown_option(where, key, list(by_name)))
            else:
                missing = [o for o in schema if o.get("required") and o["name"] not in values]
                if not missing:
                    raise InputError(messages.playground_extra_value(where, word, list(by_name)))
                values[missing[0]["name"]] = self._value(missing[0], word)
        missing_names = [o["name"] for o in schema if o.get("required") and o["name"] not in values]
        if missing_names:
            raise InputError(messages.playground_missing_options(where, missing_names))
        return where, values

    def _value(self, option: dict[str, Any], raw: str) -> Any:
        """The option's value as Discord's client would send it, from what was typed."""
        name, kind = option["name"], option["type"]
        choices = option.get("choices") or []
        if choices:
            for choice in choices:
                if raw.lower() in (str(choice["name"]).lower(), str(choice["value"]).lower()):
                    return choice["value"]
            expected = "one of " + ", ".join(str(c["name"]) for c in choices)
            raise InputError(messages.playground_bad_value(name, raw, expected))
        try:
            if kind == _INTEGER:
                return int(raw)
            if kind == _NUMBER:
                return float(raw)
        except ValueError:
            raise InputError(messages.playground_bad_value(name, raw, "a number")) from None
        if kind == _BOOLEAN:
            if raw.lower() in _TRUE + _FALSE:
                return raw.lower() in _TRUE
            raise InputError(messages.playground_bad_value(name, raw, "true or false"))
        if kind in (_USER, _MENTIONABLE):
            person = raw.lstrip("@").lower()
            if not _USERNAME.fullmatch(person):
                raise InputError(messages.playground_bad_name(raw))
            return self._person(person)
        if kind == _CHANNEL:
            return self._channel(raw).id
        if kind == _ROLE:
            for role in self.guild.roles.values():
                if role.name.lower() == raw.lstrip("@").lower():
                    return role.id
            roles = ", ".join(r.name for r in self.guild.roles.values() if r.id != self.guild.id)
            raise InputError(messages.playground_bad_value(name, raw, f"a role of the server ({roles})"))
        if kind == _ATTACHMENT:
            return _upload(raw)
        return raw

    def _usages(self) -> list[str]:
        lines = []
        for command in self._commands():
            for path, schema in _leaves([command["name"]], list(command.get("options") or [])):
                parts = [f"/{' '.join(path)}"]
                for option in schema:
                    hint = "|".join(str(c["name"]) for c in option.get("choices") or []) or "…"
                    parts.append(f"{option['name']}:{hint}" if option.get("required") else f"[{option['name']}:{hint}]")
                lines.append(" ".join(parts))
        return lines

    # -- looking around ----------------------------------------------------------------------

    def _people(self) -> None:
        for member in self.guild.members.values():
            if member.bot:
                continue
            instructor = self._is_instructor(member)
            self.line(messages.playground_person(member.username, instructor, self._default_channel(member).name))

    def _code(self) -> None:
        shown = False
        for channel in self._text_channels():
            cards = [
                m
                for m in self.emu.messages(channel.id, include_deleted=False)
                if m.embeds and m.interaction_id is None and m.author_id == self.emu.state.bot.id
            ]
            if cards:
                self._print_message(channel.name, cards[-1], now=True)
                shown = True
        if not shown:
            self.line(messages.playground_no_code_message())

    def _show(self, name: str) -> None:
        channel = self._channel(name or self.guild.attendance_channel.name)
        found = self.emu.messages(channel.id, include_deleted=False, include_ephemeral=True)
        if not found:
            self.line(messages.playground_empty_channel(channel.name))
        for message in found[-SHOWN_MESSAGES:]:
            self._print_message(channel.name, message, now=True)


def _printable(text: str) -> str:
    """`text` without what would steer a terminal: text-reordering characters dropped, controls made spaces."""
    if text.isprintable() and not BIDI_CONTROLS.intersection(text):
        return text
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text if ch not in BIDI_CONTROLS
    )


def _title(message: Any) -> str:
    return str(message.embeds[0].get("title") or "") if message.embeds else ""


def _leaves(path: list[str], schema: list[dict[str, Any]]) -> Iterator[tuple[list[str], list[dict[str, Any]]]]:
    """Each runnable command under `path`: its sub-command path and its options."""
    subs = [o for o in schema if o["type"] in (_SUB_COMMAND, _SUB_COMMAND_GROUP)]
    if not subs:
        yield path, schema
    for sub in subs:
        yield from _leaves([*path, sub["name"]], list(sub.get("options") or []))


def _upload(typed: str) -> Any:
    from .emulator import Upload

    path = Path(typed).expanduser()
    try:
        return Upload(path.read_bytes(), filename=path.name)
    except OSError as exc:
        raise InputError(messages.playground_unreadable_file(typed, exc.strerror or str(exc))) from None


def _save(folder: Path, filename: str, data: bytes) -> Path:
    """Write an attachment into `folder` (0700) as a new private file (0600): never over an earlier one."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name).lstrip(".") or "attachment"
    stem, dot, suffix = safe.partition(".")
    for number in range(1, 10_000):
        path = folder / (safe if number == 1 else f"{stem}-{number}{dot}{suffix}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        return path
    raise OSError(f"no free file name for {safe} in {folder}")


async def _session(database_path: Path, files: Path, stdin: IO[str], out: IO[str]) -> int:
    from .emulator import Emulator

    async with Emulator(app_name="AttendanceBot", guild_name="Playground") as emu:
        settings = emulated_settings(emu, database_path)
        for line in messages.playground_intro(database_path, files, emu.base_url):
            out.write(line + "\n")
        async with bot_running(emu, settings, out) as bot:
            playground = Playground(emu, out, files)
            playground.line(messages.playground_ready())
            watcher = asyncio.create_task(playground.watch(), name="playground-watch")
            prompt = "> " if stdin is sys.stdin and stdin.isatty() and out is sys.stdout else None
            lines = _Lines(stdin, prompt)
            try:
                status = await _converse(playground, lines, bot)
                await playground.settle()
            finally:
                lines.close()
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
    out.write(messages.playground_stopped(database_path) + "\n")
    return status


async def _converse(playground: Playground, lines: _Lines, bot: asyncio.Task) -> int:
    """Read and act on lines until `quit` or the end of input (0), or until the bot stops on its own (1)."""
    while True:
        reading = asyncio.ensure_future(lines.next())
        await asyncio.wait({reading, bot}, return_when=asyncio.FIRST_COMPLETED)
        if not reading.done():
            reading.cancel()
            error = bot.exception() if not bot.cancelled() else None
            playground.line(messages.playground_bot_failed(error or "no error"))
            return 1
        line = reading.result()
        if line is None or not await playground.handle(line):
            return 0


def run_playground(database_path: Path, files: Path, stdin: IO[str] | None = None, out: IO[str] | None = None) -> int:
    """The playground until `quit` or the end of stdin; 0 then, 1 if the bot stopped on its own."""
    quiet_logging()
    stdin, out = stdin or sys.stdin, out or sys.stdout
    if stdin is sys.stdin and stdin.isatty():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (input() at a terminal: line editing and history)
    try:
        return asyncio.run(_session(database_path, files, stdin, out))
    except KeyboardInterrupt:
        out.write("\n" + messages.playground_stopped(database_path) + "\n")
        return 130
