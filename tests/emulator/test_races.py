"""Answers that race each other, sent as real concurrent HTTP requests to the emulator.

TeamBattles: fifty teams accept one open match at once, each with its own captain's key; the
creator then approves several of them at once, and late acceptances race the approval. Exactly
one acceptance wins, every other one is closed, and the event stream tells the same story.

FlexMatch: the last AcceptMatch of a proposed match races the clock moving past the acceptance
deadline, round after round. Each match has exactly one outcome (every ticket placed, or the
timeout rule of the reference applied to each ticket), and the event stream agrees with
DescribeMatchmaking about every ticket.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flexmatch_helpers import advance, config_for, gamelift, setup_matchmaker, start, statuses
from races_helpers import EVENT_STATUS, NEW_MATCH, captains, every_event
from teambattles_helpers import TB, error_of

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.flexmatch.lifecycle import EventType

# --- TeamBattles ----------------------------------------------------------------------------------

TEAMS = 50


def captain_key(n: int) -> str:
    return f"tb_race_captain_{n:04d}_key"


def _tb_scenario(tmp_path: Path) -> Path:
    """Team 0 creates the matches; teams 1..50 each have one player, their captain."""
    tb = {**captains(TEAMS, captain_key), "matches": [], "bots": []}
    path = tmp_path / "races.json"
    path.write_text(json.dumps({"name": "races", "teambattles": tb}), "utf-8")
    return path


@pytest.fixture
def tb_emu(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmulatorThread]:
    """The emulator with the race scenario; in memory, or (param "file") in a WAL file."""
    db = str(tmp_path / "races.db") if getattr(request, "param", None) == "file" else ":memory:"
    config = EmulatorConfig(scenario=_tb_scenario(tmp_path), time_travel=True, db=db)
    with EmulatorThread(config) as emu:
        yield emu


def _headers(team: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {captain_key(team)}"}


def new_match(url: str, **extra: Any) -> str:
    tb = TB(url, captain_key(0))
    try:
        r = tb.post(
            "/matches/create",
            {**NEW_MATCH, **extra},
        )
        assert r.status_code == 200, r.text
        return r.json()["matchId"]
    finally:
        tb.close()


async def _accept(http: httpx.AsyncClient, match_id: str, team: int) -> httpx.Response:
    return await http.post(
        f"/matches/{match_id}/accept",
        json={"teamId": f"t_{team}", "activeRoster": [f"u_{team}"]},
        headers=_headers(team),
    )


async def _decide(
    http: httpx.AsyncClient, match_id: str, acceptance_id: str, verb: str = "approve"
) -> httpx.Response:
    return await http.post(
        f"/matches/{match_id}/acceptances/{acceptance_id}/{verb}", json={}, headers=_headers(0)
    )


def _client(url: str) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=TEAMS + 10, max_keepalive_connections=TEAMS + 10)
    return httpx.AsyncClient(base_url=url + "/api/v1", timeout=30, limits=limits)


def tb_stream(url: str) -> dict[str, list[tuple[int, str, dict[str, Any]]]]:
    """Every TeamBattles event on the SSE stream, by match: (id, type, data), oldest first."""
    out: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    ids: list[int] = []
    for sse, payload in every_event(url):
        if payload.get("event") == sse.event and "data" in payload:  # a TeamBattles one
            ids.append(int(sse.id))
            match_id = payload["data"]["match"]["id"]
            out[match_id].append((ids[-1], sse.event, payload["data"]))
    assert ids == sorted(set(ids)), "event ids must only grow"
    return out


def assert_one_winner(
    emu: EmulatorThread,
    match_id: str,
    created: set[str],
    winner: str,
    stream: dict[str, list[tuple[int, str, dict[str, Any]]]] | None = None,
) -> None:
    """The match went to the winner's team; every other acceptance that was created is closed,
    in the emulator's database and on the event stream, each exactly once."""
    url = emu.url
    stored = dict(
        emu.runtime.store.query("SELECT id, status FROM tb_acceptances WHERE match_id = ?", (match_id,))
    )
    assert stored == {a: "APPROVED" if a == winner else "SUPERSEDED" for a in created}
    tb = TB(url, captain_key(0))
    try:
        match = tb.match(match_id)
        assert match["status"] == "ACCEPTED"
        players = tb.get("/matches/{matchId}/players", matchId=match_id).json()["players"]
    finally:
        tb.close()
    evs = (stream if stream is not None else tb_stream(url))[match_id]
    by_type = Counter(kind for _, kind, _ in evs)
    assert by_type["match.accepted"] == 1, by_type
    accepted = next(data for _, kind, data in evs if kind == "match.accepted")
    assert accepted["acceptanceId"] == winner
    assert accepted["acceptance"]["status"] == "APPROVED"
    team = accepted["acceptance"]["teamId"]
    assert match["acceptedTeam"]["id"] == team
    assert sorted(p["teamId"] for p in players) == sorted(["t_0", team])

    on_stream = {d["acceptance"]["id"] for _, k, d in evs if k == "emulator.acceptance.created"}
    assert on_stream == created
    assert by_type["emulator.acceptance.created"] == len(created)
    closed = [d["acceptance"] for _, k, d in evs if k == "emulator.acceptance.superseded"]
    assert sorted(a["id"] for a in closed) == sorted(created - {winner})
    assert {a["status"] for a in closed} <= {"SUPERSEDED"}
    order = [kind for _, kind, _ in evs]
    last_created = max(i for i, k in enumerate(order) if k == "emulator.acceptance.created")
    assert last_created < order.index("match.accepted"), "an acceptance arrived after the approval"


