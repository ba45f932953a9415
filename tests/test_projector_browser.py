"""The projector page in a real headless Chromium (Debian's chromium and chromium-driver, driven by
selenium): the code /here accepts, the next one at the boundary without a reload, the count, the close,
the whole code on a 1920x1080 screen and a 390x844 phone, a reconnect after a restart, a wrong link."""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from _web import WebThread

from attendance_bot import codes, messages
from attendance_bot.models import Session
from attendance_bot.records import ProjectorLinkInfo
from attendance_bot.services import Services
from attendance_bot.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INTERVAL = 5
T = TypeVar("T")


def _missing() -> str:
    """Why no browser can run here ("" when one can)."""
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        absent.append("selenium (requirements-dev.txt)")
    return ", ".join(absent)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """One headless Chromium for the module. Missing, the tests fail, unless ATTENDANCE_BROWSERS_OPTIONAL=1
    says browsers are optional on this machine (CI installs them: .ci/run)."""
    missing = _missing()
    if missing:
        if os.environ.get("ATTENDANCE_BROWSERS_OPTIONAL") == "1":
            pytest.skip(f"browser tests skipped (ATTENDANCE_BROWSERS_OPTIONAL=1): missing {missing}")
        pytest.fail(f"the browser tests need {missing} (sudo apt-get install chromium chromium-driver)", pytrace=False)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def screen(driver: Any, width: int, height: int) -> None:
    """The page's viewport is exactly width x height CSS pixels (a phone's is a mobile one)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def wait_for(check: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def text_of(driver: Any, element_id: str) -> str:
    return str(driver.execute_script(f"return document.getElementById({element_id!r}).textContent"))


def shown_code(driver: Any) -> str:
    return wait_for(lambda: text_of(driver, "code"), 15, "the page to show a code")


@pytest.fixture
def services(settings_factory: Callable[..., Settings], db: Path | str) -> Services:
    return Services(settings_factory(CODE_ROTATION_INTERVAL=str(INTERVAL)))


@pytest.fixture
def web(services: Services) -> Iterator[WebThread]:
    with WebThread(services) as thread:
        yield thread


@pytest.fixture
def link(services: Services) -> ProjectorLinkInfo:
    services.attendance.open_session()
    return services.projector.link()


@pytest.fixture
def opened(driver: Any, web: WebThread, link: ProjectorLinkInfo) -> Any:
    """The link's page open at 1920x1080, showing its first code."""
    screen(driver, 1920, 1080)
    driver.get(web.page(link.url))
    shown_code(driver)
    return driver


def test_the_page_shows_the_code_here_accepts(opened: Any, services: Services, link: ProjectorLinkInfo) -> None:
    """The code read off the page is accepted as a check-in; the course and session are on it too."""
    code = shown_code(opened)
    assert services.attendance.submit(user_id=101, username="ada", code=code).accepted
    assert text_of(opened, "course") == "default"
    assert text_of(opened, "session") == messages.page_text("default", link.session_id).session


def test_the_code_changes_at_the_boundary_without_a_reload(opened: Any, services: Services) -> None:
    """The next window's code appears by itself (the document is the same one: no reload), and it is the
    code the service gives then."""
    opened.execute_script("window.stayed = true")
    first = shown_code(opened)
    second = wait_for(lambda: (c := text_of(opened, "code")) != first and c, 2 * INTERVAL + 3, "the next code")
    assert opened.execute_script("return window.stayed === true")
    assert services.attendance.submit(user_id=102, username="bo", code=second).accepted
    left = text_of(opened, "left")
    assert left.endswith(" s") and 0 <= int(left.split()[0]) <= INTERVAL


def test_the_count_rises_after_a_check_in(opened: Any, services: Services) -> None:
    """The count on the page follows the check-ins: a number, never a name."""
    assert wait_for(lambda: text_of(opened, "count") == "0", 5, "the count 0")
    assert services.attendance.submit(user_id=103, username="cyrano", code=shown_code(opened)).accepted
    wait_for(lambda: text_of(opened, "count") == "1", 5, "the count to rise to 1")
    assert "cyrano" not in opened.page_source


