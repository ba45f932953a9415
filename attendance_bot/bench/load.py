"""Scenarios and the load itself: open a session, read the code like a student, fire `/here`, measure."""

from __future__ import annotations

import asyncio
import math
import re
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..emulator import Emulator, InteractionHandle, Member
from ..emulator.interactions import NoReply
from .seed import EXPORT_SESSIONS

BATCH = 250  # interactions dispatched between two yields to the event loop
SPREAD_TICK = 0.02  # seconds between two dispatch rounds of a spread scenario
LATE_SECONDS = 3.0  # Discord's limit for the interaction callback
OK_PREFIX = "✅"  # how our bot's accepting reply starts
ON_TIME_SECONDS = 1.0  # a code-message edit this long after its window boundary is late
_CODE_IN_EMBED = re.compile(r"/here ([A-Z0-9]+)")
_SESSION_IN_REPLY = re.compile(r"session (\S+) is open")


FLOOD = "flood"  # a session opened hours ago, one account flooding its first code, N honest at once
SEEDED = "seeded"  # N at once over a database of N students x EXPORT_SESSIONS past sessions
EXPORT = "export"  # the same, with /export_csv of every record sent in the middle of the burst
COURSES = "courses"  # N students in many courses of several servers at once, and the code messages' edits
SHARDS = "shards"  # the same over SHARD_SERVERS servers, run by SHARD_PROCESSES bot processes of one shard each
VOICE = "voice"  # N at once with voice_rule required, everyone in the voice channel (the bare bot: a plain burst)
BUTTON = "button"  # N at once through the code message's Check in button and its form (the bare bot: its own)
PROJECTOR = "projector"  # N at once while PROJECTOR_PAGES projector pages watch the session, beside N at once without
PROJECTOR_PAGES = 200
PROJECTOR_WINDOWS = 2  # window boundaries the pages are judged over, at least (besides the burst's)
FLOOD_AGE_HOURS = 8
DEFAULT_COURSES = 20  # the "20 courses in 3 servers"
SHARD_PROCESSES = 2  # issue 10: "two shard processes x 10 servers"
SHARD_SERVERS = 10
FLOOD_IN_FLIGHT = 4  # the flooder's interactions in flight: each one is sent again once answered


@dataclass(frozen=True)
class Scenario:
    """`count` students at once, or spread evenly over one code window, or one of the modes above
    (`courses`: how many courses the COURSES mode shares them among)."""

    count: int
    spread: bool = False
    mode: str = ""
    courses: int = 0

    @property
    def name(self) -> str:
        if self.mode == FLOOD:
            return f"{self.count} during a flood"
        if self.mode == SEEDED:
            return f"{self.count} at once, {self.count * EXPORT_SESSIONS} rows"
        if self.mode == EXPORT:
            return f"{self.count} at once + export"
        if self.mode == COURSES:
            return f"{self.count} in {self.courses} courses"
        if self.mode == SHARDS:
            return f"{self.count} in {self.courses} courses, {SHARD_PROCESSES} shards"
        if self.mode == VOICE:
            return f"{self.count} at once, in voice"
        if self.mode == BUTTON:
            return f"{self.count} at once, button"
        if self.mode == PROJECTOR:
            return f"{self.count} at once, {PROJECTOR_PAGES} pages"
        return f"{self.count} / window" if self.spread else f"{self.count} at once"


DEFAULT_SCENARIOS = "200,1000,3000,10000"
QUICK_SCENARIOS = "50,200/window"
_SPREAD_ALIASES = {"10000"}  # the "10,000 spread over one 15-second window"
_MODE_DEFAULTS = {FLOOD: 200, EXPORT: 1000, COURSES: 3000, SHARDS: 3000, VOICE: 1000, BUTTON: 1000, PROJECTOR: 1000}


