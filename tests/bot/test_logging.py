"""The run path's logging: LOG_LEVEL and LOG_FORMAT, and nothing of the secrets (the token, DATABASE_URL's
password, projector tokens) in any line, whatever nextcord or a traceback prints."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from attendance_bot.bot.app import configure_logging
from attendance_bot.settings import Settings, load_settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GqXw3z.kV9tRp2LmN8sQ4yHcB7dFj1aZeUo6WxIrE5gT0"
PASSWORD = "pa55:w/rd?"
DATABASE_URL = "postgresql://attendance:pa55%3Aw%2Frd%3F@127.0.0.1:5432/attendance"
PAGE_TOKEN = "q0Jv3cYx9LmWz4TtNbRe8A"
LINK = f"https://attendance.example.edu/p/{PAGE_TOKEN}"
LOGGERS = ("nextcord", "peewee", "py.warnings")


@contextlib.contextmanager
def _configured(tmp_path: Path, level: int | None = None, **environ: str) -> Iterator[io.StringIO]:
    """configure_logging() as `manage.py run` does with these settings, its handler writing into a buffer;
    the root logger, nextcord's, peewee's and the warnings' capture restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {name: logging.getLogger(name).level for name in LOGGERS}
    environ = {"DISCORD_BOT_TOKEN": TOKEN, "DATABASE_PATH": str(tmp_path / "a.db"), **environ}
    settings: Settings = load_settings(None, environ=environ, require_discord=False)
    configure_logging(settings, level)
    buffer = io.StringIO()
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], level_before, levels = saved
        root.setLevel(level_before)
        for name, named_level in levels.items():
            logging.getLogger(name).setLevel(named_level)
        logging.captureWarnings(False)


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[io.StringIO]:
    """The text log at DEBUG, nextcord's lines included."""
    with _configured(tmp_path, logging.DEBUG) as buffer:
        yield buffer


@pytest.fixture
def json_log(tmp_path: Path) -> Iterator[Callable[[], list[dict[str, str]]]]:
    """LOG_FORMAT=json, LOG_LEVEL=DEBUG, over a PostgreSQL URL with a password: a function that reads the
    lines written so far, each parsed as the one JSON object it must be."""
    with _configured(tmp_path, LOG_FORMAT="json", LOG_LEVEL="DEBUG", DATABASE_URL=DATABASE_URL) as buffer:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]


def _fragments(text: str, size: int = 4) -> set[str]:
    """Every piece of the token of `size` characters that occurs in `text`."""
    return {TOKEN[i : i + size] for i in range(len(TOKEN) - size + 1) if TOKEN[i : i + size] in text}


def test_token_in_a_traceback_is_redacted(logged: io.StringIO) -> None:
    """An exception whose text carries the token is logged with its traceback, the token removed."""
    try:
        raise RuntimeError(f"request failed with headers {{'Authorization': 'Bot {TOKEN}'}}")
    except RuntimeError:
        logging.getLogger("nextcord.http").exception("Unhandled error")
    text = logged.getvalue()
    assert "Traceback" in text and "Unhandled error" in text
    assert _fragments(text) == set()


@pytest.mark.parametrize("shown", [TOKEN[:12], TOKEN[:8] + "[redacted]", TOKEN.split(".")[2][:10], TOKEN[-6:]])
def test_token_fragments_from_nextcord_are_redacted(logged: io.StringIO, shown: str) -> None:
    """A prefix or piece of the token in a nextcord log line (e.g. 'Bot MTIz.fak[redacted]') is removed too."""
    logging.getLogger("nextcord.http").debug("GET /users/@me with headers %r", {"Authorization": f"Bot {shown}"})
    text = logged.getvalue()
    assert "GET /users/@me" in text
    assert _fragments(text) == set(), text


def test_pynacl_warning_is_silenced(logged: io.StringIO) -> None:
    """nextcord's warning that voice needs PyNaCl is noise for this bot."""
    logging.getLogger("nextcord.client").warning("PyNaCl is not installed, voice will NOT be supported")
    logging.getLogger("nextcord.client").warning("something else")
    assert "PyNaCl" not in logged.getvalue()
    assert "something else" in logged.getvalue()


def _log_every_secret(logger: logging.Logger) -> None:
    """Each secret, the way a careless line would carry it: in the message, its arguments, a traceback and an extra."""
    logger.info("connecting to %s", DATABASE_URL)
    logger.info("password %s, decoded", PASSWORD)
    logger.debug("POST /interactions/1/x/callback with {'content': 'The page: %s'} has returned 204", LINK)
    try:
        raise RuntimeError(f"headers {{'Authorization': 'Bot {TOKEN}'}} for {LINK}")
    except RuntimeError:
        logger.exception("Request failed", extra={"url": LINK, "dsn": DATABASE_URL})


