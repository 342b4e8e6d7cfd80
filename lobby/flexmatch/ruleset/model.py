"""The typed form of a FlexMatch rule set, as :mod:`.schema` reads it from its JSON body.

Everything here is declarative and immutable: what the body says, checked and normalised
(numbers as floats, quantities expanded into concrete teams, compound statements parsed).
How rules are evaluated lives in :mod:`.rules`; nothing in this module does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Union

AttributeType = Literal["string", "number", "string_list", "string_number_map"]
#: A player attribute's value: a number, a string, a string list, or a string-to-number map.
AttributeValue = Union[float, str, tuple[str, ...], Mapping[str, float]]

Strategy = Literal["exhaustiveSearch", "balanced"]
BatchingPreference = Literal["random", "sorted", "largestPopulation", "fastestRegion"]
AgeSelection = Literal["newest", "oldest"]
BackfillPriority = Literal["normal", "low", "high"]
NumberAggregation = Literal["avg", "min", "max"]
SetAggregation = Literal["union", "intersection"]
ComparisonOperation = Literal["<", "<=", "=", "!=", ">", ">="]
CollectionOperation = Literal["intersection", "contains", "reference_intersection_count"]
SortDirection = Literal["ascending", "descending"]
MapKey = Literal["minValue", "maxValue"]
DistanceReference = Literal["min", "avg"]

#: A match of more than this many players (the sum of the teams' maxPlayers) is a large match.
SMALL_MATCH_MAX_PLAYERS = 40
#: The most players a match may hold.
MAX_MATCH_PLAYERS = 200


class RuleSetProblem:
    """One thing wrong with a rule set body: where (``section``, e.g. ``rules[FairSkill]``),
    which ``field`` (None when the section as a whole is wrong), and a sentence fit for an
    InvalidRequestException message."""

    __slots__ = ("section", "field", "message")

    def __init__(self, section: str, field: str | None, message: str) -> None:
        self.section = section
        self.field = field
        self.message = message

    def __repr__(self) -> str:
        return f"RuleSetProblem({self.section!r}, {self.field!r}, {self.message!r})"

    def __str__(self) -> str:
        return self.message

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RuleSetProblem):
            return NotImplemented
        return (self.section, self.field, self.message) == (other.section, other.field, other.message)

    def __hash__(self) -> int:
        return hash((self.section, self.field, self.message))


class RuleSetInvalid(ValueError):
    """A rule set body that cannot be used. ``problems`` lists every problem found; the message
    is their sentences, in order, joined by spaces."""

    def __init__(self, problems: list[RuleSetProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(" ".join(p.message for p in problems))


@dataclass(frozen=True, slots=True)
class Expr:
    """A property expression written as a string where a literal could also stand
    (``referenceValue``)."""

    text: str


#: A ``referenceValue``: a literal number, string or string list, or a property expression.
Reference = Union[float, str, tuple[str, ...], Expr]


@dataclass(frozen=True, slots=True)
class PlayerAttribute:
    name: str
    type: AttributeType
    #: None when the rule set declares no default: a player without a value cannot be matched.
    default: AttributeValue | None = None


@dataclass(frozen=True, slots=True)
class Algorithm:
    strategy: Strategy = "exhaustiveSearch"
    batching_preference: BatchingPreference = "random"
    sort_by_attributes: tuple[str, ...] = ()
    balanced_attribute: str | None = None
    expansion_age_selection: AgeSelection = "newest"
    backfill_priority: BackfillPriority = "normal"


@dataclass(frozen=True, slots=True)
class TeamDefinition:
    """A team as written in the body; ``quantity`` copies of it take part in a match."""

    name: str
    min_players: int
    max_players: int
    quantity: int = 1


@dataclass(frozen=True, slots=True)
class Team:
    """A concrete team of a match: a definition of quantity N gives teams ``<name>_1`` to
    ``<name>_N``; a definition of quantity 1 keeps its name."""

    name: str
    definition: str
    min_players: int
    max_players: int


@dataclass(frozen=True, slots=True)
class ComparisonRule:
    type: ClassVar[str] = "comparison"
    name: str
    measurements: tuple[str, ...]
    operation: ComparisonOperation
    #: None: compare the measured values across players (all equal, or all different).
    reference: Reference | None = None
    party_aggregation: NumberAggregation = "avg"
    description: str | None = None


@dataclass(frozen=True, slots=True)
class DistanceRule:
    type: ClassVar[str] = "distance"
    name: str
    measurements: tuple[str, ...]
    reference: float | Expr
    max_distance: float | None = None
    min_distance: float | None = None
    party_aggregation: NumberAggregation = "avg"
    description: str | None = None


@dataclass(frozen=True, slots=True)
class CollectionRule:
    type: ClassVar[str] = "collection"
    name: str
    measurements: tuple[str, ...]
    operation: CollectionOperation
    reference: Reference | None = None
    min_count: int | None = None
    max_count: int | None = None
    party_aggregation: SetAggregation = "union"
    description: str | None = None


@dataclass(frozen=True, slots=True)
class LatencyRule:
    type: ClassVar[str] = "latency"
    name: str
    max_latency: float | None = None
    max_distance: float | None = None
    distance_reference: DistanceReference | None = None
    party_aggregation: NumberAggregation = "avg"
    description: str | None = None


@dataclass(frozen=True, slots=True)
class BatchDistanceRule:
    type: ClassVar[str] = "batchDistance"
    name: str
    batch_attribute: str
    max_distance: float | None = None
    party_aggregation: NumberAggregation = "avg"
    description: str | None = None


@dataclass(frozen=True, slots=True)
class _SortFields:
    name: str
    sort_direction: SortDirection
    sort_attribute: str
    map_key: MapKey | None = None
    party_aggregation: NumberAggregation = "avg"
    description: str | None = None


@dataclass(frozen=True, slots=True)
class AbsoluteSortRule(_SortFields):
    """Candidates ordered by the attribute's value (for a map, at the anchor's min or max key)."""

    type: ClassVar[str] = "absoluteSort"


@dataclass(frozen=True, slots=True)
class DistanceSortRule(_SortFields):
    """Candidates ordered by their attribute's distance from the anchor's."""

    type: ClassVar[str] = "distanceSort"


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule named in a compound statement."""

    name: str


