"""The settings' problems and notices, and the speed-ups."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


# -- speed-ups (UVLOOP, ORJSON; attendance_bot/speedups.py) ---------------------------------------


def speedup_in_use(module: str, version: str, what: str) -> str:
    """`manage.py run`'s line for a speed-up switched on (the benchmark looks for it)."""
    return f"Using {module} {version} for {what}"


def speedup_missing(name: str, module: str, python: str) -> str:
    """The settings warning when UVLOOP=on or ORJSON=on names a package not installed for `python`."""
    return f"{name}=on but {module} is not installed for {python}: `pip install {module}`; running without it"


# -- settings (settings.py's problems and notices, by kind) ----------------------------------------

_LEGACY_ZONES = {  # TIMEZONE names that work but rarely mean what is wanted: (what it is, what to use)
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
LEGACY_ZONE_NAMES = frozenset(_LEGACY_ZONES)  # settings.LEGACY_ZONES must be these (a test says so)
_PASTED = {"quotes": "quotes", "bot prefix": "a 'Bot ' prefix"}


def setting_missing(name: str, example: str) -> str:
    return f"{name} is missing: set it in .env, for example {name}={example}"


def channel_id_missing(name: str) -> str:
    return (
        f"{name} is missing: set it to the channel's numeric id, for example "
        f"{name}=123456789012345678 (Discord: Developer Mode, right-click, Copy ID)"
    )


def setting_not_a_snowflake(name: str, value: str, inside: str | None) -> str:
    """`inside`: the number inside a pasted mention (`<#123...>`), when it is an id itself."""
    hint = f" (use {inside}, without <#...>)" if inside else ""
    return f"{name} must be a numeric Discord id of 15-22 digits such as 123456789012345678, not {value!r}{hint}"


def token_missing(example: str) -> str:
    return (
        f"DISCORD_BOT_TOKEN is missing: set it in .env, for example DISCORD_BOT_TOKEN={example}, or name a file "
        "that holds it in DISCORD_BOT_TOKEN_FILE (such as a Docker secret, /run/secrets/discord_bot_token)"
    )


def token_pasted_with(pasted: list[str], name: str) -> str:
    """`pasted`: what was removed around the token ("quotes", "bot prefix"); `name`: DISCORD_BOT_TOKEN, or
    DISCORD_BOT_TOKEN_FILE when the token came from that file."""
    what = " and ".join(_PASTED.get(item, item) for item in pasted)
    subject, where = _token_source(name)
    return f"{subject} was pasted with {what}: removed here, as no token contains them; write the bare token in {where}"


def token_has_spaces(name: str) -> str:
    subject, _ = _token_source(name)
    return (
        f"{subject} contains spaces, which a Discord token never does: copy it again from the "
        "Developer Portal (Bot → Reset Token)"
    )


def _token_source(name: str) -> tuple[str, str]:
    """What holds the token, as a sentence names it, and where to fix it."""
    if name == "DISCORD_BOT_TOKEN_FILE":
        return "The token in DISCORD_BOT_TOKEN_FILE's file", "that file"
    return name, ".env"


# DISCORD_BOT_TOKEN_FILE: each sentence names the file, never what it holds.


def token_set_twice() -> str:
    return (
        "DISCORD_BOT_TOKEN_FILE and DISCORD_BOT_TOKEN are both set: keep one (the file, such as a Docker "
        "secret, or the variable), so that it is clear which token the bot uses"
    )


def token_file_missing(path: str) -> str:
    return (
        f"DISCORD_BOT_TOKEN_FILE names {path}, which does not exist: put the bot's token in that file (with "
        "Docker, a secret mounted at /run/secrets/NAME) or set DISCORD_BOT_TOKEN instead"
    )


def token_file_not_a_file(path: str) -> str:
    return f"DISCORD_BOT_TOKEN_FILE names {path}, which is not a file: name the file that holds the bot's token"


def token_file_unreadable(path: str, reason: str, uid: int) -> str:
    return (
        f"DISCORD_BOT_TOKEN_FILE names {path}, which cannot be read ({reason}): make it readable by the "
        f"user the bot runs as (uid {uid})"
    )


def token_file_empty(path: str) -> str:
    return f"DISCORD_BOT_TOKEN_FILE names {path}, which is empty: put the bot's token in it, alone on one line"


def token_file_not_a_token(path: str, limit: int) -> str:
    return (
        f"DISCORD_BOT_TOKEN_FILE names {path}, which holds no token (more than {limit} bytes, or not text): "
        "name the file that holds the bot's token alone"
    )


def setting_not_a_whole_number(name: str, unit: str, low: int, high: int, value: str) -> str:
    return f"{name} must be a whole number of {unit} from {low} to {high}, not {value!r}"


def setting_out_of_range(name: str, low: int, high: int, unit: str, number: int) -> str:
    return f"{name} must be from {low} to {high} {unit}, not {number}"


def legacy_zone(name: str) -> str:
    what, instead = _LEGACY_ZONES[name]
    if what.startswith("fixed"):
        return (
            f"TIMEZONE={name} is a legacy zone ({what}): if clocks change in summer where you teach, "
            f"times will be an hour off; use {instead}"
        )
    return f"TIMEZONE={name} is a legacy zone ({what}); use {instead}"


def inverted_zone(name: str, hours: int) -> str:
    """`hours`: the zone's real offset from UTC (Etc/GMT+5 is UTC-5: the sign of these names is inverted)."""
    offset = f"UTC{'−' if hours < 0 else '+'}{abs(hours)}"
    return (
        f"TIMEZONE={name} means {offset} (the sign of these names is inverted), fixed, no daylight saving; "
        "use your city's zone, such as America/New_York or Asia/Kolkata"
    )


def api_base_malformed(api_base: str, default: str) -> str:
    return f"DISCORD_API_BASE must be an http(s) URL such as {default}, not {api_base!r}"


def api_base_in_clear_text(api_base: str) -> str:
    return (
        "DISCORD_API_BASE may use http:// only on this machine (127.0.0.1, ::1, localhost): anywhere else the "
        f"token would cross the network in clear text; use https://, not {api_base!r}"
    )


def admin_role_is_everyone() -> str:
    return (
        "ADMIN_ROLE_ID is the server's own id, which Discord uses for the @everyone role: every member would be "
        "an instructor. Set it to the instructors' role (Server Settings → Roles → right-click → Copy Role ID), "
        "or leave it unset"
    )


def channel_pair_incomplete(missing: str) -> str:
    return (
        f"{missing} is missing: ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID define a course together; set both "
        f"to the channels' numeric ids (for example {missing}=123456789012345678), or neither and set courses "
        "up with /course create"
    )


def env_course_name_too_long(length: int) -> str:
    return f"COURSE_NAME must be 1-50 characters, not {length}"


def admin_channel_is_attendance_channel() -> str:
    return (
        "ADMIN_CHANNEL_ID and ATTENDANCE_CHANNEL_ID are the same channel: instructors then work where students "
        "type /here (the close summary is posted there too); a separate admin channel is usual"
    )


def timezone_unknown(name: str) -> str:
    return f"TIMEZONE must be an IANA time zone name such as UTC or Europe/Berlin, not {name!r}"


def database_path_is_folder(typed: str) -> str:
    return f"DATABASE_PATH must name a file, but {typed!r} is a folder"


def database_path_is_a_url(shown: str, default: str) -> str:
    return (
        f"DATABASE_PATH is a file's path, not a URL ({shown}): write the path alone, as in "
        f"DATABASE_PATH={default}, or give the URL as DATABASE_URL"
    )


def database_path_ignored() -> str:
    return "DATABASE_PATH is ignored: DATABASE_URL is set and wins"


def database_url_unreadable(shown: str, example: str) -> str:
    return (
        f"DATABASE_URL {shown} cannot be read as a URL such as {example}: its port is not a "
        "number, or its password holds / ? # : or @ as they are; write those percent-encoded (%2F %3F %23 %3A %40)"
    )


def database_url_bad_port(example: str) -> str:
    return f"DATABASE_URL is not a URL such as {example} (its port is not a number)"


def database_url_sqlite_without_path(example: str) -> str:
    return f"DATABASE_URL sqlite:/// must be followed by the file's path, as in {example}"


def database_url_bad_scheme(scheme: str, example: str) -> str:
    return f"DATABASE_URL must start with postgresql:// or sqlite:///, as in {example}, not {scheme or 'nothing'}://"


def database_url_incomplete(shown: str, example: str) -> str:
    return f"DATABASE_URL must name the server and the database, as in {example}: {shown} does not"


def shard_ids_without_count() -> str:
    return "SHARD_IDS needs SHARD_COUNT (the number of shards in all), for example SHARD_COUNT=2"


def shard_ids_malformed(highest: int, typed: str) -> str:
    return (
        f"SHARD_IDS must list shard numbers from 0 to {highest} separated by commas, for example "
        f"SHARD_IDS=0,1, not {typed!r}"
    )


def shard_ids_twice(typed: str) -> str:
    return f"SHARD_IDS lists a shard twice: {typed!r}"


def switch_malformed(name: str, typed: str | None) -> str:
    return f"{name} must be on or off, not {typed!r}"
