"""Pictures of start-up with the last-known offers: shown at once, each marked ↻ (refreshing)
while no backend has answered yet; then live from the early listing (lobby.cli.early) while the
backends are still being connected."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from doubles import T0, demo_offers
from test_early_listing import TICKET, Helper

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


def _early_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[LobbyApp, Helper]:
    """The console connecting "emulator", its backends held back, with the last-known offers
    (and one more the service no longer lists) and the early listing of every backend done. The
    early listing's countdowns read the service's clock at T0 (a picture must not move)."""
    import lobby.tui.app

    monkeypatch.setattr(lobby.tui.app, "SystemClock", lambda skew: FrozenClock(T0))
    path = tmp_path / "offers.json"
    flex, tb = demo_offers()
    gone = dataclasses.replace(tb[0], id="tbm-gone", title="A match no longer offered")
    kept = [*(("flexmatch", o) for o in flex), *(("teambattles", o) for o in [*tb, gone])]
    LastKnown(path).save(LastKnown.identity("emulator", None), kept)
    helper = Helper("emulator")
    helper.listed("flexmatch", flex)
    helper.listed("teambattles", tb)
    helper.done()

    async def connect(profile: str):
        await asyncio.Event().wait()  # no backend of its own answers while the picture is taken
        yield  # pragma: no cover

    app = LobbyApp(
        clock=FrozenClock(T0), profile="emulator", connect=connect, still=True, last_known=path, early=helper.early
    )
    return app, helper


async def _early_shown(pilot) -> None:
    app = pilot.app
    while not (app.live_data_shown() and app.store.get(TICKET) is not None):
        await pilot.pause(0.02)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_home_live_from_the_early_listing_while_connecting(snap_compare, size, tmp_path: Path, monkeypatch):
    """No ↻ mark: the service listed every offer; the bar still says the profile is connecting."""
    app, helper = _early_app(tmp_path, monkeypatch)
    try:
        assert snap_compare(app, terminal_size=SIZES[size], run_before=_early_shown)
    finally:
        helper.close()


def test_an_early_offer_opened_before_its_backend_is_connected(snap_compare, tmp_path: Path, monkeypatch):
    app, helper = _early_app(tmp_path, monkeypatch)

    async def enter(pilot) -> None:
        await _early_shown(pilot)
        await pilot.press("enter")
        while not pilot.app._notifications:
            await pilot.pause(0.02)
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=enter)
    finally:
        helper.close()
