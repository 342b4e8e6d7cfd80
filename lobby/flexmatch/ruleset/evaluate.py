"""Judge a candidate match against a rule set, with the expansions its tickets' wait earns.

:func:`evaluate_match` takes teams of tickets and ``now`` and answers, rule by rule, whether the
match passes and why not. The wait that picks the expansion level is measured from the newest
ticket's start (``expansionAgeSelection`` "newest", the default) or the oldest one's.

This module also holds the engine's internal forms: :class:`Engine` (a rule set compiled once,
cached per rule set) and :class:`Prepared` (a ticket with its players' attribute values checked,
defaults filled in, and per-rule aggregates cached).
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any

from lobby.flexmatch.ruleset import expressions as ex
from lobby.flexmatch.ruleset.expansions import Level, Levels
from lobby.flexmatch.ruleset.model import AttributeValue, LatencyRule, RuleSet
from lobby.flexmatch.ruleset.players import Ticket
from lobby.flexmatch.ruleset.rules import LatencyCompiled, Regions

def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


_NUMBER_AGGREGATES: dict[str, Callable[[Sequence[float]], float]] = {"avg": _mean, "min": min, "max": max}


class Engine:
    """A rule set compiled for evaluation: its scope for expressions, its expansion levels,
    and what tickets must carry."""

    def __init__(self, rule_set: RuleSet) -> None:
        self.algorithm = rule_set.algorithm
        self.teams = rule_set.teams
        self.rules = rule_set.rules
        self.team_names = tuple(t.name for t in rule_set.teams)
        self.types = {a.name: a.type for a in rule_set.player_attributes}
        self.defaults: dict[str, AttributeValue | None] = {a.name: a.default for a in rule_set.player_attributes}
        index: dict[str, tuple[int, ...]] = {t.name: (i,) for i, t in enumerate(rule_set.teams)}
        for definition in rule_set.team_definitions:
            index.setdefault(
                definition.name, tuple(i for i, t in enumerate(rule_set.teams) if t.definition == definition.name)
            )
        self.scope = ex.Scope(self.types, index, len(rule_set.teams))
        self.levels = Levels(rule_set, self.scope)
        self.latency_rules = tuple(r for r in rule_set.rules if isinstance(r, LatencyRule))
        #: (rule index, loosest maxLatency over every expansion level, partyAggregation) of each
        #: enforced latency rule: two tickets whose regions under that limit do not meet can
        #: never share a match.
        filters: list[tuple[int, float, str]] = []
        for rule in self.levels.levels[0].rules:
            if isinstance(rule, LatencyCompiled) and rule.enforced:
                loosest = max(_latency_limit(level.rules[rule.index]) for level in self.levels.levels)
                filters.append((rule.index, loosest, rule.aggregation))
        self.region_filter = tuple(filters)
        self.largest_team = rule_set.largest_team
        self.is_large = rule_set.is_large
        self.max_players = rule_set.max_players
        self.oldest = rule_set.algorithm.expansion_age_selection == "oldest"

    def wait(self, starts: Sequence[float], now: float) -> float:
        if not starts:
            return 0.0
        start = min(starts) if self.oldest else max(starts)
        return max(0.0, now - start)

    def prepare(self, ticket: Ticket, seq: int, regions: Regions) -> Prepared:
        return Prepared(ticket, seq, self, regions)


def _latency_limit(rule: object) -> float:
    return rule.max_latency if isinstance(rule, LatencyCompiled) else math.inf


_ENGINES: dict[int, tuple[weakref.ref[RuleSet], Engine]] = {}
_ENGINES_LOCK = threading.Lock()


def engine_for(rule_set: RuleSet) -> Engine:
    """The rule set's engine, compiled on first use and kept while the rule set lives."""
    key = id(rule_set)
    found = _ENGINES.get(key)
    if found is not None and found[0]() is rule_set:
        return found[1]
    engine = Engine(rule_set)
    with _ENGINES_LOCK:
        _ENGINES[key] = (weakref.ref(rule_set), engine)
    weakref.finalize(rule_set, _forget, key)
    return engine


