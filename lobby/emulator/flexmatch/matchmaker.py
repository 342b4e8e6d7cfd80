"""The matchmaker: which searching tickets of one configuration make matches.

A pure function of a :class:`Pool` (the searching tickets of one configuration, with each
ticket's players, their attributes and latencies, and how long it has waited; the configuration;
its rule set, parsed; the time now) to the matches it proposes (:class:`ProposedMatch`, teams
to players). It reads and writes nothing: the scheduler loads the pool and stores what comes
back. Any function of this shape (:data:`Matchmaker`) can take its place.

Today's (:func:`find_matches`) is the rule set engine's tick
(:func:`lobby.flexmatch.ruleset.form_matches`): every rule of the rule set, its expansions over
each ticket's wait (from its ``StartTime``), its algorithm block, players' attributes and
latencies. Each match carries the engine's per-rule evaluation counts, and every ticket left
searching the engine's account of why (:class:`Outcome`). The configuration's
``AdditionalPlayerCount`` leaves that many player slots of each match open
(:func:`lobby.flexmatch.ruleset.keep_open`), except in STANDALONE mode, where the service does not
use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lobby.emulator.flexmatch.records import Config
from lobby.flexmatch import ruleset as engine
from lobby.flexmatch.ruleset import RuleSet


@dataclass(frozen=True, slots=True)
class Player:
    player_id: str
    #: ``PlayerAttributes`` as the request gave them: name -> AttributeValue
    #: (``{"S": ...}``, ``{"N": ...}``, ``{"SL": [...]}`` or ``{"SDM": {...}}``).
    attributes: Mapping[str, Any]
    #: ``LatencyInMs``: region -> milliseconds.
    latencies: Mapping[str, int]

    def wire(self) -> dict[str, Any]:
        """The player as a GameLift ``Player`` structure."""
        return {"PlayerId": self.player_id, "PlayerAttributes": self.attributes, "LatencyInMs": self.latencies}


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
    #: The configuration's rule set, parsed.
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
    #: Per rule, in rule set order: how often it passed and failed while the match was built
    #: (the ``ruleEvaluationMetrics`` of its PotentialMatchCreated event).
    metrics: tuple[engine.RuleMetric, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    #: The matches to propose, no ticket in two of them.
    matches: list[ProposedMatch]
    #: For every ticket of the pool in no match: why it is still searching.
    left: tuple[engine.TicketReport, ...] = ()
    #: When waiting alone could change the answer (the next expansion step some ticket left
    #: reaches); None: only new or changed tickets can.
    next_change: float | None = None


#: A matchmaker: what to propose from a pool, and why the rest wait.
Matchmaker = Callable[[Pool], Outcome]


def find_matches(pool: Pool) -> Outcome:
    """One tick of the rule set engine over the pool: the matches it forms, in the order it
    formed them, and why every other ticket is still searching."""
    tickets: list[engine.Ticket] = []
    refused: list[engine.TicketReport] = []
    for t in pool.tickets:
        try:
            tickets.append(
                engine.Ticket(t.ticket_id, t.start_time, tuple(engine.player_from_wire(p.wire()) for p in t.players))
            )
        except engine.WireError as exc:
            refused.append(engine.TicketReport(t.ticket_id, (f"Its players cannot be read: {exc}",), ()))
    config = pool.configuration
    rule_set = pool.rule_set
    if not config.standalone:
        rule_set = engine.keep_open(rule_set, int(config.settings.get("AdditionalPlayerCount") or 0))
    result = engine.form_matches(rule_set, tickets, pool.now)
    players = {t.ticket_id: tuple(p.player_id for p in t.players) for t in pool.tickets}
    found = [
        ProposedMatch(
            tickets=formed.ticket_ids,
            teams={
                team: tuple(p for ticket in members for p in players[ticket])
                for team, members in formed.teams.items()
            },
            metrics=formed.metrics,
        )
        for formed in result.matches
    ]
    matched = {t for m in found for t in m.tickets}
    return Outcome(
        found,
        (*result.unmatched, *refused),
        next_expansion(pool.rule_set, [t for t in pool.tickets if t.ticket_id not in matched], pool.now),
    )


def next_expansion(rule_set: RuleSet, tickets: Sequence[SearchingTicket], now: float) -> float | None:
    """The first time after ``now`` at which one of ``tickets`` reaches an expansion step."""
    waits = {step.wait_seconds for expansion in rule_set.expansions for step in expansion.steps}
    times = [t.start_time + wait for t in tickets for wait in waits if t.start_time + wait > now]
    return min(times, default=None)
