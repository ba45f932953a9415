"""Emulated interactions: payload construction, per-interaction bookkeeping and reply handles."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .models import EPHEMERAL_FLAG, Attachment, Guild, Member, Message, Reply, Upload
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

# interaction types
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
APPLICATION_COMMAND_AUTOCOMPLETE = 4
MODAL_SUBMIT = 5
AUTOCOMPLETE_RESULT = 8  # the callback type answering an autocomplete interaction
MODAL = 9  # the callback type that opens a modal
MAX_AUTOCOMPLETE_CHOICES = 25

# the fields Discord keeps in a resolved (partial) channel
_PARTIAL_CHANNEL_FIELDS = (
    "id",
    "name",
    "type",
    "last_message_id",
    "last_pin_timestamp",
    "nsfw",
    "parent_id",
    "guild_id",
    "flags",
    "rate_limit_per_user",
    "topic",
    "position",
)


class NoReply(AssertionError):
    """The bot did not answer an interaction in time (or could not be reached)."""


class UnknownCommand(LookupError):
    """The invoked command is not registered with the emulator (for the channel's guild, nor globally)."""


class InteractionRefused(ValueError):
    """An interaction Discord's client could not send: a member outside the channel's guild, an unknown
    channel, a channel not in an option's ``channel_types``, autocomplete on an option without it."""


class ModalRefused(AssertionError):
    """The bot answered with a modal Discord refuses (a missing title, a text input too long, ...)."""


class AutocompleteError(AssertionError):
    """The bot answered an autocomplete interaction wrongly (another callback type, or choices Discord refuses)."""


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
    kind: int = APPLICATION_COMMAND
    guild_id: int | None = None
    focused: dict[str, Any] | None = None  # the focused option's schema (autocomplete interactions)
    modal: dict[str, Any] | None = None  # the modal the bot answered with (callback 9), until submitted

    def fail(self, exc: BaseException) -> None:
        """Complete the reply future with an error the waiting test sees."""
        if not self.future.done():
            self.future.set_exception(exc)

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


@dataclass
class _Context:
    """Where an interaction happens: the world, the channel's guild and the invoker's record there."""

    state: WorldState
    guild: Guild
    member: Member
    channel_id: int
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)


def build_options(
    ctx: _Context, schema: list[dict[str, Any]], values: dict[str, Any], *, focused: str | None = None
) -> list[dict[str, Any]]:
    """Build interaction ``data.options`` for ``values`` following the registered option schema.

    With ``focused`` (an autocomplete interaction) that option is sent as the partial string typed so
    far, marked ``"focused": true``; it must be registered with ``autocomplete: true``.
    """
    by_name = {o["name"]: o for o in schema}
    out: list[dict[str, Any]] = []
    if focused is not None:
        opt = by_name.get(focused)
        if opt is None or not opt.get("autocomplete"):
            raise InteractionRefused(f"option {focused!r} is not registered with autocomplete (schema: {schema})")
        values = {**values, focused: values.get(focused, "")}
    for name, value in values.items():
        if value is None:
            continue
        opt = by_name.get(name)
        kind = int(opt.get("type", OPT_STRING)) if opt else _guess_type(value)
        if name == focused:
            out.append({"name": name, "type": kind, "value": str(value), "focused": True})
            continue
        if kind == OPT_ATTACHMENT:
            out.append({"name": name, "type": kind, "value": _resolve_attachment(ctx, value)})
            continue
        if isinstance(value, Upload | Attachment):
            raise InteractionRefused(f"option {name!r} is not an attachment option (type {kind}); it takes no file")
        item: dict[str, Any] = {"name": name, "type": kind, "value": _option_value(kind, value)}
        out.append(item)
        target = int(item["value"]) if kind in (OPT_USER, OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE) else 0
        if kind == OPT_MENTIONABLE and target in ctx.state.roles:
            _resolve_role(ctx, target)
        elif kind in (OPT_USER, OPT_MENTIONABLE):
            _resolve_user(ctx, target)
        elif kind == OPT_CHANNEL:
            _resolve_channel(ctx, target, opt or {})
        elif kind == OPT_ROLE:
            _resolve_role(ctx, target)
    return out


