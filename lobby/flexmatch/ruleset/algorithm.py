"""One matchmaking tick: form every match the searching tickets allow, FlexMatch's way.

The documented process, per batch of the ticket pool: take the oldest ticket, then add
candidates one by one, each tentatively to a team; keep a candidate if no rule fails for good,
else try the next team, else leave it out; when the teams are full or the candidates run out,
the match is made if every team has its minimum and every rule passes (a rule set's expansions
apply by the age of the match's newest, or oldest, ticket). Then the next oldest ticket left.

How this module makes that fast and deterministic (the guide leaves it open):

- Batches. One batch, except: tickets whose string ``batchDistance`` attributes differ never
  share a batch; with ``batchingPreference`` "fastestRegion" tickets are batched by the region
  where their latency is lowest, then what is left is tried again as one batch. With a latency
  rule, a batch is also split by region (a ticket in each region where it could ever meet the
  rule's loosest maxLatency), and an anchor's candidates come from its own regions only.
- Candidates. Each anchor tries at most ``window`` candidates, taken from a sorted index of its
  batch rather than the whole pool: by the first sort rule (distanceSort nearest to the anchor
  first, absoluteSort in its direction; several sort rules, or a map attribute, order a window
  of candidates by all of them); else by ``sortByAttributes`` position when batching is
  "sorted"; else nearest first by the attribute of the most selective numeric
  ``batchDistance`` rule (then never past its maxDistance), by the ``balancedAttribute``, or by
  the number attribute a distance rule measures; else by age, the tickets younger than the
  anchor first. Equal keys go oldest first. An anchor stops after a run of refused candidates
  (16, plus one per two player slots of its match). Removing a matched ticket is O(1), so a
  tick costs about tickets x window rule checks, never tickets squared.
- Anchors. In age order; a ticket taken into a failed attempt is not an anchor itself in the
  same pass (its neighbourhood has just been tried) but stays a candidate for later anchors.
- Checks. While a match grows, rules blind to teams (latency, batchDistance, and rules whose
  expressions flatten every team) are asked once per candidate, the others once per team
  tried; the first enforced rule that fails ends the checks (rule metrics count the rules
  asked).
- Teams. A ticket goes first to a team below its minimum, then to the team with the most open
  slots (the large-match fill order the guide describes, used for every match).
- Completion. A rule judged only on the complete match (team counts, sums, a collection's
  lower bounds) can fail there; the builder then gives back the most recently added tickets,
  one at a time, while the teams keep their minimum, until the match passes.
- Balance. With strategy "balanced", a complete match's tickets are re-dealt over the same
  team sizes to even out the teams' average ``balancedAttribute``, kept only if every rule
  still passes.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from lobby.flexmatch.ruleset.evaluate import (
    Engine,
    MatchEvaluation,
    Prepared,
    RuleResult,
    engine_for,
    judge,
    placement_region,
)
from lobby.flexmatch.ruleset.expansions import Level
from lobby.flexmatch.ruleset.rules import BatchDistanceCompiled, CompiledRule, Regions
from lobby.flexmatch.ruleset.explain import FormedMatch, TickResult, TicketReport, metrics, ticket_report
from lobby.flexmatch.ruleset import expressions as ex
from lobby.flexmatch.ruleset.model import (
    AbsoluteSortRule,
    BatchDistanceRule,
    DistanceRule,
    DistanceSortRule,
    RuleSet,
)
from lobby.flexmatch.ruleset.players import Ticket

#: Most tickets given back, one by one, to make a complete match pass.
MAX_TRIMS = 64
#: An anchor stops trying candidates after this many refused in a row, plus one for every two
#: player slots of its match: candidates come best first, so later ones rarely do better.
PATIENCE = 16
_NONE = object()


def default_window(rule_set: RuleSet) -> int:
    return max(64, 8 * rule_set.max_players)


def form_matches(
    rule_set: RuleSet,
    searching: Sequence[Ticket],
    now: float,
    *,
    window: int | None = None,
    max_matches: int | None = None,
) -> TickResult:
    """Form matches from searching tickets at ``now`` (the clock of their start times).

    ``window``: most candidates tried around each anchor (default 8 per player slot, at least
    64). ``max_matches``: stop after this many matches. The same input gives the same result.
    """
    engine = engine_for(rule_set)
    names = tuple(r.name for r in rule_set.rules)
    prepared: list[Prepared] = []
    notes: dict[int, list[str]] = {}
    seen: set[str] = set()
    regions = Regions()
    for seq, ticket in enumerate(searching):
        p = engine.prepare(ticket, seq, regions)
        if ticket.ticket_id in seen:
            p.problems.append("The ticket is given twice; only its first copy is matched.")
        seen.add(ticket.ticket_id)
        prepared.append(p)
    usable = [p for p in prepared if not p.problems]
    builder = _Builder(engine, now, window or default_window(rule_set), max_matches, notes)
    for batch in _batches(engine, usable):
        builder.run(batch)
    if engine.algorithm.batching_preference == "fastestRegion":
        leftover = [p for p in usable if not p.matched]
        if leftover:
            builder.run(leftover)
    reports: list[TicketReport] = []
    for p in prepared:
        if p.matched:
            continue
        reasons = p.problems + notes.get(p.seq, [])
        if not reasons:
            reasons = ["No match was tried around this ticket in this tick."]
        reports.append(ticket_report(p.ticket_id, names, p.tally, reasons))
    return TickResult(tuple(builder.matches), tuple(reports))


# --- batches and candidate order -----------------------------------------------------------------


def _batches(engine: Engine, tickets: list[Prepared]) -> list[list[Prepared]]:
    groups: dict[tuple[Any, ...], list[Prepared]] = {}
    string_batches = [
        r.batch_attribute
        for r in engine.rules
        if isinstance(r, BatchDistanceRule) and engine.types.get(r.batch_attribute) == "string"
    ]
    fastest = engine.algorithm.batching_preference == "fastestRegion"
    for t in tickets:
        key: tuple[Any, ...] = tuple(tuple(sorted(set(t.player_values(a)))) for a in string_batches)
        if fastest:
            latency = t.latency("avg")
            key += (min(latency, key=lambda r: (latency[r], r)) if latency else "",)
        groups.setdefault(key, []).append(t)
    return [groups[k] for k in sorted(groups, key=lambda k: min(t.seq for t in groups[k]))]


class _Order:
    """Tickets in a fixed order, as a doubly linked list: walk from any ticket, remove in O(1)."""

    def __init__(self, tickets: list[Prepared]) -> None:
        n = len(tickets)
        self.items = tickets
        self.end = n
        self.next = list(range(1, n + 1))
        self.prev = list(range(-1, n - 1))
        self.head = 0
        self.tail = n - 1
        self.position = {t.seq: i for i, t in enumerate(tickets)}

    def remove(self, ticket: Prepared) -> None:
        i = self.position.pop(ticket.seq)
        before, after = self.prev[i], self.next[i]
        if before >= 0:
            self.next[before] = after
        else:
            self.head = after
        if after < self.end:
            self.prev[after] = before
        else:
            self.tail = before

    def forward(self, start: int) -> Iterator[Prepared]:
        i = start
        while 0 <= i < self.end:
            yield self.items[i]
            i = self.next[i]


#: A candidate with what orders it among candidates from other partitions of the batch.
Ranked = tuple[Any, Prepared]


class _Part:
    """One partition of a batch, in the plan's order. ``values`` holds each ticket's sort
    value (by seq) when the plan sorts by one."""

    __slots__ = ("order", "keys", "sort_keys")

    def __init__(self, tickets: list[Prepared], values: dict[int, Any] | None) -> None:
        self.keys: list[Any] = []
        self.sort_keys: list[Any] = []
        if values is None:
            self.order = _Order(sorted(tickets, key=lambda t: (t.start, t.seq)))
            return
        ranked = sorted(((_sortable(values[t.seq]), t.start, t.seq), t) for t in tickets)
        keyed = [t for _, t in ranked]
        self.sort_keys = [rank[0] for rank, _ in ranked]
        keys: list[Any] = [values[t.seq] for t in keyed]
        if not all(isinstance(k, (int, float)) for k in keys):
            keys = [float(i) for i in range(len(keyed))]  # nearest by position in the sorted order
        self.order = _Order(keyed)
        self.keys = keys


class _Index:
    """Yields, for an anchor, its batch's other tickets in the order to try them.

    With a latency rule, the batch is also split by region: a ticket joins the partition of
    every region where it could ever satisfy the first latency rule, and an anchor draws its
    candidates only from the partitions of its own regions (merged in the plan's order), so
    tickets that could never share its region are not even tried.
    """

    def __init__(self, engine: Engine, batch: list[Prepared]) -> None:
        plan = _plan(engine, batch)
        self.kind: str = plan[0] if plan is not None else "age"
        self.key: SortKey | None = plan[1] if plan is not None else None
        #: The index of the batchDistance rule whose maxDistance bounds a "nearest" order.
        self.gap_rule = plan[2] if plan is not None else None
        self.region_filter = engine.region_filter
        groups: dict[int, list[Prepared]] = {}
        if self.region_filter:
            for t in batch:
                mask = t.loose(self.region_filter)[0]
                bit = 0
                while mask >> bit:
                    if mask >> bit & 1:
                        groups.setdefault(bit, []).append(t)
                    bit += 1
        else:
            groups[-1] = batch
        values: dict[int, Any] | None = None
        if self.key is not None and self.kind in ("nearest", "farthest", "ascending", "descending"):
            key = self.key
            values = {t.seq: key(t, t) for t in batch}
        self.parts = {bit: _Part(tickets, values) for bit, tickets in groups.items()}

    def parts_of(self, ticket: Prepared) -> list[_Part]:
        if not self.region_filter:
            return [self.parts[-1]]
        mask = ticket.loose(self.region_filter)[0]
        return [part for bit, part in self.parts.items() if mask >> bit & 1]

    def remove(self, ticket: Prepared) -> None:
        for part in self.parts_of(ticket):
            part.order.remove(ticket)

    def candidates(self, anchor: Prepared, n: int, gap: list[float] | None = None) -> Iterator[Prepared]:
        """Up to ``n`` candidates for an anchor, best first; a "nearest" order stops past
        ``gap[0]`` from the anchor's key (the caller may narrow it as the match grows)."""
        parts = self.parts_of(anchor)
        if self.kind == "window":
            assert self.key is not None
            return _by_window(self._merged(parts, anchor, 4 * n, "age", None), anchor, n, self.key)
        return self._merged(parts, anchor, n, self.kind, gap if self.kind == "nearest" else None)

    def _merged(
        self, parts: list[_Part], anchor: Prepared, n: int, kind: str, gap: list[float] | None
    ) -> Iterator[Prepared]:
        streams = [_ranked(part, anchor, kind) for part in parts]
        if not streams:
            return
        if len(streams) == 1:  # a partition holds each ticket once
            for count, (rank, t) in enumerate(streams[0], 1):
                if gap is not None and rank[0] > gap[0]:
                    return
                yield t
                if count >= n:
                    return
            return
        merged: Iterator[Ranked] = heapq.merge(*streams, key=lambda r: r[0])
        seen: set[int] = set()
        for rank, t in merged:
            if gap is not None and rank[0] > gap[0]:
                return
            if t.seq in seen:
                continue
            seen.add(t.seq)
            yield t
            if len(seen) >= n:
                return


def _sortable(value: Any) -> tuple[bool, Any]:
    return (True, 0) if value is None else (False, value)


def _ranked(part: _Part, anchor: Prepared, kind: str) -> Iterator[Ranked]:
    """A partition's tickets other than the anchor, best first, each with a rank comparable
    across partitions."""
    order = part.order
    items, end = order.items, order.end
    if kind == "age":
        # The tickets after the anchor in age order first, then the older ones: these are still
        # here because they failed as anchors, and trying them first would let a pile of them
        # at the head of the pool hold up every later anchor.
        i = order.position.get(anchor.seq)
        if i is None:  # the anchor is not in this partition
            for t in order.forward(order.head):
                yield ((t.start, t.seq) < (anchor.start, anchor.seq), t.start, t.seq), t
            return
        for t in order.forward(order.next[i]):
            yield (False, t.start, t.seq), t
        for t in order.forward(order.head):
            if t is anchor:
                return
            yield (True, t.start, t.seq), t
        return
    if kind in ("ascending", "descending"):
        descending = kind == "descending"
        sort_keys = part.sort_keys
        i = order.tail if descending else order.head
        step = order.prev if descending else order.next
        while 0 <= i < end:
            t = items[i]
            if t is not anchor:
                rank = sort_keys[i]
                yield ((rank[0], _Desc(rank[1])) if descending else rank, t.start, t.seq), t
            i = step[i]
        return
    keys = part.keys
    i = order.position[anchor.seq]
    mine = keys[i]
    if kind == "nearest":
        left, right = order.prev[i], order.next[i]
        while left >= 0 or right < end:
            if right >= end:
                take_left = True
            elif left < 0:
                take_left = False
            else:
                a, b = items[left], items[right]
                da, db = abs(keys[left] - mine), abs(keys[right] - mine)
                take_left = da < db or (da == db and (a.start, a.seq) <= (b.start, b.seq))
            if take_left:
                t = items[left]
                yield (abs(keys[left] - mine), t.start, t.seq), t
                left = order.prev[left]
            else:
                t = items[right]
                yield (abs(keys[right] - mine), t.start, t.seq), t
                right = order.next[right]
        return
    # farthest first: walk in from both ends
    left, right = order.head, order.tail
    while 0 <= left < end and 0 <= right < end and order.prev[left] < right:
        if left == i:
            left = order.next[left]
            continue
        if right == i:
            right = order.prev[right]
            continue
        da, db = abs(keys[left] - mine), abs(keys[right] - mine)
        take = left if da >= db else right
        t = items[take]
        yield (-abs(keys[take] - mine), t.start, t.seq), t
        if left == right:
            return
        if take == left:
            left = order.next[left]
        else:
            right = order.prev[right]


class _Desc:
    """Orders the wrapped key in reverse, for merging descending partitions."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and bool(self.value == other.value)

    def __hash__(self) -> int:
        return hash(self.value)


def _by_window(pool_source: Iterator[Prepared], anchor: Prepared, n: int, key: SortKey) -> Iterator[Prepared]:
    pool = list(pool_source)
    pool.sort(key=lambda t: key(anchor, t))
    return iter(pool[:n])


SortKey = Callable[[Prepared, Prepared], Any]


def _plan(engine: Engine, batch: list[Prepared]) -> tuple[str, SortKey, int | None] | None:
    """How a batch orders candidates: (kind, key(anchor, ticket), gap rule), or None for age
    order. When the key is the attribute of a numeric batchDistance rule, the gap rule is that
    rule's index: no candidate further from the anchor than its maxDistance can pass."""
    sorts = [r for r in engine.rules if isinstance(r, (AbsoluteSortRule, DistanceSortRule))]
    if sorts:
        first = sorts[0]
        if len(sorts) == 1 and first.map_key is None:
            key = _attribute_key(first.sort_attribute, first.party_aggregation)
            if isinstance(first, DistanceSortRule):
                return ("nearest" if first.sort_direction == "ascending" else "farthest"), key, None
            return ("ascending" if first.sort_direction == "ascending" else "descending"), key, None
        return "window", _lexicographic(sorts), None
    algorithm = engine.algorithm
    if algorithm.batching_preference == "sorted":
        attributes = algorithm.sort_by_attributes
        return "nearest", lambda anchor, t: tuple(_attribute_key(a, "avg")(t, t) for a in attributes), None
    numeric = [
        r for r in engine.rules if isinstance(r, BatchDistanceRule) and engine.types.get(r.batch_attribute) == "number"
    ]
    if numeric:
        # Nearest first by the most selective one: the widest spread of values in the batch
        # for the distance it allows.
        def selectivity(rule: BatchDistanceRule) -> float:
            key = _attribute_key(rule.batch_attribute, rule.party_aggregation)
            values = [v for v in (key(t, t) for t in batch) if v is not None]
            spread = float(max(values) - min(values)) if values else 0.0
            return spread / max(rule.max_distance or 0.0, 1e-9)

        best = max(numeric, key=selectivity)
        return "nearest", _attribute_key(best.batch_attribute, best.party_aggregation), engine.rules.index(best)
    if algorithm.balanced_attribute is not None:
        return "nearest", _attribute_key(algorithm.balanced_attribute, "avg"), None
    for rule in engine.rules:
        if isinstance(rule, DistanceRule):
            for text in rule.measurements:
                numbers = [a for a in ex.attributes_of(ex.parse(text)) if engine.types.get(a) == "number"]
                if numbers:
                    return "nearest", _attribute_key(numbers[0], rule.party_aggregation), None
    return None


def _batch_limit(rule: object) -> float:
    return rule.max_distance if isinstance(rule, BatchDistanceCompiled) else math.inf


def _attribute_key(attribute: str, aggregation: str) -> SortKey:
    def key(anchor: Prepared, t: Prepared) -> Any:
        values = [v for v in t.values(attribute, aggregation) if v is not None]
        if not values:
            return None
        if isinstance(values[0], (tuple, dict)):
            return tuple(sorted(str(v) for v in values))
        return min(values)

    return key


def _map_value(t: Prepared, attribute: str, key: str, aggregation: str) -> float | None:
    found: list[float] = [float(m[key]) for m in t.player_values(attribute) if key in m]
    if not found:
        return None
    if aggregation == "min":
        return min(found)
    if aggregation == "max":
        return max(found)
    return math.fsum(found) / len(found)


def _lexicographic(sorts: list[AbsoluteSortRule | DistanceSortRule]) -> SortKey:
    """Candidate order for several sort rules, or a map attribute: by the first rule, ties by
    the next, and so on; a ticket without a value goes after those with one."""

    def one(rule: AbsoluteSortRule | DistanceSortRule) -> SortKey:
        attribute, aggregation = rule.sort_attribute, rule.party_aggregation
        descending = rule.sort_direction == "descending"

        def value(anchor: Prepared, t: Prepared) -> Any:
            if rule.map_key is None:
                return _attribute_key(attribute, aggregation)(t, t)
            maps = [m for m in anchor.player_values(attribute) if m]
            if not maps:
                return None
            chosen = {k: v for m in maps for k, v in m.items()}
            pick = min if rule.map_key == "minValue" else max
            map_key = pick(sorted(chosen), key=lambda k: chosen[k])
            return _map_value(t, attribute, map_key, aggregation)

        def key(anchor: Prepared, t: Prepared) -> Any:
            v = value(anchor, t)
            if isinstance(rule, DistanceSortRule) and v is not None:
                mine = value(anchor, anchor)
                v = None if mine is None else abs(v - mine)
            if v is None:
                return (1, 0)
            if isinstance(v, (int, float)):
                return (0, -v if descending else v)
            return (0, _Desc(v) if descending else v)

        return key

    keys = [one(rule) for rule in sorts]
    return lambda anchor, t: tuple(k(anchor, t) for k in keys) + ((t.start, t.seq),)


# --- building matches ----------------------------------------------------------------------------


class _Attempt:
    """A match under construction around one anchor."""

    __slots__ = ("anchor", "teams", "fill", "added", "counts", "newest", "oldest", "states", "full")

    def __init__(self, anchor: Prepared, team_count: int, rule_count: int) -> None:
        self.anchor = anchor
        self.teams: list[ex.Team] = [ex.Team() for _ in range(team_count)]
        self.fill = [0] * team_count
        self.added: list[tuple[Prepared, int]] = []
        self.counts = [[0, 0] for _ in range(rule_count)]
        self.newest = -math.inf
        self.oldest = math.inf
        #: Running summaries of the added tickets, per incremental rule (see CompiledRule.fold).
        self.states: dict[CompiledRule, Any] = {}
        #: Set when no team had room for another player.
        self.full = False


class _Builder:
    def __init__(self, engine: Engine, now: float, window: int, limit: int | None, notes: dict[int, list[str]]) -> None:
        self.engine = engine
        self.now = now
        self.window = max(1, window)
        self.limit = limit
        self.notes = notes
        self.matches: list[FormedMatch] = []
        self.rule_count = len(engine.rules)
        self.names = tuple(r.name for r in engine.rules)
        self.team_count = len(engine.team_names)
        self.patience = PATIENCE + engine.max_players // 2
        #: Seqs of tickets taken into a failed attempt of the current pass (see :meth:`build`).
        self.passed_over: set[int] = set()
        #: The current anchor's candidate bound and the rule behind it (see :meth:`run`).
        self.gap: list[float] | None = None
        self.gap_rule: int | None = None

    def run(self, batch: list[Prepared]) -> None:
        if not batch:
            return
        index = _Index(self.engine, batch)
        self.passed_over = set()
        for anchor in sorted(batch, key=lambda t: (t.start, t.seq)):
            if anchor.matched or anchor.seq in self.passed_over:
                continue
            if self.limit is not None and len(self.matches) >= self.limit:
                if anchor.seq not in self.notes:
                    self.notes[anchor.seq] = [f"The tick stopped at its limit of {self.limit} matches first."]
                continue
            gap: list[float] | None = None
            if index.gap_rule is not None:
                # By the newest ticket, the match is never looser than with the tickets it has
                # (see build, which narrows this as they come); by the oldest, an older
                # candidate could loosen it as far as the last step.
                levels = self.engine.levels
                level = levels.levels[-1] if self.engine.oldest else levels.at(max(0.0, self.now - anchor.start))
                gap = [_batch_limit(level.rules[index.gap_rule])]
            self.gap, self.gap_rule = gap, index.gap_rule
            attempt = self.build(anchor, index.candidates(anchor, self.window, gap))
            if attempt is None:
                continue
            for team in attempt.teams:
                for t in team:
                    t.matched = True
                    index.remove(t)
                    self.notes.pop(t.seq, None)

    def level(self, attempt: _Attempt, extra: Prepared | None = None) -> Level:
        if self.engine.oldest:
            start = attempt.oldest if extra is None else min(attempt.oldest, extra.start)
        else:
            start = attempt.newest if extra is None else max(attempt.newest, extra.start)
        return self.engine.levels.at(max(0.0, self.now - start))

    def build(self, anchor: Prepared, candidates: Iterator[Prepared]) -> _Attempt | None:
        attempt = _Attempt(anchor, self.team_count, self.rule_count)
        if not self.place(attempt, anchor):
            self.settle(attempt)
            self.notes[anchor.seq] = [self.unplaceable(anchor)]
            return None
        region_filter = self.engine.region_filter
        shared = list(anchor.loose(region_filter)) if region_filter else []
        patience, refused = self.patience, 0
        for candidate in candidates:
            if region_filter:
                # A candidate that cannot share a region with the tickets taken so far, even at
                # the loosest maxLatency, fails the latency rule whatever happens: count, skip.
                masks = candidate.loose(region_filter)
                miss = next((k for k, m in enumerate(masks) if not m & shared[k]), None)
                if miss is not None:
                    self.skip(attempt, region_filter[miss][0], candidate)
                    continue
            if self.place(attempt, candidate):
                refused = 0
                if self.gap is not None and self.gap_rule is not None and not self.engine.oldest:
                    self.gap[0] = _batch_limit(self.level(attempt).rules[self.gap_rule])
                if region_filter:
                    shared = [s & m for s, m in zip(shared, masks, strict=True)]
                if attempt.full:
                    break
            else:
                refused += 1
                if refused >= patience or attempt.full:
                    break
        taken = [t for t, _ in attempt.added if t is not anchor]
        done = self.finish(attempt, anchor)
        if done is None:
            self.settle(attempt)
            # The tickets this attempt took in have had their neighbourhood tried: they stay
            # candidates for later anchors but are not anchors themselves in this pass.
            why = self.notes[anchor.seq][0]
            for t in taken:
                self.passed_over.add(t.seq)
                self.notes.setdefault(
                    t.seq, [f"It was taken into the match tried around ticket {anchor.ticket_id}, which failed: {why}"]
                )
        return done

    def skip(self, attempt: _Attempt, rule: int, ticket: Prepared) -> None:
        """Count a failure of one rule for a candidate refused without a full check."""
        attempt.counts[rule][1] += 1
        if ticket.tally is None:
            ticket.tally = [[0, 0] for _ in range(self.rule_count)]
        ticket.tally[rule][1] += 1

    def place(self, attempt: _Attempt, ticket: Prepared) -> bool:
        """Add a ticket to the first team (in fill order) where no rule fails for good. Rule
        checks stop at the first enforced rule that fails; only the rules asked are counted,
        for the attempt and (unless it is the anchor) for the ticket."""
        level = self.level(attempt, ticket)
        fill, size = attempt.fill, ticket.size
        lows, highs = level.team_min, level.team_max
        order = [j for j in range(self.team_count) if fill[j] + size <= highs[j]]
        if not order:
            attempt.full = all(f >= h for f, h in zip(fill, highs, strict=True))
            return False
        if len(order) > 1:
            order.sort(key=lambda j: (fill[j] >= lows[j], fill[j] - highs[j], j))
        teams = attempt.teams
        counts = attempt.counts
        if ticket is attempt.anchor:
            mine = None
        else:
            if ticket.tally is None:
                ticket.tally = [[0, 0] for _ in range(self.rule_count)]
            mine = ticket.tally
        blocked = [False] * self.rule_count
        if level.whole:
            # Rules blind to teams: asked once, whichever team the ticket would join.
            refused = False
            states = attempt.states
            scratch = teams[order[0]] if level.whole_reads_teams else None
            if scratch is not None:
                scratch.append(ticket)
            for rule in level.whole:
                if rule.incremental:
                    state = states.get(rule, _NONE)
                    if state is _NONE:
                        state = rule.empty()
                        for t, _ in attempt.added:
                            state = rule.fold(state, t)
                        states[rule] = state
                    failed = rule.broken(rule.fold(state, ticket))
                else:
                    failed = rule.blocks(teams, blocked)
                blocked[rule.index] = failed
                _record(counts, mine, rule.index, failed)
                if failed and rule.enforced:
                    refused = True
                    break
            if scratch is not None:
                scratch.pop()
            if refused:
                return False
        for j in order:
            team = teams[j]
            team.append(ticket)
            refused = False
            for rule in level.per_team:
                failed = blocked[rule.index] = rule.blocks(teams, blocked)
                _record(counts, mine, rule.index, failed)
                if failed and rule.enforced:
                    refused = True
                    break
            if not refused:
                fill[j] += size
                attempt.added.append((ticket, j))
                states = attempt.states
                for rule, state in states.items():
                    states[rule] = rule.fold(state, ticket)
                attempt.full = all(f >= h for f, h in zip(fill, highs, strict=True))
                if ticket.start > attempt.newest:
                    attempt.newest = ticket.start
                if ticket.start < attempt.oldest:
                    attempt.oldest = ticket.start
                return True
            team.pop()
        return False

    def count(
        self, attempt: _Attempt, rules: Sequence[CompiledRule], failed: Sequence[bool], ticket: Prepared | None
    ) -> None:
        """Count rule outcomes for the attempt (its anchor takes them all, see :meth:`settle`)
        and for the candidate being tried."""
        counts = attempt.counts
        if ticket is None or ticket is attempt.anchor:
            for rule in rules:
                counts[rule.index][1 if failed[rule.index] else 0] += 1
            return
        if ticket.tally is None:
            ticket.tally = [[0, 0] for _ in range(self.rule_count)]
        mine = ticket.tally
        for rule in rules:
            i = rule.index
            k = 1 if failed[i] else 0
            counts[i][k] += 1
            mine[i][k] += 1

    def settle(self, attempt: _Attempt) -> None:
        """A failed attempt's counts go to its anchor's tally."""
        anchor = attempt.anchor
        if anchor.tally is None:
            anchor.tally = [[0, 0] for _ in range(self.rule_count)]
        for mine, theirs in zip(anchor.tally, attempt.counts, strict=True):
            mine[0] += theirs[0]
            mine[1] += theirs[1]

    def unplaceable(self, anchor: Prepared) -> str:
        tally = anchor.tally or []
        failing = [self.names[i] for i, c in enumerate(tally) if c[1]]
        if failing:
            return "No team can take the ticket: rule " + ", ".join(failing) + " fails with the ticket alone."
        return "No team can take the ticket's players."

    def finish(self, attempt: _Attempt, anchor: Prepared) -> _Attempt | None:
        trims = 0
        while True:
            level = self.level(attempt)
            short = [
                (name, have, low)
                for name, have, low in zip(self.engine.team_names, attempt.fill, level.team_min, strict=True)
                if have < low
            ]
            if short:
                needed = sum(level.team_min)
                detail = "; ".join(f"{name} has {have} of {low}" for name, have, low in short[:3])
                self.notes[anchor.seq] = [
                    f"Not enough compatible tickets: the best match around this ticket reached {sum(attempt.fill)} "
                    f"players of the {needed} the teams need ({detail})."
                ]
                return None
            over = any(have > high for have, high in zip(attempt.fill, level.team_max, strict=True))
            reasons = [] if over else judge(level, attempt.teams)
            failed = [reason is not None for reason in reasons]
            if reasons:
                # The complete match's check counts for the rules judged only there, and for a
                # rule checked while building only if it fails now.
                judged = [r for r in level.rules if failed[r.index] or (not r.gates and not r.sorts)]
                self.count(attempt, judged, failed, None)
            if not over and not any(failed[r.index] for r in level.enforced):
                self.emit(attempt, level, reasons)
                return attempt
            if len(attempt.added) <= 1 or trims >= MAX_TRIMS:
                failing = [r for r in level.enforced if failed and failed[r.index]]
                if failing:
                    note = (
                        "The match around this ticket reached its team sizes but failed rule "
                        + ", ".join(r.name for r in failing)
                        + f": {reasons[failing[0].index]}"
                    )
                else:
                    note = "The match around this ticket could not keep its teams within their sizes."
                self.notes[anchor.seq] = [note]
                return None
            ticket, j = attempt.added.pop()
            attempt.teams[j].pop()
            attempt.states.clear()
            attempt.fill[j] -= ticket.size
            attempt.newest = max((t.start for t, _ in attempt.added), default=-math.inf)
            attempt.oldest = min((t.start for t, _ in attempt.added), default=math.inf)
            trims += 1

    def emit(self, attempt: _Attempt, level: Level, reasons: list[str | None]) -> None:
        engine = self.engine
        attribute = engine.algorithm.balanced_attribute
        if engine.algorithm.strategy == "balanced" and attribute is not None:
            balanced = _rebalance(attempt.teams, attempt.fill, attribute)
            if balanced is not None:
                again = judge(level, balanced)
                if not any(again[r.index] is not None for r in level.enforced):
                    attempt.teams, reasons = balanced, again
        wait = max(0.0, self.now - (attempt.oldest if engine.oldest else attempt.newest))
        results = tuple(
            RuleResult(r.name, r.type, reason is None, reason, r.enforced) for r, reason in zip(level.rules, reasons, strict=True)
        )
        evaluation = MatchEvaluation(
            True, wait, results, (), level.expanded, placement_region(engine, level, attempt.teams)
        )
        teams = {name: tuple(t.ticket_id for t in team) for name, team in zip(engine.team_names, attempt.teams, strict=True)}
        self.matches.append(FormedMatch(teams, metrics(self.names, attempt.counts), evaluation))


def _record(counts: list[list[int]], mine: list[list[int]] | None, rule: int, failed: bool) -> None:
    """Count one check of a rule for an attempt and, unless None, a candidate."""
    k = 1 if failed else 0
    counts[rule][k] += 1
    if mine is not None:
        mine[rule][k] += 1


def _rebalance(teams: list[ex.Team], fill: list[int], attribute: str) -> list[ex.Team] | None:
    """The same tickets over the same team sizes, dealt to even out the teams' average
    ``attribute``: highest value first, each to the open team with the lowest average so far
    (empty teams first). None when the parties cannot be dealt that way."""
    tickets = [t for team in teams for t in team]

    def value(t: Prepared) -> float:
        v = t.values(attribute, "avg")[0]
        return float(v) if v is not None else 0.0

    tickets.sort(key=lambda t: (-t.size, -value(t), t.start, t.seq))
    room = list(fill)
    sums = [0.0] * len(teams)
    counts = [0] * len(teams)
    dealt: list[ex.Team] = [ex.Team() for _ in teams]
    for t in tickets:
        open_teams = [j for j in range(len(teams)) if room[j] >= t.size]
        if not open_teams:
            return None
        j = min(open_teams, key=lambda j: (sums[j] / counts[j] if counts[j] else -math.inf, -room[j], j))
        dealt[j].append(t)
        room[j] -= t.size
        sums[j] += value(t) * t.size
        counts[j] += t.size
    return dealt
