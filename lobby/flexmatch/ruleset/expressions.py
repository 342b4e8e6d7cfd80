"""FlexMatch property expressions: parsed, type-checked against a rule set, compiled.

Grammar (whitespace allowed between tokens)::

    expr  := FUNC "(" expr ")" | path
    FUNC  := min | max | avg | median | sum | count | stddev | flatten | set_intersection
    path  := ("teams" | "team") "[" ("*" | NAME ("," NAME)*) "]" "." "players"
             [ "[" "playerId" "]" | "." "attributes" "[" NAME "]" ]

Types are lists nested ``depth`` deep around a leaf (number, string, string-to-number map,
player). One named team gives a list with one entry per player; several teams (``*``, a list
of names, or a definition with quantity > 1) give one such list per team. A ``string_list``
attribute adds a level. ``flatten`` joins one level; every other function reduces the
innermost list, applied to each sublist of a nested list (``avg(teams[*]...)`` is one average
per team). ``set_intersection`` reduces a list of string lists to the strings in all of them.

Evaluation takes a candidate match as a sequence of teams, each a sequence of tickets
(:class:`TicketView`). A rule's ``partyAggregation`` decides what one ticket contributes for an
attribute: one aggregated number for a number attribute (avg, min or max over its players),
one union or intersection for a string list in a collection rule, otherwise one value per
player. Aggregations skip missing values (the average of an empty team is missing, not 0).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, SupportsIndex, Union

FUNCTIONS = ("min", "max", "avg", "median", "sum", "count", "stddev", "flatten", "set_intersection")
_NUMERIC = frozenset({"min", "max", "avg", "median", "sum", "stddev"})
Leaf = Literal["number", "string", "map", "player"]


class ExpressionError(ValueError):
    """A property expression that cannot be read or does not fit the rule set."""


@dataclass(frozen=True, slots=True)
class Path:
    #: Team names as written; None for ``*``.
    teams: tuple[str, ...] | None
    select: Literal["players", "playerId", "attribute"]
    attribute: str | None = None


@dataclass(frozen=True, slots=True)
class Func:
    name: str
    arg: Node


Node = Union[Path, Func]


@dataclass(frozen=True, slots=True)
class ExprType:
    depth: int
    leaf: Leaf

    def __str__(self) -> str:
        text = {"number": "number", "string": "string", "map": "string_number_map", "player": "player"}[self.leaf]
        for _ in range(self.depth):
            text = f"List<{text}>"
        return text


_LOOKS_LIKE = re.compile(r"\s*(teams?\s*\[|[A-Za-z_]+\s*\()")


def looks_like_expression(text: str) -> bool:
    """Whether a string ``referenceValue`` is meant as a property expression rather than a
    literal string."""
    return _LOOKS_LIKE.match(text) is not None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> ExpressionError:
        shown = self.text[self.pos : self.pos + 12] or "the end"
        return ExpressionError(f"expected {what} at character {self.pos + 1} (found {shown!r})")

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def take(self, literal: str) -> bool:
        self.ws()
        if self.text.startswith(literal, self.pos):
            self.pos += len(literal)
            return True
        return False

    def expect(self, literal: str) -> None:
        if not self.take(literal):
            raise self.fail(repr(literal))

    def word(self) -> str:
        self.ws()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] == "_"):
            self.pos += 1
        return self.text[start : self.pos]

    def bracketed(self, what: str) -> str:
        self.expect("[")
        end = self.text.find("]", self.pos)
        if end < 0:
            raise self.fail(f"{what} and ']'")
        inner = self.text[self.pos : end]
        if "[" in inner:
            raise self.fail(f"{what} and ']'")
        self.pos = end + 1
        return inner

    def expr(self, depth: int = 0) -> Node:
        if depth > 32:
            raise ExpressionError("nests functions more than 32 deep")
        start = self.pos
        name = self.word()
        if name in ("teams", "team"):
            return self.path()
        if name in FUNCTIONS:
            self.expect("(")
            arg = self.expr(depth + 1)
            self.expect(")")
            return Func(name, arg)
        self.pos = start
        self.ws()
        if name and self.text[self.pos + len(name) :].lstrip().startswith("("):
            raise ExpressionError(
                f"uses the function {name!r}, which is not one of " + ", ".join(FUNCTIONS)
            )
        raise self.fail("'teams[...]' or a function such as avg(")

    def path(self) -> Path:
        inner = self.bracketed("team names")
        names = [n.strip() for n in inner.split(",")]
        teams: tuple[str, ...] | None
        if names == ["*"]:
            teams = None
        elif any(not n or n == "*" for n in names):
            raise ExpressionError(f"names teams as [{inner}]; use [*] or one or more team names")
        else:
            teams = tuple(names)
        self.expect(".")
        if self.word() != "players":
            raise self.fail("'players' after the teams")
        save = self.pos
        if self.take("["):
            self.pos = save
            key = self.bracketed("playerId").strip()
            if key.lower() != "playerid":
                raise ExpressionError(f"selects players[{key}]; only players[playerId] names a player property")
            return Path(teams, "playerId")
        if self.take("."):
            if self.word() != "attributes":
                raise self.fail("'attributes' after 'players.'")
            attribute = self.bracketed("an attribute name").strip()
            if not attribute:
                raise ExpressionError("names an empty attribute, attributes[]")
            return Path(teams, "attribute", attribute)
        return Path(teams, "players")


def parse(text: str) -> Node:
    """Parse a property expression; raise :class:`ExpressionError` when it is malformed."""
    parser = _Parser(text)
    node = parser.expr()
    parser.ws()
    if parser.pos != len(text):
        raise parser.fail("the end of the expression")
    return node


# --- types ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """What an expression may name: declared attributes and their types, and team names
    (concrete ones and definitions) with the concrete team indexes each stands for."""

    attributes: Mapping[str, str]
    teams: Mapping[str, tuple[int, ...]]
    team_count: int


def resolve_teams(path: Path, scope: Scope) -> tuple[tuple[int, ...], bool]:
    """The concrete team indexes a path covers, and whether the result is grouped by team."""
    if path.teams is None:
        return tuple(range(scope.team_count)), True
    indexes: list[int] = []
    for name in path.teams:
        found = scope.teams.get(name)
        if found is None:
            raise ExpressionError(f"names team {name!r}, which the rule set does not define")
        indexes.extend(found)
    return tuple(indexes), len(path.teams) > 1 or len(indexes) > 1


def type_of(node: Node, scope: Scope) -> ExprType:
    """The static type of an expression; raise :class:`ExpressionError` when it does not fit."""
    if isinstance(node, Path):
        _, grouped = resolve_teams(node, scope)
        depth = 2 if grouped else 1
        if node.select == "players":
            return ExprType(depth, "player")
        if node.select == "playerId":
            return ExprType(depth, "string")
        assert node.attribute is not None
        kind = scope.attributes.get(node.attribute)
        if kind is None:
            raise ExpressionError(
                f"names attribute {node.attribute!r}, which playerAttributes does not declare"
            )
        if kind == "number":
            return ExprType(depth, "number")
        if kind == "string":
            return ExprType(depth, "string")
        if kind == "string_list":
            return ExprType(depth + 1, "string")
        return ExprType(depth, "map")
    inner = type_of(node.arg, scope)
    if node.name == "flatten":
        if inner.depth < 2:
            raise ExpressionError(f"flattens {inner}, which is not a list of lists")
        return ExprType(inner.depth - 1, inner.leaf)
    if inner.depth < 1:
        raise ExpressionError(f"applies {node.name} to a single {inner}, not a list")
    if node.name == "count":
        return ExprType(inner.depth - 1, "number")
    if node.name == "set_intersection":
        if inner.leaf != "string" or inner.depth < 2:
            raise ExpressionError(f"applies set_intersection to {inner}, not to a list of string lists")
        return ExprType(inner.depth - 1, "string")
    if inner.leaf != "number":
        raise ExpressionError(f"applies {node.name} to {inner}, which holds no numbers")
    return ExprType(inner.depth - 1, "number")


def uses_size(node: Node) -> bool:
    """Whether the value depends on how many players the teams hold (``count``, ``sum``): such
    a rule can only be judged on a complete match."""
    if isinstance(node, Path):
        return False
    return node.name in ("count", "sum") or uses_size(node.arg)


def team_blind(node: Node, scope: Scope) -> bool:
    """Whether the value ignores which team each ticket is on (every team read, and the
    grouping by team flattened away before anything is reduced per team)."""
    return _blindness(node, scope) == "blind"


def _blindness(node: Node, scope: Scope) -> str:
    if isinstance(node, Path):
        if scope.team_count == 1:
            return "blind"
        return "all" if node.teams is None else "team"
    inner = _blindness(node.arg, scope)
    if inner == "blind" or (inner == "all" and node.name == "flatten"):
        return "blind"
    return "team"


def attributes_of(node: Node) -> set[str]:
    if isinstance(node, Path):
        return {node.attribute} if node.attribute else set()
    return attributes_of(node.arg)


def teams_of(node: Node) -> tuple[str, ...] | None:
    """The team names an expression reads (None: every team)."""
    if isinstance(node, Path):
        return node.teams
    return teams_of(node.arg)


# --- evaluation ----------------------------------------------------------------------------------


class TicketView(Protocol):
    """What an expression reads from a ticket of a candidate match. ``cache`` holds
    :meth:`values` results under ``"<aggregation>:<attribute>"``, for a quicker look-up."""

    @property
    def player_ids(self) -> tuple[str, ...]: ...

    @property
    def cache(self) -> dict[str, tuple[Any, ...]]: ...

    def values(self, attribute: str, aggregation: str) -> tuple[Any, ...]: ...


class Team(list[Any]):
    """A team of a candidate match: its tickets, and what expressions read from them, kept
    until the team changes. Change it only with :meth:`append` and :meth:`pop`."""

    __slots__ = ("memo",)

    def __init__(self, tickets: Sequence[Any] = ()) -> None:
        super().__init__(tickets)
        self.memo: dict[Any, list[Any]] = {}

    def append(self, ticket: Any) -> None:
        self.memo.clear()
        super().append(ticket)

    def pop(self, index: SupportsIndex = -1) -> Any:
        self.memo.clear()
        return super().pop(index)


Teams = Sequence[Team]
Compiled = Callable[[Teams], Any]


def compile_expression(node: Node, scope: Scope, aggregation: str) -> Compiled:
    """A function from a candidate match to the expression's value (nested lists of floats,
    strings, maps or player ids; None where an aggregation had nothing to aggregate)."""
    if isinstance(node, Path):
        return _compile_path(node, scope, aggregation)
    arg_type = type_of(node.arg, scope)
    fused = _fused(node, arg_type, scope, aggregation)
    if fused is not None:
        return fused
    inner = compile_expression(node.arg, scope, aggregation)
    if node.name == "flatten":
        return lambda teams: [x for sub in inner(teams) for x in sub]
    reduce: Callable[[Any], Any] = _REDUCERS[node.name]
    levels = arg_type.depth - (2 if node.name == "set_intersection" else 1)
    for _ in range(levels):
        reduce = _mapped(reduce)
    return lambda teams: reduce(inner(teams))


def _fused(node: Func, arg_type: ExprType, scope: Scope, aggregation: str) -> Compiled | None:
    """One closure for the common shapes ``f(teams[...]...)`` and ``flatten(teams[*]...)``,
    instead of a closure per level (the builder evaluates these for every candidate)."""
    path = node.arg
    if not isinstance(path, Path):
        return None
    indexes, grouped = resolve_teams(path, scope)
    one = _team_reader(path, scope, aggregation)
    if node.name == "flatten":
        if not grouped:
            return None

        def flat(teams: Teams) -> list[Any]:
            out: list[Any] = []
            for i in indexes:
                out += one(teams[i])
            return out

        return flat
    if node.name == "set_intersection" or arg_type.depth != (2 if grouped else 1):
        return None
    reduce = _REDUCERS[node.name]
    if grouped:
        return lambda teams: [reduce(one(teams[i])) for i in indexes]
    (index,) = indexes
    return lambda teams: reduce(one(teams[index]))


def _mapped(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: [fn(x) for x in value]


def _team_reader(path: Path, scope: Scope, aggregation: str) -> Callable[[Team], list[Any]]:
    """What a path reads from one team: a list with what each ticket contributes, kept in the
    team's memo (callers must not change it)."""
    attribute = path.attribute or ""
    key = (path.select, attribute, aggregation)
    cached = f"{aggregation}:{attribute}"
    if path.select == "attribute" and scope.attributes.get(attribute) == "number" and aggregation in (
        "avg", "min", "max"
    ):
        # Each ticket gives exactly one number (its own, or its party's aggregate).
        def numbers(team: Team) -> list[Any]:
            found = team.memo.get(key)
            if found is None:
                found = team.memo[key] = [
                    (t.cache.get(cached) or t.values(attribute, aggregation))[0] for t in team
                ]
            return found

        return numbers
    if path.select == "attribute":

        def values(team: Team) -> list[Any]:
            found = team.memo.get(key)
            if found is None:
                found = team.memo[key] = []
                for ticket in team:
                    found += ticket.values(attribute, aggregation)
            return found

        return values

    def players(team: Team) -> list[Any]:
        found = team.memo.get(key)
        if found is None:
            found = team.memo[key] = []
            for ticket in team:
                found += ticket.player_ids
        return found

    return players


