"""The browser side of the `lobby web` tests: the real command on a loopback port, headless
Chromium (Debian's chromium and chromium-driver, driven by Selenium), and what the server sends
to the page's terminal.

The terminal in the page draws on a canvas, so the tests read what the server sends to it: a
script added before the page loads keeps a copy of the bytes of the page's WebSocket.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        deadline = time.monotonic() + HANG
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "lobby web did not start listening"
                time.sleep(0.05)
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
