"""Settings: every bad variable named with what it should look like; defaults; .env and environment."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from attendance_bot import messages
from attendance_bot.errors import ConfigurationError
from attendance_bot.settings import everyone_role_problem, load_settings, shown_url

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.not-a-real-token-but-secret"
ADMIN = "123456789012345678"
ATTEND = "234567890123456789"
VALID = {"DISCORD_BOT_TOKEN": TOKEN, "ADMIN_CHANNEL_ID": ADMIN, "ATTENDANCE_CHANNEL_ID": ATTEND}


def problems_for(env: dict[str, str], tmp_path: Path) -> list[str]:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None, environ=env, base_dir=tmp_path)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DISCORD_BOT_TOKEN", None, ["is missing", "DISCORD_BOT_TOKEN="]),
        ("DISCORD_BOT_TOKEN", "   ", ["is missing"]),
        ("ADMIN_CHANNEL_ID", None, ["is missing", "numeric id"]),
        ("ADMIN_CHANNEL_ID", "<#123456789012345678>", ["numeric Discord id", "use 123456789012345678, without <#"]),
        ("ATTENDANCE_CHANNEL_ID", "general", ["numeric Discord id", "'general'"]),
        ("ATTENDANCE_CHANNEL_ID", "12345", ["15-22 digits", "'12345'"]),
        ("ADMIN_ROLE_ID", "<@&345678901234567890>", ["use 345678901234567890"]),
        ("CODE_DISPLAY_CHANNEL_ID", "#projector", ["numeric Discord id"]),
        ("CODE_ROTATION_INTERVAL", "4", ["from 5 to 120 seconds", "not 4"]),
        ("CODE_ROTATION_INTERVAL", "121", ["from 5 to 120 seconds", "not 121"]),
        ("CODE_ROTATION_INTERVAL", "abc", ["whole number of seconds from 5 to 120", "'abc'"]),
        ("CODE_ROTATION_INTERVAL", "15s", ["whole number", "'15s'"]),
        ("CODE_ROTATION_INTERVAL", "+15", ["whole number", "'+15'"]),
        ("CODE_ROTATION_INTERVAL", "1_5", ["whole number", "'1_5'"]),
        ("CODE_ROTATION_INTERVAL", "\u0661\u0665", ["whole number"]),
        ("CODE_LENGTH", "3", ["from 4 to 8 characters", "not 3"]),
        ("CODE_LENGTH", "9", ["from 4 to 8 characters", "not 9"]),
        ("CODE_GRACE_SECONDS", "-1", ["from 0 to 600 seconds", "not -1"]),
        ("TIMEZONE", "Mars/Base", ["IANA time zone", "'Mars/Base'"]),
        ("DISCORD_API_BASE", "ftp://x", ["http(s) URL", "'ftp://x'"]),
        ("DISCORD_API_BASE", "discord.com/api", ["http(s) URL"]),
        ("WEB_PORT", "-1", ["port number from 1 to 65535", "0 to turn the projector page off", "'-1'"]),
        ("WEB_PORT", "65536", ["port number", "'65536'"]),
        ("WEB_BIND", "my-laptop", ["IP address to listen on", "'my-laptop'"]),
        ("PUBLIC_URL", "ftp://x.edu", ["http:// or https://", "'ftp://x.edu'"]),
        ("PUBLIC_URL", "https://user@x.edu", ["without user", "'https://user@x.edu'"]),
        ("PUBLIC_URL", "https://x.edu/#top", ["fragment"]),
        ("LOG_LEVEL", "verbose", ["one of DEBUG, INFO, WARNING, ERROR, CRITICAL", "'verbose'", "LOG_LEVEL=INFO"]),
        ("LOG_LEVEL", "20", ["one of DEBUG", "'20'"]),
        ("LOG_FORMAT", "xml", ["one of text, json", "'xml'", "LOG_FORMAT=json"]),
    ],
)
def test_each_bad_variable_gets_its_own_message(name: str, value: str | None, says: list[str], tmp_path: Path) -> None:
    """One bad variable gives exactly one problem that names it and says what it should look like."""
    env = dict(VALID)
    env.pop(name, None)
    if value is not None:
        env[name] = value
    problems = problems_for(env, tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith(name + " ")
    for fragment in says:
        assert fragment in problems[0]


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    """All bad variables are listed at once, each on its own line, in a stable order."""
    env = {"ADMIN_CHANNEL_ID": "<#123456789012345678>", "CODE_LENGTH": "12", "TIMEZONE": "Nowhere/Land"}
    problems = problems_for(env, tmp_path)
    named = [p.split(" ", 1)[0] for p in problems]
    assert named == ["DISCORD_BOT_TOKEN", "ADMIN_CHANNEL_ID", "ATTENDANCE_CHANNEL_ID", "CODE_LENGTH", "TIMEZONE"]


def test_shell_commands_do_not_need_discord_settings(tmp_path: Path) -> None:
    """With require_discord=False no token or channel is needed, but bad ones are still refused."""
    settings = load_settings(None, environ={}, base_dir=tmp_path, require_discord=False)
    assert settings.discord_bot_token == ""
    assert settings.admin_channel_id is None and settings.attendance_channel_id is None
    with pytest.raises(ConfigurationError, match=r"^ADMIN_CHANNEL_ID "):
        load_settings(None, environ={"ADMIN_CHANNEL_ID": "x"}, base_dir=tmp_path, require_discord=False)


def test_defaults(tmp_path: Path) -> None:
    """Unset optional variables take the documented defaults."""
    settings = load_settings(None, environ=VALID, base_dir=tmp_path)
    assert settings.discord_bot_token == TOKEN
    assert settings.admin_channel_id == int(ADMIN)
    assert settings.attendance_channel_id == int(ATTEND)
    assert settings.code_rotation_interval == 15
    assert settings.code_length == 4
    assert settings.code_grace_seconds == 15
    assert settings.display_channel_id == int(ATTEND)
    assert settings.timezone == ZoneInfo("UTC")
    assert settings.admin_role_id is None
    assert settings.discord_api_base == "https://discord.com/api/v10"
    assert settings.database_path == tmp_path / "data" / "attendance.db"


def test_grace_follows_a_changed_interval(tmp_path: Path) -> None:
    """Without CODE_GRACE_SECONDS the grace is one whole interval, whatever the interval is."""
    settings = load_settings(None, environ={**VALID, "CODE_ROTATION_INTERVAL": "30"}, base_dir=tmp_path)
    assert (settings.code_rotation_interval, settings.code_grace_seconds) == (30, 30)


@pytest.mark.parametrize("grace", ["0", "7", "600"])
def test_explicit_grace_is_kept(grace: str, tmp_path: Path) -> None:
    """CODE_GRACE_SECONDS set (0 = strict) is used as given."""
    settings = load_settings(None, environ={**VALID, "CODE_GRACE_SECONDS": grace}, base_dir=tmp_path)
    assert settings.code_grace_seconds == int(grace)


def test_display_channel_can_be_the_admin_channel(tmp_path: Path) -> None:
    """CODE_DISPLAY_CHANNEL_ID overrides where the code is shown (projector mode)."""
    settings = load_settings(None, environ={**VALID, "CODE_DISPLAY_CHANNEL_ID": ADMIN}, base_dir=tmp_path)
    assert settings.display_channel_id == int(ADMIN)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("db/att.db", "db/att.db"), ("./x.sqlite", "x.sqlite"), ("data/attendance.db", "data/attendance.db")],
)
def test_relative_database_path_is_resolved_against_base_dir(raw: str, expected: str, tmp_path: Path) -> None:
    """A relative DATABASE_PATH is anchored at base_dir, not at the current directory."""
    settings = load_settings(None, environ={**VALID, "DATABASE_PATH": raw}, base_dir=tmp_path)
    assert settings.database_path == tmp_path / expected


def test_absolute_database_path_is_kept(tmp_path: Path) -> None:
    """An absolute DATABASE_PATH is used as is."""
    target = tmp_path / "elsewhere" / "a.db"
    settings = load_settings(None, environ={**VALID, "DATABASE_PATH": str(target)}, base_dir=tmp_path / "base")
    assert settings.database_path == target


def test_database_path_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    """DATABASE_PATH naming a folder is reported by name."""
    (tmp_path / "data").mkdir()
    problems = problems_for({**VALID, "DATABASE_PATH": "data"}, tmp_path)
    assert len(problems) == 1 and problems[0].startswith("DATABASE_PATH ")


def _write_env(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    env_file = folder / ".env"
    env_file.write_text(text, encoding="utf-8")
    return env_file


def test_values_are_read_from_the_env_file(tmp_path: Path) -> None:
    """Values in .env are used, quotes and comments handled, and base_dir defaults to its folder."""
    env_file = _write_env(
        tmp_path / "project",
        f'# attendance bot\nDISCORD_BOT_TOKEN="{TOKEN}"\nADMIN_CHANNEL_ID={ADMIN}\n'
        f"ATTENDANCE_CHANNEL_ID = {ATTEND}\nCODE_LENGTH=6\nTIMEZONE='Europe/Berlin'\nDATABASE_PATH=var/a.db\n",
    )
    settings = load_settings(env_file, environ={})
    assert settings.discord_bot_token == TOKEN
    assert settings.attendance_channel_id == int(ATTEND)
    assert settings.code_length == 6
    assert settings.timezone == ZoneInfo("Europe/Berlin")
    assert settings.database_path == tmp_path / "project" / "var" / "a.db"


def test_environment_overrides_the_env_file(tmp_path: Path) -> None:
    """A variable set in the environment wins over the same one in .env."""
    env_file = _write_env(tmp_path, f"DISCORD_BOT_TOKEN=file-token\nADMIN_CHANNEL_ID={ADMIN}\nCODE_LENGTH=6\n")
    settings = load_settings(
        env_file, environ={"DISCORD_BOT_TOKEN": TOKEN, "ATTENDANCE_CHANNEL_ID": ATTEND, "CODE_LENGTH": "8"}
    )
    assert settings.discord_bot_token == TOKEN
    assert settings.admin_channel_id == int(ADMIN)
    assert settings.code_length == 8


def test_a_missing_env_file_is_not_an_error(tmp_path: Path) -> None:
    """Pointing at a .env that does not exist just means: everything comes from the environment."""
    settings = load_settings(tmp_path / "nope.env", environ=VALID)
    assert settings.discord_bot_token == TOKEN
    assert settings.database_path == tmp_path / "data" / "attendance.db"


def test_an_explicit_environ_is_not_mixed_with_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a .env file, only the given environ mapping is read, not the process environment."""
    monkeypatch.setenv("CODE_LENGTH", "8")
    settings = load_settings(None, environ=VALID, base_dir=tmp_path)
    assert settings.code_length == 4


