"""REST API v10 routes: auth, rate-limit headers, faults, commands, interactions, webhooks, channels, guilds."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .commands import check_command, check_command_list, too_many
from .components import check_message_components, check_modal
from .faults import Fault
from .interactions import (
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    MESSAGE_COMPONENT,
    MODAL,
    AutocompleteError,
    InteractionRecord,
    ModalRefused,
    check_autocomplete_result,
)
from .models import (
    ATTACH_FILES,
    CREATE_EVENTS,
    EMBED_LINKS,
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    MANAGE_EVENTS,
    MANAGE_MESSAGES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Guild,
    Message,
)
from .ratelimits import RateLimiter, is_exempt

if TYPE_CHECKING:
    from .server import Emulator

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
_JSON = {"Content-Type": "application/json"}
_FILE_INDEX = re.compile(r"\[(\d+)\]")
_EDIT_WINDOW = timedelta(hours=1)
_TOKEN_LIFETIME = timedelta(minutes=15)
_PAD_CHUNK = 1024 * 1024  # the NUL padding of a declared size is streamed in pieces this big

Files = list[tuple[int, str, bytes, str | None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON response with the exact ``Content-Type: application/json`` nextcord compares against."""
    hdrs = dict(_JSON)
    if headers:
        hdrs.update(headers)
    return web.Response(body=json.dumps(data).encode(), status=status, headers=hdrs)


def error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> web.Response:
    """Discord JSON error body."""
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return json_response(body, status)


def _refuse_commands(errors: dict[str, Any]) -> web.Response | None:
    """400 Invalid Form Body naming every bad field, or None when Discord would accept the commands."""
    if not errors:
        return None
    log.warning("emulator: command registration refused: %s", json.dumps(errors))
    return error(400, 50035, "Invalid Form Body", errors)


def _unknown_message() -> web.Response:
    return error(404, 10008, "Unknown Message")


def _no_content() -> web.Response:
    return web.Response(status=204)


def _missing_access() -> web.Response:
    return error(403, 50001, "Missing Access")


def _missing_permissions() -> web.Response:
    return error(403, 50013, "Missing Permissions")


async def read_body(request: web.Request) -> tuple[dict[str, Any], Files]:
    """Parse a JSON or multipart (payload_json + files[n]) request body."""
    if request.content_type.startswith("multipart/"):
        body: dict[str, Any] = {}
        files: Files = []
        reader = await request.multipart()
        seq = 0
        while True:
            part = await reader.next()
            if part is None:
                break
            name = getattr(part, "name", None) or ""
            filename = getattr(part, "filename", None)
            if filename:
                match = _FILE_INDEX.search(name)
                index = int(match.group(1)) if match else seq
                seq += 1
                data = await part.read(decode=False)  # type: ignore[union-attr]
                files.append((index, filename, bytes(data), part.headers.get("Content-Type")))
            elif name == "payload_json":
                body = json.loads(await part.text())  # type: ignore[union-attr]
            else:
                await part.read()  # type: ignore[union-attr]
        return body, files
    raw = await request.read()
    if not raw:
        return {}, []
    parsed = json.loads(raw)
    return (parsed if isinstance(parsed, dict) else {"__list__": parsed}), []


def _validate_message(body: dict[str, Any], files: Files, *, creating: bool) -> web.Response | None:
    content = body.get("content")
    if content is not None and len(str(content)) > 2000:
        return error(
            400,
            50035,
            "Invalid Form Body",
            {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}},
        )
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        return error(400, 50035, "Invalid Form Body")
    if creating and not (content or embeds or files or body.get("components") or body.get("sticker_ids")):
        return error(400, 50006, "Cannot send an empty message")
    refused = check_message_components(body.get("components"))
    if refused:
        log.warning("emulator: message components refused: %s", json.dumps(refused))
        return error(400, 50035, "Invalid Form Body", refused)
    return None


