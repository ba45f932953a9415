"""``GuildHandle``: one emulated guild as tests see it (ids of its default channels and roles, members, actions)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .models import DEFAULT_EVERYONE_PERMISSIONS, Guild, Member

if TYPE_CHECKING:
    from .server import Emulator

log = logging.getLogger(__name__)

Runner = Callable[[Callable[["Emulator"], Any]], Any]


class GuildHandle:
    """A guild of the emulator; every guild has the default shape (see ``Emulator.add_guild``).

    The ids and the members made with the guild never change, so reading them is safe from any
    thread; the actions run through ``run`` (on the emulator's loop when the handle came from an
    ``EmulatorThread``).
    """

    def __init__(self, guild: Guild, run: Runner) -> None:
        self._guild = guild
        self._run = run

    def running_with(self, run: Runner) -> GuildHandle:
        """The same guild, its actions run through ``run`` (how ``EmulatorThread`` hops onto its loop)."""
        return GuildHandle(self._guild, run)

    def __repr__(self) -> str:
        return f"<GuildHandle {self.id} {self.name!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GuildHandle) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def id(self) -> int:
        """The guild id (also its @everyone role's id)."""
        return self._guild.id

    @property
    def name(self) -> str:
        """The guild's name."""
        return self._guild.name

    @property
    def admin_channel_id(self) -> int:
        """#instructors."""
        return self._guild.admin_channel.id

    @property
    def attendance_channel_id(self) -> int:
        """#attendance."""
        return self._guild.attendance_channel.id

    @property
    def general_channel_id(self) -> int:
        """#general."""
        return self._guild.general_channel.id

    @property
    def voice_channel_id(self) -> int:
        """The voice channel."""
        return self._guild.voice_channel.id

    @property
    def everyone_role_id(self) -> int:
        """@everyone (== the guild id)."""
        return self._guild.id

    @property
    def admin_role_id(self) -> int:
        """The Instructor role (Manage Server)."""
        return self._guild.admin_role.id

    @property
    def bot_role_id(self) -> int:
        """The bot's managed role."""
        return self._guild.bot_role.id

    @property
    def student_role_id(self) -> int:
        """The Student role."""
        return self._guild.student_role.id

    @property
    def owner(self) -> Member:
        """The guild owner."""
        return self._guild.owner

    @property
    def instructor(self) -> Member:
        """The member holding the Instructor role."""
        return self._guild.instructor

    @property
    def students(self) -> list[Member]:
        """The three default students."""
        return list(self._guild.students)

    def member(self, user_id: int) -> Member:
        """This guild's record of a member (KeyError when the user is not in the guild)."""
        return self._guild.members[user_id]

    def add_member(
        self,
        username: str | None = None,
        *,
        display_name: str | None = None,
        admin: bool = False,
        role_ids: Iterable[int] = (),
        existing_member: Member | None = None,
    ) -> Member:
        """A new member, or with ``existing_member`` another guild's user joining this one (``Emulator.add_member``)."""
        return self._run(
            lambda e: e.add_member(
                username,
                display_name=display_name,
                admin=admin,
                role_ids=role_ids,
                guild_id=self.id,
                existing_member=existing_member,
            )
        )

    def add_text_channel(self, name: str) -> int:
        """A new text channel in this guild; returns its id."""
        return self._run(lambda e: e.add_text_channel(name, guild_id=self.id))

    def add_voice_channel(self, name: str, *, stage: bool = False) -> int:
        """A new voice (or stage) channel in this guild; returns its id."""
        return self._run(lambda e: e.add_voice_channel(name, stage=stage, guild_id=self.id))

    def add_role(self, name: str, permissions: int = DEFAULT_EVERYONE_PERMISSIONS) -> int:
        """A new role in this guild; returns its id."""
        return self._run(lambda e: e.add_role(name, permissions, guild_id=self.id))
