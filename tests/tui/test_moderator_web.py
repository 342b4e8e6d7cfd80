"""`lobby web` end to end: the real command serves the moderator's console through textual-serve;
headless Chromium (Debian's chromium and chromium-driver, driven by Selenium) opens it, sees the
table fill with live tickets from the emulator, and filters it.

Skipped, saying why, when Chromium, its driver, Selenium or textual-serve is not installed.
The browser's side (the command, the browser, the page's text) is in ``webpage``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from webpage import DUEL, HANG, IN_A_BROWSER, assert_foreign_websockets_refused, browser, gamelift_duel
from webpage import screen_text, serve_web, wait_for

__all__ = ["browser"]  # a fixture of webpage's, used here

pytestmark = IN_A_BROWSER

TICKETS = [f"tk-web-{n}" for n in range(6)]


@pytest.fixture
def web(emulator) -> Iterator[str]:
    """`lobby web` on a loopback port, following the test's emulator."""
    yield from serve_web("--emulator", emulator.url)


@pytest.fixture
def web_replay(tmp_path) -> Iterator[str]:
    """`lobby web` on a loopback port, showing a recording, at most one session at once."""
    recording = tmp_path / "events.jsonl"
    recording.write_text("")
    yield from serve_web("--replay", str(recording), "--max-sessions", "1")


def start_tickets(url: str) -> None:
    gamelift = gamelift_duel(url)
    for n, ticket in enumerate(TICKETS):
        gamelift.start_matchmaking(TicketId=ticket, ConfigurationName=DUEL, Players=[{"PlayerId": f"pw{n}"}])


def test_the_browser_shows_live_rows_and_filters_them(emulator, web, browser):
    from selenium.webdriver.common.by import By

    browser.get(web)
    wait_for(browser, lambda text: "lobby moderator" in text or "live" in text)
    start_tickets(emulator.url)  # live: they arrive while the page is open
    text = wait_for(browser, lambda text: all(t in text for t in TICKETS))
    assert "ACCEPTING" in text and "web-duel" in text
    _, mark = screen_text(browser)
    browser.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys("/tk-web-3")
    filtered = wait_for(browser, lambda text: re.search(r"\b1 of \d+ rows", text) is not None, since=mark)
    assert "tk-web-3" in filtered


FOREIGN_PAGE = """<!doctype html><title>elsewhere</title><script>
window.__result = "pending";
const socket = new WebSocket("%s");
socket.onopen = () => { window.__result = "open"; };
socket.onclose = (event) => { if (window.__result === "pending") window.__result = "refused " + event.code; };
</script>"""


@pytest.fixture
def foreign_site(tmp_path, web_replay) -> Iterator[str]:
    """Another site on another loopback port, whose page tries the console's WebSocket."""
    import http.server
    import threading

    port = web_replay.rsplit(":", 1)[1]
    (tmp_path / "index.html").write_text(FOREIGN_PAGE % f"ws://127.0.0.1:{port}/ws?width=80&height=24")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args) -> None:
            pass

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}/index.html"
    finally:
        site.shutdown()
        site.server_close()


def test_a_foreign_page_is_refused_the_console_and_the_real_page_is_served(web_replay, foreign_site, browser):
    browser.get(foreign_site)
    deadline = time.monotonic() + HANG
    while (result := browser.execute_script("return window.__result")) == "pending":
        assert time.monotonic() < deadline, "the foreign page's WebSocket neither opened nor closed"
        time.sleep(0.05)
    assert result.startswith("refused")
    # The console's own page is served and its WebSocket (the one session allowed) opens.
    browser.get(web_replay)
    wait_for(browser, lambda text: "lobby moderator" in text or "rows" in text)


async def test_foreign_hosts_and_origins_are_refused_and_sessions_capped(web_replay):
    import aiohttp

    port = web_replay.rsplit(":", 1)[1]
    ws = f"{web_replay}/ws?width=80&height=24"
    async with aiohttp.ClientSession() as http:
        async with http.get(web_replay) as page:
            assert page.status == 200 and "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
        async with http.get(web_replay, headers={"Host": f"rebound.example:{port}"}) as page:
            assert page.status == 403  # DNS rebinding: a foreign name for this address
        async with http.get(f"{web_replay}/static/css/xterm.css", headers={"Host": "rebound.example"}) as page:
            assert page.status == 403
        await assert_foreign_websockets_refused(http, web_replay)
        first = await http.ws_connect(ws, headers={"Origin": f"http://localhost:{port}"})
        try:
            with pytest.raises(aiohttp.WSServerHandshakeError) as full:
                await http.ws_connect(ws, headers={"Origin": web_replay})
            assert full.value.status == 503
        finally:
            await first.close()
