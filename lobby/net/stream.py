"""A change feed read from the emulator's Server-Sent Events stream.

It reconnects by itself with ``Last-Event-ID`` and drops any event whose id it has already
passed, so a consumer sees every event exactly once, in order, across drops and restarts of
the server. Its state ("connecting", "live", "reconnecting") is reported to a callback.

Event ids count within one database *instance* of the emulator, named by the health check and
by every stream answer (``X-Emulator-Instance``). The feed sends the instance it follows when
it resumes; an emulator restarted on another database then sends its events from the first,
and the feed, seeing the new instance, starts counting afresh (``resyncs`` counts these, and
``on_resync`` is told) instead of skipping the new instance's first events as already seen.

A stream that cannot work however often it is retried (wrong URL, refused filter, no access)
raises a :class:`~lobby.core.errors.BackendError` instead of reconnecting forever.

Iterate it inside ``contextlib.aclosing(feed.events())`` when you may stop early, so the
connection is closed at once rather than when the generator is collected.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse

from lobby.core.backend import FeedState
from lobby.core.events import EVENTS_PATH, HEALTH_PATH, INSTANCE_HEADER
from lobby.core.errors import (
    BackendError,
    InvalidRequest,
    NotConfigured,
    PermissionDenied,
    Unavailable,
)


@dataclass(frozen=True, slots=True)
class FeedEvent:
    id: int
    type: str
    data: dict[str, Any]


#: The emulator sends a comment at least this often on an idle stream.
KEEPALIVE_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class Handshake:
    """What an emulator's health check says before following its stream."""

    #: The newest event id: following from here misses nothing that happens afterwards.
    last_event_id: int
    #: The emulator's clock, in Unix seconds, when it answered.
    server_time: float
    #: Server time minus this machine's, the server having read its clock halfway through.
    skew: float
    #: The database instance the event ids count in (None from an emulator that does not say).
    instance: str | None = None
    #: The emulator's one line saying it meters TeamBattles above the service's own rate limits
    #: (None at the published limits). Network text: clean it where it is shown.
    raised_limits_notice: str | None = None


class NotAnEmulator(ValueError):
    """The health route answered, but not as a lobby emulator does."""


async def handshake(http: httpx.AsyncClient, base_url: str) -> Handshake:
    """Ask the emulator at ``base_url`` for its newest event id and its clock.

    Raises :class:`httpx.HTTPError` when it cannot be reached, :class:`httpx.HTTPStatusError`
    when it answers with an error status, and :class:`NotAnEmulator` when the answer is not a
    health check's."""
    sent = time.time()
    response = await http.get(base_url.rstrip("/") + HEALTH_PATH)
    response.raise_for_status()
    try:
        body = response.json()
        last, server_time = int(body["lastEventId"]), float(body["time"])
        instance = body.get("instance")
        raised = body.get("raisedRateLimits")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise NotAnEmulator(f"{base_url} is not a lobby emulator's health check.") from None
    notice = raised.get("notice") if isinstance(raised, dict) else None
    return Handshake(
        last,
        server_time,
        server_time - (sent + time.time()) / 2,
        instance if isinstance(instance, str) else None,
        notice if isinstance(notice, str) and notice.strip() else None,
    )


#: How long the health check asked again on a reconnect may take before it is given up.
HANDSHAKE_TIMEOUT = 10.0


