"""The emulator's health check says when it meters TeamBattles above the service's own rate
limits; the handshake carries that notice, and the TeamBattles feed hands each health check to
its caller: at the start, and again after each reconnect (an emulator restarted at the same
address with another scenario is described as it is now)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from lobby.core.backend import FeedState
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.net.stream import Handshake, handshake
from lobby.teambattles import feed

#: A guard against hangs only; nothing asserts on elapsed time.
HANG = 30


async def _start(config: EmulatorConfig, port: int = 0) -> EmulatorThread:
    return await asyncio.to_thread(EmulatorThread(config, port=port).start)


def _port(emu: EmulatorThread) -> int:
    return int(emu.url.rsplit(":", 1)[1])


async def _handshake(url: str) -> Handshake:
    async with httpx.AsyncClient() as http:
        return await handshake(http, url)


async def test_the_handshake_carries_the_notice_only_above_the_published_limits(raised_limits_scenario, emulator):
    assert (await _handshake(emulator.url)).raised_limits_notice is None
    with EmulatorThread(EmulatorConfig(scenario=raised_limits_scenario)) as raised:
        notice = (await _handshake(raised.url)).raised_limits_notice
    assert notice is not None and "(pro)" in notice and "load test" in notice


def _health(raised: object) -> httpx.MockTransport:
    body = {"lastEventId": 3, "time": 1_800_000_000.0, "instance": "i-1", "raisedRateLimits": raised}
    return httpx.MockTransport(lambda request: httpx.Response(200, json=body))


async def test_a_notice_that_is_not_a_sentence_is_no_notice():
    for raised in (None, "raised", {"notice": 7}, {"notice": "  "}, {"reason": "load test"}, [1]):
        async with httpx.AsyncClient(transport=_health(raised)) as http:
            found = await handshake(http, "http://emulator.test")
        assert found.raised_limits_notice is None, raised
        assert found.last_event_id == 3 and found.instance == "i-1"
    async with httpx.AsyncClient(transport=_health({"notice": "limits \x1b[31mraised"})) as http:
        found = await handshake(http, "http://emulator.test")
    assert found.raised_limits_notice == "limits \x1b[31mraised"  # as sent: cleaned where shown


async def test_follow_hands_over_the_health_check_again_after_a_reconnect(
    tmp_path: Path, raised_limits_scenario: Path
) -> None:
    first = await _start(EmulatorConfig(db=str(tmp_path / "a.db")))
    emus = [first]
    said: list[str | None] = []
    states: list[FeedState] = []

    async def nothing() -> None:
        pass

    def told(found: Handshake) -> None:
        said.append(found.raised_limits_notice)

    events = feed.follow(first.url, before=nothing, on_state=states.append, on_handshake=told)
    reader = asyncio.ensure_future(anext(events))
    try:
        async with asyncio.timeout(HANG):
            while FeedState.LIVE not in states:
                await asyncio.sleep(0.02)
            assert said == [None]  # the published limits, told at the start

            await asyncio.to_thread(first.stop)
            second = await _start(
                EmulatorConfig(db=str(tmp_path / "b.db"), scenario=raised_limits_scenario), _port(first)
            )
            emus.append(second)
            while len(said) < 2:
                await asyncio.sleep(0.02)
        assert said[1] is not None and "load test" in said[1]
        assert states[-1] is FeedState.LIVE and FeedState.RECONNECTING in states
    finally:
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await events.aclose()
        for emu in emus[1:]:
            await asyncio.to_thread(emu.stop)