_OPENED: dict[tuple[int, int], tuple[weakref.ref[RuleSet], RuleSet]] = {}


def keep_open(rule_set: RuleSet, slots: int) -> RuleSet:
    """The rule set as a configuration with an AdditionalPlayerCount of ``slots`` uses it: a
    match takes ``slots`` fewer players (a single team of 12 with 2 open takes 10). Slots are
    taken one at a time from the team with the most room left (the first of equals), never
    leaving a team fewer than one player; a team's minimum falls with its maximum. Kept (the
    same object, so its compiled engine too) while ``rule_set`` lives."""
    if slots <= 0:
        return rule_set
    key = (id(rule_set), slots)
    found = _OPENED.get(key)
    if found is not None and found[0]() is rule_set:
        return found[1]
    kept = [0] * len(rule_set.teams)
    for _ in range(slots):
        room = [t.max_players - k for t, k in zip(rule_set.teams, kept, strict=True)]
        widest = max(range(len(room)), key=lambda i: (room[i], -i))
        if room[widest] <= 1:
            break
        kept[widest] += 1
    opened = replace(rule_set, open_slots=tuple(kept))
    with _ENGINES_LOCK:
        _OPENED[key] = (weakref.ref(rule_set), opened)
    weakref.finalize(rule_set, _forget_opened, key)
    return opened


def _forget_opened(key: tuple[int, int]) -> None:
    with _ENGINES_LOCK:
        found = _OPENED.get(key)
        if found is not None and found[0]() is None:
            del _OPENED[key]


def _forget(key: int) -> None:
    with _ENGINES_LOCK:
        found = _ENGINES.get(key)
        if found is not None and found[0]() is None:
            del _ENGINES[key]


