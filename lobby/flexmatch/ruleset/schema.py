"""Read a rule set body and check it the way ValidateMatchmakingRuleSet does.

:func:`validate_rule_set` returns a :class:`RuleSet`, or every problem it found, each naming
the section (``rules[FairSkill]``, ``teams[red]``, ``expansions[0]``, ``algorithm``...) and the
field, in a sentence fit for an InvalidRequestException message. :func:`parse_rule_set` raises
:class:`RuleSetInvalid` instead. Properties the service does not know are ignored, as the
service ignores them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, TypeVar, cast

from lobby.flexmatch.ruleset import compound as statements
from lobby.flexmatch.ruleset import expressions as ex
from lobby.flexmatch.ruleset.model import (
    MAX_MATCH_PLAYERS,
    RULE_TYPES,
    SMALL_MATCH_MAX_PLAYERS,
    AbsoluteSortRule,
    Algorithm,
    AttributeValue,
    BatchDistanceRule,
    CollectionRule,
    ComparisonRule,
    CompoundRule,
    DistanceRule,
    DistanceSortRule,
    Expansion,
    ExpansionStep,
    ExpansionTarget,
    Expr,
    LatencyRule,
    PlayerAttribute,
    Reference,
    Rule,
    RuleSet,
    RuleSetInvalid,
    RuleSetProblem,
    RuleTarget,
    StepValue,
    Team,
    TeamDefinition,
    TeamTarget,
)

ATTRIBUTE_TYPES = ("string", "number", "string_list", "string_number_map")
STRATEGIES = ("exhaustiveSearch", "balanced")
BATCHING = {"random": "exhaustiveSearch", "sorted": "exhaustiveSearch",
            "largestPopulation": "balanced", "fastestRegion": "balanced"}  # fmt: skip
OPERATIONS = ("<", "<=", "=", "!=", ">", ">=")
COLLECTION_OPERATIONS = ("intersection", "contains", "reference_intersection_count")
LARGE_MATCH_RULES = ("latency", "batchDistance")
#: The rule properties an expansion may relax, by rule type.
EXPANDABLE: dict[str, tuple[str, ...]] = {
    "distance": ("maxDistance", "minDistance", "referenceValue"),
    "comparison": ("referenceValue",),
    "collection": ("minCount", "maxCount", "referenceValue"),
    "latency": ("maxLatency", "maxDistance"),
    "batchDistance": ("maxDistance",),
}
_RULE_TARGET = re.compile(r"^\s*rules\s*\[([^\]]+)\]\s*\.\s*([A-Za-z]+)\s*$")
_TEAM_TARGET = re.compile(r"^\s*teams\s*\[([^\]]+)\]\s*\.\s*([A-Za-z]+)\s*$")

T = TypeVar("T")


def parse_rule_set(body: str | Mapping[str, Any]) -> RuleSet:
    """The rule set a body describes; raise :class:`RuleSetInvalid` listing every problem."""
    result = validate_rule_set(body)
    if isinstance(result, RuleSet):
        return result
    raise RuleSetInvalid(result)


def validate_rule_set(body: str | Mapping[str, Any]) -> RuleSet | list[RuleSetProblem]:
    """The rule set a body (JSON text, or the object it holds) describes, or its problems."""
    if isinstance(body, str):
        doc, problem = _load(body)
        if problem is not None:
            return [problem]
    else:
        doc = body
    if not isinstance(doc, Mapping):
        return [RuleSetProblem("ruleSet", None, "The rule set body must be a JSON object.")]
    checker = _Checker(doc)
    rule_set = checker.run()
    if checker.problems or rule_set is None:
        return checker.problems or [RuleSetProblem("ruleSet", None, "The rule set is not valid.")]
    return rule_set


def _load(body: str) -> tuple[Any, RuleSetProblem | None]:
    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        doc = json.loads(body, parse_constant=constant)
        # A lone UTF-16 surrogate (escaped, e.g. \ud800) could not be answered back as text.
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        text = "The rule set body is not valid JSON: a string holds a lone UTF-16 surrogate."
    except RecursionError:
        text = "The rule set body is not valid JSON: it nests too deep."
    except ValueError as exc:
        text = f"The rule set body is not valid JSON: {exc}."
    else:
        return doc, None
    return None, RuleSetProblem("ruleSet", None, text)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _as_number(value: object) -> float | None:
    """A JSON number, or a string holding one (the guide writes ``"maxDistance": "500"``)."""
    if _is_number(value):
        return float(cast(float, value))
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _whole(value: object, least: int) -> int | None:
    """A JSON number that is a whole number of at least ``least``."""
    if not _is_number(value):
        return None
    number = float(cast(float, value))
    if number != int(number) or number < least:
        return None
    return int(number)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


class _Checker:
    """Walks the body once, collecting problems, and builds the rule set if there are none."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.problems: list[RuleSetProblem] = []
        self.attributes: dict[str, PlayerAttribute] = {}
        self.definitions: list[TeamDefinition] = []
        self.teams: list[Team] = []
        self.teams_ok = False
        self.scope: ex.Scope | None = None
        self.large = False
        #: Every rule name read, valid or not (problems with invalid ones are already reported).
        self.rule_names: set[str] = set()
        self.rule_order: dict[str, int] = {}
        self.readers: dict[str, Callable[[_RuleReader, str | None, list[Rule]], Rule | None]] = {
            "comparison": self.rule_comparison,
            "distance": self.rule_distance,
            "collection": self.rule_collection,
            "latency": self.rule_latency,
            "batchDistance": self.rule_batch_distance,
            "absoluteSort": self.rule_absolute_sort,
            "distanceSort": self.rule_distance_sort,
            "compound": self.rule_compound,
        }

    def problem(self, section: str, field: str | None, message: str) -> None:
        self.problems.append(RuleSetProblem(section, field, message))

    # --- top level -------------------------------------------------------------------------------

    def run(self) -> RuleSet | None:
        doc = self.doc
        version = doc.get("ruleLanguageVersion")
        if version is None:
            self.problem("ruleSet", "ruleLanguageVersion", 'The rule set needs a ruleLanguageVersion; use "1.0".')
        elif version != "1.0":
            self.problem(
                "ruleSet", "ruleLanguageVersion",
                f'The rule set\'s ruleLanguageVersion {version!r} is not supported; use "1.0".',
            )  # fmt: skip
        name = doc.get("name")
        if name is not None and not isinstance(name, str):
            self.problem("ruleSet", "name", f"The rule set's name must be a string, not {_kind(name)}.")
            name = None
        self.read_attributes(doc.get("playerAttributes"))
        self.read_teams(doc.get("teams"))
        algorithm = self.read_algorithm(doc.get("algorithm"))
        rules = self.read_rules(doc.get("rules"))
        expansions = self.read_expansions(doc.get("expansions"), rules)
        if self.problems or algorithm is None:
            return None
        return RuleSet(
            rule_language_version="1.0",
            teams=tuple(self.teams),
            team_definitions=tuple(self.definitions),
            player_attributes=tuple(self.attributes.values()),
            algorithm=algorithm,
            rules=tuple(rules),
            expansions=tuple(expansions),
            name=name,
        )

    def items(self, section: str, raw: object) -> list[Any]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(section, None, f"The {section} section must be a list, not {_kind(raw)}.")
            return []
        return raw

    def named(
        self, key: str, raw: list[Any], shape: str, taken: set[str], twice: str
    ) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
        """The entries of a list section that are objects with a new, non-empty string name,
        as (position, name, entry); problems with the others are reported. ``twice`` words
        the problem of a repeated name ({name} stands for it)."""
        for i, item in enumerate(raw):
            section = f"{key}[{i}]"
            if not isinstance(item, Mapping):
                self.problem(section, None, f"The entry {section} must be an object with {shape}.")
                continue
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                self.problem(section, "name", f"The entry {section} needs a non-empty string name.")
                continue
            if name in taken:
                self.problem(f"{key}[{name}]", "name", twice.format(name=repr(name)))
                continue
            taken.add(name)
            yield i, name, item

    # --- playerAttributes ------------------------------------------------------------------------

    def read_attributes(self, raw: object) -> None:
        entries = self.named(
            "playerAttributes", self.items("playerAttributes", raw), "a name and a type", set(),
            "Player attribute {name} is declared twice; names must be unique.",
        )  # fmt: skip
        for _, name, item in entries:
            section = f"playerAttributes[{name}]"
            kind = item.get("type")
            if kind not in ATTRIBUTE_TYPES:
                self.problem(
                    section, "type",
                    f"Player attribute {name!r} has type {kind!r}; use one of " + ", ".join(ATTRIBUTE_TYPES) + ".",
                )  # fmt: skip
                continue
            default: AttributeValue | None = None
            if "default" in item and item["default"] is not None:
                default = self.attribute_default(section, name, kind, item["default"])
            self.attributes[name] = PlayerAttribute(name, kind, default)

    def attribute_default(self, section: str, name: str, kind: str, raw: object) -> AttributeValue | None:
        value: AttributeValue | None = None
        if kind == "number":
            value = _as_number(raw)
        elif kind == "string" and isinstance(raw, str):
            value = raw
        elif kind == "string_list" and isinstance(raw, list) and all(isinstance(s, str) for s in raw):
            value = tuple(dict.fromkeys(raw))
        elif kind == "string_number_map" and isinstance(raw, Mapping) and all(_is_number(v) for v in raw.values()):
            value = {str(k): float(v) for k, v in raw.items()}
        if value is None:
            self.problem(section, "default", f"Player attribute {name!r} has a default that is not a {kind} value.")
        return value

    # --- teams -----------------------------------------------------------------------------------

    def read_teams(self, raw: object) -> None:
        if not isinstance(raw, list) or not raw:
            self.problem("teams", None, "The rule set needs teams: a list of at least one team.")
            return
        before = len(self.problems)
        ok = True
        entries = self.named(
            "teams", raw, "name, minPlayers and maxPlayers", set(),
            "Team name {name} is used twice; team names must be unique.",
        )  # fmt: skip
        for _, name, item in entries:
            section = f"teams[{name}]"
            low = self.whole(section, "minPlayers", item.get("minPlayers"), f"Team {name!r}", 1)
            high = self.whole(section, "maxPlayers", item.get("maxPlayers"), f"Team {name!r}", 1)
            quantity = 1
            if "quantity" in item:
                quantity = self.whole(section, "quantity", item.get("quantity"), f"Team {name!r}", 1) or 0
            if low is None or high is None or quantity < 1:
                ok = False
                continue
            if low > high:
                self.problem(section, "minPlayers", f"Team {name!r} has minPlayers {low} above its maxPlayers {high}.")
                ok = False
                continue
            self.definitions.append(TeamDefinition(name, low, high, quantity))
        if not ok or len(self.problems) > before:
            return
        total = sum(d.max_players * d.quantity for d in self.definitions)
        if total > MAX_MATCH_PLAYERS:
            self.problem(
                "teams", "maxPlayers",
                f"The teams hold up to {total} players; a match may hold at most {MAX_MATCH_PLAYERS}.",
            )  # fmt: skip
            return
        concrete: list[Team] = []
        for d in self.definitions:
            if d.quantity == 1:
                concrete.append(Team(d.name, d.name, d.min_players, d.max_players))
            else:
                concrete.extend(
                    Team(f"{d.name}_{n}", d.name, d.min_players, d.max_players) for n in range(1, d.quantity + 1)
                )
        made_by: dict[str, str] = {}
        quantities = {d.name: d.quantity for d in self.definitions}
        for team in concrete:
            other = made_by.get(team.name)
            if other is not None:
                if quantities[team.definition] == 1:
                    self.problem(
                        f"teams[{team.definition}]", "name",
                        f"Team name {team.name!r} is also the name of a team that team {other!r} makes with its quantity.",
                    )  # fmt: skip
                else:
                    self.problem(
                        f"teams[{team.definition}]", "quantity",
                        f"Team {team.definition!r} makes with its quantity a team named {team.name!r}, a name team "
                        f"{other!r} already has.",
                    )  # fmt: skip
                return
            made_by[team.name] = team.definition
        self.teams = concrete
        self.teams_ok = True
        self.large = total > SMALL_MATCH_MAX_PLAYERS
        index: dict[str, tuple[int, ...]] = {t.name: (i,) for i, t in enumerate(concrete)}
        for d in self.definitions:
            index.setdefault(d.name, tuple(i for i, t in enumerate(concrete) if t.definition == d.name))
        self.scope = ex.Scope({a.name: a.type for a in self.attributes.values()}, index, len(concrete))

    def whole(self, section: str, field: str, raw: object, who: str, least: int) -> int | None:
        if raw is None:
            self.problem(section, field, f"{who} needs {field}, a whole number of at least {least}.")
            return None
        value = _whole(raw, least)
        if value is None:
            self.problem(section, field, f"{who} has {field} {raw!r}; it must be a whole number of at least {least}.")
        return value

    # --- algorithm -------------------------------------------------------------------------------

    def read_algorithm(self, raw: object) -> Algorithm | None:
        section = "algorithm"
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            self.problem(section, None, f"The algorithm section must be an object, not {_kind(raw)}.")
            return None
        ok = True

        def choice(field: str, allowed: tuple[str, ...], default: str) -> str:
            nonlocal ok
            value = raw.get(field, default)
            if value not in allowed:
                self.problem(
                    section, field,
                    f"The algorithm's {field} is {value!r}; use one of " + ", ".join(allowed) + ".",
                )  # fmt: skip
                ok = False
                return default
            return cast(str, value)

        strategy = choice("strategy", STRATEGIES, "exhaustiveSearch")
        default_batching = "largestPopulation" if strategy == "balanced" else "random"
        batching = choice("batchingPreference", tuple(BATCHING), default_batching)
        age = choice("expansionAgeSelection", ("newest", "oldest"), "newest")
        backfill = choice("backfillPriority", ("normal", "low", "high"), "normal")
        if ok and BATCHING[batching] != strategy:
            self.problem(
                section, "batchingPreference",
                f'The algorithm\'s batchingPreference {batching!r} is valid only with strategy "{BATCHING[batching]}", '
                f'and the strategy is "{strategy}".',
            )  # fmt: skip
            ok = False
        sort_by: tuple[str, ...] = ()
        if "sortByAttributes" in raw:
            value = raw["sortByAttributes"]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.problem(section, "sortByAttributes", "The algorithm's sortByAttributes must be a list of attribute names.")
                ok = False
            else:
                sort_by = tuple(value)
                for attribute in sort_by:
                    if attribute not in self.attributes:
                        self.problem(
                            section, "sortByAttributes",
                            f"The algorithm's sortByAttributes names {attribute!r}, which playerAttributes does not declare.",
                        )  # fmt: skip
                        ok = False
        if batching == "sorted" and not sort_by:
            self.problem(section, "sortByAttributes", 'The algorithm\'s batchingPreference "sorted" needs sortByAttributes.')
            ok = False
        balanced = raw.get("balancedAttribute")
        if balanced is not None and not isinstance(balanced, str):
            self.problem(section, "balancedAttribute", "The algorithm's balancedAttribute must be an attribute name.")
            ok, balanced = False, None
        if strategy == "balanced" and balanced is None:
            self.problem(section, "balancedAttribute", 'The algorithm\'s strategy "balanced" needs a balancedAttribute.')
            ok = False
        if balanced is not None:
            declared = self.attributes.get(balanced)
            if declared is None:
                self.problem(
                    section, "balancedAttribute",
                    f"The algorithm's balancedAttribute names {balanced!r}, which playerAttributes does not declare.",
                )  # fmt: skip
                ok = False
            elif declared.type != "number":
                self.problem(
                    section, "balancedAttribute",
                    f"The algorithm's balancedAttribute {balanced!r} is a {declared.type}; it must be a number attribute.",
                )  # fmt: skip
                ok = False
        if self.teams_ok and self.large and strategy != "balanced":
            self.problem(
                section, "strategy",
                f"The teams hold up to {sum(t.max_players for t in self.teams)} players, a large match (more than "
                f'{SMALL_MATCH_MAX_PLAYERS}), which needs algorithm.strategy "balanced".',
            )  # fmt: skip
            ok = False
        if not ok:
            return None
        return Algorithm(
            strategy=cast(Any, strategy),
            batching_preference=cast(Any, batching),
            sort_by_attributes=sort_by,
            balanced_attribute=balanced,
            expansion_age_selection=cast(Any, age),
            backfill_priority=cast(Any, backfill),
        )

    # --- rules -----------------------------------------------------------------------------------

    def read_rules(self, raw: object) -> list[Rule]:
        rules: list[Rule] = []
        entries = self.named(
            "rules", self.items("rules", raw), "a name and a type", self.rule_names,
            "Rule name {name} is used twice; rule names must be unique.",
        )  # fmt: skip
        for i, name, item in entries:
            section = f"rules[{name}]"
            self.rule_order[name] = i
            kind = item.get("type")
            if kind not in RULE_TYPES:
                shown = repr(kind) if kind is not None else "no type"
                self.problem(
                    section, "type",
                    f"Rule {name!r} has {'type ' if kind is not None else ''}{shown}, which is not a FlexMatch rule "
                    "type; use one of " + ", ".join(RULE_TYPES) + ".",
                )  # fmt: skip
                continue
            description = item.get("description")
            if description is not None and not isinstance(description, str):
                self.problem(section, "description", f"Rule {name!r} has a description that is not a string.")
                description = None
            if self.large and kind not in LARGE_MATCH_RULES:
                self.problem(
                    section, "type",
                    f"Rule {name!r} is a {kind} rule, which a large match (more than {SMALL_MATCH_MAX_PLAYERS} "
                    "players) does not allow; use latency and batchDistance rules only.",
                )  # fmt: skip
                continue
            reader = self.readers[kind]
            before = len(self.problems)
            rule = reader(_RuleReader(self, section, name, item), description, rules)
            if rule is not None and len(self.problems) == before:
                rules.append(rule)
        return rules

    def rule_comparison(self, r: _RuleReader, description: str | None, earlier: list[Rule]) -> Rule | None:
        measurements = r.measurements(("number", "string"))
        operation = r.enum("operation", OPERATIONS, required=True)
        reference: Reference | None = None
        if "referenceValue" in r.item:
            reference = r.scalar_reference("referenceValue", r.item["referenceValue"])
        elif operation not in (None, "=", "!="):
            r.problem(
                "operation",
                f"Rule {r.name!r} has no referenceValue, so it compares players with one another and its operation "
                f"must be = or !=, not {operation}.",
            )
        if operation in ("<", "<=", ">", ">=") and measurements:
            if any(t.leaf != "number" for t in measurements):
                r.problem("operation", f"Rule {r.name!r} orders values with {operation}, so it must measure numbers.")
            if isinstance(reference, str) or (
                isinstance(reference, Expr) and r.reference_type("referenceValue", reference).leaf != "number"
            ):
                r.problem("referenceValue", f"Rule {r.name!r} orders values with {operation}; its referenceValue must be a number.")
        if measurements and reference is not None and len({t.leaf for t in measurements}) == 1:
            leaf = measurements[0].leaf
            ref_leaf = "number" if isinstance(reference, float) else "string" if isinstance(reference, str) else None
            if isinstance(reference, Expr):
                ref_leaf = r.reference_type("referenceValue", reference).leaf
            if ref_leaf is not None and ref_leaf != leaf:
                r.problem("referenceValue", f"Rule {r.name!r} compares {leaf} values with a {ref_leaf} referenceValue.")
        aggregation = r.enum("partyAggregation", ("avg", "min", "max"), default="avg")
        if r.failed or operation is None:
            return None
        return ComparisonRule(
            r.name, r.texts, cast(Any, operation), reference, cast(Any, aggregation), description
        )

    def rule_distance(self, r: _RuleReader, description: str | None, earlier: list[Rule]) -> Rule | None:
        r.measurements(("number",))
        reference: float | Expr | None = None
        if "referenceValue" not in r.item:
            r.problem("referenceValue", f"Rule {r.name!r} needs a referenceValue: a number or a property expression.")
        else:
            reference = r.number_reference("referenceValue", r.item["referenceValue"])
        high = r.number("maxDistance", least=0)
        low = r.number("minDistance", least=0)
        if high is None and low is None and not r.failed:
            r.problem("maxDistance", f"Rule {r.name!r} needs maxDistance, minDistance or both.")
        if high is not None and low is not None and low > high:
            r.problem("minDistance", f"Rule {r.name!r} has minDistance {low:g} above its maxDistance {high:g}.")
        aggregation = r.enum("partyAggregation", ("avg", "min", "max"), default="avg")
        if r.failed or reference is None:
            return None
        return DistanceRule(r.name, r.texts, reference, high, low, cast(Any, aggregation), description)

    def rule_collection(self, r: _RuleReader, description: str | None, earlier: list[Rule]) -> Rule | None:
        types = r.measurements(("string",))
        for t in types:
            if not 1 <= t.depth <= 3:
                r.problem("measurements", f"Rule {r.name!r} measures {t}; a collection rule measures string collections.")
        operation = r.enum("operation", COLLECTION_OPERATIONS, required=True)
        reference: Reference | None = None
        raw = r.item.get("referenceValue")
        if operation == "contains":
            if not isinstance(raw, str) or ex.looks_like_expression(raw):
                r.problem("referenceValue", f"Rule {r.name!r} uses contains, so its referenceValue must be a string.")
            else:
                reference = raw
        elif operation == "reference_intersection_count":
            if raw is None:
                r.problem(
                    "referenceValue",
                    f"Rule {r.name!r} uses reference_intersection_count, so it needs a referenceValue: a list of "
                    "strings or a property expression.",
                )
            else:
                reference = r.list_reference("referenceValue", raw)
        low = r.whole("minCount")
        high = r.whole("maxCount")
        if low is not None and high is not None and low > high:
            r.problem("minCount", f"Rule {r.name!r} has minCount {low} above its maxCount {high}.")
        aggregation = r.enum("partyAggregation", ("union", "intersection"), default="union")
        if r.failed or operation is None:
            return None
        return CollectionRule(
            r.name, r.texts, cast(Any, operation), reference, low, high, cast(Any, aggregation), description
        )

    def rule_latency(self, r: _RuleReader, description: str | None, earlier: list[Rule]) -> Rule | None:
        high = r.number("maxLatency", least=0)
        distance = r.number("maxDistance", least=0)
        reference = r.enum("distanceReference", ("min", "avg"))
        if high is None and distance is None and not r.failed:
            r.problem("maxLatency", f"Rule {r.name!r} needs maxLatency (or maxDistance with a distanceReference).")
        if reference is not None and distance is None:
            r.problem("distanceReference", f"Rule {r.name!r} has a distanceReference but no maxDistance to use it with.")
        if self.large and (distance is not None or reference is not None):
            r.problem(
                "maxDistance",
                f"Rule {r.name!r}: a latency rule of a large match may set only maxLatency (and partyAggregation).",
            )
        aggregation = r.enum("partyAggregation", ("avg", "min", "max"), default="avg")
        if r.failed:
            return None
        if distance is not None and reference is None:
            reference = "min"
        return LatencyRule(r.name, high, distance, cast(Any, reference), cast(Any, aggregation), description)

    def rule_batch_distance(self, r: _RuleReader, description: str | None, earlier: list[Rule]) -> Rule | None:
        attribute = r.attribute("batchAttribute", ("number", "string"))
        distance = r.number("maxDistance", least=0)
        aggregation = r.enum("partyAggregation", ("avg", "min", "max"), default="avg")
        if r.failed or attribute is None:
            return None
        return BatchDistanceRule(r.name, attribute, distance, cast(Any, aggregation), description)

    def rule_absolute_sort(self, r: _RuleReader, description: str | None, earlier: list[Rule]) -> Rule | None:
        return self.sort_rule(r, description, ("number", "string", "string_number_map"), AbsoluteSortRule)

    def rule_distance_sort(self, r: _RuleReader, description: str | None, earlier: list[Rule]) -> Rule | None:
        return self.sort_rule(r, description, ("number", "string_number_map"), DistanceSortRule)

    def sort_rule(
        self, r: _RuleReader, description: str | None, kinds: tuple[str, ...], cls: Callable[..., Rule]
    ) -> Rule | None:
        direction = r.enum("sortDirection", ("ascending", "descending"), required=True)
        attribute = r.attribute("sortAttribute", kinds)
        map_key = r.enum("mapKey", ("minValue", "maxValue"))
        declared = self.attributes.get(attribute) if attribute else None
        if declared is not None and declared.type == "string_number_map" and map_key is None:
            r.problem("mapKey", f"Rule {r.name!r} sorts by the map attribute {attribute!r}, so it needs a mapKey.")
        if declared is not None and declared.type != "string_number_map" and map_key is not None:
            r.problem("mapKey", f"Rule {r.name!r} has a mapKey, but {attribute!r} is not a string_number_map.")
        aggregation = r.enum("partyAggregation", ("avg", "min", "max"), default="avg")
        if r.failed or attribute is None or direction is None:
            return None
        return cls(r.name, direction, attribute, map_key, aggregation, description)

    def rule_compound(self, r: _RuleReader, description: str | None, earlier: list[Rule]) -> Rule | None:
        raw = r.item.get("statement")
        if not isinstance(raw, str) or not raw.strip():
            r.problem("statement", f"Rule {r.name!r} needs a statement, such as and(RuleA, RuleB).")
            return None
        try:
            tree = statements.parse_statement(raw)
        except statements.StatementError as exc:
            r.problem("statement", f"Rule {r.name!r} has a statement that {exc}.")
            return None
        known = {rule.name: rule for rule in earlier}
        for name in statements.rule_names(tree):
            rule = known.get(name)
            if name == r.name:
                r.problem("statement", f"Rule {r.name!r} names itself in its statement.")
            elif rule is None and name in self.rule_names and self.rule_order.get(name, 1 << 30) < self.rule_order[r.name]:
                r.failed = True  # that rule's own problems are reported already
            elif rule is None:
                r.problem(
                    "statement",
                    f"Rule {r.name!r} names {name!r} in its statement, which is not a rule defined before it.",
                )
            elif rule.type == "batchDistance":
                r.problem("statement", f"Rule {r.name!r} names the batchDistance rule {name!r}; a compound rule cannot use batchDistance rules.")
            elif rule.type in ("absoluteSort", "distanceSort"):
                r.problem("statement", f"Rule {r.name!r} names the sort rule {name!r}, which never passes or fails.")
        if r.failed:
            return None
        return CompoundRule(r.name, raw, tree, description)

    # --- expansions ------------------------------------------------------------------------------

    def read_expansions(self, raw: object, rules: list[Rule]) -> list[Expansion]:
        out: list[Expansion] = []
        seen: dict[tuple[str, str], int] = {}
        by_name = {rule.name: rule for rule in rules}
        definitions = {d.name: d for d in self.definitions}
        for i, item in enumerate(self.items("expansions", raw)):
            section = f"expansions[{i}]"
            if not isinstance(item, Mapping):
                self.problem(section, None, f"The entry {section} must be an object with a target and steps.")
                continue
            target = self.expansion_target(section, item.get("target"), by_name, definitions)
            if target is None:
                continue
            keys = (
                [("rules", f"{target.rule}.{target.field}")]
                if isinstance(target, RuleTarget)
                else [("teams", f"{t}.{target.field}") for t in target.teams]
            )
            clash = next((seen[k] for k in keys if k in seen), None)
            if clash is not None:
                self.problem(section, "target", f"The expansion {section} expands {target}, which expansions[{clash}] already expands.")
                continue
            seen.update((k, i) for k in keys)
            steps = self.expansion_steps(section, item.get("steps"), target, by_name, definitions)
            if steps is not None:
                out.append(Expansion(target, tuple(steps)))
        return out

    def expansion_target(
        self, section: str, raw: object, rules: Mapping[str, Rule], definitions: Mapping[str, TeamDefinition]
    ) -> ExpansionTarget | None:
        if not isinstance(raw, str):
            self.problem(section, "target", f"The expansion {section} needs a target such as rules[<rule>].maxDistance or teams[<team>].minPlayers.")
            return None
        match = _RULE_TARGET.match(raw)
        if match:
            name, field = match.group(1).strip(), match.group(2)
            rule = rules.get(name)
            if rule is None:
                if name not in self.rule_names:
                    self.problem(section, "target", f"The expansion {section} targets {raw!r}, but no rule is named {name!r}.")
                return None
            if rule.type == "compound":
                self.problem(section, "target", f"The expansion {section} targets the compound rule {name!r}; expand the rules it combines instead.")
                return None
            allowed = EXPANDABLE.get(rule.type, ())
            if field not in allowed:
                what = ", ".join(allowed) if allowed else "none"
                self.problem(
                    section, "target",
                    f"The expansion {section} targets {field} of the {rule.type} rule {name!r}; the properties an expansion can "
                    f"relax there are: {what}.",
                )  # fmt: skip
                return None
            return RuleTarget(name, field)
        match = _TEAM_TARGET.match(raw)
        if match:
            names = tuple(n.strip() for n in match.group(1).split(","))
            field = match.group(2)
            if field not in ("minPlayers", "maxPlayers"):
                self.problem(section, "target", f"The expansion {section} targets {field} of a team; teams expand minPlayers or maxPlayers.")
                return None
            missing = [n for n in names if n not in definitions]
            if missing and self.teams_ok:
                self.problem(section, "target", f"The expansion {section} targets team {missing[0]!r}, which the rule set does not define.")
                return None
            if missing:
                return None
            return TeamTarget(names, cast(Literal["minPlayers", "maxPlayers"], field))
        self.problem(
            section, "target",
            f"The expansion {section} targets {raw!r}, which is neither rules[<rule>].<property> nor teams[<team>].minPlayers "
            "or .maxPlayers.",
        )  # fmt: skip
        return None

    def expansion_steps(
        self,
        section: str,
        raw: object,
        target: ExpansionTarget,
        rules: Mapping[str, Rule],
        definitions: Mapping[str, TeamDefinition],
    ) -> list[ExpansionStep] | None:
        if not isinstance(raw, list) or not raw:
            self.problem(section, "steps", f"The expansion {section} needs steps: a list of at least one waitTimeSeconds and value.")
            return None
        steps: list[ExpansionStep] = []
        last = -1.0
        ok = True
        for j, step in enumerate(raw):
            where = f"steps[{j}]"
            if not isinstance(step, Mapping):
                self.problem(section, where, f"In {section}, {where} must be an object with waitTimeSeconds and value.")
                ok = False
                continue
            wait = _as_number(step.get("waitTimeSeconds")) if _is_number(step.get("waitTimeSeconds")) else None
            if wait is None or wait < 0:
                self.problem(section, f"{where}.waitTimeSeconds", f"In {section}, {where} needs waitTimeSeconds, a number of at least 0.")
                ok = False
                continue
            if wait <= last:
                self.problem(
                    section, f"{where}.waitTimeSeconds",
                    f"In {section}, {where} waits {wait:g} seconds, not longer than the step before it; each step must "
                    "wait longer than the one before.",
                )  # fmt: skip
                ok = False
            last = wait
            if "value" not in step:
                self.problem(section, f"{where}.value", f"In {section}, {where} needs a value.")
                ok = False
                continue
            value = self.step_value(section, f"{where}.value", step["value"], target, rules, definitions)
            if value is None:
                ok = False
                continue
            steps.append(ExpansionStep(wait, value))
        return steps if ok else None

    def step_value(
        self,
        section: str,
        where: str,
        raw: object,
        target: ExpansionTarget,
        rules: Mapping[str, Rule],
        definitions: Mapping[str, TeamDefinition],
    ) -> StepValue | None:
        if isinstance(target, TeamTarget):
            value = _whole(raw, 1)
            if value is None:
                self.problem(section, where, f"In {section}, {where} for {target} must be a whole number of at least 1.")
                return None
            for name in target.teams:
                d = definitions[name]
                if target.field == "minPlayers" and value > d.max_players:
                    self.problem(section, where, f"In {section}, {where} sets minPlayers of team {name!r} to {value}, above its maxPlayers {d.max_players}.")
                    return None
                if target.field == "maxPlayers" and value < d.min_players:
                    self.problem(section, where, f"In {section}, {where} sets maxPlayers of team {name!r} to {value}, below its minPlayers {d.min_players}.")
                    return None
            if target.field == "maxPlayers":
                total = sum(
                    (value if d.name in target.teams else d.max_players) * d.quantity for d in self.definitions
                )
                limit = MAX_MATCH_PLAYERS if self.large else SMALL_MATCH_MAX_PLAYERS
                if total > limit:
                    self.problem(
                        section, where,
                        f"In {section}, {where} would let the teams hold {total} players, more than the {limit} this "
                        f"{'large' if self.large else 'small'} match allows.",
                    )  # fmt: skip
                    return None
            return float(value)
        rule = rules[target.rule]
        if target.field in ("minCount", "maxCount"):
            count = _whole(raw, 0)
            if count is None:
                self.problem(section, where, f"In {section}, {where} for {target} must be a whole number of at least 0.")
                return None
            return float(count)
        if target.field == "referenceValue":
            probe = _RuleReader(self, f"rules[{rule.name}]", rule.name, {}, probe=True)
            reference: Reference | None
            if isinstance(rule, DistanceRule):
                reference = probe.number_reference("referenceValue", raw)
            elif isinstance(rule, ComparisonRule):
                reference = probe.scalar_reference("referenceValue", raw)
                base = rule.reference
                if reference is not None and base is not None and not isinstance(base, Expr) and not isinstance(
                    reference, Expr
                ) and type(base) is not type(reference):
                    self.problem(section, where, f"In {section}, {where} must be of the same type as the rule's referenceValue.")
                    return None
            elif isinstance(rule, CollectionRule) and rule.operation == "contains":
                reference = raw if isinstance(raw, str) else None
                if reference is None:
                    self.problem(section, where, f"In {section}, {where} must be a string, as the rule's referenceValue is.")
            elif isinstance(rule, CollectionRule) and rule.operation == "reference_intersection_count":
                reference = probe.list_reference("referenceValue", raw)
            else:
                self.problem(section, where, f"The expansion {section} targets the referenceValue of {rule.name!r}, which has none to relax.")
                return None
            if probe.failed or reference is None:
                for p in probe.problems:
                    self.problem(section, where, f"In {section}, {where}: {p}")
                return None
            return reference
        number = _as_number(raw)
        if number is None or number < 0:
            self.problem(section, where, f"In {section}, {where} for {target} must be a number of at least 0.")
            return None
        return number


