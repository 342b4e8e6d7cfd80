"""The FlexMatch matchmaking-ticket lifecycle: statuses, legal transitions, and the rule that
decides what happens to each ticket when a proposed match is dropped.

Both the emulator (which drives tickets) and the client (which explains them) use this module,
so the rules live in exactly one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class TicketStatus(StrEnum):
    QUEUED = "QUEUED"
    SEARCHING = "SEARCHING"
    REQUIRES_ACCEPTANCE = "REQUIRES_ACCEPTANCE"
    PLACING = "PLACING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def active(self) -> bool:
        return self not in TERMINAL


TERMINAL: frozenset[TicketStatus] = frozenset(
    {TicketStatus.COMPLETED, TicketStatus.FAILED, TicketStatus.CANCELLED, TicketStatus.TIMED_OUT}
)

S = TicketStatus
#: Every legal move of a ticket. COMPLETED straight from SEARCHING or REQUIRES_ACCEPTANCE is the
#: STANDALONE mode, which has no placement step.
TRANSITIONS: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    S.QUEUED: frozenset({S.SEARCHING, S.CANCELLED, S.TIMED_OUT, S.FAILED}),
    S.SEARCHING: frozenset(
        {S.REQUIRES_ACCEPTANCE, S.PLACING, S.COMPLETED, S.CANCELLED, S.TIMED_OUT, S.FAILED}
    ),
    S.REQUIRES_ACCEPTANCE: frozenset({S.PLACING, S.COMPLETED, S.SEARCHING, S.CANCELLED, S.FAILED}),
    S.PLACING: frozenset({S.COMPLETED, S.FAILED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.TIMED_OUT: frozenset(),
}
del S


class IllegalTransition(ValueError):
    def __init__(self, current: TicketStatus, target: TicketStatus) -> None:
        super().__init__(f"a ticket cannot go from {current} to {target}")
        self.current = current
        self.target = target


def can_transition(current: TicketStatus, target: TicketStatus) -> bool:
    return target in TRANSITIONS[current]


def transition(current: TicketStatus, target: TicketStatus) -> TicketStatus:
    """Return ``target`` if the move is legal, else raise :class:`IllegalTransition`."""
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
    return target


# --- what may be done to a ticket in a given status --------------------------------------------


def can_accept(status: TicketStatus) -> bool:
    """AcceptMatch is only meaningful while the ticket awaits acceptance."""
    return status is TicketStatus.REQUIRES_ACCEPTANCE


def can_stop(status: TicketStatus) -> bool:
    """StopMatchmaking works on any active ticket except one being placed."""
    return status.active and status is not TicketStatus.PLACING


#: Timed by RequestTimeoutSeconds: the statuses in which a ticket is still looking for a match.
REQUEST_TIMER_STATUSES: frozenset[TicketStatus] = frozenset(
    {TicketStatus.QUEUED, TicketStatus.SEARCHING}
)


# --- acceptance ---------------------------------------------------------------------------------


class EventType(StrEnum):
    """The ``detail.type`` of FlexMatch's matchmaking events (EventBridge or SNS)."""

    SEARCHING = "MatchmakingSearching"
    POTENTIAL_MATCH_CREATED = "PotentialMatchCreated"
    ACCEPT_MATCH = "AcceptMatch"
    ACCEPT_MATCH_COMPLETED = "AcceptMatchCompleted"
    SUCCEEDED = "MatchmakingSucceeded"
    TIMED_OUT = "MatchmakingTimedOut"
    CANCELLED = "MatchmakingCancelled"
    FAILED = "MatchmakingFailed"


#: The lobby emulator's own event, which GameLift never sends (so no SNS topic or SQS queue
#: carries it): why a ticket that stays SEARCHING was not matched by the matchmaker's latest
#: pass (``detail.heldBackBy``, ``detail.rules`` with ruleName/passedCount/failedCount over the
#: candidates tried, ``detail.reasons``). Its envelope is a FlexMatch event's with this
#: ``detail-type``; the emulator's event log files it under :data:`EMULATOR_EVENT_SOURCE`, so a
#: stream filtered to ``aws.gamelift`` (the captain's) never receives it.
EXPLANATION_EVENT = "MatchmakingExplanation"
EXPLANATION_DETAIL_TYPE = "Lobby Emulator Matchmaking Explanation"
EMULATOR_EVENT_SOURCE = "lobby.emulator"


class PlayerAnswer(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    PENDING = "PENDING"  # has not answered yet


class AcceptanceOutcome(StrEnum):
    """How an acceptance round ended, spelled as in AcceptMatchCompleted events."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    TIMED_OUT = "TimedOut"


def round_outcome(answers: Iterable[PlayerAnswer], *, deadline_passed: bool) -> AcceptanceOutcome | None:
    """The outcome of one acceptance round over every player of every ticket in the match,
    or None while it is still open."""
    answers = list(answers)
    if any(a is PlayerAnswer.REJECTED for a in answers):
        return AcceptanceOutcome.REJECTED
    if answers and all(a is PlayerAnswer.ACCEPTED for a in answers):
        return AcceptanceOutcome.ACCEPTED
    if deadline_passed:
        return AcceptanceOutcome.TIMED_OUT
    return None


def after_dropped_match(ticket_answers: Iterable[PlayerAnswer]) -> TicketStatus:
    """Where one ticket goes when the match it was proposed for is dropped (a rejection or the
    acceptance deadline).

    The current rule: a ticket whose players all accepted goes back to SEARCHING; a ticket with
    any player who rejected or never answered is CANCELLED. AWS has reworded this rule several
    times; this function is the single place to change it.
    """
    answers = list(ticket_answers)
    if answers and all(a is PlayerAnswer.ACCEPTED for a in answers):
        return TicketStatus.SEARCHING
    return TicketStatus.CANCELLED


def acceptance_progress(answers: Iterable[PlayerAnswer]) -> tuple[int, int]:
    """(accepted, total) over the players of a proposed match: "7/10 accepted"."""
    answers = list(answers)
    return sum(a is PlayerAnswer.ACCEPTED for a in answers), len(answers)
