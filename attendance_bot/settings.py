"""Configuration: the one place `.env` and the environment are read, validated into Settings."""

from __future__ import annotations

import ipaddress
import os
import re
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, unquote, unquote_plus, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from decouple import RepositoryEnv

from .errors import AttendanceError, ConfigurationError, Notice

DEFAULT_DATABASE_PATH = "data/attendance.db"
DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_COURSE_NAME = "default"
DEFAULT_INTERVAL = 15
MIN_INTERVAL, MAX_INTERVAL = 5, 120  # pyotp refuses intervals above 120 s
DEFAULT_CODE_LENGTH = 4
MIN_CODE_LENGTH, MAX_CODE_LENGTH = 4, 8
MAX_GRACE_SECONDS = 600
DEFAULT_WEB_PORT = 8765  # the projector page and /healthz (0: off)
DEFAULT_WEB_BIND = "127.0.0.1"
# The token from a file (a Docker secret, mounted at /run/secrets/NAME), as an alternative to the variable.
TOKEN_FILE_VARIABLE = "DISCORD_BOT_TOKEN_FILE"  # noqa: S105 -- the variable's name, not a token
MAX_TOKEN_FILE_BYTES = 4096  # a token is under 100 characters: more is the wrong file
# The run path's log (LOG_LEVEL, LOG_FORMAT): the levels by name, and its formats (json: one object a line).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
DEFAULT_LOG_LEVEL, DEFAULT_LOG_FORMAT = "INFO", "text"

_SNOWFLAKE = re.compile(r"^[0-9]{15,22}$")
_INTEGER = re.compile(r"^-?[0-9]+$")  # plain ASCII digits: int() would also take "+15", "3_0" and "١٥"
_MENTION = re.compile(r"^<[#@&!]+([0-9]+)>$")
_BOT_PREFIX = re.compile(r"^bot\s+", re.IGNORECASE)
_ETC_GMT = re.compile(r"^(?:Etc/)?GMT([+-])([0-9]{1,2})$")

# Zones from tzdata's legacy files that work but rarely mean what the operator wants: a warning
# (the sentence legacy_zone says what each is and which zone to use instead).
LEGACY_ZONES = frozenset(
    {
        "EST",
        "MST",
        "HST",
        "EST5EDT",
        "CST6CDT",
        "MST7MDT",
        "PST8PDT",
        "CET",
        "MET",
        "EET",
        "WET",
        "US/Eastern",
        "US/Central",
        "US/Mountain",
        "US/Arizona",
        "US/Pacific",
        "US/Alaska",
        "US/Hawaii",
    }
)


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
    # Likely pitfalls that still work (a legacy zone, a cleaned-up token), as data: `check` prints
    # them and the bot logs them at start.
    notices: tuple[Notice, ...] = ()
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
    # The projector page and /healthz (attendance_bot/web/): the port (0: off), the address it
    # listens on, and the address people open (PUBLIC_URL, default http://127.0.0.1:<port>).
    web_port: int = DEFAULT_WEB_PORT
    web_bind: str = DEFAULT_WEB_BIND
    public_url: str = f"http://127.0.0.1:{DEFAULT_WEB_PORT}"
    # The run path's log: the lowest level written (one of LOG_LEVELS) and its format (LOG_FORMATS).
    log_level: str = DEFAULT_LOG_LEVEL
    log_format: str = DEFAULT_LOG_FORMAT

    @property
    def warnings(self) -> tuple[str, ...]:
        """The notices as English sentences (what `check` prints and the bot logs)."""
        return tuple(str(notice) for notice in self.notices)

    @property
    def timezone_name(self) -> str:
        """TIMEZONE's IANA name (every course's timetable's default)."""
        return self.timezone.key

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


class SettingProblem(AttendanceError):
    """One setting missing or malformed: one of a ConfigurationError's errors."""


