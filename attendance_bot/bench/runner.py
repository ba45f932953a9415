"""Runs the scenarios against both bots, one fresh bot process and database per scenario, and prints the table."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ..emulator import Emulator, InteractionHandle, Member
from ..emulator.interactions import NoReply
from . import load, multicourse, projector, report, seed
from .pg import PREFIX, BenchPostgres
from .procs import BotKind, parse_kind, start_bot

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 15  # the bot's default CODE_ROTATION_INTERVAL
BARE_CODE = "A1B2"


@dataclass(frozen=True)
class Options:
    scenarios: list[load.Scenario]
    bots: list[BotKind]
    interval: int | None  # None: the bot's default (15 s)
    timeout: float
    settle: float
    markdown: bool
    keep: bool
    flood_windows: int = 2  # how many code windows the flood lasts at least (edits measured over them)
    courses: int = load.DEFAULT_COURSES  # how many courses the courses scenario has
    course_windows: int = 4  # how many code windows of the courses scenario's edits are judged
    postgres: BenchPostgres | None = None  # the server of the -pg bots' databases (--postgres)
    projector_windows: int = load.PROJECTOR_WINDOWS  # window boundaries the projector pages are judged over

    @property
    def window(self) -> float:
        return float(self.interval or DEFAULT_INTERVAL)


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m attendance_bot.bench",
        description="Burst benchmark of /here: the real bot and a bare nextcord bot, each as a separate "
        "process against the local Discord emulator on 127.0.0.1. (`python -m attendance_bot.bench report --help`: "
        "the time to build a course's report over a generated semester.)",
    )
    parser.add_argument(
        "--scenarios",
        help=f"comma-separated; N = N students at once, N/window = spread over one code window "
        f"(10000 is the issue's spread scenario); flood[:N] = N honest students (200) while one account "
        f"floods the first code of a session opened {load.FLOOD_AGE_HOURS} hours ago; export[:N] = N at once "
        f"(1000) over N x {seed.EXPORT_SESSIONS} past records, beside the same burst with /export_csv of them "
        f"in the middle (our bot only); courses[:N] = N students (3000) shared among --courses courses in "
        f"{multicourse.SERVERS} servers, all at once, then the lag of the code messages' edits over 4 windows "
        f"(2 with --quick; our bot only); shards[:N] = the same (3000) over {load.SHARD_SERVERS} servers spread "
        f"over {load.SHARD_PROCESSES} shards, run by {load.SHARD_PROCESSES} processes of our bot sharing one "
        f"database (SHARD_COUNT={load.SHARD_PROCESSES}, SHARD_IDS=0 and 1); voice[:N] = N at once (1000) with "
        f"the course's voice_rule required and every one of them in its voice channel (the bare bot: the same "
        f"burst); button[:N] = N (1000) at once through the code message's Check in button and its form (the "
        f"bare bot: its own button and form, answering ok); projector[:N] = N at once (1000), then the same "
        f"with {load.PROJECTOR_PAGES} projector pages open on the session (our bot only), and how late each new "
        f"code reached each page over {load.PROJECTOR_WINDOWS} windows (1 with --quick); "
        f"default {load.DEFAULT_SCENARIOS}",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each scenario N times (every bot each round) and print the median ratios of each bot to the "
        "bare bot (where the bare bot does not run, the medians of our own figures); one round varies by 10-20 %%, "
        "so one proves little (default 1)",
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke test: {load.QUICK_SCENARIOS}, 5 s codes")
    parser.add_argument(
        "--bots",
        help="comma-separated bots, each run in every round in this order: ours (SQLite), ours-pg (PostgreSQL, "
        "needs --postgres), bare; each may add +uvloop and/or +orjson (e.g. ours+uvloop, ours+uvloop+orjson: "
        "UVLOOP=on, ORJSON=on; the others run with both off); default ours,bare, or ours,ours-pg,bare with --postgres",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="a PostgreSQL server (postgresql://user[:password]@host:port[/maintenance-db]; the database part, "
        "default postgres, is only where CREATE/DROP DATABASE run): each run of ours-pg gets a fresh database "
        f"named {PREFIX}... on it, dropped afterwards unless --keep; adds ours-pg to the default bots",
    )
    parser.add_argument(
        "--courses",
        type=int,
        default=load.DEFAULT_COURSES,
        help=f"how many courses the courses scenario opens (default {load.DEFAULT_COURSES})",
    )
    parser.add_argument("--interval", type=int, help="CODE_ROTATION_INTERVAL for the bot (default 15, --quick 5)")
    parser.add_argument("--timeout", type=float, help="seconds after the last dispatch before an answer is lost")
    parser.add_argument("--settle", type=float, help="seconds to let the bot settle before and after a scenario")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for docs/DEVELOPMENT.md)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases (their folder and PostgreSQL names are printed)"
    )
    args = parser.parse_args(argv)
    try:
        default = load.QUICK_SCENARIOS if args.quick else load.DEFAULT_SCENARIOS
        scenarios = load.parse_scenarios(args.scenarios or default, courses=args.courses)
    except ValueError as exc:
        parser.error(str(exc))
    if args.courses < 1:
        parser.error("--courses must be at least 1")
    if any(s.mode in (load.COURSES, load.SHARDS) and s.count < s.courses for s in scenarios):
        parser.error("courses:N and shards:N need at least one student per course (N >= --courses)")
    default_bots = "ours,ours-pg,bare" if args.postgres else "ours,bare"
    names = [b.strip() for b in (args.bots or default_bots).split(",") if b.strip()]
    try:
        bots = [parse_kind(n) for n in names]
    except ValueError as exc:
        parser.error(str(exc))
    if not bots or len({b.name for b in bots}) != len(bots):
        parser.error("--bots takes one or more different bots, e.g. ours,ours-pg,bare")
    postgres = None
    if args.postgres:
        try:
            postgres = BenchPostgres(args.postgres)
        except ValueError as exc:
            parser.error(str(exc))
    if any(b.postgres for b in bots) and postgres is None:
        parser.error("ours-pg runs on PostgreSQL: name the server with --postgres URL")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    interval = args.interval if args.interval is not None else (5 if args.quick else None)
    if interval is not None and interval < 5:
        parser.error("--interval must be at least 5 (the bot's minimum)")
    return Options(
        scenarios=[s for s in scenarios for _ in range(args.repeat)],
        bots=bots,
        interval=interval,
        timeout=args.timeout if args.timeout is not None else (20.0 if args.quick else 60.0),
        settle=args.settle if args.settle is not None else (0.5 if args.quick else 2.0),
        markdown=args.markdown,
        keep=args.keep,
        flood_windows=1 if args.quick else 2,
        courses=args.courses,
        course_windows=2 if args.quick else 4,
        projector_windows=1 if args.quick else load.PROJECTOR_WINDOWS,
        postgres=postgres,
    )


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


async def _start_emulator(students: int) -> tuple[Emulator, list[Member]]:
    emu = Emulator()
    await emu.start()
    members = [emu.add_member(f"bench{i:05d}", display_name=f"Bench Student {i}") for i in range(students)]
    return emu, members


async def run_scenario(
    kind: BotKind,
    emu: Emulator,
    students: Sequence[Member],
    scenario: load.Scenario,
    database: Path | str,
    opts: Options,
) -> load.Result:
    """A fresh bot process and database, one session, the load, the checks, then stop the bot."""
    result = load.Result(scenario, kind.name)
    seeded, old_session = 0, None
    place = seed.Place(emu.guild_id, emu.admin_channel_id, emu.attendance_channel_id)
    if scenario.mode == load.FLOOD:  # the clock offset is in the database: the bot resumes an old session
        old_session = seed.old_session(
            database, interval=opts.interval, age=timedelta(hours=load.FLOOD_AGE_HOURS), place=place
        )
    elif scenario.mode in (load.SEEDED, load.EXPORT):
        seeded = seed.past_records(database, students=scenario.count, interval=opts.interval, place=place)
    before = {m.id for m in emu.messages(emu.attendance_channel_id)}
    pages: projector.Pages | None = None
    web = {"WEB_PORT": str(projector.free_port())} if scenario.mode == load.PROJECTOR else {}
    bot = await start_bot(kind, emu, database, interval=opts.interval, extra_env=web)
    flood: load.Flood | None = None
    try:
        session_id = ""
        crowd = students[: scenario.count]
        if kind.ours and scenario.mode == load.VOICE:
            await load.voice_required(emu, crowd, opts.timeout)
        if kind.ours:
            if old_session is not None:
                session_id = old_session[0]
                message_id = await load.code_message(emu, session_id, before)
            else:
                session_id, message_id = await load.open_session(emu)

            def code() -> str:
                return load.code_of(emu, message_id)

            def is_ok(content: str) -> bool:
                return content.startswith(load.OK_PREFIX)

        else:
            if scenario.mode == load.BUTTON:  # the bare bot's own message with a button
                panel = await emu.invoke(emu.instructor, emu.attendance_channel_id, "panel", timeout=opts.timeout)
                message_id = int(panel.content or "0")

            def code() -> str:
                return BARE_CODE

            def is_ok(content: str) -> bool:
                return content == "ok"

        if kind.ours and scenario.mode == load.VOICE:
            await load.voice_logged(database, session_id, len(crowd), opts.timeout)
        if scenario.mode == load.PROJECTOR:
            pages = projector.Pages(await projector.page_link(emu), load.PROJECTOR_PAGES)
            await pages.open(opts.timeout)
            pages_since = time.time()
        await asyncio.sleep(opts.settle)
        if scenario.spread and kind.ours:
            await load.next_rotation(emu, message_id, 2 * opts.window + 5)
        if old_session is not None:
            flood = load.Flood(emu, students[-1], old_session[1], opts.timeout)
            flood_since = time.time()
            flood.start()
            await asyncio.sleep(min(1.0, opts.window / 5))  # the flood is under way when the class arrives
        export: InteractionHandle | None = None
        bot_cpu, bench_cpu, started = bot.cpu_seconds(), time.process_time(), time.perf_counter()
        if scenario.spread:
            handles = await load.fire_spread(emu, crowd, code, opts.window)
        elif scenario.mode == load.BUTTON:
            presses, handles = await load.fire_buttons(emu, crowd, message_id, code, opts.timeout)
        elif scenario.mode == load.EXPORT:
            half = len(crowd) // 2
            handles = await load.fire_burst(emu, crowd[:half], code)
            export = emu.dispatch_interaction(emu.instructor, emu.admin_channel_id, "export_csv")
            handles += await load.fire_burst(emu, crowd[half:], code)
        else:
            handles = await load.fire_burst(emu, crowd, code)
        acked = await load.collect(handles, opts.timeout, is_ok, result)
        if scenario.mode == load.BUTTON:
            _count_presses(presses, result)
        result.wall = time.perf_counter() - started
        result.bot_cpu = bot.cpu_seconds() - bot_cpu
        result.bench_cpu = time.process_time() - bench_cpu
        result.rss_kb = bot.status_kb("VmHWM")
        if flood is not None:
            await _finish_flood(flood, flood_since, emu, message_id, result, opts)
            flood = None
        if export is not None:
            await _finish_export(export, seeded, result, opts)
        if pages is not None:
            remaining = opts.projector_windows * opts.window + 1 - (time.time() - pages_since)
            if remaining > 0:
                await asyncio.sleep(remaining)
            projector.judge(pages, database, session_id, pages_since, time.time(), result)
        if not bot.alive():
            result.notes.append(f"the bot exited with {bot.proc.returncode} during the scenario")
        if result.answered > result.ok:
            result.notes.append(f"{result.answered - result.ok} answered but not accepted")
        if kind.ours:
            load.check_database(database, {session_id: acked}, result, seeded=seeded)
            if bot.alive():
                closed = await load.close_session(emu)
                if f": {len(acked)} present" not in closed:
                    result.notes.append(f"close summary disagrees: {closed!r}")
    finally:
        if flood is not None:
            await flood.stop()
        if pages is not None:
            await pages.close()
        await bot.stop()
        load.leave_voice(emu, students[: scenario.count])
        emu.forget_interactions()
        gc.collect()
    return result


def _count_presses(presses: Sequence[InteractionHandle], result: load.Result) -> None:
    """A button scenario: every press counts as sent (one without its form is lost), and how fast the
    forms opened (the press's callback, a modal: Discord's 3 s apply to it too)."""
    opened = sorted(p.record.ack_latency for p in presses if p.done() and p.record.callback_type == 9)
    result.lost += len(presses) - result.sent
    result.sent = len(presses)
    p99 = load.nearest_rank(opened, 0.99)
    result.extras["form"] = (
        f"{len(opened)}/{len(presses)} forms opened, p99 {'-' if p99 is None else f'{p99 * 1000:.0f} ms'} "
        "from the press"
    )
    result.late += sum(1 for latency in opened if latency > load.LATE_SECONDS)


async def _finish_flood(
    flood: load.Flood, since: float, emu: Emulator, message_id: int, result: load.Result, opts: Options
) -> None:
    """Let the flood run over `flood_windows` windows, stop it, and judge the code message's edits."""
    remaining = opts.flood_windows * opts.window + 1 - (time.time() - since)
    if remaining > 0:
        await asyncio.sleep(remaining)
    await flood.stop()
    until = time.time()
    edits = load.edit_times(emu, message_id, since, until)
    lateness, missed = load.edit_lateness(edits, opts.window, since, until)
    on_time = lateness is not None and lateness <= load.ON_TIME_SECONDS and not missed
    result.extras["flood"] = flood.summary()
    result.extras["code message"] = (
        f"{len(edits)} edits, max lateness {'-' if lateness is None else f'{lateness * 1000:.0f} ms'}, "
        f"{missed} window(s) without an edit: {'on time' if on_time else 'LATE'}"
    )
    if not on_time:
        result.notes.append("the code message was not edited on time during the flood")