def test_json_lines_carry_level_logger_message_and_time(json_log: Callable[[], list[dict[str, str]]]) -> None:
    """LOG_FORMAT=json: one object a line (a message's newlines escaped in it), the time in UTC, a traceback
    under exc_info."""
    logging.getLogger("attendance_bot.bot.app").warning("two\nlines")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("attendance_bot.bot.rotation").exception("Code rotation failed")
    first, second = json_log()
    assert {k: first[k] for k in ("level", "logger", "message")} == {
        "level": "WARNING",
        "logger": "attendance_bot.bot.app",
        "message": "two\nlines",
    }
    assert datetime.fromisoformat(first["time"]).utcoffset() == timedelta(0)
    assert second["level"] == "ERROR" and second["message"] == "Code rotation failed"
    assert "Traceback" in second["exc_info"] and "ValueError: boom" in second["exc_info"]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_secret_reaches_a_line(tmp_path: Path, log_format: str) -> None:
    """The token (in a traceback), DATABASE_URL's password (encoded in the URL, or decoded) and a projector link's
    token (in nextcord's DEBUG line of a reply, an exception, an extra field) are replaced, in both formats."""
    with _configured(tmp_path, LOG_FORMAT=log_format, LOG_LEVEL="DEBUG", DATABASE_URL=DATABASE_URL) as buffer:
        _log_every_secret(logging.getLogger("nextcord.http"))
    text = buffer.getvalue()
    for secret in (TOKEN, PASSWORD, "pa55%3Aw%2Frd%3F", PAGE_TOKEN, TOKEN[:12], TOKEN[-8:]):
        assert secret not in text, secret
    assert "postgresql://attendance:***@127.0.0.1:5432/attendance" in text
    assert "https://attendance.example.edu/p/[projector-token]" in text
    assert "'Authorization': 'Bot [token]'" in text
    if log_format == "json":
        records = [json.loads(line) for line in text.splitlines()]
        assert len(records) == 4
        assert records[-1]["url"] == "https://attendance.example.edu/p/[projector-token]"
        assert "[token]" in records[-1]["exc_info"]


@pytest.mark.parametrize(
    ("level", "ours", "nextcord_info", "nextcord_debug"),
    [("DEBUG", True, True, True), ("INFO", True, False, False), ("WARNING", False, False, False)],
)
def test_log_level_sets_the_bots_lines_and_nextcords_follow_only_at_debug(
    tmp_path: Path, level: str, ours: bool, nextcord_info: bool, nextcord_debug: bool
) -> None:
    """LOG_LEVEL: the bot's lines at that level and above; nextcord's warnings always, its INFO and DEBUG
    lines only at DEBUG; peewee's SQL (the code secrets are in it) never."""
    with _configured(tmp_path, LOG_LEVEL=level) as buffer:
        logging.getLogger("attendance_bot.bot.app").info("ours")
        logging.getLogger("nextcord.gateway").info("nextcord info")
        logging.getLogger("nextcord.gateway").debug("nextcord debug")
        logging.getLogger("nextcord.http").warning("nextcord warning")
        logging.getLogger("peewee").debug("('INSERT INTO \"session\" (\"secret\") VALUES (?)', ['JBSWY3DP'])")
    text = buffer.getvalue()
    assert ("ours" in text, "nextcord info" in text, "nextcord debug" in text) == (ours, nextcord_info, nextcord_debug)
    assert "nextcord warning" in text
    assert "JBSWY3DP" not in text


def test_python_warnings_are_log_lines(json_log: Callable[[], list[dict[str, str]]]) -> None:
    """A Python warning (a library's deprecation, say) is a line of the log, JSON too, not raw stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("something old", UserWarning, stacklevel=1)
    (record,) = json_log()
    assert record["logger"] == "py.warnings" and "something old" in record["message"]


def test_interaction_tokens_are_redacted(logged: io.StringIO) -> None:
    """An interaction's token (it lets its holder answer as the bot for 15 minutes), in nextcord's DEBUG lines of a
    callback's or a follow-up's path and of a gateway event, is replaced; the ids around it stay."""
    token = "aW50ZXJhY3Rpb246GqhODFe4E1xCpLpWW2IEjnqrs3MfaRP-gaBKui2NIQLoPFIjoBPoXOvdcSt3MlSX"
    http = logging.getLogger("nextcord.webhook.async_")
    http.debug("Webhook ID 15 with POST http://127.0.0.1:1/api/v10/interactions/15/%s/callback has returned 204", token)
    http.debug("Webhook ID 16 with POST http://127.0.0.1:1/api/v10/webhooks/16/%s has returned 200", token)
    logging.getLogger("nextcord.gateway").debug('WebSocket Event: {"d": {"id": "15", "token": "%s", "type": 2}}', token)
    text = logged.getvalue()
    assert token not in text and token[:20] not in text
    assert "/interactions/15/[interaction-token]/callback" in text
    assert "/webhooks/16/[interaction-token] has returned" in text
    assert '"token": "[interaction-token]"' in text
