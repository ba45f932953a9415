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
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
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
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_EVENTS = 1 << 33
SEND_MESSAGES_IN_THREADS = 1 << 38
CREATE_EVENTS = 1 << 44
ALL_PERMISSIONS = (1 << 51) - 1
# The bits that exist in a channel (nextcord's ``Permissions.all_channel()``): lost with View Channel.
CHANNEL_PERMISSIONS = 9885739122513
# Lost in a channel where Send Messages is denied (Discord's implicit permissions).
_NEEDS_SEND = SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES

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
CHANNEL_STAGE = 13
VOCAL_CHANNELS = (CHANNEL_VOICE, CHANNEL_STAGE)


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
    guild_id: int | None = None

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


OVERWRITE_ROLE = 0
OVERWRITE_MEMBER = 1


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_payload(self) -> dict[str, Any]:
        """Discord overwrite object (bit sets as strings)."""
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class Channel:
    """A guild channel (text, voice or category) with its permission overwrites by target id."""

    id: int
    guild_id: int
    name: str
    type: int = CHANNEL_TEXT
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    last_message_id: int | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """Discord channel object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_payload() for o in self.overwrites.values()],
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
        elif self.type in VOCAL_CHANNELS:
            data.update(
                bitrate=64000,
                user_limit=0,
                rtc_region=None,
                last_message_id=None,
                rate_limit_per_user=0,
            )
            if self.type == CHANNEL_STAGE:
                data["topic"] = self.topic
        return data


def voice_state_payload(
    member: Member, channel_id: int | None, session_id: str, guild_id: int | None = None
) -> dict[str, Any]:
    """Discord voice state object: with ``guild_id`` and the member for VOICE_STATE_UPDATE, without
    them in GUILD_CREATE's ``voice_states``."""
    data: dict[str, Any] = {
        "channel_id": str(channel_id) if channel_id is not None else None,
        "user_id": str(member.id),
        "session_id": session_id,
        "deaf": False,
        "mute": False,
        "self_deaf": False,
        "self_mute": False,
        "self_video": False,
        "suppress": False,
        "request_to_speak_timestamp": None,
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
        data["member"] = member.member_payload()
    return data


@dataclass
class Member:
    """A user's membership of one guild (also the bot's own); a user in two guilds has two records."""

    id: int
    username: str
    display_name: str | None = None
    role_ids: tuple[int, ...] = ()
    joined_at: datetime | None = None
    bot: bool = False
    guild_id: int | None = None

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


@dataclass(eq=False)
class Guild:
    """One guild: its scalars, roles, channels and member records, and the objects of its default shape."""

    id: int
    name: str
    owner_id: int
    created_at: datetime
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    # the default shape, set once by WorldState when it builds the guild
    admin_role: Role = field(init=False, repr=False)
    bot_role: Role = field(init=False, repr=False)
    student_role: Role = field(init=False, repr=False)
    admin_channel: Channel = field(init=False, repr=False)
    attendance_channel: Channel = field(init=False, repr=False)
    general_channel: Channel = field(init=False, repr=False)
    voice_channel: Channel = field(init=False, repr=False)
    # Who is in which voice or stage channel: member id -> (channel id, voice session id).
    voice: dict[int, tuple[int, str]] = field(default_factory=dict)
    # Scheduled events (the server's Events list), as Discord returns them, oldest first.
    scheduled_events: list[dict[str, Any]] = field(default_factory=list)
    owner: Member = field(init=False, repr=False)
    bot: Member = field(init=False, repr=False)
    instructor: Member = field(init=False, repr=False)
    students: list[Member] = field(default_factory=list, repr=False)

    def base_permissions(self, user_id: int) -> int:
        """Guild-wide permissions: owner → all; @everyone | the member's roles; ADMINISTRATOR → all; non-member → 0."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        if member is None:
            return 0
        perms = self.roles[self.id].permissions
        for rid in member.role_ids:
            role = self.roles.get(rid)
            if role is not None:
                perms |= role.permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def permissions_in(self, user_id: int, channel: Channel) -> int:
        """Permissions in ``channel`` as Discord computes them.

        Base permissions, then the @everyone overwrite, then the member's role overwrites (denies and
        allows of all of them together), then the member's own overwrite; ADMINISTRATOR (or ownership)
        bypasses overwrites. Without Send Messages the bits that need it go too, and without View Channel
        every channel permission goes (the implicit rules nextcord's ``permissions_for`` also applies).
        """
        perms = self.base_permissions(user_id)
        if perms == ALL_PERMISSIONS or user_id not in self.members:
            return perms
        overwrites = channel.overwrites
        everyone = overwrites.get(self.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for rid in self.members[user_id].role_ids:
            ow = overwrites.get(rid)
            if ow is not None and ow.type == OVERWRITE_ROLE:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        own = overwrites.get(user_id)
        if own is not None and own.type == OVERWRITE_MEMBER:
            perms = (perms & ~own.deny) | own.allow
        if not perms & SEND_MESSAGES:
            perms &= ~_NEEDS_SEND
        if not perms & VIEW_CHANNEL:
            perms &= ~CHANNEL_PERMISSIONS
        return perms


@dataclass
class Attachment:
    """A file uploaded with a message, or by a member for an attachment option (``ephemeral``)."""

    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None
    size: int | None = None  # what Discord reports and a download serves (None: len(data))
    ephemeral: bool = False

    @property
    def served_size(self) -> int:
        """The ``size`` Discord reports: the bytes a download serves (``data``, then NUL padding up to it)."""
        return len(self.data) if self.size is None else self.size

    def to_payload(self) -> dict[str, Any]:
        """Discord attachment object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.served_size,
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass(frozen=True)
class Upload:
    """A file a member attaches to an attachment option (type 11) of a slash command.

    ``size`` declares a larger file than ``data`` without holding it: Discord reports ``size``, and
    a download streams ``data`` followed by NUL bytes up to it (so ``size=50 * 2**20`` is a real
    50 MB download, built as it is sent). ``content_type`` defaults to a guess from the filename.
    """

    data: bytes
    filename: str = "upload.bin"
    content_type: str | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        if self.size is not None and self.size < len(self.data):
            raise ValueError(f"size {self.size} is smaller than the {len(self.data)} bytes of data")


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