def test_a_variable_only_in_os_environ_does_not_break_an_explicit_environ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a .env file and an explicit environ, a stray process variable is ignored, not a crash."""
    env_file = _write_env(tmp_path, f"ADMIN_CHANNEL_ID={ADMIN}\n")
    monkeypatch.setenv("TIMEZONE", "Europe/Berlin")
    settings = load_settings(env_file, environ={"DISCORD_BOT_TOKEN": TOKEN, "ATTENDANCE_CHANNEL_ID": ATTEND})
    assert settings.timezone == ZoneInfo("UTC")


def test_the_token_is_not_in_repr(tmp_path: Path) -> None:
    """repr() and str() of Settings never show the bot token (it would end up in logs)."""
    settings = load_settings(None, environ=VALID, base_dir=tmp_path)
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert "admin_channel_id=123456789012345678" in repr(settings)


def test_settings_are_frozen(tmp_path: Path) -> None:
    """Settings cannot be changed after loading."""
    settings = load_settings(None, environ=VALID, base_dir=tmp_path)
    with pytest.raises(AttributeError):
        settings.code_length = 8  # type: ignore[misc]


# -- refused: the @everyone role, clear-text tokens ------------------------------------------


def test_admin_role_equal_to_the_guild_is_refused(tmp_path: Path) -> None:
    """ADMIN_ROLE_ID equal to GUILD_ID is the @everyone role: refused, naming the variable."""
    problems = problems_for(
        {**VALID, "GUILD_ID": "345678901234567890", "ADMIN_ROLE_ID": "345678901234567890"}, tmp_path
    )
    assert len(problems) == 1
    assert problems[0].startswith("ADMIN_ROLE_ID ")
    assert "@everyone" in problems[0] and "every member" in problems[0]


@pytest.mark.parametrize(
    ("role", "guild", "refused"),
    [(345678901234567890, 345678901234567890, True), (345678901234567891, 345678901234567890, False), (None, 1, False)],
)
def test_everyone_role_problem_is_a_sentence_for_the_everyone_role(role: int | None, guild: int, refused: bool) -> None:
    """The helper the bot calls after resolving its guild gives a sentence only for the @everyone role."""
    problem = everyone_role_problem(role, guild)
    assert (problem is not None) == refused
    if problem:
        assert str(problem).startswith("ADMIN_ROLE_ID ") and "@everyone" in str(problem)


@pytest.mark.parametrize(
    "base",
    [
        "https://discord.com/api/v10",
        "https://proxy.example.org:8443/api/v10",
        "http://127.0.0.1:8080/api/v10",
        "http://127.5.6.7/api",
        "http://[::1]:9000/api/v10",
        "http://localhost:5000/api/v10",
        "http://LOCALHOST/api",
    ],
)
def test_api_base_accepts_https_and_loopback_http(base: str, tmp_path: Path) -> None:
    """https:// anywhere, http:// only on this machine (127.0.0.0/8, ::1, localhost)."""
    settings = load_settings(None, environ={**VALID, "DISCORD_API_BASE": base}, base_dir=tmp_path)
    assert settings.discord_api_base == base


