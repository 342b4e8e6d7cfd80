"""`lobby` and `lobby demo` open the console on real backends (here: the emulator fixture)."""

from __future__ import annotations

import json
import os

from doubles import until
from lobby import paths
from lobby.cli.app import build_app, demo_app, demo_identity
from lobby.cli.profiles import FailedBackend
from lobby.config_schema import Settings
from lobby.tui.messages import Health


def live(app) -> bool:
    return len(app.status) == 2 and all(s.health is Health.LIVE for s in app.status.values())


async def test_demo_console_answers_as_the_scenarios_captain(emulator):
    players, key, user = demo_identity()
    assert players and user == "u_you" and key.startswith("tb_test_")
    app = demo_app(emulator.url, players=players, key=key, user=user)
    app.still = True
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: live(app))
        await until(pilot, lambda: app.store.open_matches())
        assert {b.name for b in app.backends} == {"flexmatch", "teambattles"}
        teambattles = app.backend("teambattles")
        assert teambattles is not None and teambattles.capabilities.acceptance is not None


async def test_lobby_opens_the_configured_emulator_profile(emulator, monkeypatch):
    announce = paths.emulator_announcement()
    announce.parent.mkdir(parents=True, exist_ok=True)
    announce.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
    monkeypatch.setenv("TEAMBATTLES_API_KEY", "tb_test_you_pro_personal_0001")
    app = build_app(Settings.load())
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: live(app))
        assert app.profile == "emulator"


async def test_a_backend_that_cannot_be_built_says_why_and_the_other_still_works(emulator, monkeypatch):
    announce = paths.emulator_announcement()
    announce.parent.mkdir(parents=True, exist_ok=True)
    announce.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
    app = build_app(Settings.load())  # no TeamBattles key anywhere
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(app.status) == 2 and app.status["teambattles"].health is Health.ERROR)
        assert isinstance(app.backend("teambattles"), FailedBackend)
        assert "No TeamBattles API key found" in app.status["teambattles"].detail
        await until(pilot, lambda: app.status["flexmatch"].health is Health.LIVE)
