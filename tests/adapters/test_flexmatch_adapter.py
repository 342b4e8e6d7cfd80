"""The FlexMatch adapter against the emulator on a loopback port: real HTTP, real SigV4, the
real event stream. No mocks here; injected faults live in test_flexmatch_faults.py."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from lobby.config_schema import GameLiftProfile, Profile
from lobby.core.backend import OfferBackend
from lobby.core.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotConfigured,
    NotFound,
)
from lobby.core.offers import Change, OfferClosed, OfferUpdated
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.flexmatch.client import FlexMatchClient
from lobby.cli.profiles import flexmatch_backend as open_backend
from lobby.flexmatch.backend import FlexMatchBackend
from lobby.flexmatch.lifecycle import TicketStatus
from lobby.flexmatch.wire import AcceptanceType

#: A guard against hangs only; nothing asserts on elapsed time.
HANG = 20
_names = itertools.count(1)


def duel_rules(players_per_team: int = 1, teams: int = 2) -> dict:
    rules: dict = {
        "name": "duel",
        "ruleLanguageVersion": "1.0",
        "teams": [
            {"name": f"team{n}", "minPlayers": players_per_team, "maxPlayers": players_per_team}
            for n in range(1, teams + 1)
        ],
    }
    if players_per_team * teams > 40:
        # A large match needs the balanced strategy and a number attribute to balance on.
        rules["playerAttributes"] = [{"name": "skill", "type": "number", "default": 10}]
        rules["algorithm"] = {"strategy": "balanced", "balancedAttribute": "skill"}
    return rules


async def make_configuration(
    client: FlexMatchClient, *, players_per_team: int = 1, teams: int = 2, timeout: int = 60, standalone: bool = True
) -> str:
    name = f"cfg-{next(_names)}"
    await client.create_matchmaking_rule_set(f"rules-{name}", duel_rules(players_per_team, teams))
    await client.create_matchmaking_configuration(
        name=name,
        rule_set_name=f"rules-{name}",
        acceptance_required=True,
        acceptance_timeout_seconds=timeout,
        request_timeout_seconds=600,
        flex_match_mode="STANDALONE" if standalone else "WITH_QUEUE",
    )
    return name


def profile_for(url: str, players: list[str], *, feed: bool = True) -> Profile:
    if feed:
        return Profile(kind="emulator", gamelift=GameLiftProfile(endpoint_url=url, players=players))
    return Profile(kind="live", gamelift=GameLiftProfile(endpoint_url=url, region="us-east-1", players=players))


async def advance(url: str, seconds: float) -> None:
    async with httpx.AsyncClient() as http:
        (await http.post(url + "/_emulator/clock", json={"advanceSeconds": seconds})).raise_for_status()


async def next_changes(changes: AsyncIterator[Change], n: int) -> list[Change]:
    async with asyncio.timeout(HANG):
        return [await anext(changes) for _ in range(n)]


@pytest.fixture
async def alice(emulator) -> AsyncIterator[FlexMatchBackend]:
    """A backend answering for player alice, following the emulator's event stream."""
    backend = await open_backend(profile_for(emulator.url, ["alice"]))
    async with backend:
        yield backend


async def propose_duel(backend: FlexMatchBackend, **kw) -> tuple[str, str, str]:
    """alice vs bob in a fresh configuration; returns (configuration, alice's ticket, bob's)."""
    config = await make_configuration(backend.client, **kw)
    mine = await backend.start(config, ["alice"])
    theirs = await backend.client.start_matchmaking(config, ["bob"])
    return config, mine.ticket_id, theirs.ticket_id


async def wait_status(client: FlexMatchClient, ticket_id: str, status: TicketStatus) -> None:
    async with asyncio.timeout(HANG):
        while (await client.describe_matchmaking([ticket_id]))[0].status is not status:
            await asyncio.sleep(0.02)


# --- the whole acceptance flow ------------------------------------------------------------------


async def test_backend_is_an_offer_backend(alice):
    assert isinstance(alice, OfferBackend)