@pytest.mark.parametrize(
    "base",
    [
        "http://discord.com/api/v10",
        "http://10.0.0.5:8080/api",
        "http://192.168.1.2/api",
        "http://localhost.example.com/api",
        "http://127.0.0.1.nip.io/api",
        "http://[::2]/api",
    ],
)
def test_api_base_refuses_http_beyond_loopback(base: str, tmp_path: Path) -> None:
    """http:// to another host would send the token in clear text: refused with what to use."""
    problems = problems_for({**VALID, "DISCORD_API_BASE": base}, tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("DISCORD_API_BASE ")
    assert "https://" in problems[0] and "clear text" in problems[0]


# -- warnings: likely pitfalls that still work ----------------------------------------------


def test_a_clean_configuration_has_no_warnings(tmp_path: Path) -> None:
    """Nothing to warn about in a plain, correct configuration."""
    settings = load_settings(None, environ={**VALID, "TIMEZONE": "Europe/Berlin"}, base_dir=tmp_path)
    assert settings.warnings == ()


@pytest.mark.parametrize(
    ("zone", "says"),
    [
        ("EST", ["TIMEZONE", "UTC−5", "no daylight saving", "America/New_York"]),
        ("MST", ["UTC−7", "no daylight saving", "America/Denver"]),
        ("HST", ["UTC−10", "Pacific/Honolulu"]),
        ("EST5EDT", ["America/New_York"]),
        ("PST8PDT", ["America/Los_Angeles"]),
        ("US/Eastern", ["America/New_York"]),
        ("Etc/GMT+5", ["UTC−5", "sign"]),
    ],
)
def test_legacy_time_zones_are_warned_about(zone: str, says: list[str], tmp_path: Path) -> None:
    """A legacy zone works but is warned about, with the city zone to use instead."""
    settings = load_settings(None, environ={**VALID, "TIMEZONE": zone}, base_dir=tmp_path)
    assert settings.timezone == ZoneInfo(zone)
    assert len(settings.warnings) == 1
    for fragment in says:
        assert fragment in settings.warnings[0]


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        (f"Bot {TOKEN}", TOKEN),
        (f"bot  {TOKEN}", TOKEN),
        (f'"{TOKEN}"', TOKEN),
        (f"'{TOKEN}'", TOKEN),
        (f'"Bot {TOKEN}"', TOKEN),
    ],
    ids=["Bot prefix", "bot prefix, two spaces", "double quotes", "single quotes", "quoted Bot prefix"],
)
def test_a_token_pasted_with_bot_prefix_or_quotes_is_cleaned_with_a_warning(
    raw: str, kept: str, tmp_path: Path
) -> None:
    """`Bot ` and quotes can never be part of a token: removed, and the warning says to fix .env."""
    settings = load_settings(None, environ={**VALID, "DISCORD_BOT_TOKEN": raw}, base_dir=tmp_path)
    assert settings.discord_bot_token == kept
    assert len(settings.warnings) == 1
    assert settings.warnings[0].startswith("DISCORD_BOT_TOKEN ")
    assert TOKEN not in settings.warnings[0]