class _RuleReader:
    """Reads one rule's properties, reporting problems against it."""

    def __init__(
        self, checker: _Checker, section: str, name: str, item: Mapping[str, Any], *, probe: bool = False
    ) -> None:
        self.checker = checker
        self.probe = probe
        self.section = section
        self.name = name
        self.item = item
        self.failed = False
        self.texts: tuple[str, ...] = ()
        #: Problems of a standalone probe (expansion step values) rather than of the rule.
        self.problems: list[str] = []

    def problem(self, field: str, message: str) -> None:
        self.failed = True
        if self.probe:
            self.problems.append(message)
        else:
            self.checker.problem(self.section, field, message)

    def enum(self, field: str, allowed: tuple[str, ...], *, required: bool = False, default: str | None = None) -> Any:
        value = self.item.get(field)
        if value is None:
            if required:
                self.problem(field, f"Rule {self.name!r} needs {field}: one of " + ", ".join(allowed) + ".")
            return default
        if value not in allowed:
            self.problem(field, f"Rule {self.name!r} has {field} {value!r}; use one of " + ", ".join(allowed) + ".")
            return default
        return value

    def number(self, field: str, *, least: float) -> float | None:
        if field not in self.item or self.item[field] is None:
            return None
        value = _as_number(self.item[field])
        if value is None or value < least:
            self.problem(field, f"Rule {self.name!r} has {field} {self.item[field]!r}; it must be a number of at least {least:g}.")
            return None
        return value

    def whole(self, field: str) -> int | None:
        if field not in self.item or self.item[field] is None:
            return None
        raw = self.item[field]
        value = _as_number(raw)
        if value is None or value < 0 or value != int(value):
            self.problem(field, f"Rule {self.name!r} has {field} {raw!r}; it must be a whole number of at least 0.")
            return None
        return int(value)

    def attribute(self, field: str, kinds: tuple[str, ...]) -> str | None:
        value = self.item.get(field)
        if not isinstance(value, str) or not value:
            self.problem(field, f"Rule {self.name!r} needs {field}: the name of a declared player attribute.")
            return None
        declared = self.checker.attributes.get(value)
        if declared is None:
            self.problem(field, f"Rule {self.name!r} names attribute {value!r} in {field}, which playerAttributes does not declare.")
            return None
        if declared.type not in kinds:
            self.problem(
                field,
                f"Rule {self.name!r} uses the {declared.type} attribute {value!r} in {field}; it needs one of type "
                + " or ".join(kinds) + ".",
            )
            return None
        return value

    def expression(self, field: str, text: str) -> ex.ExprType | None:
        try:
            node = ex.parse(text)
        except ex.ExpressionError as exc:
            self.problem(field, f"Rule {self.name!r} has {field} {text!r}, which is not a valid property expression: it {exc}.")
            return None
        scope = self.checker.scope
        if scope is None:  # the teams are wrong: already reported
            self.failed = True
            return None
        try:
            return ex.type_of(node, scope)
        except ex.ExpressionError as exc:
            self.problem(field, f"Rule {self.name!r} has {field} {text!r}, which {exc}.")
            return None

    def measurements(self, leaves: tuple[str, ...]) -> list[ex.ExprType]:
        raw = self.item.get("measurements")
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw or not all(isinstance(m, str) and m.strip() for m in raw):
            self.problem("measurements", f"Rule {self.name!r} needs measurements: a property expression or a list of them.")
            return []
        self.texts = tuple(raw)
        types: list[ex.ExprType] = []
        for j, text in enumerate(raw):
            t = self.expression(f"measurements[{j}]", text)
            if t is None:
                continue
            if t.leaf not in leaves:
                self.problem(
                    f"measurements[{j}]",
                    f"Rule {self.name!r} measures {text!r}, a {t}; a {self.item.get('type')} rule measures "
                    + " or ".join(leaves) + " values.",
                )
                continue
            types.append(t)
        return types

    def reference_type(self, field: str, reference: Expr) -> ex.ExprType:
        t = self.expression(field, reference.text)
        return t if t is not None else ex.ExprType(0, "number")

    def scalar_reference(self, field: str, raw: object) -> Reference | None:
        if isinstance(raw, str) and ex.looks_like_expression(raw):
            t = self.expression(field, raw)
            if t is None:
                return None
            if t.leaf not in ("number", "string") or t.depth != 0:
                self.problem(field, f"Rule {self.name!r} has a referenceValue expression giving {t}, not a single value.")
                return None
            return Expr(raw)
        if isinstance(raw, str):
            return raw
        if _is_number(raw):
            return float(cast(float, raw))
        self.problem(field, f"Rule {self.name!r} has a referenceValue that is {_kind(raw)}; use a number, a string or a property expression.")
        return None

    def number_reference(self, field: str, raw: object) -> float | Expr | None:
        if isinstance(raw, str) and ex.looks_like_expression(raw):
            t = self.expression(field, raw)
            if t is None:
                return None
            if t != ex.ExprType(0, "number"):
                self.problem(field, f"Rule {self.name!r} has a referenceValue expression giving {t}, not a number.")
                return None
            return Expr(raw)
        value = _as_number(raw)
        if value is None:
            self.problem(field, f"Rule {self.name!r} has a referenceValue that is {_kind(raw)}; it must be a number or a property expression.")
            return None
        return value

    def list_reference(self, field: str, raw: object) -> Reference | None:
        if isinstance(raw, str) and ex.looks_like_expression(raw):
            t = self.expression(field, raw)
            if t is None:
                return None
            if t.leaf != "string" or t.depth != 1:
                self.problem(field, f"Rule {self.name!r} has a referenceValue expression giving {t}, not a list of strings.")
                return None
            return Expr(raw)
        if isinstance(raw, str):
            return (raw,)
        if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
            return tuple(raw)
        self.problem(field, f"Rule {self.name!r} has a referenceValue that is {_kind(raw)}; it must be a list of strings or a property expression.")
        return None