class RestApi:
    """Builds the aiohttp application serving ``/api/v10`` for one Emulator."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.state = emu.state
        self.request_log: deque[tuple[float, str, str, int]] = deque(maxlen=20000)
        # (unix time, method, path, status, alias) of each request made with a token alias
        self.alias_log: deque[tuple[float, str, str, int, str]] = deque(maxlen=20000)
        self.downloads: list[tuple[int, str]] = []  # (attachment id, filename) of each upload served
        self.request_count = 0
        self.limiter = RateLimiter()
        self._auth = f"Bot {emu.token}"

    # -- app / middleware -------------------------------------------------------------------

    def build_app(self) -> web.Application:
        """aiohttp application with all routes."""
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        r = app.router
        p = API_PREFIX
        r.add_get("/gateway", self.emu.gateway.handle)
        r.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._get_attachment)
        r.add_get("/ephemeral-attachments/{channel_id}/{attachment_id}/{filename}", self._get_upload)
        r.add_get(p + "/gateway", self._get_gateway)
        r.add_get(p + "/gateway/bot", self._get_gateway_bot)
        r.add_get(p + "/users/@me", self._get_me)
        r.add_get(p + "/users/{user_id}", self._get_user)
        r.add_post(p + "/users/@me/channels", self._open_dm)
        r.add_get(p + "/applications/@me", self._get_application)
        r.add_get(p + "/oauth2/applications/@me", self._get_application)
        for base in ("/applications/{app_id}/commands", "/applications/{app_id}/guilds/{guild_id}/commands"):
            r.add_get(p + base, self._list_commands)
            r.add_post(p + base, self._create_command)
            r.add_put(p + base, self._bulk_commands)
            r.add_get(p + base + "/permissions", self._command_permissions)
            r.add_get(p + base + "/{command_id}", self._get_command)
            r.add_patch(p + base + "/{command_id}", self._edit_command)
            r.add_delete(p + base + "/{command_id}", self._delete_command)
        r.add_post(p + "/interactions/{interaction_id}/{token}/callback", self._interaction_callback)
        r.add_post(p + "/webhooks/{app_id}/{token}", self._webhook_execute)
        wm = p + "/webhooks/{app_id}/{token}/messages/{message_id}"
        r.add_get(wm, self._webhook_get)
        r.add_patch(wm, self._webhook_edit)
        r.add_delete(wm, self._webhook_delete)
        r.add_get(p + "/channels/{channel_id}", self._get_channel)
        r.add_get(p + "/channels/{channel_id}/messages", self._list_messages)
        r.add_post(p + "/channels/{channel_id}/messages", self._create_message)
        cm = p + "/channels/{channel_id}/messages/{message_id}"
        r.add_get(cm, self._get_message)
        r.add_patch(cm, self._edit_message)
        r.add_delete(cm, self._delete_message)
        r.add_post(p + "/channels/{channel_id}/typing", self._typing)
        r.add_get(p + "/guilds/{guild_id}", self._get_guild)
        r.add_get(p + "/guilds/{guild_id}/members", self._list_members)
        r.add_get(p + "/guilds/{guild_id}/members/{user_id}", self._get_member)
        r.add_get(p + "/guilds/{guild_id}/roles", self._get_roles)
        r.add_get(p + "/guilds/{guild_id}/channels", self._get_channels)
        r.add_get(p + "/guilds/{guild_id}/scheduled-events", self._list_events)
        r.add_post(p + "/guilds/{guild_id}/scheduled-events", self._create_event)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith(API_PREFIX):
            return await handler(request)
        sub = path[len(API_PREFIX) :]
        method = request.method
        self.request_count += 1
        authorization = request.headers.get("Authorization") or ""
        alias = self.emu.token_aliases.get(authorization[4:]) if authorization.startswith("Bot ") else None
        exc = request.match_info.http_exception
        if exc is not None:
            return self._unknown_route(method, sub, exc.status)
        fault = self.emu.faults.pick(method, sub)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status:
                resp = self._fault_response(request, fault, await request.text() if fault.echo_request else "")
                self._log(method, sub, resp.status, alias)
                return resp
        if not (sub.startswith("/interactions/") or sub.startswith("/webhooks/") or sub == "/gateway"):
            if authorization != self._auth and alias is None:
                self._log(method, sub, 401)
                return error(401, 0, "401: Unauthorized")
        headers: dict[str, str] = {}
        if self.limiter.enabled and not is_exempt(sub):
            verdict = self.limiter.check(*self._route(request))
            if not verdict.allowed:
                scope = "global" if verdict.is_global else "user"
                resp = self._too_many(verdict.retry_after, verdict.headers, scope=scope, is_global=verdict.is_global)
                self._log(method, sub, 429, alias)
                return resp
            headers = verdict.headers
        resp = await handler(request)
        if headers:
            resp.headers.update(headers)
        self._log(method, sub, resp.status, alias)
        return resp

    def _log(self, method: str, sub: str, status: int, alias: str | None = None) -> None:
        now = time.time()
        self.request_log.append((now, method, sub, status))
        if alias is not None:
            self.alias_log.append((now, method, sub, status, alias))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s -> %s", method, sub, status)

    def _unknown_route(self, method: str, sub: str, status: int) -> web.Response:
        self.emu.unknown_routes.append((method, sub))
        log.warning("emulator: unknown route %s %s (%s)", method, sub, status)
        self._log(method, sub, 404 if status != 405 else 405)
        if status == 405:
            return error(405, 0, "405: Method Not Allowed")
        return error(404, 0, "404: Not Found")

    def _route(self, request: web.Request) -> tuple[str, str]:
        """(route key such as ``POST /channels/{channel_id}/messages``, top-level resource id)."""
        info = request.match_info
        resource = info.route.resource
        canonical = resource.canonical if resource is not None else request.path
        if canonical.startswith(API_PREFIX):
            canonical = canonical[len(API_PREFIX) :]
        major = info.get("channel_id") or info.get("guild_id") or info.get("token") or ""
        return f"{request.method} {canonical}", major

    def _too_many(
        self, retry_after: float, headers: dict[str, str], *, scope: str, is_global: bool = False
    ) -> web.Response:
        hdrs = dict(headers)
        hdrs.update(
            {
                "Retry-After": str(max(1, math.ceil(retry_after))),
                "X-RateLimit-Scope": scope,
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "Via": "1.1 google",
            }
        )
        if is_global:
            hdrs["X-RateLimit-Global"] = "true"
            for k in ("X-RateLimit-Bucket", "X-RateLimit-Limit", "X-RateLimit-Reset"):
                hdrs.pop(k, None)
        body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
        return json_response(body, 429, hdrs)

    def _fault_response(self, request: web.Request, fault: Fault, body: str = "") -> web.Response:
        status = int(fault.status or 500)
        if status == 429:
            headers = self.limiter.fault_headers(self._route(request)[0], fault.retry_after)
            scope = "global" if fault.global_limit else "user"
            return self._too_many(fault.retry_after, headers, scope=scope, is_global=fault.global_limit)
        messages = {500: "500: Internal Server Error", 502: "502: Bad Gateway", 503: "503: Service Unavailable"}
        if status >= 500:
            return error(status, 0, messages.get(status, f"{status}: Server Error"))
        if status == 403:
            return error(403, 50013, "Missing Permissions")
        if status == 404:
            return error(404, 0, "404: Not Found")
        if fault.echo_request:
            quoted = request.headers.get("Authorization", "")
            return error(status, 0, f"{status}: Injected fault (request sent Authorization: {quoted}; body: {body})")
        return error(status, 0, f"{status}: Injected fault")

    # -- misc -------------------------------------------------------------------------------

    async def _get_attachment(self, request: web.Request) -> web.StreamResponse:
        att = self.state.find_attachment(
            int(request.match_info["channel_id"]), int(request.match_info["attachment_id"])
        )
        if att is None:
            return web.Response(status=404)
        return web.Response(body=att.data, content_type=att.content_type or "application/octet-stream")

    async def _get_upload(self, request: web.Request) -> web.StreamResponse:
        """A file a member attached to a command option, as Discord's CDN serves it (no token needed).

        Fault rules apply (matched against this path, which is not under ``/api/v10``); every GET
        that reaches the file is noted in ``downloads``. A declared ``size`` beyond the data is
        streamed as NUL padding, so a large file is never held in memory.
        """
        info = request.match_info
        if not (info["channel_id"].isdigit() and info["attachment_id"].isdigit()):
            return web.Response(status=404)
        fault = self.emu.faults.pick(request.method, request.path)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status:
                return web.Response(status=int(fault.status), text=f"{fault.status}: Injected fault")
        att = self.state.find_upload(int(info["channel_id"]), int(info["attachment_id"]))
        if att is None:
            return web.Response(status=404)
        if request.method == "GET":
            self.downloads.append((att.id, att.filename))
        headers = {"Content-Type": att.content_type or "application/octet-stream"}
        if att.served_size == len(att.data):
            return web.Response(body=att.data, headers=headers)
        headers["Content-Length"] = str(att.served_size)
        resp = web.StreamResponse(headers=headers)
        await resp.prepare(request)
        if request.method == "GET":
            await resp.write(att.data)
            left, chunk = att.served_size - len(att.data), bytes(_PAD_CHUNK)
            while left > 0:
                await resp.write(chunk[:left] if left < len(chunk) else chunk)
                left -= len(chunk)
        await resp.write_eof()
        return resp

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.emu.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "url": self.emu.gateway_url,
                "shards": self.emu.gateway.shards or 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_me(self, request: web.Request) -> web.Response:
        data = self.state.bot.user_payload()
        data.update(verified=True, mfa_enabled=False, email=None, locale="en-US", premium_type=0)
        return json_response(data)

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self.state.users.get(_int(request.match_info["user_id"]))
        if user is None:
            return error(404, 10013, "Unknown User")
        return json_response(user.user_payload())

    async def _get_application(self, request: web.Request) -> web.Response:
        st = self.state
        owner = st.owner.user_payload()
        return json_response(
            {
                "id": str(st.app_id),
                "name": st.bot.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": owner,
                "team": None,
                "flags": 0,
                "rpc_origins": [],
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(st.guilds),
                "integration_types_config": {"0": {}},
                "bot": st.bot.user_payload(),
            }
        )

    # -- commands ---------------------------------------------------------------------------

    def _scope(self, request: web.Request) -> tuple[int | None, web.Response | None]:
        info = request.match_info
        if _int(info["app_id"]) != self.state.app_id:
            return None, error(403, 50001, "Missing Access")
        gid = info.get("guild_id")
        if gid is None:
            return None, None
        if _int(gid) not in self.state.guilds:
            return None, error(403, 50001, "Missing Access")
        return int(gid), None

    async def _list_commands(self, request: web.Request) -> web.Response:
        scope, err = self._scope(request)
        if err is not None:
            return err
        self.emu._note_command_activity()
        return json_response(self.state.command_list(scope))

    async def _command_permissions(self, request: web.Request) -> web.Response:
        _, err = self._scope(request)
        return err or json_response([])

    async def _create_command(self, request: web.Request) -> web.Response:
        scope, err = self._scope(request)
        if err is not None:
            return err
        body, _ = await read_body(request)
        refused = _refuse_commands(check_command(body))
        if refused is not None:
            return refused
        limit = too_many(self.state.command_list(scope), body)
        if limit is not None:
            return error(400, 30032, f"Maximum number of application commands reached ({limit})")
        cmd, created = self.state.upsert_command(scope, body)
        self.emu._note_command_activity()
        return json_response(cmd, 201 if created else 200)

    async def _bulk_commands(self, request: web.Request) -> web.Response:
        scope, err = self._scope(request)
        if err is not None:
            return err
        body, _ = await read_body(request)
        bodies = body.get("__list__")
        if not isinstance(bodies, list):
            return error(400, 50035, "Invalid Form Body")
        refused = _refuse_commands(check_command_list(bodies))
        if refused is not None:
            return refused
        out = self.state.replace_commands(scope, bodies)
        self.emu._note_command_activity()
        return json_response(out)

    def _find_command(self, request: web.Request) -> tuple[int | None, dict[str, Any] | None, web.Response | None]:
        scope, err = self._scope(request)
        if err is not None:
            return None, None, err
        cmd = self.state.commands.get(scope, {}).get(_int(request.match_info["command_id"]))
        if cmd is None:
            return scope, None, error(404, 10063, "Unknown application command")
        return scope, cmd, None

    async def _get_command(self, request: web.Request) -> web.Response:
        _, cmd, err = self._find_command(request)
        return err or json_response(cmd)

    async def _edit_command(self, request: web.Request) -> web.Response:
        scope, cmd, err = self._find_command(request)
        if err is not None or cmd is None:
            return err or _unknown_message()
        body, _ = await read_body(request)
        merged = {**cmd, **body}
        refused = _refuse_commands(check_command(merged))
        if refused is not None:
            return refused
        cid = int(cmd["id"])
        self.state.commands[scope][cid] = self.state._command_payload(scope, cid, merged)
        self.emu._note_command_activity()
        return json_response(self.state.commands[scope][cid])

    async def _delete_command(self, request: web.Request) -> web.Response:
        scope, cmd, err = self._find_command(request)
        if err is not None or cmd is None:
            return err or _unknown_message()
        del self.state.commands[scope][int(cmd["id"])]
        self.emu._note_command_activity()
        return _no_content()

    # -- interactions & webhooks --------------------------------------------------------------

    async def _interaction_callback(self, request: web.Request) -> web.Response:
        emu = self.emu
        rec = emu._interactions.get(_int(request.match_info["interaction_id"]))
        if rec is None or rec.token != request.match_info["token"]:
            return error(404, 10062, "Unknown interaction")
        if emu.ack_deadline is not None and time.perf_counter() - rec.dispatched_at > emu.ack_deadline:
            return error(404, 10062, "Unknown interaction")
        if rec.responded:
            return error(400, 40060, "Interaction has already been acknowledged.")
        body, files = await read_body(request)
        kind = int(body.get("type") or 0)
        data: dict[str, Any] = body.get("data") or {}
        if kind == 1 or kind not in (4, 5, 6, 7, 8, 9, 10, 12):
            return error(400, 50035, "Invalid Form Body", {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES"}]}})
        if rec.kind == APPLICATION_COMMAND_AUTOCOMPLETE or kind == AUTOCOMPLETE_RESULT:
            return self._autocomplete_callback(rec, kind, data)
        if kind in (6, 7) and rec.kind == APPLICATION_COMMAND:  # "only valid for component-based interactions"
            return error(400, 50035, "Invalid Form Body", {"type": {"_errors": [{"code": "INTERACTION_TYPE_INVALID"}]}})
        if kind == MODAL:
            return self._modal_callback(rec, data)
        if kind in (4, 7):
            bad = _validate_message(data, files, creating=kind == 4)
            if bad is not None:
                return bad
        rec.responded = True
        rec.callback_type = kind
        rec.ack_latency = time.perf_counter() - rec.dispatched_at
        st = self.state
        msg: Message | None = None
        if kind == 4:
            msg = st.create_message(
                rec.channel_id, st.bot.id, data, files, webhook_id=st.app_id, interaction_id=rec.id, msg_type=20
            )
            rec.original_message_id = msg.id
            rec.ephemeral = msg.ephemeral
            emu._announce_create(msg)
            rec.resolve_with_message(msg, callback_type=4)
        elif kind == 5:
            flags = (int(data.get("flags") or 0) & EPHEMERAL_FLAG) | LOADING_FLAG
            msg = st.create_message(
                rec.channel_id, st.bot.id, {}, [], webhook_id=st.app_id, interaction_id=rec.id, flags=flags, msg_type=20
            )
            rec.original_message_id = msg.id
            rec.ephemeral = msg.ephemeral
            rec.deferred = True
            emu._announce_create(msg)
        elif kind == 7 and rec.source_message_id is not None:
            source = st.get_message(rec.source_message_id)
            if source is not None:
                msg = st.edit_message(source, data, files)
                emu._announce_update(msg)
                rec.resolve_with_message(msg, callback_type=7)
            else:
                rec.resolve_with_data(kind, data)
        else:
            rec.deferred = kind == 6
            rec.resolve_with_data(kind, data)
        if request.query.get("with_response") in ("true", "True", "1"):
            resource: dict[str, Any] = {"type": kind}
            if msg is not None:
                resource["message"] = st.message_payload(msg)
            return json_response(
                {
                    "interaction": {
                        "id": str(rec.id),
                        "type": rec.kind,
                        "response_message_id": str(msg.id) if msg else None,
                        "response_message_loading": kind == 5,
                        "response_message_ephemeral": rec.ephemeral,
                    },
                    "resource": resource,
                }
            )
        return _no_content()

    def _modal_callback(self, rec: InteractionRecord, data: dict[str, Any]) -> web.Response:
        """A modal (callback 9): only the first answer to a command or a component interaction, and
        only one Discord's form checks accept (components.check_modal). The test reads it from the
        Reply (type 9, the modal as its data) and submits it with Emulator.submit_modal."""
        if rec.kind not in (APPLICATION_COMMAND, MESSAGE_COMPONENT):
            return error(400, 50035, "Invalid Form Body", {"type": {"_errors": [{"code": "INTERACTION_TYPE_INVALID"}]}})
        errors = check_modal(data)
        if errors:
            log.warning("emulator: modal refused: %s", json.dumps(errors))
            rec.fail(ModalRefused(f"{rec.name}: Discord would refuse this modal: {json.dumps(errors)}"))
            return error(400, 50035, "Invalid Form Body", errors)
        rec.responded = True
        rec.callback_type = MODAL
        rec.ack_latency = time.perf_counter() - rec.dispatched_at
        rec.modal = data
        rec.resolve_with_data(MODAL, data)
        return _no_content()

    def _autocomplete_callback(self, rec: InteractionRecord, kind: int, data: dict[str, Any]) -> web.Response:
        """Only an autocomplete interaction takes callback 8, and it takes nothing else; choices checked."""
        if rec.kind != APPLICATION_COMMAND_AUTOCOMPLETE:
            return error(400, 50035, "Invalid Form Body", {"type": {"_errors": [{"code": "INTERACTION_TYPE_INVALID"}]}})
        if kind != AUTOCOMPLETE_RESULT:
            rec.fail(AutocompleteError(f"/{rec.name}: autocomplete answered with callback type {kind}, not 8"))
            return error(400, 50035, "Invalid Form Body", {"type": {"_errors": [{"code": "INTERACTION_TYPE_INVALID"}]}})
        errors = check_autocomplete_result(rec.focused or {}, data)
        if errors:
            rec.fail(AutocompleteError(f"/{rec.name}: Discord would refuse these choices: {json.dumps(errors)}"))
            return error(400, 50035, "Invalid Form Body", errors)
        rec.responded = True
        rec.callback_type = kind
        rec.ack_latency = time.perf_counter() - rec.dispatched_at
        rec.resolve_with_data(kind, data)
        return _no_content()

    def _webhook_record(self, request: web.Request) -> tuple[InteractionRecord | None, web.Response | None]:
        info = request.match_info
        rec = self.emu._interactions_by_token.get(info["token"])
        if rec is None or _int(info["app_id"]) != self.state.app_id or not rec.responded:
            return None, error(404, 10015, "Unknown Webhook")
        if self.state.clock.now() - rec.created_at > _TOKEN_LIFETIME:
            return None, error(401, 50027, "Invalid Webhook Token")
        return rec, None

    def _webhook_message(self, rec: InteractionRecord, raw_id: str) -> Message | None:
        if raw_id == "@original":
            mid = rec.original_message_id
        else:
            mid = _int(raw_id)
            if mid != rec.original_message_id and mid not in rec.followup_ids:
                return None
        msg = self.state.get_message(mid) if mid is not None else None
        if msg is None or msg.deleted:
            return None
        return msg

    async def _webhook_execute(self, request: web.Request) -> web.Response:
        rec, err = self._webhook_record(request)
        if err is not None or rec is None:
            return err or _unknown_message()
        body, files = await read_body(request)
        bad = _validate_message(body, files, creating=True)
        if bad is not None:
            return bad
        st = self.state
        original = st.get_message(rec.original_message_id) if rec.original_message_id else None
        if rec.callback_type == 5 and not rec.original_edited and original is not None and not original.deleted:
            # the first followup after a deferral replaces the "thinking..." message
            rec.original_edited = True
            msg = st.edit_message(original, body, files)
            msg.flags &= ~LOADING_FLAG
            self.emu._announce_update(msg)
            rec.resolve_with_message(msg, callback_type=5)
            return json_response(st.message_payload(msg))
        flags = int(body.get("flags") or 0)
        msg = st.create_message(
            rec.channel_id, st.bot.id, body, files, webhook_id=st.app_id, interaction_id=rec.id, flags=flags
        )
        rec.followup_ids.append(msg.id)
        self.emu._announce_create(msg)
        rec.resolve_with_message(msg, callback_type=rec.callback_type or 4)
        if request.query.get("wait", "true").lower() == "false":
            return _no_content()
        return json_response(st.message_payload(msg))

    async def _webhook_get(self, request: web.Request) -> web.Response:
        rec, err = self._webhook_record(request)
        if err is not None or rec is None:
            return err or _unknown_message()
        msg = self._webhook_message(rec, request.match_info["message_id"])
        if msg is None:
            return _unknown_message()
        return json_response(self.state.message_payload(msg))

    async def _webhook_edit(self, request: web.Request) -> web.Response:
        rec, err = self._webhook_record(request)
        if err is not None or rec is None:
            return err or _unknown_message()
        msg = self._webhook_message(rec, request.match_info["message_id"])
        if msg is None:
            return _unknown_message()
        too_old = self._too_old(msg)
        if too_old is not None:
            return too_old
        body, files = await read_body(request)
        bad = _validate_message(body, files, creating=False)
        if bad is not None:
            return bad
        msg = self.state.edit_message(msg, body, files)
        msg.flags &= ~LOADING_FLAG
        if msg.id == rec.original_message_id:
            rec.original_edited = True
        self.emu._announce_update(msg)
        rec.resolve_with_message(msg, callback_type=rec.callback_type or 4)
        return json_response(self.state.message_payload(msg))

    async def _webhook_delete(self, request: web.Request) -> web.Response:
        rec, err = self._webhook_record(request)
        if err is not None or rec is None:
            return err or _unknown_message()
        msg = self._webhook_message(rec, request.match_info["message_id"])
        if msg is None:
            return _unknown_message()
        self.emu._mark_deleted(msg, by=self.state.bot.id)
        return _no_content()

    def _too_old(self, msg: Message) -> web.Response | None:
        if self.state.clock.now() - msg.created_at > _EDIT_WINDOW:
            return error(400, 30046, "Maximum number of edits to messages older than 1 hour reached. Try again later.")
        return None

    # -- channels ---------------------------------------------------------------------------

    def _channel(self, request: web.Request, *, need: int = VIEW_CHANNEL) -> tuple[int, web.Response | None]:
        """The channel id of the route, or Discord's error: unknown, not visible to the bot, or short of ``need``."""
        cid = _int(request.match_info["channel_id"])
        if cid not in self.state.channels:
            return cid, error(404, 10003, "Unknown Channel")
        return cid, self._refuse(cid, need)

    def _refuse(self, channel_id: int, need: int) -> web.Response | None:
        """403 50001 when the bot cannot view the channel, 403 50013 when it lacks another bit of ``need``."""
        perms = self.state.permissions_for(self.state.app_id, channel_id)
        if not perms & VIEW_CHANNEL:
            return _missing_access()
        if need & ~perms:
            return _missing_permissions()
        return None

    def _channel_message(
        self, request: web.Request, *, need: int = VIEW_CHANNEL
    ) -> tuple[Message | None, web.Response | None]:
        cid, err = self._channel(request, need=need)
        if err is not None:
            return None, err
        msg = self.state.get_message(_int(request.match_info["message_id"]))
        if msg is None or msg.deleted or msg.channel_id != cid or msg.ephemeral:
            return None, _unknown_message()
        return msg, None

    async def _get_channel(self, request: web.Request) -> web.Response:
        cid, err = self._channel(request)
        return err or json_response(self.state.channels[cid].to_payload())

    async def _typing(self, request: web.Request) -> web.Response:
        _, err = self._channel(request, need=VIEW_CHANNEL | SEND_MESSAGES)
        return err or _no_content()

    async def _list_messages(self, request: web.Request) -> web.Response:
        cid, err = self._channel(request)
        if err is not None:
            return err
        if self._refuse(cid, READ_MESSAGE_HISTORY) is not None:
            return json_response([])  # Discord returns no messages without Read Message History
        q = request.query
        limit = max(1, min(100, int(q.get("limit", 50))))
        msgs = [m for m in self.state.channel_messages(cid) if not m.deleted and not m.ephemeral]
        if "before" in q:
            msgs = [m for m in msgs if m.id < _int(q["before"])]
        if "after" in q:
            msgs = [m for m in msgs if m.id > _int(q["after"])][:limit]
        msgs = sorted(msgs[-limit:] if "after" not in q else msgs, key=lambda m: m.id, reverse=True)
        return json_response([self.state.message_payload(m) for m in msgs])

    async def _open_dm(self, request: web.Request) -> web.Response:
        """POST /users/@me/channels: the bot's DM channel with a user (whatever their settings: Discord
        refuses only the message, with 50007)."""
        body, _ = await read_body(request)
        user_id = _int(str(body.get("recipient_id")))
        if user_id not in self.state.users:
            return error(
                400, 50035, "Invalid Form Body", {"recipient_id": {"_errors": [{"code": "NUMBER_TYPE_COERCE"}]}}
            )
        return json_response(self.state.dm_payload(self.state.open_dm(user_id)))

    async def _create_dm_message(self, channel_id: int, request: web.Request) -> web.Response:
        """A message to a user's DM channel: refused with 50007 when the user does not accept the bot's."""
        if self.state.dm_recipients[channel_id] in self.state.refusing_dms:
            return error(403, 50007, "Cannot send messages to this user")
        body, files = await read_body(request)
        bad = _validate_message(body, files, creating=True)
        if bad is not None:
            return bad
        msg = self.state.create_message(channel_id, self.state.bot.id, body, files)
        return json_response(self.state.message_payload(msg))

    async def _create_message(self, request: web.Request) -> web.Response:
        if _int(request.match_info["channel_id"]) in self.state.dm_recipients:
            return await self._create_dm_message(_int(request.match_info["channel_id"]), request)
        cid, err = self._channel(request, need=VIEW_CHANNEL | SEND_MESSAGES)
        if err is not None:
            return err
        if not self.state.has_channel(cid):
            return error(400, 50008, "Cannot send messages in a non-text channel")
        body, files = await read_body(request)
        bad = _validate_message(body, files, creating=True) or self._refuse(cid, _content_needs(body, files))
        if bad is not None:
            return bad
        flags = int(body.get("flags") or 0) & ~EPHEMERAL_FLAG
        msg = self.state.create_message(cid, self.state.bot.id, body, files, flags=flags)
        self.emu._announce_create(msg)
        return json_response(self.state.message_payload(msg))

    async def _get_message(self, request: web.Request) -> web.Response:
        msg, err = self._channel_message(request, need=VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        if err is not None or msg is None:
            return err or _unknown_message()
        return json_response(self.state.message_payload(msg))

    async def _edit_message(self, request: web.Request) -> web.Response:
        msg, err = self._channel_message(request)
        if err is not None or msg is None:
            return err or _unknown_message()
        if msg.author_id != self.state.bot.id:
            return error(403, 50005, "Cannot edit a message authored by another user")
        too_old = self._too_old(msg)
        if too_old is not None:
            return too_old
        body, files = await read_body(request)
        bad = _validate_message(body, files, creating=False) or self._refuse(
            msg.channel_id, _content_needs(body, files)
        )
        if bad is not None:
            return bad
        msg = self.state.edit_message(msg, body, files)
        self.emu._announce_update(msg)
        return json_response(self.state.message_payload(msg))

    async def _delete_message(self, request: web.Request) -> web.Response:
        msg, err = self._channel_message(request)
        if err is not None or msg is None:
            return err or _unknown_message()
        if msg.author_id != self.state.app_id:
            refused = self._refuse(msg.channel_id, MANAGE_MESSAGES)
            if refused is not None:
                return refused
        self.emu._mark_deleted(msg, by=self.state.bot.id)
        return _no_content()

    # -- guilds -----------------------------------------------------------------------------

    def _guild(self, request: web.Request) -> tuple[Guild | None, web.Response | None]:
        guild = self.state.guilds.get(_int(request.match_info["guild_id"]))
        if guild is None:
            return None, error(404, 10004, "Unknown Guild")
        return guild, None

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild, err = self._guild(request)
        if err is not None or guild is None:
            return err or _unknown_message()
        data = self.state.guild_payload(guild, full=False)
        if request.query.get("with_counts") in ("true", "True", "1"):
            data["approximate_member_count"] = len(guild.members)
            data["approximate_presence_count"] = 0
        return json_response(data)

    async def _list_members(self, request: web.Request) -> web.Response:
        guild, err = self._guild(request)
        if err is not None or guild is None:
            return err or _unknown_message()
        limit = max(1, min(1000, int(request.query.get("limit", 1))))
        after = _int(request.query.get("after", "0"))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return json_response([m.member_payload() for m in members[:limit]])

    async def _get_member(self, request: web.Request) -> web.Response:
        guild, err = self._guild(request)
        if err is not None or guild is None:
            return err or _unknown_message()
        member = guild.members.get(_int(request.match_info["user_id"]))
        if member is None:
            return error(404, 10007, "Unknown Member")
        return json_response(member.member_payload())

    async def _get_roles(self, request: web.Request) -> web.Response:
        guild, err = self._guild(request)
        if err is not None or guild is None:
            return err or _unknown_message()
        return json_response([r.to_payload() for r in guild.roles.values()])

    async def _list_events(self, request: web.Request) -> web.Response:
        guild, err = self._guild(request)
        if err is not None or guild is None:
            return err or _unknown_message()
        return json_response(guild.scheduled_events)

    async def _create_event(self, request: web.Request) -> web.Response:
        """A scheduled event: the bot needs Create Events (or Manage Events) in the server (403 50013
        otherwise); an external event needs a location and an end, a voice or stage one its channel."""
        guild, err = self._guild(request)
        if err is not None or guild is None:
            return err or _unknown_message()
        if not guild.base_permissions(self.state.app_id) & (CREATE_EVENTS | MANAGE_EVENTS):
            return error(403, 50013, "Missing Permissions")
        body, _ = await read_body(request)
        kind = body.get("entity_type")
        location = (body.get("entity_metadata") or {}).get("location")
        problems = []
        if not (isinstance(body.get("name"), str) and 1 <= len(body["name"]) <= 100):
            problems.append("name")
        if not body.get("scheduled_start_time"):
            problems.append("scheduled_start_time")
        if kind == 3 and not (location and body.get("scheduled_end_time")):
            problems.append("entity_metadata.location and scheduled_end_time")
        if kind in (1, 2) and _int(str(body.get("channel_id") or 0)) not in guild.channels:
            problems.append("channel_id")
        if kind not in (1, 2, 3):
            problems.append("entity_type")
        if problems:
            return error(400, 50035, f"Invalid Form Body: {', '.join(problems)}")
        event = {
            "id": str(self.state.ids.next()),
            "guild_id": str(guild.id),
            "creator_id": str(self.state.app_id),
            "status": 1,
            "user_count": 0,
            **{key: body.get(key) for key in ("name", "description", "scheduled_start_time", "scheduled_end_time")},
            "privacy_level": body.get("privacy_level", 2),
            "entity_type": kind,
            "channel_id": str(body["channel_id"]) if body.get("channel_id") else None,
            "entity_id": None,
            "entity_metadata": {"location": location} if location else None,
        }
        guild.scheduled_events.append(event)
        return json_response(event)

    async def _get_channels(self, request: web.Request) -> web.Response:
        guild, err = self._guild(request)
        if err is not None or guild is None:
            return err or _unknown_message()
        return json_response([c.to_payload() for c in guild.channels.values()])


def _content_needs(body: dict[str, Any], files: Files) -> int:
    """Permissions a message body needs beyond sending: Embed Links for embeds, Attach Files for files."""
    need = 0
    if body.get("embeds") or body.get("embed"):
        need |= EMBED_LINKS
    if files:
        need |= ATTACH_FILES
    return need


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
