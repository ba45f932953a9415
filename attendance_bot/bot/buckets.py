"""Rate-limit buckets as Discord documents them: the `X-RateLimit-Bucket` hash plus the route's major parameter.

Discord's `X-RateLimit-Bucket` names a route's limit *without* its major parameter (the channel,
server or webhook in the path): edits of messages in twenty channels all answer with one hash,
yet each channel has its own 5 per 5 s. nextcord 3.x keys its buckets by the hash alone, so it
held every channel's edits to one channel's limit: with 20 courses open, code messages came up to
4 s late and closed cards were missed (bench scenario `courses`, nextcord 3.2, no 429 ever sent).
Here the hash the client reads carries the major parameter, so each channel keeps a bucket of its
own, as nextcord 2.6 already does (its buckets are `channel:guild:path`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

BUCKET_HEADER = "X-RateLimit-Bucket"
_MAJOR = re.compile(r"/(?:channels|guilds|webhooks)/([0-9]+)")


def bucket_with_major(bucket: str, path: str) -> str:
    """The bucket a client should key on: Discord's hash and the path's major parameter, if any."""
    major = _MAJOR.search(path)
    return f"{bucket}:{major.group(1)}" if major else bucket


class MajorBucketResponse(aiohttp.ClientResponse):
    """An aiohttp response whose `X-RateLimit-Bucket` includes the path's major parameter."""

    async def start(self, connection: Any) -> aiohttp.ClientResponse:
        response = await super().start(connection)
        bucket = self._headers.get(BUCKET_HEADER)
        if bucket is not None:
            headers = CIMultiDict(self._headers)
            headers[BUCKET_HEADER] = bucket_with_major(bucket, self.url.path)
            self._headers = CIMultiDictProxy(headers)
            self._cache.pop("headers", None)  # aiohttp's reified `headers` read the original in start()
        return response


def use_major_buckets(http: Any) -> None:
    """Make a nextcord HTTPClient's session read buckets per major parameter, from its login on
    (and again whenever nextcord makes a new session)."""
    for name in ("static_login", "recreate"):
        original: Callable[..., Awaitable[Any]] | None = getattr(http, name, None)
        if original is None:
            continue
        setattr(http, name, _then_install(http, original))


def _then_install(http: Any, original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(original)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return await original(*args, **kwargs)
        finally:
            session = getattr(http, "_HTTPClient__session", None)
            if isinstance(session, aiohttp.ClientSession):
                session._response_class = MajorBucketResponse

    return wrapped
