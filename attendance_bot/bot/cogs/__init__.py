"""The slash commands, one cog per feature, each a thin adapter from Discord to the services."""

from __future__ import annotations

from nextcord.ext import commands

from ..context import BotContext
from .base import FeatureCog
from .checkin import CheckInCog
from .courses import CoursesCog
from .excuses import ExcusesCog
from .projector import ProjectorCog
from .records import RecordsCog
from .sessions import SessionsCog
from .students import StudentsCog
from .voice import VoiceCog
from .warnings import WarningsCog

COGS: tuple[type[FeatureCog], ...] = (
    RecordsCog,
    StudentsCog,
    CoursesCog,
    SessionsCog,
    ProjectorCog,
    CheckInCog,
    VoiceCog,
    ExcusesCog,
    WarningsCog,
)


def build_cogs(ctx: BotContext) -> list[commands.Cog]:
    """One of each feature's cog over the bot's one context."""
    return [cog(ctx) for cog in COGS]