def test_a_token_with_inner_spaces_is_warned_about_and_kept(tmp_path: Path) -> None:
    """Spaces inside a token mean a bad paste: warned (without showing the token), not guessed at."""
    raw = TOKEN[:20] + " " + TOKEN[20:]
    settings = load_settings(None, environ={**VALID, "DISCORD_BOT_TOKEN": raw}, base_dir=tmp_path)
    assert settings.discord_bot_token == raw
    assert len(settings.warnings) == 1
    assert "space" in settings.warnings[0]
    assert TOKEN[:20] not in settings.warnings[0]


def test_a_token_pasted_with_bot_prefix_in_the_env_file_is_cleaned(tmp_path: Path) -> None:
    """The same cleaning applies to a value read from .env (decouple removes one pair of quotes)."""
    env_file = _write_env(tmp_path, f'DISCORD_BOT_TOKEN="Bot {TOKEN}"\nADMIN_CHANNEL_ID={ADMIN}\n')
    settings = load_settings(env_file, environ={"ATTENDANCE_CHANNEL_ID": ATTEND})
    assert settings.discord_bot_token == TOKEN
    assert any("Bot " in w for w in settings.warnings)


def test_admin_channel_equal_to_attendance_channel_is_warned_about(tmp_path: Path) -> None:
    """One channel for both jobs works, but instructors then work where students type: a warning."""
    settings = load_settings(None, environ={**VALID, "ATTENDANCE_CHANNEL_ID": ADMIN}, base_dir=tmp_path)
    assert len(settings.warnings) == 1
    assert "ADMIN_CHANNEL_ID" in settings.warnings[0] and "ATTENDANCE_CHANNEL_ID" in settings.warnings[0]


