"""Rule evaluators: each rule of a rule set, compiled for one set of expanded values.

A compiled rule answers two questions about a candidate match (a list of teams, each a list of
tickets, in the rule set's team order):

- :meth:`CompiledRule.final` -- does the complete match satisfy the rule? ``None`` when it
  does, else the reason it does not, in a sentence.
- :meth:`CompiledRule.blocks` -- while the match is being built, does adding the last ticket
  make the match fail the rule for good? This is the check FlexMatch documents for each
  prospective ticket ("if the rule fails, the prospective player is not added"). Rules whose
  outcome depends on how many players the teams hold (``count``, ``sum``), and lower bounds that
  more players can still reach (a collection's ``minCount`` with ``contains``, its ``maxCount``
  with ``intersection``), never block: they are judged when the match is complete.

``outcomes`` passes earlier rules' results to compound rules (which may name only rules defined
before them): for :meth:`final` whether each passed, for :meth:`blocks` whether each blocked.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from lobby.flexmatch.ruleset import expressions as ex
from lobby.flexmatch.ruleset.model import (
    BatchDistanceRule,
    Call,
    CollectionRule,
    ComparisonRule,
    CompoundRule,
    DistanceRule,
    Expr,
    LatencyRule,
    Reference,
    Rule,
    RuleRef,
    Statement,
)


class TicketLike(ex.TicketView, Protocol):
    """What rule evaluators read from a ticket, beyond what expressions read."""

    @property
    def size(self) -> int: ...

    def player_values(self, attribute: str) -> tuple[Any, ...]: ...

    def latency(self, aggregation: str) -> Mapping[str, float]: ...

    @property
    def masks(self) -> dict[str, int]: ...

    @property
    def regions(self) -> Regions: ...

    def mask(self, max_latency: float, aggregation: str) -> int: ...


Teams = ex.Teams

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
}


def show(value: Any) -> str:
    """A value as a reason sentence shows it: 10 rather than 10.0."""
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return repr(value)


#: What a failed check found, for :meth:`CompiledRule.describe` to put in words.
Violation = tuple[Any, ...]


class CompiledRule:
    """A rule ready to evaluate. ``enforced`` is false for rules that only a compound rule uses
    (FlexMatch judges those through the compound rule) and for sort rules."""

    __slots__ = ("name", "index", "type", "enforced", "gates", "whole_match", "incremental", "sorts")

    def __init__(self, rule: Rule, index: int, enforced: bool) -> None:
        self.name = rule.name
        self.index = index
        self.type = rule.type
        self.enforced = enforced
        #: Whether :meth:`blocks` can ever answer True (else the builder need not ask).
        self.gates = True
        #: Whether the outcome ignores which team each ticket is on (latency, batchDistance).
        self.whole_match = False
        #: Whether :meth:`fold` and :meth:`broken` can stand for :meth:`blocks`.
        self.incremental = False
        #: Whether it is a sort rule (it orders candidates and never passes or fails).
        self.sorts = rule.type in ("absoluteSort", "distanceSort")

    def violation(self, teams: Teams, outcomes: Sequence[bool]) -> Violation | None:
        """What makes the complete match fail the rule; None when it passes."""
        raise NotImplementedError

    def describe(self, violation: Violation) -> str:
        raise NotImplementedError

    def final(self, teams: Teams, outcomes: Sequence[bool]) -> str | None:
        found = self.violation(teams, outcomes)
        return None if found is None else self.describe(found)

    def blocks(self, teams: Teams, outcomes: Sequence[bool]) -> bool:
        return self.violation(teams, outcomes) is not None

    # A rule blind to teams may also judge a growing match from a running summary of its
    # tickets: ``fold(empty(), t1, ..., tn)`` is ``broken`` exactly when ``blocks`` would be.

    def empty(self) -> Any:
        raise NotImplementedError

    def fold(self, state: Any, ticket: TicketLike) -> Any:
        raise NotImplementedError

    def broken(self, state: Any) -> bool:
        raise NotImplementedError


class _Measured:
    """A compiled measurement or reference expression and its type."""

    __slots__ = ("text", "fn", "type")

    def __init__(self, text: str, scope: ex.Scope, aggregation: str) -> None:
        node = ex.parse(text)
        self.text = text
        self.type = ex.type_of(node, scope)
        self.fn = ex.compile_expression(node, scope, aggregation)

    def leaves(self, teams: Teams) -> list[Any]:
        return ex.leaves(self.fn(teams), self.type.depth)


def _sized(texts: Sequence[str]) -> bool:
    return any(ex.uses_size(ex.parse(t)) for t in texts)


def _blind(texts: Sequence[str], scope: ex.Scope) -> bool:
    return all(ex.team_blind(ex.parse(t), scope) for t in texts)


class ComparisonCompiled(CompiledRule):
    __slots__ = ("measures", "reference", "literal", "op", "symbol")

    def __init__(self, rule: ComparisonRule, index: int, enforced: bool, scope: ex.Scope, reference: Reference | None) -> None:
        super().__init__(rule, index, enforced)
        self.measures = [_Measured(t, scope, rule.party_aggregation) for t in rule.measurements]
        self.reference = _Measured(reference.text, scope, rule.party_aggregation) if isinstance(reference, Expr) else None
        self.literal = None if isinstance(reference, Expr) else reference
        self.symbol = rule.operation
        self.op = _OPERATORS[rule.operation]
        texts = list(rule.measurements) + ([reference.text] if isinstance(reference, Expr) else [])
        self.gates = not _sized(texts)
        self.whole_match = _blind(texts, scope)

    def violation(self, teams: Teams, outcomes: Sequence[bool]) -> Violation | None:
        if self.reference is None and self.literal is None:
            return self._across(teams)
        if self.reference is not None:
            refs = self.reference.leaves(teams)
            if not refs:
                return None
        else:
            refs = [self.literal]
        op = self.op
        for measure in self.measures:
            for value in measure.leaves(teams):
                for ref in refs:
                    if not op(value, ref):
                        return ("reference", measure.text, value, ref)
        return None

    def _across(self, teams: Teams) -> Violation | None:
        for measure in self.measures:
            values = measure.leaves(teams)
            distinct = set(values)
            if self.symbol == "=" and len(distinct) > 1:
                return ("differ", measure.text, distinct)
            if self.symbol == "!=" and len(distinct) < len(values):
                seen: set[Any] = set()
                for value in values:
                    if value in seen:
                        return ("repeat", measure.text, value)
                    seen.add(value)
        return None

    def describe(self, violation: Violation) -> str:
        kind, text, *rest = violation
        if kind == "reference":
            value, ref = rest
            what = f" ({self.reference.text})" if self.reference is not None else ""
            return f"{text} gives {show(value)}, which is not {self.symbol} {show(ref)}{what}."
        if kind == "differ":
            return f"{text} gives different values ({show(sorted(rest[0], key=str)[:5])}); they must all be equal."
        return f"{text} gives {show(rest[0])} more than once; the values must all differ."


class DistanceCompiled(CompiledRule):
    __slots__ = ("measures", "reference", "literal", "high", "low")

    def __init__(
        self, rule: DistanceRule, index: int, enforced: bool, scope: ex.Scope,
        reference: float | Expr, high: float | None, low: float | None,
    ) -> None:  # fmt: skip
        super().__init__(rule, index, enforced)
        self.measures = [_Measured(t, scope, rule.party_aggregation) for t in rule.measurements]
        self.reference = _Measured(reference.text, scope, rule.party_aggregation) if isinstance(reference, Expr) else None
        self.literal = reference if isinstance(reference, float) else None
        self.high = high
        self.low = low
        texts = list(rule.measurements) + ([reference.text] if isinstance(reference, Expr) else [])
        self.gates = not _sized(texts)
        self.whole_match = _blind(texts, scope)

    def violation(self, teams: Teams, outcomes: Sequence[bool]) -> Violation | None:
        if self.reference is not None:
            ref = self.reference.fn(teams)
            if ref is None:
                return None
        else:
            ref = self.literal
        high, low = self.high, self.low
        for measure in self.measures:
            for value in measure.leaves(teams):
                distance = abs(value - ref)
                if (high is not None and distance > high) or (low is not None and distance < low):
                    return (measure.text, value, ref, distance)
        return None

    def describe(self, violation: Violation) -> str:
        text, value, ref, distance = violation
        if self.high is not None and distance > self.high:
            bound = f"the most allowed is {show(self.high)}"
        else:
            bound = f"the least allowed is {show(self.low)}"
        return f"{text} gives {show(value)}, {show(distance)} from {show(ref)}; {bound}."


class CollectionCompiled(CompiledRule):
    __slots__ = ("measures", "operation", "literal", "reference", "low", "high")

    def __init__(
        self, rule: CollectionRule, index: int, enforced: bool, scope: ex.Scope,
        reference: Reference | None, low: int | None, high: int | None,
    ) -> None:  # fmt: skip
        super().__init__(rule, index, enforced)
        self.measures = [_Measured(t, scope, rule.party_aggregation) for t in rule.measurements]
        self.operation = rule.operation
        self.reference = _Measured(reference.text, scope, rule.party_aggregation) if isinstance(reference, Expr) else None
        self.literal: Any = None if isinstance(reference, Expr) else reference
        if low is None and high is None:
            low = 1
        self.low = low
        self.high = high
        self.whole_match = _blind(
            list(rule.measurements) + ([reference.text] if isinstance(reference, Expr) else []), scope
        )

    def collections(self, measure: _Measured, teams: Teams) -> list[Any]:
        value = measure.fn(teams)
        depth = measure.type.depth
        if depth == 1:
            return [value]
        if depth == 2:
            return [v for v in value if v is not None]
        return [c for group in value for c in group if c is not None]

    def violation(self, teams: Teams, outcomes: Sequence[bool]) -> Violation | None:
        return self._check(teams, self.low, self.high)

    def blocks(self, teams: Teams, outcomes: Sequence[bool]) -> bool:
        # More tickets can only add collections holding the reference (contains) and can only
        # shrink what every collection shares (intersection): judge the other bound at the end.
        if self.operation == "contains":
            return self._check(teams, None, self.high) is not None
        if self.operation == "intersection":
            return self._check(teams, self.low, None) is not None
        return self._check(teams, self.low, self.high) is not None

    def _check(self, teams: Teams, low: int | None, high: int | None) -> Violation | None:
        for measure in self.measures:
            groups = self.collections(measure, teams)
            if self.operation == "contains":
                count = sum(1 for c in groups if self.literal in c)
                subject: Any = measure.text
            elif self.operation == "intersection":
                if not groups:
                    continue
                common = set(groups[0])
                for c in groups[1:]:
                    common.intersection_update(c)
                count, subject = len(common), measure.text
            else:
                ref = set(self.reference.leaves(teams) if self.reference is not None else self.literal)
                for c in groups:
                    count = len(ref.intersection(c))
                    if (low is not None and count < low) or (high is not None and count > high):
                        return (list(c), count)
                continue
            if (low is not None and count < low) or (high is not None and count > high):
                return (subject, count)
        return None

    def describe(self, violation: Violation) -> str:
        subject, count = violation
        if self.operation == "contains":
            what = f"The number of collections in {subject} holding {self.literal!r}"
        elif self.operation == "intersection":
            what = f"The number of values common to every collection in {subject}"
        else:
            what = f"The intersection of {show(subject)} with the reference values"
        if self.low is not None and count < self.low:
            return f"{what} is {count}; the least allowed is {self.low}."
        return f"{what} is {count}; the most allowed is {self.high}."


class LatencyCompiled(CompiledRule):
    __slots__ = ("max_latency", "max_distance", "reference", "aggregation", "key")

    def __init__(
        self, rule: LatencyRule, index: int, enforced: bool, max_latency: float | None, max_distance: float | None
    ) -> None:
        super().__init__(rule, index, enforced)
        self.max_latency = math.inf if max_latency is None else max_latency
        self.max_distance = max_distance
        self.reference = rule.distance_reference or "min"
        self.aggregation = rule.party_aggregation
        self.whole_match = True
        self.incremental = max_distance is None
        self.key = f"{self.max_latency!r}/{self.aggregation}"  # see evaluate.mask_key

    def empty(self) -> int:
        return -1

    def fold(self, state: int, ticket: TicketLike) -> int:
        found = ticket.masks.get(self.key)
        return state & (ticket.mask(self.max_latency, self.aggregation) if found is None else found)

    def broken(self, state: int) -> bool:
        return state == 0

    def regions(self, teams: Teams) -> int:
        """The regions (as a bit mask) where every ticket's latency is acceptable."""
        mask = -1
        for team in teams:
            for ticket in team:
                mask = self.fold(mask, ticket)
                if not mask:
                    return 0
        return mask

    def violation(self, teams: Teams, outcomes: Sequence[bool]) -> Violation | None:
        mask = self.regions(teams)
        if not mask:
            return ("none",)
        if self.max_distance is not None and self.region_within_distance(teams, mask) is None:
            return ("distance",)
        return None

    def describe(self, violation: Violation) -> str:
        if violation[0] == "distance":
            return (
                f"No acceptable region has every ticket's latency within {show(self.max_distance)} ms of the "
                f"{self.reference} latency."
            )
        if self.max_latency == math.inf:
            return "No region is reported by every player."
        return f"No region has a latency of at most {show(self.max_latency)} ms for every ticket."

    def region_within_distance(self, teams: Teams, mask: int) -> int | None:
        """The lowest bit of a region where every ticket is within maxDistance of the reference."""
        assert self.max_distance is not None
        tickets = [t for team in teams for t in team]
        if not tickets:
            return None
        bit = 0
        while mask >> bit:
            if mask >> bit & 1:
                region = tickets[0].regions.names[bit]
                values = [t.latency(self.aggregation)[region] for t in tickets]
                ref = min(values) if self.reference == "min" else math.fsum(values) / len(values)
                if all(abs(v - ref) <= self.max_distance for v in values):
                    return bit
            bit += 1
        return None