async def test_accept_flow_offer_progress_then_closed_in_order(alice):
    changes = alice.changes()
    config, mine, theirs = await propose_duel(alice, standalone=False)
    first = await next_changes(changes, 1)
    offer = first[0].offer
    assert (offer.id, offer.status, offer.players, offer.progress) == (mine, "REQUIRES_ACCEPTANCE", ("alice",), (0, 2))
    assert offer.facts["configuration"] == config and offer.deadline is not None
    assert 0 < (offer.deadline - alice.clock.now()).total_seconds() <= 61  # 60 s window
    assert [o.id for o in await alice.list_offers()] == [mine]

    assert await alice.accept(mine) == f"Accepted ticket {mine} for player alice."
    [update] = await next_changes(changes, 1)
    assert isinstance(update, OfferUpdated) and update.offer.progress == (1, 2)

    await alice.client.accept_match(theirs, ["bob"])
    full, closed = await next_changes(changes, 2)
    assert isinstance(full, OfferUpdated) and full.offer.progress == (2, 2)
    assert isinstance(closed, OfferClosed)
    assert (closed.id, closed.status) == (mine, "PLACING")
    assert closed.outcome == "Every player accepted; the match is being placed."
    assert int(closed.event_id) > int(full.event_id) > int(update.event_id) > int(first[0].event_id)
    assert await alice.list_offers() == []
    await changes.aclose()

    await advance(alice.client.endpoint, 30)  # past the placement
    await wait_status(alice.client, mine, TicketStatus.COMPLETED)
    [ticket] = await alice.client.describe_matchmaking([mine])
    info = ticket.game_session_connection_info
    assert info is not None and info.port and info.ip_address
    assert {s.player_id for s in info.matched_player_sessions} == {"alice"}
    assert ticket.start_time is not None and ticket.start_time.tzinfo is not None


async def test_reject_drops_the_match_by_the_reference_rule(alice):
    changes = alice.changes()
    _, mine, theirs = await propose_duel(alice)
    await next_changes(changes, 1)
    await alice.client.accept_match(theirs, ["bob"])
    await next_changes(changes, 1)  # progress 1/2
    sentence = await alice.reject(mine, ["alice"])
    assert sentence == f"Rejected ticket {mine} for player alice; the proposed match is dropped."
    [closed] = await next_changes(changes, 1)
    assert isinstance(closed, OfferClosed) and (closed.id, closed.status) == (mine, "CANCELLED")
    assert closed.outcome == "A player rejected the match; this ticket is cancelled."
    await changes.aclose()
    await wait_status(alice.client, mine, TicketStatus.CANCELLED)
    # bob accepted: his ticket searches again.
    await wait_status(alice.client, theirs, TicketStatus.SEARCHING)


async def test_acceptance_timeout_closes_the_offer(alice):
    changes = alice.changes()
    _, mine, theirs = await propose_duel(alice, timeout=30)
    await next_changes(changes, 1)
    await advance(alice.client.endpoint, 31)
    [closed] = await next_changes(changes, 1)
    assert isinstance(closed, OfferClosed) and closed.status == "CANCELLED"
    assert closed.outcome.startswith("The acceptance window closed")
    await changes.aclose()
    for ticket in (mine, theirs):
        await wait_status(alice.client, ticket, TicketStatus.CANCELLED)


# --- failures -----------------------------------------------------------------------------------


async def test_not_found_wrong_status_and_strangers_are_typed_errors(alice):
    with pytest.raises(NotFound) as info:
        await alice.accept("no-such-ticket", ["alice"])
    assert info.value.code == "NotFoundException" and info.value.message.startswith("GameLift found nothing for AcceptMatch")
    with pytest.raises(NotFound, match="GameLift knows no ticket no-such-ticket"):
        await alice.accept("no-such-ticket")  # who answers is looked up first

    config = await make_configuration(alice.client, players_per_team=5)
    waiting = await alice.start(config, ["alice"])
    with pytest.raises(InvalidRequest) as info:
        await alice.accept(waiting.ticket_id)
    assert info.value.code == "InvalidRequestException" and info.value.message.startswith("GameLift refused AcceptMatch:")
    with pytest.raises(InvalidRequest):
        await alice.client.stop_matchmaking("bad id!")


