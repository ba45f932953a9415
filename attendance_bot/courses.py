"""Courses: the rules for creating, changing, archiving and finding them (Discord's own checks,
such as the bot's permissions in a channel, are the bot's; everything else is here, for the bot
and manage.py alike)."""

from __future__ import annotations

import logging
import unicodedata
from decimal import Decimal

import peewee

from . import storage
from .clock import Clock, utc_now
from .coursesettings import COURSE_SETTINGS
from .errors import CourseError, CourseNeeded, UnknownCourse
from .migrations import CourseDefaults, fold
from .models import Course, Session
from .records import CourseInfo
from .settings import Settings
from .timetable import zone_name

log = logging.getLogger(__name__)

MAX_NAME_LENGTH = 50
# Keys of edit(): what an instructor may change.
EDITABLE = ("name", *(setting.field for setting in COURSE_SETTINGS))
# The settings `.env` sets on the course it defines: setting -> the Settings attribute.
ENV_SET = {setting.field: setting.env for setting in COURSE_SETTINGS if setting.env}


def env_course(settings: Settings) -> CourseDefaults:
    """The course `.env` defines (COURSE_NAME and its channels)."""
    return CourseDefaults(
        name=settings.course_name,
        guild_id=settings.guild_id,
        **{field: getattr(settings, attribute) for field, attribute in ENV_SET.items()},
    )


