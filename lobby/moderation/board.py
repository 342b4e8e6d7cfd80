"""The moderator's board: every FlexMatch ticket and TeamBattles match, kept live from events.

Read-only: the board never calls a service; it folds events (:class:`~.events.ModEvent`) into
one :class:`~.rows.Row` per ticket or match, a timeline per row, and the windowed figures of
:class:`~.stats.Stats` (all kept by its :class:`~.ledger.Ledger`). Each event is applied once:
a second delivery with the same id (a feed that resumed, an SQS message received twice)
changes nothing.

Events may arrive late or out of order (SQS does not keep order): a status only moves forward
in time, a final status is kept, and a late event still lands in its place on the timeline.

Times are epoch seconds taken from the events themselves; "now" comes from the caller's clock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

from lobby.core.events import EventSource
from lobby.flexmatch.lifecycle import PlayerAnswer
from lobby.moderation.events import ModEvent
from lobby.moderation.ledger import Ledger
from lobby.moderation.matches import MatchRows
from lobby.moderation.rows import Key, Kind
from lobby.moderation.tickets import TicketRows


class Board(Ledger):
    """Rows, timelines and figures, folded from events."""

    def __init__(
        self,
        *,
        window: float = 300.0,
        keep_finished: float = 300.0,
        max_finished: int = 5000,
        timeline_limit: int = 200,
        remember_ids: int = 200_000,
    ) -> None:
        super().__init__(
            window=window, keep_finished=keep_finished, max_finished=max_finished, timeline_limit=timeline_limit
        )
        self._tickets = TicketRows(self)
        self._matches = MatchRows(self)
        self._folds: dict[str, Callable[[ModEvent], bool]] = {
            EventSource.GAMELIFT: self._tickets.apply,
            EventSource.TEAMBATTLES: self._matches.apply,
        }
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._remember = remember_ids
        self.applied = 0
        self.duplicates = 0
        self.ignored = 0
        #: The newest event time applied: "now" as the events tell it.
        self.latest = 0.0

    # --- reading ------------------------------------------------------------------------------

    def answers(self, key: Key) -> dict[str, PlayerAnswer]:
        """A ticket's players' answers in its current or last proposed match."""
        row = self.rows.get(key)
        return self._tickets.answers(row) if row is not None else {}

    def seen(self, uid: str) -> bool:
        return uid in self._seen

    # --- applying -----------------------------------------------------------------------------

    def apply_all(self, events: Iterable[ModEvent]) -> int:
        return sum(1 for event in events if self.apply(event))

    def apply(self, event: ModEvent) -> bool:
        """Fold one event in; False when it was already applied or is not about the lobby."""
        if event.uid in self._seen:
            self.duplicates += 1
            return False
        self._seen[event.uid] = None
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        fold = self._folds.get(event.source)
        if fold is None or not fold(event):
            self.ignored += 1
            return False
        self.applied += 1
        if event.time > self.latest:
            self.latest = event.time
        self.generation += 1
        return True

    def prune(self, now: float) -> int:
        """Forget finished rows older than ``keep_finished`` (and the oldest beyond
        ``max_finished``); return how many went."""
        gone = self.drop_finished(now)
        for row in gone:
            if row.kind == Kind.MATCH:
                self._matches.forget(row)
            else:
                self._tickets.forget(row)
        return len(gone)