async def _closed_through_the_api(url: str, match_id: str, others: set[str]) -> None:
    async with _client(url) as http:
        answers = await asyncio.gather(
            *(_decide(http, match_id, a, random.choice(["approve", "decline"])) for a in others)
        )
    for r in answers:  # a closed acceptance of a taken match: neither verb applies any more
        assert (r.status_code, error_of(r)) == (409, "error_match_already_accepted"), r.text


@pytest.mark.parametrize("tb_emu", ["memory", "file"], indirect=True)
def test_fifty_teams_accept_at_once_and_one_is_approved(tb_emu: EmulatorThread):
    match_id = new_match(tb_emu.url)

    async def race() -> tuple[list[httpx.Response], list[httpx.Response], list[str]]:
        async with _client(tb_emu.url) as http:
            accepts = await asyncio.gather(*(_accept(http, match_id, t) for t in range(1, TEAMS + 1)))
            ids = [r.json()["acceptanceId"] for r in accepts if r.status_code == 200]
            # The creator approves five different acceptances at once.
            chosen = random.Random(1).sample(ids, 5)
            approvals = await asyncio.gather(*(_decide(http, match_id, a) for a in chosen))
        return list(accepts), list(approvals), chosen

    accepts, approvals, chosen = asyncio.run(race())
    assert [r.status_code for r in accepts] == [200] * TEAMS, [r.text for r in accepts][:3]
    created = {r.json()["acceptanceId"] for r in accepts}
    assert len(created) == TEAMS
    won = [a for a, r in zip(chosen, approvals, strict=True) if r.status_code == 200]
    assert len(won) == 1, [r.text for r in approvals]
    for r in approvals:
        if r.status_code != 200:
            assert (r.status_code, error_of(r)) == (409, "error_match_already_accepted"), r.text
    assert_one_winner(tb_emu, match_id, created, won[0])
    asyncio.run(_closed_through_the_api(tb_emu.url, match_id, created - {won[0]}))


def test_two_approvals_of_different_acceptances(tb_emu: EmulatorThread):
    rnd = random.Random(12)
    results: list[tuple[str, set[str], str]] = []

    async def one_round() -> None:
        match_id = new_match(tb_emu.url)
        a, b = rnd.sample(range(1, TEAMS + 1), 2)
        async with _client(tb_emu.url) as http:
            first = (await _accept(http, match_id, a)).json()["acceptanceId"]
            second = (await _accept(http, match_id, b)).json()["acceptanceId"]
            pair = [first, second]
            rnd.shuffle(pair)
            answers = await asyncio.gather(*(_decide(http, match_id, x) for x in pair))
        codes = sorted((r.status_code, r.json().get("error", "")) for r in answers)
        assert codes == [(200, ""), (409, "error_match_already_accepted")], codes
        winner = next(x for x, r in zip(pair, answers, strict=True) if r.status_code == 200)
        results.append((match_id, {first, second}, winner))

    for _ in range(12):
        asyncio.run(one_round())
    stream = tb_stream(tb_emu.url)
    for match_id, created, winner in results:
        assert_one_winner(tb_emu, match_id, created, winner, stream)


