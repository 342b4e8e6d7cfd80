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


def test_region_and_account_flags_name_the_emulators_own_arns():
    proc = subprocess.Popen(
        [sys.executable, "-m", "lobby", "emulator", "--port", "0", "--db", ":memory:",
         "--region", "eu-central-1", "--account", "444455556666"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    try:
        url = first_line(proc).strip()
        unsigned = httpx.post(
            url + "/", content=b"{}", timeout=10,
            headers={"Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Target": "GameLift.DescribeMatchmakingConfigurations"},
        )  # fmt: skip
        arns = {c["ConfigurationArn"] for c in unsigned.json()["Configurations"]}
        assert arns and all(a.startswith("arn:aws:gamelift:eu-central-1:444455556666:") for a in arns), arns
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_a_region_or_account_of_the_wrong_shape_is_refused_before_starting():
    for flag, value in (("--region", "Mars"), ("--account", "12345")):
        done = subprocess.run(
            [sys.executable, "-m", "lobby", "emulator", "--port", "0", "--db", ":memory:", flag, value],
            capture_output=True, text=True, env=os.environ.copy(), timeout=60,
        )  # fmt: skip
        assert done.returncode != 0 and flag in done.stderr, done.stderr
