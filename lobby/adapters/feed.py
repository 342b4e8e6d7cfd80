"""A change feed read from the emulator's Server-Sent Events stream.

It reconnects by itself with ``Last-Event-ID`` and drops any event whose id it has already
passed, so a consumer sees every event exactly once, in order, across drops and restarts of
the server. Its state ("connecting", "live", "reconnecting") is reported to a callback.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse


class FeedState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class FeedEvent:
    id: int
    type: str
    data: dict[str, Any]


class EventFeed:
    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        *,
        sources: list[str] | None = None,
        last_event_id: int = 0,
        on_state: Callable[[FeedState], None] | None = None,
        max_backoff: float = 5.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._url = url.rstrip("/") + "/_emulator/events"
        self._params = {"source": ",".join(sources)} if sources else {}
        self.last_event_id = last_event_id
        self._on_state = on_state
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._rng = random.Random()
        self.state = FeedState.CONNECTING
        self.reconnects = 0

    def _set_state(self, state: FeedState) -> None:
        if state is not self.state:
            self.state = state
            if self._on_state is not None:
                self._on_state(state)

    async def __aiter__(self) -> AsyncIterator[FeedEvent]:
        failures = 0
        try:
            while True:
                headers = {"Last-Event-ID": str(self.last_event_id)} if self.last_event_id else {}
                try:
                    async with aconnect_sse(
                        self._client, "GET", self._url, params=self._params, headers=headers
                    ) as source:
                        source.response.raise_for_status()
                        self._set_state(FeedState.LIVE)
                        failures = 0
                        async for sse in source.aiter_sse():
                            if not sse.id or not sse.data:
                                continue
                            try:
                                event_id = int(sse.id)
                            except ValueError:
                                continue
                            if event_id <= self.last_event_id:
                                continue  # already delivered before a reconnect
                            self.last_event_id = event_id
                            yield FeedEvent(event_id, sse.event, json.loads(sse.data))
                except (httpx.HTTPError, SSEError, json.JSONDecodeError):
                    pass
                # The stream ended or failed: back off (jittered, capped) and resume.
                failures += 1
                self.reconnects += 1
                self._set_state(FeedState.RECONNECTING)
                await self._sleep(self._rng.uniform(0.5, 1.0) * min(0.25 * 2 ** (failures - 1), self._max_backoff))
        finally:
            self._set_state(FeedState.CLOSED)
