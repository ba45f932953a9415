"""`manage.py demo`: the real bot against the local Discord emulator, playing a short class."""

from __future__ import annotations

import asyncio
import logging
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .emulated import Indented, bot_running, embed_lines, emulated_settings, humane, quiet_logging, wait_for
from .settings import Settings

# manage.py's main(argv, *, stdout=, stderr=, environ=): exit status
Shell = Callable[..., int]

log = logging.getLogger(__name__)

DEMO_INTERVAL = 5  # the shortest window, so the class fits in half a minute
_CODE_IN_EMBED = re.compile(r"/here ([0-9A-Z]+)")


class _Narrator:
    """Prints what people in the Discord server would see, step by step."""

    def __init__(self, out: IO[str], channel_names: dict[int, str]) -> None:
        self.out = out
        self.channel_names = channel_names
        self.step = 0

    def line(self, text: str = "") -> None:
        self.out.write(humane(text, self.channel_names) + "\n")
        self.out.flush()

    def heading(self, text: str) -> None:
        self.step += 1
        self.line()
        self.line(f"[{self.step}] {text}")

    def command(self, who: str, channel_id: int, text: str) -> None:
        self.line(f"    #{self.channel_names.get(channel_id, channel_id)}  {who}: {text}")

    def reply(self, reply: Any) -> None:
        audience = "only you can see this" if reply.ephemeral else "visible to the channel"
        body = reply.content or ""
        self.line(f"    └ bot ({audience}, {reply.latency * 1000:.0f} ms): {body}")
        for name, data in reply.files:
            self.line(f"      📎 {name} ({len(data)} bytes)")

    def card(self, channel_id: int, embed: dict[str, Any], edits: int) -> None:
        title = embed.get("title", "")
        note = f", edited {edits}×" if edits else ""
        self.line(f"    #{self.channel_names.get(channel_id, channel_id)}  code message ({title}{note}):")
        for part in embed_lines(embed):
            self.line(f"      │ {part}")


async def _play(database_path: Path, out: IO[str], shell: Shell, project_dir: Path) -> int:
    from .emulator import Emulator

    async with Emulator(app_name="AttendanceBot", guild_name="Intro to Databases") as emu:
        settings = emulated_settings(emu, database_path, CODE_ROTATION_INTERVAL=str(DEMO_INTERVAL))
        talk = _Narrator(out, {emu.admin_channel_id: "admin", emu.attendance_channel_id: "attendance"})
        talk.line("attendance_bot demo: the real nextcord bot against a local Discord emulator")
        talk.line(f"  emulator: {emu.base_url} (loopback only; no Discord account or network needed)")
        talk.line(f"  database: {database_path}")
        talk.line(f"  codes change every {DEMO_INTERVAL} s here (15 s by default); the previous code is still accepted")
        talk.heading("The bot starts")
        async with bot_running(emu, settings, out):
            status = await _class(emu, settings, talk)
    # Only once the bot has closed its connections: the shell opens the database anew, and a
    # connection the bot still held would keep the -wal and -shm files after the demo.
    return _shell_view(settings, talk, shell, project_dir) if status == 0 else status