def test_late_acceptances_race_the_approval(tb_emu: EmulatorThread):
    """Acceptances sent while the creator approves: each is either refused (the match is taken)
    or created and then closed by the approval; none is left pending."""
    match_id = new_match(tb_emu.url)

    async def race() -> tuple[str, httpx.Response, list[httpx.Response]]:
        async with _client(tb_emu.url) as http:
            first = (await _accept(http, match_id, 1)).json()["acceptanceId"]
            calls = [_accept(http, match_id, t) for t in range(2, TEAMS + 1)]
            middle = len(calls) // 2
            calls.insert(middle, _decide(http, match_id, first))
            answers = await asyncio.gather(*calls)
        approval = answers.pop(middle)
        return first, approval, list(answers)

    first, approval, late = asyncio.run(race())
    assert approval.status_code == 200, approval.text
    created = {first}
    for r in late:
        if r.status_code == 200:
            created.add(r.json()["acceptanceId"])
        else:
            assert (r.status_code, error_of(r)) == (409, "error_match_already_accepted"), r.text
    assert_one_winner(tb_emu, match_id, created, first)
    asyncio.run(_closed_through_the_api(tb_emu.url, match_id, created - {first}))


def test_one_team_sends_the_same_acceptance_many_times_at_once(tb_emu: EmulatorThread):
    """Twenty copies at once: with one Idempotency-Key, one acceptance and nineteen replays of
    its answer; without a key, one acceptance and nineteen refusals (one pending per team)."""
    keyed, bare = new_match(tb_emu.url), new_match(tb_emu.url)
    body = {"teamId": "t_7", "activeRoster": ["u_7"]}

    async def burst(match_id: str, headers: dict[str, str]) -> list[httpx.Response]:
        async with _client(tb_emu.url) as http:
            return list(
                await asyncio.gather(
                    *(http.post(f"/matches/{match_id}/accept", json=body, headers=headers) for _ in range(20))
                )
            )

    same = asyncio.run(burst(keyed, {**_headers(7), "Idempotency-Key": "retry-7f3a"}))
    assert [r.status_code for r in same] == [200] * 20, [r.text for r in same]
    assert len({r.json()["acceptanceId"] for r in same}) == 1
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in same) == [""] + ["true"] * 19

    plain = asyncio.run(burst(bare, _headers(7)))
    ok = [r for r in plain if r.status_code == 200]
    assert len(ok) == 1
    for r in plain:
        if r.status_code != 200:
            assert (r.status_code, error_of(r)) == (409, "error_acceptance_already_pending")

    stream = tb_stream(tb_emu.url)
    for match_id in (keyed, bare):
        created = [k for _, k, _ in stream[match_id] if k == "emulator.acceptance.created"]
        assert created == ["emulator.acceptance.created"]
        stored = tb_emu.runtime.store.query(
            "SELECT status FROM tb_acceptances WHERE match_id = ?", (match_id,)
        )
        assert [r[0] for r in stored] == ["PENDING"]


START_IN = 30.0


