"""The moderator's table as data: which rows show, in what order. No drawing here.

:class:`TableModel` keeps the rows that pass the filter in sorted lists (one per sort column
recently chosen) and, between frames, moves only the rows that changed (the board says which),
so a frame costs what changed, not the size of the lobby. A new filter or status choice makes
the list of the current column again; a column not among the last few chosen is sorted once:
its first rows at once, the rest in slices between frames (:meth:`TableModel.work`).

The filter is fuzzy: each word of the query must appear, letters in order, inside one of a
row's id, configuration or game, players, teams, match id or region (case-insensitive). A
region can also be chosen on its own (:meth:`TableModel.set_region`): then only its rows show.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from itertools import compress
from operator import attrgetter
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


#: Per column, each row's sort value, None when missing, read quicker than its entry: ordered
#: as the entries are (a row whose entry sorts first never has the greater value).
_VALUES: dict[Column, Callable[[list[Row]], list[Any]]] = {
    Column.DEADLINE: lambda rows: list(map(attrgetter("deadline"), rows)),
    Column.ID: lambda rows: list(map(attrgetter("id"), rows)),
    Column.GROUP: lambda rows: [g.lower() if g else None for g in map(attrgetter("group"), rows)],
    Column.REGION: lambda rows: [g or None for g in map(attrgetter("region"), rows)],
    Column.STATUS: lambda rows: [_RANK.get(s, _LAST) for s in map(attrgetter("status"), rows)],
    Column.PROGRESS: lambda rows: [
        a / t if t else None for a, t in zip(map(attrgetter("accepted"), rows), map(attrgetter("total"), rows), strict=True)
    ],
    Column.IN_STATUS: lambda rows: [-v for v in map(attrgetter("status_since"), rows)],
    Column.AGE: lambda rows: [-v for v in map(attrgetter("created"), rows)],
    Column.PLAYERS: lambda rows: [w.lower() if (w := _who(r)) else None for r in rows],
}

#: Entries put in order at a time while an order is made (a few milliseconds' work).
CHUNK = 4096
#: Sorts before every entry whose value is missing, after every other one.
_MISSING = (1,)
#: Orders kept up to date, the one shown included, so going back to a recent column costs
#: nothing (each one kept costs a comparison per changed row, and a move when it sorts anew).
KEEP_ORDERS = 3
#: From this many rows shown, a new order is made in slices (its first rows known at once).
SLICE_FROM = 4096
#: Rows of a new order known at once at most: beyond, the order is made whole at once.
HEAD_LIMIT = 4096


class _Head:
    """The first rows of an order still being made, one direction: every shown row whose
    entry sorts at or before :attr:`bound` (ascending), or, descending, every row with a value
    whose entry sorts at or after it. Kept exact as rows change, so the rows at its positions
    are the rows the whole order will have there."""

    __slots__ = ("bound", "descending", "entries", "entry_of")

    def __init__(self, descending: bool, chosen: list[tuple[Any, ...]], wanted: int) -> None:
        self.descending = descending
        #: None: every row qualifies (fewer rows than wanted).
        self.bound: tuple[Any, ...] | None = None
        if len(chosen) >= wanted:
            self.bound = chosen[-1] if not descending else chosen[0]
        self.entries: SortedList = SortedList(chosen)
        self.entry_of: dict[Key, tuple[Any, ...]] = {(e[3], e[2]): e for e in chosen}

    def holds(self, entry: tuple[Any, ...]) -> bool:
        if self.descending:
            return entry[0] == 0 and (self.bound is None or entry >= self.bound)
        return self.bound is None or entry <= self.bound

    def note(self, key: Key, entry: tuple[Any, ...] | None) -> None:
        """``key``'s row now sorts as ``entry`` (None: not shown)."""
        old = self.entry_of.pop(key, None)
        if old is not None:
            self.entries.remove(old)
        if entry is not None and self.holds(entry):
            self.entries.add(entry)
            self.entry_of[key] = entry

    def at(self, index: int) -> tuple[Any, ...] | None:
        """The entry at ``index`` of the order shown, or None past what the head knows."""
        if index >= len(self.entries):
            return None
        entry: tuple[Any, ...] = self.entries[len(self.entries) - 1 - index if self.descending else index]
        return entry

    def index_of(self, entry: tuple[Any, ...]) -> int:
        position: int = self.entries.bisect_left(entry)
        return len(self.entries) - 1 - position if self.descending else position