def clean_name(name: str) -> str:
    """A course name as stored: surrounding and repeated spaces removed; CourseError if unusable:
    empty, too long, or holding a control (C0, C1), format (bidi overrides and isolates, zero-width)
    or line-separator character (a tab or line break is only a space)."""
    text = str(name)
    cleaned = " ".join(text.split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH or any(_hidden(ch) for ch in text):
        raise CourseError("course_name_invalid", name=name, limit=MAX_NAME_LENGTH)
    return cleaned


def _spell_zones(fields: dict[str, object]) -> None:
    """Time zone names as tzdata spells them (`europe/berlin` is Europe/Berlin); unknown ones stay as typed."""
    for setting in COURSE_SETTINGS:
        value = fields.get(setting.field)
        if setting.is_zone and isinstance(value, str):
            fields[setting.field] = zone_name(value) or value


def _hidden(ch: str) -> bool:
    return ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs")


class CourseService:
    """Courses over the models; holds settings (the code defaults) and a clock, no state."""

    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock

    # -- reading ----------------------------------------------------------------------------

    def info(self, row: Course, open_session_id: str | None = None) -> CourseInfo:
        values: dict[str, object] = {}
        for setting in COURSE_SETTINGS:  # an unset value follows .env's default or another setting
            value = getattr(row, setting.field)
            if value is None and setting.default is not None:
                value = getattr(self.settings, setting.default)
            elif value is None and setting.default_field is not None:
                value = getattr(row, setting.default_field)
            elif value is None and setting.default_value is not None:
                value = setting.default_value
            values[setting.field] = value
        return CourseInfo(
            id=row.id,
            name=row.name,
            guild_id=row.guild_id,
            archived_at=row.archived_at,
            open_session_id=open_session_id,
            **values,  # type: ignore[arg-type]
        )

    def courses(self, guild_id: int | None = None, *, archived: bool = True) -> list[CourseInfo]:
        """Every course (of one server), by name, with its open session if any."""
        query = Course.select()
        if guild_id is not None:
            query = query.where(Course.guild_id == guild_id)
        if not archived:
            query = query.where(Course.archived_at.is_null())
        open_ids = dict(Session.select(Session.course, Session.session_id).where(Session.open_flag == 1).tuples())
        rows = sorted(query, key=lambda r: (r.name_key, r.guild_id or 0))
        return [self.info(r, open_ids.get(r.id)) for r in rows]

    def get(self, course_id: int) -> CourseInfo:
        row = Course.get_or_none(Course.id == course_id)
        if row is None:
            raise UnknownCourse("unknown_course", name=str(course_id), names=[])
        return self._with_open(row)

    def find(self, name: str, guild_id: int | None = None) -> CourseInfo:
        """A course by name (in one server); UnknownCourse lists the names there are.

        Without a server, a name that exists in several servers is CourseNeeded (say which).
        """
        query = Course.select().where(Course.name_key == fold(name))
        if guild_id is not None:
            query = query.where(Course.guild_id == guild_id)
        rows = list(query) if "\x00" not in name else []  # NUL is in no name (PostgreSQL refuses it)
        if not rows:
            names = [c.name for c in self.courses(guild_id)]
            raise UnknownCourse("unknown_course", name=name, names=names)
        if len(rows) > 1:
            raise CourseNeeded(
                "course_in_several_servers",
                name=name,
                guild_ids=[r.guild_id for r in rows],
                names=[r.name for r in rows],
            )
        return self._with_open(rows[0])

    def _with_open(self, row: Course) -> CourseInfo:
        open_row = Session.get_or_none((Session.course == row.id) & (Session.open_flag == 1))
        return self.info(row, open_row.session_id if open_row else None)

    def for_admin_channel(
        self,
        guild_id: int | None,
        channel_id: int | None,
        name: str | None,
        known: list[CourseInfo] | None = None,
    ) -> CourseInfo:
        """The course an admin command in this channel means: the one named (it must be run in that
        course's admin channel), else the one whose admin channel this is; CourseNeeded lists the
        candidates when several share the channel, CourseError says where to go when none.
        `known` is the server's courses when the caller has just read them."""
        if name and name.strip():
            course = self.find(name, guild_id)
            if course.admin_channel_id != channel_id:
                raise CourseError(
                    "not_this_courses_admin_channel", name=course.name, channel_id=course.admin_channel_id
                )
            return course
        every = known if known is not None else self.courses(guild_id)
        here = [c for c in every if c.admin_channel_id == channel_id]
        active = [c for c in here if not c.archived] or here
        if len(active) == 1:
            return active[0]
        if not active:
            elsewhere = [c for c in every if not c.archived and c.admin_channel_id]
            raise CourseError("no_course_here", courses=[(c.name, c.admin_channel_id) for c in elsewhere])
        names = [c.name for c in active]
        raise CourseNeeded("course_option_needed", names=names)

    def for_shell(self, name: str | None) -> CourseInfo:
        """The course a manage.py command means: the one named, else the only one not archived."""
        if name and name.strip():
            return self.find(name)
        active = self.courses(archived=False)
        if len(active) == 1:
            return active[0]
        names = [c.name for c in active]
        raise CourseNeeded("shell_course_needed", names=names)

    # -- writing ----------------------------------------------------------------------------

    def create(
        self,
        *,
        name: str,
        guild_id: int | None,
        **settings: int | bool | Decimal | str | None,
    ) -> CourseInfo:
        """A new course; CourseError if the name is taken in the server or a setting is out of range.

        `settings` are COURSE_SETTINGS by field; the required ones must be given (None allowed),
        the others default to None (unset)."""
        unknown = set(settings) - set(EDITABLE)
        missing = [s.field for s in COURSE_SETTINGS if s.required and s.field not in settings]
        if unknown or missing:
            raise TypeError(f"not course settings: {sorted(unknown)}; missing: {missing}")
        fields: dict[str, object] = {"name": clean_name(name), "guild_id": guild_id}
        fields |= {setting.field: settings.get(setting.field) for setting in COURSE_SETTINGS}
        _spell_zones(fields)
        self._check(fields, guild_id)
        for setting in COURSE_SETTINGS:  # late_after 0 (never late), warn_below 0 (no warnings): not set
            if setting.zero_unsets:
                fields[setting.field] = fields[setting.field] or None
        fields |= _points(fields)
        try:
            with storage.immediate():
                self._refuse_taken(fields["name"], guild_id, None)
                row = storage.create_course(name_key=fold(fields["name"]), created_at=self.clock(), **fields)
        except peewee.IntegrityError as exc:
            raise CourseError("course_name_taken", name=fields["name"]) from exc
        except peewee.DatabaseError as exc:
            raise storage.failure("creating the course", exc) from exc
        log.info("Created course %r (id %d) in server %s", row.name, row.id, guild_id)
        return self.info(row)

    def edit(self, course_id: int, **changes: object) -> CourseInfo:
        """Change a course; what changes applies to its next session, never to an open one."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise TypeError(f"not editable: {sorted(unknown)}")
        if not changes:
            raise CourseError("course_edit_needs_a_change")
        if "name" in changes:
            changes["name"] = clean_name(str(changes["name"]))
        _spell_zones(changes)
        try:
            with storage.immediate():
                row = Course.get_or_none(Course.id == course_id)
                if row is None:
                    raise UnknownCourse("unknown_course", name=str(course_id), names=[])
                if changes.get("voice_channel_id", 0) is None:  # no channel, no rule: clearing one clears both
                    changes.setdefault("voice_rule", None)
                merged = {name: getattr(row, name) for name in EDITABLE} | changes
                self._check(merged, row.guild_id)
                for setting in COURSE_SETTINGS:  # late_after 0 (never late), warn_below 0: stored as not set
                    if setting.zero_unsets and setting.field in changes:
                        changes[setting.field] = changes[setting.field] or None
                changes |= _points(changes)
                if "name" in changes:
                    self._refuse_taken(str(changes["name"]), row.guild_id, row.id)
                    changes["name_key"] = fold(str(changes["name"]))
                storage.update_course(row.id, **changes)
        except peewee.IntegrityError as exc:
            raise CourseError("course_name_taken", name=str(changes.get("name"))) from exc
        except peewee.DatabaseError as exc:
            raise storage.failure("changing the course", exc) from exc
        log.info("Changed course %d: %s", course_id, ", ".join(sorted(changes)))
        return self.get(course_id)

    def archive(self, course_id: int) -> CourseInfo:
        """No new sessions for this course; its records and exports stay. Refused while a session is open."""
        try:
            with storage.immediate():
                course = self.get(course_id)
                if course.archived:
                    raise CourseError("course_already_archived", name=course.name)
                if course.open_session_id:
                    raise CourseError("close_before_archiving", name=course.name, session_id=course.open_session_id)
                storage.update_course(course_id, archived_at=self.clock())
        except peewee.DatabaseError as exc:
            raise storage.failure("archiving the course", exc) from exc
        log.info("Archived course %r", course.name)
        return self.get(course_id)

    def sync_env_course(self, guild_id: int | None) -> CourseInfo | None:
        """Create or update the course `.env` defines (ADMIN_CHANNEL_ID, ATTENDANCE_CHANNEL_ID), at start.

        None when `.env` defines none. The course is found by name in the server (or among
        courses a migration made before the server was known), and its channels and role follow
        `.env`; its code settings stay as instructors set them.
        """
        env = env_course(self.settings)
        if env.admin_channel_id is None or env.attendance_channel_id is None:
            return None
        key = fold(env.name)
        if guild_id is None:  # the shell without GUILD_ID: the course of that name wherever the bot placed it
            rows = list(Course.select().where(Course.name_key == key))
            if len({r.guild_id for r in rows}) > 1:
                raise CourseError(
                    "env_course_in_several_servers",
                    name=env.name,
                    guild_ids=sorted(r.guild_id for r in rows if r.guild_id),
                )
            row = rows[0] if rows else None
        else:
            row = (
                Course.select()
                .where((Course.name_key == key) & ((Course.guild_id == guild_id) | Course.guild_id.is_null()))
                .order_by(Course.guild_id.is_null())
                .first()
            )
        fields = {field: getattr(env, field) for field in ENV_SET}
        if row is None:
            return self.create(name=env.name, guild_id=guild_id, **fields)
        if row.guild_id is None and guild_id is not None:
            with storage.immediate():
                storage.update_course(row.id, guild_id=guild_id)
        changed = {name: value for name, value in fields.items() if getattr(row, name) != value}
        if not changed:  # a restart with the same .env: nothing to write, nothing to log
            return self.get(row.id)
        return self.edit(row.id, **changed)

    # -- helpers ----------------------------------------------------------------------------

    def _check(self, fields: dict[str, object], guild_id: int | None) -> None:
        """CourseError for the first setting that Discord or the codes cannot use."""
        role = fields.get("instructor_role_id")
        if role is not None and guild_id is not None and role == guild_id:
            raise CourseError("instructor_role_is_everyone")
        for setting in COURSE_SETTINGS:
            low, high, value = setting.low, setting.high, fields.get(setting.field)
            if setting.is_choice and value is not None and value not in setting.choices:
                raise CourseError(
                    "course_setting_not_a_choice", key=setting.field, value=value, choices=setting.choices
                )
            if setting.is_zone and value is not None and zone_name(str(value)) != value:
                raise CourseError("course_timezone_unknown", value=value)
            if setting.is_switch and value is not None and not isinstance(value, bool):
                raise TypeError(f"{setting.field} is on or off (True or False), not {value!r}")
            if low is None or high is None or value is None:
                continue
            if setting.is_points:
                in_range = _in_steps(value, low, high, setting.places)
            else:
                in_range = isinstance(value, int) and low <= value <= high
            if not in_range:
                raise CourseError(
                    "course_setting_out_of_range", key=setting.field, value=value, low=low, high=high, unit=setting.kind
                )

        if fields.get("voice_rule") is not None and fields.get("voice_channel_id") is None:
            raise CourseError("voice_rule_without_channel", rule=fields["voice_rule"])

    def _refuse_taken(self, name: str, guild_id: int | None, course_id: int | None) -> None:
        query = Course.select().where((Course.name_key == fold(name)) & (Course.guild_id == guild_id))
        if course_id is not None:
            query = query.where(Course.id != course_id)
        taken = query.first()
        if taken is not None:  # named as it is stored: the spelling typed may differ in case and spaces
            raise CourseError("course_name_taken", name=taken.name)


def _in_steps(value: object, low: int, high: int, places: int) -> bool:
    """Whether a decimal setting is a number from low to high with at most `places` decimals (an int
    or a Decimal: a float from Discord is made a Decimal of its text by the adapter)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return False
    number = Decimal(value)
    return number.is_finite() and low <= number <= high and number == round(number, places)


def _points(fields: dict[str, object]) -> dict[str, object]:
    """The decimal settings among `fields` as stored: a Decimal of exactly their places (0.8 -> 0.80)."""
    stored: dict[str, object] = {}
    for setting in COURSE_SETTINGS:
        value = fields.get(setting.field)
        if setting.is_points and isinstance(value, int | Decimal):
            stored[setting.field] = round(Decimal(value), setting.places)
    return stored
