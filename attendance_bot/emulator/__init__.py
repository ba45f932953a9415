"""Local Discord emulator (REST v10 + gateway) that a real nextcord bot can connect to over loopback."""

from .faults import Fault, Faults
from .guilds import GuildHandle
from .interactions import (
    AutocompleteError,
    InteractionHandle,
    InteractionRefused,
    ModalRefused,
    NoReply,
    UnknownCommand,
)
from .models import Attachment, Channel, Guild, Member, Message, MessageVersion, Overwrite, Reply, Role, Upload
from .server import Emulator
from .thread import EmulatorThread

__all__ = [
    "Attachment",
    "AutocompleteError",
    "Channel",
    "Emulator",
    "EmulatorThread",
    "Fault",
    "Faults",
    "Guild",
    "GuildHandle",
    "InteractionHandle",
    "InteractionRefused",
    "Member",
    "Message",
    "MessageVersion",
    "ModalRefused",
    "NoReply",
    "Overwrite",
    "Reply",
    "Role",
    "UnknownCommand",
    "Upload",
]
