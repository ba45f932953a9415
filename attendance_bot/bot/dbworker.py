"""Runs the service's database calls on one dedicated thread, off the event loop; task helpers."""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

import peewee

from ..errors import StorageError
from ..models import close_db
from ..storage import drop_broken_connection

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class _OneThread(Executor):
    """A first-in, first-out executor with one daemon thread.

    Like ThreadPoolExecutor(max_workers=1), except that the interpreter does not wait for the
    thread at exit: a database call stuck behind another process's lock (SQLite's busy timeout
    is 30 s) must not keep a stopping bot alive. Leaving it is safe: an SQLite transaction that
    never finished leaves the file as it was, exactly as after kill -9.
    """

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the database thread has been shut down")
            self._jobs.put((future, functools.partial(fn, *args, **kwargs)))
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, call = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = call()
            except BaseException as exc:  # handed to whoever waits for the future
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False, timeout: float | None = None) -> bool:
        """Run what is queued, then stop; with wait, join for up to `timeout` s. True if the thread ended."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._jobs.put(None)
        if wait:
            self._thread.join(timeout)
        return not self._thread.is_alive()


class DatabaseWorker:
    """One thread owns the SQLite connection; callers await its results.

    A single writer is what SQLite allows anyway; keeping it off the event loop means a slow
    commit never stalls the gateway heartbeat or other interactions. Jobs run in the order they
    were submitted. `failed` is called (on the database thread) for each job that ends with a database
    error: the bot counts them (attendance_database_errors_total).
    """

    def __init__(self, failed: Callable[[], object] = lambda: None) -> None:
        self._executor = _OneThread("attendance-db")
        self._shut = False
        self._failed = failed

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        job = functools.partial(_guarded, self._failed, func, *args, **kwargs)
        return await loop.run_in_executor(self._executor, job)

    def start(self, func: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue func behind every job already queued, without waiting for it (it reports back by itself)."""
        self._executor.submit(_guarded, self._failed, func, *args, **kwargs)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Close the connection on its own thread and stop the thread (a second call does nothing).

        Waits up to `timeout` seconds (None: as long as it takes); returns False if a job was still
        running then (the process may exit anyway: see _OneThread).
        """
        if self._shut:
            return True
        self._shut = True
        self._executor.submit(close_db)
        finished = self._executor.shutdown(wait=True, timeout=timeout)
        if not finished:
            log.warning("A database job was still running after %.1f s; not waiting for it", timeout or 0.0)
        return finished


def _guarded(failed: Callable[[], object], func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run one job on the database thread; a database error that escaped it (a read, which no
    storage.failure() handled) lets go of the thread's connection when PostgreSQL's server may have
    restarted under it, so the next job reconnects instead of failing on a dead connection for ever.
    Either kind of failure, that one or storage's StorageError, is reported to `failed`."""
    try:
        return func(*args, **kwargs)
    except peewee.PeeweeException:
        failed()
        drop_broken_connection()
        raise
    except StorageError:
        failed()
        raise


async def cancel_and_wait(task: asyncio.Task[None] | None) -> None:
    """Stop a background task of the bot and wait until it has stopped."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def paced(items: Iterable[T], share: float) -> Iterator[T]:
    """Yield items one by one; after each, sleep so this thread runs at most `share` of the time.

    For long pure-Python work on a thread beside the event loop (a big export): a thread that
    never sleeps takes the GIL from the loop every switch interval, and a class checking in
    meanwhile waits twice as long. Sleeping releases the GIL for the loop.
    """
    iterator = iter(items)
    while True:
        started = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        yield item
        time.sleep((time.perf_counter() - started) * (1.0 - share) / share)
