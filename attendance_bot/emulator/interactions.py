"""Emulated interactions: payload construction, per-interaction bookkeeping and reply handles."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .models import EPHEMERAL_FLAG, Member, Message, Reply
from .state import WorldState, new_token

log = logging.getLogger(__name__)

# application command option types
OPT_SUB_COMMAND = 1
OPT_SUB_COMMAND_GROUP = 2
OPT_STRING = 3
OPT_INTEGER = 4
OPT_BOOLEAN = 5
OPT_USER = 6
OPT_CHANNEL = 7
OPT_ROLE = 8
OPT_MENTIONABLE = 9
OPT_NUMBER = 10
OPT_ATTACHMENT = 11


class NoReply(AssertionError):
    """The bot did not answer an interaction in time (or could not be reached)."""


class UnknownCommand(LookupError):
    """The invoked command is not registered with the emulator."""


@dataclass
class InteractionRecord:
    """Server-side state of one dispatched interaction."""

    id: int
    token: str
    name: str
    channel_id: int
    member: Member
    created_at: datetime
    dispatched_at: float = field(default_factory=time.perf_counter)
    future: asyncio.Future[Reply] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    responded: bool = False
    callback_type: int | None = None
    deferred: bool = False
    ephemeral: bool = False
    ack_latency: float = 0.0
    original_message_id: int | None = None
    original_edited: bool = False
    followup_ids: list[int] = field(default_factory=list)
    source_message_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def resolve_with_message(self, msg: Message, *, callback_type: int) -> None:
        """Complete the reply future from a message the bot produced."""
        if self.future.done():
            return
        self.future.set_result(
            Reply(
                type=callback_type,
                content=msg.content,
                embeds=list(msg.embeds),
                ephemeral=bool(msg.flags & EPHEMERAL_FLAG),
                files=msg.files,
                deferred=self.deferred,
                latency=time.perf_counter() - self.dispatched_at,
                ack_latency=self.ack_latency,
                flags=msg.flags,
                components=list(msg.components),
                message_id=msg.id,
                interaction_id=self.id,
            )
        )

    def resolve_with_data(self, callback_type: int, data: dict[str, Any]) -> None:
        """Complete the reply future for callbacks that create no message (6, 8, 9, ...)."""
        if self.future.done():
            return
        self.future.set_result(
            Reply(
                type=callback_type,
                content=data.get("content"),
                embeds=list(data.get("embeds") or []),
                ephemeral=bool(int(data.get("flags") or 0) & EPHEMERAL_FLAG),
                deferred=callback_type in (5, 6),
                latency=time.perf_counter() - self.dispatched_at,
                ack_latency=self.ack_latency,
                flags=int(data.get("flags") or 0),
                components=list(data.get("components") or []),
                data=data,
                interaction_id=self.id,
            )
        )


class InteractionHandle:
    """Returned by ``Emulator.dispatch_interaction``; await ``wait()`` for the Reply."""

    def __init__(self, record: InteractionRecord) -> None:
        self.record = record

    @property
    def id(self) -> int:
        """The interaction id."""
        return self.record.id

    @property
    def future(self) -> asyncio.Future[Reply]:
        """Future resolved with the Reply."""
        return self.record.future

    @property
    def payload(self) -> dict[str, Any]:
        """The INTERACTION_CREATE payload that was dispatched."""
        return self.record.payload

    def done(self) -> bool:
        """True once the bot answered."""
        return self.record.future.done()

    async def wait(self, timeout: float = 10.0) -> Reply:
        """Wait for the reply; raises ``NoReply`` after ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.record.future), timeout)
        except TimeoutError:
            rec = self.record
            state = (
                "deferred but no followup/edit arrived"
                if rec.deferred
                else f"callback type {rec.callback_type}"
                if rec.responded
                else "no callback received"
            )
            raise NoReply(
                f"bot did not answer /{rec.name} (interaction {rec.id}) within {timeout:.1f}s: {state}"
            ) from None


def _option_value(kind: int, value: Any) -> Any:
    if kind in (OPT_USER, OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE, OPT_ATTACHMENT):
        return str(getattr(value, "id", value))
    if kind == OPT_INTEGER:
        return int(value)
    if kind == OPT_NUMBER:
        return float(value)
    if kind == OPT_BOOLEAN:
        return bool(value)
    return str(value)