async def _finish_export(export: InteractionHandle, seeded: int, result: load.Result, opts: Options) -> None:
    """Wait for /export_csv's answer and say how long it took and whether it had every row."""
    try:
        reply = await export.wait(opts.timeout)
    except NoReply as exc:
        result.notes.append(f"/export_csv: {exc}")
        return
    found = re.search(r"(\d[\d,]*) records?", reply.content or "")
    complete = found is not None and int(found.group(1).replace(",", "")) >= seeded  # + the burst's so far
    result.extras["export"] = (
        f"{seeded} rows answered in {reply.latency * 1000:.0f} ms (callback {reply.ack_latency * 1000:.0f} ms), "
        f"{len(reply.files)} file(s)"
    )
    if not complete:
        result.notes.append(f"/export_csv did not report {seeded} records: {reply.content!r}")


def _progress(r: load.Result) -> str:
    p99 = r.percentile(0.99)
    line = (
        f"{r.bot:>7} {r.scenario.name:>16}: answered {r.answered}/{r.sent}, ok {r.ok}, lost {r.lost}, "
        f"dup {'-' if r.duplicates is None else r.duplicates}, p99 {'-' if p99 is None else f'{p99 * 1000:.0f} ms'}, "
        f"{r.throughput:.0f}/s, bot CPU {r.bot_cpu:.1f}s, bench CPU {r.bench_cpu:.1f}s in {r.wall:.1f}s, "
        f"RSS {r.rss_kb / 1024:.1f} MB"
    )
    return line + "".join(f"\n     note: {n}" for n in r.notes)


