"""The persisted event log and its SSE stream: ordered ids, resume without gaps or repeats."""

from __future__ import annotations

import httpx
from httpx_sse import connect_sse

from lobby.core.clock import FrozenClock
from lobby.core.events import EventSource
from lobby.emulator.events import EventLog
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.emulator.store import Store
from lobby.flexmatch.lifecycle import EventType


GAMELIFT, TEAMBATTLES = EventSource.GAMELIFT, EventSource.TEAMBATTLES


def read_events(url: str, n: int, last_event_id: int | None = None, query: str = "") -> list:
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    got = []
    with httpx.Client(timeout=5) as client:
        with connect_sse(client, "GET", url + "/_emulator/events" + query, headers=headers) as src:
            for sse in src.iter_sse():
                got.append((int(sse.id), sse.event, sse.json()))
                if len(got) == n:
                    break
    return got


def test_ids_grow_and_survive_a_restart(tmp_path):
    db = tmp_path / "events.db"
    log = EventLog(Store(db), FrozenClock())
    ids = [log.append(GAMELIFT, "T", {"n": i}) for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    log.store.close()
    again = EventLog(Store(db), FrozenClock())
    assert [e.payload["n"] for e in again.since(0)] == [0, 1, 2]
    assert again.append(GAMELIFT, "T", {"n": 3}) > ids[-1]


def test_rolled_back_events_are_not_kept():
    store = Store(":memory:")
    log = EventLog(store, FrozenClock())
    try:
        with store.transaction():
            log.append(GAMELIFT, "T", {})
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert log.since(0) == []


def test_sse_resumes_from_last_event_id_across_restart(tmp_path):
    config = EmulatorConfig(db=str(tmp_path / "emu.db"))
    with EmulatorThread(config) as emu:
        seeded = emu.runtime.events.last_id()  # the scenario's own events come first
        for i in range(5):
            emu.runtime.events.append(GAMELIFT if i % 2 else TEAMBATTLES, f"T{i}", {"i": i})
        first = read_events(emu.url, 3, last_event_id=seeded)
    assert [p["i"] for _, _, p in first] == [0, 1, 2]
    with EmulatorThread(config) as emu:
        emu.runtime.events.append(GAMELIFT, "T5", {"i": 5})
        rest = read_events(emu.url, 3, last_event_id=first[-1][0])
    assert [p["i"] for _, _, p in rest] == [3, 4, 5]
    assert [e for _, e, _ in rest] == ["T3", "T4", "T5"]


def test_sse_delivers_live_events_and_filters_by_source(emulator):
    import threading

    def later():
        emulator.runtime.events.append(TEAMBATTLES, "match.published", {"i": 1})
        emulator.runtime.events.append(GAMELIFT, EventType.SEARCHING, {"i": 2})

    threading.Timer(0.2, later).start()
    got = read_events(emulator.url, 1, query=f"?source={GAMELIFT}")
    assert [(e, p) for _, e, p in got] == [(EventType.SEARCHING, {"i": 2})]


def test_bad_resume_and_source_are_plain_400s(emulator):
    r = httpx.get(emulator.url + "/_emulator/events", headers={"Last-Event-ID": "x"})
    assert r.status_code == 400 and r.json()["error"] == "bad_last_event_id"
    r = httpx.get(emulator.url + "/_emulator/events?source=nope")
    assert r.status_code == 400 and "nope" in r.json()["details"]


def test_clock_route_moves_time_only_with_time_travel(emulator, tmp_path):
    before = httpx.get(emulator.url + "/_emulator/health").json()["time"]
    r = httpx.post(emulator.url + "/_emulator/clock", json={"advanceSeconds": 600})
    assert r.status_code == 200 and r.json()["time"] >= before + 600
    assert httpx.post(emulator.url + "/_emulator/clock", json={"advanceSeconds": -1}).status_code == 400
    with EmulatorThread(EmulatorConfig()) as plain:
        r = httpx.post(plain.url + "/_emulator/clock", json={"advanceSeconds": 1})
        assert r.status_code == 403 and r.json()["error"] == "time_travel_disabled"


def test_a_resume_against_a_fresh_database_on_the_same_port_resynchronizes(tmp_path):
    """The emulator restarts on another database at the same address: the feed learns it from
    the stream, and reads the new instance's events from its first instead of skipping as many
    as it had seen of the old one."""
    import asyncio
    import contextlib

    from lobby.net.stream import EventFeed, handshake

    first = EmulatorThread(EmulatorConfig(db=str(tmp_path / "a.db"))).start()
    port = int(first.url.rsplit(":", 1)[1])
    for i in range(50):
        first.runtime.events.append(GAMELIFT, "old", {"i": i})
    old_last = first.runtime.events.last_id()
    old_instance = first.runtime.events.instance
    second: list[EmulatorThread] = []
    resyncs: list[str] = []

    async def follow() -> list[tuple[int, str, dict]]:
        got: list[tuple[int, str, dict]] = []
        async with httpx.AsyncClient() as http:
            hello = await handshake(http, first.url)
            assert hello.instance == old_instance
            feed = EventFeed(
                http,
                first.url,
                last_event_id=hello.last_event_id - 3,
                instance=hello.instance,
                max_backoff=0.1,
                on_resync=resyncs.append,
            )
            async with contextlib.aclosing(feed.events()) as events:
                async for event in events:
                    got.append((event.id, event.type, event.data))
                    if len(got) == 3:  # the old instance's last three: now restart on a fresh db
                        await asyncio.to_thread(first.stop)
                        emu = EmulatorThread(EmulatorConfig(db=str(tmp_path / "b.db")), port=port).start()
                        second.append(emu)
                        for i in range(3):
                            emu.runtime.events.append(GAMELIFT, "new", {"i": i})
                    if event.type == "new" and event.data == {"i": 2}:
                        break
            assert feed.resyncs == 1 and feed.instance == second[0].runtime.events.instance
        return got

    try:
        got = asyncio.run(asyncio.wait_for(follow(), 30))
    finally:
        for emu in second:
            emu.stop()
    assert [(t, d["i"]) for _, t, d in got[:3]] == [("old", 47), ("old", 48), ("old", 49)]
    assert got[2][0] == old_last
    after = got[3:]
    new_ids = [i for i, _, _ in after]
    assert new_ids[0] == 1 and new_ids == list(range(1, len(after) + 1))  # every one, from the first
    assert new_ids[-1] < old_last  # all of them at ids the old instance had already passed
    assert [d["i"] for _, t, d in after if t == "new"] == [0, 1, 2]
    assert resyncs == [second[0].runtime.events.instance] != [old_instance]


async def _collect(feed, into: list[tuple[int, str]]) -> None:
    import contextlib

    async with contextlib.aclosing(feed.events()) as events:
        async for event in events:
            into.append((event.id, event.type))


def test_many_streams_each_get_every_event_of_their_filter_once_in_order(emulator, monkeypatch):
    """The live streams are fed together (one read, one batch's bytes per filter and position):
    streams of either filter, resuming from before the shared window, and streams that open
    while events flow each get exactly their events, in order, once."""
    import asyncio

    from lobby.emulator import events as events_module
    from lobby.net.stream import EventFeed

    monkeypatch.setattr(events_module, "WINDOW", 64)  # so the resumers read their backlog themselves
    log = emulator.runtime.events
    start = log.last_id()
    for i in range(200):
        log.append(GAMELIFT if i % 3 else TEAMBATTLES, f"early{i}", {"i": i})
    everything: list[list[tuple[int, str]]] = [[] for _ in range(16)]
    gamelift: list[list[tuple[int, str]]] = [[] for _ in range(12)]

    async def run() -> None:
        async with httpx.AsyncClient(timeout=10) as http:

            def follow(into: list[tuple[int, str]], sources: list[str] | None = None) -> asyncio.Task[None]:
                return asyncio.create_task(
                    _collect(EventFeed(http, emulator.url, sources=sources, last_event_id=start), into)
                )

            tasks = [follow(into) for into in everything[:12]] + [
                follow(into, [GAMELIFT]) for into in gamelift
            ]
            for i in range(300):
                log.append(GAMELIFT if i % 3 else TEAMBATTLES, f"live{i}", {"i": i})
                if i % 50 == 0:
                    await asyncio.sleep(0.05)
                if i == 150:  # these open while events flow
                    tasks += [follow(into) for into in everything[12:]]
            last = log.last_id()
            last_gamelift = log.since(last - 1)[0].id  # the last event is a GameLift one (299 % 3)
            targets = [(into, last) for into in everything] + [(into, last_gamelift) for into in gamelift]
            for into, target in targets:
                while not into or into[-1][0] < target:
                    await asyncio.sleep(0.05)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(asyncio.wait_for(run(), 40))
    wanted = [(e.id, e.type) for e in log.since(start, limit=10_000)]
    assert len(wanted) == 500
    wanted_gamelift = [(e.id, e.type) for e in log.since(start, limit=10_000, sources=[GAMELIFT])]
    assert all(got == wanted for got in everything)
    assert all(got == wanted_gamelift for got in gamelift)


def test_the_demo_log_prints_every_event_once_with_no_escape_reaching_the_terminal(emulator, capsys):
    import asyncio

    from lobby.cli.emulator import print_events

    log = emulator.runtime.events
    detail = {"type": "MatchmakingSearching", "tickets": [{"ticketId": "t-\x1b[31mred\x07"}]}
    log.append(GAMELIFT, "MatchmakingSearching", {"source": GAMELIFT, "detail": detail})
    log.append(TEAMBATTLES, "match.published", {"data": {"match": {"id": "tbm_\x1b]0;title\x07x"}}})
    count = len(log.since(0, limit=10_000))
    asyncio.run(asyncio.wait_for(print_events(emulator.url, stop_after=count), 20))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == count
    assert "FlexMatch    MatchmakingSearching" in lines[-2] and lines[-2].endswith(" t-red")
    assert "TeamBattles  match.published" in lines[-1] and lines[-1].endswith(" tbm_x")
    assert not [line for line in lines if "\x1b" in line or "\x07" in line]


def test_an_http_1_0_client_gets_live_events_unchunked(emulator):
    """Live events go straight to the connection only where the answer is chunked (HTTP/1.1);
    an HTTP/1.0 client gets the same events, unframed, through the server's own writes."""
    import socket
    import time
    from urllib.parse import urlsplit

    parts = urlsplit(emulator.url)
    start = emulator.runtime.events.last_id()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(f"GET /_emulator/events HTTP/1.0\r\nLast-Event-ID: {start}\r\n\r\n".encode())
        got = b""
        while b": stream open" not in got:
            got += sock.recv(65536)
        while emulator.runtime.events.live_streams < 1:  # caught up: the next event is a live one
            time.sleep(0.01)
        emulator.runtime.events.append(GAMELIFT, "live", {"n": 1})
        while b'data: {"n":1}\n\n' not in got:
            got += sock.recv(65536)
    head, _, body = got.partition(b"\r\n\r\n")
    assert b"chunked" not in head.lower()
    assert body == f': stream open\n\nid: {start + 1}\nevent: live\ndata: {{"n":1}}\n\n'.encode()
