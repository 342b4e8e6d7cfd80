"""Several feeds as one: queues and topics of several AWS regions on one board.

:class:`MergedSource` reads every feed at once and hands their batches on, whole, in the order
they arrive. Each feed keeps its own pace and its own promise: a feed is asked for its next
batch only once the board applied its previous one (so an SQS feed still deletes messages only
after their events were applied, see :mod:`~lobby.moderation.sources`). The same event arriving
on two feeds (a queue and a topic both carrying it) is applied once: the board deduplicates by
event id.

Each feed tags what it reads with its region (:attr:`~lobby.moderation.events.ModEvent.region`,
where the event names none of its own), so the rows can be told apart and filtered by region.

All feeds share one list of rejected messages. A feed that fails is said once (a note of that
list) and the others go on; only when every feed has failed does the merged feed fail too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence

from lobby.core.backend import FeedState
from lobby.core.clock import Clock
from lobby.core.errors import BackendError
from lobby.moderation.rejects import RejectLog
from lobby.moderation.sources import Batch, ModerationSource

FEED_FAILED = "The feed {feed} stopped: {why} The other feeds go on."

#: States from the worst to the best: the merged feed shows the worst of its live feeds.
_WORST_FIRST = (FeedState.RECONNECTING, FeedState.CONNECTING, FeedState.LIVE, FeedState.CLOSED)


class MergedSource:
    """The events of several feeds, each applied once."""

    def __init__(self, sources: Sequence[ModerationSource]) -> None:
        if not sources:
            raise ValueError("a merged feed needs at least one feed")
        self.sources = list(sources)
        self.rejects = RejectLog()
        for source in self.sources:
            source.rejects = self.rejects
        self.description = f"{len(self.sources)} feeds: " + " · ".join(s.description for s in self.sources)
        #: Feeds that failed, by position, with the reason.
        self.failed: dict[int, str] = {}
        #: Events taken from each feed, by position.
        self.taken = [0] * len(self.sources)
        self._closed = False
        #: Merged feeds carry no stream ids of their own.
        self.last_event_id: int | None = None

    @property
    def clock(self) -> Clock | None:
        """The service's clock of the first feed that has one; None when this machine's is the one."""
        for source in self.sources:
            if source.clock is not None:
                return source.clock
        return None

    @property
    def state(self) -> FeedState:
        if self._closed:
            return FeedState.CLOSED
        states = {s.state for i, s in enumerate(self.sources) if i not in self.failed}
        for state in _WORST_FIRST:
            if state in states:
                return state
        return FeedState.CLOSED

    @state.setter
    def state(self, value: FeedState) -> None:
        self._closed = value is FeedState.CLOSED

    def __repr__(self) -> str:
        return f"MergedSource({self.sources!r})"

    async def batches(self) -> AsyncGenerator[Batch, None]:
        arrived: asyncio.Queue[tuple[int, Batch | BaseException | None]] = asyncio.Queue()
        applied = [asyncio.Event() for _ in self.sources]

        async def pump(index: int, source: ModerationSource) -> None:
            ack = applied[index]
            try:
                async with contextlib.aclosing(source.batches()) as stream:
                    async for batch in stream:
                        ack.clear()
                        arrived.put_nowait((index, batch))
                        await ack.wait()  # the board applied it: this feed may read on
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one feed's failure is said, the others go on
                arrived.put_nowait((index, exc))
                return
            arrived.put_nowait((index, None))

        pumps = [asyncio.create_task(pump(i, s), name=f"feed {i + 1}") for i, s in enumerate(self.sources)]
        running = len(pumps)
        first_error: BaseException | None = None
        try:
            while running:
                index, item = await arrived.get()
                if item is None or isinstance(item, BaseException):
                    running -= 1
                    if item is not None:
                        first_error = first_error or item
                        why = item.message if isinstance(item, BackendError) else f"{type(item).__name__}."
                        self.failed[index] = why
                        self.rejects.note(FEED_FAILED.format(feed=self.sources[index].description, why=why))
                    continue
                self.taken[index] += len(item)
                yield item
                applied[index].set()
            if first_error is not None and len(self.failed) == len(self.sources):
                raise first_error
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    async def aclose(self) -> None:
        self._closed = True
        for source in self.sources:
            with contextlib.suppress(Exception):
                await source.aclose()