@pytest.mark.parametrize("value", ["<#1>", "<#12345>", "<@&99>"])
def test_a_mention_of_an_invalid_id_gets_no_use_this_hint(value: str, tmp_path: Path) -> None:
    """`<#1>` is refused without suggesting `1`, which is not a valid id either."""
    problems = problems_for({**VALID, "ADMIN_CHANNEL_ID": value}, tmp_path)
    assert len(problems) == 1
    assert "numeric Discord id" in problems[0]
    assert "use " not in problems[0] and "without <#" not in problems[0]


def test_env_example_with_database_url_gives_no_warning(tmp_path: Path) -> None:
    """`cp .env.example .env`, the token filled in and DATABASE_URL uncommented: no warning that
    DATABASE_PATH is ignored (the example leaves it commented), and the SQLite default stays as documented."""
    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    env_file = tmp_path / ".env"
    env_file.write_text(
        example.replace("DISCORD_BOT_TOKEN=\n", f"DISCORD_BOT_TOKEN={TOKEN}\n").replace(
            "#DATABASE_URL=", "DATABASE_URL="
        )
    )
    settings = load_settings(env_file, environ={}, base_dir=tmp_path)
    assert settings.database_url is not None
    assert not settings.warnings, settings.warnings
    env_file.write_text(example.replace("DISCORD_BOT_TOKEN=\n", f"DISCORD_BOT_TOKEN={TOKEN}\n"))
    plain = load_settings(env_file, environ={}, base_dir=tmp_path)
    assert (plain.database_url, plain.database_path) == (None, tmp_path / "data" / "attendance.db")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@db.example:5432/att", "postgresql://u:***@db.example:5432/att"),
        ("postgresql://u@db.example/att", "postgresql://u@db.example/att"),
        (
            "postgresql://u@db.example/att?password=pw&sslmode=require",
            "postgresql://u@db.example/att?password=***&sslmode=require",
        ),
        ("postgresql://u@db.example/att?SSLPassword=pw", "postgresql://u@db.example/att?SSLPassword=***"),
        ("postgresql://u:p@w@db.example/att", "postgresql://u:***@db.example/att"),
        # Unencoded / # ? in the password: the URL cannot be read reliably; all before the last @ hidden.
        ("postgresql://u:p/w@db.example/att?password=pw", "postgresql://***@db.example/att?password=***"),
        ("postgresql://u:p#w@db.example/att", "postgresql://***@db.example/att"),
        ("postgresql://u:p?w@db.example/att", "postgresql://***@db.example/att"),
        ("postgresql://u:pw@db.example:port/att", "postgresql://***@db.example:port/att"),
        ("postgresql://u:p/w", "postgresql://***"),
        (
            "postgresql://u:pw@db.example/att?application_name=a@b",
            "postgresql://u:***@db.example/att?application_name=a@b",
        ),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    """The password in the user part and `?password=`/`?sslpassword=` (any case) become ***; a URL
    that does not parse reliably is shown with everything between :// and its last @ hidden."""
    assert shown_url(url) == shown


