"""Configuration: the one place `.env` and the environment are read, validated into Settings."""

from __future__ import annotations

import ipaddress
import os
import re
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, unquote, unquote_plus, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from decouple import RepositoryEnv

from .errors import ConfigurationError

DEFAULT_DATABASE_PATH = "data/attendance.db"
DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_COURSE_NAME = "default"
DEFAULT_INTERVAL = 15
MIN_INTERVAL, MAX_INTERVAL = 5, 120  # pyotp refuses intervals above 120 s
DEFAULT_CODE_LENGTH = 4
MIN_CODE_LENGTH, MAX_CODE_LENGTH = 4, 8
MAX_GRACE_SECONDS = 600

_SNOWFLAKE = re.compile(r"^[0-9]{15,22}$")
_INTEGER = re.compile(r"^-?[0-9]+$")  # plain ASCII digits: int() would also take "+15", "3_0" and "١٥"
_MENTION = re.compile(r"^<[#@&!]+([0-9]+)>$")
_BOT_PREFIX = re.compile(r"^bot\s+", re.IGNORECASE)
_ETC_GMT = re.compile(r"^(?:Etc/)?GMT([+-])([0-9]{1,2})$")

# Zones from tzdata's legacy files that work but rarely mean what the operator wants:
# name -> (what it is, the zone to use instead).
_LEGACY_ZONES = {
    "EST": ("fixed UTC−5, no daylight saving", "America/New_York"),
    "MST": ("fixed UTC−7, no daylight saving", "America/Denver (America/Phoenix in Arizona)"),
    "HST": ("fixed UTC−10, no daylight saving", "Pacific/Honolulu"),
    "EST5EDT": ("US rules only, no local history", "America/New_York"),
    "CST6CDT": ("US rules only, no local history", "America/Chicago"),
    "MST7MDT": ("US rules only, no local history", "America/Denver"),
    "PST8PDT": ("US rules only, no local history", "America/Los_Angeles"),
    "CET": ("EU rules only, no local history", "your city's zone, such as Europe/Berlin or Europe/Paris"),
    "MET": ("EU rules only, no local history", "your city's zone, such as Europe/Berlin or Europe/Paris"),
    "EET": ("EU rules only, no local history", "your city's zone, such as Europe/Athens or Europe/Helsinki"),
    "WET": ("EU rules only, no local history", "your city's zone, such as Europe/Lisbon"),
    "US/Eastern": ("an old alias", "America/New_York"),
    "US/Central": ("an old alias", "America/Chicago"),
    "US/Mountain": ("an old alias", "America/Denver"),
    "US/Arizona": ("an old alias", "America/Phoenix"),
    "US/Pacific": ("an old alias", "America/Los_Angeles"),
    "US/Alaska": ("an old alias", "America/Anchorage"),
    "US/Hawaii": ("an old alias", "Pacific/Honolulu"),
}


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
    # The course ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID define, when they are set.
    course_name: str = DEFAULT_COURSE_NAME
    # Likely pitfalls that still work (a legacy zone, a cleaned-up token): `check` prints them
    # and the bot logs them at start.
    warnings: tuple[str, ...] = ()
    # A PostgreSQL server (DATABASE_URL postgresql://...); None: the SQLite file database_path.
    # It may hold a password: never printed (see database_shown).
    database_url: str | None = field(default=None, repr=False)
    # Discord shards this process runs (SHARD_COUNT, SHARD_IDS); None: one process, Discord's count.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    # Speed-ups nextcord supports (UVLOOP, ORJSON; attendance_bot/speedups.py): off unless set on.
    uvloop: bool = False
    orjson: bool = False
    # The database is the project's data/attendance.db (DATABASE_PATH unset, or set to it), whose
    # folder the bot (and `migrate`) may make; the folder of any other path must exist.
    default_database: bool = False

    @property
    def database_target(self) -> str | Path:
        """What init_db() opens: the PostgreSQL URL, else the SQLite file."""
        return self.database_url or self.database_path

    @property
    def database_shown(self) -> str:
        """The database as it may be printed: the file, or the URL with its password hidden."""
        return shown_url(self.database_url) if self.database_url else str(self.database_path)

    @property
    def display_channel_id(self) -> int | None:
        """Where the `.env` course's code message goes: CODE_DISPLAY_CHANNEL_ID, else its attendance channel."""
        return self.code_display_channel_id or self.attendance_channel_id

    @property
    def defines_course(self) -> bool:
        """Whether `.env` defines a course (both its channels are set)."""
        return self.admin_channel_id is not None and self.attendance_channel_id is not None


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
        self.warnings: list[str] = []

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
        # Suggest the number inside a mention only when it is a valid id itself (`<#1>` is not).
        hint = f" (use {mention.group(1)}, without <#...>)" if mention and _SNOWFLAKE.match(mention.group(1)) else ""
        self.problems.append(
            f"{name} must be a numeric Discord id of 15-22 digits such as 123456789012345678, not {value!r}{hint}"
        )
        return None

    def token(self, *, required: bool) -> str:
        """DISCORD_BOT_TOKEN without a pasted `Bot ` prefix or quotes, which no token contains."""
        raw = self.raw("DISCORD_BOT_TOKEN") or ""
        token, pasted = _clean_token(raw)
        if pasted:
            self.warnings.append(
                f"DISCORD_BOT_TOKEN was pasted with {' and '.join(pasted)}: removed here, as no token contains "
                "them; write the bare token in .env"
            )
        if not token:
            if required:
                self.required_text("DISCORD_BOT_TOKEN", "your-bot-token-from-the-developer-portal")
            return ""
        if re.search(r"\s", token):
            self.warnings.append(
                "DISCORD_BOT_TOKEN contains spaces, which a Discord token never does: copy it again from the "
                "Developer Portal (Bot → Reset Token)"
            )
        return token

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


