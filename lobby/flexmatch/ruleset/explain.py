"""What a tick reports: per-rule evaluation counts for each match formed (the
``ruleEvaluationMetrics`` of a PotentialMatchCreated event), and for each ticket left searching,
why: the rules that held it back, with how often each passed and failed over the candidates
tried with it, and what stopped its best attempt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lobby.flexmatch.ruleset.evaluate import MatchEvaluation


@dataclass(frozen=True, slots=True)
class RuleMetric:
    rule: str
    passed: int
    failed: int

    def as_event(self) -> dict[str, Any]:
        """The shape of one ``ruleEvaluationMetrics`` entry of a FlexMatch event."""
        return {"ruleName": self.rule, "passedCount": self.passed, "failedCount": self.failed}


@dataclass(frozen=True, slots=True)
class FormedMatch:
    #: Every team of the rule set (concrete names, in rule set order) -> its ticket ids.
    teams: Mapping[str, tuple[str, ...]]
    #: Per rule, in rule set order: how often it passed and failed while this match was built.
    metrics: tuple[RuleMetric, ...]
    #: The match as judged when it formed (every enforced rule passed).
    evaluation: MatchEvaluation

    @property
    def ticket_ids(self) -> tuple[str, ...]:
        return tuple(t for team in self.teams.values() for t in team)

    def team_of(self, ticket_id: str) -> str:
        for name, tickets in self.teams.items():
            if ticket_id in tickets:
                return name
        raise KeyError(ticket_id)


@dataclass(frozen=True, slots=True)
class TicketReport:
    """Why a searching ticket is still searching after a tick."""

    ticket_id: str
    #: Sentences: problems that keep the ticket from ever matching, and what stopped the best
    #: match built around it.
    reasons: tuple[str, ...]
    #: Per rule that was evaluated with this ticket: passes and failures over those evaluations.
    rules: tuple[RuleMetric, ...]

    @property
    def held_back_by(self) -> tuple[str, ...]:
        """The rules that failed with this ticket, most failures first."""
        failing = sorted((m for m in self.rules if m.failed), key=lambda m: (-m.failed, m.rule))
        return tuple(m.rule for m in failing)


@dataclass(frozen=True, slots=True)
class TickResult:
    matches: tuple[FormedMatch, ...]
    #: Every ticket given that is not in a match, in the order given.
    unmatched: tuple[TicketReport, ...]


def metrics(names: Sequence[str], counts: Sequence[Sequence[int]]) -> tuple[RuleMetric, ...]:
    return tuple(RuleMetric(name, c[0], c[1]) for name, c in zip(names, counts, strict=True))


def ticket_report(
    ticket_id: str, names: Sequence[str], tally: Sequence[Sequence[int]] | None, reasons: Sequence[str]
) -> TicketReport:
    rules = () if tally is None else tuple(m for m in metrics(names, tally) if m.passed or m.failed)
    return TicketReport(ticket_id, tuple(reasons), rules)
