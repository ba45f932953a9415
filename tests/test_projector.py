"""The projector service: a session's link (at least 128 random bits, stored only as a hash, given again,
replaced, dead once closed) and the one view the page and `code --watch` show."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from _course import ADMIN_CHANNEL_ID, ATTENDANCE_CHANNEL_ID, GUILD_ID

from attendance_bot import codes, messages
from attendance_bot.errors import NoOpenSession, ProjectorOff
from attendance_bot.models import ProjectorLink, Session
from attendance_bot.records import Submission
from attendance_bot.services import Services
from attendance_bot.settings import Settings

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.backends("sqlite", "postgresql")


@pytest.fixture
def services(settings: Settings, db: Path | str, clock: FakeClock) -> Services:
    return Services(settings, clock)


def _token(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def test_the_link_holds_at_least_128_random_bits_under_public_url(
    settings_factory: Callable[..., Settings], db: Path | str, clock: FakeClock
) -> None:
    """The link is PUBLIC_URL/p/<token>; the token is 192 bits, URL-safe, different for every session."""
    services = Services(settings_factory(PUBLIC_URL="https://attendance.example.edu/room/"), clock)
    services.attendance.open_session()
    link = services.projector.link()
    assert link.url.startswith("https://attendance.example.edu/room/p/")
    token = _token(link.url)
    assert len(base64.urlsafe_b64decode(token)) * 8 >= 128
    services.attendance.close_session()
    services.attendance.open_session()
    assert _token(services.projector.link().url) != token


def test_only_a_hash_of_the_token_is_stored(services: Services) -> None:
    """The database holds the token's SHA-256 and a nonce, never the token itself."""
    info = services.attendance.open_session()
    token = _token(services.projector.link().url)
    row = ProjectorLink.get(ProjectorLink.session_id == info.session_id)
    assert row.token_hash == codes.link_hash(token)
    stored = " ".join(str(v) for v in row.__data__.values())
    assert token not in stored


def test_the_same_link_is_given_again(services: Services) -> None:
    """Asking again (another `/projector`, `manage.py projector`) gives the same link, which still works."""
    services.attendance.open_session()
    first = services.projector.link()
    again = services.projector.link()
    assert again.url == first.url and not again.new
    assert services.projector.open_session_of(_token(first.url)) == first.session_id


def test_a_new_link_kills_the_old_one_at_once(services: Services) -> None:
    """`new_link`: a different token; the old one opens nothing from then on, the new one the session."""
    info = services.attendance.open_session()
    old = services.projector.link()
    new = services.projector.link(new=True)
    assert new.new and new.url != old.url
    assert services.projector.open_session_of(_token(old.url)) is None
    assert services.projector.view(_token(old.url)) is None
    assert services.projector.open_session_of(_token(new.url)) == info.session_id
    assert services.projector.link().url == new.url


def test_the_link_is_dead_once_its_session_closes(services: Services) -> None:
    """After close the token opens nothing; its view says closed and holds no code."""
    info = services.attendance.open_session()
    token = _token(services.projector.link().url)
    services.attendance.close_session()
    assert services.projector.open_session_of(token) is None
    view = services.projector.view(token)
    assert view is not None and not view.is_open and view.code is None and view.session_id == info.session_id


def test_a_link_opens_its_own_session_only(services: Services, settings: Settings, clock: FakeClock) -> None:
    """Two courses open at once: each link opens its own session, and a token of one is no token of the other."""
    other = services.courses.create(
        name="Biology",
        guild_id=GUILD_ID,
        admin_channel_id=ADMIN_CHANNEL_ID + 10,
        attendance_channel_id=ATTENDANCE_CHANNEL_ID + 10,
    )
    first = services.attendance.open_session(services.courses.find("default").id)
    second = services.attendance.open_session(other.id)
    one = services.projector.link(services.courses.find("default").id)
    two = services.projector.link(other.id)
    assert services.projector.open_session_of(_token(one.url)) == first.session_id
    assert services.projector.open_session_of(_token(two.url)) == second.session_id
    assert (one.course_name, two.course_name) == ("default", "Biology")


@pytest.mark.parametrize("token", ["", "x", "A" * 32, "%00", "../../etc", "é" * 40])
def test_an_unknown_token_opens_nothing(services: Services, token: str) -> None:
    """Any string that is not a live link's token is simply unknown."""
    services.attendance.open_session()
    services.projector.link()
    assert services.projector.open_session_of(token) is None
    assert services.projector.view(token) is None


def test_the_view_is_the_code_the_service_accepts(services: Services, clock: FakeClock) -> None:
    """The page's view: the course, the current code (the one /here accepts), when it changes, the count."""
    info = services.attendance.open_session()
    token = _token(services.projector.link().url)
    view = services.projector.view(token)
    assert view is not None and view.is_open
    assert view.code == services.attendance.current_code().code
    assert view.course_name == "default" and view.session_id == info.session_id and view.count == 0
    assert view.changes_at is not None and 0 < view.seconds_left <= info.interval
    result = services.attendance.submit(user_id=7, username="ada", code=view.code)
    assert result.accepted
    assert services.projector.view(token).count == 1  # type: ignore[union-attr]


def test_the_view_never_holds_a_later_windows_code(services: Services, clock: FakeClock) -> None:
    """At every instant over several windows the view's code is that instant's, never the next one's."""
    info = services.attendance.open_session()
    token = _token(services.projector.link().url)
    row = Session.get(Session.session_id == info.session_id)
    spec = codes.CodeSpec(
        row.secret, row.interval, row.code_length, row.grace_seconds, (row.window_offset_ms or 0) / 1000
    )
    for _ in range(4 * info.interval):
        view = services.projector.view(token)
        assert view is not None
        now = clock().timestamp()
        assert view.code == spec.code_at(now) and view.window == spec.window(now)
        clock.advance(1)


def test_the_count_is_a_number_of_present_and_late_only(services: Services) -> None:
    """The count is what "N present" counts: check-ins, not an instructor's absent mark."""
    services.attendance.open_session()
    token = _token(services.projector.link().url)
    code = services.attendance.current_code().code
    services.attendance.submit_many([Submission(1, "ada", code), Submission(2, "bob", code)])
    assert services.projector.view(token).count == 2  # type: ignore[union-attr]


def test_no_link_without_an_open_session(services: Services) -> None:
    with pytest.raises(NoOpenSession):
        services.projector.link()


def test_no_link_when_the_page_is_off(
    settings_factory: Callable[..., Settings], db: Path | str, clock: FakeClock
) -> None:
    """WEB_PORT=0: no page, so no link; the sentence says how to turn it on."""
    services = Services(settings_factory(WEB_PORT="0"), clock)
    services.attendance.open_session()
    with pytest.raises(ProjectorOff) as caught:
        services.projector.link()
    assert str(caught.value) == messages.projector_page_off()


def test_the_database_answers_for_healthz(services: Services) -> None:
    assert services.database_up()


def test_a_closed_session_shows_no_code_in_the_view(services: Services, clock: FakeClock) -> None:
    """`code --watch`'s and the page's read of a closed session: closed, the count, no code."""
    info = services.attendance.open_session()
    code = services.attendance.current_code().code
    services.attendance.submit(user_id=3, username="cy", code=code)
    clock.advance(timedelta(minutes=1).total_seconds())
    services.attendance.close_session()
    view = services.attendance.projector_view(info.session_id)
    assert (view.is_open, view.code, view.count) == (False, None, 1)