def _clean_token(raw: str) -> tuple[str, list[str]]:
    """The token with surrounding quotes and a `Bot ` prefix removed, and which of them were there."""
    token, pasted = raw.strip(), []
    while True:
        if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
            token = token[1:-1].strip()
            if "quotes" not in pasted:
                pasted.append("quotes")
        elif _BOT_PREFIX.match(token):
            token = _BOT_PREFIX.sub("", token, count=1)
            if "a 'Bot ' prefix" not in pasted:
                pasted.append("a 'Bot ' prefix")
        else:
            return token, pasted


def _zone_warning(name: str) -> str | None:
    """A sentence about a legacy TIMEZONE that works but is probably not what was meant."""
    if name in _LEGACY_ZONES:
        what, instead = _LEGACY_ZONES[name]
        if what.startswith("fixed"):
            return (
                f"TIMEZONE={name} is a legacy zone ({what}): if clocks change in summer where you teach, "
                f"times will be an hour off; use {instead}"
            )
        return f"TIMEZONE={name} is a legacy zone ({what}); use {instead}"
    etc = _ETC_GMT.match(name)
    if etc and int(etc.group(2)):
        offset = f"UTC{'−' if etc.group(1) == '+' else '+'}{int(etc.group(2))}"
        return (
            f"TIMEZONE={name} means {offset} (the sign of these names is inverted), fixed, no daylight saving; "
            "use your city's zone, such as America/New_York or Asia/Kolkata"
        )
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _api_base_problem(api_base: str) -> str | None:
    """Why DISCORD_API_BASE cannot be used: not an http(s) URL, or clear-text http beyond loopback."""
    malformed = f"DISCORD_API_BASE must be an http(s) URL such as {DEFAULT_API_BASE}, not {api_base!r}"
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", api_base):
        return malformed
    try:
        parts = urlsplit(api_base)
        host = parts.hostname or ""
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return malformed
    if parts.scheme == "http" and not _is_loopback(host):
        return (
            "DISCORD_API_BASE may use http:// only on this machine (127.0.0.1, ::1, localhost): anywhere else the "
            f"token would cross the network in clear text; use https://, not {api_base!r}"
        )
    return None