def parse_scenarios(text: str, *, courses: int = DEFAULT_COURSES) -> list[Scenario]:
    """`200,1000,3000,10000`: plain numbers are bursts, `N/window` (and the issue's 10000) are spreads.

    `flood[:N]` (default 200) is N honest students during a flood of an 8-hour-old session;
    `export[:N]` (default 1000) is a burst of N over N x 40 past records, then the same burst with
    an export of those records in the middle (two rows, side by side); `courses[:N]` (default
    3000) is N students shared among `courses` courses of three servers, all at once; `shards[:N]`
    (default 3000) the same over ten servers, run by two bot processes of one shard each; `voice[:N]`
    (default 1000) is N at once with the course's voice_rule required and everyone in its voice channel;
    `button[:N]` (default 1000) is N at once pressing the code message's Check in button and sending
    its form with the code (the bare bot's own button and form only answer "ok", for the ratio);
    `projector[:N]` (default 1000) is N at once, then the same N at once while PROJECTOR_PAGES
    projector pages watch the session (two rows, side by side).
    """
    out: list[Scenario] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        mode, colon, size = token.partition(":")
        if mode in _MODE_DEFAULTS:
            if colon and (not size.isdigit() or int(size) <= 0):
                raise ValueError(f"bad scenario {token!r}: use {mode} or {mode}:N")
            count = int(size) if colon else _MODE_DEFAULTS[mode]
            out += [Scenario(count, mode=SEEDED), Scenario(count, mode=EXPORT)] if mode == EXPORT else []
            out += [Scenario(count), Scenario(count, mode=PROJECTOR)] if mode == PROJECTOR else []
            out += [Scenario(count, mode=FLOOD)] if mode == FLOOD else []
            out += [Scenario(count, mode=mode, courses=courses)] if mode in (COURSES, SHARDS) else []
            out += [Scenario(count, mode=VOICE)] if mode == VOICE else []
            out += [Scenario(count, mode=BUTTON)] if mode == BUTTON else []
            continue
        number, _, suffix = token.partition("/")
        if suffix not in ("", "window") or not number.isdigit() or int(number) <= 0:
            raise ValueError(
                f"bad scenario {token!r}: use N (all at once), N/window (spread over one window), "
                "flood[:N], export[:N], courses[:N], shards[:N], voice[:N], button[:N] or projector[:N]"
            )
        out.append(Scenario(int(number), spread=bool(suffix) or token in _SPREAD_ALIASES))
    if not out:
        raise ValueError("no scenario given")
    return out


@dataclass
class Result:
    """The figures of one scenario against one bot."""

    scenario: Scenario
    bot: str
    sent: int = 0
    answered: int = 0
    ok: int = 0
    lost: int = 0
    duplicates: int | None = None
    late: int = 0
    deferred: int = 0
    latencies: list[float] = field(default_factory=list)  # dispatch → callback, seconds, sorted
    answer_latencies: list[float] = field(default_factory=list)  # dispatch → final reply (after a defer), sorted
    throughput: float = 0.0
    rss_kb: int = 0
    bot_cpu: float = 0.0
    bench_cpu: float = 0.0
    wall: float = 0.0
    notes: list[str] = field(default_factory=list)
    extras: dict[str, str] = field(default_factory=dict)  # figures of one mode (flood, export, courses), as text
    figures: dict[str, float] = field(default_factory=dict)  # the same as numbers, for the medians of rounds
    round: int | None = None  # which round of the run (its bots are compared with that round's bare bot)

    def percentile(self, q: float, *, answer: bool = False) -> float | None:
        """Nearest-rank percentile of the callback latency (or of the final answer's)."""
        return nearest_rank(self.answer_latencies if answer else self.latencies, q)


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank `q` percentile of sorted `values` (None for none): with fewer than 100
    values the p99 is the largest."""
    if not values:
        return None
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


# -- the code message, as a student reads it -------------------------------------------------


def code_of(emu: Emulator, message_id: int) -> str:
    """The code the code message shows right now."""
    msg = emu.get_message(message_id)
    if msg is None or not msg.embeds:
        raise RuntimeError("the code message is gone")
    found = _CODE_IN_EMBED.search(str(msg.embeds[0].get("description") or ""))
    if found is None:
        raise RuntimeError(f"no code in the code message: {msg.embeds[0]!r}")
    return found.group(1)


async def open_session(emu: Emulator, timeout: float = 20.0) -> tuple[str, int]:
    """`/open_attendance` as the instructor; returns the session id and the code message id."""
    before = {m.id for m in emu.messages(emu.attendance_channel_id)}
    reply = await emu.invoke(emu.instructor, emu.admin_channel_id, "open_attendance", timeout=timeout)
    session_id = opened_session(reply.content)
    return session_id, await code_message(emu, session_id, before, timeout)


def opened_session(reply: str | None) -> str:
    """The session id in `/open_attendance`'s answer (RuntimeError if it opened none)."""
    found = _SESSION_IN_REPLY.search(reply or "")
    if found is None:
        raise RuntimeError(f"/open_attendance did not open a session: {reply!r}")
    return found.group(1)


