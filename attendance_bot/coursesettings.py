"""The settings of a course, described once: what create, edit and info check and fill in, and what
the shell's and Discord's options offer, are read from COURSE_SETTINGS."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .records import (
    DEFAULT_LATE_POINTS,
    LATE_POINTS_PLACES,
    MAX_DROP_LOWEST,
    MAX_LATE_AFTER,
    MAX_LATE_POINTS,
    VoiceRule,
)
from .settings import MAX_CODE_LENGTH, MAX_GRACE_SECONDS, MAX_INTERVAL, MIN_CODE_LENGTH, MIN_INTERVAL

SWITCH = "yes/no"  # the kind of a setting that is on or off
POINTS = "points"  # the kind of a setting that is a decimal number with bounds (`places` decimals at most)
ZONE = "timezone"  # the kind of a setting that is an IANA time zone name


@dataclass(frozen=True)
class CourseSetting:
    """One setting of a course, as every layer sees it: its column (also CourseInfo's attribute and
    CourseService.create/edit's keyword), its option (`--option` in the shell, `option` on Discord),
    its kind (a channel or role id, on or off, else the unit of a whole number), bounds, what it follows while
    unset, whether `.env` sets it on the `.env` course, and the help texts."""

    field: str
    option: str
    # "channel" or "role" (an id), "choice" (a word of `choices`), "yes/no" (SWITCH), "points" (POINTS:
    # a decimal number), "timezone" (ZONE: an IANA name, completed as typed on Discord), else a whole
    # number's unit: "seconds", "characters", "minutes", "sessions"
    kind: str
    help: str  # the shell's help of `course add|edit --option`
    low: int | None = None
    high: int | None = None
    required: bool = False  # to create a course
    default: str | None = None  # the Settings attribute an unset value follows (None: stays unset)
    default_field: str | None = None  # or the setting of the same course an unset value follows
    default_value: bool | int | Decimal | None = None  # or the value an unset one has
    zero_unsets: bool = False  # a number whose 0 means "off": stored as unset
    env: str | None = None  # the Settings attribute that sets it on the course `.env` defines
    clear: str | None = None  # the word `course edit` takes to unset an id
    discord: str | None = None  # the /course edit option's description (None: not on Discord)
    discord_create: str | None = None  # the /course create option's description (None: not there)
    channel_types: tuple[str, ...] = ("text",)  # a channel's: the kinds Discord's picker offers
    choices: tuple[str, ...] = ()  # a choice's words
    places: int = 0  # a POINTS setting's decimals at most

    @property
    def is_id(self) -> bool:
        """A channel or role id (else a word of its choices, on or off, or a whole number with bounds)."""
        return self.kind in ("channel", "role")

    @property
    def is_choice(self) -> bool:
        """One of a few words (`choices`)."""
        return self.kind == "choice"

    @property
    def is_switch(self) -> bool:
        """On or off (`yes`/`no` in the shell, True/False on Discord)."""
        return self.kind == SWITCH

    @property
    def is_points(self) -> bool:
        """A decimal number with bounds and at most `places` decimals (a float option on Discord)."""
        return self.kind == POINTS

    @property
    def is_zone(self) -> bool:
        """An IANA time zone name (`Europe/Berlin`)."""
        return self.kind == ZONE

    @property
    def is_number(self) -> bool:
        """A whole number with bounds."""
        return not (self.is_id or self.is_choice or self.is_switch or self.is_points or self.is_zone)


# Every setting of a course but its name, in the order the shell's options, the Discord options and
# the range checks list them. A new setting is a line here, a CourseInfo field, its column, and its
# parameter in bot/cogs/courses.py (nextcord reads the options from the function's signature).
COURSE_SETTINGS: tuple[CourseSetting, ...] = (
    CourseSetting(
        "admin_channel_id",
        "admin_channel",
        "channel",
        "the channel instructors run the course from",
        required=True,
        env="admin_channel_id",
    ),
    CourseSetting(
        "attendance_channel_id",
        "attendance_channel",
        "channel",
        "the channel students type /here in",
        required=True,
        env="attendance_channel_id",
        discord="Where students type /here",
        discord_create="Where students type /here",
    ),
    CourseSetting(
        "display_channel_id",
        "display_channel",
        "channel",
        "where the code message goes (default: the attendance channel; the admin channel for a projector)",
        default_field="attendance_channel_id",
        env="code_display_channel_id",
        clear="none",
        discord="Where the code is shown",
        discord_create="Where the code is shown (default: the attendance channel)",
    ),
    CourseSetting(
        "instructor_role_id",
        "instructor_role",
        "role",
        "a role whose members may run the course besides Manage Server (not @everyone)",
        env="admin_role_id",
        clear="none",
        discord="Members with this role run the course",
        discord_create="Members with this role run the course too (besides Manage Server)",
    ),
    CourseSetting(
        "interval",
        "interval",
        "seconds",
        "seconds each code is shown, 5-120 (default: CODE_ROTATION_INTERVAL)",
        MIN_INTERVAL,
        MAX_INTERVAL,
        default="code_rotation_interval",
        discord="Seconds each code is shown",
    ),
    CourseSetting(
        "code_length",
        "code_length",
        "characters",
        "characters per code, 4-8 (default: CODE_LENGTH)",
        MIN_CODE_LENGTH,
        MAX_CODE_LENGTH,
        default="code_length",
        discord="Characters per code",
    ),
    CourseSetting(
        "grace_seconds",
        "grace",
        "seconds",
        "seconds a code stays accepted after it changes, 0-600 (default: CODE_GRACE_SECONDS)",
        0,
        MAX_GRACE_SECONDS,
        default="code_grace_seconds",
        discord="Seconds a code stays valid after it changes",
    ),
    CourseSetting(
        "late_after",
        "late_after",
        "minutes",
        "minutes after a session opens from which a check-in counts as late, 0-240 (default, or 0: never late)",
        0,
        MAX_LATE_AFTER,
        zero_unsets=True,
        discord="Minutes after opening from which a check-in is late (0: never)",
    ),
    CourseSetting(
        "voice_channel_id",
        "voice_channel",
        "channel",
        "the voice or stage channel the class meets in: who is in it is noted at each check-in and "
        "their minutes there are logged while a session is open (default: none)",
        clear="none",
        discord="The voice or stage channel the class meets in",
        discord_create="The voice or stage channel the class meets in (optional)",
        channel_types=("voice", "stage"),
    ),
    CourseSetting(
        "voice_rule",
        "voice_rule",
        "choice",
        "with a voice channel: required (a check-in only from someone in it, or there in the last "
        "minute) or recorded (every check-in, noting whether they were in it; the default)",
        clear="none",
        discord="required: check in only from the voice channel; recorded: note it",
        discord_create="required: check in only from the voice channel; recorded (default): note it",
        choices=tuple(VoiceRule),
    ),
    CourseSetting(
        "code_in_channel",
        "code_in_channel",
        SWITCH,
        "show the code in the display channel's message, yes or no (default: yes; no: only on the projector "
        "page and `code --watch`, the message keeps the count and the Check in button)",
        default_value=True,
        discord="Show the code in the channel's message (False: only on the projector)",
        discord_create="Show the code in the channel's message (default True; False: only on the projector)",
    ),
    CourseSetting(
        "warn_below",
        "warn_below",
        "percent",
        "after each session, name in the admin channel the students whose attendance rate falls below this "
        "percentage, 0-100 (default, or 0: no warnings)",
        0,
        100,
        zero_unsets=True,
        discord="Warn when a student's rate falls below this % (0: no warnings)",
    ),
    CourseSetting(
        "warn_after",
        "warn_after",
        "sessions",
        "no warning until the course has had this many sessions, 1-100 (default: 3)",
        1,
        100,
        default_value=3,
        discord="No warnings before the course has had this many sessions (default 3)",
    ),
    CourseSetting(
        "late_points",
        "late_points",
        POINTS,
        f"what a late session counts in the grade, 0-{MAX_LATE_POINTS} with at most {LATE_POINTS_PLACES} decimals "
        f"(present counts 1, absent 0; default {DEFAULT_LATE_POINTS})",
        0,
        MAX_LATE_POINTS,
        default_value=DEFAULT_LATE_POINTS,
        discord=f"What a late session counts in the grade, 0-1 (present 1, absent 0; default {DEFAULT_LATE_POINTS})",
        places=LATE_POINTS_PLACES,
    ),
    CourseSetting(
        "drop_lowest",
        "drop_lowest",
        "sessions",
        f"how many of each student's worst sessions the grade leaves out, 0-{MAX_DROP_LOWEST} (default 0)",
        0,
        MAX_DROP_LOWEST,
        default_value=0,
        discord="How many of each student's worst sessions the grade leaves out (default 0)",
    ),
    CourseSetting(
        "timezone",
        "timezone",
        ZONE,
        "the IANA time zone its timetable's times are in, e.g. Europe/Berlin (default: TIMEZONE)",
        default="timezone_name",
        discord="The time zone of its timetable, e.g. Europe/Berlin (default: the bot's TIMEZONE)",
    ),
)
COURSE_SETTING = {setting.field: setting for setting in COURSE_SETTINGS}
