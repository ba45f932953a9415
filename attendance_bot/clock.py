"""The clock: the one place that reads the wall clock; everything else takes `now` or a Clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock: an aware UTC datetime (pyotp and the database take nothing naive)."""
    return datetime.now(timezone.utc)