def test_approvals_race_the_scheduled_start(tb_emu: EmulatorThread):
    """Approvals sent while the clock passes the matches' scheduled start: a match approved in
    time is ACCEPTED and then starts; one whose start came first is cancelled (no team was
    accepted) and the approval is refused. Never both, never neither."""
    url = tb_emu.url
    rnd = random.Random(3)
    outcomes: Counter[str] = Counter()
    results: list[tuple[str, str, httpx.Response]] = []
    for _ in range(8):
        now = httpx.get(url + "/_emulator/health").json()["time"]
        matches = [new_match(url, scheduledAt=int((now + START_IN) * 1000)) for _ in range(5)]

        async def race(matches: list[str] = matches) -> list[tuple[str, str, httpx.Response]]:
            async with _client(url) as http:
                teams = rnd.sample(range(1, TEAMS + 1), len(matches))
                accepts = [await _accept(http, m, t) for m, t in zip(matches, teams, strict=True)]
                ids = [r.json()["acceptanceId"] for r in accepts]

                async def approve(m: str, a: str) -> httpx.Response:
                    await asyncio.sleep(rnd.random() * 0.004)
                    return await _decide(http, m, a)

                jobs = [approve(m, a) for m, a in zip(matches, ids, strict=True)]
                jobs.append(_move_clock(http, START_IN, rnd.random() * 0.004))
                answers = (await asyncio.gather(*jobs))[:-1]
            return list(zip(matches, ids, answers, strict=True))

        results.extend(asyncio.run(race()))

    stream = tb_stream(url)
    tb = TB(url, captain_key(0))
    for match_id, acceptance_id, r in results:
        stored = tb_emu.runtime.store.query_one(
            "SELECT status FROM tb_acceptances WHERE id = ?", (acceptance_id,)
        )[0]
        kinds = [kind for _, kind, _ in stream[match_id]]
        status = tb.match(match_id)["status"]
        if r.status_code == 200:
            outcomes["accepted, then started"] += 1
            assert (status, stored) == ("IN_PROGRESS", "APPROVED"), kinds
            assert kinds[-3:] == ["match.accepted", "roster.updated", "match.started"]
            assert "match.cancelled" not in kinds
        else:
            outcomes["cancelled at the start"] += 1
            assert (r.status_code, error_of(r)) == (409, "error_acceptance_not_pending")
            assert (status, stored) == ("CANCELLED", "CANCELLED"), kinds
            assert kinds[-2:] == ["match.cancelled", "emulator.acceptance.cancelled"]
            assert "match.accepted" not in kinds
    tb.close()
    assert len(outcomes) == 2, f"the race never went both ways: {dict(outcomes)}"
    print(f"\napproval vs scheduled start over 40 matches: {dict(outcomes)}")


# --- FlexMatch ------------------------------------------------------------------------------------

ACCEPTANCE_SECONDS = 10
ROUNDS = 30
MATCHES = 4
AMZ = {"Content-Type": "application/x-amz-json-1.1"}


def gamelift_stream(url: str) -> list[dict[str, Any]]:
    """Every FlexMatch event on the SSE stream, oldest first (EventBridge envelopes)."""
    return [payload for _, payload in every_event(url) if payload.get("source") == "aws.gamelift"]


def status_from_events(stream: list[dict[str, Any]]) -> dict[str, str]:
    """Where the event stream says each ticket is."""
    where: dict[str, str] = {}
    for event in stream:
        detail = event["detail"]
        kind = detail["type"]
        target = EVENT_STATUS.get(kind)
        if kind == EventType.POTENTIAL_MATCH_CREATED and not detail["acceptanceRequired"]:
            target = "PLACING"
        if kind == EventType.ACCEPT_MATCH_COMPLETED and detail["acceptance"] == "Accepted":
            target = "PLACING"
        if target is not None:
            for ticket in detail["tickets"]:
                where[ticket["ticketId"]] = target
    return where


async def _accept_match(http: httpx.AsyncClient, ticket: str, player: str, delay: float) -> int:
    await asyncio.sleep(delay)
    body = {"TicketId": ticket, "PlayerIds": [player], "AcceptanceType": "ACCEPT"}
    r = await http.post("/", json=body, headers={**AMZ, "X-Amz-Target": "GameLift.AcceptMatch"})
    if r.status_code != 200:
        assert r.json()["__type"].endswith("InvalidRequestException"), r.text
    return r.status_code


async def _move_clock(http: httpx.AsyncClient, seconds: float, delay: float) -> None:
    await asyncio.sleep(delay)
    r = await http.post(http.base_url.copy_with(path="/_emulator/clock"), json={"advanceSeconds": seconds})
    r.raise_for_status()


@pytest.fixture
def fm_emu(tmp_path: Path) -> Iterator[EmulatorThread]:
    with EmulatorThread(config_for(tmp_path)) as emu:
        yield emu


