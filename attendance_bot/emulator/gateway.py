"""Gateway websocket: hello/heartbeat, identify -> READY/GUILD_CREATE, resume with replay, shards, dispatch."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from .models import Guild
from .state import WorldState

log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_RESUME = 6
OP_RECONNECT = 7
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_VOICE_STATES = 1 << 7
INTENT_GUILD_MESSAGES = 1 << 9

_EVENT_INTENTS: dict[str, int] = {
    "MESSAGE_CREATE": INTENT_GUILD_MESSAGES,
    "MESSAGE_UPDATE": INTENT_GUILD_MESSAGES,
    "MESSAGE_DELETE": INTENT_GUILD_MESSAGES,
    "GUILD_MEMBER_ADD": INTENT_GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": INTENT_GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": INTENT_GUILD_MEMBERS,
    "VOICE_STATE_UPDATE": INTENT_GUILD_VOICE_STATES,
}

_REPLAY_BUFFER = 100_000

CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011
_GUILD_EVENTS = ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE")  # the guild's id is the payload's "id"


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard that receives a guild's events, by Discord's rule: ``(guild_id >> 22) % shard_count``.

    Events of no guild (direct messages) go to shard 0.
    """
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def _guild_of(event: str, data: Any) -> int | None:
    """The guild an event belongs to (None for a DM or an event of no guild)."""
    if not isinstance(data, dict):
        return None
    raw = data.get("id") if event in _GUILD_EVENTS else data.get("guild_id")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _parse_shard(raw: Any) -> tuple[int, int] | None:
    """IDENTIFY's ``shard`` as (shard id, shard count): [0, 1] when absent, None when invalid."""
    if raw is None:
        return 0, 1
    if not (isinstance(raw, list) and len(raw) == 2 and all(type(x) is int for x in raw)):
        return None
    shard_id, shard_count = raw
    if shard_count < 1 or not 0 <= shard_id < shard_count:
        return None
    return shard_id, shard_count


