"""Idempotency-Key: a replay answers the stored response byte for byte, a different body is a
409, concurrent duplicates execute once, records last 24 hours."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from teambattles_helpers import (
    OWLS_ACTIVE,
    TB,
    VIPERS_HP,
    YOU,
    YOU_STUDIO,
    advance,
    error_of,
    events,
    owls_accept,
)


@pytest.fixture
def tb(emulator) -> Iterator[TB]:
    client = TB(emulator.url)
    yield client
    client.close()


def created(url: str) -> list[str]:
    return [
        p["data"]["acceptance"]["id"] for e, p in events(url) if e == "emulator.acceptance.created"
    ]


def test_same_key_same_body_replays_the_stored_answer(tb, emulator):
    key = {"Idempotency-Key": "accept-1"}
    first = tb.accept(VIPERS_HP, owls_accept(), headers=key)
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    again = tb.accept(VIPERS_HP, owls_accept(), headers=key)
    assert again.status_code == 200
    assert again.content == first.content  # byte for byte, timestamp included
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert created(emulator.url) == [first.json()["acceptanceId"]]
    # The same JSON with its keys in another order is the same body.
    reordered = json.dumps(dict(reversed(list(owls_accept().items()))))
    r = tb.call(
        "POST",
        "/matches/{matchId}/accept",
        matchId=VIPERS_HP,
        content=reordered,
        headers={**key, "Content-Type": "application/json"},
    )
    assert r.content == first.content


def test_same_key_different_body_is_a_conflict(tb):
    key = {"Idempotency-Key": "accept-2"}
    assert tb.accept(VIPERS_HP, owls_accept(), headers=key).status_code == 200
    r = tb.accept(VIPERS_HP, owls_accept(message="changed my mind"), headers=key)
    assert (r.status_code, error_of(r)) == (409, "error_idempotency_key_conflict")


def test_records_are_per_api_key_and_route(tb, emulator):
    key = {"Idempotency-Key": "shared-key"}
    a = tb.accept(VIPERS_HP, owls_accept(), headers=key)
    b = tb.accept("tbm_vipers_snd", owls_accept(), headers=key)  # another route: runs
    assert b.status_code == 200 and b.json()["acceptanceId"] != a.json()["acceptanceId"]
    c = tb.as_(YOU_STUDIO).accept(VIPERS_HP, owls_accept(), headers=key)  # another key: runs
    assert (c.status_code, error_of(c)) == (409, "error_acceptance_already_pending")
    assert len(created(emulator.url)) == 2


def test_without_the_header_nothing_is_deduplicated(tb):
    assert tb.accept(VIPERS_HP, owls_accept()).status_code == 200
    r = tb.accept(VIPERS_HP, owls_accept())
    assert error_of(r) == "error_acceptance_already_pending"


def test_a_refused_request_is_not_recorded(tb):
    key = {"Idempotency-Key": "fix-and-retry"}
    r = tb.accept(VIPERS_HP, owls_accept(activeRoster=OWLS_ACTIVE[:2]), headers=key)
    assert r.status_code == 400
    assert tb.accept(VIPERS_HP, owls_accept(), headers=key).status_code == 200


@pytest.mark.parametrize("value", ["", "x" * 256, "naïve".encode(), "has space"])
def test_a_malformed_key_is_refused(tb, value):
    r = tb.accept(VIPERS_HP, owls_accept(), headers={"Idempotency-Key": value})
    assert (r.status_code, error_of(r)) == (400, "error_validation_failed")


def test_every_write_route_takes_the_header(tb):
    key = {"Idempotency-Key": "create-1"}
    body = {
        "teamId": "t_owls",
        "gameId": "gm_skyline",
        "gameModeId": "control",
        "matchType": "XP_ONLY",
        "mapSelectionType": "FLEX",
        "mapPreferenceMode": "PREFERRED",
        "teamSize": 4,
        "bestOf": 1,
        "activeRoster": OWLS_ACTIVE,
        "scheduledAt": (time.time() + 3 * 86400) * 1000,
    }
    first = tb.post("/matches/create", body, headers=key)
    assert tb.post("/matches/create", body, headers=key).content == first.content
    match_id = first.json()["matchId"]
    for path, again in (("/matches/{matchId}/publish", None), ("/matches/{matchId}/cancel", {})):
        one = tb.post(path, again, matchId=match_id, headers={"Idempotency-Key": path})
        two = tb.post(path, again, matchId=match_id, headers={"Idempotency-Key": path})
        assert one.status_code == 200 and two.content == one.content


def test_records_expire_after_a_day(tb):
    key = {"Idempotency-Key": "daily"}
    body = {
        "teamId": "t_owls",
        "gameId": "gm_skyline",
        "gameModeId": "control",
        "matchType": "XP_ONLY",
        "mapSelectionType": "FLEX",
        "mapPreferenceMode": "PREFERRED",
        "teamSize": 4,
        "bestOf": 1,
        "activeRoster": OWLS_ACTIVE,
        "scheduledAt": (time.time() + 5 * 86400) * 1000,
    }
    first = tb.post("/matches/create", body, headers=key).json()["matchId"]
    advance(tb.base, 23 * 3600)
    assert tb.post("/matches/create", body, headers=key).json()["matchId"] == first
    advance(tb.base, 3600 + 1)
    assert tb.post("/matches/create", body, headers=key).json()["matchId"] != first


def test_concurrent_duplicates_execute_once_threads(emulator):
    n = 8
    barrier = threading.Barrier(n)
    answers: list[httpx.Response] = []
    lock = threading.Lock()
    body = json.dumps(owls_accept()).encode()

    def send() -> None:
        with httpx.Client(timeout=10) as client:
            barrier.wait()
            r = client.post(
                f"{emulator.url}/api/v1/matches/{VIPERS_HP}/accept",
                content=body,
                headers={
                    "Authorization": f"Bearer {YOU}",
                    "Idempotency-Key": "race",
                    "Content-Type": "application/json",
                },
            )
        with lock:
            answers.append(r)

    threads = [threading.Thread(target=send) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in answers] == [200] * n
    assert len({r.content for r in answers}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == n - 1
    assert len(created(emulator.url)) == 1


async def test_concurrent_duplicates_execute_once_asyncio(emulator):
    headers = {"Authorization": f"Bearer {YOU}", "Idempotency-Key": "race-async"}
    async with httpx.AsyncClient(base_url=emulator.url + "/api/v1", timeout=10) as client:
        answers = await asyncio.gather(
            *(
                client.post(f"/matches/{VIPERS_HP}/accept", json=owls_accept(), headers=headers)
                for _ in range(10)
            )
        )
    assert {r.status_code for r in answers} == {200}
    assert len({r.json()["acceptanceId"] for r in answers}) == 1
    assert len(created(emulator.url)) == 1
