"""The browser side of the `lobby web` tests: the real command on a loopback port, headless
Chromium (Debian's chromium and chromium-driver, driven by Selenium), and what the server sends
to the page's terminal.

The terminal in the page draws on a canvas, so the tests read what the server sends to it: a
script added before the page loads keeps a copy of the bytes of the page's WebSocket.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.util import find_spec

import boto3
import pytest
from ports import free_port, wait_listening

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
#: The marks of a test that drives headless Chromium: slow, and skipped, saying why, when
#: Chromium, its driver, Selenium or textual-serve is not installed.
IN_A_BROWSER = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None, reason="needs Debian's chromium and chromium-driver"),
    pytest.mark.skipif(find_spec("selenium") is None, reason="needs selenium"),
    pytest.mark.skipif(find_spec("textual_serve") is None, reason="needs textual-serve"),
]

#: A guard against hangs only; nothing asserts on elapsed time.
HANG = 30

HOOK = r"""
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__lobbyText = "";
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (typeof event.data !== "string") {
          window.__lobbyText += decoder.decode(new Uint8Array(event.data), { stream: true });
        }
      });
    }
  };
})();
"""
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")



def serve_web(*arguments: str, console: str = "moderator") -> Iterator[str]:
    """`lobby web ARGUMENTS` on a free loopback port, serving ``console``'s console; yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "lobby", "web", *arguments, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its sessions (one `lobby moderate` each) go with it
    )
    try:
        assert server.stdout is not None
        assert f"serving the {console}'s console" in server.stdout.readline()
        wait_listening(port, HANG, "lobby web")
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK})
        yield driver
    finally:
        driver.quit()


def screen_text(driver, since: int = 0) -> tuple[str, int]:
    """What the server sent to the page's terminal since ``since`` (as text), and where it ends."""
    raw = driver.execute_script("return window.__lobbyText")
    return _ESCAPES.sub("", raw[since:]), len(raw)


def wait_for(driver, found, since: int = 0) -> str:
    deadline = time.monotonic() + HANG
    while True:
        text, _ = screen_text(driver, since)
        if found(text):
            return text
        assert time.monotonic() < deadline, f"not seen in the browser; last text: {text[-500:]!r}"
        time.sleep(0.1)


#: The emulator's FlexMatch configuration of the `lobby web` tests: one player a side.
DUEL = "web-duel"


def gamelift_duel(url: str):
    """A GameLift client of the emulator at ``url``, on which the DUEL configuration exists:
    two tickets of one player each make a match that awaits acceptance."""
    gamelift = boto3.client("gamelift", endpoint_url=url, region_name="us-east-1")
    rules = {
        "ruleLanguageVersion": "1.0",
        "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
    }
    gamelift.create_matchmaking_rule_set(Name="web-rules", RuleSetBody=json.dumps(rules))
    gamelift.create_matchmaking_configuration(
        Name=DUEL,
        RuleSetName="web-rules",
        RequestTimeoutSeconds=600,
        AcceptanceRequired=True,
        AcceptanceTimeoutSeconds=60,
        FlexMatchMode="STANDALONE",
    )
    return gamelift


async def assert_foreign_websockets_refused(http, url: str) -> None:
    """The console's WebSocket at ``url`` refuses a page of no origin, of another site, and of
    another port of the same address (aiohttp's ``http`` session)."""
    import aiohttp

    port = int(url.rsplit(":", 1)[1])
    for origin in (None, "http://evil.example", f"http://127.0.0.1:{port + 1}"):
        headers = {"Origin": origin} if origin else {}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(f"{url}/ws?width=80&height=24", headers=headers)
        assert refused.value.status == 403
