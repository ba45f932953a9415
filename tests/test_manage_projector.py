"""`manage.py projector`: the open session's page link, the same each time until `--new-link`; and
`code --watch`, which draws the same view as the page (with its count)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _shell import manage

from attendance_bot import messages
from attendance_bot.models import close_db, init_db

CHANNELS = {"ADMIN_CHANNEL_ID": "123456789012345678", "ATTENDANCE_CHANNEL_ID": "123456789012345679"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    database = tmp_path / "db" / "attendance.db"
    database.parent.mkdir()
    init_db(database)
    close_db()
    return {"PATH": os.environ.get("PATH", ""), "DATABASE_PATH": str(database), "HOME": str(tmp_path), **CHANNELS}


def _session(env: dict[str, str]) -> str:
    opened = manage("open", env=env)
    assert opened.returncode == 0, opened.err
    return opened.out.split()[2].rstrip(";")


def test_projector_prints_the_link_and_the_same_one_again(env: dict[str, str]) -> None:
    """One line naming the session and course, ending with the link under PUBLIC_URL; the same link twice."""
    session_id = _session(env)
    env["PUBLIC_URL"] = "https://attendance.example.edu/"
    first = manage("projector", env=env)
    assert first.returncode == 0, first.err
    url = first.out.strip().rsplit(" ", 1)[1]
    assert url.startswith("https://attendance.example.edu/p/")
    assert first.out == messages.projector_shell_line(session_id, "default", url, False) + "\n"
    assert manage("projector", env=env).out == first.out


def test_new_link_replaces_it(env: dict[str, str]) -> None:
    session_id = _session(env)
    old = manage("projector", env=env).out.strip().rsplit(" ", 1)[1]
    renewed = manage("projector", "--new-link", env=env)
    new = renewed.out.strip().rsplit(" ", 1)[1]
    assert new != old and renewed.out == messages.projector_shell_line(session_id, "default", new, True) + "\n"
    assert manage("projector", env=env).out.strip().endswith(new)


def test_no_open_session_is_one_line(env: dict[str, str]) -> None:
    manage("open", env=env)
    manage("close", env=env)
    result = manage("projector", env=env)
    assert result.returncode == 1 and messages.no_open_session() in result.err and result.err.count("\n") == 1


def test_the_page_off_is_said(env: dict[str, str]) -> None:
    """WEB_PORT=0: no page to link; the one line says how to turn it on."""
    _session(env)
    env["WEB_PORT"] = "0"
    result = manage("projector", env=env)
    assert result.returncode == 1 and result.err == f"Error: {messages.projector_page_off()}\n"


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("WEB_PORT", "http", messages.web_port_malformed("http")),
        ("WEB_PORT", "70000", messages.web_port_malformed("70000")),
        ("WEB_BIND", "everywhere", messages.web_bind_malformed("everywhere", "127.0.0.1")),
        (
            "PUBLIC_URL",
            "attendance.example.edu",
            messages.public_url_malformed("attendance.example.edu", "http://127.0.0.1:8765"),
        ),
        (
            "PUBLIC_URL",
            "https://x.edu/?a=1",
            messages.public_url_malformed("https://x.edu/?a=1", "http://127.0.0.1:8765"),
        ),
    ],
)
def test_bad_web_settings_are_named(env: dict[str, str], variable: str, value: str, problem: str) -> None:
    """A malformed WEB_PORT, WEB_BIND or PUBLIC_URL stops the command with a sentence naming it."""
    env[variable] = value
    result = manage("check", env=env)
    assert result.returncode == 1 and problem in result.err
