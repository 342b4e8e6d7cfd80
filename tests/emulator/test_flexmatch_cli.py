"""`lobby emulator` as a process: the first stdout line is the base URL, and it serves."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading

import httpx
from flexmatch_helpers import gamelift


def first_line(proc: subprocess.Popen[str], timeout: float = 60.0) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
    return lines.get(timeout=timeout)


def test_lobby_emulator_prints_its_url_and_serves():
    proc = subprocess.Popen(
        [sys.executable, "-m", "lobby", "emulator", "--port", "0", "--db", ":memory:"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        url = first_line(proc).strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        health = httpx.get(url + "/_emulator/health", timeout=10)
        assert health.status_code == 200 and health.json()["ok"] is True
        configs = gamelift(url).describe_matchmaking_configurations()["Configurations"]
        assert configs, "the demo scenario is seeded by default"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
