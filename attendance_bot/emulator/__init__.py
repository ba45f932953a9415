"""Local Discord emulator (REST v10 + gateway) that a real nextcord bot can connect to over loopback."""

from .faults import Fault, Faults
from .interactions import InteractionHandle, NoReply, UnknownCommand
from .models import Attachment, Channel, Member, Message, MessageVersion, Reply, Role
from .server import Emulator
from .thread import EmulatorThread

__all__ = [
    "Attachment",
    "Channel",
    "Emulator",
    "EmulatorThread",
    "Fault",
    "Faults",
    "InteractionHandle",
    "Member",
    "Message",
    "MessageVersion",
    "NoReply",
    "Reply",
    "Role",
    "UnknownCommand",
]
