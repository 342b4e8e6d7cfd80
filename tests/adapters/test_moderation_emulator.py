"""The moderator's feed against the emulator on a loopback port: real tickets, real matches, a
real event stream that drops and resumes. Nothing is mocked but the one dropped connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import boto3
import httpx
import pytest
from botocore.config import Config
from synthetic import applying

from lobby.moderation import Board, EmulatorSource
from lobby.moderation.rows import Kind
from lobby.core.backend import FeedState

#: A guard against hangs only; nothing asserts on elapsed time.
HANG = 20
YOU = "tb_test_you_pro_personal_0001"


def gamelift(url: str):
    return boto3.client(
        "gamelift", endpoint_url=url, region_name="us-east-1", config=Config(retries={"max_attempts": 1})
    )


def duel(client, name: str = "mod-duel", timeout: int = 60) -> None:
    rules = {
        "ruleLanguageVersion": "1.0",
        "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}],
    }
    client.create_matchmaking_rule_set(Name=f"{name}-rules", RuleSetBody=json.dumps(rules))
    client.create_matchmaking_configuration(
        Name=name,
        RuleSetName=f"{name}-rules",
        RequestTimeoutSeconds=600,
        AcceptanceRequired=True,
        AcceptanceTimeoutSeconds=timeout,
        FlexMatchMode="STANDALONE",
    )


async def until(condition: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(HANG):
        while not condition():
            await asyncio.sleep(0.02)


async def test_the_board_follows_real_tickets(emulator):
    client = await asyncio.to_thread(gamelift, emulator.url)
    await asyncio.to_thread(duel, client)
    board = Board()
    source = EmulatorSource(emulator.url)
    async with applying(source, board):
        for ticket, player in (("tk-ana", "ana"), ("tk-bo", "bo")):
            await asyncio.to_thread(
                client.start_matchmaking, TicketId=ticket, ConfigurationName="mod-duel", Players=[{"PlayerId": player}]
            )
        ana_key, bo_key = (Kind.TICKET, "tk-ana"), (Kind.TICKET, "tk-bo")

        def awaiting() -> bool:
            rows = [board.get(ana_key), board.get(bo_key)]
            return all(r is not None and r.status == "REQUIRES_ACCEPTANCE" for r in rows)

        await until(awaiting, "both tickets await acceptance")
        ana = board.get(ana_key)
        assert source.state is FeedState.LIVE
        assert (ana.group, ana.accepted, ana.total) == ("mod-duel", 0, 2)
        assert ana.deadline is not None and ana.deadline - ana.status_since == pytest.approx(60, abs=0.01)
        assert set(ana.players) == {"ana"} and ana.teams in (("red",), ("blue",))

        await asyncio.to_thread(client.accept_match, TicketId="tk-ana", PlayerIds=["ana"], AcceptanceType="ACCEPT")
        await until(lambda: board.get(bo_key).accepted == 1, "the answer shows on the other ticket")
        await asyncio.to_thread(client.accept_match, TicketId="tk-bo", PlayerIds=["bo"], AcceptanceType="ACCEPT")
        await until(lambda: board.get(ana_key).status == "COMPLETED", "the match completes")

    types = [e.type for e in board.timeline(ana_key)]
    assert types[0] == "MatchmakingSearching" and types[-1] == "MatchmakingSucceeded"
    assert "AcceptMatchCompleted" in types
    snap = board.snapshot(board.latest)
    assert (snap.accepted, snap.acceptance_rate, snap.matched) == (1, 1.0, 2)
    assert board.duplicates == 0
    assert board.applied == emulator.runtime.events.last_id()


class DroppingTransport(httpx.AsyncBaseTransport):
    """Real HTTP; once armed, the event stream's next chunk is lost with its connection."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.armed = False
        self.drops = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/_emulator/events"):
            return response
        return httpx.Response(
            response.status_code, headers=response.headers, stream=_Cut(self, response.stream), request=request
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Cut(httpx.AsyncByteStream):
    def __init__(self, owner: DroppingTransport, inner: httpx.AsyncByteStream) -> None:
        self.owner = owner
        self.inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            if self.owner.armed:
                self.owner.armed = False
                self.owner.drops += 1
                raise httpx.ReadError("connection lost")
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_dropped_stream_reconnects_and_misses_nothing(emulator):
    client = await asyncio.to_thread(gamelift, emulator.url)
    await asyncio.to_thread(duel, client)
    transport = DroppingTransport()
    source = EmulatorSource(emulator.url, transport=transport, max_backoff=0.2)
    states: list[FeedState] = []

    def record(state: FeedState) -> None:
        states.append(state)
        source.state = state

    source._set_state = record  # type: ignore[method-assign]
    board = Board()
    async with applying(source, board):
        await asyncio.to_thread(
            client.start_matchmaking, TicketId="tk-1", ConfigurationName="mod-duel", Players=[{"PlayerId": "p1"}]
        )
        await until(lambda: board.get((Kind.TICKET, "tk-1")) is not None, "the first ticket")
        transport.armed = True  # the events of the next ticket are lost with the connection...
        await asyncio.to_thread(
            client.start_matchmaking, TicketId="tk-2", ConfigurationName="mod-duel", Players=[{"PlayerId": "p2"}]
        )
        # ...and read again after the reconnect, from where the stream stopped.
        proposed = (Kind.TICKET, "tk-2")
        await until(lambda: getattr(board.get(proposed), "status", "") == "REQUIRES_ACCEPTANCE", "the proposal")
        last = await asyncio.to_thread(emulator.runtime.events.last_id)
        await until(lambda: board.applied >= last, "every event")
    assert transport.drops == 1
    assert FeedState.RECONNECTING in states and states[-1] in (FeedState.LIVE, FeedState.CLOSED)
    assert states.index(FeedState.RECONNECTING) < len(states) - 1
    assert board.applied == last and board.duplicates == 0
    assert board.get((Kind.TICKET, "tk-2")).status == "REQUIRES_ACCEPTANCE"


async def test_teambattles_matches_appear_with_their_requests(emulator):
    board = Board()
    async with applying(EmulatorSource(emulator.url), board):
        async with httpx.AsyncClient(base_url=emulator.url + "/api/v1") as http:
            r = await http.post(
                "/matches/tbm_vipers_hp/accept",
                json={"teamId": "t_owls", "activeRoster": ["u_you", "u_ada", "u_bo", "u_cy"]},
                headers={"Authorization": f"Bearer {YOU}"},
            )
            assert r.status_code in (200, 201), r.text
        key = (Kind.MATCH, "tbm_vipers_hp")
        await until(lambda: board.get(key) is not None, "the match")
    match = board.get(key)
    assert (match.status, match.accepted, match.total) == ("PENDING", 0, 1)
    assert match.teams == ("Crimson Vipers",) and "t_owls" in match.team_ids
    assert match.deadline is not None and match.group.endswith("hardpoint")
    # The scenario seeded it: created and published as the stream opened, then the request.
    assert [e.type for e in board.timeline(key)] == ["match.created", "match.published", "emulator.acceptance.created"]


async def test_every_seeded_match_is_on_the_board_before_anything_happens(emulator):
    from lobby.emulator.scenario import load_scenario

    seeded = [m for m in load_scenario(None).teambattles.matches if m.published]
    board = Board()
    async with applying(EmulatorSource(emulator.url), board):
        await until(lambda: all(board.get((Kind.MATCH, m.id)) is not None for m in seeded), "the seeded matches")
    assert seeded and all(board.get((Kind.MATCH, m.id)).status == m.status for m in seeded)


async def test_the_source_reads_the_emulators_clock(emulator):
    async with httpx.AsyncClient() as http:
        (await http.post(emulator.url + "/_emulator/clock", json={"advanceSeconds": 3600})).raise_for_status()
    source = EmulatorSource(emulator.url)
    board = Board()
    async with applying(source, board):
        await until(lambda: source.state is FeedState.LIVE, "connected")
    assert source.clock.timestamp() == pytest.approx(emulator.runtime.clock.timestamp(), abs=5)
