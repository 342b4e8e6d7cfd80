"""`lobby emulator` as a process: the first stdout line is the base URL, and it serves."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
from flexmatch_helpers import gamelift


def first_line(proc: subprocess.Popen[str], timeout: float = 60.0) -> str:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(proc.stdout.readline()), daemon=True).start()
    return lines.get(timeout=timeout)


@contextlib.contextmanager
def serving(*flags: str) -> Iterator[str]:
    """`lobby emulator` with ``flags`` as a process; yields the URL it printed first."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lobby", "emulator", "--port", "0", "--db", ":memory:", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        yield first_line(proc).strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_lobby_emulator_prints_its_url_and_serves():
    with serving() as url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        health = httpx.get(url + "/_emulator/health", timeout=10)
        assert health.status_code == 200 and health.json()["ok"] is True
        configs = gamelift(url).describe_matchmaking_configurations()["Configurations"]
        assert configs, "the demo scenario is seeded by default"


def test_region_and_account_flags_name_the_emulators_own_arns():
    with serving("--region", "eu-central-1", "--account", "444455556666") as url:
        unsigned = httpx.post(
            url + "/", content=b"{}", timeout=10,
            headers={"Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Target": "GameLift.DescribeMatchmakingConfigurations"},
        )  # fmt: skip
        arns = {c["ConfigurationArn"] for c in unsigned.json()["Configurations"]}
        assert arns and all(a.startswith("arn:aws:gamelift:eu-central-1:444455556666:") for a in arns), arns


def test_a_region_or_account_of_the_wrong_shape_is_refused_before_starting():
    for flag, value in (("--region", "Mars"), ("--account", "12345")):
        done = subprocess.run(
            [sys.executable, "-m", "lobby", "emulator", "--port", "0", "--db", ":memory:", flag, value],
            capture_output=True, text=True, env=os.environ.copy(), timeout=60,
        )  # fmt: skip
        assert done.returncode != 0 and flag in done.stderr, done.stderr
