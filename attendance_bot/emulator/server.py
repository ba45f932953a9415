"""The ``Emulator``: aiohttp server lifecycle plus the scenario API used by tests, demos and benchmarks."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from .clock import Clock
from .components import BUTTON, LINK_STYLE, PREMIUM_STYLE, buttons, check_submission, submission_data, text_inputs
from .faults import Faults
from .gateway import Gateway, shard_of
from .guilds import GuildHandle
from .interactions import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    AutocompleteError,
    InteractionHandle,
    InteractionRecord,
    InteractionRefused,
    NoReply,
    UnknownCommand,
    build_command_data,
    build_interaction_payload,
    focused_option,
    interaction_context,
    new_interaction_token,
)
from .models import DEFAULT_EVERYONE_PERMISSIONS, VIEW_CHANNEL, Attachment, Member, Message, Reply
from .rest import API_PREFIX, RestApi

log = logging.getLogger(__name__)


def _random_bot_token(app_id: int) -> str:
    import base64

    head = base64.urlsafe_b64encode(str(app_id).encode()).decode().rstrip("=")
    return f"{head}.{secrets.token_urlsafe(5)}.{secrets.token_urlsafe(27)}"


class Emulator:
    """A local Discord (REST v10 + gateway) for one bot application in one or more guilds.

    The guild built at start is the default one: ``guild_id``, ``admin_channel_id``, ``instructor``
    and the other world accessors are its. ``add_guild`` adds more, each of the same shape, and
    ``guilds`` lists them all as ``GuildHandle`` objects, the default first.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        app_name: str = "AttendanceBot",
        guild_name: str = "Emulated Classroom",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: bool = True,
        shards: int | None = None,
    ) -> None:
        from .state import WorldState

        self.clock = Clock()
        self.state = WorldState(self.clock, app_name=app_name, guild_name=guild_name)
        self.token: str = token or _random_bot_token(self.state.app_id)
        self.host = host
        self.port = port
        self.faults = Faults()
        self.unknown_routes: list[tuple[str, str]] = []
        self.ack_deadline: float | None = None  # set to 3.0 to expire unanswered interactions like Discord
        self.token_aliases: dict[str, str] = {}  # more tokens of the bot (see token_alias) -> their name
        self.gateway = Gateway(self.state, self.token, lambda: self.gateway_url, self.token_aliases)
        self.gateway.shards = shards
        self.rest = RestApi(self)
        self.rate_limits = rate_limits
        self._interactions: dict[int, InteractionRecord] = {}
        self._interactions_by_token: dict[str, InteractionRecord] = {}
        self._runner: web.AppRunner | None = None
        self._command_activity = 0.0

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> Emulator:
        """Bind the server (port 0 picks a free port)."""
        app = self.rest.build_app()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self.state.base_url = f"http://{self.host}:{self.port}"
        log.info("Discord emulator listening on %s", self.api_base)
        return self

    async def stop(self) -> None:
        """Close websockets and the HTTP server."""
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """REST base to give nextcord (``http://127.0.0.1:PORT/api/v10``)."""
        return self.base_url + API_PREFIX

    def bot_env(self) -> dict[str, str]:
        """The settings that point attendance_bot at this emulator's guild (for .env or a process)."""
        return {
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_BOT_TOKEN": self.token,
            "ADMIN_CHANNEL_ID": str(self.admin_channel_id),
            "ATTENDANCE_CHANNEL_ID": str(self.attendance_channel_id),
            # The projector page off: several emulated bots share a machine, and a fixed port would
            # be taken by the first; a test or scenario that wants the page gives a free port.
            "WEB_PORT": "0",
        }

    @property
    def gateway_url(self) -> str:
        """Websocket URL returned by GET /gateway."""
        return f"ws://{self.host}:{self.port}/gateway"

    def token_alias(self, name: str) -> str:
        """Another token of the same bot, accepted wherever its token is; REST requests made with it
        are logged under ``name`` (``requests_by``) and gateway sessions carry it as their ``label``.

        Discord gives a bot one token, which all its processes share: this exists only so that tests
        can tell apart several processes of one bot. The same name gives the same token.
        """
        for token, known in self.token_aliases.items():
            if known == name:
                return token
        token = _random_bot_token(self.state.app_id)
        self.token_aliases[token] = name
        return token

    # -- shards -----------------------------------------------------------------------------

    @property
    def shards(self) -> int | None:
        """The shard count ``GET /gateway/bot`` recommends and IDENTIFY must carry (None: 1 recommended,
        any count accepted). An IDENTIFY with another count is closed with 4011 (sharding required), an
        invalid ``shard`` (id not below the count) with 4010."""
        return self.gateway.shards

    @shards.setter
    def shards(self, count: int | None) -> None:
        self.gateway.shards = count

    def shard_of(self, guild_id: int, shard_count: int | None = None) -> int:
        """The shard that receives ``guild_id``'s events: ``(guild_id >> 22) % shard_count`` (default: ``shards``)."""
        return shard_of(guild_id, shard_count or self.shards or 1)

    @property
    def connected_shards(self) -> list[int]:
        """The shards whose gateway session has a live websocket."""
        return self.gateway.connected_shards

    # -- world accessors --------------------------------------------------------------------

    @property
    def application_id(self) -> int:
        """The bot's application id (== bot user id)."""
        return self.state.app_id

    @property
    def bot_user_id(self) -> int:
        """The bot user's id."""
        return self.state.bot.id

    @property
    def guild_id(self) -> int:
        """The default guild."""
        return self.state.guild.id

    @property
    def admin_channel_id(self) -> int:
        """Text channel for instructors."""
        return self.state.admin_channel.id

    @property
    def attendance_channel_id(self) -> int:
        """Text channel for attendance."""
        return self.state.attendance_channel.id

    @property
    def general_channel_id(self) -> int:
        """Text channel #general."""
        return self.state.general_channel.id

    @property
    def voice_channel_id(self) -> int:
        """The voice channel."""
        return self.state.voice_channel.id

    @property
    def admin_role_id(self) -> int:
        """Role with Manage Server permission."""
        return self.state.admin_role.id

    @property
    def student_role_id(self) -> int:
        """Plain student role."""
        return self.state.student_role.id

    @property
    def instructor(self) -> Member:
        """Member holding the admin role."""
        return self.state.instructor

    @property
    def students(self) -> list[Member]:
        """The default student members."""
        return list(self.state.students)

    @property
    def owner(self) -> Member:
        """The guild owner."""
        return self.state.owner

    @property
    def guilds(self) -> list[GuildHandle]:
        """Every guild, the default one first."""
        return [GuildHandle(g, self._run_here) for g in self.state.guilds.values()]

    @property
    def default_guild(self) -> GuildHandle:
        """The guild the world accessors above describe."""
        return GuildHandle(self.state.guild, self._run_here)

    def guild(self, guild_id: int) -> GuildHandle:
        """A guild by id (KeyError when unknown)."""
        return GuildHandle(self.state.guild_for(guild_id), self._run_here)

    def _run_here(self, fn: Any) -> Any:
        return fn(self)

    def add_guild(self, name: str | None = None, *, shard: tuple[int, int] | None = None) -> GuildHandle:
        """A new guild of the default shape with the bot in it (GUILD_CREATE at once to its shard's
        session, if connected).

        Its own @everyone role (id == guild id), Instructor (Manage Server), the bot's managed role and
        Student; #instructors, #attendance, #general and a voice channel under a category; an owner, an
        instructor and three students, all new users (usernames prefixed ``gN_``). ``shard`` (shard id,
        shard count) gives it an id that Discord's shard rule puts on that shard.
        """
        guild = self.state.add_guild(name or f"Emulated Classroom {len(self.state.guilds) + 1}", shard=shard)
        self.gateway.send_guild_create(guild, joined=True)
        return GuildHandle(guild, self._run_here)

    def add_member(
        self,
        username: str | None = None,
        *,
        display_name: str | None = None,
        admin: bool = False,
        role_ids: Iterable[int] = (),
        guild_id: int | None = None,
        existing_member: Member | None = None,
    ) -> Member:
        """Add a member to a guild (the default one unless told); dispatches GUILD_MEMBER_ADD (members intent).

        ``existing_member`` (a member of another guild) makes that same user join this guild: same id
        and name, the roles given here (roles are per guild). Returns this guild's record of the member.
        """
        member = self.state.add_member(
            username,
            display_name=display_name,
            admin=admin,
            role_ids=role_ids,
            guild_id=guild_id,
            existing=existing_member,
        )
        payload = member.member_payload()
        payload["guild_id"] = str(member.guild_id)
        self.gateway.dispatch("GUILD_MEMBER_ADD", payload)
        return member

    def add_text_channel(self, name: str, *, guild_id: int | None = None) -> int:
        """Create a text channel in a guild (the default one unless told; dispatches CHANNEL_CREATE); returns its id."""
        channel = self.state.add_channel(name, guild_id=guild_id)
        self.gateway.dispatch("CHANNEL_CREATE", channel.to_payload())
        return channel.id

    def add_voice_channel(self, name: str, *, stage: bool = False, guild_id: int | None = None) -> int:
        """Create a voice (or stage) channel in a guild (the default one unless told; dispatches
        CHANNEL_CREATE); returns its id."""
        channel = self.state.add_channel(name, voice=True, stage=stage, guild_id=guild_id)
        self.gateway.dispatch("CHANNEL_CREATE", channel.to_payload())
        return channel.id

    def join_voice(self, member: Member, channel_id: int) -> None:
        """The member joins a voice or stage channel of their guild, or moves there from another:
        VOICE_STATE_UPDATE (voice-states intent)."""
        self.gateway.dispatch("VOICE_STATE_UPDATE", self.state.set_voice(member, channel_id))

    def leave_voice(self, member: Member) -> None:
        """The member leaves voice (channel_id null): VOICE_STATE_UPDATE (voice-states intent)."""
        self.gateway.dispatch("VOICE_STATE_UPDATE", self.state.set_voice(member, None))

    def voice_channel_of(self, member: Member) -> int | None:
        """The voice or stage channel the member is in (None: not in voice)."""
        entry = self.state.guild_for(member.guild_id).voice.get(member.id)
        return entry[0] if entry is not None else None

    def add_role(
        self, name: str, permissions: int = DEFAULT_EVERYONE_PERMISSIONS, *, guild_id: int | None = None
    ) -> int:
        """Create a role in a guild (the default one unless told; dispatches GUILD_ROLE_CREATE); returns its id."""
        role = self.state.add_role(name, permissions, guild_id=guild_id)
        self.gateway.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(role.guild_id), "role": role.to_payload()})
        return role.id

    def member(self, user_id: int, guild_id: int | None = None) -> Member:
        """A member's record in a guild (the default one unless told)."""
        return self.state.guild_for(guild_id).members[user_id]

    # -- permissions ------------------------------------------------------------------------

    def set_channel_overwrite(
        self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0, kind: str | None = None
    ) -> None:
        """Set a channel's permission overwrite for a role or a member (dispatches CHANNEL_UPDATE).

        ``kind`` is ``"role"`` or ``"member"`` (inferred from ``target_id`` when None); the guild id is
        the @everyone role. ``allow``/``deny`` are bit sets of the constants in ``models``, e.g.
        ``emu.set_channel_overwrite(cid, emu.bot_user_id, deny=SEND_MESSAGES)``.
        """
        channel = self.state.set_overwrite(channel_id, target_id, allow=allow, deny=deny, kind=kind)
        self.gateway.dispatch("CHANNEL_UPDATE", channel.to_payload())

    def remove_channel_overwrite(self, channel_id: int, target_id: int) -> None:
        """Delete a channel's overwrite for a role or member (dispatches CHANNEL_UPDATE)."""
        channel = self.state.remove_overwrite(channel_id, target_id)
        self.gateway.dispatch("CHANNEL_UPDATE", channel.to_payload())

    def permissions_for(self, member: Member | int, channel_id: int) -> int:
        """A user's permissions in a channel as Discord computes them (the bot's: ``bot_user_id``)."""
        return self.state.permissions_for(member, channel_id)

    # -- rate limits ------------------------------------------------------------------------

    @property
    def rate_limits(self) -> bool:
        """Discord's rate limits enforced (per-route buckets and the global limit for bot-token routes)."""
        return self.rest.limiter.enabled

    @rate_limits.setter
    def rate_limits(self, on: bool) -> None:
        self.rest.limiter.enabled = on

    # -- clock ------------------------------------------------------------------------------

    @property
    def message_age_offset(self) -> float:
        """Seconds the emulator clock runs ahead of the wall clock."""
        return self.clock.offset

    @message_age_offset.setter
    def message_age_offset(self, seconds: float) -> None:
        self.clock.offset = seconds

    def advance_clock(self, seconds: float) -> None:
        """Move emulator time forward (ages every message and interaction token)."""
        self.clock.advance(seconds)

    # -- commands ---------------------------------------------------------------------------

    def registered_commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Commands registered for a guild (or global when ``guild_id`` is None)."""
        return self.state.command_list(guild_id)

    def _note_command_activity(self) -> None:
        self._command_activity = time.monotonic()

    async def wait_for_bot(
        self,
        timeout: float = 30.0,
        *,
        commands: Iterable[str] = (),
        settle: float = 0.3,
        fresh: bool = False,
    ) -> None:
        """Wait until the bot identified (a *new* identify if ``fresh``) and command sync settled.

        "Settled" means the bot touched the commands API and then stayed quiet for ``settle`` s, and
        every name in ``commands`` is registered (guild or global).
        """
        deadline = time.monotonic() + timeout
        wanted = set(commands)
        baseline = self.gateway.identify_count if fresh else 0
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise NoReply(
                    f"bot not ready after {timeout:.1f}s (identifies={self.gateway.identify_count}, "
                    f"connected={self.gateway.connected}, commands={self._all_command_names()})"
                )
            ready = self.gateway.identify_count > baseline and self.gateway.connected
            session = self.gateway.current
            if ready and session is not None:
                quiet_since = max(self._command_activity, session.ready_at)
                names_ok = wanted <= self._all_command_names()
                touched = self._command_activity >= session.ready_at or not wanted
                if names_ok and touched and now - quiet_since >= settle:
                    return
            await asyncio.sleep(0.02)

    def _all_command_names(self) -> set:
        names = set()
        for scope in self.state.commands.values():
            names.update(c["name"] for c in scope.values())
        return names

    # -- interactions -----------------------------------------------------------------------

    def dispatch_interaction(
        self,
        member: Member,
        channel_id: int,
        command: str,
        *,
        locale: str = "en-US",
        **options: Any,
    ) -> InteractionHandle:
        """Dispatch an INTERACTION_CREATE for ``/command`` (spaces select sub-commands); non-blocking.

        The guild is the channel's; ``member`` must be a member of it (``InteractionRefused``). The
        command is looked up as Discord's client shows it: registered for that guild, else global
        (``UnknownCommand``). Channel, role and user options take ids (or objects with ``.id``) and
        add Discord's ``data.resolved`` entries. An attachment option takes an ``Upload`` (the file
        the member attaches: stored, served for download, resolved in ``data.resolved.attachments``).
        """
        return self._dispatch(member, channel_id, command, options, locale=locale)

    def _dispatch(
        self,
        member: Member,
        channel_id: int,
        command: str,
        options: dict[str, Any],
        *,
        locale: str = "en-US",
        focused: str | None = None,
    ) -> InteractionHandle:
        st = self.state
        ctx = interaction_context(st, member, channel_id)
        if self.gateway.session_for(ctx.guild.id) is None:
            raise NoReply("bot is not connected to the emulator gateway (no session for this guild's shard)")
        parts = command.split()
        cmd = st.find_command(parts[0], ctx.guild.id)
        if cmd is None:
            known = sorted({c["name"] for scope in (ctx.guild.id, None) for c in st.command_list(scope)})
            raise UnknownCommand(
                f"/{parts[0]} is not registered for guild {ctx.guild.name!r} nor globally; registered there: {known}"
            )
        data = build_command_data(ctx, cmd, parts[1:], options, focused=focused)
        kind = APPLICATION_COMMAND if focused is None else APPLICATION_COMMAND_AUTOCOMPLETE
        rec = InteractionRecord(
            id=st.ids.next(),
            token=new_interaction_token(),
            name=command,
            channel_id=channel_id,
            member=ctx.member,
            created_at=self.clock.now(),
            kind=kind,
            guild_id=ctx.guild.id,
            focused=focused_option(cmd, parts[1:], focused) if focused is not None else None,
        )
        payload = build_interaction_payload(
            ctx, interaction_id=rec.id, token=rec.token, channel_id=channel_id, data=data, kind=kind, locale=locale
        )
        rec.payload = payload
        self._interactions[rec.id] = rec
        self._interactions_by_token[rec.token] = rec
        rec.dispatched_at = time.perf_counter()
        self.gateway.dispatch("INTERACTION_CREATE", payload)
        return InteractionHandle(rec)

    async def invoke(
        self, member: Member, channel_id: int, command: str, timeout: float = 10.0, **options: Any
    ) -> Reply:
        """Run ``/command`` as ``member`` in ``channel_id`` and wait for the bot's reply (``NoReply`` on timeout)."""
        handle = self.dispatch_interaction(member, channel_id, command, **options)
        return await handle.wait(timeout)

    def dispatch_autocomplete(
        self, member: Member, channel_id: int, command: str, *, focused: str, **options: Any
    ) -> InteractionHandle:
        """Dispatch an APPLICATION_COMMAND_AUTOCOMPLETE interaction; non-blocking (see ``autocomplete``)."""
        return self._dispatch(member, channel_id, command, options, focused=focused)

    async def autocomplete(
        self,
        member: Member,
        channel_id: int,
        command: str,
        *,
        focused: str,
        timeout: float = 10.0,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """The choices the bot suggests while ``member`` types option ``focused`` of ``/command``.

        ``options`` are the values typed so far; the focused one's value (partial, "" if absent) is
        sent as a string marked ``"focused": true``. The option must be registered with
        ``autocomplete: true`` (``InteractionRefused``). The bot's answer must be callback type 8 with
        choices Discord accepts (≤ 25, names 1-100 characters, values of the option's type, strings
        ≤ 100): anything else raises ``AutocompleteError``, no answer ``NoReply``.
        """
        handle = self.dispatch_autocomplete(member, channel_id, command, focused=focused, **options)
        reply = await handle.wait(timeout)
        if reply.type != AUTOCOMPLETE_RESULT:  # pragma: no cover - the callback route refuses other types
            raise AutocompleteError(f"autocomplete for /{command} answered with callback type {reply.type}")
        return list(reply.data.get("choices") or [])

    # -- message components and modals -----------------------------------------------------

    def dispatch_button(
        self, member: Member, message_id: int, *, label: str | None = None, custom_id: str | None = None
    ) -> InteractionHandle:
        """``member`` presses a button of a message (the one with this label or custom id, else the only
        one): a MESSAGE_COMPONENT interaction with the message attached, as Discord sends it; non-blocking.

        ``InteractionRefused`` where Discord's client would send nothing: a deleted or unknown message,
        a member who is not in its server or cannot see its channel, no such button, a disabled one,
        or a link or premium button (those never reach the bot).
        """
        st = self.state
        msg = st.get_message(message_id)
        if msg is None or msg.deleted:
            raise InteractionRefused(f"message {message_id} does not exist (or was deleted)")
        ctx = interaction_context(st, member, msg.channel_id)
        if not st.permissions_for(member.id, msg.channel_id) & VIEW_CHANNEL:
            raise InteractionRefused(f"{member.username} cannot see channel {msg.channel_id}, where the message is")
        found = [
            b
            for b in buttons(msg.components)
            if (label is None or b.get("label") == label) and (custom_id is None or b.get("custom_id") == custom_id)
        ]
        if len(found) != 1:
            shown = [(b.get("label"), b.get("custom_id")) for b in buttons(msg.components)]
            raise InteractionRefused(f"no single button {label or custom_id or ''!r} on message {message_id}: {shown}")
        button = found[0]
        if button.get("disabled"):
            raise InteractionRefused(f"button {button.get('label')!r} is disabled")
        if button.get("style") in (LINK_STYLE, PREMIUM_STYLE):
            raise InteractionRefused(
                f"button {button.get('label')!r} is a link or premium button: it sends no interaction"
            )
        data = {"component_type": BUTTON, "custom_id": button["custom_id"], "id": button.get("id")}
        return self._dispatch_other(
            ctx, MESSAGE_COMPONENT, f"button {button['custom_id']}", data, source=msg, channel_id=msg.channel_id
        )

    def forge_button(self, member: Member, message_id: int, custom_id: str) -> InteractionHandle:
        """A MESSAGE_COMPONENT interaction a hostile client builds itself: ``member`` "presses" a button
        with this custom id on a message, even where Discord's own client would send nothing (a channel
        the member cannot see); only membership of the message's server is required, as Discord's
        gateway requires it. Non-blocking; the bot must refuse what is not the member's to do."""
        msg = self.state.get_message(message_id)
        if msg is None:
            raise InteractionRefused(f"message {message_id} does not exist")
        ctx = interaction_context(self.state, member, msg.channel_id)
        data = {"component_type": BUTTON, "custom_id": custom_id}
        return self._dispatch_other(
            ctx, MESSAGE_COMPONENT, f"button {custom_id}", data, source=msg, channel_id=msg.channel_id
        )

    async def press_button(
        self,
        member: Member,
        message_id: int,
        *,
        label: str | None = None,
        custom_id: str | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """Press a button (see ``dispatch_button``) and wait for the bot's answer: a modal is a Reply of
        type 9 whose ``data`` is the modal (``modal_fields`` lists its fields; ``submit_modal`` sends it)."""
        return await self.dispatch_button(member, message_id, label=label, custom_id=custom_id).wait(timeout)

    def dispatch_modal_submit(self, member: Member, modal: Reply, values: dict[str, str]) -> InteractionHandle:
        """``member`` fills in and sends the modal the bot answered with (``modal``, a Reply of type 9):
        a MODAL_SUBMIT interaction in the same channel, with the message attached when a button opened
        it; non-blocking. Each field's value by its custom id (an absent one is left empty).

        ``InteractionRefused`` where Discord's client would send nothing: no modal, one already sent,
        someone else's, a required field empty or a value outside its field's lengths.
        """
        rec = self._interactions.get(modal.interaction_id)
        if rec is None or modal.type != MODAL or rec.modal is None:
            raise InteractionRefused("no open modal to submit (the bot answered without one, or it was sent already)")
        if member.id != rec.member.id:
            raise InteractionRefused(f"the modal was opened by {rec.member.username}, not {member.username}")
        problem = check_submission(rec.modal, values)
        if problem is not None:
            raise InteractionRefused(f"Discord's client would not send this modal: {problem}")
        form, rec.modal = rec.modal, None
        ctx = interaction_context(self.state, member, rec.channel_id)
        source = self.state.get_message(rec.source_message_id) if rec.source_message_id else None
        data = submission_data(form, values)
        return self._dispatch_other(
            ctx, MODAL_SUBMIT, f"modal {form['custom_id']}", data, source=source, channel_id=rec.channel_id
        )

    async def submit_modal(
        self, member: Member, modal: Reply, values: dict[str, str], *, timeout: float = 10.0
    ) -> Reply:
        """Send the modal (see ``dispatch_modal_submit``) and wait for the bot's answer."""
        return await self.dispatch_modal_submit(member, modal, values).wait(timeout)

    @staticmethod
    def modal_fields(modal: Reply) -> list[dict[str, Any]]:
        """The text inputs of a modal the bot answered with, each with the label shown beside it."""
        return text_inputs(modal.data)

    def _dispatch_other(
        self,
        ctx: Any,
        kind: int,
        name: str,
        data: dict[str, Any],
        *,
        source: Message | None,
        channel_id: int,
    ) -> InteractionHandle:
        """Dispatch a component or modal interaction built by dispatch_button or dispatch_modal_submit."""
        st = self.state
        if self.gateway.session_for(ctx.guild.id) is None:
            raise NoReply("bot is not connected to the emulator gateway (no session for this guild's shard)")
        rec = InteractionRecord(
            id=st.ids.next(),
            token=new_interaction_token(),
            name=name,
            channel_id=channel_id,
            member=ctx.member,
            created_at=self.clock.now(),
            kind=kind,
            guild_id=ctx.guild.id,
            source_message_id=source.id if source is not None else None,
        )
        message = st.message_payload(source) if source is not None else None
        payload = build_interaction_payload(
            ctx, interaction_id=rec.id, token=rec.token, channel_id=channel_id, data=data, kind=kind, message=message
        )
        rec.payload = payload
        self._interactions[rec.id] = rec
        self._interactions_by_token[rec.token] = rec
        rec.dispatched_at = time.perf_counter()
        self.gateway.dispatch("INTERACTION_CREATE", payload)
        return InteractionHandle(rec)

    def interaction_messages(self, interaction_id: int) -> list[Message]:
        """Original response and followups of an interaction."""
        rec = self._interactions.get(interaction_id)
        if rec is None:
            return []
        ids = ([rec.original_message_id] if rec.original_message_id else []) + rec.followup_ids
        return [m for m in (self.state.get_message(i) for i in ids) if m is not None]

    def forget_interactions(self) -> None:
        """Drop bookkeeping of finished interactions (long benchmarks)."""
        for iid in [i for i, r in self._interactions.items() if r.future.done()]:
            rec = self._interactions.pop(iid)
            self._interactions_by_token.pop(rec.token, None)

    # -- messages ---------------------------------------------------------------------------

    def messages(
        self, channel_id: int, *, include_deleted: bool = True, include_ephemeral: bool = False
    ) -> list[Message]:
        """Messages of a channel, oldest first (ephemeral replies excluded unless asked)."""
        return [
            m
            for m in self.state.channel_messages(channel_id)
            if (include_deleted or not m.deleted) and (include_ephemeral or not m.ephemeral)
        ]

    def refuse_dms(self, member: Member, refuse: bool = True) -> None:
        """A member whose privacy settings refuse the bot's direct messages (Discord's 50007), or no longer."""
        if refuse:
            self.state.refusing_dms.add(member.id)
        else:
            self.state.refusing_dms.discard(member.id)

    def direct_messages(self, member: Member) -> list[Message]:
        """The bot's direct messages to a member, oldest first."""
        channel_id = self.state.dm_channels.get(member.id)
        return [] if channel_id is None else self.state.channel_messages(channel_id)

    def get_message(self, message_id: int) -> Message | None:
        """A message by id (any channel)."""
        return self.state.get_message(message_id)

    async def post_message(self, member: Member, channel_id: int, content: str) -> Message:
        """A user posts a message (dispatches MESSAGE_CREATE if the bot has the intent)."""
        guild = self.state.guild_of_channel(channel_id)
        if guild is not None and member.id not in guild.members:
            raise ValueError(
                f"{member.username} is not a member of guild {guild.name!r}, where channel {channel_id} is"
            )
        msg = self.state.create_message(channel_id, member.id, {"content": content}, [])
        self._announce_create(msg)
        return msg

    async def delete_message(self, channel_id: int, message_id: int, *, by: Member | None = None) -> None:
        """Delete a message as a user/moderator would (dispatches MESSAGE_DELETE)."""
        msg = self.state.get_message(message_id)
        if msg is None or msg.channel_id != channel_id or msg.deleted:
            raise KeyError(f"no live message {message_id} in channel {channel_id}")
        guild = self.state.guilds.get(msg.guild_id or 0, self.state.guild)
        self._mark_deleted(msg, by=by.id if by else guild.owner_id)

    def _mark_deleted(self, msg: Message, *, by: int) -> None:
        msg.deleted = True
        msg.deleted_at = self.clock.now()
        msg.deleted_by = by
        if not msg.ephemeral:
            self.gateway.dispatch(
                "MESSAGE_DELETE", {"id": str(msg.id), "channel_id": str(msg.channel_id), "guild_id": str(msg.guild_id)}
            )

    def _announce_create(self, msg: Message) -> None:
        if msg.ephemeral:
            return
        if not self.gateway.wanted("MESSAGE_CREATE"):
            return
        payload = self.state.message_payload(msg)
        guild = self.state.guilds.get(msg.guild_id or 0)
        if guild is None:
            self.gateway.dispatch("MESSAGE_CREATE", payload)
            return
        payload["guild_id"] = str(guild.id)
        author = guild.members.get(msg.author_id)
        if author is not None and msg.webhook_id is None:
            payload["member"] = author.member_payload(with_user=False)
        self.gateway.dispatch("MESSAGE_CREATE", payload)

    def _announce_update(self, msg: Message) -> None:
        if msg.ephemeral or not self.gateway.wanted("MESSAGE_UPDATE"):
            return
        payload = self.state.message_payload(msg)
        if msg.guild_id is not None:
            payload["guild_id"] = str(msg.guild_id)
        self.gateway.dispatch("MESSAGE_UPDATE", payload)

    # -- gateway controls -------------------------------------------------------------------

    async def drop_gateway(self, code: int = 4000, *, shard: int | None = None) -> None:
        """Close the bot's websocket (the current session's, or ``shard``'s); the client reconnects and
        RESUMEs (missed events are replayed)."""
        await self.gateway.drop(code, shard=shard)

    async def gateway_outage(self, down: bool = True) -> None:
        """Take the gateway down (the bot's websocket closed, reconnects refused with 503) or bring it back."""
        self.gateway.refusing = down
        if down:
            await self.gateway.drop(4000)

    async def wait_for_resume(self, timeout: float = 15.0, *, after: int = 0) -> None:
        """Wait until the gateway saw more than ``after`` resumes and is connected again."""
        deadline = time.monotonic() + timeout
        while not (self.gateway.resume_count > after and self.gateway.connected):
            if time.monotonic() >= deadline:
                raise NoReply(f"bot did not resume within {timeout:.1f}s")
            await asyncio.sleep(0.02)

    def request_heartbeat(self) -> None:
        """Send op 1 so the client heartbeats immediately."""
        self.gateway.request_heartbeat()

    def invalidate_sessions(self) -> None:
        """Make every session non-resumable (next RESUME gets op 9)."""
        self.gateway.invalidate()

    # -- introspection ----------------------------------------------------------------------

    @property
    def request_log(self) -> list[tuple[float, str, str, int]]:
        """Recent REST requests as (unix time, method, path after /api/v10, status)."""
        return list(self.rest.request_log)

    @property
    def downloads(self) -> list[tuple[int, str]]:
        """(attachment id, filename) of every download of a file members attached to a command option."""
        return list(self.rest.downloads)

    def upload(self, attachment_id: int) -> Attachment | None:
        """A file a member attached to a command option, by id (None if there is none)."""
        return self.state.uploads.get(attachment_id)

    def requests(self, method: str | None = None, path_contains: str = "") -> list[tuple[float, str, str, int]]:
        """Filtered request log."""
        return [r for r in self.rest.request_log if (method is None or r[1] == method) and path_contains in r[2]]

    def requests_by(
        self, alias: str | None = None, method: str | None = None, path_contains: str = ""
    ) -> list[tuple[float, str, str, int, str]]:
        """Requests made with a token alias (``alias``, or any), filtered: (unix time, method, path,
        status, alias)."""
        return [
            r
            for r in self.rest.alias_log
            if (alias is None or r[4] == alias) and (method is None or r[1] == method) and path_contains in r[2]
        ]
