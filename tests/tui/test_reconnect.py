"""The console follows its emulator: one started after the console, and one restarted on
another port, are found by themselves (the announced address is read again); ctrl+r connects
the profile again."""

from __future__ import annotations

import json
import os

from doubles import until
from lobby import paths
from lobby.cli.app import build_app
from lobby.config_schema import Settings
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.tui.messages import Health


def announce(url: str) -> None:
    where = paths.emulator_announcement()
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(json.dumps({"url": url, "pid": os.getpid()}))


def live(app) -> bool:
    return len(app.status) == 2 and all(s.health is Health.LIVE for s in app.status.values())


def teambattles_url(app) -> str:
    return str(app.backend("teambattles").client.base_url)


async def test_a_late_then_restarted_emulator_is_followed(monkeypatch):
    monkeypatch.setenv("TEAMBATTLES_API_KEY", "tb_test_you_pro_personal_0001")
    app = build_app(Settings.load())
    async with app.run_test(size=(80, 24)) as pilot:
        # No emulator yet: both backends say why.
        await until(pilot, lambda: len(app.status) == 2 and all(s.health is Health.ERROR for s in app.status.values()))
        with EmulatorThread(EmulatorConfig()) as first:
            announce(first.url)
            await until(pilot, lambda: live(app) and app.store.open_matches())
            assert teambattles_url(app).startswith(first.url)
        with EmulatorThread(EmulatorConfig()) as second:
            assert second.url != first.url
            announce(second.url)
            await until(pilot, lambda: live(app) and teambattles_url(app).startswith(second.url))
            await until(pilot, lambda: app.store.open_matches())
            # ctrl+r connects again, to the same place, and stays live.
            await pilot.press("ctrl+r")
            await until(pilot, lambda: live(app) and app.store.open_matches())
            assert teambattles_url(app).startswith(second.url)
