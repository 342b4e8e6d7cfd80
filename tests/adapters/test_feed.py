"""The SSE change feed: in order, exactly once, across drops and emulator restarts."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from lobby.core.errors import (
    InvalidRequest,
    NotConfigured,
    PermissionDenied,
    Unavailable,
)
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.core.backend import FeedState
from lobby.core.events import EventSource
from lobby.flexmatch.lifecycle import EventType
from lobby.net.stream import EventFeed


async def no_sleep(seconds: float) -> None:
    pass


async def take(feed: EventFeed, n: int) -> list:
    got = []
    async with contextlib.aclosing(feed.events()) as events:
        async for event in events:
            got.append(event)
            if len(got) == n:
                break
    return got


def sse(*events: tuple[int | str, str, str]) -> bytes:
    return "".join(f"id: {i}\nevent: {t}\ndata: {d}\n\n" for i, t, d in events).encode()


def scripted(*answers: httpx.Response | Exception):
    """A transport answering each request with the next item (the last one repeats)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = answers[min(len(seen), len(answers)) - 1]
        if isinstance(item, Exception):
            raise item
        return item

    return httpx.MockTransport(handler), seen


def stream(body: bytes) -> httpx.Response:
    return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


# --- against the emulator -------------------------------------------------------------------------


async def test_reads_backlog_then_live_events_filtered_by_source(emulator):
    log = emulator.runtime.events
    log.append(EventSource.GAMELIFT, EventType.SEARCHING, {"n": 1})
    log.append(EventSource.TEAMBATTLES, "match.published", {"n": 2})
    async with httpx.AsyncClient() as client:
        feed = EventFeed(client, emulator.url, sources=[EventSource.GAMELIFT])
        first = await take(feed, 1)
        log.append(EventSource.TEAMBATTLES, "match.published", {"n": 3})
        log.append(EventSource.GAMELIFT, EventType.POTENTIAL_MATCH_CREATED, {"n": 4})
        second = await take(feed, 1)
    assert [(e.type, e.data["n"]) for e in first + second] == [
        ("MatchmakingSearching", 1),
        ("PotentialMatchCreated", 4),
    ]
    assert second[0].id > first[0].id


async def test_resumes_across_an_emulator_restart_without_gaps_or_repeats(tmp_path):
    config = EmulatorConfig(db=str(tmp_path / "feed.db"))
    states: list[FeedState] = []
    emu = EmulatorThread(config).start()
    port = int(emu.url.rsplit(":", 1)[1])
    try:
        seeded = emu.runtime.events.last_id()  # the scenario's own events come first
        for n in range(3):
            emu.runtime.events.append(EventSource.GAMELIFT, "T", {"n": n})
        async with httpx.AsyncClient() as client:
            feed = EventFeed(client, emu.url, on_state=states.append, max_backoff=0.05, last_event_id=seeded)
            events = feed.events()
            got = [await anext(events) for _ in range(2)]
            await asyncio.to_thread(emu.stop)  # the stream breaks; the feed reconnects
            emu = await asyncio.to_thread(EmulatorThread(config, port=port).start)
            emu.runtime.events.append(EventSource.GAMELIFT, "T", {"n": 3})
            got += [await anext(events) for _ in range(2)]
            await events.aclose()
    finally:
        emu.stop()
    assert [e.data["n"] for e in got] == [0, 1, 2, 3]
    assert len({e.id for e in got}) == 4
    assert feed.reconnects >= 1
    assert states[0] is FeedState.LIVE and FeedState.RECONNECTING in states
    assert states[-1] is FeedState.CLOSED


async def test_starts_after_a_given_event_id(emulator):
    ids = [emulator.runtime.events.append(EventSource.GAMELIFT, "T", {"n": n}) for n in range(4)]
    async with httpx.AsyncClient() as client:
        got = await take(EventFeed(client, emulator.url, last_event_id=ids[1]), 2)
    assert [e.data["n"] for e in got] == [2, 3]


async def test_a_refused_filter_is_an_error_not_a_reconnect_loop(emulator):
    async with httpx.AsyncClient() as client:
        with pytest.raises(InvalidRequest, match="Unknown source"):
            await take(EventFeed(client, emulator.url, sources=["nope"]), 1)


# --- faults a server does not produce on demand ---------------------------------------------------


async def test_drops_repeats_and_skips_unreadable_events_after_a_broken_stream():
    transport, seen = scripted(
        stream(sse((1, "A", '{"n": 1}'), (2, "B", "not json"))),
        httpx.Response(503),
        httpx.ConnectError("refused"),
        stream(sse((2, "B", "not json"), (1, "A", '{"n": 1}'), (3, "C", '{"n": 3}'), (4, "D", "[1]"))),
        stream(sse((5, "E", '{"n": 5}'))),
    )
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)

    async with httpx.AsyncClient(transport=transport) as client:
        feed = EventFeed(client, "http://emu", sleep=sleep)
        got = await take(feed, 3)
    assert [(e.id, e.data["n"]) for e in got] == [(1, 1), (3, 3), (5, 5)]
    assert feed.skipped == 2
    # Each reconnect resumes after the last id seen.
    assert [r.headers.get("last-event-id") for r in seen] == [None, "2", "2", "2", "4"]
    assert len(sleeps) == 4 and all(0 <= s <= 5 for s in sleeps)
    assert sleeps[1] >= sleeps[0] * 0.5  # growing (jittered) backoff


@pytest.mark.parametrize(
    ("status", "error"), [(404, NotConfigured), (403, PermissionDenied), (401, PermissionDenied)]
)
async def test_hopeless_answers_raise_typed_errors(status, error):
    transport, seen = scripted(httpx.Response(status, json={"error": "x"}))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(error):
            await take(EventFeed(client, "http://emu", sleep=no_sleep), 1)
    assert len(seen) == 1


async def test_gives_up_after_max_reconnects_when_asked():
    transport, seen = scripted(httpx.ConnectError("refused"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(Unavailable, match="keeps failing"):
            await take(EventFeed(client, "http://emu", sleep=no_sleep, max_reconnects=2), 1)
    assert len(seen) == 3