@pytest.mark.parametrize("scheme", ["sqlite:///", "postgresql://", "Postgres://", "sqlite:"])
def test_a_url_in_database_path_points_to_database_url(scheme: str) -> None:
    """DATABASE_PATH=sqlite:///... (or a PostgreSQL URL) is refused, saying DATABASE_URL takes URLs."""
    with pytest.raises(ConfigurationError) as caught:
        load_settings(None, environ={"DATABASE_PATH": f"{scheme}data/attendance.db"}, require_discord=False)
    (problem,) = caught.value.problems
    assert problem.startswith("DATABASE_PATH is a file's path, not a URL") and "DATABASE_URL" in problem


def test_the_log_is_info_as_text_unless_set_in_any_case(tmp_path: Path) -> None:
    """LOG_LEVEL defaults to INFO and LOG_FORMAT to text; either is taken in any case."""
    settings = load_settings(None, environ=VALID, base_dir=tmp_path)
    assert (settings.log_level, settings.log_format) == ("INFO", "text")
    chosen = load_settings(None, environ={**VALID, "LOG_LEVEL": " debug", "LOG_FORMAT": "JSON"}, base_dir=tmp_path)
    assert (chosen.log_level, chosen.log_format) == ("DEBUG", "json")


def test_the_projector_page_defaults_to_this_machine(tmp_path: Path) -> None:
    """WEB_PORT 8765 on 127.0.0.1, links under http://127.0.0.1:8765; PUBLIC_URL follows WEB_PORT."""
    settings = load_settings(None, environ=VALID, base_dir=tmp_path)
    assert (settings.web_port, settings.web_bind, settings.public_url) == (8765, "127.0.0.1", "http://127.0.0.1:8765")
    assert not settings.warnings
    moved = load_settings(None, environ={**VALID, "WEB_PORT": "9000"}, base_dir=tmp_path)
    assert moved.public_url == "http://127.0.0.1:9000"
    assert load_settings(None, environ={**VALID, "WEB_PORT": "0"}, base_dir=tmp_path).web_port == 0


