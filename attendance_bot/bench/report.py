"""The one table at the end: plain text for the terminal, or Markdown for docs/DEVELOPMENT.md."""

from __future__ import annotations

import contextlib
import importlib.metadata
import math
import os
import platform
import statistics
from collections import Counter
from collections.abc import Sequence

from .load import Result, Scenario

COLUMNS = (
    "scenario",
    "bot",
    "sent",
    "answered",
    "ok",
    "lost",
    "duplicates",
    "late",
    "deferred",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "answer p99 ms",
    "throughput/s",
    "peak RSS MB",
    "bot CPU s",
    "bench CPU s",
    "throughput ours/bare",
    "p99 ours/bare",
)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}"


def _ceilings(results: Sequence[Result]) -> dict[int, Result]:
    """Each other bot's result at each index, paired with the bare run of the same scenario in the
    same round (the runner numbers its rounds), or, for results without a round, the nearest one.

    The runner runs every bot back to back for each scenario, so with a scenario listed twice each
    row is compared with the bare run of its own round, not with another round's.
    """
    bare = [(j, r) for j, r in enumerate(results) if r.bot == "bare"]
    pairs: dict[int, Result] = {}
    for i, r in enumerate(results):
        if r.bot == "bare":
            continue
        same = [(abs(j - i), j < i, b) for j, b in bare if b.scenario == r.scenario]
        if r.round is not None:
            same = [t for t in same if t[2].round == r.round]
        if same:
            pairs[i] = min(same, key=lambda t: (t[0], t[1]))[2]
    return pairs


def rows(results: Sequence[Result]) -> list[list[str]]:
    """One row per scenario and bot; ours carries the ratios to the bare bot of the same scenario,
    or "-" where there is none (the bare bot has no sessions, floods, exports or courses)."""
    ceilings = _ceilings(results)
    out: list[list[str]] = []
    for i, r in enumerate(results):
        ceiling = ceilings.get(i)
        out.append(
            [
                r.scenario.name,
                r.bot,
                str(r.sent),
                str(r.answered),
                str(r.ok),
                str(r.lost),
                "-" if r.duplicates is None else str(r.duplicates),
                str(r.late),
                str(r.deferred),
                _ms(r.percentile(0.50)),
                _ms(r.percentile(0.95)),
                _ms(r.percentile(0.99)),
                _ms(r.latencies[-1] if r.latencies else None),
                _ms(r.percentile(0.99, answer=True)),
                f"{r.throughput:.0f}",
                f"{r.rss_kb / 1024:.1f}",
                f"{r.bot_cpu:.1f}",
                f"{r.bench_cpu:.1f}",
                _ratio(r.throughput, ceiling.throughput) if ceiling else _no_ratio(r),
                _ratio(r.percentile(0.99), ceiling.percentile(0.99)) if ceiling else _no_ratio(r),
            ]
        )
    return out


def _no_ratio(r: Result) -> str:
    return "" if r.bot == "bare" else "-"


def summary(results: Sequence[Result]) -> list[str]:
    """For each scenario run more than once: the median and range of the ours/bare ratios, or,
    where there is no bare run to compare with, of our own p99s and the scenario's figures."""
    ceilings = _ceilings(results)
    rounds: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for i, ceiling in ceilings.items():
        ours, p99, bare_p99 = results[i], results[i].percentile(0.99), ceiling.percentile(0.99)
        if ceiling.throughput and p99 is not None and bare_p99:
            rounds.setdefault((ours.scenario.name, ours.bot), []).append(
                (ours.throughput / ceiling.throughput, p99 / bare_p99)
            )
    lines = []
    for (name, bot), pairs in rounds.items():
        if len(pairs) < 2:
            continue
        throughput, p99 = sorted(t for t, _ in pairs), sorted(p for _, p in pairs)
        lines.append(
            f"{_label(name, bot)}, {len(pairs)} rounds: throughput {bot}/bare median "
            f"{statistics.median(throughput):.2f} ({throughput[0]:.2f}-{throughput[-1]:.2f}), p99 {bot}/bare median "
            f"{statistics.median(p99):.2f} ({p99[0]:.2f}-{p99[-1]:.2f})"
        )
    return lines + _own_medians([r for i, r in enumerate(results) if r.bot != "bare" and i not in ceilings])


def _label(scenario: str, bot: str) -> str:
    """A scenario's name in the medians' lines, with the bot unless it is plain "ours"."""
    return scenario if bot == "ours" else f"{scenario} ({bot})"


def _own_medians(results: Sequence[Result]) -> list[str]:
    rounds: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        rounds.setdefault((r.scenario.name, r.bot), []).append(r)
    lines = []
    for (name, bot), runs in rounds.items():
        if len(runs) < 2:
            continue
        series: dict[str, list[float]] = {
            "p99 ms": [p * 1000 for p in (r.percentile(0.99) for r in runs) if p is not None],
            "answer p99 ms": [p * 1000 for p in (r.percentile(0.99, answer=True) for r in runs) if p is not None],
            "lost": [float(r.lost) for r in runs],
        }
        for r in runs:
            for key, value in r.figures.items():
                series.setdefault(key, []).append(value)
        parts = []
        for key, values in series.items():
            values = sorted(v for v in values if not math.isnan(v))
            if values:
                parts.append(f"{key} median {statistics.median(values):.0f} ({values[0]:.0f}-{values[-1]:.0f})")
        lines.append(f"{_label(name, bot)}, {len(runs)} rounds: " + ", ".join(parts))
    return lines


def extras(results: Sequence[Result]) -> list[str]:
    """One line per figure a scenario adds to the table (the flood's code-message edits, the export,
    the courses), naming the round when a scenario ran more than once."""
    runs = Counter((r.scenario, r.bot) for r in results)
    seen: Counter[tuple[Scenario, str]] = Counter()
    lines = []
    for r in results:
        seen[(r.scenario, r.bot)] += 1
        label = r.bot if runs[(r.scenario, r.bot)] == 1 else f"{r.bot}, round {seen[(r.scenario, r.bot)]}"
        lines += [f"{r.scenario.name} ({label}): {key}: {value}" for key, value in r.extras.items()]
    return lines


def machine() -> str:
    """The machine the figures were measured on: figures from two machines are never comparable."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    try:
        nextcord_version = importlib.metadata.version("nextcord")
    except importlib.metadata.PackageNotFoundError:
        nextcord_version = "?"
    return (
        f"Machine: {cpu}, {os.cpu_count()} CPU(s); Python {platform.python_version()} "
        f"({platform.python_implementation()}, {' '.join(platform.python_build())}); nextcord {nextcord_version}"
    )


def render(results: Sequence[Result], *, markdown: bool = False) -> str:
    """The machine, the table (aligned text or a Markdown pipe table), then the scenarios' own
    figures and the medians of repeated scenarios."""
    tail = [*extras(results), *summary(results)]
    return "\n".join([machine(), "", _table(results, markdown=markdown), *(["", *tail] if tail else [])])


def _table(results: Sequence[Result], *, markdown: bool) -> str:
    body = rows(results)
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(c), *(len(row[i]) for row in body)) if body else len(c) for i, c in enumerate(COLUMNS)]
    fmt = "  ".join("{:<%d}" % w if i < 2 else "{:>%d}" % w for i, w in enumerate(widths))
    lines = [fmt.format(*COLUMNS), "  ".join("-" * w for w in widths)]
    lines += [fmt.format(*row) for row in body]
    return "\n".join(line.rstrip() for line in lines)