class Prepared:
    """A ticket ready for evaluation. ``problems`` lists why it can never be matched (a missing
    attribute without default, a value of the wrong type, no latency data where a latency rule
    needs it, a party too large for any team); the others are working state of the builder."""

    __slots__ = (
        "ticket", "ticket_id", "start", "seq", "size", "player_ids", "_players", "_types",
        "cache", "_latency", "masks", "regions", "_loose", "problems", "tally", "matched",
    )  # fmt: skip

    def __init__(self, ticket: Ticket, seq: int, engine: Engine, regions: Regions) -> None:
        self.ticket = ticket
        self.regions = regions
        self.ticket_id = ticket.ticket_id
        self.start = float(ticket.start_time)
        self.seq = seq
        self.size = len(ticket.players)
        self.player_ids = tuple(p.player_id for p in ticket.players)
        self._types = engine.types
        self.cache: dict[str, tuple[Any, ...]] = {}
        self._latency: dict[str, Mapping[str, float]] = {}
        self.masks: dict[str, int] = {}
        self._loose: list[int] | None = None
        self.problems: list[str] = []
        #: Per rule index, [passed, failed] counts of the evaluations this ticket took part in.
        self.tally: list[list[int]] | None = None
        self.matched = False
        players: list[dict[str, Any]] = []
        for player in ticket.players:
            resolved: dict[str, Any] = {}
            for name, kind in engine.types.items():
                value = player.attributes.get(name)
                if value is None:
                    value = engine.defaults[name]
                    if value is None:
                        self.problems.append(
                            f"Player {player.player_id} has no value for attribute {name}, which has no default."
                        )
                        continue
                normal = _normalise(value, kind)
                if normal is None:
                    self.problems.append(f"Player {player.player_id}'s attribute {name} is not a {kind} value.")
                    continue
                resolved[name] = normal
            players.append(resolved)
            if engine.latency_rules and not player.latencies:
                self.problems.append(
                    f"Player {player.player_id} reports no latency, and rule {engine.latency_rules[0].name} "
                    "evaluates latency."
                )
        self._players = players
        if self.size == 0:
            self.problems.append("The ticket has no players.")
        elif self.size > engine.largest_team:
            self.problems.append(
                f"The ticket's {self.size} players cannot join one team: the largest team holds {engine.largest_team}."
            )

    def values(self, attribute: str, aggregation: str) -> tuple[Any, ...]:
        """What this ticket contributes to ``players.attributes[attribute]`` under a rule's
        partyAggregation: one aggregated value for a party's numbers (or, in a collection
        rule, one union or intersection of its string lists), else one value per player."""
        key = f"{aggregation}:{attribute}"
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self._contribution(attribute, aggregation)
        return found

    def _contribution(self, attribute: str, aggregation: str) -> tuple[Any, ...]:
        raw: tuple[Any, ...] = tuple(p.get(attribute) for p in self._players)
        if self.size < 2:
            return raw
        kind = self._types.get(attribute)
        if kind == "number" and aggregation in _NUMBER_AGGREGATES:
            return (_NUMBER_AGGREGATES[aggregation](raw),)
        if kind == "string_list" and aggregation == "union":
            return (tuple(dict.fromkeys(chain.from_iterable(raw))),)
        if kind == "string_list" and aggregation == "intersection":
            common = set(raw[0]).intersection(*raw[1:])
            return (tuple(s for s in raw[0] if s in common),)
        return raw

    def player_values(self, attribute: str) -> tuple[Any, ...]:
        """Each player's own value of an attribute."""
        return self.values(attribute, "")

    def latency(self, aggregation: str) -> Mapping[str, float]:
        """The ticket's latency per region its every player reports, aggregated over a party."""
        found = self._latency.get(aggregation)
        if found is None:
            players = self.ticket.players
            if len(players) == 1:
                found = players[0].latencies  # one player: the aggregate is the player's own
            else:
                regions = set(players[0].latencies) if players else set()
                for p in players[1:]:
                    regions.intersection_update(p.latencies)
                reduce = _NUMBER_AGGREGATES.get(aggregation, _mean)
                found = {r: float(reduce([float(p.latencies[r]) for p in players])) for r in sorted(regions)}
            self._latency[aggregation] = found
        return found

    def mask(self, max_latency: float, aggregation: str) -> int:
        """The regions (bits, see :class:`Regions`) where the ticket's latency is at most
        ``max_latency``; also kept in ``masks`` under :func:`mask_key`."""
        key = mask_key(max_latency, aggregation)
        found = self.masks.get(key)
        if found is None:
            found = 0
            for region, ms in self.latency(aggregation).items():
                if ms <= max_latency:
                    found |= 1 << self.regions.bit(region)
            self.masks[key] = found
        return found


    def loose(self, region_filter: Sequence[tuple[int, float, str]]) -> list[int]:
        """Per entry of an engine's ``region_filter``, the regions where this ticket could
        ever satisfy that latency rule."""
        found = self._loose
        if found is None:
            found = self._loose = [self.mask(limit, aggregation) for _, limit, aggregation in region_filter]
        return found


def mask_key(max_latency: float, aggregation: str) -> str:
    return f"{max_latency!r}/{aggregation}"


def _normalise(value: Any, kind: str) -> Any:
    if kind == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        return None
    if kind == "string":
        return value if isinstance(value, str) else None
    if kind == "string_list":
        if isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value):
            return tuple(dict.fromkeys(value))
        return None
    if isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) for k, v in value.items()
    ):
        return {k: float(v) for k, v in value.items()}
    return None


# --- judging a match -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str
    type: str
    passed: bool
    #: Why the rule failed, in a sentence; None when it passed.
    reason: str | None
    #: False for sort rules and for rules only a compound rule uses: they decide nothing alone.
    enforced: bool