async def run(opts: Options) -> list[load.Result]:
    """Every scenario against every bot, interleaved so all of them see the same machine state."""
    workdir = Path(tempfile.mkdtemp(prefix="attendance-bench-"))
    default_guild = [s for s in opts.scenarios if s.mode not in (load.COURSES, load.SHARDS)]
    crowd = max((s.count + (1 if s.mode == load.FLOOD else 0) for s in default_guild), default=0)  # + the flooder
    classes = max((s.count for s in opts.scenarios if s.mode == load.COURSES), default=0)
    sharded = max((s.count for s in opts.scenarios if s.mode == load.SHARDS), default=0)
    emulators: dict[str, tuple[Emulator, list[Member]]] = {}
    worlds: dict[str, list[multicourse.Course]] = {}
    shard_worlds: dict[str, tuple[Emulator, list[multicourse.Course]]] = {}  # an emulator of their own, sharded
    results: list[load.Result] = []
    kept: list[str] = []
    if opts.postgres is not None:
        _say(f"PostgreSQL {opts.postgres.check()} at {opts.postgres.shown}")
    try:
        for kind in opts.bots:
            emulators[kind.name] = await _start_emulator(crowd)
            if kind.ours and classes:
                worlds[kind.name] = multicourse.build_world(emulators[kind.name][0], opts.courses, classes)
            if kind.ours and sharded:
                emu = Emulator(shards=load.SHARD_PROCESSES)
                await emu.start()
                shard_worlds[kind.name] = (emu, [])  # stopped at the end even if the world fails
                world = multicourse.build_world(
                    emu, opts.courses, sharded, servers=load.SHARD_SERVERS, shards=load.SHARD_PROCESSES
                )
                shard_worlds[kind.name] = (emu, world)
        for index, scenario in enumerate(opts.scenarios):
            for kind in opts.bots:
                # The bare bot has no sessions, floods, exports or courses (voice: the same burst; its
                # button answers "ok").
                if scenario.mode not in ("", load.VOICE, load.BUTTON) and not kind.ours:
                    continue
                emu, students = emulators[kind.name]
                database = _database(kind, index, workdir, opts)
                try:
                    if scenario.mode == load.COURSES:
                        result = await multicourse.run_scenario(kind, emu, worlds[kind.name], scenario, database, opts)
                    elif scenario.mode == load.SHARDS:
                        sharded_emu, world = shard_worlds[kind.name]
                        result = await multicourse.run_scenario(
                            kind, sharded_emu, world, scenario, database, opts, shards=load.SHARD_PROCESSES
                        )
                    else:
                        result = await run_scenario(kind, emu, students, scenario, database, opts)
                finally:
                    if isinstance(database, str):
                        _release(database, opts, kept)
                result.round = index
                results.append(result)
                _say(_progress(result))
                await asyncio.sleep(opts.settle)
    finally:
        for emu, _ in [*emulators.values(), *shard_worlds.values()]:
            await emu.stop()
        if opts.postgres is not None and not opts.keep:
            opts.postgres.drop_all()
        if opts.keep:
            on_server = f" and on {opts.postgres.shown}: {', '.join(kept)}" if opts.postgres and kept else ""
            _say(f"databases kept in {workdir}{on_server}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


def _database(kind: BotKind, index: int, workdir: Path, opts: Options) -> Path | str:
    """A fresh database for one run of one bot: an SQLite file in the run's folder, or a new
    database on the --postgres server (its URL)."""
    if kind.postgres:
        assert opts.postgres is not None
        return opts.postgres.create(f"{index}_{kind.name}")
    return workdir / f"{index}-{kind.name}.db"


def _release(url: str, opts: Options, kept: list[str]) -> None:
    """Drop a run's PostgreSQL database at once (the server keeps no bench leftovers), unless --keep."""
    assert opts.postgres is not None
    if opts.keep:
        kept.append(url.rsplit("/", 1)[1])
        return
    try:
        opts.postgres.drop(url)
    except Exception as exc:  # the run goes on; drop_all tries again at the end
        log.warning("could not drop %s: %s", url.rsplit("/", 1)[1], exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; exit 1 if anything was lost or duplicated."""
    opts = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    results = asyncio.run(run(opts))
    print(report.render(results, markdown=opts.markdown), flush=True)
    bad = [r for r in results if r.lost or r.duplicates]
    return 1 if bad else 0
