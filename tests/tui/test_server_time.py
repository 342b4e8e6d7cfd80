"""Every countdown is the server's deadline minus the server's now: with the emulator's clock
and this machine's set 15 minutes apart, either way, the console shows the server's remaining
time, never expires an offer early or late, and an answer is recorded by the server."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from doubles import settle
from test_flows_flexmatch import HANG, propose, status_of, until
from test_flows_teambattles import backend_for
from textual.widgets import DataTable

from lobby.cli.profiles import flexmatch_backend, with_service_time
from lobby.config_schema import GameLiftProfile, Profile
from lobby.core.offers import OfferKind
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.flexmatch.lifecycle import TicketStatus
from lobby.tui import timefmt
from lobby.tui.app import LobbyApp
from lobby.tui.screens.ticket import TicketScreen
from lobby.tui.widgets.big_countdown import BigCountdown
from lobby.tui.widgets.offer_section import row_key

QUARTER = 15 * 60


class ShiftedClock:
    """The emulator's clock, ``offset`` seconds from this machine's."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def timestamp(self) -> float:
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)


@pytest.mark.parametrize("server_ahead", [QUARTER, -QUARTER], ids=["machine-15-min-slow", "machine-15-min-fast"])
async def test_countdowns_follow_the_servers_clock(server_ahead: int) -> None:
    server = ShiftedClock(server_ahead)
    with EmulatorThread(EmulatorConfig(), clock=server) as emulator:
        profile = Profile(kind="emulator", gamelift=GameLiftProfile(endpoint_url=emulator.url, players=["alice"]))
        alice = await flexmatch_backend(profile)
        teambattles = backend_for(emulator)
        app = LobbyApp([with_service_time(alice), with_service_time(teambattles)], still=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.status.get("flexmatch") and app.status["flexmatch"].health.value == "live", "live")
            mine, _ = await propose(alice, timeout=60)
            key = (OfferKind.FLEXMATCH_TICKET, mine)
            await until(pilot, lambda: app.store.get(key) is not None and app.store.get(key).offer.deadline, "the offer")
            entry = app.store.get(key)
            assert entry.offer.deadline is not None

            # The console's remaining time is the server's, within a second.
            server_left = (entry.offer.deadline - server.now()).total_seconds()
            shown_left = (entry.offer.deadline - entry.clock.now()).total_seconds()
            assert 50 < server_left <= 60
            assert abs(shown_left - server_left) <= 1.0
            table = app.screen.query_one("#awaiting DataTable", DataTable)
            # The ticket's row (TeamBattles offers may come first in the table).
            rk = row_key(key)
            await until(pilot, lambda: rk in table.rows, "the ticket's row")
            cell = str(table.get_cell(rk, table.ordered_columns[-1].key))
            left_now = (entry.offer.deadline - server.now()).total_seconds()
            shown = [timefmt.countdown(timedelta(seconds=left_now + d)) for d in (-1, 0, 1)]
            assert cell in shown

            # TeamBattles offers read the service's time too ("starts in").
            await until(pilot, lambda: any(e.backend == "teambattles" for e in app.store), "TeamBattles offers")
            tb = next(e for e in app.store if e.backend == "teambattles")
            assert abs((tb.clock.now() - server.now()).total_seconds()) <= 1.0

            # Not expired early (machine fast) nor kept past the deadline (machine slow):
            # the ticket is answerable, and the server records the answer.
            app.open_offer(key)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, TicketScreen) and not screen.expired and screen.can_answer()
            big = screen.query_one(BigCountdown)
            # Against the server's time left now (time has passed since server_left was read).
            shown_now = (big.deadline - big.clock.now()).total_seconds()
            assert abs(shown_now - (big.deadline - server.now()).total_seconds()) <= 1.0
            await pilot.press("a")
            await settle(pilot, screen)
            await until(pilot, lambda: app.store.get(key).offer.progress == (1, 2), "the server recorded 1/2")
            assert await status_of(alice.client, mine) is TicketStatus.REQUIRES_ACCEPTANCE
        async with asyncio.timeout(HANG):
            await alice.aclose()