async def code_message(
    emu: Emulator, session_id: str, before: set[int], timeout: float = 20.0, *, channel_id: int | None = None
) -> int:
    """The id of the code message of `session_id` once the bot has posted it in `channel_id` (the
    `.env` course's attendance channel unless told), not one of `before`."""
    channel = emu.attendance_channel_id if channel_id is None else channel_id
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in emu.messages(channel):
            if msg.id not in before and msg.embeds and session_id in str(msg.embeds[0].get("fields")):
                return msg.id
        await asyncio.sleep(0.05)
    raise RuntimeError(f"no code message for session {session_id} within {timeout:.0f}s")


async def voice_required(emu: Emulator, students: Sequence[Member], timeout: float) -> None:
    """The `.env` course takes check-ins from its voice channel only, and `students` join that channel."""
    reply = await emu.invoke(
        emu.instructor,
        emu.admin_channel_id,
        "course edit",
        course="default",
        voice_channel=emu.voice_channel_id,
        voice_rule="required",
        timeout=timeout,
    )
    if "is updated" not in (reply.content or ""):
        raise RuntimeError(f"/course edit did not set the voice channel: {reply.content!r}")
    for start in range(0, len(students), BATCH):
        for member in students[start : start + BATCH]:
            emu.join_voice(member, emu.voice_channel_id)
        await asyncio.sleep(0)


async def voice_logged(database: Path | str, session_id: str, count: int, timeout: float) -> None:
    """Wait until the bot's voice log holds `count` people in the session: its presence has them all."""
    sql = f"SELECT COUNT(*) FROM voice_span WHERE session_id = '{session_id}'"  # noqa: S608  # our own session id
    deadline = time.monotonic() + timeout
    while read_rows(database, sql)[0][0] < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the voice log did not reach {count} people within {timeout:.0f}s")
        await asyncio.sleep(0.2)


def leave_voice(emu: Emulator, students: Sequence[Member]) -> None:
    """Everyone out of voice again (the emulator serves the next scenarios)."""
    for member in students:
        if emu.voice_channel_of(member) is not None:
            emu.leave_voice(member)


async def close_session(emu: Emulator, timeout: float = 20.0) -> str:
    reply = await emu.invoke(emu.instructor, emu.admin_channel_id, "close_attendance", timeout=timeout)
    return reply.content or ""


async def next_rotation(emu: Emulator, message_id: int, timeout: float) -> None:
    """Wait until the shown code changes, so a spread starts with a fresh window."""
    first = code_of(emu, message_id)
    deadline = time.monotonic() + timeout
    while code_of(emu, message_id) == first:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the code did not rotate within {timeout:.0f}s")
        await asyncio.sleep(0.01)