class Regions:
    """Bits standing for region names in latency masks, assigned on first sight and shared by
    the tickets of one evaluation (so a tick's masks never grow with regions seen before)."""

    __slots__ = ("bits", "names")

    def __init__(self) -> None:
        self.bits: dict[str, int] = {}
        self.names: list[str] = []

    def bit(self, region: str) -> int:
        found = self.bits.get(region)
        if found is None:
            found = self.bits[region] = len(self.names)
            self.names.append(region)
        return found


class BatchDistanceCompiled(CompiledRule):
    __slots__ = ("attribute", "numeric", "max_distance", "aggregation")

    def __init__(
        self, rule: BatchDistanceRule, index: int, enforced: bool, numeric: bool, max_distance: float | None
    ) -> None:
        super().__init__(rule, index, enforced)
        self.attribute = rule.batch_attribute
        self.numeric = numeric
        self.max_distance = 0.0 if max_distance is None else max_distance
        self.aggregation = rule.party_aggregation
        self.whole_match = True
        self.incremental = True

    def violation(self, teams: Teams, outcomes: Sequence[bool]) -> Violation | None:
        attribute = self.attribute
        if self.numeric:
            aggregation = self.aggregation
            values = [t.values(attribute, aggregation)[0] for team in teams for t in team]
            if values and max(values) - min(values) > self.max_distance:
                return (min(values), max(values))
            return None
        distinct = {v for team in teams for t in team for v in t.player_values(attribute)}
        return (sorted(distinct),) if len(distinct) > 1 else None

    def empty(self) -> Any:
        return (math.inf, -math.inf) if self.numeric else frozenset()

    def fold(self, state: Any, ticket: TicketLike) -> Any:
        if self.numeric:
            value = ticket.values(self.attribute, self.aggregation)[0]
            low, high = state
            return (min(low, value), max(high, value))
        return state.union(ticket.player_values(self.attribute))

    def broken(self, state: Any) -> bool:
        if self.numeric:
            low, high = state
            return bool(high - low > self.max_distance)
        return len(state) > 1

    def describe(self, violation: Violation) -> str:
        if self.numeric:
            low, high = violation
            return (
                f"The tickets' {self.attribute} values span {show(low)} to {show(high)}; "
                f"they must lie within {show(self.max_distance)} of one another."
            )
        return f"The players' {self.attribute} values differ ({show(violation[0][:5])}); they must all be equal."


