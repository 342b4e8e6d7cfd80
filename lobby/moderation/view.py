"""The moderator's table as data: which rows show, in what order. No drawing here.

:class:`TableModel` keeps the rows that pass the filter in a sorted list and, between frames,
moves only the rows that changed (the board says which), so a frame costs what changed, not
the size of the lobby. A new filter, status choice or sort rebuilds the list once.

The filter is fuzzy: each word of the query must appear, letters in order, inside one of a
row's id, configuration or game, players, teams, match id or region (case-insensitive). A
region can also be chosen on its own (:meth:`TableModel.set_region`): then only its rows show.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from typing import Any

from lobby.moderation.board import Board
from lobby.moderation.rows import FINAL_STATUSES, STATUS_ORDER, Key, Kind, Row

_RANK = {status: i for i, status in enumerate(STATUS_ORDER)}


class Column(StrEnum):
    ID = "id"
    GROUP = "group"
    REGION = "region"
    STATUS = "status"
    PROGRESS = "progress"
    DEADLINE = "deadline"
    IN_STATUS = "in_status"
    AGE = "age"
    PLAYERS = "players"


#: Every column, left to right.
COLUMNS: tuple[Column, ...] = tuple(Column)


def subsequence(term: str, text: str) -> bool:
    """True when the letters of ``term`` appear in ``text`` in order."""
    position = 0
    find = text.find
    for letter in term:
        position = find(letter, position)
        if position < 0:
            return False
        position += 1
    return True


def search_fields(row: Row) -> tuple[str, ...]:
    """The texts a filter looks in, lower-cased."""
    fields = [
        row.id,
        row.group,
        *row.players,
        *(n for n in row.players.values() if n),
        *row.teams,
        *row.team_ids,
        row.region,
    ]
    if row.match_id and row.match_id != row.id:
        fields.append(row.match_id)
    return tuple(f.lower() for f in fields if f)


def parse_query(text: str) -> tuple[str, ...]:
    return tuple(word for word in text.lower().split() if word)


def matches(terms: tuple[str, ...], fields: tuple[str, ...]) -> bool:
    return all(any(subsequence(term, f) for f in fields) for term in terms)


def _who(row: Row) -> str:
    return row.teams[0] if row.kind == Kind.MATCH and row.teams else next(iter(row.players), "")


_LAST = len(_RANK)

#: Per column: the (missing, value, id, kind) entry of a row; missing rows go last either way.
_ENTRY: dict[Column, Callable[[Row], tuple[Any, ...]]] = {
    Column.DEADLINE: lambda r: (0, r.deadline, r.id, r.kind) if r.deadline is not None else (1, 0.0, r.id, r.kind),
    Column.ID: lambda r: (0, r.id, r.id, r.kind),
    Column.GROUP: lambda r: (0, r.group.lower(), r.id, r.kind) if r.group else (1, "", r.id, r.kind),
    Column.REGION: lambda r: (0, r.region, r.id, r.kind) if r.region else (1, "", r.id, r.kind),
    Column.STATUS: lambda r: (0, _RANK.get(r.status, _LAST), r.id, r.kind),
    Column.PROGRESS: lambda r: (0, r.accepted / r.total, r.id, r.kind) if r.total else (1, 0.0, r.id, r.kind),
    Column.IN_STATUS: lambda r: (0, -r.status_since, r.id, r.kind),  # longest in status last
    Column.AGE: lambda r: (0, -r.created, r.id, r.kind),
    Column.PLAYERS: lambda r: (0, w.lower(), r.id, r.kind) if (w := _who(r)) else (1, "", r.id, r.kind),
}


class TableModel:
    """The filtered, sorted rows of a :class:`Board`."""

    def __init__(
        self,
        board: Board,
        *,
        sort: Column = Column.DEADLINE,
        descending: bool = False,
        hidden: Iterable[str] = FINAL_STATUSES,
    ) -> None:
        self.board = board
        self.sort = sort
        self.descending = descending
        self.hidden: frozenset[str] = frozenset(hidden)
        self.query = ""
        #: The one region shown, or None for every region.
        self.region: str | None = None
        self._terms: tuple[str, ...] = ()
        #: Ascending (missing, value, id, kind) entries of the rows shown.
        self._sorted: list[tuple[Any, ...]] = []
        self._entry: dict[Key, tuple[Any, ...]] = {}
        self._present = 0  # entries with a value (the rest sort last)
        self._fields: dict[Key, tuple[int, tuple[str, ...]]] = {}
        self._stale = True
        #: Grows whenever the order or the membership changed.
        self.revision = 0

    # --- settings -----------------------------------------------------------------------------

    def set_query(self, text: str) -> None:
        terms = parse_query(text)
        self.query = text
        if terms != self._terms:
            self._terms = terms
            self._stale = True

    def set_sort(self, column: Column, descending: bool | None = None) -> None:
        """Sort by ``column``; choosing the current column again flips the direction."""
        if descending is None:
            descending = (not self.descending) if column is self.sort else False
        if column is not self.sort:
            self._stale = True
        self.sort = column
        if descending != self.descending:
            self.descending = descending
            self.revision += 1

    def set_region(self, region: str | None) -> None:
        """Show only the rows of ``region`` (None: every region)."""
        if region != self.region:
            self.region = region
            self._stale = True

    def set_hidden(self, statuses: Iterable[str]) -> None:
        hidden = frozenset(statuses)
        if hidden != self.hidden:
            self.hidden = hidden
            self._stale = True

    @property
    def showing_finished(self) -> bool:
        return not (FINAL_STATUSES <= self.hidden)

    def toggle_finished(self) -> None:
        if self.showing_finished:
            self.set_hidden(self.hidden | FINAL_STATUSES)
        else:
            self.set_hidden(self.hidden - FINAL_STATUSES)

    # --- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._sorted)

    def _position(self, index: int) -> int:
        if self.descending and index < self._present:
            return self._present - 1 - index
        return index

    def row_at(self, index: int) -> Row:
        entry = self._sorted[self._position(index)]
        return self.board.rows[(entry[3], entry[2])]

    def rows(self, start: int = 0, end: int | None = None) -> list[Row]:
        end = len(self) if end is None else min(end, len(self))
        return [self.row_at(i) for i in range(max(0, start), end)]

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows())

    def index_of(self, key: Key) -> int | None:
        entry = self._entry.get(key)
        if entry is None:
            return None
        position = bisect.bisect_left(self._sorted, entry)
        if self.descending and position < self._present:
            return self._present - 1 - position
        return position

    # --- keeping up ---------------------------------------------------------------------------

    def _fields_of(self, row: Row) -> tuple[str, ...]:
        cached = self._fields.get(row.key)
        if cached is not None and cached[0] == row.version:
            return cached[1]
        fields = search_fields(row)
        self._fields[row.key] = (row.version, fields)
        return fields

    def _shows(self, row: Row) -> bool:
        if row.status in self.hidden:
            return False
        if self.region is not None and row.region != self.region:
            return False
        return not self._terms or matches(self._terms, self._fields_of(row))

    def _entry_for(self, row: Row) -> tuple[Any, ...]:
        return _ENTRY[self.sort](row)

    def update(self) -> bool:
        """Catch up with the board; True when what the table shows may have changed."""
        changed = self.board.drain()
        if self._stale:
            self._rebuild()
            return True
        if not changed:
            return False
        rows = self.board.rows
        for key in changed:
            old = self._entry.pop(key, None)
            if old is not None:
                position = bisect.bisect_left(self._sorted, old)
                del self._sorted[position]
                if old[0] == 0:
                    self._present -= 1
            row = rows.get(key)
            if row is None:
                self._fields.pop(key, None)
                continue
            if self._shows(row):
                entry = self._entry_for(row)
                bisect.insort(self._sorted, entry)
                self._entry[key] = entry
                if entry[0] == 0:
                    self._present += 1
        self.revision += 1
        return True

    def _rebuild(self) -> None:
        self._stale = False
        entry = _ENTRY[self.sort]
        hidden = self.hidden
        rows = self.board.rows
        if self._terms or self.region is not None:
            shown = [row for row in rows.values() if row.status not in hidden and self._shows(row)]
        else:
            shown = [row for row in rows.values() if row.status not in hidden]
        self._entry = {row.key: entry(row) for row in shown}
        self._sorted = sorted(self._entry.values())
        self._present = bisect.bisect_left(self._sorted, (1,))
        if len(self._fields) > len(rows):
            for key in [k for k in self._fields if k not in rows]:
                del self._fields[key]
        self.revision += 1