async def test_missing_players_is_a_plain_error_before_any_call(emulator):
    backend = await open_backend(profile_for(emulator.url, []))
    async with backend:
        with pytest.raises(InvalidRequest, match="Say which players answer ticket t-1"):
            await backend.accept("t-1")


async def test_signatures_are_verified_by_an_emulator_that_checks_them(monkeypatch):
    with EmulatorThread(EmulatorConfig(verify_sigv4=True)) as emu:
        backend = await open_backend(profile_for(emu.url, ["alice"]))
        async with backend:
            assert await backend.client.describe_matchmaking(["t-1"]) == []
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-the-emulator-knows")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLOBBYTESTEXAMPLE")
        wrong = FlexMatchClient(emu.url, region="us-east-1", credentials=_fresh_source())
        async with wrong:
            with pytest.raises(AuthenticationFailed) as info:
                await wrong.describe_matchmaking(["t-1"])
        assert "not-the-secret" not in info.value.message


def _fresh_source():
    from lobby.flexmatch.signing import CredentialSource

    return CredentialSource()


async def test_an_emulator_profile_without_a_running_emulator_is_not_configured():
    with pytest.raises(NotConfigured, match="start `lobby demo` or `lobby emulator`"):
        await open_backend(Profile(kind="emulator"))


# --- batching, paging ---------------------------------------------------------------------------


async def test_describe_more_than_ten_tickets_in_batches_in_callers_order(alice):
    config = await make_configuration(alice.client, players_per_team=40)
    started = [(await alice.client.start_matchmaking(config, [f"p{n}"])).ticket_id for n in range(23)]
    asked = list(reversed(started)) + ["unknown-ticket"]
    before = alice.client.requests
    found = await alice.client.describe_matchmaking(asked)
    assert [t.ticket_id for t in found] == list(reversed(started))
    assert alice.client.requests - before == 3
    assert all(t.configuration_name == config and t.status.active for t in found)


async def test_configurations_page_through_the_service(alice):
    names = [await make_configuration(alice.client) for _ in range(3)]
    found = await alice.client.describe_matchmaking_configurations(limit=2)
    assert set(names) <= {c.name for c in found}
    picked = await alice.client.describe_matchmaking_configurations(names[:2])
    assert sorted(c.name for c in picked) == sorted(names[:2])
    assert all(c.acceptance_timeout_seconds == 60 and c.acceptance_required for c in picked)
    assert picked[0].creation_time is not None and picked[0].creation_time.tzinfo is not None


# --- the feed: snapshots, resume, clock -----------------------------------------------------------


async def test_list_offers_catches_up_from_history_with_my_players_only(emulator, alice):
    _, mine, theirs = await propose_duel(alice)
    await wait_status(alice.client, mine, TicketStatus.REQUIRES_ACCEPTANCE)
    fresh = await open_backend(profile_for(emulator.url, ["bob"]))
    async with fresh:
        offers = await fresh.list_offers()
        assert [(o.id, o.players) for o in offers] == [(theirs, ("bob",))]
        assert {t.ticket_id for t in fresh.tickets()} >= {mine, theirs}


async def test_a_backend_prepared_ahead_lists_then_and_misses_nothing_after(emulator, alice):
    """The console reads the stream ahead of the first listing: the listing shows the offers of
    then, and what happened since comes as changes."""
    _, mine, theirs = await propose_duel(alice)
    await wait_status(alice.client, theirs, TicketStatus.REQUIRES_ACCEPTANCE)
    fresh = await open_backend(profile_for(emulator.url, ["bob"]))
    async with fresh:
        await fresh.prepare()
        read_ahead = fresh.last_event_id
        assert read_ahead > 0
        await alice.accept(mine)
        offers = await fresh.list_offers()
        assert [(o.id, o.progress) for o in offers] == [(theirs, (0, 2))]
        assert fresh.last_event_id == read_ahead  # listed from what was read ahead
        changes = fresh.changes()
        [change] = await next_changes(changes, 1)
        await changes.aclose()
    assert isinstance(change, OfferUpdated) and change.offer.id == theirs and change.offer.progress == (1, 2)