def edit_times(emu: Emulator, message_id: int, since: float, until: float) -> list[float]:
    """Epoch seconds of the code message's edits between `since` and `until`, oldest first."""
    msg = emu.get_message(message_id)
    if msg is None:
        return []
    stamps = [v.timestamp for v in msg.edits[1:]] + ([msg.edited_at] if msg.edited_at else [])
    return sorted(t for t in (s.timestamp() for s in stamps) if since <= t <= until)


def edit_lateness(edits: Sequence[float], window: float, since: float, until: float) -> tuple[float | None, int]:
    """How late the code message's edits came after their window boundary (the worst, in seconds),
    and how many whole windows between `since` and `until` began without an edit of their own."""
    lateness = max(((t - math.floor(t / window) * window) for t in edits), default=None)
    first, last = math.floor(since / window) + 1, math.floor(until / window) - 1  # windows wholly inside
    edited = {math.floor(t / window) for t in edits}
    return lateness, sum(1 for w in range(first, last + 1) if w not in edited)


class Flood:
    """One account sending the same code again and again: each of FLOOD_IN_FLIGHT interactions is
    sent again as soon as it is answered, so the flood runs as fast as the bot answers."""

    def __init__(self, emu: Emulator, member: Member, code: str, timeout: float) -> None:
        self._emu, self._member, self._code, self._timeout = emu, member, code, timeout
        self._stop = asyncio.Event()
        self._lanes: list[asyncio.Task[None]] = []
        self.sent = 0
        self.unanswered = 0
        self.replies: dict[str, int] = {}
        self.started = 0.0
        self.stopped = 0.0

    def start(self) -> None:
        self.started = time.perf_counter()
        self._lanes = [asyncio.ensure_future(self._lane()) for _ in range(FLOOD_IN_FLIGHT)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._lanes)
        self.stopped = time.perf_counter()

    async def _lane(self) -> None:
        channel = self._emu.attendance_channel_id
        while not self._stop.is_set():
            handle = self._emu.dispatch_interaction(self._member, channel, "here", code=self._code)
            self.sent += 1
            try:
                reply = await handle.wait(self._timeout)
            except NoReply:
                self.unanswered += 1
                continue
            kind = (reply.content or "?")[:1]
            self.replies[kind] = self.replies.get(kind, 0) + 1

    def summary(self) -> str:
        rate = self.sent / (self.stopped - self.started) if self.stopped > self.started else 0.0
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.replies.items(), key=lambda kv: -kv[1]))
        return f"{self.sent} sent ({rate:.0f}/s), replies {kinds or 'none'}, unanswered {self.unanswered}"


# -- firing ----------------------------------------------------------------------------------


async def fire_burst(emu: Emulator, students: Sequence[Member], code: Callable[[], str]) -> list[InteractionHandle]:
    """Everyone at once, dispatched in batches so the gateway writer gets to run."""
    channel = emu.attendance_channel_id
    handles: list[InteractionHandle] = []
    shown = code()
    for start in range(0, len(students), BATCH):
        for member in students[start : start + BATCH]:
            handles.append(emu.dispatch_interaction(member, channel, "here", code=shown))
        await asyncio.sleep(0)
    return handles


async def fire_buttons(
    emu: Emulator, students: Sequence[Member], message_id: int, code: Callable[[], str], timeout: float
) -> tuple[list[InteractionHandle], list[InteractionHandle]]:
    """Everyone presses the code message's button at once (in batches, as fire_burst); each sends the
    form with the code on screen as soon as it opens. Returns the presses and the forms sent (a press
    whose form never came has no form: it is lost)."""
    presses: list[InteractionHandle] = []
    for start in range(0, len(students), BATCH):
        for member in students[start : start + BATCH]:
            presses.append(emu.dispatch_button(member, message_id))
        await asyncio.sleep(0)
    shown = code()
    forms: list[InteractionHandle] = []

    async def send_form(press: InteractionHandle) -> None:
        try:
            modal = await press.wait(timeout)
        except NoReply:
            return
        field = Emulator.modal_fields(modal)[0]["custom_id"]
        forms.append(emu.dispatch_modal_submit(press.record.member, modal, {field: shown}))

    await asyncio.gather(*(send_form(press) for press in presses))
    return presses, forms


