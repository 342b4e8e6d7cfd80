"""Figures for the closing note of issue 2 (run with `make bench`; prints, asserts no timings).

(a) Median per-call latency of the lobby FlexMatch adapter against boto3's gamelift client,
    same emulator (its own process), same run, calls interleaved. Target: lobby <= 0.5x boto3.
(b) Emulator AcceptMatch throughput next to a bare uvicorn endpoint (a trivial ASGI app that
    answers {}), both in their own processes, measured in the same run with the same load
    generator: raw HTTP/1.1 keep-alive connections on asyncio, 32 in flight, prebuilt signed
    requests, so the generator costs as little as possible and the servers are what is measured.
    Target: emulator >= 0.5x bare.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import boto3
import httpx

from lobby.adapters.flexmatch import open_backend
from lobby.adapters.flexmatch.signing import CredentialSource, SigV4
from lobby.config import GameLiftProfile, Profile

PARTY = 10  # players per ticket
TEAM = 100  # players per team; two teams: 200-player matches, 20 tickets each


# --- seeding --------------------------------------------------------------------------------------


def gamelift(url: str):
    return boto3.client("gamelift", endpoint_url=url, region_name="us-east-1")


def seed_answerable(url: str, name: str, pairs_wanted: int) -> list[tuple[str, str]]:
    """Tickets in REQUIRES_ACCEPTANCE (600 s window) and (ticket, player) pairs that may ACCEPT.

    The first player of every ticket never answers, so no match completes during the bench and
    every pair is a distinct, valid, state-changing AcceptMatch.
    """
    client = gamelift(url)
    client.create_matchmaking_rule_set(
        Name=f"rules-{name}",
        RuleSetBody=json.dumps(
            {
                "ruleLanguageVersion": "1.0",
                "teams": [{"name": "red", "minPlayers": TEAM, "maxPlayers": TEAM}, {"name": "blue", "minPlayers": TEAM, "maxPlayers": TEAM}],
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
    per_match = 2 * TEAM // PARTY
    tickets_needed = -(-pairs_wanted // (PARTY - 1))
    tickets_needed = -(-tickets_needed // per_match) * per_match  # whole matches only
    tickets: dict[str, list[str]] = {}
    for t in range(tickets_needed):
        players = [f"{name}-t{t}-p{p}" for p in range(PARTY)]
        answer = client.start_matchmaking(ConfigurationName=name, Players=[{"PlayerId": p} for p in players])
        tickets[answer["MatchmakingTicket"]["TicketId"]] = players
    ids = list(tickets)
    for _ in range(3000):  # a hang guard, not a timing
        statuses = [
            t["Status"]
            for i in range(0, len(ids), 10)
            for t in client.describe_matchmaking(TicketIds=ids[i : i + 10])["TicketList"]
        ]
        if all(s == "REQUIRES_ACCEPTANCE" for s in statuses):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the emulator did not propose every match")
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
    describe_raw = await raw_requests(url, [(t, "") for t in describe_ids], target="DescribeMatchmaking")

    async def exchange(raw: bytes) -> None:
        writer.write(raw)
        await read_answer(reader)

    async def raw_describe(i: int) -> None:
        await exchange(describe_raw[i % len(describe_raw)])

    accept_raw = await raw_requests(url, [next(pairs) for _ in range(WARM + N)])

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


async def raw_requests(url: str, pairs: Sequence[tuple[str, str]], target: str = "AcceptMatch") -> list[bytes]:
    """Signed requests as bytes on the wire, one per (ticket, player): AcceptMatch ACCEPT, or
    DescribeMatchmaking of the ticket."""
    signer = SigV4(CredentialSource(), "us-east-1")
    frozen = await signer.source.frozen()
    out = []
    for ticket, player in pairs:
        if target == "AcceptMatch":
            payload = {"TicketId": ticket, "PlayerIds": [player], "AcceptanceType": "ACCEPT"}
        else:
            payload = {"TicketIds": [ticket]}
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
    """Send every request over ``concurrency`` keep-alive connections; (seconds, status counts)."""
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


async def test_emulator_accept_match_throughput_vs_bare_uvicorn(emulator_process, bare_process):
    pairs = await asyncio.to_thread(seed_answerable, emulator_process.url, "throughput", 2 * (COUNT + WARM_REQUESTS))
    half = COUNT + WARM_REQUESTS
    emulator_rounds = [pairs[:half], pairs[half : 2 * half]]
    results: dict[str, list[float]] = {"emulator": [], "bare": []}
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    with servers_apart(cpus, emulator_process.proc.pid, bare_process.proc.pid):
        for round_pairs in emulator_rounds:
            for name, server in (("emulator", emulator_process), ("bare", bare_process)):
                raw = await raw_requests(server.url, round_pairs)
                await blast(server.url, raw[:WARM_REQUESTS])
                seconds, statuses = await blast(server.url, raw[WARM_REQUESTS:])
                assert statuses == {200: COUNT}, statuses
                results[name].append(COUNT / seconds)

    emulator = max(results["emulator"])
    bare = max(results["bare"])
    print(f"\n(b) AcceptMatch throughput, {COUNT} requests, {CONCURRENCY} in flight, best of {len(emulator_rounds)} rounds")
    print(f"    machine: {os.cpu_count()} CPUs; server pinned to one CPU, load generator to another" if len(cpus) >= 2 else "")
    print(f"    emulator   {emulator:8.0f} req/s   (rounds: {', '.join(f'{r:.0f}' for r in results['emulator'])})")
    print(f"    bare       {bare:8.0f} req/s   (rounds: {', '.join(f'{r:.0f}' for r in results['bare'])})")
    print(f"    ratio emulator/bare {emulator / bare:.2f}x   (target >= 0.50x)")


@contextmanager
def servers_apart(cpus: list[int], *server_pids: int) -> Iterator[None]:
    """Servers on the last CPU, this process (the load generator) on the first."""
    if len(cpus) < 2:
        yield
        return
    with pinned(0, {cpus[0]}):
        with pinned(server_pids[0], {cpus[-1]}), pinned(server_pids[1], {cpus[-1]}):
            yield
