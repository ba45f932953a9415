"""Every user-facing sentence, and the code message's content, in one place: one module per
feature, all of them read here as `messages.<sentence>`. A domain error's kind names one of these
functions; error_text makes its sentence."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING

from .backup import *  # noqa: F403
from .checkin import *  # noqa: F403
from .corrections import *  # noqa: F403
from .courses import *  # noqa: F403
from .database import *  # noqa: F403
from .excuses import *  # noqa: F403
from .grading import *  # noqa: F403
from .operations import *  # noqa: F403
from .playground import *  # noqa: F403
from .projector import *  # noqa: F403
from .record import *  # noqa: F403
from .replies import *  # noqa: F403
from .reports import *  # noqa: F403
from .roster import *  # noqa: F403
from .schedule import *  # noqa: F403
from .seed import *  # noqa: F403
from .settings import *  # noqa: F403
from .shell import *  # noqa: F403
from .startup import *  # noqa: F403
from .students import *  # noqa: F403
from .text import *  # noqa: F403
from .voice import *  # noqa: F403
from .warnings import *  # noqa: F403

if TYPE_CHECKING:
    from ..errors import AttendanceError, Said


def error_text(error: Said) -> str:
    """The sentence that says a domain error (or a notice): the function of this module its kind
    names, called with its values (those the function takes: an error may carry more for the code
    that catches it). Every adapter shows errors through this; tests/test_error_kinds.py checks
    each kind."""
    sentence = _sentence(error.kind)
    if sentence is None:  # a kind without a sentence: a bug, named rather than hidden
        return f"Something went wrong ({error.kind})."
    sentence_fn, takes = sentence
    return sentence_fn(**{name: value for name, value in error.values.items() if name in takes})


@functools.cache
def _sentence(kind: str) -> tuple[Callable[..., str], frozenset[str]] | None:
    """The function named `kind` and the names of its parameters, or None."""
    found = globals().get(kind)
    if kind.startswith("_") or not inspect.isfunction(found):
        return None
    return found, frozenset(inspect.signature(found).parameters)


def configuration_problems(errors: list[AttendanceError]) -> str:
    """Every problem of the settings, one per line."""
    return "\n".join(error_text(error) for error in errors)


def step_report(notice: Said) -> str:
    """A schema step's report, indented under its step."""
    return f"  {error_text(notice)}"
