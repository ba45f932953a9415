"""Configuration: the one place `.env` and the environment are read, validated into Settings."""

from __future__ import annotations

import os
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from decouple import RepositoryEnv

from .errors import ConfigurationError

DEFAULT_DATABASE_PATH = "data/attendance.db"
DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_INTERVAL = 15
MIN_INTERVAL, MAX_INTERVAL = 5, 120  # pyotp refuses intervals above 120 s
DEFAULT_CODE_LENGTH = 4
MIN_CODE_LENGTH, MAX_CODE_LENGTH = 4, 8
MAX_GRACE_SECONDS = 600

_SNOWFLAKE = re.compile(r"^[0-9]{15,22}$")
_INTEGER = re.compile(r"^-?[0-9]+$")  # plain ASCII digits: int() would also take "+15", "3_0" and "١٥"
_MENTION = re.compile(r"^<[#@&!]+([0-9]+)>$")


@dataclass(frozen=True)
class Settings:
    """Every setting of the bot, validated; built only by load_settings()."""

    discord_bot_token: str = field(repr=False)
    admin_channel_id: int | None
    attendance_channel_id: int | None
    database_path: Path
    code_rotation_interval: int = DEFAULT_INTERVAL
    code_length: int = DEFAULT_CODE_LENGTH
    code_grace_seconds: int = DEFAULT_INTERVAL
    code_display_channel_id: int | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    admin_role_id: int | None = None
    guild_id: int | None = None
    discord_api_base: str = DEFAULT_API_BASE

    @property
    def display_channel_id(self) -> int | None:
        """Where the code message goes: CODE_DISPLAY_CHANNEL_ID, else the attendance channel."""
        return self.code_display_channel_id or self.attendance_channel_id


def _sources(env_file: Path | None, environ: Mapping[str, str]) -> Mapping[str, str]:
    """The environment first, then the values decouple parses from the .env file.

    decouple's own Config always consults os.environ; here the caller's mapping stands in for
    it, so tests and manage.py never pick up stray variables of the process.
    """
    file_values = RepositoryEnv(str(env_file)).data if env_file and env_file.is_file() else {}
    return ChainMap(dict(environ), file_values)


class _Reader:
    """Reads raw strings and collects one problem sentence per bad variable."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def required_text(self, name: str, example: str) -> str:
        value = self.raw(name)
        if value is None:
            self.problems.append(f"{name} is missing: set it in .env, for example {name}={example}")
            return ""
        return value

    def snowflake(self, name: str, *, required: bool) -> int | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.problems.append(
                    f"{name} is missing: set it to the channel's numeric id, for example "
                    f"{name}=123456789012345678 (Discord: Developer Mode, right-click, Copy ID)"
                )
            return None
        if _SNOWFLAKE.match(value):
            return int(value)
        mention = _MENTION.match(value)
        hint = f" (use {mention.group(1)}, without <#...>)" if mention else ""
        self.problems.append(
            f"{name} must be a numeric Discord id of 15-22 digits such as 123456789012345678, not {value!r}{hint}"
        )
        return None

    def integer(self, name: str, default: int, low: int, high: int, unit: str) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if not _INTEGER.match(value):
            self.problems.append(f"{name} must be a whole number of {unit} from {low} to {high}, not {value!r}")
            return default
        number = int(value)
        if not low <= number <= high:
            self.problems.append(f"{name} must be from {low} to {high} {unit}, not {number}")
            return default
        return number


def load_settings(
    env_file: Path | str | None = ".env",
    *,
    environ: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    require_discord: bool = True,
) -> Settings:
    """Read and validate every setting once; raise ConfigurationError naming each bad variable.

    `environ` defaults to os.environ; `base_dir` (default: the .env file's folder) anchors a
    relative DATABASE_PATH. With require_discord=False the token and channel ids may be absent,
    for the shell commands that never talk to Discord.
    """
    env_path = Path(env_file) if env_file else None
    if base_dir is None:
        base_dir = env_path.resolve().parent if env_path else Path.cwd()
    reader = _Reader(_sources(env_path, os.environ if environ is None else environ))

    if require_discord:
        token = reader.required_text("DISCORD_BOT_TOKEN", "your-bot-token-from-the-developer-portal")
    else:
        token = reader.raw("DISCORD_BOT_TOKEN") or ""
    admin_channel = reader.snowflake("ADMIN_CHANNEL_ID", required=require_discord)
    attendance_channel = reader.snowflake("ATTENDANCE_CHANNEL_ID", required=require_discord)
    display_channel = reader.snowflake("CODE_DISPLAY_CHANNEL_ID", required=False)
    admin_role = reader.snowflake("ADMIN_ROLE_ID", required=False)
    guild = reader.snowflake("GUILD_ID", required=False)

    interval = reader.integer("CODE_ROTATION_INTERVAL", DEFAULT_INTERVAL, MIN_INTERVAL, MAX_INTERVAL, "seconds")
    length = reader.integer("CODE_LENGTH", DEFAULT_CODE_LENGTH, MIN_CODE_LENGTH, MAX_CODE_LENGTH, "characters")
    grace = reader.integer("CODE_GRACE_SECONDS", interval, 0, MAX_GRACE_SECONDS, "seconds")

    tz_name = reader.raw("TIMEZONE") or "UTC"
    timezone = ZoneInfo("UTC")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        reader.problems.append(f"TIMEZONE must be an IANA time zone name such as UTC or Europe/Berlin, not {tz_name!r}")

    db_raw = reader.raw("DATABASE_PATH") or DEFAULT_DATABASE_PATH
    database_path = Path(db_raw).expanduser()
    if not database_path.is_absolute():
        database_path = base_dir / database_path
    if database_path.exists() and database_path.is_dir():
        reader.problems.append(f"DATABASE_PATH must name a file, but {db_raw!r} is a folder")

    api_base = (reader.raw("DISCORD_API_BASE") or DEFAULT_API_BASE).rstrip("/")
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", api_base):
        reader.problems.append(f"DISCORD_API_BASE must be an http(s) URL such as {DEFAULT_API_BASE}, not {api_base!r}")

    if reader.problems:
        raise ConfigurationError(reader.problems)
    return Settings(
        discord_bot_token=token,
        admin_channel_id=admin_channel,
        attendance_channel_id=attendance_channel,
        database_path=database_path,
        code_rotation_interval=interval,
        code_length=length,
        code_grace_seconds=grace,
        code_display_channel_id=display_channel,
        timezone=timezone,
        admin_role_id=admin_role,
        guild_id=guild,
        discord_api_base=api_base,
    )
