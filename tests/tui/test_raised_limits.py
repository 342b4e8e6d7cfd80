"""The console says, in its status line, when the emulator it follows meters TeamBattles above
the service's own rate limits, and says nothing at the published limits. An emulator restarted
at the same address with another scenario is described as it is now."""

from __future__ import annotations

import asyncio
from doubles import text_of, until
from test_flows_teambattles import backend_for

from lobby.cli.profiles import with_service_time
from lobby.core.backend import FeedState
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.tui.app import LobbyApp
from lobby.tui.messages import Health
from lobby.tui.widgets.backend_bar import BackendBar


def bar(app) -> str:
    return text_of(app.screen.query_one(BackendBar).render(), width=400)


def start(config: EmulatorConfig, port: int = 0) -> EmulatorThread:
    return EmulatorThread(config, port=port).start()


async def test_the_status_line_says_when_the_emulator_raises_the_rate_limits(tmp_path, raised_limits_scenario):
    emus = [await asyncio.to_thread(start, EmulatorConfig(db=str(tmp_path / "a.db")))]
    port = int(emus[0].url.rsplit(":", 1)[1])
    teambattles = backend_for(emus[0])
    app = LobbyApp([with_service_time(teambattles)], still=True)
    try:
        async with app.run_test(size=(120, 24)) as pilot:
            # The published limits: live, the health check read, and no notice.
            await until(pilot, lambda: teambattles.feed_state is FeedState.LIVE)
            app.following.tick()
            await pilot.pause()
            assert app.status["teambattles"].health is Health.LIVE
            assert "raised" not in bar(app) and "⚠" not in bar(app)
            assert app.following.notices == {}

            # Restarted at the same address with raised limits: said once reconnected.
            await asyncio.to_thread(emus[0].stop)
            emus.append(await asyncio.to_thread(start, EmulatorConfig(scenario=raised_limits_scenario), port))
            await until(pilot, lambda: "rate limits raised" in bar(app))
            line = bar(app)
            assert "⚠ TeamBattles rate limits raised above the service's own (pro)" in line
            assert "load test red" in line and "\x1b" not in line  # the reason, cleaned
            assert "● TeamBattles live" in line

            # And at the published limits again: said no more.
            await asyncio.to_thread(emus[1].stop)
            emus.append(await asyncio.to_thread(start, EmulatorConfig(db=str(tmp_path / "c.db")), port))
            await until(pilot, lambda: "raised" not in bar(app))
            assert app.following.notices == {}
    finally:
        # Each emulator is stopped before the next starts: only the newest may still run.
        await asyncio.to_thread(emus[-1].stop)
