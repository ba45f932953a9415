"""Warnings and notes out of the bot: the digest in a course's admin channel after each session
closes (the code rotation calls session_closed for every session it sees closed, however it was
closed), and the direct messages of the students who turned them on (`/notify`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import nextcord

from .. import messages
from ..services import Services
from .dbworker import DatabaseWorker, cancel_and_wait

log = logging.getLogger(__name__)

CANNOT_MESSAGE_USER = 50007  # Discord: the user does not accept direct messages from the bot
MAX_POST = 1900  # under Discord's 2,000 characters a message
NO_MENTIONS = {"parse": []}  # a digest names students, it pings nobody


def chunks(lines: Sequence[str], limit: int = MAX_POST) -> list[str]:
    """Lines joined into as few messages of at most `limit` characters as keep every line whole."""
    out: list[str] = []
    current: list[str] = []
    for line in lines:
        line = line[:limit]
        if current and len("\n".join([*current, line])) > limit:
            out.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        out.append("\n".join(current))
    return out


class NoticeSender:
    """Posts warning digests and sends direct messages, each in a task of its own, so the code
    rotation and the commands that cause them never wait for Discord here."""

    def __init__(self, client: nextcord.Client, services: Services, db: DatabaseWorker) -> None:
        self._client = client
        self._services = services
        self._db = db
        self._tasks: set[asyncio.Task[None]] = set()

    def session_closed(self, session_id: str) -> None:
        """A session was seen closed: make and post its digest (the database decides which process does)."""
        self._spawn(self._digest(session_id), f"digest-{session_id}")

    def send_later(self, notice_ids: Sequence[int]) -> None:
        """Send these notes by direct message to the students who take them today (in a task)."""
        if notice_ids:
            self._spawn(self.send_direct_messages(notice_ids), "direct-messages")

    def _spawn(self, work: object, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            await cancel_and_wait(task)

    async def _digest(self, session_id: str) -> None:
        try:
            digest = await self._db.run(self._services.warnings.digest, session_id)
        except Exception:
            log.exception("Could not make the warning digest of session %s", session_id)
            return
        if digest is None or digest.empty:
            return
        if digest.admin_channel_id is not None:
            try:
                for text in chunks(messages.warning_digest_lines(digest)):
                    await self._client.http.send_message(digest.admin_channel_id, text, allowed_mentions=NO_MENTIONS)
            except nextcord.HTTPException as exc:
                log.error("Could not post the warning digest of session %s: %s", session_id, exc)
        await self.send_direct_messages(digest.notice_ids)

    async def send_direct_messages(self, notice_ids: Sequence[int]) -> None:
        """Each student's notes of these that they take by direct message today, in one message each.
        A student who refuses direct messages (50007) is noted and not tried again; their notes (and
        those of anyone who cannot be reached now) wait for the reply to their next command."""
        try:
            due = await self._db.run(self._services.warnings.direct_messages_due, list(notice_ids))
        except Exception:
            log.exception("Could not read the direct messages to send")
            return
        for message in due:
            text = messages.direct_message_text([messages.error_text(note) for note in message.notices])
            try:
                channel = await self._client.http.start_private_message(message.user_id)
                await self._client.http.send_message(int(channel["id"]), text, allowed_mentions=NO_MENTIONS)
            except nextcord.HTTPException as exc:
                if isinstance(exc, nextcord.Forbidden) and exc.code == CANNOT_MESSAGE_USER:
                    await self._note(self._services.warnings.direct_message_refused, message.user_id)
                else:
                    log.warning("Could not send a direct message to %s: %s", message.user_id, exc)
                continue
            await self._note(self._services.warnings.direct_message_sent, message)

    async def _note(self, func: Callable[[Any], None], value: object) -> None:
        """Write what became of a direct message (a failure is logged: the notes then wait for a command)."""
        try:
            await self._db.run(func, value)
        except Exception:
            log.exception("Could not note what became of a direct message")