@dataclass(frozen=True, slots=True)
class MatchEvaluation:
    """A candidate match judged at one moment."""

    passed: bool
    #: The wait (seconds) that chose the expansion level.
    wait_seconds: float
    rules: tuple[RuleResult, ...]
    #: Team sizes outside their bounds, and tickets that can never be matched.
    problems: tuple[str, ...]
    #: (expansion target, value) for every expansion in effect.
    expanded: tuple[tuple[str, Any], ...]
    #: Where the match would be placed: of the regions every ticket may use, the one with the
    #: lowest average latency; None when the players report no latency.
    region: str | None

    def result(self, rule: str) -> RuleResult:
        for r in self.rules:
            if r.rule == rule:
                return r
        raise KeyError(rule)

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.rules if r.enforced and not r.passed)


def judge(level: Level, teams: Sequence[ex.Team]) -> list[str | None]:
    """Every rule's final outcome at a level: None for a pass, else the reason."""
    outcomes: list[bool] = [True] * len(level.rules)
    reasons: list[str | None] = []
    for rule in level.rules:
        reason = rule.final(teams, outcomes)
        outcomes[rule.index] = reason is None
        reasons.append(reason)
    return reasons


def team_problems(engine: Engine, level: Level, teams: Sequence[Sequence[Prepared]]) -> list[str]:
    problems = []
    for name, low, high, team in zip(engine.team_names, level.team_min, level.team_max, teams, strict=True):
        count = sum(t.size for t in team)
        if count < low:
            problems.append(f"Team {name} has {count} players; it needs at least {low}.")
        elif count > high:
            problems.append(f"Team {name} has {count} players; it holds at most {high}.")
    return problems


def placement_region(engine: Engine, level: Level, teams: Sequence[ex.Team]) -> str | None:
    tickets = [t for team in teams for t in team]
    if not tickets:
        return None
    mask = -1
    for rule in level.rules:
        if isinstance(rule, LatencyCompiled) and rule.enforced:
            mask &= rule.regions(teams)
    for t in tickets:
        mask &= t.mask(math.inf, "avg")
    best: tuple[float, str] | None = None
    bit = 0
    while mask > 0 and mask >> bit:
        if mask >> bit & 1:
            name = tickets[0].regions.names[bit]
            average = math.fsum(t.latency("avg")[name] * t.size for t in tickets) / sum(t.size for t in tickets)
            if best is None or (average, name) < best:
                best = (average, name)
        bit += 1
    return best[1] if best else None


def evaluate_match(rule_set: RuleSet, teams: Mapping[str, Sequence[Ticket]], now: float) -> MatchEvaluation:
    """Judge a candidate match (team name -> its tickets) at ``now`` (seconds, the clock of the
    tickets' start times). Teams left out of ``teams`` are empty; an unknown team name raises
    ValueError."""
    engine = engine_for(rule_set)
    unknown = [name for name in teams if name not in engine.team_names]
    if unknown:
        raise ValueError(f"The rule set has no team named {unknown[0]!r}.")
    seq = 0
    regions = Regions()
    prepared: list[ex.Team] = []
    for name in engine.team_names:
        team = ex.Team()
        for ticket in teams.get(name, ()):
            team.append(engine.prepare(ticket, seq, regions))
            seq += 1
        prepared.append(team)
    wait = engine.wait([t.start for team in prepared for t in team], now)
    level = engine.levels.at(wait)
    problems = team_problems(engine, level, prepared)
    for team in prepared:
        for t in team:
            problems.extend(f"Ticket {t.ticket_id}: {p}" for p in t.problems)
    if any(t.problems for team in prepared for t in team):
        results = tuple(
            RuleResult(r.name, r.type, False, "Not evaluated: a ticket of the match cannot be matched.", r.enforced)
            for r in level.rules
        )
        return MatchEvaluation(False, wait, results, tuple(problems), level.expanded, None)
    reasons = judge(level, prepared)
    results = tuple(
        RuleResult(r.name, r.type, reason is None, reason, r.enforced) for r, reason in zip(level.rules, reasons, strict=True)
    )
    passed = not problems and all(r.passed for r in results if r.enforced)
    return MatchEvaluation(passed, wait, results, tuple(problems), level.expanded, placement_region(engine, level, prepared))
