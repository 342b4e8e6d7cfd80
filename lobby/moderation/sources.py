"""Where a moderator's events come from.

Every source yields batches of :class:`~.events.ModEvent` s (what one read of its carrier
handed over) and reports its state (``connecting``, ``live``, ``reconnecting``, ``closed``) in
:attr:`state`, which the screen reads each frame:

- :class:`EmulatorSource`: the emulator's event stream from its first event (the whole life of
  every ticket and match), resuming with ``Last-Event-ID`` after a drop;
- :class:`~.sqs.SqsSource`: an SQS queue receiving the FlexMatch notifications (real AWS);
- :class:`ReplaySource`: recorded events, for tests and benchmarks.

A source yields a batch only once the consumer asks for the next one, so "asked for the next
batch" means "applied every event of the previous one": the SQS source deletes messages on that
signal. A batch is never empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import httpx

from lobby.core.clock import Clock, SystemClock
from lobby.moderation.events import ModEvent
from lobby.moderation.rejects import RejectLog, read_event
from lobby.core.backend import FeedState
from lobby.net.stream import EventFeed, NotAnEmulator, handshake

#: What a source hands over at a time: the events one read of its carrier gave.
Batch = Sequence[ModEvent]
#: The most events a recording hands over at a time (a few milliseconds of reading).
REPLAY_BATCH = 100

@runtime_checkable
class ModerationSource(Protocol):
    """Events for the moderator's board, and where their feed stands."""

    #: Who the events come from, in a few words ("emulator at http://127.0.0.1:8000").
    description: str
    #: Where the feed stands; the screen reads it every frame.
    state: FeedState
    #: Messages that held no readable event: counted and listed, never fatal.
    rejects: RejectLog

    @property
    def last_event_id(self) -> int | None:
        """The last event id read, which a reconnect resumes after; None for a source
        without such ids."""
        ...

    @property
    def clock(self) -> Clock | None:
        """The time of the events' own service (the emulator's, which tests may move
        forward), or None when this machine's clock is the one."""
        ...

    def batches(self) -> AsyncGenerator[Batch, None]:
        """The events, a batch at a time, each batch yielded once every event of the
        previous one was applied."""
        ...

    async def aclose(self) -> None: ...


class EmulatorSource:
    """The emulator's event stream, every source, from the first event."""

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        last_event_id: int = 0,
        max_backoff: float = 5.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_reconnects: int | None = None,
        read_timeout: float | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.description = f"emulator at {self.url}"
        self.state = FeedState.CONNECTING
        self.last_event_id: int = last_event_id
        self.skipped = 0
        self.rejects = RejectLog()
        self._transport = transport
        self._max_backoff = max_backoff
        self._sleep = sleep
        self._max_reconnects = max_reconnects
        self._read_timeout = read_timeout
        self.reconnects = 0
        #: This machine's clock corrected to the emulator's (which tests may move forward).
        self.clock = SystemClock()

    async def _measure_skew(self, http: httpx.AsyncClient) -> None:
        """Read the emulator's time from its health check; the skew corrects countdowns."""
        try:
            self.clock.skew = (await handshake(http, self.url)).skew
        except (httpx.HTTPError, NotAnEmulator):
            return

    def _set_state(self, state: FeedState) -> None:
        self.state = state

    async def batches(self) -> AsyncGenerator[Batch, None]:
        """One event at a time: the stream's events as they arrive."""
        options: dict[str, Any] = {}
        if self._read_timeout is not None:
            options["read_timeout"] = self._read_timeout
        async with httpx.AsyncClient(transport=self._transport, timeout=httpx.Timeout(10.0)) as http:
            await self._measure_skew(http)
            feed = EventFeed(
                http,
                self.url,
                last_event_id=self.last_event_id,
                on_state=self._set_state,
                max_backoff=self._max_backoff,
                sleep=self._sleep,
                max_reconnects=self._max_reconnects,
                **options,
            )
            try:
                async with contextlib.aclosing(feed.events()) as stream:
                    async for item in stream:
                        self.last_event_id = item.id
                        event = read_event(
                            item.data,
                            message_id=f"event {item.id}",
                            rejects=self.rejects,
                            fallback_id=f"emulator:{item.id}",
                            received=time.time(),
                        )
                        if event is None:
                            self.skipped += 1
                            continue
                        yield (event,)
            finally:
                self.reconnects = feed.reconnects

    async def aclose(self) -> None:
        self.state = FeedState.CLOSED


class ReplaySource:
    """Events given up front (payloads as any carrier delivers them, or ModEvents).

    ``pace`` (events per second) spreads them out; ``hold`` keeps the source open, live, after
    the last one, as a real feed would be. :attr:`drained` is set once every event was taken.
    """

    def __init__(
        self,
        items: Iterable[ModEvent | dict[str, Any] | str],
        *,
        description: str = "recorded events",
        pace: float | None = None,
        hold: bool = True,
        state: FeedState = FeedState.LIVE,
    ) -> None:
        self.items = list(items)
        self.description = description
        self.state = state
        #: Recorded events carry no stream ids, and their times are read by this machine's clock.
        self.last_event_id: int | None = None
        self.clock: Clock | None = None
        self.pace = pace
        self.hold = hold
        self.drained = asyncio.Event()
        self.taken = 0
        self.rejects = RejectLog()

    async def batches(self) -> AsyncGenerator[Batch, None]:
        """What is due at each wake-up (every event when not paced), at most
        :data:`REPLAY_BATCH` at a time."""
        start = time.perf_counter()
        items, pace, rejects = self.items, self.pace, self.rejects
        n, count = 0, len(items)
        while n < count:
            if pace:
                delay = start + n / pace - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                due = int((time.perf_counter() - start) * pace) + 1  # items 0 .. due-1 are due
                end = min(count, n + REPLAY_BATCH, max(due, n + 1))
            else:
                end = min(count, n + REPLAY_BATCH)
            batch = []
            for index in range(n, end):
                item = items[index]
                if isinstance(item, ModEvent):
                    event: ModEvent | None = item
                else:
                    name, fallback = f"item {index + 1}", f"replay:{index}"
                    event = read_event(item, message_id=name, rejects=rejects, fallback_id=fallback)
                if event is not None:
                    batch.append(event)
            n = self.taken = end
            if batch:
                yield batch
        self.drained.set()
        if not self.hold:
            self.state = FeedState.CLOSED
            return
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        self.state = FeedState.CLOSED