def _resolve_attachment(ctx: _Context, value: Any) -> str:
    """The option's value (the attachment's id) and its ``resolved.attachments`` entry, as Discord sends them.

    An ``Upload`` is the file the member attaches: stored and served for download. An ``Attachment``
    already stored (an earlier upload) is sent again. A bare id (int or str) is sent as typed, with
    resolved data only if it is an upload the emulator holds: what a forged id looks like to the bot.
    """
    if isinstance(value, Upload):
        att = ctx.state.add_upload(ctx.channel_id, value)
    elif isinstance(value, Attachment):
        att = value
    else:
        att = ctx.state.uploads.get(int(value)) if str(value).isdigit() else None
        if att is None:
            return str(value)
    ctx.resolved.setdefault("attachments", {})[str(att.id)] = att.to_payload()
    return str(att.id)


def _resolve_user(ctx: _Context, user_id: int) -> None:
    member = ctx.guild.members.get(user_id) or ctx.state.users.get(user_id)
    if member is None:
        return
    ctx.resolved.setdefault("users", {})[str(user_id)] = member.user_payload()
    if user_id in ctx.guild.members:
        payload = member.member_payload(with_user=False)
        payload["permissions"] = str(ctx.state.permissions_for(user_id, ctx.channel_id))
        ctx.resolved.setdefault("members", {})[str(user_id)] = payload


def _resolve_channel(ctx: _Context, channel_id: int, option: dict[str, Any]) -> None:
    """Discord's partial channel in ``resolved.channels``, after the client's ``channel_types`` filter.

    Discord's client only offers channels of the interaction's guild. A test may still send a channel
    of another guild the bot is in (what a forged or stale id looks like to the bot): it is resolved
    from that channel as it is, with its own ``guild_id``, and ``permissions`` those of the invoker
    there (0 when they are not a member of that guild). An id the emulator does not know is sent
    without resolved data.
    """
    channel = ctx.state.channels.get(channel_id)
    if channel is None:
        return
    allowed = option.get("channel_types")
    if allowed and channel.type not in allowed:
        raise InteractionRefused(
            f"channel #{channel.name} (type {channel.type}) is not one of option {option.get('name')!r}'s "
            f"channel_types {allowed}; Discord's client would not offer it"
        )
    full = channel.to_payload()
    partial = {k: full[k] for k in _PARTIAL_CHANNEL_FIELDS if k in full}
    partial["permissions"] = str(ctx.state.permissions_for(ctx.member.id, channel.id))
    ctx.resolved.setdefault("channels", {})[str(channel.id)] = partial


def _resolve_role(ctx: _Context, role_id: int) -> None:
    role = ctx.state.roles.get(role_id)
    if role is not None:
        ctx.resolved.setdefault("roles", {})[str(role.id)] = role.to_payload()


def _guess_type(value: Any) -> int:
    if isinstance(value, bool):
        return OPT_BOOLEAN
    if isinstance(value, int):
        return OPT_INTEGER
    if isinstance(value, float):
        return OPT_NUMBER
    if isinstance(value, Member):
        return OPT_USER
    if isinstance(value, Upload | Attachment):
        return OPT_ATTACHMENT
    return OPT_STRING


def interaction_context(state: WorldState, member: Member, channel_id: int) -> _Context:
    """The guild of ``channel_id`` and ``member``'s record in it; ``InteractionRefused`` if there is none."""
    guild = state.guild_of_channel(channel_id)
    if guild is None:
        raise InteractionRefused(f"channel {channel_id} is not a channel of any emulated guild")
    record = guild.members.get(member.id)
    if record is None:
        raise InteractionRefused(
            f"{member.username} ({member.id}) is not a member of guild {guild.name!r}, where channel "
            f"{channel_id} is; add them with add_member(existing_member=...)"
        )
    return _Context(state, guild, record, channel_id)


