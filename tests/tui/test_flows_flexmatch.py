"""The FlexMatch answer flows end to end: the app, the real FlexMatch adapter, and the emulator
on a loopback port. Assertions check what the server recorded, not only the screen."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import httpx
import pytest
from doubles import HANG, focused_on, settle, until
from textual.widgets import Static

from lobby.config_schema import GameLiftProfile, Profile
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.scenario import load_scenario
from lobby.core.offers import OfferKind
from lobby.flexmatch.client import FlexMatchClient
from lobby.cli.profiles import flexmatch_backend as open_backend
from lobby.flexmatch.backend import FlexMatchBackend
from lobby.flexmatch.lifecycle import TicketStatus
from lobby.tui.app import LobbyApp
from lobby.tui.screens.confirm import ConfirmScreen
from lobby.tui.screens.ticket import TicketScreen

_names = itertools.count(1)
#: Emulator seconds a match stays PLACING: more than a loaded machine takes between two steps
#: of a test, less than a ticket's request timeout; only the test's clock move places it.
PLACEMENT = 300


@pytest.fixture
def emulator_config(tmp_path) -> EmulatorConfig:
    """The demo scenario, with matches placed only when a test moves the emulator's clock."""
    demo = load_scenario()
    slow = demo.model_copy(update={"flexmatch": demo.flexmatch.model_copy(update={"placement_seconds": PLACEMENT})})
    path = tmp_path / "scenario.json"
    path.write_text(slow.model_dump_json(), "utf-8")
    return EmulatorConfig(time_travel=True, scenario=path)


async def make_configuration(client: FlexMatchClient, *, timeout: int = 60) -> str:
    name = f"tui-{next(_names)}"
    rules = {
        "name": "duel",
        "ruleLanguageVersion": "1.0",
        "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
    }
    await client.create_matchmaking_rule_set(f"rules-{name}", rules)
    await client.create_matchmaking_configuration(
        name=name,
        rule_set_name=f"rules-{name}",
        acceptance_required=True,
        acceptance_timeout_seconds=timeout,
        request_timeout_seconds=600,
        flex_match_mode="WITH_QUEUE",
    )
    return name


async def advance(url: str, seconds: float) -> None:
    async with httpx.AsyncClient() as http:
        (await http.post(url + "/_emulator/clock", json={"advanceSeconds": seconds})).raise_for_status()


async def status_of(client: FlexMatchClient, ticket_id: str) -> TicketStatus:
    [ticket] = await client.describe_matchmaking([ticket_id])
    return ticket.status


@pytest.fixture
async def alice(emulator) -> AsyncIterator[FlexMatchBackend]:
    """alice's FlexMatch backend, following the emulator's event stream (the app closes it)."""
    profile = Profile(kind="emulator", gamelift=GameLiftProfile(endpoint_url=emulator.url, players=["alice"]))
    yield await open_backend(profile)


async def propose(alice: FlexMatchBackend, **kw) -> tuple[str, str]:
    config = await make_configuration(alice.client, **kw)
    mine = await alice.start(config, ["alice"])
    theirs = await alice.client.start_matchmaking(config, ["bob"])
    return mine.ticket_id, theirs.ticket_id


def outcome(app) -> str:
    return str(app.screen.query_one("#outcome", Static).render())


async def test_a_found_match_alerts_then_accept_is_recorded_and_the_match_is_placed(alice, emulator, monkeypatch):
    app = LobbyApp([alice], clock=alice.clock, still=True)
    bells = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.status.get("flexmatch") and app.status["flexmatch"].health.value == "live", "live")
        mine, theirs = await propose(alice)
        key = (OfferKind.FLEXMATCH_TICKET, mine)
        await until(pilot, lambda: app.store.get(key) is not None, "the offer")
        # The alert follows the offer onto the screen.
        await until(pilot, lambda: any("A match was found for alice" in n.message for n in app._notifications), "alert")
        assert bells == [1]
        assert app.store.get(key).offer.progress == (0, 2)

        app.open_offer(key)
        await until(pilot, focused_on(pilot, TicketScreen, "#players"), "the ticket screen")
        await pilot.press("a")
        await settle(pilot, app.screen)
        # The server recorded alice's acceptance: its event stream says 1 of 2 accepted.
        await until(pilot, lambda: app.store.get(key).offer.progress == (1, 2), "progress 1/2")
        assert "1/2" in str(app.screen.query_one("#match-progress-text", Static).render())
        assert await status_of(alice.client, mine) is TicketStatus.REQUIRES_ACCEPTANCE

        await alice.client.accept_match(theirs, ["bob"])
        await until(pilot, lambda: app.store.get(key).closed is not None, "closed")
        assert "Placing. Every player accepted; the match is being placed." in outcome(app)
        assert await status_of(alice.client, mine) is TicketStatus.PLACING

        await advance(emulator.url, PLACEMENT + 1)  # past the placement
        await until(pilot, lambda: app.store.get(key).closed.status == "COMPLETED", "placed")
        [ticket] = await alice.client.describe_matchmaking([mine])
        info = ticket.game_session_connection_info
        assert ticket.status is TicketStatus.COMPLETED and info is not None
        text = outcome(app)
        assert f"Placed. The match is ready at {info.ip_address}:{info.port}." in text
        session = next(s.player_session_id for s in info.matched_player_sessions if s.player_id == "alice")
        assert f"alice: {session}" in text


async def test_reject_after_confirmation_cancels_the_ticket_on_the_server(alice):
    app = LobbyApp([alice], clock=alice.clock, still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.status.get("flexmatch") and app.status["flexmatch"].health.value == "live", "live")
        mine, theirs = await propose(alice)
        key = (OfferKind.FLEXMATCH_TICKET, mine)
        await until(pilot, lambda: app.store.get(key) is not None, "the offer")
        app.open_offer(key)
        await until(pilot, focused_on(pilot, TicketScreen, "#players"), "the ticket screen")
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        await settle(pilot, app.screen)
        await until(pilot, lambda: app.store.get(key).closed is not None, "closed")
        assert await status_of(alice.client, mine) is TicketStatus.CANCELLED
        assert "Cancelled. A player rejected the match; this ticket is cancelled." in outcome(app)


async def test_an_answer_that_races_the_deadline_shows_what_the_server_said(alice, emulator):
    # The app does not follow changes here, so it still offers the ticket when the server has
    # already timed it out: exactly the race of a late click.
    app = LobbyApp([alice], clock=alice.clock, still=True, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        mine, _ = await propose(alice, timeout=30)
        async with asyncio.timeout(HANG):
            while await status_of(alice.client, mine) is not TicketStatus.REQUIRES_ACCEPTANCE:
                await asyncio.sleep(0.05)
        await alice.sync()
        app.action_refresh()
        key = (OfferKind.FLEXMATCH_TICKET, mine)
        await until(pilot, lambda: app.store.get(key) is not None, "the offer")
        await advance(emulator.url, 31)
        assert await status_of(alice.client, mine) is TicketStatus.CANCELLED
        app.open_offer(key)
        await until(pilot, focused_on(pilot, TicketScreen, "#players"), "the ticket screen")
        await pilot.press("a")
        await settle(pilot, app.screen)
        assert "The service refused the answer: GameLift refused AcceptMatch" in outcome(app)
        assert any(n.severity == "error" for n in app._notifications)
