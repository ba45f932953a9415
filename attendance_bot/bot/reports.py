"""The report worker: one process at a time draws the reports asked for in Discord; the others queue.

Drawing a semester holds a Python interpreter for seconds (and a course of thousands for tens of
seconds), and the bot's must go on answering `/here`: each report is made by a process of its own
(`python -m attendance_bot.bot.reports`, spawned fresh: nothing of the bot's state is copied, and its
memory is returned when the report is made). Never more than one such process runs; the requests
behind it wait their turn in order and are told their place. A stop ends the process at once and
answers every request that it was not made.

The worker reads its request (pickled settings and a course id) from its stdin and writes its
outcome (pickled) to its stdout. It keeps reading its stdin afterwards: the end of that stream means
the bot is gone (even killed outright), and the worker ends too instead of drawing for nobody. It
ignores SIGINT: Ctrl-C in a terminal reaches the whole process group, and the bot ends it in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import sys
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..report import MAX_ATTACHMENTS, Report, ReportError

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)

WORKER_MODULE = "attendance_bot.bot.reports"
# Requests that may wait behind the one being made; more are refused with a sentence.
MAX_WAITING = 20
# A report not made in this long is given up (its process killed): Discord's interaction token
# lasts 15 minutes, and the requests behind it wait.
REPORT_SECONDS = 300.0
# A stop asks the worker to end (SIGTERM), then kills it after this long.
STOP_WORKER_SECONDS = 0.3
# The package's folder's parent, so that the worker imports this very attendance_bot whatever the
# current folder (which stays the bot's: a relative DATABASE_PATH means the same file).
_IMPORT_ROOT = str(Path(__file__).resolve().parents[2])


class ReportWorker:
    """Makes reports in a process of their own, one at a time, in the order they were asked for."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._busy = False
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False

    @property
    def waiting(self) -> int:
        """How many requests wait behind the one being made."""
        return len(self._waiting)

    async def make(self, course_id: int, queued: Callable[[int], Awaitable[None]]) -> Report:
        """A course's report (the heat map's pages that one message takes). When another is being
        made, `queued(ahead)` is awaited first with the number of reports before this one.

        ReportError when the bot is stopping, too many wait, or the worker fails; CourseError (as
        a ReportError with its sentence) when the worker cannot read the course."""
        if self._stopping:
            raise ReportError("report_stopping_reply")
        if self._busy:
            await self._wait_turn(queued)
        else:
            self._busy = True
        try:
            return await self._run(course_id)
        finally:
            self._hand_on()

    async def _wait_turn(self, queued: Callable[[int], Awaitable[None]]) -> None:
        if len(self._waiting) >= MAX_WAITING:
            raise ReportError("report_queue_full", waiting=len(self._waiting))
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        try:
            await queued(len(self._waiting))  # the one being made and those waiting before this one
            await turn
        except BaseException:
            if turn in self._waiting:
                self._waiting.remove(turn)
            elif turn.done() and not turn.cancelled() and turn.exception() is None:
                self._hand_on()  # the turn came, but this request is gone: the next one's
            raise

    def _hand_on(self) -> None:
        """The next waiting request's turn, else nobody's."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._busy = False

    async def _run(self, course_id: int) -> Report:
        if self._stopping:
            raise ReportError("report_stopping_reply")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_IMPORT_ROOT, env.get("PYTHONPATH")) if p)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            WORKER_MODULE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        self._process = process
        assert process.stdin is not None and process.stdout is not None
        try:
            with contextlib.suppress(ConnectionError):  # a worker that died at once: said below
                process.stdin.write(pickle.dumps((self._settings, course_id, MAX_ATTACHMENTS - 1)))
                await process.stdin.drain()
            out, status = await asyncio.wait_for(_outcome(process), REPORT_SECONDS)
        except TimeoutError:
            log.error("The report of course %s took over %.0f s: its process was ended", course_id, REPORT_SECONDS)
            raise ReportError("report_failed_reply") from None
        finally:
            self._process = None
            process.stdin.close()
            if process.returncode is None:  # cancelled: the worker is not left drawing for nobody
                _end(process)
                await process.wait()
        # A worker ended by SIGINT or SIGTERM is a stop (Ctrl-C reaches the bot's whole process group,
        # and the worker may die before the bot's own handler has run): said as a stop, not a failure.
        if self._stopping or status in (-signal.SIGINT, -signal.SIGTERM):
            raise ReportError("report_stopping_reply")
        if status != 0 or not out:
            log.error("The report worker for course %s ended with status %s and no report", course_id, status)
            raise ReportError("report_failed_reply")
        outcome = pickle.loads(out)  # noqa: S301 - our own child's answer, on a pipe only it writes to
        if isinstance(outcome, tuple):  # a domain error's kind and values (an unknown course, no matplotlib)
            kind, values = outcome
            raise ReportError(kind, **values)
        return outcome  # type: ignore[no-any-return]

    async def stop(self) -> None:
        """End the worker and answer every request that its report will not be made (quickly)."""
        self._stopping = True
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_exception(ReportError("report_stopping_reply"))
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(asyncio.shield(process.wait()), STOP_WORKER_SECONDS)
        except TimeoutError:
            _end(process)
            await process.wait()


async def _outcome(process: asyncio.subprocess.Process) -> tuple[bytes, int]:
    """Everything the worker wrote, then its exit status."""
    assert process.stdout is not None
    out = await process.stdout.read()
    return out, await process.wait()


def _end(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.kill()


# -- the worker process ---------------------------------------------------------------------------


def _exit_when_orphaned(fd: int) -> None:
    """End this process as soon as the bot closes our stdin (it stopped, or was killed). Reads the
    descriptor itself: a thread blocked in sys.stdin's buffer would hold its lock at exit."""
    try:
        while os.read(fd, 4096):
            pass
    finally:
        os._exit(3)


def _picklable(value: object) -> object:
    """An error's value as the worker can hand it over: itself, or its text when it cannot be pickled
    (a driver's exception holding a connection)."""
    try:
        pickle.dumps(value)
    except Exception:  # anything unpicklable is sent as the text it would show
        return str(value)
    return value


def _work() -> int:
    """The worker: read one request from stdin, write its report (or its error's sentence) to stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed goes to the bot's log, not into the answer
    from ..errors import AttendanceError
    from ..models import close_db, init_db
    from ..report import make_report

    settings, course_id, max_pages = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the bot, our parent
    threading.Thread(target=_exit_when_orphaned, args=(sys.stdin.fileno(),), daemon=True).start()
    init_db(settings.database_target, create=False, upgrade=False)
    try:
        outcome: object = make_report(settings, course_id, max_pages=max_pages)
    except AttendanceError as exc:  # its kind and values, which the parent raises as a ReportError
        outcome = (exc.kind, {name: _picklable(value) for name, value in exc.values.items()})
    finally:
        close_db()
    out.write(pickle.dumps(outcome))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_work())
