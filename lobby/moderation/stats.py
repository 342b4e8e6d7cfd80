"""Live figures over a sliding window: what the moderator's header shows.

The board records facts as they happen (an acceptance round ended, a ticket found a match, an
item finished) with the event's time; :meth:`Stats.snapshot` counts those inside the window
ending now. Queue depth is sampled into fixed buckets for a sparkline. Plain Python, no I/O.

The counts and the sorted waits are kept up to date as facts come in and leave the window, so a
snapshot (the header takes one twice a second) costs the same with ten thousand facts in the
window as with ten: it only takes out the few facts newer than now.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sortedcontainers import SortedList

from lobby.flexmatch.lifecycle import AcceptanceOutcome

T = TypeVar("T")


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(frozen=True)
class Snapshot:
    """The figures at one moment."""

    window: float
    #: Live items by status (current counts, not windowed).
    live: dict[str, int]
    #: Items that reached a final status inside the window, by status.
    finished: dict[str, int]
    accepted: int
    rejected: int
    timed_out: int
    #: Seconds from a ticket's start to its first match, inside the window.
    median_to_match: float | None
    p95_to_match: float | None
    matched: int
    #: Queue depth, oldest sample first, one per bucket of the window.
    queue: tuple[int, ...] = field(default=())

    @property
    def rounds(self) -> int:
        return self.accepted + self.rejected + self.timed_out

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted rounds over rounds that ended, inside the window; None without any."""
        return self.accepted / self.rounds if self.rounds else None


class Stats:
    """Windowed facts. Times are epoch seconds; ``now`` comes from the caller's clock."""

    def __init__(self, window: float = 300.0, buckets: int = 60) -> None:
        if window <= 0 or buckets <= 0:
            raise ValueError("the window and its buckets must be positive")
        self.window = float(window)
        self.step = self.window / buckets
        self._rounds: deque[tuple[float, str]] = deque()
        self._to_match: deque[tuple[float, float]] = deque()
        self._finished: deque[tuple[float, str]] = deque()
        self._depth: deque[tuple[int, int]] = deque(maxlen=buckets)
        self._buckets = buckets
        #: What the three deques above hold, kept as facts come and go: outcomes of rounds,
        #: the waits to a match (sorted), and finished items by status.
        self._outcomes: Counter[str] = Counter()
        self._waits: SortedList = SortedList()
        self._ended: Counter[str] = Counter()

    # --- recording ---------------------------------------------------------------------------

    @staticmethod
    def _add(queue: deque[tuple[float, T]], item: tuple[float, T]) -> None:
        # Events arrive nearly in time order; keep the deque sorted for cheap pruning.
        if not queue or queue[-1][0] <= item[0]:
            queue.append(item)
            return
        index = len(queue)
        while index > 0 and queue[index - 1][0] > item[0]:
            index -= 1
        queue.insert(index, item)

    def round_ended(self, when: float, outcome: str) -> None:
        self._add(self._rounds, (when, outcome))
        self._outcomes[outcome] += 1

    def matched(self, when: float, seconds: float) -> None:
        wait = max(0.0, seconds)
        self._add(self._to_match, (when, wait))
        self._waits.add(wait)

    def finished(self, when: float, status: str) -> None:
        self._add(self._finished, (when, status))
        self._ended[status] += 1

    def sample_depth(self, now: float, depth: int) -> None:
        """Record the queue depth for the bucket holding ``now`` (buckets skipped in between
        repeat the last depth known)."""
        bucket = int(now // self.step)
        if self._depth and self._depth[-1][0] >= bucket:
            if self._depth[-1][0] == bucket:
                self._depth[-1] = (bucket, depth)
            return
        if self._depth:
            last_bucket, last_depth = self._depth[-1]
            for missing in range(max(last_bucket + 1, bucket - self._buckets + 1), bucket):
                self._depth.append((missing, last_depth))
        self._depth.append((bucket, depth))

    # --- reading -----------------------------------------------------------------------------

    def _prune(self, now: float) -> None:
        start = now - self.window
        rounds, to_match, ended = self._rounds, self._to_match, self._finished
        while rounds and rounds[0][0] < start:
            _uncount(self._outcomes, rounds.popleft()[1])
        while to_match and to_match[0][0] < start:
            self._waits.remove(to_match.popleft()[1])
        while ended and ended[0][0] < start:
            _uncount(self._ended, ended.popleft()[1])

    def snapshot(self, now: float, live: Counter[str] | dict[str, int]) -> Snapshot:
        self._prune(now)
        # The facts inside the window ending now: all those kept, but any newer than now.
        outcomes = self._outcomes.copy()
        for _, outcome in _newer(self._rounds, now):
            _uncount(outcomes, outcome)
        finished = self._ended.copy()
        for _, status in _newer(self._finished, now):
            _uncount(finished, status)
        waits = self._waits
        later = [wait for _, wait in _newer(self._to_match, now)]
        for wait in later:
            waits.remove(wait)
        median, p95, matched = percentile(waits, 0.5), percentile(waits, 0.95), len(waits)
        waits.update(later)
        first_bucket = int(now // self.step) - self._buckets + 1
        queue = tuple(d for b, d in self._depth if b >= first_bucket)
        return Snapshot(
            window=self.window,
            live={k: v for k, v in live.items() if v},
            finished=dict(finished),
            accepted=outcomes[AcceptanceOutcome.ACCEPTED],
            rejected=outcomes[AcceptanceOutcome.REJECTED],
            timed_out=outcomes[AcceptanceOutcome.TIMED_OUT],
            median_to_match=median,
            p95_to_match=p95,
            matched=matched,
            queue=queue,
        )


def _uncount(counts: Counter[str], key: str) -> None:
    """One ``key`` fewer (none left: not a key any more, as a Counter built afresh would have it)."""
    left = counts[key] - 1
    if left > 0:
        counts[key] = left
    else:
        del counts[key]


def _newer(facts: deque[tuple[float, T]], now: float) -> Iterator[tuple[float, T]]:
    """The facts later than ``now``, newest first (the deque is in time order)."""
    for fact in reversed(facts):
        if fact[0] <= now:
            return
        yield fact