def everyone_role_problem(role_id: int | None, guild_id: int | None) -> str | None:
    """The sentence refusing ADMIN_ROLE_ID when it is the guild's @everyone role (same id), else None.

    load_settings() checks it against GUILD_ID; the bot calls it again once it knows its guild.
    """
    if role_id is None or guild_id is None or role_id != guild_id:
        return None
    return (
        "ADMIN_ROLE_ID is the server's own id, which Discord uses for the @everyone role: every member would be "
        "an instructor. Set it to the instructors' role (Server Settings → Roles → right-click → Copy Role ID), "
        "or leave it unset"
    )


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

    token = reader.token(required=require_discord)
    # Optional: when both are set they define a course (COURSE_NAME); without them the bot waits
    # for /course create.
    admin_channel = reader.snowflake("ADMIN_CHANNEL_ID", required=False)
    attendance_channel = reader.snowflake("ATTENDANCE_CHANNEL_ID", required=False)
    admin_set, attendance_set = (
        reader.raw("ADMIN_CHANNEL_ID") is not None,
        reader.raw("ATTENDANCE_CHANNEL_ID") is not None,
    )
    if admin_set != attendance_set:
        missing = "ATTENDANCE_CHANNEL_ID" if admin_set else "ADMIN_CHANNEL_ID"
        reader.problems.append(
            f"{missing} is missing: ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID define a course together; set both "
            f"to the channels' numeric ids (for example {missing}=123456789012345678), or neither and set courses "
            "up with /course create"
        )
    course_name = " ".join((reader.raw("COURSE_NAME") or DEFAULT_COURSE_NAME).split())
    if len(course_name) > 50:
        reader.problems.append(f"COURSE_NAME must be 1-50 characters, not {len(course_name)}")
    display_channel = reader.snowflake("CODE_DISPLAY_CHANNEL_ID", required=False)
    admin_role = reader.snowflake("ADMIN_ROLE_ID", required=False)
    guild = reader.snowflake("GUILD_ID", required=False)
    everyone = everyone_role_problem(admin_role, guild)
    if everyone:
        reader.problems.append(everyone)
    if admin_channel is not None and admin_channel == attendance_channel:
        reader.warnings.append(
            "ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID are the same channel: instructors then work where students "
            "type /here (the close summary is posted there too); a separate admin channel is usual"
        )

    interval = reader.integer("CODE_ROTATION_INTERVAL", DEFAULT_INTERVAL, MIN_INTERVAL, MAX_INTERVAL, "seconds")
    length = reader.integer("CODE_LENGTH", DEFAULT_CODE_LENGTH, MIN_CODE_LENGTH, MAX_CODE_LENGTH, "characters")
    grace = reader.integer("CODE_GRACE_SECONDS", interval, 0, MAX_GRACE_SECONDS, "seconds")

    tz_name = reader.raw("TIMEZONE") or "UTC"
    timezone = ZoneInfo("UTC")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        reader.problems.append(f"TIMEZONE must be an IANA time zone name such as UTC or Europe/Berlin, not {tz_name!r}")
    else:
        zone_warning = _zone_warning(tz_name)
        if zone_warning:
            reader.warnings.append(zone_warning)

    database_url, db_raw = _database_url(reader)
    db_raw = db_raw or DEFAULT_DATABASE_PATH
    database_path = Path(db_raw).expanduser()
    if not database_path.is_absolute():
        database_path = base_dir / database_path
    default_database = database_url is None and database_path == base_dir / DEFAULT_DATABASE_PATH
    if database_url is None and database_path.exists() and database_path.is_dir():
        reader.problems.append(f"DATABASE_PATH must name a file, but {db_raw!r} is a folder")
    shard_count, shard_ids = _shards(reader)
    uvloop, orjson = _speedup(reader, "UVLOOP"), _speedup(reader, "ORJSON")

    api_base = (reader.raw("DISCORD_API_BASE") or DEFAULT_API_BASE).rstrip("/")
    api_problem = _api_base_problem(api_base)
    if api_problem:
        reader.problems.append(api_problem)

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
        course_name=course_name,
        warnings=tuple(reader.warnings),
        database_url=database_url,
        shard_count=shard_count,
        shard_ids=shard_ids,
        uvloop=uvloop,
        orjson=orjson,
        default_database=default_database,
    )