class _Reader:
    """Reads raw strings and collects one problem per bad variable, and the notices."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self.problems: list[AttendanceError] = []
        self.notices: list[Notice] = []

    def problem(self, kind: str, /, **values: object) -> None:
        self.problems.append(SettingProblem(kind, **values))

    def notice(self, kind: str, /, **values: object) -> None:
        self.notices.append(Notice(kind, **values))

    def raw(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def snowflake(self, name: str, *, required: bool) -> int | None:
        value = self.raw(name)
        if value is None:
            if required:
                self.problem("channel_id_missing", name=name)
            return None
        if _SNOWFLAKE.match(value):
            return int(value)
        mention = _MENTION.match(value)
        # Suggest the number inside a mention only when it is a valid id itself (`<#1>` is not).
        inside = mention.group(1) if mention and _SNOWFLAKE.match(mention.group(1)) else None
        self.problem("setting_not_a_snowflake", name=name, value=value, inside=inside)
        return None

    def token(self, *, required: bool, base_dir: Path) -> str:
        """DISCORD_BOT_TOKEN, or what the file DISCORD_BOT_TOKEN_FILE names holds (a Docker secret), without
        a pasted `Bot ` prefix or quotes, which no token contains. The file is read only where the token
        is required: the commands that never talk to Discord run without it (a secret not mounted)."""
        name, raw = "DISCORD_BOT_TOKEN", self.raw("DISCORD_BOT_TOKEN")
        typed_file = self.raw(TOKEN_FILE_VARIABLE)
        if typed_file is not None:
            if raw is not None:
                self.problem("token_set_twice")
                return ""
            if not required:
                return ""
            name, raw = TOKEN_FILE_VARIABLE, self._token_file(typed_file, base_dir)
            if raw is None:
                return ""
        token, pasted = _clean_token(raw or "")
        if pasted:
            self.notice("token_pasted_with", pasted=pasted, name=name)
        if not token:
            if name == TOKEN_FILE_VARIABLE:
                self.problem("token_file_empty", path=str(_token_path(typed_file or "", base_dir)))
            elif required:
                self.problem("token_missing", example="your-bot-token-from-the-developer-portal")
            return ""
        if re.search(r"\s", token):
            self.notice("token_has_spaces", name=name)
        return token

    def _token_file(self, typed: str, base_dir: Path) -> str | None:
        """The text of the token's file, or None with the problem recorded (its contents never are)."""
        path = _token_path(typed, base_dir)
        try:
            if not path.exists():
                self.problem("token_file_missing", path=str(path))
                return None
            if not path.is_file():
                self.problem("token_file_not_a_file", path=str(path))
                return None
            with path.open("rb") as file:
                data = file.read(MAX_TOKEN_FILE_BYTES + 1)
        except OSError as exc:
            self.problem("token_file_unreadable", path=str(path), reason=exc.strerror or str(exc), uid=os.getuid())
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or len(data) > MAX_TOKEN_FILE_BYTES:
            self.problem("token_file_not_a_token", path=str(path), limit=MAX_TOKEN_FILE_BYTES)
            return None
        return text

    def integer(self, name: str, default: int, low: int, high: int, unit: str) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if not _INTEGER.match(value):
            self.problem("setting_not_a_whole_number", name=name, unit=unit, low=low, high=high, value=value)
            return default
        number = int(value)
        if not low <= number <= high:
            self.problem("setting_out_of_range", name=name, low=low, high=high, unit=unit, number=number)
            return default
        return number


def _clean_token(raw: str) -> tuple[str, list[str]]:
    """The token with surrounding quotes and a `Bot ` prefix removed, and which of them were there
    ("quotes", "bot prefix")."""
    token, pasted = raw.strip(), []
    while True:
        if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
            token = token[1:-1].strip()
            if "quotes" not in pasted:
                pasted.append("quotes")
        elif _BOT_PREFIX.match(token):
            token = _BOT_PREFIX.sub("", token, count=1)
            if "bot prefix" not in pasted:
                pasted.append("bot prefix")
        else:
            return token, pasted


def _token_path(typed: str, base_dir: Path) -> Path:
    """DISCORD_BOT_TOKEN_FILE as a path: a relative one is relative to base_dir, as DATABASE_PATH is."""
    path = Path(typed).expanduser()
    return path if path.is_absolute() else base_dir / path


def _zone_notice(name: str) -> Notice | None:
    """A legacy TIMEZONE that works but is probably not what was meant."""
    if name in LEGACY_ZONES:
        return Notice("legacy_zone", name=name)
    etc = _ETC_GMT.match(name)
    if etc and int(etc.group(2)):
        return Notice("inverted_zone", name=name, hours=int(etc.group(2)) * (-1 if etc.group(1) == "+" else 1))
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _api_base_problem(api_base: str) -> AttendanceError | None:
    """Why DISCORD_API_BASE cannot be used: not an http(s) URL, or clear-text http beyond loopback."""
    malformed = SettingProblem("api_base_malformed", api_base=api_base, default=DEFAULT_API_BASE)
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", api_base):
        return malformed
    try:
        parts = urlsplit(api_base)
        host = parts.hostname or ""
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return malformed
    if parts.scheme == "http" and not _is_loopback(host):
        return SettingProblem("api_base_in_clear_text", api_base=api_base)
    return None