async def fire_spread(
    emu: Emulator, students: Sequence[Member], code: Callable[[], str], window: float
) -> list[InteractionHandle]:
    """Evenly over `window` seconds; each round re-reads the code on screen."""
    channel = emu.attendance_channel_id
    handles: list[InteractionHandle] = []
    total = len(students)
    start = time.perf_counter()
    sent = 0
    while sent < total:
        elapsed = time.perf_counter() - start
        due = min(total, int(total * elapsed / window) + 1)
        if due > sent:
            shown = code()
            for member in students[sent:due]:
                handles.append(emu.dispatch_interaction(member, channel, "here", code=shown))
            sent = due
        await asyncio.sleep(SPREAD_TICK)
    return handles


async def collect(
    handles: Sequence[InteractionHandle], timeout: float, is_ok: Callable[[str], bool], result: Result
) -> set[int]:
    """Wait for the answers (up to `timeout` after the last dispatch); fill `result`; acked user ids."""
    futures = [h.future for h in handles]
    if futures:
        await asyncio.wait(futures, timeout=timeout)
    acked: set[int] = set()
    latencies: list[float] = []
    answers: list[float] = []
    first = min((h.record.dispatched_at for h in handles), default=0.0)
    last = first
    for handle in handles:
        rec = handle.record
        if not rec.future.done() or rec.future.cancelled() or rec.future.exception() is not None:
            result.lost += 1
            continue
        reply = rec.future.result()
        result.answered += 1
        latencies.append(rec.ack_latency)
        answers.append(reply.latency)
        last = max(last, rec.dispatched_at + reply.latency)
        if rec.ack_latency > LATE_SECONDS:
            result.late += 1
        if reply.deferred:
            result.deferred += 1
        if is_ok(reply.content or ""):
            result.ok += 1
            acked.add(rec.member.id)
    latencies.sort()
    answers.sort()
    result.sent = len(handles)
    result.latencies = latencies
    result.answer_latencies = answers
    result.throughput = result.answered / (last - first) if last > first else 0.0
    return acked


def read_rows(database: Path | str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of one query, read beside the bot and not through its code: sqlite3 (read-only) for
    an SQLite file, psycopg for a PostgreSQL URL."""
    if isinstance(database, str):
        import psycopg

        with psycopg.connect(database, connect_timeout=10) as conn:
            return list(conn.execute(sql))  # type: ignore[arg-type]  # the bench's own constant queries
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def check_database(database: Path | str, acked: Mapping[str, set[int]], result: Result, *, seeded: int = 0) -> None:
    """Every student acknowledged in a session (`acked`: session id → user ids) has exactly one row in
    that session, nothing more (besides the `seeded` rows of past sessions the scenario put there
    before the bot started); read with sqlite3 or psycopg (read_rows), not the bot's code."""
    rows = read_rows(database, "SELECT session_id, user_id, COUNT(*) FROM attendance GROUP BY session_id, user_id")
    stored: dict[str, dict[int, int]] = {session_id: {} for session_id in acked}
    other = 0
    for session_id, user_id, count in rows:
        if session_id in stored:
            stored[session_id][int(user_id)] = count
        else:
            other += count
    total = sum(sum(users.values()) for users in stored.values())
    acknowledged = sum(len(users) for users in acked.values())
    missing = sum(len(users - stored[session_id].keys()) for session_id, users in acked.items())
    result.lost += missing
    result.duplicates = sum(c - 1 for users in stored.values() for c in users.values()) + max(0, total - acknowledged)
    if missing:
        result.notes.append(f"{missing} acknowledged but not in the database")
    if other != seeded:
        result.notes.append(f"{other} rows of other sessions in a database seeded with {seeded}")
    if total != acknowledged:
        result.notes.append(f"{total} rows for {acknowledged} acknowledged students")