@pytest.mark.parametrize(
    ("environ", "public_url", "warned"),
    [
        ({"PUBLIC_URL": "https://attendance.example.edu/room/"}, "https://attendance.example.edu/room", False),
        (
            {"WEB_BIND": "0.0.0.0", "PUBLIC_URL": "https://attendance.example.edu"},
            "https://attendance.example.edu",
            False,
        ),
        ({"WEB_BIND": "0.0.0.0"}, "http://127.0.0.1:8765", True),
        ({"PUBLIC_URL": "http://10.0.0.5:8765"}, "http://10.0.0.5:8765", True),
        ({"WEB_BIND": "::1", "PUBLIC_URL": "http://localhost:8765"}, "http://localhost:8765", False),
    ],
)
def test_serving_in_clear_text_beyond_this_machine_is_a_warning(
    environ: dict[str, str], public_url: str, warned: bool, tmp_path: Path
) -> None:
    """A public address over http:// works but warns (the link is the key to the code); https:// does not."""
    settings = load_settings(None, environ={**VALID, **environ}, base_dir=tmp_path)
    assert settings.public_url == public_url
    assert any("clear text" in warning for warning in settings.warnings) is warned


# -- the token from a file (DISCORD_BOT_TOKEN_FILE, a Docker secret) ---------------------------------

FILE_ONLY = {"ADMIN_CHANNEL_ID": ADMIN, "ATTENDANCE_CHANNEL_ID": ATTEND}


@pytest.mark.parametrize(
    "written",
    [TOKEN, TOKEN + "\n", f"  {TOKEN}\r\n\n"],
    ids=["bare", "with a newline", "with spaces and a CRLF"],
)
def test_the_token_can_come_from_a_file(written: str, tmp_path: Path) -> None:
    """DISCORD_BOT_TOKEN_FILE names a file holding the token (Docker mounts a secret at /run/secrets/NAME):
    the token is its text without the newline an editor or `echo` adds, and no warning."""
    secret = tmp_path / "discord_bot_token"
    secret.write_text(written, encoding="utf-8")
    settings = load_settings(None, environ={**FILE_ONLY, "DISCORD_BOT_TOKEN_FILE": str(secret)}, base_dir=tmp_path)
    assert settings.discord_bot_token == TOKEN
    assert not settings.warnings
    assert TOKEN not in repr(settings)


def test_a_relative_token_file_is_relative_to_the_project_folder(tmp_path: Path) -> None:
    """A relative DISCORD_BOT_TOKEN_FILE is read from the project folder, as a relative DATABASE_PATH is."""
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text(TOKEN, encoding="utf-8")
    environ = {**FILE_ONLY, "DISCORD_BOT_TOKEN_FILE": "secrets/token"}
    assert load_settings(None, environ=environ, base_dir=tmp_path).discord_bot_token == TOKEN


def test_a_token_file_pasted_with_bot_prefix_is_cleaned_with_a_warning_naming_the_file(tmp_path: Path) -> None:
    """The file's token is cleaned as the variable's is, and the warning says to fix the file, not .env."""
    secret = tmp_path / "token"
    secret.write_text(f'"Bot {TOKEN}"\n', encoding="utf-8")
    settings = load_settings(None, environ={**FILE_ONLY, "DISCORD_BOT_TOKEN_FILE": str(secret)}, base_dir=tmp_path)
    assert settings.discord_bot_token == TOKEN
    assert settings.warnings == (messages.token_pasted_with(["quotes", "bot prefix"], "DISCORD_BOT_TOKEN_FILE"),)
    assert "that file" in settings.warnings[0] and ".env" not in settings.warnings[0]


def _unreadable(path: Path) -> None:
    path.write_text(TOKEN, encoding="utf-8")
    path.chmod(0o000)


