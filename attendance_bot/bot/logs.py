"""The run path's log: LOG_LEVEL, LOG_FORMAT (text lines, or one JSON object a line through
python-json-logger), and the filter that keeps the secrets out of every line: the bot token (and any
piece of it), DATABASE_URL's password and the projector pages' tokens."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable

from pythonjsonlogger.json import JsonFormatter

from ..projector import PAGE_PATH
from ..settings import Settings, hide_secrets

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# JSON: these fields of the record, renamed, and `time` (ISO 8601, UTC); a traceback comes as `exc_info`.
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
JSON_NAMES = {"levelname": "level", "name": "logger"}

# A piece of the token this long or longer is removed from the log wherever it appears.
MIN_TOKEN_FRAGMENT = 4
_REDACTED = "[token]"
# A projector page's address: its token (the key to the code on screen) is removed, the path kept.
_PROJECTOR_LINK = re.compile(re.escape(PAGE_PATH) + r"[A-Za-z0-9_-]+")
_PROJECTOR_REDACTED = PAGE_PATH + "[projector-token]"
# An interaction's token (nextcord's DEBUG lines: in a callback's or a follow-up's path, and as "token" in a
# gateway event): it lets whoever holds it answer as the bot for 15 minutes.
_INTERACTION_PATH = re.compile(r"(/(?:interactions|webhooks)/[0-9]+/)[A-Za-z0-9_.-]{20,}")
_INTERACTION_FIELD = re.compile(r"""(["']token["']\s*:\s*["'])[A-Za-z0-9_.-]{20,}""")
_INTERACTION_REDACTED = r"\1[interaction-token]"
# The attributes every LogRecord has; any other one came with `extra=` and is redacted too.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def token_redactor(token: str, min_fragment: int = MIN_TOKEN_FRAGMENT) -> Callable[[str], str]:
    """A function that removes from a text the token and every piece of it of `min_fragment` or more
    characters (a prefix such as nextcord's 'Bot MTIz.fak…', a part between dots, a tail)."""
    if not token:
        return lambda text: text
    if len(token) < min_fragment:
        return lambda text: text.replace(token, _REDACTED)
    starts = {token[i : i + min_fragment] for i in range(len(token) - min_fragment + 1)}

    def redact(text: str) -> str:
        pieces: list[str] = []
        kept = i = 0
        limit = len(text) - min_fragment
        while i <= limit:
            if text[i : i + min_fragment] not in starts:
                i += 1
                continue
            end = i + min_fragment
            while end < len(text) and text[i : end + 1] in token:
                end += 1
            pieces += [text[kept:i], _REDACTED]
            kept = i = end
        if not pieces:
            return text
        pieces.append(text[kept:])
        return "".join(pieces)

    return redact


def secrets_redactor(settings: Settings) -> Callable[[str], str]:
    """A function that removes every secret of these settings from a text: projector tokens (after the
    page's path), interactions' tokens, DATABASE_URL's password and secret parameters, and the bot token
    and its pieces."""
    url = settings.database_url
    token = token_redactor(settings.discord_bot_token)

    def redact(text: str) -> str:
        text = _PROJECTOR_LINK.sub(_PROJECTOR_REDACTED, text)
        if "token" in text or "/interactions/" in text or "/webhooks/" in text:
            text = _INTERACTION_PATH.sub(_INTERACTION_REDACTED, text)
            text = _INTERACTION_FIELD.sub(_INTERACTION_REDACTED, text)
        if url:
            text = hide_secrets(text, url)
        return token(text)

    return redact


class Redactor(logging.Filter):
    """Removes the secrets from a record before any formatter sees it: its message (arguments filled
    in), its traceback and stack, and whatever came with `extra=`. The record then carries the
    redacted text only, so the text and the JSON format write the same."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the message: shown as they are, redacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self._redact(message), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None  # python-json-logger would format it again, unredacted
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, self._redact(value))
        return True


def _not_voice_noise(record: logging.LogRecord) -> bool:
    """nextcord warns at every start that voice needs PyNaCl: this bot never uses voice."""
    return not (record.name.startswith("nextcord") and str(record.msg).startswith("PyNaCl is not installed"))


def formatter(log_format: str) -> logging.Formatter:
    """LOG_FORMAT's formatter: text lines, or one JSON object a line (level, logger, message, time)."""
    if log_format == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields=JSON_NAMES, timestamp="time")
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings, level: int | None = None) -> None:
    """Logging for the `run` path only, on stderr: LOG_LEVEL (or `level`) and LOG_FORMAT, nothing of the
    secrets, no voice noise; Python's warnings go through it too.

    nextcord's lines from WARNING up (from LOG_LEVEL, when that is higher), and all of them at DEBUG
    (gateway events and HTTP requests, message contents included); peewee's from WARNING up at every
    level, never its SQL (the sessions' code secrets are in it).
    """
    level = logging.getLevelName(settings.log_level) if level is None else level
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings.log_format))
    handler.addFilter(_not_voice_noise)
    handler.addFilter(Redactor(secrets_redactor(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("nextcord").setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))
    # The migration runner logs each step it runs, including the ones that create a new database:
    # migrations.upgrade's own lines say what an upgrade did.
    logging.getLogger("peewee").setLevel(max(level, logging.WARNING))
    logging.captureWarnings(True)