class _Order:
    """The rows shown, ascending by one column: (missing, value, id, kind) entries in a
    :class:`~sortedcontainers.SortedList` (an entry is its own sort key, ``id`` and ``kind``
    making it unique), so a row that moved costs a removal and an insertion in one of its
    short sublists, and a position is found in logarithmic time.

    An order is made whole at once, or in slices (:meth:`work`): the rows shown are taken at
    once (``snapshot``), their entries made a chunk at a time (``made``), sorted, then put in
    the sorted list. Rows that change meanwhile are noted as ``stale``, and moved once the
    rest is in order. Until then, the rows at its top are known from a :class:`_Head` per
    direction, chosen at once over the rows' values (:meth:`_likely_first`)."""

    __slots__ = (
        "column", "entries", "entry_of", "heads", "made", "make", "pending", "present", "snapshot", "sorted", "stale",
    )  # fmt: skip

    def __init__(self, column: Column, rows: Iterable[Row] = ()) -> None:
        make = _ENTRY[column]
        self.column = column
        self.make = make
        self.entry_of: dict[Key, tuple[Any, ...]] = {row.key: make(row) for row in rows}
        self.entries: SortedList = SortedList(self.entry_of.values())
        #: Entries with a value (the rest sort last, either way).
        self.present: int = self.entries.bisect_left(_MISSING)
        #: The rows shown when the order was begun, while their entries are not all in order;
        #: those whose entry is not made yet (last first); the entries made (None: in order),
        #: and whether they are sorted.
        self.snapshot: list[Row] = []
        self.pending: list[Row] = []
        self.made: list[tuple[Any, ...]] | None = None
        self.sorted = False
        #: Rows changed since their entry was last put in order.
        self.stale: set[Key] = set()
        #: While the order is being made: its first rows, by direction (descending or not).
        self.heads: dict[bool, _Head] = {}

    @classmethod
    def begin(cls, column: Column, rows: list[Row], shown: set[Key], wanted: int, descending: bool) -> _Order:
        """An order of ``rows`` (the rows shown) to be made in slices, its first ``wanted``
        rows (in the direction shown) known at once."""
        order = cls(column)
        order.snapshot = rows
        order.pending = rows[::-1]
        order.made = []
        order.head(descending, wanted, {}, shown)
        return order

    @property
    def ready(self) -> bool:
        return self.made is None and not self.stale

    def head(self, descending: bool, wanted: int, rows: dict[Key, Row], shown: set[Key]) -> _Head:
        """The first ``wanted`` rows in one direction, chosen over every row shown: among the
        entries not stale (all of them while not yet sorted; the first ones of the order once
        it is) and the stale rows' entries as they are now."""
        head = self.heads.get(descending)
        if head is not None:
            return head
        stale = self.stale
        if self.snapshot:
            candidates = self._likely_first(descending, wanted, shown)
        elif descending:
            candidates = _first(self.entries.islice(0, self.present, reverse=True), stale, wanted)
        else:
            candidates = _first(self.entries, stale, wanted)
        candidates += [self.make(row) for key in stale if key in shown and (row := rows.get(key)) is not None]
        if descending:
            chosen = sorted(e for e in candidates if e[0] == 0)[-wanted:]
        else:
            chosen = sorted(candidates)[:wanted]
        head = self.heads[descending] = _Head(descending, chosen, wanted)
        return head

    def _likely_first(self, descending: bool, wanted: int, shown: set[Key]) -> list[tuple[Any, ...]]:
        """The entries of the rows of the snapshot not stale that may be among the first
        ``wanted``: each row's sort value is read (quicker than its entry is made), and only
        the rows whose value reaches the ``wanted``-th one have their entry made."""
        rows = self.snapshot
        stale = self.stale
        values = _VALUES[self.column](rows)
        picked = _reaching(rows, values, wanted, descending)
        make = self.make
        return [make(r) for r in picked if (key := r.key) in shown and key not in stale]

    def note(self, key: Key, row: Row | None) -> None:
        """``row`` of the order shown changed (None: it is no longer shown)."""
        if self.ready:
            self.move(key, row)
            return
        self.stale.add(key)
        if self.heads:
            entry = self.make(row) if row is not None else None
            for head in self.heads.values():
                head.note(key, entry)

    def work(self, rows: dict[Key, Row], shown: set[Key], until: float, chunk_size: int = CHUNK) -> None:
        """Put entries in order, ``chunk_size`` at a time, until ``until`` (perf_counter) or
        until every one is."""
        pending, made, stale = self.pending, self.made, self.stale
        make = self.make
        if made is not None:
            while pending:
                chunk = pending[-chunk_size:]
                del pending[-chunk_size:]
                entries = [make(r) for r in chunk if r.key not in stale]
                made += entries
                self.entry_of.update(((e[3], e[2]), e) for e in entries)
                if time.perf_counter() >= until:
                    return
            if not self.sorted:
                # One sort of them all: the board's order, which most columns nearly follow,
                # makes it a fraction of sorting chunks apart and merging them.
                made.sort()
                self.sorted = True
                if time.perf_counter() >= until:
                    return
            self.snapshot = []
            self.made = None
            self.entries = SortedList(made)
            self.present = self.entries.bisect_left(_MISSING)
            if time.perf_counter() >= until:
                return
        while stale:
            for _ in range(min(len(stale), max(1, chunk_size // 4))):
                key = stale.pop()
                self.move(key, rows.get(key) if key in shown else None)
            if time.perf_counter() >= until:
                break
        if not stale:
            self.heads.clear()

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


def _reaching(rows: list[Row], values: list[Any], wanted: int, descending: bool) -> list[Row]:
    """The rows that may be among the first ``wanted`` of the order, from each row's value
    (None: missing): those whose value reaches the ``wanted``-th smallest (``descending``:
    greatest) value present, of the rows on that value those whose id does, and, ascending,
    when fewer rows have a value, the rows without one whose id reaches the rest."""
    present = [v for v in values if v is not None]
    if len(present) <= wanted:
        if descending:
            return list(compress(rows, [v is not None for v in values]))
        missing = list(compress(rows, [v is None for v in values]))
        return list(compress(rows, [v is not None for v in values])) + _by_id(missing, wanted - len(present), False)
    present.sort()  # quicker than a heap for values of one type, in C
    bound = present[-wanted] if descending else present[wanted - 1]
    if descending:
        beyond = [v is not None and v > bound for v in values]
        there = present[-wanted:].count(bound)
    else:
        beyond = [v is not None and v < bound for v in values]
        there = present[:wanted].count(bound)
    tied = list(compress(rows, [v == bound for v in values]))
    return list(compress(rows, beyond)) + _by_id(tied, there, descending)


def _by_id(rows: list[Row], wanted: int, descending: bool) -> list[Row]:
    """The rows whose id reaches the ``wanted``-th smallest (greatest) id (rows of a kind
    each may share one)."""
    if len(rows) <= wanted:
        return rows
    ids = sorted(map(attrgetter("id"), rows))
    if descending:
        bound = ids[-wanted]
        return [r for r in rows if r.id >= bound]
    bound = ids[wanted - 1]
    return [r for r in rows if r.id <= bound]


def _first(entries: Iterable[tuple[Any, ...]], stale: set[Key], wanted: int) -> list[tuple[Any, ...]]:
    """The first ``wanted`` of ``entries`` whose row is not stale."""
    out: list[tuple[Any, ...]] = []
    if wanted <= 0:
        return out
    for entry in entries:
        if (entry[3], entry[2]) not in stale:
            out.append(entry)
            if len(out) >= wanted:
                break
    return out


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
        #: How many rows from the top of a new order must be known at once (the table says:
        #: down to the bottom of what it shows).
        self.head_rows = 128
        #: From how many rows shown a new order is made in slices, and how many at a time.
        self.slice_from = SLICE_FROM
        self.chunk = CHUNK
        #: An order was finished since :meth:`update` last answered.
        self._finished = False

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

    def _shown_keys(self) -> set[Key]:
        shown = self._shown
        if shown is None:
            shown = self._shown = self._filter()
        return shown

    def __len__(self) -> int:
        self._current()
        return len(self._shown_keys())

    @property
    def settled(self) -> bool:
        """Whether the order shown is whole (not still being made, see :meth:`work`)."""
        return self._current().ready

    def _head(self, order: _Order) -> _Head | None:
        if self.head_rows > HEAD_LIMIT:
            return None
        return order.head(self.descending, self.head_rows, self.board.rows, self._shown_keys())

    def _finish(self, order: _Order) -> None:
        order.work(self.board.rows, self._shown_keys(), math.inf)

    def row_at(self, index: int) -> Row:
        order = self._current()
        if not order.ready:
            head = self._head(order)
            entry = head.at(index) if head is not None else None
            if entry is not None:
                return self.board.rows[(entry[3], entry[2])]
            self._finish(order)
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
        """Where ``key``'s row is shown (None: it is not), finishing the order if it must."""
        known, index = self.index_if_known(key)
        if known:
            return index
        order = self._current()
        self._finish(order)
        return self._index_in(order, key)

    def index_if_known(self, key: Key) -> tuple[bool, int | None]:
        """(True, where ``key``'s row is shown, None when it is not) when that is known without
        finishing the order being made; (False, None) when it is not."""
        order = self._current()
        if order.ready:
            return True, self._index_in(order, key)
        shown = self._shown_keys()
        if key not in shown:
            return True, None
        head = self._head(order)
        row = self.board.rows.get(key)
        if head is None or row is None:
            return False, None
        entry = order.make(row)
        if head.entry_of.get(key) != entry:
            return False, None
        return True, head.index_of(entry)

    def _index_in(self, order: _Order, key: Key) -> int | None:
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
        many events changed them; each order kept moves those whose entry changed (an order
        still being made notes them, to move them once the rest is in order)."""
        changed = self.board.drain()
        shown = self._shown
        if shown is None:
            shown = self._shown = self._filter()
            changed = set()  # the orders are made from the rows as they are now
        moved = bool(changed)
        if changed:
            rows = self.board.rows
            # An order whole moves each row at once; one being made notes it.
            keep = [order.move if order.ready else order.note for order in self._orders.values()]
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
                for follow in keep:
                    follow(key, row)
        order = self._select()
        if order is not self._told:
            self._told = order
            moved = True
        if self._finished:
            self._finished = False
            moved = True
        if moved:
            self.revision += 1
        return moved

    def work(self, seconds: float) -> bool:
        """Go on making the orders not yet whole for about ``seconds``, the one shown first
        (then those kept, with the time left); True while the one shown is not whole."""
        shown = self._current()
        until = time.perf_counter() + seconds
        for order in (shown, *reversed(self._orders.values())):
            if order.ready or (order is not shown and time.perf_counter() >= until):
                continue
            order.work(self.board.rows, self._shown_keys(), until, self.chunk)
            if order is shown and order.ready:
                self._finished = True
        return not shown.ready

    def _select(self) -> _Order:
        """The order of the current sort column: kept, or made from the rows shown (in
        slices, from :attr:`slice_from` rows)."""
        shown = self._shown_keys()
        order = self._orders.get(self.sort)
        if order is None:
            # In the board's order (the order rows were first seen), which most columns nearly
            # follow already: sorting that takes a fraction of sorting the set's order.
            rows = [row for key, row in self.board.rows.items() if key in shown]
            if self._order is not None and len(rows) >= self.slice_from and self.head_rows <= HEAD_LIMIT:
                # Another column was shown: this one's first rows now, the rest in slices.
                order = _Order.begin(self.sort, rows, shown, self.head_rows, self.descending)
            else:
                order = _Order(self.sort, rows)
            self._orders[self.sort] = order
            while len(self._orders) > KEEP_ORDERS:
                self._orders.popitem(last=False)
        else:
            self._orders.move_to_end(self.sort)
        if self._order is not None and self._order is not order:
            self._order.heads.clear()  # kept exact only while shown
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