class SortCompiled(CompiledRule):
    """Sort rules order candidates; they never pass or fail a match."""

    __slots__ = ()

    def __init__(self, rule: Rule, index: int) -> None:
        super().__init__(rule, index, False)
        self.gates = False

    def violation(self, teams: Teams, outcomes: Sequence[bool]) -> Violation | None:
        return None

    def blocks(self, teams: Teams, outcomes: Sequence[bool]) -> bool:
        return False


class CompoundCompiled(CompiledRule):
    __slots__ = ("statement", "passes", "fails", "names")

    def __init__(self, rule: CompoundRule, index: int, enforced: bool, indexes: dict[str, int]) -> None:
        super().__init__(rule, index, enforced)
        self.statement = rule.statement
        self.passes = _truth(rule.tree, indexes)
        self.fails = _definite_failure(rule.tree, indexes)

    def violation(self, teams: Teams, outcomes: Sequence[bool]) -> Violation | None:
        return None if self.passes(outcomes) else ()

    def describe(self, violation: Violation) -> str:
        return f"The statement {self.statement} is false for this match."

    def blocks(self, teams: Teams, outcomes: Sequence[bool]) -> bool:
        return self.fails(outcomes)


def _truth(tree: Statement, indexes: dict[str, int]) -> Callable[[Sequence[bool]], bool]:
    if isinstance(tree, RuleRef):
        i = indexes[tree.name]
        return lambda outcomes: outcomes[i]
    assert isinstance(tree, Call)
    args = [_truth(a, indexes) for a in tree.args]
    if tree.op == "and":
        return lambda outcomes: all(a(outcomes) for a in args)
    if tree.op == "or":
        return lambda outcomes: any(a(outcomes) for a in args)
    if tree.op == "not":
        (only,) = args
        return lambda outcomes: not only(outcomes)
    return lambda outcomes: sum(1 for a in args if a(outcomes)) == 1


