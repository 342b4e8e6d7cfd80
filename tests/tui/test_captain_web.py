"""`lobby web --captain`: the captain's console in a browser, its alerts as the browser's
notifications.

The console decides when a desktop notification is due and what it says (lobby.tui.alerts); in a
browser's page it hands it over as a meta packet of Textual's web driver, which the server
(lobby.cli.web) passes on to the page as JSON data, and the page's script shows with the Web
Notifications API. The pieces are tested one by one, then end to end: the real command, headless
Chromium (skipped, saying why, when Chromium, its driver, Selenium or textual-serve is missing)
with the notification permission granted, and a new offer made on the emulator through its API.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import time
from collections.abc import Iterator
from importlib.util import find_spec

import pytest
from webpage import DUEL, HANG, IN_A_BROWSER, assert_foreign_websockets_refused, browser, gamelift_duel
from webpage import screen_text, serve_web, wait_for

from lobby import paths
from lobby.cli import main
from lobby.cli.moderate import captain_command
from lobby.config_schema import Settings
from lobby.tui.alerts import PAGE_META, Alert, Alerts, Notice, page_meta

__all__ = ["browser"]  # a fixture of webpage's, used here

needs_textual_serve = pytest.mark.skipif(find_spec("textual_serve") is None, reason="needs textual-serve")


def in_a_browser(test):
    """A test that drives headless Chromium (webpage.IN_A_BROWSER)."""
    for mark in IN_A_BROWSER:
        test = mark(test)
    return test


# --- the console: what goes to the page ---------------------------------------------------------


def alerts_in_a_browser(settings: Settings, *, focused: bool) -> tuple[Alerts, dict[str, list[object]]]:
    heard: dict[str, list[object]] = {"toast": [], "bell": [], "terminal": [], "page": []}
    alerts = Alerts(
        notify=heard["toast"].append,
        bell=lambda: heard["bell"].append("bell"),
        write=heard["terminal"].append,
        focused=lambda: focused,
        settings=settings,
        env={"TERM_PROGRAM": "iTerm.app"},  # what the server's terminal says; the page is no terminal
        web=lambda: True,
        page=heard["page"].append,
    )
    return alerts, heard


def test_in_a_browser_the_notification_goes_to_the_page_as_inert_data_not_as_an_escape_sequence():
    alerts, heard = alerts_in_a_browser(Settings(desktop_notifications="osc9"), focused=False)
    alerts.announce(Alert("Challenge\x1b]0;pwned\x07 received", "Ember <b>Foxes</b>\n\x1b[31m\tchallenge you"))
    assert heard["terminal"] == []
    assert heard["bell"] == ["bell"]
    assert heard["page"] == [
        {"type": PAGE_META, "title": "Challenge received", "body": "Ember <b>Foxes</b> challenge you"}
    ]


def test_in_a_browser_nothing_goes_to_the_page_while_it_is_focused_or_when_told_not_to():
    for settings, focused in (
        (Settings.load(), True),
        (Settings(desktop_notifications="off"), False),
        (Settings(visual_only=True), False),
    ):
        alerts, heard = alerts_in_a_browser(settings, focused=focused)
        alerts.announce(Alert("Match found", "ana"))
        assert heard["page"] == [] and heard["terminal"] == []
        assert len(heard["toast"]) == 1


def test_the_page_and_the_terminal_are_told_the_same_words():
    notice = Notice.of("Request \x1b[2Japproved", "x" * 500)
    assert notice == Notice("Request approved", notice.body) and len(notice.body) <= 200
    assert page_meta(notice) == {"type": PAGE_META, "title": notice.title, "body": notice.body}


# --- the server: from the console's meta packet to the page's message ----------------------------


@needs_textual_serve
def test_the_server_passes_the_title_and_body_only_and_nothing_else_is_a_notification():
    from lobby.cli.web import PAGE_TEXT_MAX, page_message

    message = page_message({"type": PAGE_META, "title": "Match found", "body": "<img src=x>", "html": "<b>"})
    assert message is not None and json.loads(message) == [PAGE_META, {"title": "Match found", "body": "<img src=x>"}]
    long = json.loads(page_message({"type": PAGE_META, "title": "t" * 5000, "body": "b"}) or "null")
    assert len(long[1]["title"]) == PAGE_TEXT_MAX
    assert page_message({"type": "open_url", "title": "a", "body": "b"}) is None
    assert page_message({"type": PAGE_META, "title": ["a"], "body": "b"}) is None
    assert page_message({"type": PAGE_META, "title": "a"}) is None


@needs_textual_serve
async def test_a_sessions_notification_reaches_its_page_and_other_meta_packets_work_as_before():
    from textual_serve.download_manager import DownloadManager

    from lobby.cli.web import PageAppService

    to_page: list[str] = []

    async def write_str(text: str) -> None:
        to_page.append(text)

    async def ignore(*args: object) -> None:
        pass

    service = PageAppService(
        "true", write_bytes=ignore, write_str=write_str, close=ignore, download_manager=DownloadManager()
    )
    await service.on_meta(json.dumps(page_meta(Notice.of("Match found", "ana: 0:42 left"))).encode())
    await service.on_meta(json.dumps({"type": "open_url", "url": "https://example.org/", "new_tab": True}).encode())
    assert [json.loads(m) for m in to_page] == [
        [PAGE_META, {"title": "Match found", "body": "ana: 0:42 left"}],
        ["open_url", {"url": "https://example.org/", "new_tab": True}],
    ]


# --- the command ---------------------------------------------------------------------------------


def test_each_session_runs_lobby_and_the_key_stays_in_the_environment(tb_canary_key):
    command = captain_command()
    assert shlex.split(command) == [sys.executable, "-m", "lobby"]
    assert tb_canary_key not in command


def test_the_captain_takes_no_moderators_feed_and_a_broken_config_is_said_before_serving(capsys):
    assert main(["web", "--captain", "--emulator", "http://127.0.0.1:9"]) == 1
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and "--emulator" in said and "configured profile" in said

    config = paths.config_dir() / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('profile = "live\n')
    assert main(["web", "--captain", "--port", "0"]) == 1
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and str(config) in said

    config.write_text('profile = "nowhere"\n')
    assert main(["web", "--captain", "--port", "0"]) == 1
    said = capsys.readouterr().err
    assert said.count("\n") == 1 and "nowhere" in said


# --- the page, served by the real command ---------------------------------------------------------


#: The players the captain answers for, one per offer the tests make.
PLAYERS = ("pw-cap-1", "pw-cap-2")


def point_the_console_at(url: str) -> None:
    """The configured profile: the emulator at ``url`` (as if `lobby emulator` had announced
    it), answering for PLAYERS."""
    announcement = paths.emulator_announcement()
    announcement.parent.mkdir(parents=True, exist_ok=True)
    announcement.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    config = paths.config_dir() / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        '[profiles.emulator]\nkind = "emulator"\n\n'
        f"[profiles.emulator.gamelift]\nplayers = {json.dumps(list(PLAYERS))}\n"
    )


@pytest.fixture
def captain(emulator, tb_canary_key) -> Iterator[str]:
    """`lobby web --captain` on a loopback port, its profile the test's emulator (and a
    TeamBattles key in the environment, which must never reach the page)."""
    point_the_console_at(emulator.url)
    yield from serve_web("--captain", console="captain")


@needs_textual_serve
@pytest.mark.slow
async def test_the_captains_page_offers_notifications_and_answers_its_own_origin_only(captain, tb_canary_key):
    import aiohttp

    port = captain.rsplit(":", 1)[1]
    ws = f"{captain}/ws?width=80&height=24"
    async with aiohttp.ClientSession() as http:
        async with http.get(captain) as page:
            html = await page.text()
            assert page.status == 200 and "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
        assert 'id="lobby-notifications"' in html and f'src="{captain}/lobby/notify.js"' in html
        assert "googleapis" not in html and tb_canary_key not in html
        async with http.get(f"{captain}/lobby/notify.js") as script:
            assert script.status == 200 and script.content_type == "text/javascript"
            assert "new window.Notification(title, { body: body })" in await script.text()
        for path in ("/", "/lobby/notify.js"):
            async with http.get(f"{captain}{path}", headers={"Host": f"rebound.example:{port}"}) as refused:
                assert refused.status == 403  # DNS rebinding: a foreign name for this address
        await assert_foreign_websockets_refused(http, captain)
        session = await http.ws_connect(ws, headers={"Origin": f"http://localhost:{port}"})
        await session.close()


@needs_textual_serve
@pytest.mark.slow
async def test_the_moderators_page_has_no_notifications(tmp_path):
    import aiohttp

    recording = tmp_path / "events.jsonl"
    recording.write_text("")
    for url in serve_web("--replay", str(recording)):
        async with aiohttp.ClientSession() as http, http.get(url) as page:
            html = await page.text()
        assert page.status == 200 and "lobby moderator" in html
        assert 'id="lobby-notifications"' not in html and "notify.js" not in html


# --- the browser, end to end --------------------------------------------------------------------

#: Records each Notification the page constructs (a test's listener on the browser's own API).
RECORD_NOTIFICATIONS = """
window.__notifications = [];
const Native = window.Notification;
window.Notification = class extends Native {
  constructor(title, options) {
    window.__notifications.push({ title: title, body: options.body });
    super(title, options);
  }
};
"""


def start_offer(gamelift, player: str, n: int) -> None:
    """A FlexMatch ticket for ``player`` and one for an opponent: a match that awaits acceptance."""
    gamelift.start_matchmaking(TicketId=f"tk-cap-{n}", ConfigurationName=DUEL, Players=[{"PlayerId": player}])
    gamelift.start_matchmaking(TicketId=f"tk-opp-{n}", ConfigurationName=DUEL, Players=[{"PlayerId": f"opp-{n}"}])


def notifications(driver) -> list[dict[str, str]]:
    return driver.execute_script("return window.__notifications")


@in_a_browser
def test_a_new_offer_while_the_page_is_not_focused_is_a_browser_notification(emulator, captain, browser, tb_canary_key):
    from selenium.webdriver.common.by import By

    gamelift = gamelift_duel(emulator.url)
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": captain, "permissions": ["notifications"]})
    browser.get(captain)
    wait_for(browser, lambda text: "FlexMatch" in text and "live" in text)
    assert browser.execute_script("return document.getElementById('lobby-notifications').hidden")  # granted
    browser.execute_script(RECORD_NOTIFICATIONS)

    # The page has the focus: the toast and the bell, no notification.
    browser.find_element(By.CSS_SELECTOR, ".xterm-screen").click()
    assert browser.execute_script("return document.querySelector('.xterm-screen').contains(document.activeElement)")
    _, mark = screen_text(browser)
    start_offer(gamelift, PLAYERS[0], 1)
    wait_for(browser, lambda text: "Match found" in text and PLAYERS[0] in text, since=mark)
    assert notifications(browser) == []  # the page's message would have come before the toast

    # The page loses the focus: the next offer is a notification, its words the console's.
    browser.execute_script("document.activeElement.blur()")
    _, mark = screen_text(browser)
    start_offer(gamelift, PLAYERS[1], 2)
    deadline = time.monotonic() + HANG
    while not notifications(browser):
        assert time.monotonic() < deadline, "no notification; the screen: " + screen_text(browser, mark)[0][-500:]
        time.sleep(0.1)
    [shown] = notifications(browser)
    assert shown["title"] == "Match found"
    assert re.fullmatch(rf"A match was found for {PLAYERS[1]}: .+\. \d+:\d\d left to answer\.", shown["body"])
    text, _ = screen_text(browser)
    assert tb_canary_key not in text and tb_canary_key not in browser.page_source



def bar(driver) -> tuple[bool, str, bool]:
    """The notifications bar: shown, its words, whether it offers the Enable button."""
    return tuple(
        driver.execute_script(
            "const bar = document.getElementById('lobby-notifications');"
            "return [!bar.hidden, bar.querySelector('.words').textContent, !bar.querySelector('.enable').hidden];"
        )
    )


@in_a_browser
def test_the_page_asks_on_a_click_and_says_once_that_the_browser_refuses(captain, browser):
    from selenium.webdriver.common.by import By

    browser.get(captain)
    wait_for(browser, lambda text: "FlexMatch" in text)
    shown, words, asking = bar(browser)
    assert shown and asking and "Desktop notifications" in words
    browser.find_element(By.CSS_SELECTOR, "#lobby-notifications .dismiss").click()
    assert not bar(browser)[0]

    browser.execute_cdp_cmd(
        "Browser.setPermission",
        {"permission": {"name": "notifications"}, "setting": "denied", "origin": captain},
    )
    browser.refresh()
    wait_for(browser, lambda text: "FlexMatch" in text)
    shown, words, asking = bar(browser)
    assert shown and not asking and words.startswith("The browser refuses notifications for this page")
    browser.refresh()
    wait_for(browser, lambda text: "FlexMatch" in text)
    assert not bar(browser)[0]  # said once