def test_the_last_accept_races_the_deadline(fm_emu: EmulatorThread):
    """Each round proposes MATCHES matches at once (one configuration each, so the pairs are
    known); in some, one ticket has already accepted. Then the last answers of every match and
    one move of the clock past every deadline are sent together, in a random order."""
    url = fm_emu.url
    client = gamelift(url)
    configs = [f"race{m}" for m in range(MATCHES)]
    for name in configs:
        setup_matchmaker(client, name, acceptance=ACCEPTANCE_SECONDS)
    rnd = random.Random(7)
    outcomes: Counter[str] = Counter()
    expected: dict[str, str] = {}

    async def answer(pending: list[tuple[str, str]]) -> dict[str, int]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            jobs = [_accept_match(http, t, p, rnd.random() * 0.004) for t, p in pending]
            jobs.append(_move_clock(http, ACCEPTANCE_SECONDS, rnd.random() * 0.004))
            codes = (await asyncio.gather(*jobs))[:-1]
        return dict(zip([t for t, _ in pending], codes, strict=True))

    for n in range(ROUNDS):
        pairs = [(f"r{n}m{m}-red", f"r{n}m{m}-blue") for m in range(MATCHES)]
        early: set[str] = set()
        pending: list[tuple[str, str]] = []
        for name, (red, blue) in zip(configs, pairs, strict=True):
            start(client, name, red, f"{red}-p")
            start(client, name, blue, f"{blue}-p")
        advance(fm_emu)
        tickets = [t for pair in pairs for t in pair]
        assert set(statuses(client, *tickets).values()) == {"REQUIRES_ACCEPTANCE"}
        for red, blue in pairs:
            if rnd.random() < 0.5:  # one ticket answers in time; only the last answer races
                client.accept_match(TicketId=red, PlayerIds=[f"{red}-p"], AcceptanceType="ACCEPT")
                early.add(red)
            else:
                pending.append((red, f"{red}-p"))
            pending.append((blue, f"{blue}-p"))
        rnd.shuffle(pending)
        answered = asyncio.run(answer(pending))
        now = statuses(client, *tickets)
        for red, blue in pairs:
            in_time = early | {t for t, code in answered.items() if code == 200}
            if red in in_time and blue in in_time:
                # Every player accepted before the deadline: the match is being placed.
                outcomes["placed"] += 1
                assert (now[red], now[blue]) == ("PLACING", "PLACING"), (answered, now)
            else:
                # The deadline passed first: a ticket whose every player accepted searches
                # again; one with a silent player is cancelled.
                outcomes["timed out"] += 1
                want = {t: "SEARCHING" if t in in_time else "CANCELLED" for t in (red, blue)}
                assert {red: now[red], blue: now[blue]} == want, (answered, now)
        searching = [t for t, s in now.items() if s == "SEARCHING"]
        for t in searching:  # out of the way of the next round
            client.stop_matchmaking(TicketId=t)
        expected.update(statuses(client, *tickets))
        assert set(expected.values()) <= {"PLACING", "CANCELLED", "COMPLETED"}, expected

    advance(fm_emu, 60)  # every placement finishes
    stream = gamelift_stream(url)
    ids = list(expected)
    described: dict[str, str] = {}
    for n in range(0, len(ids), 10):
        described.update(statuses(client, *ids[n : n + 10]))
    assert status_from_events(stream) == described
    final = {t: "COMPLETED" if s == "PLACING" else s for t, s in expected.items()}
    assert described == final

    completions: dict[str, list[str]] = defaultdict(list)
    for event in stream:
        if event["detail"]["type"] == EventType.ACCEPT_MATCH_COMPLETED:
            completions[event["detail"]["matchId"]].append(event["detail"]["acceptance"])
    assert len(completions) == ROUNDS * MATCHES
    assert all(len(v) == 1 for v in completions.values()), "a match ended twice"
    tally = Counter(v[0] for v in completions.values())
    assert tally["Accepted"] == outcomes["placed"]
    assert tally["TimedOut"] == outcomes["timed out"]
    assert outcomes["placed"] and outcomes["timed out"], "the race never went both ways"
    print(f"\nlast accept vs deadline, {ROUNDS} rounds of {MATCHES} matches: {dict(outcomes)}")
