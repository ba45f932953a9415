"""The run path's logging: nothing of the token reaches the log, whatever nextcord or a traceback prints."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from attendance_bot.bot.app import configure_logging
from attendance_bot.settings import Settings, load_settings

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GqXw3z.kV9tRp2LmN8sQ4yHcB7dFj1aZeUo6WxIrE5gT0"


@pytest.fixture
def logged(tmp_path) -> Iterator[io.StringIO]:  # type: ignore[no-untyped-def]
    """configure_logging() as `manage.py run` does, its handler writing into a buffer; restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("nextcord").level
    settings: Settings = load_settings(
        None, environ={"DISCORD_BOT_TOKEN": TOKEN, "DATABASE_PATH": str(tmp_path / "a.db")}, require_discord=False
    )
    configure_logging(settings, logging.DEBUG)
    logging.getLogger("nextcord").setLevel(logging.DEBUG)
    buffer = io.StringIO()
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], level, nextcord_level = saved
        root.setLevel(level)
        logging.getLogger("nextcord").setLevel(nextcord_level)


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
