"""Where the moderator's rows are kept: rows by key, each row's timeline, the live count per
status, the keys changed since the screen last looked, and the windowed figures.

Every change to a row goes through here, so the counts, the timelines and the figures agree
with the rows. What an event means for a row is the business of :mod:`.tickets` (FlexMatch)
and :mod:`.matches` (TeamBattles). Plain Python, no I/O.
"""

from __future__ import annotations

import bisect
from collections import Counter, OrderedDict

from lobby.moderation.events import ModEvent
from lobby.moderation.rows import INITIAL_STATUS, WAITING, Key, Row, TimelineEntry, is_final
from lobby.moderation.stats import Snapshot, Stats

#: One line of a timeline as kept: the fields of a :class:`TimelineEntry`.
_Line = tuple[float, str, str, str]


def _time_of(line: _Line) -> float:
    return line[0]


class Ledger:
    """Rows, timelines, live counts and figures."""

    def __init__(
        self,
        *,
        window: float = 300.0,
        keep_finished: float = 300.0,
        max_finished: int = 5000,
        timeline_limit: int = 200,
    ) -> None:
        self.rows: dict[Key, Row] = {}
        self.stats = Stats(window)
        self.keep_finished = keep_finished
        self.max_finished = max_finished
        self.timeline_limit = timeline_limit
        #: Each row's timeline as plain tuples (time, uid, type, text): a tuple of plain values
        #: is dropped from the garbage collector's watch, a named tuple never is, and a busy
        #: board holds hundreds of thousands of lines.
        self._timelines: dict[Key, list[_Line]] = {}
        self._finished: OrderedDict[Key, float] = OrderedDict()
        #: Live rows by status.
        self.live_counts: Counter[str] = Counter()
        #: Rows per AWS region ("" for rows of no known region), every row counted.
        self.regions: Counter[str] = Counter()
        #: Keys changed since the last :meth:`drain`.
        self.changed: set[Key] = set()
        #: Grows whenever anything changes (rows added, changed or dropped).
        self.generation = 0

    # --- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: Key) -> Row | None:
        return self.rows.get(key)

    def timeline(self, key: Key) -> list[TimelineEntry]:
        return [TimelineEntry._make(line) for line in self._timelines.get(key, ())]

    @property
    def queue_depth(self) -> int:
        return sum(self.live_counts[s] for s in WAITING)

    def snapshot(self, now: float) -> Snapshot:
        self.stats.sample_depth(now, self.queue_depth)
        return self.stats.snapshot(now, self.live_counts)

    def drain(self) -> set[Key]:
        """The keys changed since the last call (rows dropped by :meth:`prune` included)."""
        changed, self.changed = self.changed, set()
        return changed

    # --- keeping ------------------------------------------------------------------------------

    def drop_finished(self, now: float) -> list[Row]:
        """Forget finished rows older than ``keep_finished`` (and the oldest beyond
        ``max_finished``); return the rows that went."""
        gone: list[Row] = []
        horizon = now - self.keep_finished
        while self._finished:
            key, when = next(iter(self._finished.items()))
            if when >= horizon and len(self._finished) <= self.max_finished:
                break
            self._finished.popitem(last=False)
            row = self.rows.pop(key, None)
            self._timelines.pop(key, None)
            if row is not None:
                self._uncount_region(row.region)
                gone.append(row)
                self.changed.add(key)
        if gone:
            self.generation += 1
        return gone

    def row(self, kind: str, item_id: str, created: float) -> Row:
        key = (kind, item_id)
        row = self.rows.get(key)
        if row is None:
            initial = INITIAL_STATUS[kind]
            row = Row(kind=kind, id=item_id, status=initial, created=created, status_since=created)
            self.rows[row.key] = row  # its key holds the kind as plain text
            self.live_counts[initial] += 1
            self.regions[""] += 1
        return row

    def place(self, row: Row, region: str | None) -> None:
        """``row``'s events come from ``region``: the first region named stays."""
        if region and not row.region:
            self._uncount_region("")
            row.region = region
            self.regions[region] += 1

    def _uncount_region(self, region: str) -> None:
        self.regions[region] -= 1
        if self.regions[region] <= 0:
            del self.regions[region]

    @property
    def region_names(self) -> list[str]:
        """The AWS regions of the rows, sorted ("" not included)."""
        return sorted(r for r in self.regions if r)

    def note(self, row: Row, event: ModEvent, text: str) -> None:
        """What ``event`` did to ``row``: a line on its timeline, and the row marked changed."""
        row.version += 1
        self.changed.add(row.key)
        entries = self._timelines.get(row.key)
        if entries is None:
            entries = self._timelines[row.key] = []
        entry = (event.time, event.uid, event.type, text)
        if not entries or entries[-1][0] <= entry[0]:
            entries.append(entry)
        else:
            bisect.insort(entries, entry, key=_time_of)
        if len(entries) > self.timeline_limit:
            del entries[: len(entries) - self.timeline_limit]

    def set_status(self, row: Row, status: str, when: float, *, provisional: bool = False) -> None:
        """Move ``row`` to ``status`` at ``when``, unless that would go back in time or leave
        a confirmed final status."""
        if not row.live and not row.provisional:
            return  # a finished item never changes again
        if when < row.status_since:
            return  # a late event: the row already moved past it
        if row.status == status and (provisional or not row.provisional):
            return
        self.moved(row, status, when, provisional=provisional)

    def moved(self, row: Row, status: str, when: float, *, provisional: bool = False) -> None:
        """``row`` is in ``status`` since ``when`` (whether it may be is the caller's to
        decide): count it there, and as finished once its final status is confirmed."""
        final = is_final(row.kind, status)
        if row.status == status:
            if row.provisional and not provisional:
                row.provisional = False
                if final:
                    self.stats.finished(row.finished_at or when, status)
            return
        old_live = row.live
        if old_live:
            self.live_counts[row.status] -= 1
            if self.live_counts[row.status] <= 0:
                del self.live_counts[row.status]
        row.status = status
        row.status_since = when
        row.provisional = provisional and final
        if final:
            row.finished_at = when
            row.deadline = None
            self._finished[row.key] = when
            self._finished.move_to_end(row.key)
            if not provisional:
                self.stats.finished(when, status)
        else:
            if not old_live:
                self._finished.pop(row.key, None)
                row.finished_at = None
            self.live_counts[status] += 1
