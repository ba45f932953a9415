"""The optional speed-ups nextcord supports, switched by UVLOOP and ORJSON (both off by default).

- orjson: nextcord.utils picks its JSON functions once, when it is imported: orjson's when the
  package imports, the standard json module's otherwise (nextcord 2.6 and 3.x alike; every
  gateway frame and REST body then goes through `nextcord.utils.to_json`/`from_json`). So the
  switch must be applied before nextcord is imported: off, orjson is made unimportable for this
  process, and nextcord behaves exactly as without it, even where it is installed.
- uvloop: an event loop policy, set before `asyncio.run` makes the bot's loop.

Neither package is in requirements.txt (requirements-bench.txt installs them for the benchmark's
trial). Nothing here imports nextcord.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import os
import sys
from collections.abc import Mapping

from .errors import Notice

# setting name -> the module it switches on
SWITCHES = {"UVLOOP": "uvloop", "ORJSON": "orjson"}


def installed(module: str) -> bool:
    """Whether `module` could be imported here (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def apply(*, uvloop: bool, orjson: bool) -> list[Notice]:
    """Switch both before nextcord is imported (afterwards ORJSON=off no longer can); one notice
    for each speed-up in use (str() of each is its line).

    A switch that is on while its package is missing does nothing here (Settings has a warning
    for it, which `check` prints and the bot logs at start).
    """
    lines: list[Notice] = []
    if orjson and installed("orjson"):
        lines.append(Notice("speedup_in_use", module="orjson", version=_version("orjson"), what="nextcord's JSON"))
    elif not orjson and "nextcord" not in sys.modules and "orjson" not in sys.modules:
        sys.modules["orjson"] = None  # type: ignore[assignment]  # `import orjson` now raises ModuleNotFoundError
    if uvloop and installed("uvloop"):
        import uvloop as uvloop_module

        asyncio.set_event_loop_policy(uvloop_module.EventLoopPolicy())
        lines.append(Notice("speedup_in_use", module="uvloop", version=_version("uvloop"), what="the event loop"))
    return lines


def apply_from_environ(environ: Mapping[str, str] | None = None) -> list[Notice]:
    """The same from raw UVLOOP/ORJSON values (the benchmark's bare bot, which reads no Settings)."""
    values = os.environ if environ is None else environ
    return apply(
        uvloop=parse_switch(values.get("UVLOOP")) is True,
        orjson=parse_switch(values.get("ORJSON")) is True,
    )


_ON = ("1", "on", "true", "yes")
_OFF = ("0", "off", "false", "no", "")


def parse_switch(raw: str | None) -> bool | None:
    """on/off (also 1/0, true/false, yes/no; unset is off); None for anything else."""
    text = (raw or "").strip().lower()
    if text in _ON:
        return True
    if text in _OFF:
        return False
    return None


def _version(module: str) -> str:
    try:
        return importlib.metadata.version(module)
    except importlib.metadata.PackageNotFoundError:
        return "?"
