"""The projector service: a session's capability link (made, given again, replaced) and what its page shows."""

from __future__ import annotations

import logging

import peewee

from . import codes, storage
from .attendance import AttendanceService
from .clock import Clock
from .errors import NoOpenSession, ProjectorOff
from .records import ProjectorLinkInfo, ProjectorView
from .settings import Settings

log = logging.getLogger(__name__)

# Where a session's page is, under PUBLIC_URL: /p/<token> (its live feed: /p/<token>/events).
PAGE_PATH = "/p/"


class ProjectorService:
    """Projector links and views over the attendance service; no state of its own.

    A link's token is derived, never stored: HMAC-SHA256 under the session's secret of a random
    nonce (codes.link_token). The database keeps the nonce, so `/projector` can give the same link
    again, and the token's SHA-256, which a page request is looked up by. A new link is a new
    nonce: the old token's hash is gone at once. A link opens its page only while its session is
    open, and never another session's.
    """

    def __init__(self, settings: Settings, clock: Clock, attendance: AttendanceService) -> None:
        self.settings = settings
        self.clock = clock
        self.attendance = attendance

    def link(self, course_id: int | None = None, *, new: bool = False) -> ProjectorLinkInfo:
        """The projector link of a course's open session: its first (made now), the same one again,
        or with `new` a new one that replaces it. ProjectorOff when this bot serves no page."""
        if not self.settings.web_port:
            raise ProjectorOff("projector_page_off")
        course = self.attendance.course(course_id)
        try:
            with storage.immediate():
                row = storage.find_open_session(course.id)
                if row is None:
                    raise NoOpenSession("no_open_session")
                nonce = None if new else storage.projector_nonce(row.session_id)
                if nonce is None:
                    nonce = codes.new_link_nonce()
                    token = codes.link_token(row.secret, nonce)
                    storage.save_projector_link(
                        row.session_id, nonce=nonce, token_hash=codes.link_hash(token), at=self.clock(), replace=new
                    )
                    nonce = storage.projector_nonce(row.session_id)  # another process's, if it made one first
                    assert nonce is not None
        except peewee.DatabaseError as exc:
            raise storage.failure("making the projector link", exc) from exc
        if new:
            log.info("New projector link for session %s (the old one is dead)", row.session_id)
        return ProjectorLinkInfo(row.session_id, course.name, self.url(codes.link_token(row.secret, nonce)), new)

    def url(self, token: str) -> str:
        """The address of a link's page: PUBLIC_URL + /p/<token>."""
        return f"{self.settings.public_url}{PAGE_PATH}{token}"

    def open_session_of(self, token: str) -> str | None:
        """The open session a token's page shows, or None (unknown, replaced, or its session closed):
        one read by the token's hash, whatever the token."""
        return storage.linked_session(codes.link_hash(token), open_only=True)

    def view(self, token: str) -> ProjectorView | None:
        """What a link's page shows now (attendance.projector_view), or None when the link is
        unknown or replaced; a closed session's view has no code."""
        session_id = storage.linked_session(codes.link_hash(token), open_only=False)
        return None if session_id is None else self.attendance.projector_view(session_id)
