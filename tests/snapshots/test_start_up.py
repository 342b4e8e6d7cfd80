"""Pictures of start-up with the last-known offers: shown at once, each marked ↻ (refreshing)
while no backend has answered yet."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from doubles import T0, demo_offers

from lobby.core.clock import FrozenClock
from lobby.tui.app import LobbyApp
from lobby.tui.store import LastKnown

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.mark.parametrize("size", SIZES)
def test_home_refreshing_last_known_offers(snap_compare, size, tmp_path: Path):
    path = tmp_path / "offers.json"
    flex, tb = demo_offers()
    LastKnown(path).save(LastKnown.identity("emulator", None), [*(("flexmatch", o) for o in flex), *(("teambattles", o) for o in tb)])

    async def connect(profile: str):
        await asyncio.Event().wait()  # no backend answers while the picture is taken
        yield  # pragma: no cover

    app = LobbyApp(clock=FrozenClock(T0), profile="emulator", connect=connect, still=True, last_known=path)
    assert snap_compare(app, terminal_size=SIZES[size])
