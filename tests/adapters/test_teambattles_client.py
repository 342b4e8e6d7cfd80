"""Retry sequences and rate-limit pacing of the TeamBattles client, for faults a real server
cannot easily be made to produce (lost answers, 503s, exact header values): httpx.MockTransport.
Everything else is tested against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lobby.core.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    ProtocolError,
    Unavailable,
)
from lobby.core.offers import OfferUpdated
from lobby.net.retry import RetryPolicy
from lobby.teambattles import wire as m
from lobby.teambattles.backend import TeamBattlesBackend
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import ApiKey
from lobby.teambattles.pacing import RateLimitPacer
from lobby.teambattles.requests import RequestStore

CANARY = "tb_CANARYcanary0123456789SECRET"
BODY = m.AcceptMatchRequestBody(team_id="t1", active_roster=["u1"])
OK = {"success": True, "acceptanceId": "acc_1", "timestamp": "2026-01-01T12:00:00Z"}


class Recorder:
    def __init__(self, answers: list[Callable[[httpx.Request], httpx.Response]]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request)

    def keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.requests]


def reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=body, headers=headers or {})


def drop(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadError("connection reset by peer", request=request)


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(handler: Callable[[httpx.Request], httpx.Response], sleeps: Sleeps, **kw: Any) -> TeamBattlesClient:
    return TeamBattlesClient(
        "https://tb.example/api/v1",
        ApiKey(CANARY, "test"),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=4, base=0.5, cap=2.0),
        sleep=sleeps,
        **kw,
    )


@pytest.mark.parametrize(
    "first",
    [
        reply(503, {"error": "error_internal"}),
        reply(502, "<html>bad gateway</html>"),
        drop,
    ],
    ids=["503", "502-html", "network"],
)
async def test_a_failed_submit_is_retried_with_the_same_idempotency_key(first) -> None:
    rec = Recorder([first, reply(200, OK)])
    sleeps = Sleeps()
    async with make_client(rec, sleeps) as client:
        answer = await client.create_acceptance("mt_1", BODY)
    assert answer.acceptance_id == "acc_1"
    keys = rec.keys()
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0]
    assert [r.content for r in rec.requests] == [rec.requests[0].content] * 2
    assert len(sleeps) == 1


async def test_429_waits_for_retry_after_then_retries_with_the_same_key() -> None:
    rec = Recorder(
        [
            reply(429, {"error": "error_api_rate_limited"}, {"Retry-After": "2", "X-RateLimit-Remaining": "0"}),
            reply(200, OK),
        ]
    )
    sleeps = Sleeps()
    async with make_client(rec, sleeps) as client:
        await client.create_acceptance("mt_1", BODY)
    assert sleeps == [2.0]
    assert rec.keys()[0] == rec.keys()[1]


async def test_idempotency_conflict_is_surfaced_not_retried() -> None:
    rec = Recorder([reply(409, {"error": "error_idempotency_key_conflict"})])
    sleeps = Sleeps()
    async with make_client(rec, sleeps) as client:
        with pytest.raises(Conflict) as info:
            await client.create_acceptance("mt_1", BODY, idempotency_key="k-1")
    assert info.value.code == "error_idempotency_key_conflict"
    assert len(rec.requests) == 1 and sleeps == [] and rec.keys() == ["k-1"]


async def test_auth_and_validation_failures_are_not_retried() -> None:
    for status, code, cls in ((401, "error_api_key_invalid", AuthenticationFailed), (400, "error_roster_too_small", InvalidRequest)):
        rec = Recorder([reply(status, {"error": code})])
        async with make_client(rec, Sleeps()) as client:
            with pytest.raises(cls):
                await client.create_acceptance("mt_1", BODY)
        assert len(rec.requests) == 1


async def test_each_logical_submit_has_its_own_key_and_retries_give_up() -> None:
    rec = Recorder([reply(200, OK)])
    async with make_client(rec, Sleeps()) as client:
        await client.create_acceptance("mt_1", BODY)
        await client.create_acceptance("mt_1", BODY)
    assert rec.keys()[0] != rec.keys()[1]

    rec = Recorder([drop])
    sleeps = Sleeps()
    async with make_client(rec, sleeps) as client:
        with pytest.raises(Unavailable) as info:
            await client.create_acceptance("mt_1", BODY)
    assert len(rec.requests) == 4 and len(set(rec.keys())) == 1 and len(sleeps) == 3
    assert "Could not reach TeamBattles" in info.value.message


async def test_reads_send_no_idempotency_key_and_the_bearer_key() -> None:
    rec = Recorder([reply(200, {"members": [], "count": 0, "timestamp": "2026-01-01T12:00:00Z"})])
    async with make_client(rec, Sleeps()) as client:
        assert await client.team_members("red fox/1") == []
    request = rec.requests[0]
    assert request.url.raw_path == b"/api/v1/teams/red%20fox%2F1/members"
    assert request.headers["authorization"] == f"Bearer {CANARY}"
    assert "idempotency-key" not in request.headers
    assert CANARY not in repr(request.headers) and CANARY not in repr(client)


async def test_an_answer_off_the_contract_is_a_protocol_error() -> None:
    rec = Recorder([reply(200, {"success": True, "acceptanceId": "a", "timestamp": "t", "surprise": 1})])
    async with make_client(rec, Sleeps()) as client:
        with pytest.raises(ProtocolError, match="does not understand"):
            await client.create_acceptance("mt_1", BODY)


async def test_the_key_is_scrubbed_from_whatever_the_service_says() -> None:
    rec = Recorder([reply(400, {"error": "error_validation_failed", "details": f"Bad header Bearer {CANARY}"})])
    async with make_client(rec, Sleeps()) as client:
        with pytest.raises(InvalidRequest) as info:
            await client.create_acceptance("mt_1", BODY)
    err = info.value
    for text in (str(err), repr(err), err.message, err.details):  # type: ignore[attr-defined]
        assert CANARY not in text


# --- pacing ------------------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_pacer_waits_for_the_reset_when_few_requests_remain() -> None:
    now, sleeps = FakeTime(), Sleeps()
    pacer = RateLimitPacer(reserve=5, monotonic=now, sleep=sleeps)
    pacer.observe({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "40", "X-RateLimit-Reset": "30"})
    assert await pacer.before_poll() == 0 and sleeps == []
    pacer.observe({"x-ratelimit-limit": "60", "x-ratelimit-remaining": "6", "x-ratelimit-reset": "30"})
    now.t += 10
    assert await pacer.before_poll() == 20 and sleeps == [20]
    # After the wait the old numbers say nothing: the next poll goes at once.
    assert await pacer.before_poll() == 0


def _page(headers: dict[str, str]) -> dict[str, Callable[[httpx.Request], httpx.Response]]:
    match = {
        "id": "mt_1", "status": "PENDING", "publishStatus": "PUBLISHED",
        "game": {"id": "g1", "nameKey": "Skyline"}, "gameMode": "ctf",
        "matchType": "XP_ONLY", "platform": "PC", "region": "EU",
        "creatorTeam": {"id": "t9", "name": "Owls", "tag": "OWL"}, "acceptedTeam": None,
        "challengedTeam": None, "bestOf": 3, "teamSize": 2, "selectedMaps": [],
        "selectedObjectives": [], "winnerTeamId": None, "scheduledAt": "2999-01-01T00:00:00Z",
        "startedAt": None, "completedAt": None, "createdAt": "2026-01-01T00:00:00Z",
    }
    return {
        "/api/v1/matches/discover": reply(200, {"data": [match], "nextCursor": None, "hasMore": False, "timestamp": "2026-01-01T12:00:00Z"}, headers),
        "/api/v1/user/matches": reply(200, {"page": [], "isDone": True, "continueCursor": "c0"}, headers),
        "/api/v1/teams/t9": reply(
            200,
            {"team": {"id": "t9", "name": "Owls", "isMember": False, "createdAt": None}, "timestamp": "2026-01-01T12:00:00Z"},
            headers,
        ),
    }


class StopPolling(Exception):
    pass


async def test_polling_is_paced_by_the_rate_limit_headers(tmp_path) -> None:
    now = FakeTime()
    polls: list[float] = []
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now.t += seconds
        if len(sleeps) >= 4:
            raise StopPolling

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/discover"):
            polls.append(now.t)
        # The second poll leaves 2 requests in a window that resets 45 s later.
        left = "2" if len(polls) == 2 else "50"
        headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": left, "X-RateLimit-Reset": "45"}
        return _page(headers)[request.url.path](request)

    client = TeamBattlesClient(
        "https://tb.example/api/v1",
        ApiKey(CANARY, "test"),
        transport=httpx.MockTransport(handler),
        sleep=sleep,
        pacer=RateLimitPacer(monotonic=now, sleep=sleep),
    )
    backend = TeamBattlesBackend(
        client, requests=RequestStore("t", tmp_path / "r.sqlite3"), poll_interval=10, sleep=sleep
    )
    changes: list[object] = []
    with pytest.raises(StopPolling):
        async for change in backend.changes():
            changes.append(change)
    await backend.aclose()
    # poll 1; 10 s; poll 2 (2 left, reset in 45 s); 10 s; wait the remaining 35 s; poll 3; 10 s.
    assert sleeps == [10, 10, 35, 10]
    assert [p - polls[0] for p in polls] == [0, 10, 55]
    assert len(changes) == 1 and isinstance(changes[0], OfferUpdated)
    offer = changes[0].offer
    assert offer.id == "mt_1" and offer.deadline is not None and offer.facts["creatorTeam"] == "Owls"


async def test_a_live_profile_talks_to_its_base_url_and_polls(monkeypatch, tmp_path) -> None:
    from lobby.config import config_file
    from lobby.config_schema import Settings
    from lobby.core.backend import OfferBackend
    from lobby.cli.profiles import open_teambattles as open_backend

    config = config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('profile = "real"\n[profiles.real]\nkind = "live"\n')
    monkeypatch.setenv("TEAMBATTLES_API_KEY", CANARY)
    backend = open_backend(Settings.load())
    try:
        assert isinstance(backend, OfferBackend)
        assert backend.client.base_url == "https://teambattles.gg/api/v1"
        assert backend.feed_url is None and backend.requests.profile == "real"
        assert CANARY not in repr(backend)
    finally:
        await backend.aclose()
