"""Steps the snapshot tests of the moderator's console share."""

from __future__ import annotations

import asyncio

from lobby.moderation import ReplaySource


def settle_replay(replay: ReplaySource, *keys: str):
    """A ``run_before``: wait for every recorded event, draw a frame, then press ``keys``."""

    async def run_before(pilot) -> None:
        async with asyncio.timeout(10):
            await replay.drained.wait()
        pilot.app.screen.frame(figures=True)
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before