_POSTGRES_SCHEMES = ("postgresql", "postgres")
_URL_IN_PATH = re.compile(r"^(?:sqlite|postgres|postgresql):", re.IGNORECASE)
_URL_EXAMPLE = "postgresql://attendance:PASSWORD@127.0.0.1:5432/attendance or sqlite:///data/attendance.db"


_SECRET_KEYS = frozenset({"password", "sslpassword"})  # libpq's parameters that hold a secret


def shown_url(url: str) -> str:
    """A database URL as it may be printed: the password of its user part and the values of
    `?password=` and `?sslpassword=` (any case) replaced by ***.

    A URL that cannot be read reliably (a password with an unencoded `/`, `?`, `#` or `:` makes
    its host, port or path wrong) is shown with everything between `://` and its last `@` hidden,
    or everything after `://` where there is no `@`.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return f"***@{url.rsplit('@', 1)[1]}" if "@" in url else url
    parts = _reliable(url)
    if parts is None:
        if "@" not in rest:
            return f"{scheme}://***"
        where, mark, query = rest.rsplit("@", 1)[1].partition("?")
        return f"{scheme}://***@{where}{mark}{_hide_query(query)}"
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:***@{netloc.rsplit('@', 1)[1]}"
    return parts._replace(netloc=netloc, query=_hide_query(parts.query)).geturl()


def _reliable(url: str) -> SplitResult | None:
    """The URL's parts, or None where they would not be the ones the user meant: a port that is no
    number, a fragment (`#`), or an `@` beyond the host part (a `/` or `?` in the password ended it)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return None
    if "#" in url or "@" in parts.path or ("@" in parts.query and "@" not in parts.netloc):
        return None
    return parts


def _hide_query(query: str) -> str:
    """A URL's query with the values of its secret parameters replaced by *** (keys read as the
    driver reads them: decoded, in any case)."""
    pieces = []
    for piece in query.split("&"):
        key, equals, _ = piece.partition("=")
        if equals and unquote_plus(key).strip().lower() in _SECRET_KEYS:
            piece = f"{key}=***"
        pieces.append(piece)
    return "&".join(pieces)


def url_secrets(url: str) -> list[str]:
    """Every string of a database URL that may be (part of) a secret, longest first, for hiding
    them in a driver's message: the user part's password, the secret parameters' values, and, for
    a URL that does not read reliably, what stands between `://` and the last `@` and its pieces."""
    found: set[str] = set()
    rest = url.partition("://")[2]
    parts = _reliable(url)
    if parts is not None:
        found.update({parts.password or "", unquote(parts.password or "")})
    else:  # the user's name is the first piece: the rest may be the password
        userinfo = rest.rsplit("@", 1)[0] if "@" in rest else rest
        pieces = re.split(r"[:/@?#&=]", userinfo)[1:]
        found.update({userinfo.partition(":")[2], *pieces})
    for piece in rest.split("?", 1)[-1].split("&"):
        key, equals, value = piece.partition("=")
        if equals and unquote_plus(key).strip().lower() in _SECRET_KEYS:
            found.update({value, unquote_plus(value)})
    return sorted((s for s in found if len(s) >= 3), key=len, reverse=True)


def hide_secrets(text: str, url: str) -> str:
    """`text` (a driver's message about `url`) with every secret of the URL replaced by ***."""
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return text


