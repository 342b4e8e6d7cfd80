"""FlexMatch emulator and adapter figures (run with `make bench`; prints, asserts no timings).

(a) Median per-call latency of the lobby FlexMatch adapter against boto3's gamelift client,
    same emulator (its own process), same run, calls interleaved. Target: lobby <= 0.5x boto3.
(b) Emulator AcceptMatch throughput next to a bare uvicorn endpoint (a trivial ASGI app that
    answers {}), both in their own processes with the same uvicorn settings, measured in the
    same run with the same load generator: raw HTTP/1.1 keep-alive connections on asyncio, 32 in
    flight, one request at a time on each (no pipelining), prebuilt signed requests, so the
    generator costs as little as possible and the servers are what is measured. Two match
    sizes, each with its own ratio:
    - 200 players (two teams of 100, parties of 10): the first player of every ticket never
      answers, so every answer is a state-changing AcceptMatch whose event lists all 200
      players, and no match completes;
    - 10 players (5v5, every player queued alone): everyone accepts, so every tenth answer also
      completes its match (AcceptMatchCompleted, ten tickets COMPLETED, MatchmakingSucceeded).
    Target: emulator >= 0.5x bare.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
import httpx

from lobby.config_schema import GameLiftProfile, Profile
from lobby.cli.profiles import flexmatch_backend as open_backend
from lobby.flexmatch.signing import CredentialSource, SigV4

PARTY = 10  # players per ticket
TEAM = 100  # players per team; two teams: 200-player matches, 20 tickets each


# --- seeding --------------------------------------------------------------------------------------


def gamelift(url: str):
    return boto3.client("gamelift", endpoint_url=url, region_name="us-east-1")


def create_configuration(client, name: str, team: int) -> None:
    """A two-team rule set (``team`` players each) and a STANDALONE configuration requiring
    acceptance within 600 s."""
    client.create_matchmaking_rule_set(
        Name=f"rules-{name}",
        RuleSetBody=json.dumps(
            {
                "ruleLanguageVersion": "1.0",
                "teams": [{"name": "red", "minPlayers": team, "maxPlayers": team}, {"name": "blue", "minPlayers": team, "maxPlayers": team}],
            }
        ),
    )
    client.create_matchmaking_configuration(
        Name=name,
        RuleSetName=f"rules-{name}",
        AcceptanceRequired=True,
        AcceptanceTimeoutSeconds=600,
        RequestTimeoutSeconds=3600,
        FlexMatchMode="STANDALONE",
    )


def wait_for_acceptance(client, ids: Sequence[str]) -> None:
    """Until every ticket is REQUIRES_ACCEPTANCE (a hang guard, not a timing)."""
    waiting = list(ids)
    for _ in range(3000):
        waiting = [
            t["TicketId"]
            for i in range(0, len(waiting), 10)
            for t in client.describe_matchmaking(TicketIds=waiting[i : i + 10])["TicketList"]
            if t["Status"] != "REQUIRES_ACCEPTANCE"
        ]
        if not waiting:
            return
        time.sleep(0.05)
    raise AssertionError("the emulator did not propose every match")


def seed_answerable(url: str, name: str, pairs_wanted: int) -> list[tuple[str, str]]:
    """Tickets in REQUIRES_ACCEPTANCE (600 s window) and (ticket, player) pairs that may ACCEPT.

    The first player of every ticket never answers, so no match completes during the bench and
    every pair is a distinct, valid, state-changing AcceptMatch.
    """
    client = gamelift(url)
    create_configuration(client, name, TEAM)
    per_match = 2 * TEAM // PARTY
    tickets_needed = -(-pairs_wanted // (PARTY - 1))
    tickets_needed = -(-tickets_needed // per_match) * per_match  # whole matches only
    tickets: dict[str, list[str]] = {}
    for t in range(tickets_needed):
        players = [f"{name}-t{t}-p{p}" for p in range(PARTY)]
        answer = client.start_matchmaking(ConfigurationName=name, Players=[{"PlayerId": p} for p in players])
        tickets[answer["MatchmakingTicket"]["TicketId"]] = players
    wait_for_acceptance(client, list(tickets))
    return [(ticket, player) for ticket, players in tickets.items() for player in players[1:]]


# --- (a) latency ----------------------------------------------------------------------------------


N = 300
WARM = 30
WHO = ("raw", "lobby", "boto3")


async def test_adapter_latency_vs_boto3(emulator_process):
    url = emulator_process.url
    pairs = iter(seed_answerable(url, "latency", 3 * (N + WARM)))
    boto = gamelift(url)
    backend = await open_backend(Profile(kind="emulator", gamelift=GameLiftProfile(endpoint_url=url)))
    lobby = backend.client
    describe_ids = [p[0] for p in seed_answerable(url, "latency-describe", 20)][::9][:20]
    timings: dict[tuple[str, str], list[float]] = {
        (who, op): [] for who in WHO for op in ("DescribeMatchmaking", "AcceptMatch")
    }
    # The floor: prebuilt signed requests over one raw keep-alive socket (server time + loopback).
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    describe_raw = await raw_requests(url, [{"TicketIds": [t]} for t in describe_ids], target="DescribeMatchmaking")

    async def exchange(raw: bytes) -> None:
        writer.write(raw)
        await read_answer(reader)

    async def raw_describe(i: int) -> None:
        await exchange(describe_raw[i % len(describe_raw)])

    accept_raw = await raw_requests(url, [accept_payload(*next(pairs)) for _ in range(WARM + N)])

    async def raw_accept(i: int) -> None:
        await exchange(accept_raw[i])

    async def lobby_describe(i: int) -> None:
        await lobby.describe_matchmaking([describe_ids[i % len(describe_ids)]])

    async def boto_describe(i: int) -> None:
        boto.describe_matchmaking(TicketIds=[describe_ids[i % len(describe_ids)]])

    async def lobby_accept(i: int) -> None:
        ticket, player = next(pairs)
        await lobby.accept_match(ticket, [player])

    async def boto_accept(i: int) -> None:
        ticket, player = next(pairs)
        boto.accept_match(TicketId=ticket, PlayerIds=[player], AcceptanceType="ACCEPT")

    calls = {
        ("raw", "DescribeMatchmaking"): raw_describe,
        ("raw", "AcceptMatch"): raw_accept,
        ("lobby", "DescribeMatchmaking"): lobby_describe,
        ("boto3", "DescribeMatchmaking"): boto_describe,
        ("lobby", "AcceptMatch"): lobby_accept,
        ("boto3", "AcceptMatch"): boto_accept,
    }
    async with backend:
        for op in ("DescribeMatchmaking", "AcceptMatch"):
            for i in range(WARM + N):
                order = WHO if i % 2 == 0 else WHO[::-1]
                for who in order:
                    start = time.perf_counter()
                    await calls[(who, op)](i)
                    elapsed = time.perf_counter() - start
                    if i >= WARM:
                        timings[(who, op)].append(elapsed)

    writer.close()
    print("\n(a) median per-call latency against the same emulator (own process), N =", N)
    ratios = []
    for op in ("DescribeMatchmaking", "AcceptMatch"):
        ours = statistics.median(timings[("lobby", op)]) * 1000
        theirs = statistics.median(timings[("boto3", op)]) * 1000
        floor = statistics.median(timings[("raw", op)]) * 1000
        ratios.append(ours / theirs)
        print(
            f"    {op:<20} lobby {ours:6.3f} ms   boto3 {theirs:6.3f} ms   ratio {ours / theirs:.2f}x"
            f"   | raw-socket floor {floor:6.3f} ms; client overhead lobby {ours - floor:6.3f} ms,"
            f" boto3 {theirs - floor:6.3f} ms"
        )
    print(f"    overall ratio (geometric mean) {statistics.geometric_mean(ratios):.2f}x   (target <= 0.50x)")
    assert all(len(v) == N for v in timings.values())


# --- (b) throughput -------------------------------------------------------------------------------

CONCURRENCY = 32
COUNT = 3000
WARM_REQUESTS = 300
ROUNDS = 3


def accept_payload(ticket: str, player: str) -> dict[str, Any]:
    return {"TicketId": ticket, "PlayerIds": [player], "AcceptanceType": "ACCEPT"}


async def raw_requests(url: str, payloads: Sequence[dict[str, Any]], target: str = "AcceptMatch") -> list[bytes]:
    """Signed AWS JSON 1.1 requests as bytes on the wire, one per payload."""
    signer = SigV4(CredentialSource(), "us-east-1")
    frozen = await signer.source.frozen()
    out = []
    for payload in payloads:
        body = json.dumps(payload).encode()
        request = httpx.Request(
            "POST",
            url + "/",
            content=body,
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"GameLift.{target}"},
        )
        signer.sign(request, frozen)
        head = f"POST / HTTP/1.1\r\nHost: {request.url.netloc.decode()}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "host"
        )
        out.append(head.encode() + b"\r\n" + body)
    return out


async def blast(url: str, requests: Sequence[bytes], concurrency: int = CONCURRENCY) -> tuple[float, dict[int, int]]:
    """Send every request over ``concurrency`` keep-alive connections, each waiting for its
    answer before sending the next; (seconds, status counts)."""
    host, port = url.removeprefix("http://").split(":")
    queue = iter(requests)
    statuses: dict[int, int] = {}

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for raw in queue:
                writer.write(raw)
                status = await read_answer(reader)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, statuses


async def read_answer(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 answer framed by Content-Length; return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise AssertionError(f"no Content-Length in {head!r}")
    await reader.readexactly(length)
    return int(head[9:12])


class MatchSize:
    """A kind of match the bench answers, and how its answers are seeded."""

    def __init__(self, label: str, team: int, party: int, everyone: bool) -> None:
        self.label = label
        self.team = team
        self.party = party
        #: every player answers (matches complete); otherwise the first of each ticket is silent
        self.everyone = everyone

    async def seed(self, url: str, name: str, answers_wanted: int) -> list[tuple[str, str]]:
        """(ticket, player) pairs, in order, that may each ACCEPT once, their tickets all
        REQUIRES_ACCEPTANCE."""
        client = gamelift(url)
        await asyncio.to_thread(create_configuration, client, name, self.team)
        answering = self.party if self.everyone else self.party - 1
        per_match = 2 * self.team // self.party
        tickets = -(-answers_wanted // answering)
        tickets = -(-tickets // per_match) * per_match  # whole matches only
        players = {f"{name}-t{t}": [f"{name}-t{t}-p{p}" for p in range(self.party)] for t in range(tickets)}
        starts = await raw_requests(
            url,
            [
                {"TicketId": ticket, "ConfigurationName": name, "Players": [{"PlayerId": p} for p in ids]}
                for ticket, ids in players.items()
            ],
            target="StartMatchmaking",
        )
        _, statuses = await blast(url, starts)
        assert statuses == {200: len(starts)}, statuses
        await asyncio.to_thread(wait_for_acceptance, client, list(players))
        skip = 0 if self.everyone else 1
        return [(ticket, p) for ticket, ids in players.items() for p in ids[skip:]]


SIZES = (
    MatchSize("200 players (2 teams of 100, parties of 10)", team=100, party=10, everyone=False),
    MatchSize("10 players (5v5, everyone queued alone)", team=5, party=1, everyone=True),
)


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used so far (every thread), from Linux's scheduler statistics;
    None where they are not available."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        return sum(int(open(f"/proc/{pid}/task/{t}/schedstat").read().split()[0]) for t in tasks) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def uvicorn_flavour() -> str:
    """What uvicorn's "auto" picks, in both servers alike (same interpreter, same settings)."""
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return f"http={http}, loop={loop}"


