"""The early listing's reads, recorded in one place and replayed once in another, against the
emulator over real HTTP: what the replay spares is counted by a transport beneath it that sees
every request reaching the network.

The key is the demo scenario's (lobby/emulator/scenarios/demo.json): "you" leads Night Owls.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest

from lobby.core.errors import NotFound
from lobby.core.events import EVENTS_PATH
from lobby.emulator.server import EmulatorThread
from lobby.net.transports import (
    PRIMED_SECONDS,
    RECEIVED_AT,
    PrimedTransport,
    Recorded,
    RecordingTransport,
    shared_transport,
)
from lobby.teambattles.backend import TeamBattlesBackend
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import check_key
from lobby.teambattles.requests import RequestStore

YOU = "tb_test_you_pro_personal_0001"
#: How far the emulator's clock is moved ahead of this machine's.
AHEAD = 900.0
#: Only against a hang (a stream read to its end never ends); no test waits this long.
HANG = 60


class Counting(httpx.AsyncBaseTransport):
    """The adapters' real transport, noting every request that reaches the network."""

    def __init__(self) -> None:
        self._inner = shared_transport() or httpx.AsyncHTTPTransport()  # httpx's own behind a proxy
        self.sent: list[tuple[str, str]] = []
        self.responses: list[httpx.Response] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, str(request.url)))
        response = await self._inner.handle_async_request(request)
        self.responses.append(response)
        return response

    def reads(self) -> list[tuple[str, str]]:
        return sorted(self.sent)

    async def aclose(self) -> None:
        await self._inner.aclose()


def client_for(emulator: EmulatorThread, transport: httpx.AsyncBaseTransport) -> TeamBattlesClient:
    return TeamBattlesClient(emulator.url + "/api/v1", check_key(YOU, "test"), transport=transport)


def backend_for(emulator: EmulatorThread, transport: httpx.AsyncBaseTransport) -> TeamBattlesBackend:
    client = client_for(emulator, transport)
    return TeamBattlesBackend(client, requests=RequestStore("emulator"), user="you", feed_url=emulator.url)


async def recorded_listing(
    emulator: EmulatorThread,
) -> tuple[list[object], list[Recorded], list[tuple[str, str]]]:
    """The offers, the recorded answers and the reads sent (all of a listing's requests: its
    GETs and its searches, POSTs the client marks as reads), of one listing through a recorder."""
    network = Counting()
    recorder = RecordingTransport(network)
    early = backend_for(emulator, recorder)
    try:
        offers = await early.list_offers()
    finally:
        await early.aclose()
    return list(offers), recorder.recorded, network.reads()


async def test_a_primed_listing_sends_none_of_the_recorded_reads_and_uses_each_once(emulator: EmulatorThread) -> None:
    before = time.time()
    offers, recorded, reads = await recorded_listing(emulator)
    after = time.time()
    assert offers and reads
    assert sorted((r.method, r.url) for r in recorded) == reads  # every read (all answered 200), once
    assert {"GET", "POST"} <= {r.method for r in recorded}  # the searches too, with their bodies
    assert all(r.request_body for r in recorded if r.method == "POST")
    for record in recorded:
        assert before <= record.received_at <= after
        assert isinstance(json.loads(record.body), dict)  # the whole body, as the service sent it
        assert ("content-type", "application/json") in record.headers

    network = Counting()
    console = backend_for(emulator, PrimedTransport(network, lambda: recorded))
    try:
        assert await console.list_offers() == offers
        assert network.sent == []  # none of the recorded reads reached the network
        assert await console.list_offers() == offers
        assert network.reads()  # each record answered once: the same reads go out again
        assert set(network.reads()) <= set(reads)
    finally:
        await console.aclose()


@pytest.mark.parametrize("age_beyond", [0.0, 0.5], ids=["just-in-time", "too-old"])
async def test_records_older_than_the_primed_time_are_not_used(emulator: EmulatorThread, age_beyond: float) -> None:
    offers, recorded, reads = await recorded_listing(emulator)
    oldest, newest = min(r.received_at for r in recorded), max(r.received_at for r in recorded)
    now = oldest + PRIMED_SECONDS if not age_beyond else newest + PRIMED_SECONDS + age_beyond
    network = Counting()
    console = backend_for(emulator, PrimedTransport(network, lambda: recorded, clock=lambda: now))
    try:
        assert await console.list_offers() == offers
    finally:
        await console.aclose()
    assert network.reads() == ([] if not age_beyond else reads)