@pytest.mark.parametrize(
    ("make", "kind", "values"),
    [
        (None, "token_file_missing", {}),
        (lambda path: path.mkdir(), "token_file_not_a_file", {}),
        (lambda path: path.write_text("", encoding="utf-8"), "token_file_empty", {}),
        (lambda path: path.write_text(" \n\n", encoding="utf-8"), "token_file_empty", {}),
        (lambda path: path.write_text('""\n', encoding="utf-8"), "token_file_empty", {}),
        (lambda path: path.write_bytes(b"\xff\xfe" + TOKEN.encode()), "token_file_not_a_token", {"limit": 4096}),
        (lambda path: path.write_text(TOKEN * 100, encoding="utf-8"), "token_file_not_a_token", {"limit": 4096}),
    ],
    ids=["missing", "a folder", "empty", "blank lines", "empty quotes", "not text", "too long"],
)
def test_a_bad_token_file_is_one_clear_error_that_never_shows_the_file(
    make: object, kind: str, values: dict[str, object], tmp_path: Path
) -> None:
    """A token file that is missing, a folder, empty or not a token: one problem naming the variable and
    the path, saying what to do; not a word of what the file holds."""
    path = tmp_path / "run" / "secrets" / "discord_bot_token"
    path.parent.mkdir(parents=True)
    if callable(make):
        make(path)
    problems = problems_for({**FILE_ONLY, "DISCORD_BOT_TOKEN_FILE": str(path)}, tmp_path)
    assert problems == [getattr(messages, kind)(path=str(path), **values)]
    assert problems[0].startswith("DISCORD_BOT_TOKEN_FILE ") and str(path) in problems[0]
    assert TOKEN[:10] not in problems[0]


@pytest.mark.skipif(os.getuid() == 0, reason="root reads a file of mode 000 all the same")
def test_an_unreadable_token_file_names_the_user_that_must_read_it(tmp_path: Path) -> None:
    """A secret the bot's user may not read (a Docker secret keeps the host file's owner and mode): one
    problem saying which uid must be able to read it."""
    path = tmp_path / "token"
    _unreadable(path)
    problems = problems_for({**FILE_ONLY, "DISCORD_BOT_TOKEN_FILE": str(path)}, tmp_path)
    assert problems == [messages.token_file_unreadable(str(path), "Permission denied", os.getuid())]


def test_the_token_and_its_file_together_are_refused(tmp_path: Path) -> None:
    """Both DISCORD_BOT_TOKEN and DISCORD_BOT_TOKEN_FILE: refused, rather than one silently winning."""
    secret = tmp_path / "token"
    secret.write_text(TOKEN, encoding="utf-8")
    problems = problems_for({**VALID, "DISCORD_BOT_TOKEN_FILE": str(secret)}, tmp_path)
    assert problems == [messages.token_set_twice()]


def test_an_empty_token_variable_beside_the_file_is_no_conflict(tmp_path: Path) -> None:
    """`DISCORD_BOT_TOKEN=` left empty, as .env.example has it, beside DISCORD_BOT_TOKEN_FILE: the file's token."""
    secret = tmp_path / "token"
    secret.write_text(TOKEN, encoding="utf-8")
    environ = {**FILE_ONLY, "DISCORD_BOT_TOKEN": "", "DISCORD_BOT_TOKEN_FILE": str(secret)}
    assert load_settings(None, environ=environ, base_dir=tmp_path).discord_bot_token == TOKEN


def test_commands_that_never_talk_to_discord_do_not_read_the_token_file(tmp_path: Path) -> None:
    """A shell command that needs no token runs where the secret is not mounted (the file is not read)."""
    environ = {"DISCORD_BOT_TOKEN_FILE": str(tmp_path / "not-mounted")}
    settings = load_settings(None, environ=environ, base_dir=tmp_path, require_discord=False)
    assert settings.discord_bot_token == ""


def test_no_token_at_all_names_both_ways_to_give_it(tmp_path: Path) -> None:
    """Neither variable set: the one problem says DISCORD_BOT_TOKEN or DISCORD_BOT_TOKEN_FILE."""
    problems = problems_for(FILE_ONLY, tmp_path)
    assert len(problems) == 1
    assert "DISCORD_BOT_TOKEN=" in problems[0] and "DISCORD_BOT_TOKEN_FILE" in problems[0]
