"""In-memory world of the emulator: guilds (roles, channels, members), messages and application commands."""

from __future__ import annotations

import logging
import mimetypes
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from .clock import Clock, SnowflakeGenerator, iso
from .components import number_components
from .models import (
    CHANNEL_CATEGORY,
    CHANNEL_STAGE,
    CHANNEL_TEXT,
    CHANNEL_VOICE,
    DEFAULT_EVERYONE_PERMISSIONS,
    EPHEMERAL_FLAG,
    MANAGE_CHANNELS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    OVERWRITE_MEMBER,
    OVERWRITE_ROLE,
    VOCAL_CHANNELS,
    Attachment,
    Channel,
    Guild,
    Member,
    Message,
    MessageVersion,
    Overwrite,
    Role,
    Upload,
    voice_state_payload,
)

log = logging.getLogger(__name__)

_BOT_ROLE_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | MANAGE_MESSAGES | MANAGE_CHANNELS
_OVERWRITE_KINDS = {"role": OVERWRITE_ROLE, "member": OVERWRITE_MEMBER}


class WorldState:
    """All mutable emulator data; owned by one event loop, not thread-safe.

    ``guilds`` holds every guild, the default one (``guild``) first. ``roles`` and ``channels`` index
    every guild's roles and channels by id (ids are unique across guilds, as Discord's snowflakes are);
    ``members`` and the named attributes (``admin_channel``, ``instructor``, ...) are the default
    guild's, as before there were several.
    """

    def __init__(self, clock: Clock, *, app_name: str, guild_name: str) -> None:
        self.clock = clock
        self.ids = SnowflakeGenerator(clock)
        self.app_id = self.ids.next()
        self.app_name = app_name
        self.guilds: dict[int, Guild] = {}
        self.roles: dict[int, Role] = {}
        self.channels: dict[int, Channel] = {}
        self.users: dict[int, Member] = {}
        self._messages: dict[int, dict[int, Message]] = {}
        self._message_index: dict[int, Message] = {}
        # scope (guild id or None for global) -> command id -> stored command payload
        self.commands: dict[int | None, dict[int, dict[str, Any]]] = {}
        self.command_version = self.ids.next()
        self.base_url = ""  # set by the server once the port is known
        self.uploads: dict[int, Attachment] = {}  # files members attached to attachment options, by id
        # Direct messages: each user's DM channel with the bot, by user and by channel, and the users
        # whose privacy settings refuse the bot's messages (Discord answers 50007).
        self.dm_channels: dict[int, int] = {}
        self.dm_recipients: dict[int, int] = {}
        self.refusing_dms: set[int] = set()
        guild = self.guild = self._build_guild(guild_name, prefix="", owner_name="guild_owner")
        self.bot = guild.bot
        self.owner = guild.owner
        self.members = guild.members
        self.admin_role, self.bot_role, self.student_role = guild.admin_role, guild.bot_role, guild.student_role
        self.admin_channel, self.attendance_channel = guild.admin_channel, guild.attendance_channel
        self.general_channel, self.voice_channel = guild.general_channel, guild.voice_channel
        self.instructor, self.students = guild.instructor, guild.students

    # -- world construction -------------------------------------------------------------------

    def add_guild(self, name: str, *, shard: tuple[int, int] | None = None) -> Guild:
        """A new guild of the default shape (its own roles, channels, owner, instructor and 3 students).

        ``shard`` (shard id, shard count) picks an id that Discord's shard rule puts on that shard.
        """
        return self._build_guild(name, prefix=f"g{len(self.guilds) + 1}_", owner_name="owner", shard=shard)

    def _build_guild(self, name: str, *, prefix: str, owner_name: str, shard: tuple[int, int] | None = None) -> Guild:
        now = self.clock.now()
        owner_id = self.ids.next()
        guild_id = self.ids.next_on_shard(*shard) if shard is not None else self.ids.next()
        guild = Guild(guild_id, name, owner_id, now)
        self.guilds[guild.id] = guild
        gid = guild.id
        # @everyone role id == guild id, as on Discord
        self._store_role(guild, Role(gid, "@everyone", DEFAULT_EVERYONE_PERMISSIONS, 0, guild_id=gid))
        guild.admin_role = self._add_role(guild, "Instructor", DEFAULT_EVERYONE_PERMISSIONS | MANAGE_GUILD, 2)
        guild.bot_role = self._add_role(
            guild, self.app_name, _BOT_ROLE_PERMISSIONS, 1, managed=True, bot_id=self.app_id
        )
        guild.student_role = self._add_role(guild, "Student", DEFAULT_EVERYONE_PERMISSIONS, 1)
        category = self._add_channel(guild, "Text Channels", CHANNEL_CATEGORY, 0)
        guild.admin_channel = self._add_channel(guild, "instructors", CHANNEL_TEXT, 0, category.id)
        guild.attendance_channel = self._add_channel(guild, "attendance", CHANNEL_TEXT, 1, category.id)
        guild.general_channel = self._add_channel(guild, "general", CHANNEL_TEXT, 2, category.id)
        guild.voice_channel = self._add_channel(guild, "Lecture Hall", CHANNEL_VOICE, 3, category.id)
        guild.bot = Member(self.app_id, self.app_name, None, (guild.bot_role.id,), now, bot=True, guild_id=gid)
        guild.members[self.app_id] = guild.bot
        self.users.setdefault(self.app_id, guild.bot)
        guild.owner = Member(owner_id, prefix + owner_name, "Guild Owner", (), now, guild_id=gid)
        guild.members[owner_id] = guild.owner
        self.users[owner_id] = guild.owner
        guild.instructor = self.add_member(
            prefix + "instructor", display_name="Dr. Instructor", admin=True, guild_id=gid
        )
        guild.students = [
            self.add_member(
                f"{prefix}student{i}", display_name=f"Student {i}", role_ids=(guild.student_role.id,), guild_id=gid
            )
            for i in range(1, 4)
        ]
        return guild

    def _store_role(self, guild: Guild, role: Role) -> Role:
        guild.roles[role.id] = role
        self.roles[role.id] = role
        return role

    def _add_role(
        self,
        guild: Guild,
        name: str,
        permissions: int,
        position: int,
        *,
        managed: bool = False,
        bot_id: int | None = None,
    ) -> Role:
        role = Role(self.ids.next(), name, permissions, position, managed=managed, bot_id=bot_id, guild_id=guild.id)
        return self._store_role(guild, role)

    def _add_channel(self, guild: Guild, name: str, kind: int, position: int, parent_id: int | None = None) -> Channel:
        channel = Channel(self.ids.next(), guild.id, name, kind, position, parent_id)
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        if kind != CHANNEL_CATEGORY:
            self._messages[channel.id] = {}
        return channel

    def guild_for(self, guild_id: int | None) -> Guild:
        """The guild with ``guild_id`` (the default guild for None); KeyError for an unknown id."""
        if guild_id is None:
            return self.guild
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise KeyError(f"no guild {guild_id} in the emulator") from None

    def guild_of_channel(self, channel_id: int) -> Guild | None:
        """The guild a channel belongs to (None for an unknown channel)."""
        channel = self.channels.get(channel_id)
        return self.guilds.get(channel.guild_id) if channel is not None else None

    def add_channel(
        self, name: str, *, voice: bool = False, stage: bool = False, guild_id: int | None = None
    ) -> Channel:
        """Create a new text (or voice, or stage) channel in a guild (the default one unless told)."""
        guild = self.guild_for(guild_id)
        kind = CHANNEL_STAGE if stage else CHANNEL_VOICE if voice else CHANNEL_TEXT
        return self._add_channel(guild, name, kind, len(guild.channels))

    def set_voice(self, member: Member | int, channel_id: int | None, *, guild_id: int | None = None) -> dict[str, Any]:
        """Put a member in a voice or stage channel of their guild (joining, or moving from another), or
        (None) out of voice; the VOICE_STATE_UPDATE payload Discord sends for it."""
        user_id = member if isinstance(member, int) else member.id
        if guild_id is None and isinstance(member, Member):
            guild_id = member.guild_id
        guild = self.guild_for(guild_id)
        record = guild.members.get(user_id)
        if record is None:
            raise KeyError(f"{user_id} is not a member of guild {guild.name!r}")
        if channel_id is not None:
            channel = guild.channels.get(channel_id)
            if channel is None or channel.type not in VOCAL_CHANNELS:
                raise ValueError(f"{channel_id} is no voice or stage channel of guild {guild.name!r}")
            _, session = guild.voice.get(user_id, (0, secrets.token_hex(16)))
            guild.voice[user_id] = (channel_id, session)
        else:
            _, session = guild.voice.pop(user_id, (0, secrets.token_hex(16)))
        return voice_state_payload(record, channel_id, session, guild.id)

    def add_role(
        self, name: str, permissions: int = DEFAULT_EVERYONE_PERMISSIONS, *, guild_id: int | None = None
    ) -> Role:
        """Create a new role in a guild (the default one unless told)."""
        guild = self.guild_for(guild_id)
        return self._add_role(guild, name, permissions, len(guild.roles))

    def add_member(
        self,
        username: str | None = None,
        *,
        display_name: str | None = None,
        admin: bool = False,
        role_ids: Iterable[int] = (),
        guild_id: int | None = None,
        existing: Member | None = None,
    ) -> Member:
        """Create a guild member; ``admin`` gives them the guild's Manage Server role.

        With ``existing`` (a member record of another guild) the same user joins this guild too: same
        id and name, roles of this guild only.
        """
        guild = self.guild_for(guild_id)
        roles = list(role_ids)
        foreign = [r for r in roles if r not in guild.roles]
        if foreign:
            raise ValueError(f"roles {foreign} are not roles of guild {guild.name!r}")
        if admin and guild.admin_role.id not in roles:
            roles.append(guild.admin_role.id)
        now = self.clock.now()
        if existing is not None:
            if existing.id in guild.members:
                raise ValueError(f"{existing.username} is already a member of guild {guild.name!r}")
            name = display_name if display_name is not None else existing.display_name
            member = Member(existing.id, existing.username, name, tuple(roles), now, existing.bot, guild.id)
        elif username is None:
            raise ValueError("add_member needs a username or an existing member")
        else:
            member = Member(self.ids.next(), username, display_name, tuple(roles), now, guild_id=guild.id)
            self.users[member.id] = member
        guild.members[member.id] = member
        return member

    def set_overwrite(
        self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0, kind: str | None = None
    ) -> Channel:
        """Set (replace) the overwrite of a role or member on a channel; ``kind`` is inferred when None."""
        channel = self.channels.get(channel_id)
        if channel is None:
            raise KeyError(f"no channel {channel_id} in the emulator")
        guild = self.guilds[channel.guild_id]
        if kind is None:
            kind = "role" if target_id in guild.roles else "member"
        if kind not in _OVERWRITE_KINDS:
            raise ValueError(f"overwrite kind must be 'role' or 'member', not {kind!r}")
        if kind == "role" and target_id not in guild.roles:
            raise ValueError(f"{target_id} is not a role of guild {guild.name!r}")
        if kind == "member" and target_id not in guild.members:
            raise ValueError(f"{target_id} is not a member of guild {guild.name!r}")
        channel.overwrites[target_id] = Overwrite(target_id, _OVERWRITE_KINDS[kind], allow, deny)
        if target_id == guild.id:  # Discord lists the @everyone overwrite first
            channel.overwrites = {target_id: channel.overwrites.pop(target_id), **channel.overwrites}
        return channel

    def remove_overwrite(self, channel_id: int, target_id: int) -> Channel:
        """Delete a channel's overwrite for a role or member (no-op when there is none)."""
        channel = self.channels.get(channel_id)
        if channel is None:
            raise KeyError(f"no channel {channel_id} in the emulator")
        channel.overwrites.pop(target_id, None)
        return channel

    # -- permissions --------------------------------------------------------------------------

    def permissions_for(
        self, member: Member | int, channel_id: int | None = None, *, guild_id: int | None = None
    ) -> int:
        """Permissions of a user: in ``channel_id`` (its guild, overwrites applied) or guild-wide.

        The guild-wide case uses ``guild_id``, else the member record's guild, else the default guild.
        A user who is not a member of that guild has no permissions (0).
        """
        user_id = member if isinstance(member, int) else member.id
        channel = self.channels.get(channel_id) if channel_id is not None else None
        if channel is not None:
            return self.guilds[channel.guild_id].permissions_in(user_id, channel)
        if guild_id is None and isinstance(member, Member):
            guild_id = member.guild_id
        return self.guild_for(guild_id).base_permissions(user_id)

    # -- payloads ----------------------------------------------------------------------------

    def guild_payload(
        self, guild: Guild | None = None, *, full: bool, all_members: bool = True, voice_states: bool = True
    ) -> dict[str, Any]:
        """Guild object (the default guild unless told); ``full`` adds the GUILD_CREATE-only fields.

        Without the GUILD_MEMBERS intent (``all_members`` False) Discord only sends the bot's own member
        and the members in voice channels; without the GUILD_VOICE_STATES intent (``voice_states``
        False) no voice states.
        """
        g = guild or self.guild
        in_voice = set(g.voice) if voice_states else set()
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
            "roles": [r.to_payload() for r in g.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(g.general_channel.id),
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
                joined_at=iso(g.bot.joined_at or g.created_at),
                large=False,
                unavailable=False,
                member_count=len(g.members),
                voice_states=[
                    voice_state_payload(g.members[user_id], channel_id, session)
                    for user_id, (channel_id, session) in g.voice.items()
                    if voice_states
                ],
                members=[m.member_payload() for m in g.members.values() if all_members or m.bot or m.id in in_voice],
                channels=[self._channel_in_guild(c) for c in g.channels.values()],
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
                "authorizing_integration_owners": {"0": str(msg.guild_id or self.guild.id)},
            }
        return data

    # -- messages ----------------------------------------------------------------------------

    def open_dm(self, user_id: int) -> int:
        """The id of the bot's DM channel with a user (made on first use, as POST /users/@me/channels does)."""
        channel_id = self.dm_channels.get(user_id)
        if channel_id is None:
            channel_id = self.ids.next()
            self.dm_channels[user_id] = channel_id
            self.dm_recipients[channel_id] = user_id
            self._messages[channel_id] = {}
        return channel_id

    def dm_payload(self, channel_id: int) -> dict[str, Any]:
        """A DM channel object (type 1) with its recipient."""
        user = self.users[self.dm_recipients[channel_id]]
        return {
            "id": str(channel_id),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [user.user_payload()],
        }

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
        """Store a new message built from a Discord create-message body (its guild is the channel's)."""
        channel = self.channels.get(channel_id)
        msg = Message(
            id=self.ids.next(),
            channel_id=channel_id,
            guild_id=channel.guild_id if channel is not None else None,
            author_id=author_id,
            content=str(body.get("content") or ""),
            created_at=self.clock.now(),
            embeds=list(body.get("embeds") or ([body["embed"]] if body.get("embed") else [])),
            components=number_components(list(body.get("components") or [])),
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
            msg.components = number_components(list(body["components"] or []))
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

    def add_upload(self, channel_id: int, upload: Upload) -> Attachment:
        """Store a file a member attaches to a command's attachment option; served like Discord's
        ephemeral attachments, at ``/ephemeral-attachments/{channel_id}/{id}/{filename}``."""
        att_id = self.ids.next()
        name = upload.filename.replace(" ", "_")  # as Discord's client names uploads
        content_type = upload.content_type or mimetypes.guess_type(name)[0]
        url = f"{self.base_url}/ephemeral-attachments/{channel_id}/{att_id}/{quote(name)}"
        att = Attachment(att_id, name, upload.data, url, content_type, size=upload.size, ephemeral=True)
        self.uploads[att_id] = att
        return att

    def find_upload(self, channel_id: int, attachment_id: int) -> Attachment | None:
        """An uploaded file by the channel and id of its URL (None if there is none)."""
        att = self.uploads.get(attachment_id)
        return att if att is not None and f"/{channel_id}/{attachment_id}/" in att.url else None

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
