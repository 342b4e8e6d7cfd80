"""Many watchers, no slowdown: TeamBattles acceptances per second against an emulator in its own
process, with no event-stream client and then with 500 of them following every event, in the
same run. The 500 watchers may cost at most 20% of the throughput.

The load generator is kept cheap so that it measures the server, not itself: the requests go
over 16 kept-alive connections written and read by hand (an HTTP client library costs more per
request than the server does on a busy machine), and the watchers run in a process of their
own, as real watchers would: plain sockets reading and discarding the stream, counting event
ids; each must have received every event by the end.

Run with `make bench` (or `pytest tests/bench/test_bench_watchers.py -p no:xdist -s`).
"""

from __future__ import annotations

import asyncio
import json
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parents[1] / "emulator"))

from reliability_helpers import OWLS_ACTIVE, YOU, match_ids, scenario_with_matches  # noqa: E402

WATCHERS = 500
PER_PHASE = 3000
WARM_UP = 100
CONCURRENCY = 16
MAX_COST = 0.20
ROUNDS = 10
#: A guard against hangs only.
HANG = 60


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, body: bytes) -> int:
    """One POST on a kept-alive connection; its status (the answer is read whole, then dropped)."""
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: e\r\nAuthorization: Bearer {YOU}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    )
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    answer = await reader.readexactly(length)
    assert status in (200, 201), answer
    return status


async def _accepts(url: str, ids: list[str]) -> float:
    """Ask to play each match (one Night Owls acceptance each); requests per second."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    body = json.dumps({"teamId": "t_owls", "activeRoster": list(OWLS_ACTIVE)}).encode()
    queue = list(reversed(ids))
    connections = [await asyncio.open_connection(host, int(port)) for _ in range(CONCURRENCY)]

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while queue:
            await _post(reader, writer, f"/api/v1/matches/{queue.pop()}/accept", body)

    try:
        began = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(worker(r, w) for r, w in connections)), HANG * 5)
        return len(ids) / (time.perf_counter() - began)
    finally:
        for _, writer in connections:
            writer.close()


def _watch(host: str, port: int, after: int, count: int) -> None:
    """The watchers' process: ``count`` streams after event ``after``; prints "ready" once each
    has received its first bytes, then, for each "report N" read on stdin, how many ids the
    slowest and the fastest watcher received, once all have N (or HANG passed)."""
    selector = selectors.DefaultSelector()
    ids = [0] * count
    tails = [b""] * count
    request = f"GET /_emulator/events HTTP/1.1\r\nHost: e\r\nLast-Event-ID: {after}\r\n\r\n".encode()
    socks = []
    for n in range(count):
        sock = socket.create_connection((host, port))
        sock.sendall(request)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, n)
        socks.append(sock)
    selector.register(sys.stdin, selectors.EVENT_READ, -1)
    opened = [False] * count
    waiting = 0
    want: int | None = None
    deadline = 0.0
    while True:
        for key, _ in selector.select(0.2):
            n = key.data
            if n == -1:
                said = os.read(sys.stdin.fileno(), 4096)
                if not said:
                    return
                for line in said.decode().splitlines():
                    if line == "count from now":
                        ids = [0] * count
                    else:
                        want, deadline = int(line.split()[1]), time.monotonic() + HANG
                continue
            chunk = key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
            if not chunk:
                selector.unregister(key.fileobj)
                continue
            if not opened[n]:
                opened[n] = True
                waiting += 1
                if waiting == count:
                    print("ready", flush=True)
            text = tails[n] + chunk
            ids[n] += text.count(b"\nid: ") + text.startswith(b"id: ")
            tails[n] = text[-8:]
        if want is not None and (min(ids) >= want or time.monotonic() > deadline):
            print(min(ids), max(ids), flush=True)
            want = None


class Watchers:
    """WATCHERS event-stream clients in a process of their own."""

    def __init__(self, url: str, after: int) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        argv = [sys.executable, __file__, host, port, str(after), str(WATCHERS)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _say(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def _hear(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    async def ready(self) -> None:
        assert await asyncio.to_thread(self._hear) == "ready"
        self._say("count from now")

    async def received(self, events: int) -> tuple[int, int]:
        """The fewest and the most ids a watcher received since ready, once all have ``events``."""
        self._say(f"report {events}")
        low, high = (await asyncio.to_thread(self._hear)).split()
        return int(low), int(high)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(HANG)


async def _last_event_id(url: str) -> int:
    async with httpx.AsyncClient() as http:
        return int((await http.get(url + "/_emulator/health")).json()["lastEventId"])


async def _watched(url: str, ids: list[str]) -> tuple[float, int, tuple[int, int]]:
    """The acceptances with WATCHERS clients following the stream: requests per second, the
    events appended, and the fewest and most of them a watcher received."""
    watchers = Watchers(url, await _last_event_id(url))
    try:
        await asyncio.wait_for(watchers.ready(), HANG)
        mark = await _last_event_id(url)
        rate = await _accepts(url, ids)
        appended = await _last_event_id(url) - mark
        return rate, appended, await watchers.received(appended)
    finally:
        watchers.close()


async def _run(url: str) -> tuple[float, float, int, int]:
    """Rounds of no watchers then 500, interleaved so a busy machine weighs on both alike;
    the harmonic means of the rates (total requests over total time) are compared."""
    ids = match_ids(WARM_UP + 2 * PER_PHASE)
    await _accepts(url, ids[:WARM_UP])
    rest = ids[WARM_UP:]
    step = PER_PHASE // ROUNDS
    alone_time = watched_time = 0.0
    events = 0
    short = 0  # events some watcher missed
    for r in range(ROUNDS):
        chunk = rest[2 * r * step : 2 * (r + 1) * step]
        alone_time += step / await _accepts(url, chunk[:step])
        rate, appended, (low, _) = await _watched(url, chunk[step:])
        watched_time += step / rate
        events += appended
        short += max(0, appended - low)
    return PER_PHASE / alone_time, PER_PHASE / watched_time, events, short


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
        baseline, with_watchers, events, short = asyncio.run(_run(url))
    finally:
        proc.terminate()
        proc.wait(10)
    ratio = with_watchers / baseline
    print()
    print(f"watchers: TeamBattles acceptances, {PER_PHASE} per condition in {ROUNDS} interleaved rounds, "
          f"{CONCURRENCY} at a time (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")  # fmt: skip
    print(f"  0 watchers:   {baseline:7.1f} requests/s")
    print(f"  {WATCHERS} watchers: {with_watchers:7.1f} requests/s  (ratio {ratio:.2f}, cost {1 - ratio:.0%})")
    print(f"  events in the watched phase: {events}; events some watcher missed: {short}")
    assert short == 0
    assert ratio >= 1 - MAX_COST


if __name__ == "__main__":  # the watchers' process (see Watchers)
    _watch(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