def _refusal(response: httpx.Response, url: str) -> BackendError | None:
    """A typed error for an answer that reconnecting cannot fix; None if it is worth retrying."""
    status = response.status_code
    if status >= 500 or status in (408, 429):
        return None
    if status in (401, 403):
        return PermissionDenied(f"The event stream at {url} refused access (HTTP {status}).", status=status)
    if status == 404:
        return NotConfigured(
            f"There is no event stream at {url}; check the feed URL of the profile.", status=status
        )
    if status >= 400:
        detail = ""
        try:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("details"), str):
                detail = " " + body["details"]
        except ValueError:
            pass
        return InvalidRequest(f"The event stream at {url} refused the request (HTTP {status}).{detail}", status=status)
    return None


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
        read_timeout: float = 3 * KEEPALIVE_SECONDS,
        max_reconnects: int | None = None,
        instance: str | None = None,
        on_resync: Callable[[str], None] | None = None,
        on_handshake: Callable[[Handshake], None] | None = None,
        handshake_known: bool = True,
    ) -> None:
        self._client = client
        self._base_url = url
        self._url = url.rstrip("/") + EVENTS_PATH
        self._params = {"source": ",".join(sources)} if sources else {}
        self.last_event_id = last_event_id
        self._on_state = on_state
        self._max_backoff = max_backoff
        self._sleep = sleep
        # A silent stream longer than a few keep-alive periods is a dead connection.
        self._timeout = httpx.Timeout(10.0, read=read_timeout)
        self._rng = random.Random()
        #: Give up (Unavailable) after this many reconnects in a row without getting through;
        #: None reconnects forever.
        self._max_reconnects = max_reconnects
        #: The database instance ``last_event_id`` counts in (None: not known yet).
        self.instance = instance
        self._on_resync = on_resync
        #: Told the health check again each time the stream connects after a drop (and at the
        #: first connection when ``handshake_known`` is False), so what it says stays current.
        self._on_handshake = on_handshake
        self._handshake_due = not handshake_known
        #: How often the emulator turned out to be another database, and the count restarted.
        self.resyncs = 0
        self.state = FeedState.CONNECTING
        self.reconnects = 0
        #: Events whose data was not JSON; they are skipped, not retried forever.
        self.skipped = 0

    @property
    def url(self) -> str:
        return self._url

    def _set_state(self, state: FeedState) -> None:
        if state is not self.state:
            self.state = state
            if self._on_state is not None:
                self._on_state(state)

    def _follow(self, instance: str | None) -> None:
        """Note the instance the stream comes from; another than the one followed so far means
        the ids count afresh (the emulator sent this stream from its first event)."""
        if instance is None or instance == self.instance:
            return
        if self.instance is not None:
            self.resyncs += 1
            self.last_event_id = 0
            if self._on_resync is not None:
                self._on_resync(instance)
        self.instance = instance

    async def _handshake_again(self) -> None:
        """Ask the health check again and tell ``on_handshake``; an emulator that does not
        answer it now keeps what it said before."""
        if self._on_handshake is None or not self._handshake_due:
            return
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                found = await handshake(self._client, self._base_url)
        except (httpx.HTTPError, NotAnEmulator, TimeoutError):
            return
        self._handshake_due = False
        self._on_handshake(found)

    def events(self) -> AsyncGenerator[FeedEvent, None]:
        """The events, forever; same as iterating the feed itself."""
        return self.__aiter__()

    async def __aiter__(self) -> AsyncGenerator[FeedEvent, None]:
        failures = 0
        try:
            while True:
                headers = {"Last-Event-ID": str(self.last_event_id)} if self.last_event_id else {}
                if self.instance is not None:
                    headers[INSTANCE_HEADER] = self.instance
                try:
                    async with aconnect_sse(
                        self._client,
                        "GET",
                        self._url,
                        params=self._params,
                        headers=headers,
                        timeout=self._timeout,
                    ) as source:
                        if source.response.status_code >= 400:
                            await source.response.aread()
                            refusal = _refusal(source.response, self._url)
                            if refusal is not None:
                                raise refusal
                        source.response.raise_for_status()
                        self._follow(source.response.headers.get(INSTANCE_HEADER))
                        await self._handshake_again()
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
                            try:
                                data = json.loads(sse.data)
                            except json.JSONDecodeError:
                                self.skipped += 1
                                continue
                            if not isinstance(data, dict):
                                self.skipped += 1
                                continue
                            yield FeedEvent(event_id, sse.event, data)
                except (httpx.HTTPError, SSEError):
                    pass
                # The stream ended or failed: back off (jittered, capped) and resume.
                failures += 1
                self._handshake_due = True
                if self._max_reconnects is not None and failures > self._max_reconnects:
                    raise Unavailable(f"The event stream at {self._url} keeps failing; is the emulator running?")
                self.reconnects += 1
                self._set_state(FeedState.RECONNECTING)
                await self._sleep(
                    self._rng.uniform(0.5, 1.0) * min(0.25 * 2 ** (failures - 1), self._max_backoff)
                )
        finally:
            self._set_state(FeedState.CLOSED)