class _Connection:
    """One websocket with an ordered outgoing queue drained by a single writer task."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.session: GatewaySession | None = None
        self.writer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while True:
                frame = await self.queue.get()
                if frame is None or self.ws.closed:
                    return
                await self.ws.send_str(frame)
        except (ConnectionError, RuntimeError) as exc:
            log.debug("gateway writer stopped: %r", exc)

    def send(self, frame: str) -> None:
        self.queue.put_nowait(frame)

    def send_json(self, op: int, d: Any) -> None:
        self.send(json.dumps({"op": op, "d": d, "s": None, "t": None}))

    async def close(self, code: int) -> None:
        self.queue.put_nowait(None)
        if not self.ws.closed:
            await self.ws.close(code=code, message=b"emulator closed the connection")


class GatewaySession:
    """A gateway session of one shard; survives disconnects so the client can RESUME.

    ``label`` names the token alias it identified with (None: the bot's own token).
    """

    def __init__(
        self, session_id: str, intents: int, shard: tuple[int, int] = (0, 1), label: str | None = None
    ) -> None:
        self.session_id = session_id
        self.intents = intents
        self.shard_id, self.shard_count = shard
        self.label = label
        self.seq = 0
        self.buffer: deque[tuple[int, str]] = deque(maxlen=_REPLAY_BUFFER)
        self.conn: _Connection | None = None
        self.ready_at = time.monotonic()

    def wants(self, event: str) -> bool:
        need = _EVENT_INTENTS.get(event)
        return need is None or bool(self.intents & need)

    def owns(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives the events of ``guild_id`` (None: DMs, shard 0)."""
        return shard_of(guild_id, self.shard_count) == self.shard_id


class Gateway:
    """Gateway endpoint and dispatcher for the emulated bot, over one or several shards.

    Each shard has its own session (``shard_sessions``), possibly from different processes; an event
    goes to the session of the shard that owns its guild, as on Discord. ``shards`` is the shard
    count the emulator expects (None: any); ``current`` is the session identified or resumed last.
    """

    heartbeat_interval_ms = 41250

    def __init__(
        self,
        state: WorldState,
        token: str,
        resume_url: Callable[[], str],
        aliases: dict[str, str] | None = None,
    ) -> None:
        self._state = state
        self._token = token
        self._resume_url = resume_url
        self._aliases = aliases if aliases is not None else {}  # more tokens of the bot -> their label
        self.shards: int | None = None
        self.sessions: dict[str, GatewaySession] = {}  # the resumable ones, by session id
        self.shard_sessions: dict[int, GatewaySession] = {}  # the one receiving each shard's events
        self.current: GatewaySession | None = None
        self.identify_count = 0
        self.resume_count = 0
        self.refusing = False  # an outage: websocket upgrades are answered 503
        self.refused_count = 0
        self.ready_event = asyncio.Event()
        self._connections: list[_Connection] = []
        self.on_ready: list[Callable[[GatewaySession], None]] = []

    @property
    def connected(self) -> bool:
        """True when the current session has a live websocket."""
        return self.current is not None and self.current.conn is not None

    @property
    def connected_shards(self) -> list[int]:
        """The shards whose session has a live websocket."""
        return sorted(sid for sid, session in self.shard_sessions.items() if session.conn is not None)

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The session that receives the events of ``guild_id`` (None: DMs, which go to shard 0)."""
        for session in self.shard_sessions.values():
            if session.owns(guild_id):
                return session
        return None

    def wanted(self, event: str) -> bool:
        """Whether any shard's session takes ``event`` (its intents)."""
        return any(session.wants(event) for session in self.shard_sessions.values())

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for ``/gateway``."""
        if self.refusing:
            self.refused_count += 1
            return web.Response(status=503, text="gateway unavailable")
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024, autoping=True)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.append(conn)
        log.debug("gateway connection opened (query %s)", request.query_string)
        conn.send_json(OP_HELLO, {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["emulator"]})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_frame(conn, msg.data)
                elif msg.type == WSMsgType.ERROR:
                    log.debug("gateway websocket error: %r", ws.exception())
                    break
        finally:
            self._detach(conn)
            conn.queue.put_nowait(None)
            log.debug("gateway connection closed (code %s)", ws.close_code)
        return ws

    def _detach(self, conn: _Connection) -> None:
        if conn in self._connections:
            self._connections.remove(conn)
        session = conn.session
        if session is not None and session.conn is conn:
            session.conn = None

    async def _on_frame(self, conn: _Connection, raw: str) -> None:
        try:
            payload = json.loads(raw)
            op = payload["op"]
        except (ValueError, KeyError, TypeError):
            await conn.close(4002)  # decode error
            return
        d = payload.get("d")
        if op == OP_HEARTBEAT:
            conn.send_json(OP_HEARTBEAT_ACK, None)
        elif op == OP_IDENTIFY:
            await self._identify(conn, d or {})
        elif op == OP_RESUME:
            await self._resume(conn, d or {})
        else:
            log.debug("gateway op %s ignored", op)

    @staticmethod
    def _bare(token: Any) -> str:
        token = str(token or "")
        return token[4:] if token.startswith("Bot ") else token

    def _token_ok(self, token: Any) -> bool:
        token = self._bare(token)
        return secrets.compare_digest(token, self._token) or token in self._aliases

    async def _identify(self, conn: _Connection, d: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005)  # already authenticated
            return
        if not self._token_ok(d.get("token")):
            log.debug("identify with bad token")
            await conn.close(4004)
            return
        shard = _parse_shard(d.get("shard"))
        if shard is None:
            log.debug("identify with invalid shard %r", d.get("shard"))
            await conn.close(CLOSE_INVALID_SHARD)
            return
        shard_id, shard_count = shard
        if self.shards is not None and shard_count != self.shards:
            log.debug("identify with %d shard(s); the emulator expects %d", shard_count, self.shards)
            await conn.close(CLOSE_SHARDING_REQUIRED)
            return
        label = self._aliases.get(self._bare(d.get("token")))
        session = GatewaySession(secrets.token_hex(16), int(d.get("intents") or 0), shard, label)
        # The shard's older session, and every session of another shard count, no longer receive
        # events nor resume; the other shards' sessions carry on.
        for old in list(self.shard_sessions.values()):
            if old.shard_id == shard_id or old.shard_count != shard_count:
                del self.shard_sessions[old.shard_id]
                self.sessions.pop(old.session_id, None)
        self.shard_sessions[shard_id] = session
        self.sessions[session.session_id] = session
        self.current = session
        session.conn = conn
        conn.session = session
        self.identify_count += 1
        st = self._state
        owned = [guild for guild in st.guilds.values() if session.owns(guild.id)]
        ready = {
            "v": 10,
            "user": {**st.bot.user_payload(), "verified": True, "mfa_enabled": False, "email": None},
            "user_settings": {},
            "guilds": [{"id": str(guild.id), "unavailable": True} for guild in owned],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "shard": [shard_id, shard_count],
            "application": {"id": str(st.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["us-east"],
            "auth_session_id_hash": secrets.token_hex(8),
            "_trace": ["emulator-gateway"],
        }
        self.dispatch("READY", ready, session)
        for guild in owned:
            self.send_guild_create(guild, session)
        session.ready_at = time.monotonic()
        self.ready_event.set()
        for callback in self.on_ready:
            callback(session)
        log.debug("bot identified, session %s, shard %d of %d", session.session_id, shard_id, shard_count)

    async def _resume(self, conn: _Connection, d: dict[str, Any]) -> None:
        session = self.sessions.get(str(d.get("session_id")))
        if session is None or not self._token_ok(d.get("token")):
            log.debug("resume of unknown session %s -> invalid session", d.get("session_id"))
            conn.send_json(OP_INVALID_SESSION, False)
            return
        old = session.conn
        if old is not None and old is not conn:
            old.session = None
            asyncio.get_running_loop().create_task(old.close(4000))
        session.conn = conn
        conn.session = session
        last = int(d.get("seq") or 0)
        replayed = 0
        for seq, frame in session.buffer:
            if seq > last:
                conn.send(frame)
                replayed += 1
        self.resume_count += 1
        self.current = session
        self.dispatch("RESUMED", {"_trace": ["emulator-gateway"]}, session)
        log.debug("session %s resumed from seq %s, replayed %d events", session.session_id, last, replayed)

    def dispatch(self, event: str, data: Any, session: GatewaySession | None = None) -> bool:
        """Send (or buffer for resume) an event on ``session``, else on the session of the shard that
        owns the event's guild (shard 0 for an event of no guild); False when there is none."""
        session = session or self.session_for(_guild_of(event, data))
        if session is None:
            return False
        if not session.wants(event):
            return True
        session.seq += 1
        frame = json.dumps({"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data})
        session.buffer.append((session.seq, frame))
        if session.conn is not None:
            session.conn.send(frame)
        return True

    def send_guild_create(self, guild: Guild, session: GatewaySession | None = None, *, joined: bool = False) -> bool:
        """GUILD_CREATE for ``guild`` (members as the session's intents allow) on ``session``, else on
        its shard's; False without a session.

        After READY the guild becomes available (``unavailable: false``); a guild the bot ``joined``
        during the session comes without that field, which is how clients tell a join (on_guild_join).
        """
        session = session or self.session_for(guild.id)
        if session is None:
            return False
        all_members = bool(session.intents & INTENT_GUILD_MEMBERS)
        voice_states = bool(session.intents & INTENT_GUILD_VOICE_STATES)
        payload = self._state.guild_payload(guild, full=True, all_members=all_members, voice_states=voice_states)
        if joined:
            payload.pop("unavailable", None)
        return self.dispatch("GUILD_CREATE", payload, session)

    def request_heartbeat(self) -> None:
        """Ask the client for an immediate heartbeat (op 1)."""
        if self.current is not None and self.current.conn is not None:
            self.current.conn.send_json(OP_HEARTBEAT, self.current.seq)

    def send_reconnect(self) -> None:
        """Send op 7 RECONNECT; the client closes and resumes."""
        if self.current is not None and self.current.conn is not None:
            self.current.conn.send_json(OP_RECONNECT, None)

    async def drop(self, code: int = 4000, *, shard: int | None = None) -> None:
        """Close the websocket of the current session, or of ``shard``'s, with ``code`` (the session
        stays resumable)."""
        session = self.current if shard is None else self.shard_sessions.get(shard)
        if session is None or session.conn is None:
            return
        conn = session.conn
        session.conn = None
        await conn.close(code)

    def invalidate(self) -> None:
        """Forget all sessions (next RESUME gets op 9)."""
        self.sessions.clear()

    async def close_all(self) -> None:
        """Close every websocket (server shutdown)."""
        for conn in list(self._connections):
            await conn.close(1001)