async def test_the_records_are_asked_for_once_at_the_first_read(emulator: EmulatorThread) -> None:
    asked: list[float] = []

    def source() -> list[Recorded]:
        asked.append(time.time())
        return []

    network = Counting()
    primed = PrimedTransport(network, source)
    async with httpx.AsyncClient(base_url=emulator.url + "/api/v1", transport=primed) as http:
        await http.post("matches/discover", json={}, headers={"Authorization": f"Bearer {YOU}"})
    assert asked == []  # not when made (they may still be on their way), nor for a request not marked a read
    async with client_for(emulator, primed) as client:
        await client.discover()  # a search: a POST the client marks as a read
        await client.games()
        await client.team("t_owls")
        assert len(asked) == 1
    assert [method for method, _ in network.sent] == ["POST", "POST", "GET", "GET"]


def arrived_earlier(record: Recorded, seconds: float) -> Recorded:
    """The same answer, as it would have arrived ``seconds`` earlier: the service's time in it
    (the body's ``timestamp``, the ``Date`` header) and the moment it arrived moved back alike."""
    stamp = json.loads(record.body)["timestamp"]
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00")) - timedelta(seconds=seconds)
    moved = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert len(moved) == len(stamp)  # the body keeps its length (and Content-Length its truth)
    headers = [
        (name, format_datetime(parsedate_to_datetime(value) - timedelta(seconds=seconds), usegmt=True))
        if name == "date"
        else (name, value)
        for name, value in record.headers
    ]
    body = record.body.replace(stamp.encode(), moved.encode())
    return replace(record, headers=headers, body=body, received_at=record.received_at - seconds)


async def test_a_replayed_answer_measures_the_skew_its_recording_did(emulator: EmulatorThread) -> None:
    assert httpx.post(emulator.url + "/_emulator/clock", json={"advanceSeconds": AHEAD}).status_code == 200
    recorder = RecordingTransport(Counting())
    async with client_for(emulator, recorder) as early:
        await early.team("t_owls")
    [answer] = recorder.recorded
    assert AHEAD - 60 < early.skew <= AHEAD + 0.001  # the service's clock, read at arrival

    # Replayed a second after it arrived (time only moves on since): read against the moment
    # of replay, the skew would be a second short at least.
    delayed = arrived_earlier(answer, 1.0)
    network = Counting()
    primed = PrimedTransport(network, lambda: [delayed], clock=lambda: answer.received_at)
    async with client_for(emulator, primed) as console:
        await console.team("t_owls")
    assert network.sent == []
    assert abs(console.skew - early.skew) < 0.2


def test_a_record_survives_its_json_and_nothing_else_passes_for_one() -> None:
    record = Recorded(
        "http://127.0.0.1:1/api/v1/games",
        [("content-type", "application/json"), ("x-twice", "1"), ("x-twice", "2")],
        b"\xff\xfe\x00 not UTF-8 \xc3",
        1_767_225_600.25,
    )
    assert Recorded.from_json(json.loads(json.dumps(record.json()))) == record
    good = record.json()
    malformed: tuple[object, ...] = (
        [],
        "a record",
        {k: v for k, v in good.items() if k != "body"},
        {**good, "url": 7},
        {**good, "at": "now"},
        {**good, "at": True},
        {**good, "method": 1},
        {**good, "request_body": "not base64!"},
        {**good, "headers": [["content-type"]]},
        {**good, "headers": [["content-type", 1]]},
        {**good, "headers": "content-type: application/json"},
        {**good, "body": "not base64!"},
        {**good, "body": b"raw"},
    )
    for bad in malformed:
        with pytest.raises(ValueError):
            Recorded.from_json(bad)


async def test_only_whole_answers_to_reads_are_recorded_and_a_stream_is_handed_on_unread(
    emulator: EmulatorThread,
) -> None:
    network = Counting()
    recorder = RecordingTransport(network)
    async with httpx.AsyncClient(base_url=emulator.url + "/api/v1", transport=recorder) as http:
        answer = await http.post("matches/discover", json={}, headers={"Authorization": f"Bearer {YOU}"})
    assert answer.status_code == 200 and recorder.recorded == []  # a POST not marked a read
    async with client_for(emulator, recorder) as client:
        with pytest.raises(NotFound):
            await client.get_match("tbm_no_such_match")  # a GET, answered 404
    assert [method for method, _ in network.sent] == ["POST", "GET"]
    assert recorder.recorded == []

    network = Counting()
    recorder = RecordingTransport(network)
    async with asyncio.timeout(HANG), httpx.AsyncClient(base_url=emulator.url, transport=recorder) as http:
        async with http.stream("GET", EVENTS_PATH) as response:
            assert response is network.responses[-1] and not response.is_stream_consumed
            assert RECEIVED_AT not in response.extensions
            first = await anext(response.aiter_lines())
    assert first == ": stream open"
    assert recorder.recorded == []