def build_command_data(
    ctx: _Context,
    command: dict[str, Any],
    path: list[str],
    values: dict[str, Any],
    *,
    focused: str | None = None,
) -> dict[str, Any]:
    """``data`` of an APPLICATION_COMMAND (or, with ``focused``, AUTOCOMPLETE) interaction, nested for ``path``."""
    schema: list[dict[str, Any]] = list(command.get("options") or [])
    chain: list[tuple[str, int]] = []
    for sub in path:
        found = next((o for o in schema if o["name"] == sub), None)
        if found is None:
            raise UnknownCommand(f"/{command['name']} has no sub-command {sub!r}")
        chain.append((sub, int(found.get("type", OPT_SUB_COMMAND))))
        schema = list(found.get("options") or [])
    options = build_options(ctx, schema, values, focused=focused)
    for sub, kind in reversed(chain):
        options = [{"name": sub, "type": kind, "options": options}]
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": int(command.get("type", 1)),
    }
    if options:
        data["options"] = options
    if ctx.resolved:
        data["resolved"] = ctx.resolved
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    return data


def focused_option(command: dict[str, Any], path: list[str], name: str) -> dict[str, Any]:
    """The registered schema of option ``name`` under sub-command ``path`` (KeyError if absent)."""
    schema: list[dict[str, Any]] = list(command.get("options") or [])
    for sub in path:
        schema = list(next(o for o in schema if o["name"] == sub).get("options") or [])
    for option in schema:
        if option["name"] == name:
            return option
    raise KeyError(name)


def check_autocomplete_result(option: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Form errors of an APPLICATION_COMMAND_AUTOCOMPLETE_RESULT for ``option`` (empty when Discord accepts it).

    At most 25 choices; each a name of 1-100 characters and a value of the option's type (a string
    of at most 100 characters, an integer, or a number).
    """
    errors: dict[str, Any] = {}

    def add(path: tuple[str, ...], code: str, message: str) -> None:
        node = errors
        for key in ("data", *path):
            node = node.setdefault(key, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    choices = data.get("choices")
    if not isinstance(choices, list):
        add(("choices",), "BASE_TYPE_REQUIRED", "This field is required")
        return errors
    if len(choices) > MAX_AUTOCOMPLETE_CHOICES:
        add(("choices",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_AUTOCOMPLETE_CHOICES} or fewer in length.")
    kind = int(option.get("type", OPT_STRING))
    for i, choice in enumerate(choices):
        name = choice.get("name") if isinstance(choice, dict) else None
        value = choice.get("value") if isinstance(choice, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            add(("choices", str(i), "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if kind == OPT_STRING:
            if not isinstance(value, str):
                add(("choices", str(i), "value"), "BASE_TYPE_STRING", "Must be a string.")
            elif not 1 <= len(value) <= 100:
                add(("choices", str(i), "value"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        elif kind == OPT_INTEGER and (isinstance(value, bool) or not isinstance(value, int)):
            add(("choices", str(i), "value"), "NUMBER_TYPE_COERCE", f"Value {value!r} is not int.")
        elif kind == OPT_NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
            add(("choices", str(i), "value"), "NUMBER_TYPE_COERCE", f"Value {value!r} is not a number.")
    return errors


def build_interaction_payload(
    ctx: _Context,
    *,
    interaction_id: int,
    token: str,
    channel_id: int,
    data: dict[str, Any],
    kind: int = 2,
    locale: str = "en-US",
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Full INTERACTION_CREATE payload as Discord sends it for an interaction in ``ctx.guild``.

    ``member.permissions`` and ``channel.permissions`` are the invoker's permissions in the channel,
    ``app_permissions`` the bot's, overwrites applied.
    """
    state, guild, member = ctx.state, ctx.guild, ctx.member
    channel = state.channels[channel_id]
    member_perms = state.permissions_for(member.id, channel_id)
    app_perms = state.permissions_for(state.app_id, channel_id)
    member_payload = member.member_payload()
    member_payload["permissions"] = str(member_perms)
    channel_payload = channel.to_payload()
    channel_payload["permissions"] = str(member_perms)
    payload: dict[str, Any] = {
        "app_permissions": str(app_perms),
        "application_id": str(state.app_id),
        "attachment_size_limit": 10 * 1024 * 1024,
        "authorizing_integration_owners": {"0": str(guild.id)},
        "channel": channel_payload,
        "channel_id": str(channel_id),
        "context": 0,
        "data": data,
        "entitlement_sku_ids": [],
        "entitlements": [],
        "guild": {"features": [], "id": str(guild.id), "locale": "en-US"},
        "guild_id": str(guild.id),
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