def build_options(
    state: WorldState, schema: list[dict[str, Any]], values: dict[str, Any], resolved: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Build interaction ``data.options`` for ``values`` following the registered option schema."""
    by_name = {o["name"]: o for o in schema}
    out: list[dict[str, Any]] = []
    for name, value in values.items():
        if value is None:
            continue
        opt = by_name.get(name)
        kind = int(opt.get("type", OPT_STRING)) if opt else _guess_type(value)
        item: dict[str, Any] = {"name": name, "type": kind, "value": _option_value(kind, value)}
        out.append(item)
        if kind in (OPT_USER, OPT_MENTIONABLE):
            _resolve_user(state, int(item["value"]), resolved)
        elif kind == OPT_CHANNEL:
            channel = state.channels.get(int(item["value"]))
            if channel is not None:
                payload = channel.to_payload()
                payload["permissions"] = str(state.permissions_for(state.bot))
                resolved.setdefault("channels", {})[str(channel.id)] = payload
        elif kind == OPT_ROLE:
            role = state.roles.get(int(item["value"]))
            if role is not None:
                resolved.setdefault("roles", {})[str(role.id)] = role.to_payload()
    return out


def _resolve_user(state: WorldState, user_id: int, resolved: dict[str, dict[str, Any]]) -> None:
    member = state.members.get(user_id) or state.users.get(user_id)
    if member is None:
        return
    resolved.setdefault("users", {})[str(user_id)] = member.user_payload()
    if user_id in state.members:
        payload = member.member_payload(with_user=False)
        payload["permissions"] = str(state.permissions_for(member))
        resolved.setdefault("members", {})[str(user_id)] = payload


def _guess_type(value: Any) -> int:
    if isinstance(value, bool):
        return OPT_BOOLEAN
    if isinstance(value, int):
        return OPT_INTEGER
    if isinstance(value, float):
        return OPT_NUMBER
    if isinstance(value, Member):
        return OPT_USER
    return OPT_STRING


def build_command_data(
    state: WorldState, command: dict[str, Any], path: list[str], values: dict[str, Any]
) -> dict[str, Any]:
    """``data`` of an APPLICATION_COMMAND interaction, with sub-command nesting for ``path``."""
    resolved: dict[str, dict[str, Any]] = {}
    schema: list[dict[str, Any]] = list(command.get("options") or [])
    chain: list[tuple[str, int]] = []
    for sub in path:
        found = next((o for o in schema if o["name"] == sub), None)
        if found is None:
            raise UnknownCommand(f"/{command['name']} has no sub-command {sub!r}")
        chain.append((sub, int(found.get("type", OPT_SUB_COMMAND))))
        schema = list(found.get("options") or [])
    options = build_options(state, schema, values, resolved)
    for sub, kind in reversed(chain):
        options = [{"name": sub, "type": kind, "options": options}]
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": int(command.get("type", 1)),
    }
    if options:
        data["options"] = options
    if resolved:
        data["resolved"] = resolved
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    return data


def build_interaction_payload(
    state: WorldState,
    *,
    interaction_id: int,
    token: str,
    member: Member,
    channel_id: int,
    data: dict[str, Any],
    kind: int = 2,
    locale: str = "en-US",
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Full INTERACTION_CREATE payload as Discord sends it for a guild interaction."""
    channel = state.channels.get(channel_id)
    member_perms = state.permissions_for(member, channel_id)
    app_perms = state.permissions_for(state.bot, channel_id)
    member_payload = member.member_payload()
    member_payload["permissions"] = str(member_perms)
    channel_payload: dict[str, Any] = channel.to_payload() if channel else {"id": str(channel_id), "type": 0}
    channel_payload["permissions"] = str(member_perms)
    payload: dict[str, Any] = {
        "app_permissions": str(app_perms),
        "application_id": str(state.app_id),
        "attachment_size_limit": 10 * 1024 * 1024,
        "authorizing_integration_owners": {"0": str(state.guild.id)},
        "channel": channel_payload,
        "channel_id": str(channel_id),
        "context": 0,
        "data": data,
        "entitlement_sku_ids": [],
        "entitlements": [],
        "guild": {"features": [], "id": str(state.guild.id), "locale": "en-US"},
        "guild_id": str(state.guild.id),
        "guild_locale": "en-US",
        "id": str(interaction_id),
        "locale": locale,
        "member": member_payload,
        "token": token,
        "type": kind,
        "version": 1,
    }
    if message is not None:
        payload["message"] = message
    return payload


def new_interaction_token() -> str:
    """Interaction tokens look like ``aW50ZXJhY3Rpb246...``."""
    return new_token("aW50ZXJhY3Rpb246")
