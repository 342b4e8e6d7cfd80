"""`lobby demo`'s records belong to its emulator instance: a new demo starts fresh, and another
terminal on the emulator profile (the README's "act as the demo captain") sees the same ones."""

from __future__ import annotations

import json
import os

from lobby import paths
from lobby.cli.profiles import demo_teambattles, teambattles_backend
from lobby.config_schema import Profile

KEY = "tb_test_you_pro_personal_0001"


def announce(url: str) -> None:
    where = paths.emulator_announcement()
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(json.dumps({"url": url, "pid": os.getpid()}))


def test_the_demo_and_another_terminal_share_records_and_each_demo_starts_fresh(monkeypatch):
    monkeypatch.setenv("TEAMBATTLES_API_KEY", KEY)
    demo = demo_teambattles("http://127.0.0.1:40001", key=KEY, user="u_you")
    announce("http://127.0.0.1:40001")
    other_terminal = teambattles_backend("emulator", Profile(kind="emulator"))
    assert demo.requests.profile == other_terminal.requests.profile
    next_demo = demo_teambattles("http://127.0.0.1:40002", key=KEY, user="u_you")
    assert next_demo.requests.profile != demo.requests.profile