@dataclass(frozen=True, slots=True)
class Call:
    """``and``/``or``/``xor`` over two or more arguments, or ``not`` over one."""

    op: Literal["and", "or", "not", "xor"]
    args: tuple[Statement, ...]


Statement = Union[RuleRef, Call]


@dataclass(frozen=True, slots=True)
class CompoundRule:
    type: ClassVar[str] = "compound"
    name: str
    statement: str
    tree: Statement
    description: str | None = None


Rule = Union[
    ComparisonRule,
    DistanceRule,
    CollectionRule,
    LatencyRule,
    BatchDistanceRule,
    AbsoluteSortRule,
    DistanceSortRule,
    CompoundRule,
]
SortRule = Union[AbsoluteSortRule, DistanceSortRule]

RULE_TYPES: tuple[str, ...] = (
    "absoluteSort",
    "batchDistance",
    "collection",
    "comparison",
    "compound",
    "distance",
    "distanceSort",
    "latency",
)


@dataclass(frozen=True, slots=True)
class RuleTarget:
    """``rules[<name>].<field>``; ``field`` is the JSON property name (``maxDistance``)."""

    rule: str
    field: str

    def __str__(self) -> str:
        return f"rules[{self.rule}].{self.field}"


@dataclass(frozen=True, slots=True)
class TeamTarget:
    """``teams[<name>,...].minPlayers|maxPlayers``, naming team definitions."""

    teams: tuple[str, ...]
    field: Literal["minPlayers", "maxPlayers"]

    def __str__(self) -> str:
        return f"teams[{','.join(self.teams)}].{self.field}"


ExpansionTarget = Union[RuleTarget, TeamTarget]
#: A step's value: a number, or (for a referenceValue) whatever the rule's reference may be.
StepValue = Union[float, str, tuple[str, ...], Expr]


@dataclass(frozen=True, slots=True)
class ExpansionStep:
    wait_seconds: float
    value: StepValue


@dataclass(frozen=True, slots=True)
class Expansion:
    target: ExpansionTarget
    steps: tuple[ExpansionStep, ...]


@dataclass(frozen=True, slots=True, weakref_slot=True)
class RuleSet:
    """A valid rule set. Build one with :func:`lobby.flexmatch.ruleset.parse_rule_set`."""

    rule_language_version: str
    teams: tuple[Team, ...]
    team_definitions: tuple[TeamDefinition, ...]
    player_attributes: tuple[PlayerAttribute, ...] = ()
    algorithm: Algorithm = field(default_factory=Algorithm)
    rules: tuple[Rule, ...] = ()
    expansions: tuple[Expansion, ...] = ()
    name: str | None = None
    #: Per team (in ``teams`` order), player slots a match leaves open for players to come
    #: (a configuration's AdditionalPlayerCount, dealt by :func:`~.evaluate.keep_open`): a
    #: team takes that many fewer players, whatever its expansions. Empty: none.
    open_slots: tuple[int, ...] = ()

    @property
    def min_players(self) -> int:
        return sum(t.min_players for t in self.teams)

    @property
    def max_players(self) -> int:
        return sum(t.max_players for t in self.teams)

    @property
    def largest_team(self) -> int:
        """The most players any one team may hold, expansions included: a ticket whose
        party is larger can never be matched."""
        highs = {d.name: d.max_players for d in self.team_definitions}
        for expansion in self.expansions:
            target = expansion.target
            if isinstance(target, TeamTarget) and target.field == "maxPlayers":
                for name in target.teams:
                    highs[name] = max([highs.get(name, 0), *(int(s.value) for s in expansion.steps if isinstance(s.value, float))])
        kept = self.open_slots or (0,) * len(self.teams)
        return max(max(highs.get(t.definition, t.max_players), t.max_players) - k for t, k in zip(self.teams, kept, strict=True))

    @property
    def is_large(self) -> bool:
        """More than 40 players in all: built with the large-match (balanced) algorithm."""
        return self.max_players > SMALL_MATCH_MAX_PLAYERS

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rules)

    def attribute(self, name: str) -> PlayerAttribute | None:
        for attr in self.player_attributes:
            if attr.name == name:
                return attr
        return None

    def rule(self, name: str) -> Rule | None:
        for rule in self.rules:
            if rule.name == name:
                return rule
        return None