def _definite_failure(tree: Statement, indexes: dict[str, int]) -> Callable[[Sequence[bool]], bool]:
    """While a match is built, a rule either has failed for good or may still pass, so a
    statement has failed for good only where that follows whatever the undecided rules turn
    out to be: and() with a failed argument, or()/xor() with every argument failed."""
    if isinstance(tree, RuleRef):
        i = indexes[tree.name]
        return lambda blocked: blocked[i]
    assert isinstance(tree, Call)
    args = [_definite_failure(a, indexes) for a in tree.args]
    if tree.op == "and":
        return lambda blocked: any(a(blocked) for a in args)
    if tree.op in ("or", "xor"):
        return lambda blocked: all(a(blocked) for a in args)
    return lambda blocked: False  # not(): a failed argument makes it true; an open one, open


def compile_rule(
    rule: Rule, index: int, enforced: bool, scope: ex.Scope, values: dict[str, Any], indexes: dict[str, int]
) -> CompiledRule:
    """One rule with ``values`` (its expandable properties by JSON name, as expanded)."""
    if isinstance(rule, ComparisonRule):
        return ComparisonCompiled(rule, index, enforced, scope, values.get("referenceValue", rule.reference))
    if isinstance(rule, DistanceRule):
        return DistanceCompiled(
            rule, index, enforced, scope,
            values.get("referenceValue", rule.reference),
            values.get("maxDistance", rule.max_distance),
            values.get("minDistance", rule.min_distance),
        )  # fmt: skip
    if isinstance(rule, CollectionRule):
        low = values.get("minCount", rule.min_count)
        high = values.get("maxCount", rule.max_count)
        return CollectionCompiled(
            rule, index, enforced, scope, values.get("referenceValue", rule.reference),
            None if low is None else int(low), None if high is None else int(high),
        )  # fmt: skip
    if isinstance(rule, LatencyRule):
        return LatencyCompiled(
            rule, index, enforced, values.get("maxLatency", rule.max_latency), values.get("maxDistance", rule.max_distance)
        )
    if isinstance(rule, BatchDistanceRule):
        numeric = scope.attributes.get(rule.batch_attribute) == "number"
        return BatchDistanceCompiled(rule, index, enforced, numeric, values.get("maxDistance", rule.max_distance))
    if isinstance(rule, CompoundRule):
        return CompoundCompiled(rule, index, enforced, indexes)
    return SortCompiled(rule, index)
