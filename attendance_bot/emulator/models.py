"""Plain data objects of the emulated Discord world (users, roles, channels, messages, replies)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .clock import iso

log = logging.getLogger(__name__)

# Permission bits used by the emulator (https://discord.com/developers/docs/topics/permissions).
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
USE_VAD = 1 << 25
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1

DEFAULT_EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | USE_VAD
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7

CHANNEL_TEXT = 0
CHANNEL_VOICE = 2
CHANNEL_CATEGORY = 4


@dataclass
class Role:
    """A guild role."""

    id: int
    name: str
    permissions: int
    position: int
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False
    bot_id: int | None = None

    def to_payload(self) -> dict[str, Any]:
        """Discord role object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Channel:
    """A guild channel (text, voice or category)."""

    id: int
    guild_id: int
    name: str
    type: int = CHANNEL_TEXT
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    last_message_id: int | None = None

    def to_payload(self) -> dict[str, Any]:
        """Discord channel object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": False,
            "flags": 0,
        }
        if self.type == CHANNEL_TEXT:
            data.update(
                topic=self.topic,
                last_message_id=str(self.last_message_id) if self.last_message_id else None,
                rate_limit_per_user=0,
                default_thread_rate_limit_per_user=0,
            )
        elif self.type == CHANNEL_VOICE:
            data.update(
                bitrate=64000,
                user_limit=0,
                rtc_region=None,
                last_message_id=None,
                rate_limit_per_user=0,
            )
        return data


@dataclass
class Member:
    """A guild member (also used for the bot's own member)."""

    id: int
    username: str
    display_name: str | None = None
    role_ids: tuple[int, ...] = ()
    joined_at: datetime | None = None
    bot: bool = False

    def user_payload(self) -> dict[str, Any]:
        """Discord user object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.display_name,
            "display_name": self.display_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "discriminator": "0",
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    def member_payload(self, *, with_user: bool = True) -> dict[str, Any]:
        """Discord guild member object (nick mirrors display_name so nextcord 2.x sees it too)."""
        data: dict[str, Any] = {
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "joined_at": iso(self.joined_at) if self.joined_at else None,
            "nick": self.display_name,
            "pending": False,
            "premium_since": None,
            "roles": [str(r) for r in self.role_ids],
            "unusual_dm_activity_until": None,
        }
        if with_user:
            data["user"] = self.user_payload()
        return data


@dataclass
class Attachment:
    """A file uploaded with a message."""

    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """Discord attachment object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class MessageVersion:
    """A previous version of an edited message."""

    content: str
    embeds: list[dict[str, Any]]
    attachments: list[Attachment]
    components: list[dict[str, Any]]
    flags: int
    timestamp: datetime  # when this version was created (creation or previous edit)


@dataclass
class Message:
    """A message stored by the emulator (including deleted ones, with edit history)."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str
    created_at: datetime
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    webhook_id: int | None = None
    interaction_id: int | None = None
    edited_at: datetime | None = None
    edits: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False
    deleted_at: datetime | None = None
    deleted_by: int | None = None

    @property
    def ephemeral(self) -> bool:
        """True when the message carries the EPHEMERAL flag."""
        return bool(self.flags & EPHEMERAL_FLAG)

    @property
    def files(self) -> list[tuple[str, bytes]]:
        """(filename, bytes) of each current attachment."""
        return [(a.filename, a.data) for a in self.attachments]


@dataclass
class Reply:
    """What the bot answered to one emulated interaction."""

    type: int
    content: str | None = None
    embeds: list[dict[str, Any]] = field(default_factory=list)
    ephemeral: bool = False
    files: list[tuple[str, bytes]] = field(default_factory=list)
    deferred: bool = False
    latency: float = 0.0
    ack_latency: float = 0.0
    flags: int = 0
    components: list[dict[str, Any]] = field(default_factory=list)
    message_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    interaction_id: int = 0

    @property
    def text(self) -> str:
        """Content plus embed titles/descriptions/fields, handy for assertions."""
        parts: list[str] = [self.content or ""]
        for embed in self.embeds:
            parts.append(str(embed.get("title") or ""))
            parts.append(str(embed.get("description") or ""))
            for fld in embed.get("fields") or []:
                parts.append(f"{fld.get('name', '')}: {fld.get('value', '')}")
            footer = embed.get("footer") or {}
            parts.append(str(footer.get("text") or ""))
        return "\n".join(p for p in parts if p)
