"""The captain's flow as a person types it, in a real terminal (tmux, 120x40): `lobby demo`
starts, an open match is picked, a roster chosen, the form left with Esc and opened again with
the draft as it was. Skipped where tmux is not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

HANG = 40.0  # a guard against hangs only


class Terminal:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False)
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "cap")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "cap", key)
            time.sleep(0.2)

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + HANG
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never showed; the screen:\n{self.screen()}")


def test_the_captain_picks_a_match_and_keeps_the_draft_in_tmux(tmp_path: Path) -> None:
    term = Terminal(f"lobby-test-{uuid.uuid4().hex[:8]}")
    env = {
        **os.environ,
        "LOBBY_CONFIG_DIR": str(tmp_path / "config"),
        "LOBBY_STATE_DIR": str(tmp_path / "state"),
        "LOBBY_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "TERM": "xterm-256color",
    }
    # Flow control off, as most terminal emulators have it: with it on, the tty itself takes
    # ctrl+s (XOFF) and the screen freezes before the console ever sees the key.
    command = " ".join(["stty -ixon;", sys.executable, "-m", "lobby", "demo"])
    subprocess.run(
        ["tmux", "-L", term.socket, "new-session", "-d", "-s", "cap", "-x", "120", "-y", "40", command],
        env=env,
        check=True,
    )
    try:
        term.wait_for("Open matches (")
        term.keys("2", "Enter")  # the first open match: Tidebreakers' skirmish, 1v1
        term.wait_for("Roster: exactly 1 active")
        term.wait_for("u_you")
        term.keys("down", "a")  # u_you plays
        term.wait_for("[A]  u_you")
        term.keys("Escape")  # leave: the draft is kept, and the console says so
        term.wait_for("Draft kept")
        term.keys("Enter")  # reopen the same match: the roster comes back as it was
        term.wait_for("Your draft for this offer is back")
        assert "[A]  u_you" in term.wait_for("Roster: exactly 1 active")
        term.keys("C-q")
    finally:
        term.tmux("kill-server")
