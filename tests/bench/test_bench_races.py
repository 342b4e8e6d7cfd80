"""A long race campaign against `lobby emulator` in its own process (run with `make bench`).

Prints figures and asserts only outcomes, never timings:

(a) TeamBattles: MATCHES open matches, each accepted by fifty teams at once (each its own
    captain's key) and then five of those acceptances approved at once. Per match: exactly one
    approval wins, the event stream names one match.accepted and closes every other
    acceptance. Figure: the wall time of a fifty-accept burst sent at once, as a ratio to the
    same fifty sent one after another in the same run (the baseline).
(b) FlexMatch: ROUNDS rounds of four proposed matches whose last AcceptMatch races one move of
    the clock past the acceptance deadline. Per match: one AcceptMatchCompleted, and every
    ticket where the reference rule puts it; at the end the event stream agrees with
    DescribeMatchmaking about every ticket. Figure: how the races went.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Server

sys.path.insert(0, str(Path(__file__).parents[1] / "emulator"))

from races_helpers import EVENT_STATUS, NEW_MATCH, captains, every_event  # noqa: E402

from lobby.flexmatch.lifecycle import EventType

TEAMS = 50
MATCHES = 40
ROUNDS = 250
PER_ROUND = 4
ACCEPTANCE_SECONDS = 10
AMZ = {"Content-Type": "application/x-amz-json-1.1"}


def key(n: int) -> str:
    return f"tb_bench_captain_{n:04d}_key"


def auth(n: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {key(n)}"}


def scenario(path: Path) -> Path:
    tb = captains(TEAMS, key)
    doc = {"name": "race-bench", "teambattles": tb, "flexmatch": {"placement_seconds": 30.0}}
    path.write_text(json.dumps(doc), "utf-8")
    return path


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Server]:
    server = Server(
        [
            sys.executable,
            "-m",
            "lobby",
            "emulator",
            "--port",
            "0",
            "--db",
            str(tmp_path / "races.db"),
            "--scenario",
            str(scenario(tmp_path / "races.json")),
            "--time-travel",
        ]
    )
    try:
        yield server
    finally:
        server.stop()


def stream(url: str, source: str) -> list[tuple[str, dict[str, Any]]]:
    """The events of one service, oldest first; read unfiltered, so the last event (of
    whichever service) ends the read."""
    out: list[tuple[str, dict[str, Any]]] = []
    for sse, payload in every_event(url, timeout=30):
        teambattles = payload.get("event") == sse.event and "data" in payload
        if (source == "teambattles") == teambattles and (teambattles or payload.get("source") == source):
            out.append((sse.event, payload))
    return out


async def move_clock(http: httpx.AsyncClient, url: str, seconds: float, delay: float = 0) -> None:
    await asyncio.sleep(delay)
    r = await http.post(url + "/_emulator/clock", json={"advanceSeconds": seconds})
    r.raise_for_status()


# --- (a) TeamBattles ------------------------------------------------------------------------------


async def teambattles_campaign(url: str) -> dict[str, Any]:
    api = url + "/api/v1"
    limits = httpx.Limits(max_connections=TEAMS + 10, max_keepalive_connections=TEAMS + 10)
    rnd = random.Random(5)
    burst_times: list[float] = []
    serial_times: list[float] = []
    winners: dict[str, str] = {}
    created: dict[str, set[str]] = {}
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def new_match() -> str:
            r = await http.post(api + "/matches/create", json=NEW_MATCH, headers=auth(0))
            assert r.status_code == 200, r.text
            return r.json()["matchId"]

        async def accept(match_id: str, team: int) -> httpx.Response:
            body = {"teamId": f"t_{team}", "activeRoster": [f"u_{team}"]}
            return await http.post(f"{api}/matches/{match_id}/accept", json=body, headers=auth(team))

        async def approve(match_id: str, acceptance_id: str) -> httpx.Response:
            path = f"{api}/matches/{match_id}/acceptances/{acceptance_id}/approve"
            return await http.post(path, json={}, headers=auth(0))

        for _ in range(MATCHES):
            # The baseline: fifty acceptances one after another on another match.
            serial_match = await new_match()
            t0 = time.perf_counter()
            for team in range(1, TEAMS + 1):
                assert (await accept(serial_match, team)).status_code == 200
            serial_times.append(time.perf_counter() - t0)

            match_id = await new_match()
            t0 = time.perf_counter()
            answers = await asyncio.gather(*(accept(match_id, t) for t in range(1, TEAMS + 1)))
            burst_times.append(time.perf_counter() - t0)
            assert [r.status_code for r in answers] == [200] * TEAMS
            ids = [r.json()["acceptanceId"] for r in answers]
            created[match_id] = set(ids)
            chosen = rnd.sample(ids, 5)
            decisions = await asyncio.gather(*(approve(match_id, a) for a in chosen))
            won = [a for a, r in zip(chosen, decisions, strict=True) if r.status_code == 200]
            assert len(won) == 1, [r.text for r in decisions]
            assert all(
                r.json()["error"] == "error_match_already_accepted" for r in decisions if r.status_code != 200
            )
            winners[match_id] = won[0]

    by_match: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for kind, payload in stream(url, "teambattles"):
        by_match[payload["data"]["match"]["id"]].append((kind, payload["data"]))
    for match_id, winner in winners.items():
        evs = by_match[match_id]
        accepted = [d for k, d in evs if k == "match.accepted"]
        assert [d["acceptanceId"] for d in accepted] == [winner]
        on_stream = {d["acceptance"]["id"] for k, d in evs if k == "emulator.acceptance.created"}
        assert on_stream == created[match_id]
        closed = sorted(d["acceptance"]["id"] for k, d in evs if k == "emulator.acceptance.superseded")
        assert closed == sorted(created[match_id] - {winner})
    return {"burst": burst_times, "serial": serial_times, "matches": len(winners)}


def test_teambattles_fifty_team_races(emulator: Server):
    figures = asyncio.run(teambattles_campaign(emulator.url))
    burst = statistics.median(figures["burst"])
    serial = statistics.median(figures["serial"])
    print(f"\n(a) TeamBattles: {figures['matches']} matches, {TEAMS} teams accepting each at once")
    print("    every match: one approval of five won, every other acceptance closed, stream agrees")
    print(f"    fifty accepts at once   median {burst * 1000:7.1f} ms")
    print(f"    fifty one at a time     median {serial * 1000:7.1f} ms   (baseline, same run)")
    print(f"    ratio at once / one at a time: {burst / serial:.2f}x")


# --- (b) FlexMatch --------------------------------------------------------------------------------


async def flexmatch_campaign(url: str) -> Counter[str]:
    rnd = random.Random(11)
    outcomes: Counter[str] = Counter()
    async with httpx.AsyncClient(timeout=60) as http:

        async def call(operation: str, body: dict[str, Any]) -> httpx.Response:
            headers = {**AMZ, "X-Amz-Target": f"GameLift.{operation}"}
            return await http.post(url + "/", json=body, headers=headers)

        async def ok(operation: str, body: dict[str, Any]) -> dict[str, Any]:
            r = await call(operation, body)
            assert r.status_code == 200, r.text
            return r.json()

        async def describe(ids: list[str]) -> dict[str, str]:
            out: dict[str, str] = {}
            for n in range(0, len(ids), 10):
                listed = await ok("DescribeMatchmaking", {"TicketIds": ids[n : n + 10]})
                out.update({t["TicketId"]: t["Status"] for t in listed["TicketList"]})
            return out

        async def late_accept(ticket: str, delay: float) -> int:
            await asyncio.sleep(delay)
            body = {"TicketId": ticket, "PlayerIds": [f"{ticket}-p"], "AcceptanceType": "ACCEPT"}
            return (await call("AcceptMatch", body)).status_code

        rules = {
            "ruleLanguageVersion": "1.0",
            "teams": [
                {"name": "red", "minPlayers": 1, "maxPlayers": 1},
                {"name": "blue", "minPlayers": 1, "maxPlayers": 1},
            ],
        }  # noqa: E501
        await ok("CreateMatchmakingRuleSet", {"Name": "duel", "RuleSetBody": json.dumps(rules)})
        configs = [f"race{m}" for m in range(PER_ROUND)]
        for name in configs:
            await ok(
                "CreateMatchmakingConfiguration",
                {
                    "Name": name,
                    "RuleSetName": "duel",
                    "RequestTimeoutSeconds": 43200,
                    "AcceptanceRequired": True,
                    "AcceptanceTimeoutSeconds": ACCEPTANCE_SECONDS,
                    "FlexMatchMode": "STANDALONE",
                },
            )
        final: dict[str, str] = {}
        for n in range(ROUNDS):
            pairs = [(f"r{n}m{m}-red", f"r{n}m{m}-blue") for m in range(PER_ROUND)]
            for name, pair in zip(configs, pairs, strict=True):
                for ticket in pair:
                    await ok(
                        "StartMatchmaking",
                        {
                            "TicketId": ticket,
                            "ConfigurationName": name,
                            "Players": [{"PlayerId": f"{ticket}-p"}],
                        },
                    )
            await move_clock(http, url, 0)
            tickets = [t for pair in pairs for t in pair]
            assert set((await describe(tickets)).values()) == {"REQUIRES_ACCEPTANCE"}
            early: set[str] = set()
            pending: list[str] = []
            for red, blue in pairs:
                if rnd.random() < 0.5:
                    await ok(
                        "AcceptMatch",
                        {"TicketId": red, "PlayerIds": [f"{red}-p"], "AcceptanceType": "ACCEPT"},
                    )
                    early.add(red)
                else:
                    pending.append(red)
                pending.append(blue)
            rnd.shuffle(pending)
            jobs = [late_accept(t, rnd.random() * 0.004) for t in pending]
            jobs.append(move_clock(http, url, ACCEPTANCE_SECONDS, rnd.random() * 0.004))
            codes = dict(zip(pending, (await asyncio.gather(*jobs))[:-1], strict=True))
            in_time = early | {t for t, code in codes.items() if code == 200}
            now = await describe(tickets)
            for red, blue in pairs:
                if red in in_time and blue in in_time:
                    outcomes["completed"] += 1
                    want = {red: "COMPLETED", blue: "COMPLETED"}
                else:
                    outcomes["timed out"] += 1
                    want = {t: "SEARCHING" if t in in_time else "CANCELLED" for t in (red, blue)}
                assert {red: now[red], blue: now[blue]} == want, (codes, now)
            for ticket, status in now.items():
                if status == "SEARCHING":
                    await ok("StopMatchmaking", {"TicketId": ticket})
            final.update(await describe(tickets))

        where: dict[str, str] = {}
        completions: dict[str, list[str]] = defaultdict(list)
        for _, event in stream(url, "aws.gamelift"):
            detail = event["detail"]
            target = EVENT_STATUS.get(detail["type"])
            if detail["type"] == EventType.ACCEPT_MATCH_COMPLETED:
                completions[detail["matchId"]].append(detail["acceptance"])
            if target is not None:
                for ticket in detail["tickets"]:
                    where[ticket["ticketId"]] = target
        assert where == final == await describe(list(final))
        assert len(completions) == ROUNDS * PER_ROUND
        assert all(len(v) == 1 for v in completions.values())
        tally = Counter(v[0] for v in completions.values())
        assert (tally["Accepted"], tally["TimedOut"]) == (outcomes["completed"], outcomes["timed out"])
    return outcomes


def test_flexmatch_last_accept_against_the_deadline(emulator: Server):
    outcomes = asyncio.run(flexmatch_campaign(emulator.url))
    total = sum(outcomes.values())
    print(f"\n(b) FlexMatch: {ROUNDS} rounds x {PER_ROUND} matches, last AcceptMatch vs the deadline")
    for name, count in sorted(outcomes.items()):
        print(f"    {name:<10} {count:5d}  ({count / total:.0%})")
    print("    every match ended once; events agree with DescribeMatchmaking for every ticket")
