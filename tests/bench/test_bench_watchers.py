"""Many watchers, no slowdown: TeamBattles acceptances per second against an emulator in its own
process, with no event-stream client and then with 500 of them following every event, in the
same run. The 500 watchers may cost at most 20% of the throughput.

Each watcher is a plain socket reading and discarding the stream, so the load generator spends
its time on the requests, not on parsing; each must have received every event by the end.

Run with `make bench` (or `pytest tests/bench/test_bench_watchers.py -p no:xdist -s`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parents[1] / "emulator"))

from reliability_helpers import OWLS_ACTIVE, YOU, match_ids, scenario_with_matches  # noqa: E402

WATCHERS = 500
PER_PHASE = 600
WARM_UP = 100
CONCURRENCY = 16
MAX_COST = 0.20
ROUNDS = 3


async def _accepts(url: str, ids: list[str]) -> float:
    """Ask to play each match (one Night Owls acceptance each); requests per second."""
    gate = asyncio.Semaphore(CONCURRENCY)
    body = {"teamId": "t_owls", "activeRoster": list(OWLS_ACTIVE)}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url + "/api/v1", limits=limits, timeout=30) as http:
        headers = {"Authorization": f"Bearer {YOU}"}

        async def one(match_id: str) -> None:
            async with gate:
                r = await http.post(f"/matches/{match_id}/accept", json=body, headers=headers)
                assert r.status_code in (200, 201), r.text

        began = time.perf_counter()
        await asyncio.gather(*(one(m) for m in ids))
        return len(ids) / (time.perf_counter() - began)


class Watcher:
    def __init__(self) -> None:
        self.ids = 0
        self.tail = b""
        self.task: asyncio.Task[None] | None = None

    async def follow(self, host: str, port: int, after: int, opened: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET /_emulator/events HTTP/1.1\r\nHost: e\r\nLast-Event-ID: {after}\r\n\r\n".encode())
        await writer.drain()
        try:
            while True:
                chunk = await reader.read(1 << 16)
                if not chunk:
                    return
                opened.set()
                text = self.tail + chunk
                self.ids += text.count(b"\nid: ") + text.startswith(b"id: ")
                self.tail = text[-8:]
        finally:
            writer.close()


async def _watched(url: str, ids: list[str]) -> tuple[float, int, list[int]]:
    """The acceptances with WATCHERS clients following the stream: requests per second, the
    events appended, and how many of them each watcher received."""
    async with httpx.AsyncClient() as http:
        start = (await http.get(url + "/_emulator/health")).json()["lastEventId"]
    host, port = url.removeprefix("http://").rsplit(":", 1)
    watchers = [Watcher() for _ in range(WATCHERS)]
    opened = [asyncio.Event() for _ in watchers]
    for w, o in zip(watchers, opened, strict=True):
        w.task = asyncio.create_task(w.follow(host, int(port), start, o))
    await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opened)), 60)
    async with httpx.AsyncClient() as http:
        mark = (await http.get(url + "/_emulator/health")).json()["lastEventId"]
    for w in watchers:  # count only what comes from now on
        w.ids = 0
    rate = await _accepts(url, ids)
    async with httpx.AsyncClient() as http:
        end = (await http.get(url + "/_emulator/health")).json()["lastEventId"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and min(w.ids for w in watchers) < end - mark:
        await asyncio.sleep(0.2)
    for w in watchers:
        assert w.task is not None
        w.task.cancel()
    await asyncio.gather(*(w.task for w in watchers if w.task), return_exceptions=True)
    return rate, end - mark, [w.ids for w in watchers]


async def _run(url: str) -> tuple[float, float, int, list[int]]:
    """Rounds of no watchers then 500, interleaved so a busy machine weighs on both alike;
    the harmonic means of the rates (total requests over total time) are compared."""
    ids = match_ids(WARM_UP + 2 * PER_PHASE)
    await _accepts(url, ids[:WARM_UP])
    rest = ids[WARM_UP:]
    step = PER_PHASE // ROUNDS
    alone_time = watched_time = 0.0
    events = 0
    seen = [0] * WATCHERS
    for r in range(ROUNDS):
        chunk = rest[2 * r * step : 2 * (r + 1) * step]
        alone_time += step / await _accepts(url, chunk[:step])
        rate, appended, got = await _watched(url, chunk[step:])
        watched_time += step / rate
        events += appended
        seen = [a + b for a, b in zip(seen, got, strict=True)]
    return PER_PHASE / alone_time, PER_PHASE / watched_time, events, seen


def _unmetered(scenario: Path) -> Path:
    """The scenario with the service's buckets raised out of the way: the bench measures the
    server, not its rate limits."""
    doc = json.loads(scenario.read_text("utf-8"))
    unlimited = {"burst": 1_000_000, "per_second": 1_000_000}
    doc["teambattles"]["raised_rate_limits"] = {
        **dict.fromkeys(("free", "pro", "studio", "ip"), unlimited),
        "reason": "the watchers bench measures the server, not its buckets",
    }
    scenario.write_text(json.dumps(doc), "utf-8")
    return scenario


def test_500_watchers_cost_at_most_a_fifth_of_the_throughput(tmp_path: Path):
    scenario = _unmetered(scenario_with_matches(tmp_path, WARM_UP + 2 * PER_PHASE))
    argv = [sys.executable, "-m", "lobby", "emulator", "--port", "0", "--db", str(tmp_path / "bench.db"),
            "--scenario", str(scenario)]  # fmt: skip
    env = {**os.environ, "LOBBY_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        baseline, with_watchers, events, seen = asyncio.run(_run(url))
    finally:
        proc.terminate()
        proc.wait(10)
    ratio = with_watchers / baseline
    print()
    print(f"watchers: TeamBattles acceptances, {PER_PHASE} per condition in {ROUNDS} interleaved rounds, "
          f"{CONCURRENCY} at a time")  # fmt: skip
    print(f"  0 watchers:   {baseline:7.1f} requests/s")
    print(f"  {WATCHERS} watchers: {with_watchers:7.1f} requests/s  (ratio {ratio:.2f}, cost {1 - ratio:.0%})")
    print(f"  events in the watched phase: {events}; every watcher got {min(seen)}..{max(seen)} of them")
    assert min(seen) >= events
    assert ratio >= 1 - MAX_COST
