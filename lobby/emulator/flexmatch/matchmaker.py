"""The matchmaker: which searching tickets of one configuration make matches.

A pure function of a :class:`Pool` (the searching tickets of one configuration, with each
ticket's players, their attributes and latencies, and how long it has waited; the configuration;
its rule set, parsed; the time now) to the matches it proposes (:class:`ProposedMatch`, teams
to players). It reads and writes nothing: the scheduler loads the pool and stores what comes
back. Any function of this shape (:data:`Matchmaker`) can take its place.

Today's (:func:`find_matches`) is FIFO: searching tickets, in line order, are placed whole on
a team until every team of the rule set has its minimum; that set of tickets is proposed as a
match, and the rest of the line is matched again. Only ``teams`` of a rule set are evaluated;
its other rules and expansions, players' attributes and latencies, and the configuration's
``AdditionalPlayerCount`` are not applied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lobby.emulator.flexmatch.records import Config
from lobby.emulator.flexmatch.rulesets import RuleSet


@dataclass(frozen=True, slots=True)
class Player:
    player_id: str
    #: ``PlayerAttributes`` as the request gave them: name -> AttributeValue
    #: (``{"S": ...}``, ``{"N": ...}``, ``{"SL": [...]}`` or ``{"SDM": {...}}``).
    attributes: Mapping[str, Any]
    #: ``LatencyInMs``: region -> milliseconds.
    latencies: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class SearchingTicket:
    ticket_id: str
    #: Its players, who always share a team.
    players: tuple[Player, ...]
    #: When the ticket was made (its ``StartTime``): ``now - start_time`` is its wait.
    start_time: float
    #: When it last began searching (again, after a dropped match).
    searching_since: float


@dataclass(frozen=True, slots=True)
class Pool:
    """One configuration's searching tickets, and what deciding on them may use."""

    configuration: Config
    #: The configuration's rule set: its teams, and the whole parsed body in ``document``.
    rule_set: RuleSet
    #: In line order: longest searching first.
    tickets: Sequence[SearchingTicket]
    now: float


@dataclass(frozen=True, slots=True)
class ProposedMatch:
    #: The ids of its tickets, in the order the match lists them.
    tickets: tuple[str, ...]
    #: Team name -> the ids of its players.
    teams: Mapping[str, tuple[str, ...]]


#: A matchmaker: the matches to propose from a pool, no ticket in two of them.
Matchmaker = Callable[[Pool], list[ProposedMatch]]


def find_matches(pool: Pool) -> list[ProposedMatch]:
    """The matches of the FIFO matchmaker, in the order they were found."""
    found: list[ProposedMatch] = []
    line = list(pool.tickets)
    while line:
        formed = form_match(pool.rule_set, line)
        if formed is None:
            break
        teams: dict[str, list[str]] = {team.name: [] for team in pool.rule_set.teams}
        for ticket in line:
            if ticket.ticket_id in formed:
                teams[formed[ticket.ticket_id]].extend(p.player_id for p in ticket.players)
        found.append(
            ProposedMatch(
                tickets=tuple(t.ticket_id for t in line if t.ticket_id in formed),
                teams={name: tuple(players) for name, players in teams.items()},
            )
        )
        line = [t for t in line if t.ticket_id not in formed]
    return found


def form_match(
    rule_set: RuleSet, pool: Sequence[SearchingTicket], budget: int = 5_000
) -> dict[str, str] | None:
    """{ticket id: team} for the first set of searching tickets, oldest preferred, that gives
    every team at least its minimum without passing any maximum; None if there is none.

    A depth-first search in FIFO order: each ticket is first tried on a team (the one furthest
    below its minimum first), and only then left out. Teams alike in bounds and fill are tried
    once, a branch stops when the tickets left cannot cover what is missing, and ``budget``
    bounds the work for pools that can never fill a match. Recursion goes one level per ticket
    placed, so its depth is bounded by the size of a match, not of the pool.
    """
    teams = rule_set.teams
    sizes = [len(t.players) for t in pool]
    if sum(sizes) < rule_set.min_players:
        return None
    after = [0] * (len(pool) + 1)  # players in pool[i:]
    for i in range(len(pool) - 1, -1, -1):
        after[i] = after[i + 1] + sizes[i]
    fill = [0] * len(teams)
    chosen: dict[str, str] = {}
    left = [budget]

    def missing() -> int:
        return sum(max(0, t.min_players - fill[j]) for j, t in enumerate(teams))

    def search(start: int) -> bool:
        short = missing()
        if short == 0:
            return True
        for i in range(start, len(pool)):
            if short > after[i] or left[0] <= 0:
                return False
            left[0] -= 1
            n = sizes[i]
            order = sorted(
                (j for j, t in enumerate(teams) if fill[j] + n <= t.max_players),
                key=lambda j: (fill[j] - teams[j].min_players, fill[j], j),
            )
            tried: set[tuple[int, int, int]] = set()
            for j in order:
                shape = (teams[j].min_players, teams[j].max_players, fill[j])
                if shape in tried:
                    continue
                tried.add(shape)
                fill[j] += n
                chosen[pool[i].ticket_id] = teams[j].name
                if search(i + 1):
                    return True
                fill[j] -= n
                del chosen[pool[i].ticket_id]
            # leave pool[i] out and go on with the next ticket
        return False

    return dict(chosen) if search(0) else None
