"""Runs the service's database calls on one dedicated thread, off the event loop; task helpers."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from ..models import close_db

P = ParamSpec("P")
T = TypeVar("T")


class DatabaseWorker:
    """One thread owns the SQLite connection; callers await its results.

    A single writer is what SQLite allows anyway; keeping it off the event loop means a slow
    commit never stalls the gateway heartbeat or other interactions.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attendance-db")
        self._shut = False

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args, **kwargs))

    def start(self, func: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        """Run func on the database thread without waiting for it (it reports back by itself)."""
        self._executor.submit(func, *args, **kwargs)

    def shutdown(self) -> None:
        """Close the connection on its own thread and stop the thread (a second call does nothing)."""
        if self._shut:
            return
        self._shut = True
        self._executor.submit(close_db)
        self._executor.shutdown(wait=True)


async def cancel_and_wait(task: asyncio.Task[None] | None) -> None:
    """Stop a background task of the bot and wait until it has stopped."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
