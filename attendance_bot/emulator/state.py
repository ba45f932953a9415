"""In-memory world of the emulator: guild, roles, channels, members, messages and application commands."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import Clock, SnowflakeGenerator, iso
from .models import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    CHANNEL_CATEGORY,
    CHANNEL_TEXT,
    CHANNEL_VOICE,
    DEFAULT_EVERYONE_PERMISSIONS,
    EPHEMERAL_FLAG,
    MANAGE_CHANNELS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    Attachment,
    Channel,
    Member,
    Message,
    MessageVersion,
    Role,
)

log = logging.getLogger(__name__)

_BOT_ROLE_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | MANAGE_MESSAGES | MANAGE_CHANNELS


@dataclass
class Guild:
    """The emulated guild's scalar attributes."""

    id: int
    name: str
    owner_id: int
    created_at: datetime


class WorldState:
    """All mutable emulator data; owned by one event loop, not thread-safe."""

    def __init__(self, clock: Clock, *, app_name: str, guild_name: str) -> None:
        self.clock = clock
        self.ids = SnowflakeGenerator(clock)
        self.app_id = self.ids.next()
        now = clock.now()
        self.bot = Member(self.app_id, app_name, None, (), now, bot=True)
        self.owner = Member(self.ids.next(), "guild_owner", "Guild Owner", (), now)
        self.guild = Guild(self.ids.next(), guild_name, self.owner.id, now)
        self.roles: dict[int, Role] = {}
        self.channels: dict[int, Channel] = {}
        self.members: dict[int, Member] = {}
        self.users: dict[int, Member] = {self.bot.id: self.bot}
        self._messages: dict[int, dict[int, Message]] = {}
        self._message_index: dict[int, Message] = {}
        # scope (guild id or None for global) -> command id -> stored command payload
        self.commands: dict[int | None, dict[int, dict[str, Any]]] = {}
        self.command_version = self.ids.next()
        self.base_url = ""  # set by the server once the port is known
        self._build_default_guild()

    # -- world construction -------------------------------------------------------------------

    def _build_default_guild(self) -> None:
        gid = self.guild.id
        # @everyone role id == guild id, as on Discord
        self.roles[gid] = Role(gid, "@everyone", DEFAULT_EVERYONE_PERMISSIONS, 0)
        self.admin_role = self._add_role("Instructor", DEFAULT_EVERYONE_PERMISSIONS | MANAGE_GUILD, 2)
        self.bot_role = self._add_role(self.bot.username, _BOT_ROLE_PERMISSIONS, 1, managed=True, bot_id=self.bot.id)
        self.student_role = self._add_role("Student", DEFAULT_EVERYONE_PERMISSIONS, 1)
        category = self._add_channel("Text Channels", CHANNEL_CATEGORY, 0)
        self.admin_channel = self._add_channel("instructors", CHANNEL_TEXT, 0, category.id)
        self.attendance_channel = self._add_channel("attendance", CHANNEL_TEXT, 1, category.id)
        self.general_channel = self._add_channel("general", CHANNEL_TEXT, 2, category.id)
        self.voice_channel = self._add_channel("Lecture Hall", CHANNEL_VOICE, 3, category.id)
        self.bot.role_ids = (self.bot_role.id,)
        self.members[self.bot.id] = self.bot
        self.members[self.owner.id] = self.owner
        self.users[self.owner.id] = self.owner
        self.instructor = self.add_member("instructor", display_name="Dr. Instructor", admin=True)
        self.students = [
            self.add_member(f"student{i}", display_name=f"Student {i}", role_ids=(self.student_role.id,))
            for i in range(1, 4)
        ]

    def _add_role(
        self, name: str, permissions: int, position: int, *, managed: bool = False, bot_id: int | None = None
    ) -> Role:
        role = Role(self.ids.next(), name, permissions, position, managed=managed, bot_id=bot_id)
        self.roles[role.id] = role
        return role

    def _add_channel(self, name: str, kind: int, position: int, parent_id: int | None = None) -> Channel:
        channel = Channel(self.ids.next(), self.guild.id, name, kind, position, parent_id)
        self.channels[channel.id] = channel
        if kind != CHANNEL_CATEGORY:
            self._messages[channel.id] = {}
        return channel

    def add_channel(self, name: str, *, voice: bool = False) -> Channel:
        """Create a new text (or voice) channel in the guild."""
        return self._add_channel(name, CHANNEL_VOICE if voice else CHANNEL_TEXT, len(self.channels))

    def add_role(self, name: str, permissions: int = DEFAULT_EVERYONE_PERMISSIONS) -> Role:
        """Create a new role."""
        return self._add_role(name, permissions, len(self.roles))

    def add_member(
        self,
        username: str,
        *,
        display_name: str | None = None,
        admin: bool = False,
        role_ids: Iterable[int] = (),
    ) -> Member:
        """Create a guild member; ``admin`` gives them the Manage Server role."""
        roles = list(role_ids)
        if admin and self.admin_role.id not in roles:
            roles.append(self.admin_role.id)
        member = Member(self.ids.next(), username, display_name, tuple(roles), self.clock.now())
        self.members[member.id] = member
        self.users[member.id] = member
        return member

    # -- permissions --------------------------------------------------------------------------

    def permissions_for(self, member: Member, channel_id: int | None = None) -> int:
        """Guild-level permissions of ``member`` (no channel overwrites exist in the emulator)."""
        if member.id == self.guild.owner_id:
            return ALL_PERMISSIONS
        perms = self.roles[self.guild.id].permissions
        for rid in member.role_ids:
            role = self.roles.get(rid)
            if role is not None:
                perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    # -- payloads ----------------------------------------------------------------------------

    def guild_payload(self, *, full: bool, all_members: bool = True) -> dict[str, Any]:
        """Guild object; ``full`` adds the GUILD_CREATE-only fields (members, channels, ...).

        Without the GUILD_MEMBERS intent (``all_members`` False) Discord only sends the bot's own member.
        """
        g = self.guild
        data: dict[str, Any] = {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(g.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.to_payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.general_channel.id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw": False,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "incidents_data": None,
            "region": "deprecated",
        }
        if full:
            data.update(
                joined_at=iso(self.bot.joined_at or g.created_at),
                large=False,
                unavailable=False,
                member_count=len(self.members),
                voice_states=[],
                members=[m.member_payload() for m in self.members.values() if all_members or m.bot],
                channels=[self._channel_in_guild(c) for c in self.channels.values()],
                threads=[],
                presences=[],
                stage_instances=[],
                guild_scheduled_events=[],
                soundboard_sounds=[],
                embedded_activities=[],
                lazy=True,
            )
        return data

    @staticmethod
    def _channel_in_guild(channel: Channel) -> dict[str, Any]:
        data = channel.to_payload()
        data.pop("guild_id", None)  # GUILD_CREATE channels omit guild_id
        return data

    def message_payload(self, msg: Message) -> dict[str, Any]:
        """Discord message object for ``msg``."""
        author = self.users.get(msg.author_id) or self.bot
        data: dict[str, Any] = {
            "type": msg.type,
            "channel_id": str(msg.channel_id),
            "content": msg.content,
            "attachments": [a.to_payload() for a in msg.attachments],
            "embeds": msg.embeds,
            "timestamp": iso(msg.created_at),
            "edited_timestamp": iso(msg.edited_at) if msg.edited_at else None,
            "flags": msg.flags,
            "components": msg.components,
            "id": str(msg.id),
            "author": author.user_payload(),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": msg.tts,
        }
        if msg.webhook_id is not None:
            data["webhook_id"] = str(msg.webhook_id)
            data["application_id"] = str(self.app_id)
        if msg.guild_id is not None and msg.webhook_id is None:
            data["guild_id"] = str(msg.guild_id)
        if msg.interaction_id is not None:
            data["interaction_metadata"] = {
                "id": str(msg.interaction_id),
                "type": 2,
                "user": self.bot.user_payload(),
                "authorizing_integration_owners": {"0": str(self.guild.id)},
            }
        return data

    # -- messages ----------------------------------------------------------------------------

    def has_channel(self, channel_id: int) -> bool:
        """True when ``channel_id`` is a message-capable channel."""
        return channel_id in self._messages

    def create_message(
        self,
        channel_id: int,
        author_id: int,
        body: dict[str, Any],
        files: list[tuple[int, str, bytes, str | None]],
        *,
        webhook_id: int | None = None,
        interaction_id: int | None = None,
        flags: int | None = None,
        msg_type: int = 0,
    ) -> Message:
        """Store a new message built from a Discord create-message body."""
        msg = Message(
            id=self.ids.next(),
            channel_id=channel_id,
            guild_id=self.guild.id,
            author_id=author_id,
            content=str(body.get("content") or ""),
            created_at=self.clock.now(),
            embeds=list(body.get("embeds") or ([body["embed"]] if body.get("embed") else [])),
            components=list(body.get("components") or []),
            flags=int(flags if flags is not None else body.get("flags") or 0),
            type=msg_type,
            tts=bool(body.get("tts", False)),
            webhook_id=webhook_id,
            interaction_id=interaction_id,
        )
        msg.embeds = [_normalize_embed(e) for e in msg.embeds]
        msg.attachments = self._make_attachments(channel_id, body, files)
        self._messages.setdefault(channel_id, {})[msg.id] = msg
        self._message_index[msg.id] = msg
        channel = self.channels.get(channel_id)
        if channel is not None and not msg.ephemeral:
            channel.last_message_id = msg.id
        return msg

    def edit_message(
        self, msg: Message, body: dict[str, Any], files: list[tuple[int, str, bytes, str | None]]
    ) -> Message:
        """Apply a Discord edit-message body to ``msg``, recording the previous version."""
        previous_ts = msg.edited_at or msg.created_at
        msg.edits.append(
            MessageVersion(msg.content, msg.embeds, list(msg.attachments), msg.components, msg.flags, previous_ts)
        )
        if "content" in body:
            msg.content = str(body["content"] or "")
        if "embeds" in body:
            msg.embeds = [_normalize_embed(e) for e in body["embeds"] or []]
        elif "embed" in body:
            msg.embeds = [_normalize_embed(body["embed"])] if body["embed"] else []
        if "components" in body:
            msg.components = list(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            msg.flags = (msg.flags & EPHEMERAL_FLAG) | int(body["flags"])
        if "attachments" in body and body["attachments"] is not None:
            keep = {str(a.get("id")) for a in body["attachments"]}
            msg.attachments = [a for a in msg.attachments if str(a.id) in keep]
        if files:
            msg.attachments = msg.attachments + self._make_attachments(msg.channel_id, body, files)
        msg.edited_at = self.clock.now()
        return msg

    def _make_attachments(
        self, channel_id: int, body: dict[str, Any], files: list[tuple[int, str, bytes, str | None]]
    ) -> list[Attachment]:
        meta: dict[str, dict[str, Any]] = {}
        for att in body.get("attachments") or []:
            meta[str(att.get("id"))] = att
        out: list[Attachment] = []
        for index, filename, data, content_type in files:
            info = meta.get(str(index), {})
            att_id = self.ids.next()
            name = str(info.get("filename") or filename)
            url = f"{self.base_url}/attachments/{channel_id}/{att_id}/{name}"
            out.append(Attachment(att_id, name, data, url, content_type, info.get("description")))
        return out

    def get_message(self, message_id: int) -> Message | None:
        """Any stored message (deleted ones included)."""
        return self._message_index.get(message_id)

    def channel_messages(self, channel_id: int) -> list[Message]:
        """All messages of a channel in creation order (deleted ones included)."""
        return list(self._messages.get(channel_id, {}).values())

    def find_attachment(self, channel_id: int, attachment_id: int) -> Attachment | None:
        """Look up an attachment for the CDN-like download route."""
        for msg in reversed(self.channel_messages(channel_id)):
            for att in msg.attachments:
                if att.id == attachment_id:
                    return att
            for version in msg.edits:
                for att in version.attachments:
                    if att.id == attachment_id:
                        return att
        return None

    # -- application commands -----------------------------------------------------------------

    def command_list(self, guild_id: int | None) -> list[dict[str, Any]]:
        """Registered commands of a scope."""
        return list(self.commands.get(guild_id, {}).values())

    def upsert_command(self, guild_id: int | None, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create or overwrite (by name and type) a command; returns (command, created)."""
        scope = self.commands.setdefault(guild_id, {})
        kind = int(body.get("type") or 1)
        for cid, existing in scope.items():
            if existing["name"] == body.get("name") and int(existing.get("type", 1)) == kind:
                scope[cid] = self._command_payload(guild_id, cid, body)
                return scope[cid], False
        cid = self.ids.next()
        scope[cid] = self._command_payload(guild_id, cid, body)
        return scope[cid], True

    def replace_commands(self, guild_id: int | None, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk overwrite a scope, keeping ids of commands whose name and type survive."""
        old = {(c["name"], int(c.get("type", 1))): cid for cid, c in self.commands.get(guild_id, {}).items()}
        scope: dict[int, dict[str, Any]] = {}
        for body in bodies:
            key = (str(body.get("name")), int(body.get("type") or 1))
            cid = int(body["id"]) if body.get("id") else old.get(key) or self.ids.next()
            scope[cid] = self._command_payload(guild_id, cid, body)
        self.commands[guild_id] = scope
        return list(scope.values())

    def _command_payload(self, guild_id: int | None, cid: int, body: dict[str, Any]) -> dict[str, Any]:
        self.command_version = self.ids.next()
        data: dict[str, Any] = {
            "id": str(cid),
            "application_id": str(self.app_id),
            "version": str(self.command_version),
            "default_member_permissions": None,
            "type": 1,
            "name": "",
            "description": "",
            "dm_permission": True,
            "contexts": None,
            "integration_types": [0],
            "nsfw": False,
        }
        data.update({k: v for k, v in body.items() if k != "id"})
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
            data.pop("dm_permission", None)
        return data

    def find_command(self, name: str, guild_id: int | None) -> dict[str, Any] | None:
        """Registered chat-input command by name, guild scope first, then global."""
        for scope in (guild_id, None):
            for cmd in self.commands.get(scope, {}).values():
                if cmd["name"] == name and int(cmd.get("type", 1)) == 1:
                    return cmd
        return None


def _normalize_embed(embed: dict[str, Any]) -> dict[str, Any]:
    """Echo an embed as Discord does (adds ``type: rich`` and drops nulls)."""
    out = {k: v for k, v in embed.items() if v is not None}
    out.setdefault("type", "rich")
    if "fields" in out:
        out["fields"] = [{**f, "inline": bool(f.get("inline", False))} for f in out["fields"]]
    return out


def new_token(prefix: str = "") -> str:
    """Random url-safe token."""
    return prefix + secrets.token_urlsafe(48)