async def _class(emu: Any, settings: Settings, talk: _Narrator) -> int:
    admin, room = emu.admin_channel_id, emu.attendance_channel_id
    teacher = emu.instructor
    names = ["ada", "grace", "alan", "edsger", "barbara", "ken"]
    students = {name: emu.add_member(name, display_name=name.capitalize()) for name in names}

    async def here(name: str, code: str, channel: int = room) -> Any:
        talk.command(name, channel, f"/here {code}")
        reply = await emu.invoke(students[name], channel, "here", code=code)
        talk.reply(reply)
        return reply

    def code_message() -> Any:
        shown = [m for m in emu.messages(room) if m.embeds and not m.deleted]
        return shown[-1] if shown else None

    def shown_code() -> str:
        message = code_message()
        match = _CODE_IN_EMBED.search(message.embeds[0].get("description", "")) if message else None
        return match.group(1) if match else ""

    talk.heading("A student tries to check in before class")
    await here("ada", "ABCD")

    talk.heading("The instructor opens attendance in the admin channel")
    talk.command(teacher.username, admin, "/open_attendance")
    talk.reply(await emu.invoke(teacher, admin, "open_attendance"))
    message = await wait_for(code_message, 10, "the code message")
    talk.card(room, message.embeds[0], len(message.edits))
    first_code = shown_code()

    talk.heading("Students read the code from the screen and check in")
    await here("ada", first_code)
    await here("grace", f" {first_code[:2].lower()}-{first_code[2:].lower()} ")
    await here("alan", first_code.replace(first_code[0], "0", 1))
    await here("alan", next(c for c in ("WXYA", "VXYA") if c != first_code))

    talk.heading("A student types in the wrong channel")
    await here("barbara", first_code, channel=admin)

    talk.heading("A student tries an instructor command")
    talk.command("barbara", admin, "/close_attendance")
    talk.reply(await emu.invoke(students["barbara"], admin, "close_attendance"))

    talk.heading(f"The code rotates (new code at the next {DEMO_INTERVAL}-second boundary)")
    await wait_for(lambda: shown_code() not in ("", first_code), DEMO_INTERVAL + 5, "the next code")
    message = code_message()
    talk.card(room, message.embeds[0], len(message.edits))
    second_code = shown_code()
    talk.line(f"    edsger was slow: the previous code {first_code} is still within the grace period")
    await here("edsger", first_code)
    await here("alan", second_code)

    talk.heading("Another rotation later, a late student uses the first code")
    await wait_for(lambda: shown_code() not in ("", first_code, second_code), DEMO_INTERVAL + 5, "a third code")
    await here("ken", first_code)
    await here("ken", shown_code())
    talk.line("    grace checks in again: the last submission wins, one record per student")
    await here("grace", shown_code())

    talk.heading("The instructor closes attendance")
    talk.command(teacher.username, admin, "/close_attendance")
    talk.reply(await emu.invoke(teacher, admin, "close_attendance"))
    await wait_for(
        lambda: code_message() and "closed" in code_message().embeds[0].get("title", "").lower(), 10, "the final edit"
    )
    message = code_message()
    talk.card(room, message.embeds[0], len(message.edits))

    talk.heading("The instructor exports the records")
    talk.command(teacher.username, admin, "/export_csv")
    reply = await emu.invoke(teacher, admin, "export_csv")
    talk.reply(reply)
    for _, data in reply.files:
        for row in data.decode("utf-8").splitlines():
            talk.line(f"      {row}")
    return 0


def _shell_view(settings: Settings, talk: _Narrator, main: Shell, project_dir: Path) -> int:
    """What `manage.py sessions` and `manage.py export` print on the bot's machine, run as shown
    (`main` is the shell's, handed over by `manage.py demo`: the demo does not import the shell)."""
    path = settings.database_path
    shown = path.relative_to(project_dir) if path.is_relative_to(project_dir) else path
    # DATABASE_URL, not DATABASE_PATH: it wins over .env's DATABASE_URL and DATABASE_PATH alike, so
    # the commands read the demo's database whatever this machine's .env configures.
    url = f"sqlite:///{shown}"
    talk.heading("On the bot's machine (the bot stopped)")
    shell = Indented(talk.out, "      ")
    for args in (["sessions"], ["export"]):
        talk.line(f"    $ {demo_command(url, args[0])}")
        status = main(["--env-file", "/dev/null", *args], stdout=shell, stderr=shell, environ={"DATABASE_URL": url})
        if status != 0:
            return status
    talk.line()
    talk.line("Demo finished: every step above went through the real bot and a Discord emulator on 127.0.0.1.")
    talk.line(f"The database stays at {shown}; read it with `{demo_command(url, 'export')}` (or `sessions`).")
    return 0


def demo_command(url: str, command: str) -> str:
    """A manage.py command on the demo's database, as typed in the project folder."""
    return f"DATABASE_URL={shlex.quote(url)} .venv/bin/python manage.py {command}"


def run_demo(database_path: Path, out: IO[str] | None = None, *, shell: Shell, project_dir: Path) -> int:
    """Play the demo class, then show `sessions` and `export` through `shell` (manage.py's main, whose
    paths are relative to `project_dir`); 0 when every step behaved."""
    out = out or sys.stdout
    quiet_logging()
    return asyncio.run(_play(database_path, out, shell, project_dir))