def test_the_open_page_says_closed_when_the_session_closes(opened: Any, services: Services, web: WebThread) -> None:
    """Closing the session: the page says so and shows no code; the link is dead afterwards."""
    services.attendance.close_session()
    words = messages.page_text("default", "")
    wait_for(lambda: text_of(opened, "notice") == words.closed, 5, "the page to say closed")
    assert text_of(opened, "code") == ""
    assert not opened.execute_script("return document.getElementById('code').getBoundingClientRect().height")


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (390, 844)])
def test_the_whole_code_is_on_screen_large(
    driver: Any, web: WebThread, link: ProjectorLinkInfo, width: int, height: int, tmp_path: Path
) -> None:
    """On a 1920x1080 screen and a 390x844 phone the code's box lies inside the window, nothing scrolls,
    and on the big screen the code is at least a fifth of the window's height."""
    screen(driver, width, height)
    driver.get(web.page(link.url))
    shown_code(driver)
    time.sleep(0.3)  # the fit after the first code
    box = driver.execute_script(
        "var r = document.getElementById('code').getBoundingClientRect(), d = document.documentElement;"
        "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, height: r.height,"
        " width: innerWidth, tall: innerHeight, scrollW: d.scrollWidth, scrollH: d.scrollHeight};"
    )
    assert (box["width"], box["tall"]) == (width, height)
    assert box["left"] >= 0 and box["top"] >= 0 and box["right"] <= width and box["bottom"] <= height, box
    assert box["scrollW"] <= width and box["scrollH"] <= height, box
    for element in ("count", "left", "session", "course"):  # the rest of the page is on screen too
        bottom = driver.execute_script(f"return document.getElementById({element!r}).getBoundingClientRect().bottom")
        assert 0 < bottom <= height, (element, bottom)
    if width == 1920:
        assert box["height"] >= height / 5, box
    shot = tmp_path / f"projector-{width}x{height}.png"
    assert driver.get_screenshot_as_file(str(shot))
    assert struct.unpack(">II", shot.read_bytes()[16:24]) == (width, height)


def test_the_page_reconnects_by_itself_after_a_restart(opened: Any, web: WebThread, services: Services) -> None:
    """The server goes away (the page says it is reconnecting) and comes back on the same address: the
    same page, never reloaded, shows the code again, one `/here` accepts."""
    opened.execute_script("window.stayed = true")
    words = messages.page_text("default", "")
    port = web.go_down()
    wait_for(lambda: text_of(opened, "notice") == words.reconnecting, 5, "the page to say it is reconnecting")
    web.come_back(port)
    wait_for(lambda: text_of(opened, "notice") == "" and text_of(opened, "code"), 15, "the page to reconnect")
    assert opened.execute_script("return window.stayed === true")
    code = text_of(opened, "code")
    assert services.attendance.submit(user_id=104, username="di", code=code).accepted


def test_a_wrong_link_shows_not_found(driver: Any, web: WebThread, link: ProjectorLinkInfo) -> None:
    driver.get(web.base + "/p/not-a-token")
    assert driver.find_element("tag name", "body").text == messages.page_not_found()


def test_the_page_never_shows_a_code_before_its_window(opened: Any, link: ProjectorLinkInfo) -> None:
    """Looked at five times a second over three windows, the page shows the code of the window it is
    in, or of the one just ended (on its way), never a later window's."""
    row = Session.get(Session.session_id == link.session_id)
    spec = codes.CodeSpec(
        row.secret, row.interval, row.code_length, row.grace_seconds, (row.window_offset_ms or 0) / 1000
    )
    seen: set[int] = set()
    deadline = time.time() + 3 * INTERVAL + 1
    while time.time() < deadline:
        before = time.time()
        code = text_of(opened, "code")
        after = time.time()
        allowed = {spec.window(before) - 1, spec.window(before), spec.window(after)}
        window = next((w for w in allowed if spec.code_for(w) == code), None)
        assert window is not None, (code, before)
        assert spec.code_for(spec.window(after) + 1) != code
        seen.add(window)
        time.sleep(0.2)
    assert len(seen) >= 3


def test_the_browser_gets_the_headers_and_healthz(opened: Any) -> None:
    """Seen from the page itself: every response of its server is no-store, no-referrer, nosniff and
    unframeable; /healthz says ok; a wrong link is the one 404."""
    found = opened.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "Promise.all(['/healthz', '/p/wrong', location.pathname].map(function (u) {"
        "  return fetch(u, {cache: 'no-store'}).then(function (r) { return r.text().then(function (t) {"
        "    return {status: r.status, text: t, cache: r.headers.get('Cache-Control'),"
        "      referrer: r.headers.get('Referrer-Policy'), sniff: r.headers.get('X-Content-Type-Options'),"
        "      csp: r.headers.get('Content-Security-Policy')}; }); });"
        "})).then(done);"
    )
    healthz, wrong, page = found
    assert (healthz["status"], healthz["text"]) == (200, "ok\n")
    assert (wrong["status"], wrong["text"]) == (404, messages.page_not_found())
    assert page["status"] == 200
    for response in found:
        assert (response["cache"], response["referrer"], response["sniff"]) == ("no-store", "no-referrer", "nosniff")
        assert "frame-ancestors 'none'" in response["csp"]