async def test_emulator_accept_match_throughput_vs_bare_uvicorn(emulator_process, bare_process):
    per_round = COUNT + WARM_REQUESTS
    seeded = [
        await size.seed(emulator_process.url, f"throughput-{i}", ROUNDS * per_round) for i, size in enumerate(SIZES)
    ]
    results: dict[tuple[int, str], list[float]] = {}
    cpu: dict[tuple[int, str], list[float]] = {}
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    servers = (("emulator", emulator_process), ("bare", bare_process))
    with servers_apart(cpus, emulator_process.proc.pid, bare_process.proc.pid):
        for i, pairs in enumerate(seeded):
            for r in range(ROUNDS):
                payloads = [accept_payload(*pair) for pair in pairs[r * per_round : (r + 1) * per_round]]
                # Alternate who goes first, so drift on the machine favours neither.
                for name, server in servers if r % 2 == 0 else servers[::-1]:
                    raw = await raw_requests(server.url, payloads)
                    await blast(server.url, raw[:WARM_REQUESTS])
                    before = cpu_seconds(server.proc.pid)
                    seconds, statuses = await blast(server.url, raw[WARM_REQUESTS:])
                    after = cpu_seconds(server.proc.pid)
                    assert statuses == {200: COUNT}, statuses
                    results.setdefault((i, name), []).append(COUNT / seconds)
                    if before is not None and after is not None:
                        cpu.setdefault((i, name), []).append((after - before) / COUNT)

    print(f"\n(b) AcceptMatch throughput, {COUNT} requests, {CONCURRENCY} in flight, best of {ROUNDS} rounds")
    if len(cpus) >= 2:
        print(f"    machine: {os.cpu_count()} CPUs; server pinned to one CPU, load generator to another")
    print(f"    uvicorn {uvicorn_flavour()} for both servers")
    ratios = []
    for i, size in enumerate(SIZES):
        emulator, bare = results[(i, "emulator")], results[(i, "bare")]
        ratio = max(emulator) / max(bare)
        ratios.append(ratio)
        per_round_ratio = statistics.median(e / b for e, b in zip(emulator, bare, strict=True))
        print(f"    {size.label}")
        print(f"        emulator {max(emulator):7.0f} req/s   (rounds: {', '.join(f'{x:.0f}' for x in emulator)})")
        print(f"        bare     {max(bare):7.0f} req/s   (rounds: {', '.join(f'{x:.0f}' for x in bare)})")
        print(f"        ratio emulator/bare {ratio:.2f}x   (median of rounds {per_round_ratio:.2f}x; target >= 0.50x)")
        if (i, "emulator") in cpu and (i, "bare") in cpu:
            # Less sensitive to other load on the machine than req/s: server CPU per request.
            emu_cpu, bare_cpu = min(cpu[(i, "emulator")]), min(cpu[(i, "bare")])
            print(
                f"        server CPU per request: emulator {emu_cpu * 1e6:.0f} us, bare {bare_cpu * 1e6:.0f} us"
                f"   ratio bare/emulator {bare_cpu / emu_cpu:.2f}x"
            )
    assert len(ratios) == len(SIZES)


@contextmanager
def pinned(pid: int, cpus: set[int]) -> Iterator[None]:
    """Pin a process to some CPUs (when the platform allows), restoring it afterwards."""
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        yield
        return
    before = os.sched_getaffinity(pid)
    os.sched_setaffinity(pid, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(pid, before)


@contextmanager
def servers_apart(cpus: list[int], *server_pids: int) -> Iterator[None]:
    """Servers on the last CPU, this process (the load generator) on the first."""
    if len(cpus) < 2:
        yield
        return
    with pinned(0, {cpus[0]}):
        with pinned(server_pids[0], {cpus[-1]}), pinned(server_pids[1], {cpus[-1]}):
            yield
