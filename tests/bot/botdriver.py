"""Drives the real bot as a subprocess against the emulator: process control, the database, the code message."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

from attendance_bot import messages, storage
from attendance_bot.attendance import AttendanceService
from attendance_bot.codes import ALPHABET
from attendance_bot.emulator import Emulator, EmulatorThread, Member, Message, Reply
from attendance_bot.models import Course, close_all, init_db, is_postgres
from attendance_bot.records import CurrentCode, ExportRow, SessionInfo
from attendance_bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
INTERVAL = 5
COMMANDS = (
    "course",
    "open_attendance",
    "close_attendance",
    "projector",
    "export_csv",
    "here",
    "register",
    "attendance",
    "my_attendance",
    "excuse",
    "notify",
)
READY_LINE = "Bot is ready!"

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, what: str = "", poll: float = 0.05) -> T:
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what or predicate}")
        time.sleep(poll)


def child_pids(pid: int) -> set[int]:
    """The processes `pid` has started and not yet reaped, read from /proc (every thread's children)."""
    found: set[int] = set()
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as listed:
                found.update(int(child) for child in listed.read().split())
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@contextmanager
def most_children(pid: int, poll: float = 0.01) -> Iterator[list[int]]:
    """Watch `pid`'s child processes while the block runs; the list holds the most seen at once."""
    most = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            most[0] = max(most[0], len(child_pids(pid)))
            time.sleep(poll)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield most
    finally:
        stop.set()
        watcher.join()


# -- the database, seen from the test process --------------------------------------------------


def database_environ(target: Path | str) -> dict[str, str]:
    """The variable that names a database: DATABASE_URL for a PostgreSQL URL, else DATABASE_PATH."""
    return {"DATABASE_URL": str(target)} if is_postgres(target) else {"DATABASE_PATH": str(target)}


class Db:
    """The bot's database (its SQLite file, or its PostgreSQL database's URL), opened briefly from
    the test process (the code is stateless)."""

    def __init__(self, target: Path | str) -> None:
        self.target = target
        self.path = target  # the SQLite-only tests' name for it (a file there)

    def settings(self) -> Settings:
        environ = {**database_environ(self.target), "CODE_ROTATION_INTERVAL": str(INTERVAL)}
        return load_settings(None, environ=environ, require_discord=False)

    @contextmanager
    def service(self, clock: Callable[[], datetime] | None = None) -> Iterator[AttendanceService]:
        """The service over the bot's database, inside one transaction (IMMEDIATE on SQLite).

        IMMEDIATE: the service's own deferred transactions fail at once with "database is locked"
        when the bot commits between their read and their write (see the report).
        """
        init_db(self.target)
        try:
            with storage.immediate():
                yield AttendanceService(self.settings(), clock) if clock else AttendanceService(self.settings())
        finally:
            close_all()

    def open_session(self) -> SessionInfo | None:
        with self.service() as service:
            return service.open_session_info()

    def session(self, session_id: str) -> SessionInfo:
        with self.service() as service:
            return service.get_session(session_id)

    def rows(self, session_id: str) -> list[ExportRow]:
        with self.service() as service:
            return service.export_rows(session_id)

    def code_for(self, card: Card) -> str:
        """The code the session really has in the window the card says it shows."""
        assert card.session_id is not None and card.changes_at is not None
        with self.service() as service:
            session = service.get_session(card.session_id)
            return service.code_at(session, card.changes_at - timedelta(seconds=1)).code

    def close_any(self) -> None:
        with self.service() as service:
            if service.open_session_info() is not None:
                service.close_session()

    def move_attendance(self, old: int, new: int) -> None:
        """The courses that take attendance in channel `old` take it in `new` from now on (as an
        instructor's `/course edit attendance_channel:` would)."""
        with self.service() as service:
            for course_id in [c.id for c in Course.select(Course.id).where(Course.attendance_channel_id == old)]:
                service.courses.edit(course_id, attendance_channel_id=new)


# -- the bot process ---------------------------------------------------------------------------


def bot_env(emu: EmulatorThread, database: Path | str, **extra: str) -> dict[str, str]:
    """The bot's environment: the emulator's base URL and token, the channels, the database (a file
    in tmp, or a PostgreSQL URL: DATABASE_URL). A file's folder is made here, as a checkout has its
    data/ folder: the bot makes no folder for a DATABASE_PATH."""
    if not is_postgres(database):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "CODE_", "DATABASE_"))}
    for key in ("ADMIN_CHANNEL_ID", "ATTENDANCE_CHANNEL_ID", "ADMIN_ROLE_ID", "GUILD_ID", "TIMEZONE"):
        env.pop(key, None)
    env.update(emu.bot_env())
    env.update(
        **database_environ(database),
        CODE_ROTATION_INTERVAL=str(INTERVAL),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run `manage.py ARGS` as the instructor would, in a subprocess; fail the test if it fails."""
    proc = subprocess.run(
        [sys.executable, "manage.py", "--env-file", "/dev/null", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc


class BotProcess:
    """`manage.py run` in a subprocess (or `argv`, another way to start the same bot), its stdout and
    stderr collected line by line."""

    def __init__(self, emu: EmulatorThread, env: dict[str, str], argv: list[str] | None = None) -> None:
        self.emu = emu
        self.env = env
        self.argv = argv or [sys.executable, "-u", "manage.py", "--env-file", "/dev/null", "run"]
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self._readers: list[threading.Thread] = []

    def start(self, timeout: float = 30.0) -> BotProcess:
        """Start the bot and wait until it is ready and its commands are registered."""
        gateway = self.emu.emu.gateway
        identified = gateway.identify_count
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for stream, sink in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            reader = threading.Thread(target=_pump, args=(stream, sink), daemon=True)
            reader.start()
            self._readers.append(reader)
        proc = self.proc
        wait_until(lambda: self.said(READY_LINE) or proc.poll() is not None, timeout, "the bot to say it is ready")
        assert self.proc.poll() is None, f"bot exited: {self.output()}"
        wait_until(lambda: gateway.identify_count > identified and gateway.connected, timeout, "a fresh identify")
        self.emu.wait_for_bot(timeout, commands=COMMANDS)
        return self

    def said(self, line: str) -> bool:
        return any(seen.rstrip("\n") == line for seen in self.stdout)

    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def signal(self, sig: int) -> int:
        """Send `sig` and wait for the exit; return the exit status."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = self.proc.wait(20)
        for reader in self._readers:
            reader.join(5)
        return code

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.signal(signal.SIGKILL)


def _pump(stream, sink: list[str]) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        sink.append(line)


# -- the code message, as a student sees it ----------------------------------------------------

_SAMPLE = messages.code_card(
    CurrentCode("SESSION", "CODE", 0, 0.0, datetime(2024, 1, 1, tzinfo=timezone.utc)), 7, "COURSE"
)
_OPEN_TITLE = _SAMPLE.title
_COUNT_FIELD = next(name for name, value in _SAMPLE.fields if value == "7")
_SESSION_FIELD = next(name for name, value in _SAMPLE.fields if value == "SESSION")
_COURSE_FIELD = next(name for name, value in _SAMPLE.fields if value == "COURSE")
_CLOSED_SAMPLE = messages.closed_card("SESSION", 7, datetime(2024, 1, 1, tzinfo=timezone.utc))
_CLOSED_SESSION_FIELD = next(name for name, value in _CLOSED_SAMPLE.fields if value == "SESSION")


@dataclass(frozen=True)
class Card:
    """The code message's embed, read back: what is on screen."""

    message_id: int
    title: str
    description: str
    fields: list[tuple[str, str]]
    code: str
    changes_at: datetime | None
    count: int | None
    session_id: str | None
    course: str | None = None

    @property
    def is_open(self) -> bool:
        return self.title == _OPEN_TITLE

    def expected_open(self) -> messages.CodeCard:
        """The card messages.code_card would draw for the code, time and count shown."""
        assert self.changes_at is not None and self.session_id is not None and self.count is not None
        return messages.code_card(
            CurrentCode(self.session_id, self.code, 0, 0.0, self.changes_at), self.count, self.course
        )


def read_card(message: Message) -> Card:
    embed = message.embeds[0] if message.embeds else {}
    fields = [(f.get("name", ""), f.get("value", "")) for f in embed.get("fields") or []]
    by_name = dict(fields)
    description = embed.get("description") or ""
    code = re.search(r"/here (\S+?)`", description)
    stamp = re.search(r"<t:(\d+):R>", " ".join(by_name.values()))
    count = by_name.get(_COUNT_FIELD)
    return Card(
        message_id=message.id,
        title=embed.get("title") or "",
        description=description,
        fields=fields,
        code=code.group(1) if code else "",
        changes_at=datetime.fromtimestamp(int(stamp.group(1)), timezone.utc) if stamp else None,
        count=int(count) if count is not None and count.isdigit() else None,
        session_id=by_name.get(_SESSION_FIELD) or by_name.get(_CLOSED_SESSION_FIELD),
        course=by_name.get(_COURSE_FIELD),
    )


def session_messages(
    emu: EmulatorThread, session_id: str, *, include_deleted: bool = False, channel_id: int | None = None
) -> list[Message]:
    """The bot's messages in the attendance channel (or `channel_id`) that belong to this session, oldest first."""
    found = []
    for message in emu.messages(channel_id or emu.attendance_channel_id, include_deleted=include_deleted):
        if message.author_id == emu.emu.bot_user_id and message.embeds and read_card(message).session_id == session_id:
            found.append(message)
    return found


# The emulator keeps Discord's limit of 5 messages per 5 s in a channel: a test whose neighbour just
# posted five code messages in the shared channel waits up to 5 s for its own, as the bot would on
# Discord, on top of a loaded machine's delays.
LIVE_CARD_SECONDS = 15.0


def live_card(
    emu: EmulatorThread, session_id: str, timeout: float = LIVE_CARD_SECONDS, *, channel_id: int | None = None
) -> Card:
    """The session's open code message (waits until the bot has posted it), in the attendance channel
    or `channel_id`."""

    def find() -> Card | None:
        cards = [read_card(m) for m in session_messages(emu, session_id, channel_id=channel_id)]
        cards = [c for c in cards if c.is_open]
        return cards[-1] if cards else None

    return wait_until(find, timeout, f"the code message of session {session_id}")


def current_card(emu: EmulatorThread, session_id: str, timeout: float = LIVE_CARD_SECONDS) -> Card:
    """The session's code message once it shows the current window's code with a second of it left: a
    post or edit that waited out Discord's per-channel limit may land showing a window that has ended
    (the bot edits it at once, after the limit), and a test that types the code needs the live one."""

    def fresh() -> Card | None:
        card = live_card(emu, session_id, timeout)
        left = (card.changes_at - datetime.now(timezone.utc)).total_seconds() if card.changes_at else 0.0
        return card if left > 1.0 else None

    return wait_until(fresh, timeout, f"the code message of session {session_id} to show the current code")


def next_card(emu: EmulatorThread, session_id: str, after: Card, timeout: float = 2 * INTERVAL + 3) -> Card:
    """The code message once it shows a different code than `after` (the next window)."""

    def changed() -> Card | None:
        card = live_card(emu, session_id)
        return card if card.changes_at != after.changes_at else None

    return wait_until(changed, timeout, "the code message to rotate")


def other_code(code: str) -> str:
    """A well-formed code that differs from `code` in every character."""
    return "".join(ALPHABET[(ALPHABET.index(ch) + 1) % len(ALPHABET)] for ch in code)


# -- the Check in button and its form, as a student uses them ----------------------------------


def check_in_buttons(message: Message) -> list[dict[str, object]]:
    """The Check in buttons on a message (the code message has one while its session is open)."""
    label = messages.check_in_button_label()
    return [
        child
        for row in message.components
        for child in row.get("components") or []
        if child.get("type") == 2 and child.get("label") == label
    ]


def open_form(emu: EmulatorThread, member: Member, message_id: int) -> Reply:
    """`member` presses the code message's Check in button; the bot's answer (a form: type 9)."""
    return emu.press_button(member, message_id, label=messages.check_in_button_label())


def send_form(emu: EmulatorThread, member: Member, form: Reply, code: str) -> Reply:
    """`member` types `code` into the form the button opened and sends it; the bot's reply."""
    [field] = Emulator.modal_fields(form)
    return emu.submit_modal(member, form, {str(field["custom_id"]): code})


def check_in_by_button(emu: EmulatorThread, member: Member, message_id: int, code: str) -> Reply:
    """Press the button, type the code, send: the reply a student sees."""
    return send_form(emu, member, open_form(emu, member, message_id), code)