def _compile_path(path: Path, scope: Scope, aggregation: str) -> Compiled:
    indexes, grouped = resolve_teams(path, scope)
    one = _team_reader(path, scope, aggregation)
    if grouped:
        return lambda teams: [one(teams[i]) for i in indexes]
    (index,) = indexes
    return lambda teams: one(teams[index])


def _present(values: list[Any]) -> list[float]:
    return [v for v in values if v is not None]


def _min(values: list[Any]) -> float | None:
    present = _present(values)
    return min(present) if present else None


def _max(values: list[Any]) -> float | None:
    present = _present(values)
    return max(present) if present else None


def _avg(values: list[Any]) -> float | None:
    if not values:
        return None
    try:
        return math.fsum(values) / len(values)
    except TypeError:  # missing values among them
        present = _present(values)
        return math.fsum(present) / len(present) if present else None


def _median(values: list[Any]) -> float | None:
    present = _present(values)
    return float(statistics.median(present)) if present else None


def _sum(values: list[Any]) -> float:
    return math.fsum(_present(values))


def _stddev(values: list[Any]) -> float | None:
    present = _present(values)
    if not present:
        return None
    mean = math.fsum(present) / len(present)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in present) / len(present))


def _count(values: list[Any]) -> float:
    return float(len(values))


def _set_intersection(lists: list[Any]) -> list[str]:
    present = [x for x in lists if x is not None]
    if not present:
        return []
    common = set(present[0])
    for other in present[1:]:
        common.intersection_update(other)
    return [s for s in dict.fromkeys(present[0]) if s in common]


_REDUCERS: dict[str, Callable[[Any], Any]] = {
    "min": _min,
    "max": _max,
    "avg": _avg,
    "median": _median,
    "sum": _sum,
    "stddev": _stddev,
    "count": _count,
    "set_intersection": _set_intersection,
}


def leaves(value: Any, depth: int) -> list[Any]:
    """Every leaf of a value of the given depth, missing ones left out."""
    if depth == 0:
        return [] if value is None else [value]
    if depth == 1:
        return [v for v in value if v is not None]
    out: list[Any] = []
    stack = [(value, depth)]
    while stack:
        item, d = stack.pop()
        if item is None:
            continue
        if d == 0:
            out.append(item)
        else:
            stack.extend((x, d - 1) for x in reversed(item))
    return out