def everyone_role_problem(role_id: int | None, guild_id: int | None) -> AttendanceError | None:
    """The error refusing ADMIN_ROLE_ID when it is the guild's @everyone role (same id), else None.

    load_settings() checks it against GUILD_ID; the bot calls it again once it knows its guild.
    """
    if role_id is None or guild_id is None or role_id != guild_id:
        return None
    return SettingProblem("admin_role_is_everyone")


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

    token = reader.token(required=require_discord, base_dir=base_dir)
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
        reader.problem("channel_pair_incomplete", missing=missing)
    course_name = " ".join((reader.raw("COURSE_NAME") or DEFAULT_COURSE_NAME).split())
    if len(course_name) > 50:
        reader.problem("env_course_name_too_long", length=len(course_name))
    display_channel = reader.snowflake("CODE_DISPLAY_CHANNEL_ID", required=False)
    admin_role = reader.snowflake("ADMIN_ROLE_ID", required=False)
    guild = reader.snowflake("GUILD_ID", required=False)
    everyone = everyone_role_problem(admin_role, guild)
    if everyone:
        reader.problems.append(everyone)
    if admin_channel is not None and admin_channel == attendance_channel:
        reader.notice("admin_channel_is_attendance_channel")

    interval = reader.integer("CODE_ROTATION_INTERVAL", DEFAULT_INTERVAL, MIN_INTERVAL, MAX_INTERVAL, "seconds")
    length = reader.integer("CODE_LENGTH", DEFAULT_CODE_LENGTH, MIN_CODE_LENGTH, MAX_CODE_LENGTH, "characters")
    grace = reader.integer("CODE_GRACE_SECONDS", interval, 0, MAX_GRACE_SECONDS, "seconds")

    tz_name = reader.raw("TIMEZONE") or "UTC"
    timezone = ZoneInfo("UTC")
    try:
        timezone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        reader.problem("timezone_unknown", name=tz_name)
    else:
        zone_notice = _zone_notice(tz_name)
        if zone_notice:
            reader.notices.append(zone_notice)

    database_url, db_raw = _database_url(reader)
    db_raw = db_raw or DEFAULT_DATABASE_PATH
    database_path = Path(db_raw).expanduser()
    if not database_path.is_absolute():
        database_path = base_dir / database_path
    default_database = database_url is None and database_path == base_dir / DEFAULT_DATABASE_PATH
    if database_url is None and database_path.exists() and database_path.is_dir():
        reader.problem("database_path_is_folder", typed=db_raw)
    shard_count, shard_ids = _shards(reader)
    uvloop, orjson = _speedup(reader, "UVLOOP"), _speedup(reader, "ORJSON")

    api_base = (reader.raw("DISCORD_API_BASE") or DEFAULT_API_BASE).rstrip("/")
    api_problem = _api_base_problem(api_base)
    if api_problem:
        reader.problems.append(api_problem)

    web_port, web_bind, public_url = _web(reader)
    log_level = _log_setting(reader, "LOG_LEVEL", LOG_LEVELS, DEFAULT_LOG_LEVEL, str.upper)
    log_format = _log_setting(reader, "LOG_FORMAT", LOG_FORMATS, DEFAULT_LOG_FORMAT, str.lower)

    if reader.problems:
        raise ConfigurationError(errors=reader.problems)
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
        notices=tuple(reader.notices),
        database_url=database_url,
        shard_count=shard_count,
        shard_ids=shard_ids,
        uvloop=uvloop,
        orjson=orjson,
        default_database=default_database,
        web_port=web_port,
        web_bind=web_bind,
        public_url=public_url,
        log_level=log_level,
        log_format=log_format,
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
            reader.problem("database_path_is_a_url", shown=shown_url(path), default=DEFAULT_DATABASE_PATH)
            return None, None
        return None, path
    if path is not None:
        reader.notice("database_path_ignored")
    if _reliable(url) is None and url.partition(":")[0].lower() in _POSTGRES_SCHEMES:
        reader.problem("database_url_unreadable", shown=shown_url(url), example=_URL_EXAMPLE)
        return None, None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        reader.problem("database_url_bad_port", example=_URL_EXAMPLE)
        return None, None
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        if parts.netloc or not parts.path.strip("/"):
            reader.problem("database_url_sqlite_without_path", example=_URL_EXAMPLE)
            return None, None
        return None, parts.path[1:]  # sqlite:///relative/file, sqlite:////absolute/file
    if scheme not in _POSTGRES_SCHEMES:
        reader.problem("database_url_bad_scheme", scheme=scheme, example=_URL_EXAMPLE)
        return None, None
    if not parts.hostname or not parts.path.strip("/") or port == 0:
        reader.problem("database_url_incomplete", shown=shown_url(url), example=_URL_EXAMPLE)
        return None, None
    return url, None


