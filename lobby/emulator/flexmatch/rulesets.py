"""Matchmaking rule set bodies: read, checked, and turned into the teams a match must fill.

The emulator evaluates only the ``teams`` of a rule set (how many teams, how many players in
each). ``playerAttributes``, ``rules``, ``expansions`` and ``algorithm`` are checked for shape
and handed to the matchmaker with the rest of the body (:attr:`RuleSet.document`), but today's
matchmaker does not apply them. Rule names are reported in the ``ruleEvaluationMetrics`` of
events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The largest match a rule set may describe (FlexMatch's large-match ceiling).
MAX_MATCH_PLAYERS = 200
MAX_TEAMS = 10
RULE_LANGUAGE_VERSIONS = frozenset({"1.0"})
ATTRIBUTE_TYPES = frozenset({"string", "number", "string_list", "string_number_map"})


class RuleSetError(ValueError):
    """A rule set body that cannot be used; the message says why in one sentence."""


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    min_players: int
    max_players: int


@dataclass(frozen=True, slots=True)
class RuleSet:
    teams: tuple[Team, ...]  # quantity already expanded
    rule_names: tuple[str, ...]
    #: The whole body, parsed (its rules, expansions, algorithm, player attributes ...).
    document: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def min_players(self) -> int:
        return sum(t.min_players for t in self.teams)

    @property
    def max_players(self) -> int:
        return sum(t.max_players for t in self.teams)

    @property
    def largest_team(self) -> int:
        return max(t.max_players for t in self.teams)


def _at_least_one(value: object) -> int | None:
    """``value`` if it is a whole number (a bool is not) of at least 1, else None."""
    return value if type(value) is int and value >= 1 else None


def parse_rule_set(body: str) -> RuleSet:
    """Read a RuleSetBody; raise :class:`RuleSetError` when it is not a usable rule set."""
    try:
        doc = json.loads(body)
        # A lone UTF-16 surrogate (escaped, e.g. \\ud800) could not be answered back as text.
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RuleSetError(
            "The rule set body is not valid JSON: a string holds a lone UTF-16 surrogate."
        ) from None
    except ValueError as exc:
        raise RuleSetError(f"The rule set body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise RuleSetError("The rule set body is not valid JSON: it nests too deep.") from None
    if not isinstance(doc, dict):
        raise RuleSetError("The rule set body must be a JSON object.")
    version = doc.get("ruleLanguageVersion")
    if version is None:
        raise RuleSetError("The rule set body needs a ruleLanguageVersion (use \"1.0\").")
    if version not in RULE_LANGUAGE_VERSIONS:
        raise RuleSetError(f"The rule set's ruleLanguageVersion {version!r} is not supported; use \"1.0\".")
    if "name" in doc and not isinstance(doc["name"], str):
        raise RuleSetError("The rule set's name must be a string.")

    raw_teams = doc.get("teams")
    if not isinstance(raw_teams, list) or not raw_teams:
        raise RuleSetError("The rule set body needs a non-empty teams list.")
    teams: list[Team] = []
    seen: set[str] = set()
    for i, team in enumerate(raw_teams):
        where = f"teams[{i}]"
        if not isinstance(team, dict):
            raise RuleSetError(f"{where} must be an object with name, minPlayers and maxPlayers.")
        name = team.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RuleSetError(f"{where} needs a non-empty string name.")
        if name in seen:
            raise RuleSetError(f"Team name {name!r} is used twice; team names must be unique.")
        seen.add(name)
        hi = _at_least_one(team.get("maxPlayers"))
        if hi is None:
            raise RuleSetError(f"Team {name!r} needs maxPlayers, a whole number of at least 1.")
        lo = _at_least_one(team.get("minPlayers"))
        if lo is None:
            raise RuleSetError(f"Team {name!r} needs minPlayers, a whole number of at least 1.")
        if lo > hi:
            raise RuleSetError(f"Team {name!r} has minPlayers {lo} above its maxPlayers {hi}.")
        quantity = _at_least_one(team.get("quantity", 1))
        if quantity is None:
            raise RuleSetError(f"Team {name!r} has a quantity that is not a whole number of at least 1.")
        if quantity == 1:
            teams.append(Team(name, lo, hi))
        else:
            teams.extend(Team(f"{name}_{n}", lo, hi) for n in range(1, quantity + 1))
    if len(teams) > MAX_TEAMS:
        raise RuleSetError(f"The rule set describes {len(teams)} teams; at most {MAX_TEAMS} are allowed.")
    total = sum(t.max_players for t in teams)
    if total > MAX_MATCH_PLAYERS:
        raise RuleSetError(
            f"The teams hold up to {total} players; a match may hold at most {MAX_MATCH_PLAYERS}."
        )

    attributes = doc.get("playerAttributes", [])
    if not isinstance(attributes, list):
        raise RuleSetError("playerAttributes must be a list.")
    for i, attr in enumerate(attributes):
        if not isinstance(attr, dict) or not isinstance(attr.get("name"), str):
            raise RuleSetError(f"playerAttributes[{i}] needs a string name.")
        if attr.get("type") not in ATTRIBUTE_TYPES:
            raise RuleSetError(
                f"playerAttributes[{i}] ({attr['name']!r}) needs a type among "
                + ", ".join(sorted(ATTRIBUTE_TYPES))
                + "."
            )

    rules = doc.get("rules", [])
    if not isinstance(rules, list):
        raise RuleSetError("rules must be a list.")
    rule_names: list[str] = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("name"), str) or not rule["name"]:
            raise RuleSetError(f"rules[{i}] needs a non-empty string name.")
        if not isinstance(rule.get("type"), str):
            raise RuleSetError(f"Rule {rule['name']!r} needs a string type.")
        if rule["name"] in rule_names:
            raise RuleSetError(f"Rule name {rule['name']!r} is used twice; rule names must be unique.")
        rule_names.append(rule["name"])

    for key in ("expansions",):
        if key in doc and not isinstance(doc[key], list):
            raise RuleSetError(f"{key} must be a list.")
    if "algorithm" in doc and not isinstance(doc["algorithm"], dict):
        raise RuleSetError("algorithm must be an object.")
    return RuleSet(tuple(teams), tuple(rule_names), doc)
