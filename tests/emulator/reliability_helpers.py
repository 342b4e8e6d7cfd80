"""The exactly-once campaign: scripted accepts through lobby's own adapters against the emulator
with faults turned on, then a count of what the server recorded.

Shared by tests/emulator/test_faults.py (a short campaign) and
tests/bench/test_bench_reliability.py (the long one, with its figures).

- FlexMatch: single-player tickets in 2-against-2 STANDALONE matches, all proposed before the
  faults start; each action is one player's ACCEPT through :class:`FlexMatchClient`.
- TeamBattles: open matches seeded by the scenario; each action is one request to play: half
  through :class:`TeamBattlesClient` (``create_acceptance`` with one Idempotency-Key per
  logical submit), half through :class:`TeamBattlesBackend` (``submit``, what the console
  calls: it checks the draft, reading the match, team and catalog, then sends).

When the adapter's own retries give up with a retryable error, the script submits the same
logical action again, as a person pressing the button again would: the same Idempotency-Key
for TeamBattles, the same AcceptMatch for FlexMatch. Those are counted as ``resubmits``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import connect_sse

from lobby.core.errors import BackendError
from lobby.emulator.scenario import load_scenario
from lobby.flexmatch.client import FlexMatchClient
from lobby.flexmatch.lifecycle import EventType, TicketStatus
from lobby.flexmatch.signing import CredentialSource
from lobby.net.retry import RetryPolicy
from lobby.teambattles import wire as m
from lobby.teambattles.backend import TeamBattlesBackend
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import check_key
from lobby.teambattles.requests import RequestStore
from lobby.core.answers import AcceptanceDraft

YOU = "tb_test_you_pro_personal_0001"
OWLS_ACTIVE = ["u_you", "u_ada", "u_bo", "u_cy"]
CONFIG = "reliability"
#: A guard against hangs only.
HANG = 600
#: How often one logical action may be submitted again before the script gives up on it.
MAX_RESUBMITS = 20


def scenario_with_matches(tmp_path: Path, count: int) -> Path:
    """The demo scenario plus ``count`` open Skyline Strike hardpoint matches made by the
    Crimson Vipers (ids ``tbm_rel_0000``...), which the Night Owls can ask to play."""
    doc = load_scenario().model_dump(mode="json")
    doc["teambattles"]["matches"] += [
        {
            "id": f"tbm_rel_{n:04d}",
            "creator_team": "t_vipers",
            "game_mode": "hardpoint",
            "best_of": 1,
            "starts_in_minutes": 600,
        }
        for n in range(count)
    ]
    path = tmp_path / "reliability-scenario.json"
    path.write_text(json.dumps(doc), "utf-8")
    return path


def match_ids(count: int) -> list[str]:
    return [f"tbm_rel_{n:04d}" for n in range(count)]


@dataclass
class Campaign:
    url: str
    flexmatch_actions: int
    teambattles_actions: int
    concurrency: int = 16
    #: Backoff base of the adapters' retry policies (attempts stay the adapters' own).
    backoff_base: float | None = None
    seed: int = 1
    resubmits: Counter = field(default_factory=Counter)
    requests: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    acceptance_ids: dict[str, str] = field(default_factory=dict)
    players: dict[str, str] = field(default_factory=dict)  # player -> ticket

    # --- set-up (faults off) ----------------------------------------------------------------

    def flexmatch_client(self) -> FlexMatchClient:
        retry = None if self.backoff_base is None else RetryPolicy(base=self.backoff_base)
        return FlexMatchClient(self.url, region="us-east-1", credentials=CredentialSource(), retry=retry)

    def teambattles_client(self, transport: httpx.AsyncBaseTransport) -> TeamBattlesClient:
        retry = None
        if self.backoff_base is not None:
            retry = RetryPolicy(max_attempts=4, base=self.backoff_base, cap=8.0)
        return TeamBattlesClient(
            self.url + "/api/v1", check_key(YOU, "test"), retry=retry, transport=transport
        )

    async def prepare_flexmatch(self) -> None:
        """Tickets for ``flexmatch_actions`` players, every one in REQUIRES_ACCEPTANCE."""
        n = self.flexmatch_actions
        assert n % 4 == 0, "FlexMatch players come in matches of four"
        async with self.flexmatch_client() as client:
            await client.create_matchmaking_rule_set(
                f"{CONFIG}-rules",
                {
                    "ruleLanguageVersion": "1.0",
                    "teams": [
                        {"name": "red", "minPlayers": 2, "maxPlayers": 2},
                        {"name": "blue", "minPlayers": 2, "maxPlayers": 2},
                    ],
                },
            )
            await client.create_matchmaking_configuration(
                name=CONFIG,
                rule_set_name=f"{CONFIG}-rules",
                acceptance_required=True,
                acceptance_timeout_seconds=600,
                request_timeout_seconds=3600,
                flex_match_mode="STANDALONE",
            )
            for i in range(n):
                player, ticket = f"rp-{i:04d}", f"rt-{i:04d}"
                await client.start_matchmaking(CONFIG, [player], ticket_id=ticket)
                self.players[player] = ticket
            async with asyncio.timeout(60):
                while True:
                    found = await client.describe_matchmaking(self.players.values())
                    if len(found) == n and all(
                        t.status is TicketStatus.REQUIRES_ACCEPTANCE for t in found
                    ):
                        return
                    await asyncio.sleep(0.05)

    # --- the actions --------------------------------------------------------------------------

    async def _flexmatch_action(self, client: FlexMatchClient, player: str) -> None:
        ticket = self.players[player]
        for attempt in range(MAX_RESUBMITS + 1):
            if attempt:
                self.resubmits["flexmatch"] += 1
            try:
                await client.accept_match(ticket, [player])
                return
            except BackendError as error:
                if not error.retryable:
                    self.errors.append(f"AcceptMatch {ticket}/{player}: {error!r}")
                    return
        self.errors.append(f"AcceptMatch {ticket}/{player}: gave up")

    async def _teambattles_action(
        self, client: TeamBattlesClient, backend: TeamBattlesBackend, match_id: str
    ) -> None:
        body = m.AcceptMatchRequestBody(team_id="t_owls", active_roster=list(OWLS_ACTIVE))
        draft = AcceptanceDraft(team_id="t_owls", active_roster=tuple(OWLS_ACTIVE))
        through_backend = int(match_id[-4:]) % 2 == 1
        key = str(uuid.uuid4())  # one logical submit, one key, whatever it takes
        for attempt in range(MAX_RESUBMITS + 1):
            if attempt:
                self.resubmits["teambattles"] += 1
            try:
                if through_backend:
                    record = await backend.submit(match_id, draft)
                    acceptance_id = record.acceptance_id
                else:
                    answer = await client.create_acceptance(match_id, body, idempotency_key=key)
                    acceptance_id = answer.acceptance_id
            except BackendError as error:
                if not error.retryable:
                    self.errors.append(f"request to play {match_id}: {error!r}")
                    return
                continue
            self.acceptance_ids[match_id] = acceptance_id
            return
        self.errors.append(f"request to play {match_id}: gave up")

    async def run(self) -> float:
        """Every action, mixed and ``concurrency`` at a time; returns the wall time."""
        work: list[tuple[str, str]] = [("flexmatch", p) for p in self.players]
        work += [("teambattles", mid) for mid in match_ids(self.teambattles_actions)]
        random.Random(self.seed).shuffle(work)
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        for item in work:
            queue.put_nowait(item)
        counting, counting_backend = CountingTransport(), CountingTransport()
        fm = self.flexmatch_client()
        tb = self.teambattles_client(counting)
        backend = TeamBattlesBackend(
            self.teambattles_client(counting_backend),
            requests=RequestStore(f"reliability-{uuid.uuid4().hex[:8]}"),
            user="you",
        )

        async def worker() -> None:
            while True:
                try:
                    service, target = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if service == "flexmatch":
                    await self._flexmatch_action(fm, target)
                else:
                    await self._teambattles_action(tb, backend, target)

        start = time.perf_counter()
        try:
            async with asyncio.timeout(HANG):
                await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        finally:
            wall = time.perf_counter() - start
            self.requests["flexmatch"] = fm.requests
            self.requests["teambattles"] = counting.requests + counting_backend.requests
            await fm.aclose()
            await tb.aclose()
            await backend.aclose()
        return wall

    # --- what the server recorded ---------------------------------------------------------------

    async def verify(self, store: Any) -> dict[str, int]:
        """Count lost and doubled actions from the server's records: its SQLite rows (through
        ``store``, the emulator's own), its API, and its event stream over HTTP."""
        events = await asyncio.to_thread(read_events, self.url)
        lost = doubled = 0

        # FlexMatch: each player's answer turns ACCEPTED in exactly one AcceptMatch event.
        flips: Counter = Counter()
        state: dict[str, bool | None] = {}
        for _, data in events:
            detail = data.get("detail", {}) if data.get("source") == "aws.gamelift" else {}
            if detail.get("type") != EventType.ACCEPT_MATCH:
                continue
            for ticket in detail.get("tickets", []):
                for player in ticket.get("players", []):
                    pid, accepted = player.get("playerId"), player.get("accepted")
                    if pid in self.players and accepted is True and state.get(pid) is not True:
                        flips[pid] += 1
                    state[pid] = accepted
        answers = dict(
            store.query(
                "SELECT player_id, answer FROM fm_ticket_players WHERE ticket_id LIKE 'rt-%'"
            )
        )
        statuses = await self._ticket_statuses()
        for player, ticket in self.players.items():
            recorded = answers.get(player) == "ACCEPTED" and statuses.get(ticket) is TicketStatus.COMPLETED
            if flips[player] == 0 or not recorded:
                lost += 1
            if flips[player] > 1:
                doubled += 1

        # TeamBattles: one acceptance row and one created event per logical submit, and the id
        # the client was given is that row's.
        rows: dict[str, list[str]] = {}
        for match_id, acceptance_id in store.query(
            "SELECT match_id, id FROM tb_acceptances WHERE match_id LIKE 'tbm_rel_%' AND team_id = 't_owls'"
        ):
            rows.setdefault(match_id, []).append(acceptance_id)
        created: Counter = Counter()
        for _, data in events:
            if data.get("event") == "emulator.acceptance.created":
                match = data.get("data", {}).get("match", {}).get("id", "")
                if match.startswith("tbm_rel_"):
                    created[match] += 1
        for match_id in match_ids(self.teambattles_actions):
            ids = rows.get(match_id, [])
            if not ids or created[match_id] == 0 or self.acceptance_ids.get(match_id) not in ids:
                lost += 1
            if len(ids) > 1 or created[match_id] > 1:
                doubled += 1
        return {"lost": lost, "doubled": doubled, "events": len(events)}

    async def _ticket_statuses(self) -> dict[str, TicketStatus]:
        async with self.flexmatch_client() as client:
            found = await client.describe_matchmaking(self.players.values())
        return {t.ticket_id: t.status for t in found}


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, counting the requests that go out (retries included)."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def read_events(url: str) -> list[tuple[str, dict[str, Any]]]:
    """Every event in the emulator's log, read from its SSE stream up to the newest one."""
    with httpx.Client(timeout=httpx.Timeout(10.0, read=30.0)) as client:
        last = client.get(url + "/_emulator/health").json()["lastEventId"]
        out: list[tuple[str, dict[str, Any]]] = []
        if not last:
            return out
        with connect_sse(client, "GET", url + "/_emulator/events") as source:
            for sse in source.iter_sse():
                if not sse.id or not sse.data:
                    continue
                out.append((sse.event, json.loads(sse.data)))
                if int(sse.id) >= last:
                    break
        return out


def set_faults(url: str, **settings: Any) -> dict[str, Any]:
    answer = httpx.put(url + "/_emulator/faults", json=settings, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def clear_faults(url: str) -> dict[str, Any]:
    answer = httpx.delete(url + "/_emulator/faults", timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()
