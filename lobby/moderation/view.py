"""The moderator's table as data: which rows show, in what order. No drawing here.

:class:`TableModel` keeps the rows that pass the filter in sorted lists (one per sort column
recently chosen) and, between frames, moves only the rows that changed (the board says which),
so a frame costs what changed, not the size of the lobby. A new filter or status choice makes
the list of the current column again; a column not among the last few chosen is sorted once.

The filter is fuzzy: each word of the query must appear, letters in order, inside one of a
row's id, configuration or game, players, teams, match id or region (case-insensitive). A
region can also be chosen on its own (:meth:`TableModel.set_region`): then only its rows show.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from typing import Any

from sortedcontainers import SortedList

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


class _Order:
    """The rows shown, ascending by one column: (missing, value, id, kind) entries in a
    :class:`~sortedcontainers.SortedList` (an entry is its own sort key, ``id`` and ``kind``
    making it unique), so a row that moved costs a removal and an insertion in one of its
    short sublists, and a position is found in logarithmic time."""

    __slots__ = ("column", "entries", "entry_of", "make", "present")

    def __init__(self, column: Column, rows: Iterable[Row]) -> None:
        make = _ENTRY[column]
        self.column = column
        self.make = make
        self.entry_of: dict[Key, tuple[Any, ...]] = {row.key: make(row) for row in rows}
        self.entries: SortedList = SortedList(self.entry_of.values())
        #: Entries with a value (the rest sort last, either way).
        self.present: int = self.entries.bisect_left(_MISSING)

    def move(self, key: Key, row: Row | None) -> None:
        """Put ``row`` (None: the row is not shown) where its entry now sorts."""
        old = self.entry_of.get(key)
        new = self.make(row) if row is not None else None
        if old == new:
            return
        if old is not None:
            self.entries.remove(old)
            if old[0] == 0:
                self.present -= 1
        if new is None:
            del self.entry_of[key]
            return
        self.entries.add(new)
        self.entry_of[key] = new
        if new[0] == 0:
            self.present += 1


#: Sorts before every entry whose value is missing, after every other one.
_MISSING = (1,)
#: Orders kept up to date, the one shown included, so going back to a recent column costs
#: nothing (each one kept costs a comparison per changed row, and a move when it sorts anew).
KEEP_ORDERS = 3


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
        #: The order shown, and the recent ones kept up to date with it (most recent last).
        self._order: _Order | None = None
        self._orders: OrderedDict[Column, _Order] = OrderedDict()
        #: The order shown when :meth:`update` last answered.
        self._told: _Order | None = None
        self._fields: dict[Key, tuple[int, tuple[str, ...]]] = {}
        #: The rows shown, or None when the filter changed and they are to be found again.
        self._shown: set[Key] | None = None
        #: Grows whenever the order or the membership changed.
        self.revision = 0

    # --- settings -----------------------------------------------------------------------------

    def set_query(self, text: str) -> None:
        terms = parse_query(text)
        self.query = text
        if terms != self._terms:
            self._terms = terms
            self._refilter()

    def set_sort(self, column: Column, descending: bool | None = None) -> None:
        """Sort by ``column``; choosing the current column again flips the direction."""
        if descending is None:
            descending = (not self.descending) if column is self.sort else False
        self.sort = column
        if descending != self.descending:
            self.descending = descending
            self.revision += 1

    def set_region(self, region: str | None) -> None:
        """Show only the rows of ``region`` (None: every region)."""
        if region != self.region:
            self.region = region
            self._refilter()

    def set_hidden(self, statuses: Iterable[str]) -> None:
        hidden = frozenset(statuses)
        if hidden != self.hidden:
            self.hidden = hidden
            self._refilter()

    def _refilter(self) -> None:
        """The filter changed: every order is made again from the rows it lets through."""
        self._shown = None
        self._orders.clear()
        self._order = None

    @property
    def showing_finished(self) -> bool:
        return not (FINAL_STATUSES <= self.hidden)

    def toggle_finished(self) -> None:
        if self.showing_finished:
            self.set_hidden(self.hidden | FINAL_STATUSES)
        else:
            self.set_hidden(self.hidden - FINAL_STATUSES)

    # --- reading ------------------------------------------------------------------------------

    def _current(self) -> _Order:
        order = self._order
        if order is None or order.column is not self.sort:
            order = self._select()
        return order

    def __len__(self) -> int:
        return len(self._current().entries)

    def row_at(self, index: int) -> Row:
        order = self._current()
        if self.descending and index < order.present:
            index = order.present - 1 - index
        entry = order.entries[index]
        return self.board.rows[(entry[3], entry[2])]

    def rows(self, start: int = 0, end: int | None = None) -> list[Row]:
        end = len(self) if end is None else min(end, len(self))
        return [self.row_at(i) for i in range(max(0, start), end)]

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows())

    def index_of(self, key: Key) -> int | None:
        order = self._current()
        entry = order.entry_of.get(key)
        if entry is None:
            return None
        position: int = order.entries.bisect_left(entry)
        if self.descending and position < order.present:
            return order.present - 1 - position
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

    def update(self) -> bool:
        """Catch up with the board; True when what the table shows may have changed.

        Only the rows the board changed since the last call are looked at, once each however
        many events changed them; each order kept moves those whose entry changed."""
        changed = self.board.drain()
        shown = self._shown
        if shown is None:
            shown = self._shown = self._filter()
            changed = set()  # the orders are made from the rows as they are now
        moved = bool(changed)
        if changed:
            rows = self.board.rows
            orders = list(self._orders.values())
            shows = self._shows
            for key in changed:
                row = rows.get(key)
                if row is None:
                    self._fields.pop(key, None)
                elif shows(row):
                    shown.add(key)
                else:
                    row = None
                if row is None:
                    if key not in shown:
                        continue
                    shown.discard(key)
                for order in orders:
                    order.move(key, row)
        order = self._select()
        if order is not self._told:
            self._told = order
            moved = True
        if moved:
            self.revision += 1
        return moved

    def _select(self) -> _Order:
        """The order of the current sort column, made from the rows shown when it was not kept."""
        shown = self._shown
        if shown is None:
            shown = self._shown = self._filter()
        order = self._orders.get(self.sort)
        if order is None:
            # In the board's order (the order rows were first seen), which most columns nearly
            # follow already: sorting that takes a fraction of sorting the set's order.
            order = _Order(self.sort, [row for key, row in self.board.rows.items() if key in shown])
            self._orders[self.sort] = order
            while len(self._orders) > KEEP_ORDERS:
                self._orders.popitem(last=False)
        else:
            self._orders.move_to_end(self.sort)
        self._order = order
        return order

    def _filter(self) -> set[Key]:
        """The keys of the rows the filter lets through."""
        hidden = self.hidden
        rows = self.board.rows
        if self._terms or self.region is not None:
            shown = {key for key, row in rows.items() if row.status not in hidden and self._shows(row)}
        else:
            shown = {key for key, row in rows.items() if row.status not in hidden}
        if len(self._fields) > len(rows):
            for key in [k for k in self._fields if k not in rows]:
                del self._fields[key]
        return shown