MAX_SHARDS = 64


def _shards(reader: _Reader) -> tuple[int | None, tuple[int, ...] | None]:
    """SHARD_COUNT and SHARD_IDS: how many shards in all, and which of them this process runs."""
    count_raw, ids_raw = reader.raw("SHARD_COUNT"), reader.raw("SHARD_IDS")
    if count_raw is None:
        if ids_raw is not None:
            reader.problem("shard_ids_without_count")
        return None, None
    count = reader.integer("SHARD_COUNT", 1, 1, MAX_SHARDS, "shards")
    if ids_raw is None:
        return count, None
    ids: list[int] = []
    for part in ids_raw.split(","):
        text = part.strip()
        if not re.fullmatch(r"[0-9]{1,3}", text) or int(text) >= count:
            reader.problem("shard_ids_malformed", highest=count - 1, typed=ids_raw)
            return count, None
        ids.append(int(text))
    if len(set(ids)) != len(ids):
        reader.problem("shard_ids_twice", typed=ids_raw)
        return count, None
    return count, tuple(sorted(ids))


def _speedup(reader: _Reader, name: str) -> bool:
    """UVLOOP or ORJSON: on or off (unset: off); on while its package is missing is a warning, not an error."""
    import sys

    from . import speedups

    raw = reader.raw(name)
    value = speedups.parse_switch(raw)
    if value is None:
        reader.problem("switch_malformed", name=name, typed=raw)
        return False
    module = speedups.SWITCHES[name]
    if value and not speedups.installed(module):
        reader.notice("speedup_missing", name=name, module=module, python=sys.executable)
    return value


def _log_setting(reader: _Reader, name: str, choices: tuple[str, ...], default: str, fold: Callable[[str], str]) -> str:
    """LOG_LEVEL or LOG_FORMAT: one word of `choices`, in any case (unset: `default`); another is a problem."""
    typed = reader.raw(name)
    if typed is None:
        return default
    if fold(typed) not in choices:
        reader.problem("log_setting_unknown", name=name, typed=typed, choices=choices)
        return default
    return fold(typed)


def _web(reader: _Reader) -> tuple[int, str, str]:
    """WEB_PORT, WEB_BIND and PUBLIC_URL: where the projector page listens and the address its links name.

    WEB_BIND is an IP address (or localhost); PUBLIC_URL an http(s) address without query or
    fragment (a path is kept: a reverse proxy may serve the page under one), its trailing `/` dropped.
    Serving beyond this machine without HTTPS works but is a notice: the link is the key to the code.
    """
    port = DEFAULT_WEB_PORT
    typed = reader.raw("WEB_PORT")
    if typed is not None:
        if _INTEGER.match(typed) and 0 <= int(typed) <= 65535:
            port = int(typed)
        else:
            reader.problem("web_port_malformed", typed=typed)
    bind = reader.raw("WEB_BIND") or DEFAULT_WEB_BIND
    if bind != "localhost":
        try:
            ipaddress.ip_address(bind.strip("[]"))
        except ValueError:
            reader.problem("web_bind_malformed", typed=bind, default=DEFAULT_WEB_BIND)
        else:
            bind = bind.strip("[]")
    default_url = f"http://127.0.0.1:{port}"
    public = (reader.raw("PUBLIC_URL") or default_url).rstrip("/")
    try:
        parts = urlsplit(public)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or re.search(r"\s", public)
    ):
        reader.problem("public_url_malformed", typed=public, example=default_url)
        return port, bind, default_url
    if port and parts.scheme == "http" and not (_is_loopback(parts.hostname) and _is_loopback(bind)):
        reader.notice("web_in_clear_text", bind=bind, public_url=public)
    return port, bind, public
