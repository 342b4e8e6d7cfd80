"""Expansions: the rule set as it stands after a given wait.

Every distinct ``waitTimeSeconds`` of every expansion starts a new :class:`Level`; a level
holds the team sizes and the compiled rules with each target at the value of its latest step
whose wait has passed. Steps are absolute: a step at 15 s replaces the one at 5 s.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from lobby.flexmatch.ruleset import expressions as ex
from lobby.flexmatch.ruleset.compound import rule_names
from lobby.flexmatch.ruleset.model import CompoundRule, Expr, RuleSet, RuleTarget, TeamTarget
from lobby.flexmatch.ruleset.rules import CompiledRule, compile_rule


class Level:
    """The rule set from ``since`` seconds of wait until the next expansion step."""

    __slots__ = (
        "index", "since", "team_min", "team_max", "rules", "whole", "whole_reads_teams", "per_team", "enforced",
        "expanded",
    )  # fmt: skip

    def __init__(
        self,
        index: int,
        since: float,
        team_min: tuple[int, ...],
        team_max: tuple[int, ...],
        rules: tuple[CompiledRule, ...],
        expanded: tuple[tuple[str, Any], ...],
    ) -> None:
        self.index = index
        self.since = since
        self.team_min = team_min
        self.team_max = team_max
        self.rules = rules
        # The rules worth asking, while a match is built, whether a ticket broke them for good:
        # those blind to teams (asked once per ticket), then the others (asked per team tried).
        gate = [r for r in rules if r.gates or r.type == "compound"]
        self.whole = tuple(r for r in gate if r.whole_match)
        self.per_team = tuple(r for r in gate if not r.whole_match)
        self.whole_reads_teams = any(not r.incremental for r in self.whole)
        self.enforced = tuple(r for r in rules if r.enforced)
        #: (target, value) of every expansion in effect at this level.
        self.expanded = expanded


class Levels:
    def __init__(self, rule_set: RuleSet, scope: ex.Scope) -> None:
        subordinate = {
            name for rule in rule_set.rules if isinstance(rule, CompoundRule) for name in rule_names(rule.tree)
        }
        indexes = {rule.name: i for i, rule in enumerate(rule_set.rules)}
        self.thresholds = sorted({s.wait_seconds for e in rule_set.expansions for s in e.steps})
        definitions = [t.definition for t in rule_set.teams]
        self.levels: list[Level] = []
        for index, since in enumerate([0.0, *self.thresholds]):
            rule_values: dict[str, dict[str, Any]] = {}
            team_values: dict[tuple[str, str], int] = {}
            expanded: list[tuple[str, Any]] = []
            for expansion in rule_set.expansions:
                passed = [s for s in expansion.steps if s.wait_seconds <= since and index > 0]
                if not passed:
                    continue
                value = passed[-1].value
                expanded.append((str(expansion.target), value.text if isinstance(value, Expr) else value))
                target = expansion.target
                if isinstance(target, RuleTarget):
                    rule_values.setdefault(target.rule, {})[target.field] = value
                else:
                    assert isinstance(target, TeamTarget) and isinstance(value, float)
                    for name in target.teams:
                        team_values[(name, target.field)] = int(value)
            kept = rule_set.open_slots or (0,) * len(definitions)
            highs = tuple(
                max(1, team_values.get((d, "maxPlayers"), t.max_players) - k)
                for d, t, k in zip(definitions, rule_set.teams, kept, strict=True)
            )
            lows = tuple(
                min(team_values.get((d, "minPlayers"), t.min_players), high)
                for d, t, high in zip(definitions, rule_set.teams, highs, strict=True)
            )
            compiled = tuple(
                compile_rule(
                    rule,
                    i,
                    rule.name not in subordinate and rule.type not in ("absoluteSort", "distanceSort"),
                    scope,
                    rule_values.get(rule.name, {}),
                    indexes,
                )
                for i, rule in enumerate(rule_set.rules)
            )
            self.levels.append(Level(index, since, lows, highs, compiled, tuple(expanded)))

    def at(self, wait: float) -> Level:
        """The level in effect after ``wait`` seconds."""
        return self.levels[bisect_right(self.thresholds, wait)]
