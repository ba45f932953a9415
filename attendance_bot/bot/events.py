"""Discord scheduled events for a timetable line's next classes, so students see them in the server's Events list."""

from __future__ import annotations

import logging

import nextcord

from .. import messages
from ..records import CourseInfo
from ..timetable import Occurrence

log = logging.getLogger(__name__)

EVENTS_AHEAD = 4  # the next classes of a line listed as events (a month of a weekly class)
_STAGE, _VOICE, _EXTERNAL = 1, 2, 3  # Discord's entity types
_GUILD_ONLY = 2  # Discord's only privacy level


async def list_classes(bot: nextcord.Client, guild_id: int, course: CourseInfo, classes: list[Occurrence]) -> str:
    """One scheduled event per class (in the course's voice or stage channel, else "external" at its
    attendance channel); the sentence that says what was done. The raw route, as for the code
    messages: no nextcord event objects to keep. Without Create Events the bot says so."""
    payload: dict[str, object] = {"name": course.name[:100], "privacy_level": _GUILD_ONLY}
    voice = bot.get_channel(course.voice_channel_id) if course.voice_channel_id else None
    if voice is not None:
        payload["channel_id"] = voice.id
        payload["entity_type"] = _STAGE if voice.type == nextcord.ChannelType.stage_voice else _VOICE
    else:
        attendance = bot.get_channel(course.attendance_channel_id or 0)
        location = messages.schedule_event_location(getattr(attendance, "name", None))
        payload |= {"entity_type": _EXTERNAL, "entity_metadata": {"location": location}}
    made = 0
    for meeting in classes:
        times = {
            "scheduled_start_time": meeting.starts_at.isoformat(),
            "scheduled_end_time": meeting.ends_at.isoformat(),
        }
        try:
            await bot.http.create_event(guild_id, **payload, **times)
        except nextcord.Forbidden:
            return messages.schedule_events_need_permission(made)
        except nextcord.HTTPException as exc:
            log.warning("Could not list class %s of %r as an event: %s", meeting.day, course.name, exc)
            return messages.schedule_events_failed(made)
        made += 1
    return messages.schedule_events_listed(made)