def _database_url(reader: _Reader) -> tuple[str | None, str | None]:
    """DATABASE_URL (it wins over DATABASE_PATH): (the PostgreSQL URL, None), or (None, the SQLite
    path a sqlite:/// URL names, else DATABASE_PATH)."""
    path = reader.raw("DATABASE_PATH")
    url = reader.raw("DATABASE_URL")
    if url is None:
        if path is not None and (_URL_IN_PATH.match(path) or "://" in path):
            reader.problems.append(
                f"DATABASE_PATH is a file's path, not a URL ({shown_url(path)}): write the path alone, as in "
                f"DATABASE_PATH={DEFAULT_DATABASE_PATH}, or give the URL as DATABASE_URL"
            )
            return None, None
        return None, path
    if path is not None:
        reader.warnings.append("DATABASE_PATH is ignored: DATABASE_URL is set and wins")
    if _reliable(url) is None and url.partition(":")[0].lower() in _POSTGRES_SCHEMES:
        reader.problems.append(
            f"DATABASE_URL {shown_url(url)} cannot be read as a URL such as {_URL_EXAMPLE}: its port is not a "
            "number, or its password holds / ? # : or @ as they are; write those percent-encoded (%2F %3F %23 %3A %40)"
        )
        return None, None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        reader.problems.append(f"DATABASE_URL is not a URL such as {_URL_EXAMPLE} (its port is not a number)")
        return None, None
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        if parts.netloc or not parts.path.strip("/"):
            reader.problems.append(f"DATABASE_URL sqlite:/// must be followed by the file's path, as in {_URL_EXAMPLE}")
            return None, None
        return None, parts.path[1:]  # sqlite:///relative/file, sqlite:////absolute/file
    if scheme not in _POSTGRES_SCHEMES:
        reader.problems.append(
            f"DATABASE_URL must start with postgresql:// or sqlite:///, as in {_URL_EXAMPLE}, not {scheme or 'nothing'}://"
        )
        return None, None
    if not parts.hostname or not parts.path.strip("/") or port == 0:
        reader.problems.append(
            f"DATABASE_URL must name the server and the database, as in {_URL_EXAMPLE}: {shown_url(url)} does not"
        )
        return None, None
    return url, None


MAX_SHARDS = 64


def _shards(reader: _Reader) -> tuple[int | None, tuple[int, ...] | None]:
    """SHARD_COUNT and SHARD_IDS: how many shards in all, and which of them this process runs."""
    count_raw, ids_raw = reader.raw("SHARD_COUNT"), reader.raw("SHARD_IDS")
    if count_raw is None:
        if ids_raw is not None:
            reader.problems.append(
                "SHARD_IDS needs SHARD_COUNT (the number of shards in all), for example SHARD_COUNT=2"
            )
        return None, None
    count = reader.integer("SHARD_COUNT", 1, 1, MAX_SHARDS, "shards")
    if ids_raw is None:
        return count, None
    ids: list[int] = []
    for part in ids_raw.split(","):
        text = part.strip()
        if not re.fullmatch(r"[0-9]{1,3}", text) or int(text) >= count:
            reader.problems.append(
                f"SHARD_IDS must list shard numbers from 0 to {count - 1} separated by commas, for example "
                f"SHARD_IDS=0,1, not {ids_raw!r}"
            )
            return count, None
        ids.append(int(text))
    if len(set(ids)) != len(ids):
        reader.problems.append(f"SHARD_IDS lists a shard twice: {ids_raw!r}")
        return count, None
    return count, tuple(sorted(ids))


def _speedup(reader: _Reader, name: str) -> bool:
    """UVLOOP or ORJSON: on or off (unset: off); on while its package is missing is a warning, not an error."""
    import sys

    from . import messages, speedups

    raw = reader.raw(name)
    value = speedups.parse_switch(raw)
    if value is None:
        reader.problems.append(f"{name} must be on or off, not {raw!r}")
        return False
    module = speedups.SWITCHES[name]
    if value and not speedups.installed(module):
        reader.warnings.append(messages.speedup_missing(name, module, sys.executable))
    return value