async def test_feed_resumes_after_the_emulator_restarts_on_the_same_db(tmp_path):
    config = EmulatorConfig(db=str(tmp_path / "emu.db"), time_travel=True)
    emu = await asyncio.to_thread(EmulatorThread(config).start)
    port = int(emu.url.rsplit(":", 1)[1])
    backend = await open_backend(profile_for(emu.url, ["alice"]))
    seen: list[Change] = []
    try:
        async with backend:
            backend._feed_backoff = 0.05
            changes = backend.changes()
            _, mine, theirs = await propose_duel(backend)
            seen += await next_changes(changes, 1)
            await asyncio.to_thread(emu.stop)
            emu = await asyncio.to_thread(EmulatorThread(config, port=port).start)
            await backend.client.accept_match(theirs, ["bob"])
            await backend.accept(mine)
            seen += await next_changes(changes, 3)
            await changes.aclose()
    finally:
        await asyncio.to_thread(emu.stop)
    kinds = [(type(c).__name__, getattr(c, "offer", c).id) for c in seen]
    assert kinds == [("OfferUpdated", mine), ("OfferUpdated", mine), ("OfferUpdated", mine), ("OfferClosed", mine)]
    assert [c.offer.progress for c in seen[:3]] == [(0, 2), (1, 2), (2, 2)]
    ids = [int(c.event_id) for c in seen]
    assert ids == sorted(ids) and len(set(ids)) == 4


async def test_countdowns_use_the_servers_clock(alice):
    await advance(alice.client.endpoint, 600)
    await alice.list_offers()
    lead = (alice.clock.now() - datetime.now(UTC)).total_seconds()
    assert 590 <= lead <= 610


# --- polling without a feed ---------------------------------------------------------------------


async def test_polling_fallback_respects_the_interval_and_follows_known_tickets(emulator):
    gate: asyncio.Queue[None] = asyncio.Queue()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await gate.get()

    backend = await open_backend(profile_for(emulator.url, ["alice"], feed=False), sleep=sleep)
    async with backend:
        assert backend.feed_url is None and backend.poll_interval == 10.0
        config, mine, theirs = await propose_duel(backend, timeout=45)
        await wait_status(backend.client, mine, TicketStatus.REQUIRES_ACCEPTANCE)
        changes = backend.changes()
        [offer] = await next_changes(changes, 1)
        assert isinstance(offer, OfferUpdated) and offer.offer.id == mine
        assert offer.offer.facts["deadline"] == "estimated" and offer.offer.progress is None
        left = (offer.offer.deadline - backend.clock.now()).total_seconds()
        assert 0 < left <= 45
        await backend.accept(mine)
        await backend.client.accept_match(theirs, ["bob"])
        await wait_status(backend.client, mine, TicketStatus.COMPLETED)
        gate.put_nowait(None)
        [closed] = await next_changes(changes, 1)
        assert isinstance(closed, OfferClosed) and closed.status == "COMPLETED"
        await changes.aclose()
    assert slept and all(s >= 10.0 for s in slept)
    # Only tickets it knows: bob's ticket was never polled for.
    assert backend.book.get(theirs) is None


async def test_a_repeated_accept_is_harmless(alice):
    changes = alice.changes()
    _, mine, _ = await propose_duel(alice)
    await next_changes(changes, 1)
    await alice.client.accept_match(mine, ["alice"], AcceptanceType.ACCEPT)
    await alice.client.accept_match(mine, ["alice"], AcceptanceType.ACCEPT)  # harmless
    [update] = await next_changes(changes, 1)
    assert update.offer.progress == (1, 2)
    assert (await alice.client.describe_matchmaking([mine]))[0].status is TicketStatus.REQUIRES_ACCEPTANCE
    await changes.aclose()
