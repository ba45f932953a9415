"""``EmulatorThread``: an Emulator on its own event loop in a background thread, with sync wrappers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from .faults import Fault
from .guilds import GuildHandle
from .models import DEFAULT_EVERYONE_PERMISSIONS, Member, Message, Reply
from .server import Emulator

log = logging.getLogger(__name__)

T = TypeVar("T")


class _SyncFaults:
    """Thread-safe view of ``Emulator.faults`` (the registry itself is lock-protected)."""

    def __init__(self, emu: Emulator) -> None:
        self._emu = emu

    def add(self, path_regex: str = ".*", method: str | None = None, status: int | None = 500, **kw: Any) -> Fault:
        """See ``Faults.add``."""
        return self._emu.faults.add(path_regex, method, status, **kw)

    def remove(self, rule: Fault) -> None:
        """Remove one rule."""
        self._emu.faults.remove(rule)

    def clear(self) -> None:
        """Remove all rules."""
        self._emu.faults.clear()

    @property
    def rules(self) -> list[Fault]:
        """Current rules."""
        return self._emu.faults.rules


class EmulatorThread:
    """Context manager running an Emulator in a daemon thread; for bots running in a subprocess."""

    def __init__(self, token: str | None = None, **kwargs: Any) -> None:
        self._token = token
        self._kwargs = kwargs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._emu: Emulator | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> EmulatorThread:
        """Start the loop thread and the server; returns self."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def _run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                self._emu = loop.run_until_complete(self._start_emulator())
            except BaseException as exc:  # pragma: no cover - surfaced to the caller
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=_run, name="discord-emulator", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        return self

    async def _start_emulator(self) -> Emulator:
        emu = Emulator(self._token, **self._kwargs)
        await emu.start()
        return emu

    def stop(self) -> None:
        """Stop the server and the thread."""
        if self._loop is None or self._emu is None:
            return
        try:
            self._call(self._emu.stop(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(10)
            self._emu = None

    def __enter__(self) -> EmulatorThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def emu(self) -> Emulator:
        """The underlying Emulator (only touch it through ``call``/``run`` from other threads)."""
        if self._emu is None:
            raise RuntimeError("EmulatorThread is not running")
        return self._emu

    def _call(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def run(self, fn: Callable[[Emulator], T], timeout: float | None = 30.0) -> T:
        """Run ``fn(emu)`` on the emulator loop and return its result."""

        async def _wrapper() -> T:
            return fn(self.emu)

        return self._call(_wrapper(), timeout)

    # -- sync scenario API ------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """REST base for ``DISCORD_API_BASE``."""
        return self.emu.api_base

    def bot_env(self) -> dict[str, str]:
        """See ``Emulator.bot_env``."""
        return self.emu.bot_env()

    @property
    def token(self) -> str:
        """Bot token for ``DISCORD_BOT_TOKEN``."""
        return self.emu.token

    @property
    def guild_id(self) -> int:
        """Default guild id."""
        return self.emu.guild_id

    @property
    def admin_channel_id(self) -> int:
        """Instructor channel id."""
        return self.emu.admin_channel_id

    @property
    def attendance_channel_id(self) -> int:
        """Attendance channel id."""
        return self.emu.attendance_channel_id

    @property
    def general_channel_id(self) -> int:
        """#general's id."""
        return self.emu.general_channel_id

    @property
    def student_role_id(self) -> int:
        """Student role id."""
        return self.emu.student_role_id

    @property
    def voice_channel_id(self) -> int:
        """Voice channel id."""
        return self.emu.voice_channel_id

    @property
    def admin_role_id(self) -> int:
        """Admin role id."""
        return self.emu.admin_role_id

    @property
    def instructor(self) -> Member:
        """The instructor member."""
        return self.emu.instructor

    @property
    def students(self) -> list[Member]:
        """Default students."""
        return self.emu.students

    @property
    def faults(self) -> _SyncFaults:
        """Fault registry (thread-safe)."""
        return _SyncFaults(self.emu)

    @property
    def unknown_routes(self) -> list[Any]:
        """Unknown (method, path) requests seen."""
        return self.run(lambda e: list(e.unknown_routes))

    def add_member(self, username: str | None = None, **kw: Any) -> Member:
        """See ``Emulator.add_member``."""
        return self.run(lambda e: e.add_member(username, **kw))

    # -- guilds and permissions ---------------------------------------------------------------

    def _handle(self, fn: Callable[[Emulator], GuildHandle]) -> GuildHandle:
        return self.run(fn).running_with(self.run)

    @property
    def guilds(self) -> list[GuildHandle]:
        """See ``Emulator.guilds``."""
        ids = self.run(lambda e: [g.id for g in e.guilds])
        return [self.guild(gid) for gid in ids]

    @property
    def default_guild(self) -> GuildHandle:
        """See ``Emulator.default_guild``."""
        return self._handle(lambda e: e.default_guild)

    def guild(self, guild_id: int) -> GuildHandle:
        """See ``Emulator.guild``."""
        return self._handle(lambda e: e.guild(guild_id))

    def add_guild(self, name: str | None = None, *, shard: tuple[int, int] | None = None) -> GuildHandle:
        """See ``Emulator.add_guild``."""
        return self._handle(lambda e: e.add_guild(name, shard=shard))

    # -- shards and token aliases --------------------------------------------------------------

    @property
    def shards(self) -> int | None:
        """See ``Emulator.shards``."""
        return self.run(lambda e: e.shards)

    @shards.setter
    def shards(self, count: int | None) -> None:
        self.run(lambda e: setattr(e, "shards", count))

    def shard_of(self, guild_id: int, shard_count: int | None = None) -> int:
        """See ``Emulator.shard_of``."""
        return self.run(lambda e: e.shard_of(guild_id, shard_count))

    def connected_shards(self) -> list[int]:
        """See ``Emulator.connected_shards``."""
        return self.run(lambda e: e.connected_shards)

    def token_alias(self, name: str) -> str:
        """See ``Emulator.token_alias``."""
        return self.run(lambda e: e.token_alias(name))

    def requests_by(
        self, alias: str | None = None, method: str | None = None, path_contains: str = ""
    ) -> list[tuple[float, str, str, int, str]]:
        """See ``Emulator.requests_by``."""
        return self.run(lambda e: e.requests_by(alias, method, path_contains))

    def add_text_channel(self, name: str, *, guild_id: int | None = None) -> int:
        """See ``Emulator.add_text_channel``."""
        return self.run(lambda e: e.add_text_channel(name, guild_id=guild_id))

    def add_voice_channel(self, name: str, *, stage: bool = False, guild_id: int | None = None) -> int:
        """See ``Emulator.add_voice_channel``."""
        return self.run(lambda e: e.add_voice_channel(name, stage=stage, guild_id=guild_id))

    def join_voice(self, member: Member, channel_id: int) -> None:
        """See ``Emulator.join_voice``."""
        self.run(lambda e: e.join_voice(member, channel_id))

    def leave_voice(self, member: Member) -> None:
        """See ``Emulator.leave_voice``."""
        self.run(lambda e: e.leave_voice(member))

    def voice_channel_of(self, member: Member) -> int | None:
        """See ``Emulator.voice_channel_of``."""
        return self.run(lambda e: e.voice_channel_of(member))

    def add_role(
        self, name: str, permissions: int = DEFAULT_EVERYONE_PERMISSIONS, *, guild_id: int | None = None
    ) -> int:
        """See ``Emulator.add_role``."""
        return self.run(lambda e: e.add_role(name, permissions, guild_id=guild_id))

    def set_channel_overwrite(
        self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0, kind: str | None = None
    ) -> None:
        """See ``Emulator.set_channel_overwrite``."""
        self.run(lambda e: e.set_channel_overwrite(channel_id, target_id, allow=allow, deny=deny, kind=kind))

    def remove_channel_overwrite(self, channel_id: int, target_id: int) -> None:
        """See ``Emulator.remove_channel_overwrite``."""
        self.run(lambda e: e.remove_channel_overwrite(channel_id, target_id))

    def permissions_for(self, member: Member | int, channel_id: int) -> int:
        """See ``Emulator.permissions_for``."""
        return self.run(lambda e: e.permissions_for(member, channel_id))

    def registered_commands(self, guild_id: int | None = None) -> list[Any]:
        """See ``Emulator.registered_commands``."""
        return self.run(lambda e: e.registered_commands(guild_id))

    def wait_for_bot(
        self, timeout: float = 30.0, *, commands: Iterable[str] = (), settle: float = 0.3, fresh: bool = False
    ) -> None:
        """See ``Emulator.wait_for_bot``."""
        self._call(self.emu.wait_for_bot(timeout, commands=tuple(commands), settle=settle, fresh=fresh), timeout + 5)

    def invoke(self, member: Member, channel_id: int, command: str, timeout: float = 10.0, **options: Any) -> Reply:
        """See ``Emulator.invoke`` (raises ``NoReply``); an attachment option takes an ``Upload``."""
        return self._call(self.emu.invoke(member, channel_id, command, timeout, **options), timeout + 5)

    def dispatch(
        self, member: Member, channel_id: int, command: str, timeout: float = 30.0, **options: Any
    ) -> concurrent.futures.Future[Reply]:
        """Non-blocking ``invoke``: returns a concurrent Future resolving to the Reply (or NoReply)."""
        assert self._loop is not None
        coro = self.emu.invoke(member, channel_id, command, timeout, **options)
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def autocomplete(
        self, member: Member, channel_id: int, command: str, *, focused: str, timeout: float = 10.0, **options: Any
    ) -> list[dict[str, Any]]:
        """See ``Emulator.autocomplete`` (raises ``AutocompleteError``, ``NoReply``)."""
        coro = self.emu.autocomplete(member, channel_id, command, focused=focused, timeout=timeout, **options)
        return self._call(coro, timeout + 5)

    def press_button(
        self,
        member: Member,
        message_id: int,
        *,
        label: str | None = None,
        custom_id: str | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        """See ``Emulator.press_button`` (raises ``InteractionRefused``, ``NoReply``)."""
        coro = self.emu.press_button(member, message_id, label=label, custom_id=custom_id, timeout=timeout)
        return self._call(coro, timeout + 5)

    def dispatch_button(
        self, member: Member, message_id: int, *, label: str | None = None, timeout: float = 30.0
    ) -> concurrent.futures.Future[Reply]:
        """Non-blocking ``press_button``: a concurrent Future resolving to the Reply (or NoReply)."""
        assert self._loop is not None
        coro = self.emu.press_button(member, message_id, label=label, timeout=timeout)
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def submit_modal(self, member: Member, modal: Reply, values: dict[str, str], *, timeout: float = 10.0) -> Reply:
        """See ``Emulator.submit_modal`` (raises ``InteractionRefused``, ``NoReply``)."""
        return self._call(self.emu.submit_modal(member, modal, values, timeout=timeout), timeout + 5)

    def dispatch_modal_submit(
        self, member: Member, modal: Reply, values: dict[str, str], *, timeout: float = 30.0
    ) -> concurrent.futures.Future[Reply]:
        """Non-blocking ``submit_modal``: a concurrent Future resolving to the Reply (or NoReply)."""
        assert self._loop is not None
        coro = self.emu.submit_modal(member, modal, values, timeout=timeout)
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def messages(self, channel_id: int, **kw: Any) -> list[Message]:
        """See ``Emulator.messages``."""
        return self.run(lambda e: e.messages(channel_id, **kw))

    def forge_button(self, member: Member, message_id: int, custom_id: str, *, timeout: float = 10.0) -> Reply:
        """See ``Emulator.forge_button``; waits for the bot's answer."""

        async def _forge(e: Emulator) -> Reply:
            return await e.forge_button(member, message_id, custom_id).wait(timeout)

        return self._call(_forge(self.emu), timeout + 5)

    def refuse_dms(self, member: Member, refuse: bool = True) -> None:
        """See ``Emulator.refuse_dms``."""
        self.run(lambda e: e.refuse_dms(member, refuse))

    def direct_messages(self, member: Member) -> list[Message]:
        """See ``Emulator.direct_messages``."""
        return self.run(lambda e: e.direct_messages(member))

    def delete_message(self, channel_id: int, message_id: int) -> None:
        """See ``Emulator.delete_message``."""
        self._call(self.emu.delete_message(channel_id, message_id), 10)

    def post_message(self, member: Member, channel_id: int, content: str) -> Message:
        """See ``Emulator.post_message``."""
        return self._call(self.emu.post_message(member, channel_id, content), 10)

    def drop_gateway(self, code: int = 4000, *, shard: int | None = None) -> None:
        """See ``Emulator.drop_gateway``."""
        self._call(self.emu.drop_gateway(code, shard=shard), 10)

    def gateway_outage(self, down: bool = True) -> None:
        """See ``Emulator.gateway_outage``."""
        self._call(self.emu.gateway_outage(down), 10)

    def advance_clock(self, seconds: float) -> None:
        """See ``Emulator.advance_clock``."""
        self.run(lambda e: e.advance_clock(seconds))

    def request_log(self) -> list[Any]:
        """See ``Emulator.request_log``."""
        return self.run(lambda e: e.request_log)

    def downloads(self) -> list[tuple[int, str]]:
        """See ``Emulator.downloads``."""
        return self.run(lambda e: e.downloads)
