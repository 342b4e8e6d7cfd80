"""The fold of FlexMatch matchmaking events into tickets: where each ticket stands, decided once.

GameLift has no call that lists tickets: a client learns them from the events, which name
every ticket concerned with its players. :class:`TicketFold` keeps, per ticket, its status (and
since when, by the events' own clock), its players and their teams, the match proposed to it
with every player's answer, the acceptance deadline, why it stopped and where it was placed.

Both readers of FlexMatch events fold them here: the captain's
:class:`~lobby.flexmatch.tickets.TicketBook` (offers from my players' tickets) and the
moderator's board (a row per ticket). What each makes of a ticket is its own business; where
the ticket stands is decided here only:

- A status only moves forward in time: an event older than the ticket's current status does
  not move it (events may arrive late or out of order; SQS does not keep order), though what it
  says of players and answers still counts.
- A final status is final, unless it was inferred (provisional) and the service's own word on
  the ticket says otherwise.
- A proposed match moves every ticket in it. An answer changes the progress of all of them;
  the end of the acceptance round moves all of them: to PLACING when every player accepted,
  else where :func:`~lobby.flexmatch.lifecycle.after_dropped_match` says, provisionally until
  the ticket's own event confirms it.
- A new search forgets the teams of the last match.

:meth:`TicketFold.apply` reads the event's ``detail`` as it folds it, in one pass and
defensively (a member missing or of the wrong type reads as absent; a ticket or a player
without an id is left out), and returns what the event said and did as a :class:`Folded`:
the moderator's board folds a thousand events a second, where a validating model, or a typed
copy of each event read before folding it, would cost more than the fold itself.

Times are epoch seconds. Plain Python, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from lobby.core.events import parse_time
from lobby.flexmatch.lifecycle import (
    TERMINAL,
    AcceptanceOutcome,
    EXPLANATION_EVENT,
    EventType,
    PlayerAnswer,
    TicketStatus,
    acceptance_progress,
    after_dropped_match,
)
from lobby.flexmatch.notifications import game_address

# The fold runs for every event the moderator's board reads, a thousand a second. Enum members
# read through their class cost a descriptor call each (Python 3.11), so it names the ones it
# compares with here, once.
_SEARCHING_EVENT = EventType.SEARCHING
_PROPOSED_EVENT = EventType.POTENTIAL_MATCH_CREATED
_ANSWER_EVENT = EventType.ACCEPT_MATCH
_ROUND_EVENT = EventType.ACCEPT_MATCH_COMPLETED
_SUCCEEDED_EVENT = EventType.SUCCEEDED
_SEARCHING = TicketStatus.SEARCHING
_AWAITING = TicketStatus.REQUIRES_ACCEPTANCE
_PLACING = TicketStatus.PLACING
_COMPLETED = TicketStatus.COMPLETED
_PENDING = PlayerAnswer.PENDING
_ACCEPTED = AcceptanceOutcome.ACCEPTED

_PROPOSING = frozenset({_PROPOSED_EVENT, _ANSWER_EVENT, _ROUND_EVENT})
_ENDINGS: dict[EventType | str, TicketStatus] = {
    EventType.CANCELLED: TicketStatus.CANCELLED,
    EventType.TIMED_OUT: TicketStatus.TIMED_OUT,
    EventType.FAILED: TicketStatus.FAILED,
}
_ANSWER = {True: PlayerAnswer.ACCEPTED, False: PlayerAnswer.REJECTED}
_TYPES: dict[str, EventType] = {t.value: t for t in EventType}

#: A ticket's start time comes again in every event about it: read each text once.
_start_time = lru_cache(maxsize=1 << 14)(parse_time)


@dataclass(slots=True, eq=False)
class Ticket:
    """One matchmaking ticket as far as it is known."""

    ticket_id: str
    status: TicketStatus = TicketStatus.QUEUED
    configuration: str | None = None
    #: Player id -> team (None until a match assigns one), in ticket order.
    players: dict[str, str | None] = field(default_factory=dict)
    started_at: float | None = None
    #: When the current status began, by the events' clock (None: no event said).
    status_since: float | None = None
    #: The status before the current one.
    came_from: TicketStatus | None = None
    #: The status was inferred from a dropped match (the rule in the lifecycle); the service's
    #: own next word on the ticket may still correct it.
    provisional: bool = False
    #: The match last proposed to it.
    match_id: str | None = None
    deadline_at: float | None = None
    #: True when the deadline is an estimate (no PotentialMatchCreated event was seen).
    deadline_estimated: bool = False
    reason: str | None = None
    message: str | None = None
    #: "address:port" of the game session once the match succeeded.
    game_session: str | None = None
    player_sessions: dict[str, str] = field(default_factory=dict)
    #: When it was last seen still looking for a match (bounds estimated deadlines).
    searching_seen_at: float | None = None
    #: When it was first seen awaiting acceptance.
    awaiting_seen_at: float | None = None

    @property
    def settled(self) -> bool:
        """Finished for good: nothing will change this ticket any more."""
        return self.status in TERMINAL and not self.provisional

    @property
    def deadline(self) -> datetime | None:
        """The acceptance deadline as an aware datetime."""
        return datetime.fromtimestamp(self.deadline_at, UTC) if self.deadline_at is not None else None

    def enter(self, status: TicketStatus, when: float | None, *, provisional: bool = False) -> None:
        """Take ``status`` now (``when``, if known); whether it may is the caller's to decide."""
        self.came_from = self.status
        self.status = status
        if when is not None:
            self.status_since = when
        final = status in TERMINAL
        self.provisional = provisional and final
        if final:
            self.deadline_at = None


@dataclass(slots=True, eq=False)
class Proposal:
    """A proposed match: every player of every ticket in it, with their answers."""

    match_id: str
    answers: dict[str, PlayerAnswer] = field(default_factory=dict)
    ticket_ids: list[str] = field(default_factory=list)
    #: The acceptance round is over (AcceptMatchCompleted), and how it ended.
    ended: bool = False
    outcome: str | None = None

    @property
    def progress(self) -> tuple[int, int]:
        """(accepted, total) over every player of the match."""
        return acceptance_progress(self.answers.values())


@dataclass(slots=True)
class Folded:
    """One event as the fold read it, and what it did."""

    #: What happened; a type lobby does not know keeps the service's own word.
    type: EventType | str
    #: Every ticket the event concerns: those it names, in its order, then (for an answer or
    #: the end of the round) the other tickets of the match known here.
    tickets: list[Ticket] = field(default_factory=list)
    proposal: Proposal | None = None
    #: AcceptMatch: the players whose answer it changed, in its order.
    answered: list[str] = field(default_factory=list)
    #: AcceptMatchCompleted: this event ended the round (the first to say so), and how
    #: (:class:`~lobby.flexmatch.lifecycle.AcceptanceOutcome` spells it).
    round_ended: bool = False
    acceptance: str | None = None
    #: PotentialMatchCreated: whether players must accept, and for how many seconds.
    acceptance_required: bool = False
    acceptance_timeout: float | None = None
    #: MatchmakingCancelled, MatchmakingTimedOut, MatchmakingFailed: why.
    reason: str | None = None
    message: str | None = None
    #: MatchmakingSucceeded: "address:port" of the game session.
    game_session: str | None = None
    #: MatchmakingSearching: the service's estimate of the wait, in milliseconds.
    estimated_wait_millis: float | None = None
    #: The emulator's explanation of a ticket still searching: (rule, passed, failed) per rule
    #: that failed with it, most failures first, and the matchmaker's sentences.
    held_back: tuple[tuple[str, int, int], ...] = ()
    reasons: tuple[str, ...] = ()


class TicketFold:
    """Tickets and proposed matches, folded from events."""

    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.proposals: dict[str, Proposal] = {}

    # --- questions ---------------------------------------------------------------------------

    def get(self, ticket_id: str) -> Ticket | None:
        return self.tickets.get(ticket_id)

    def proposal_of(self, ticket: Ticket) -> Proposal | None:
        return self.proposals.get(ticket.match_id) if ticket.match_id is not None else None

    def answers(self, ticket: Ticket) -> dict[str, PlayerAnswer]:
        """The ticket's players' answers in its current or last match (PENDING when unknown)."""
        proposal = self.proposal_of(ticket)
        known = proposal.answers if proposal is not None else {}
        return {p: known.get(p, _PENDING) for p in ticket.players}

    def progress(self, ticket: Ticket) -> tuple[int, int] | None:
        """(accepted, total) of the ticket's match; None when no answer is known."""
        proposal = self.proposal_of(ticket)
        return proposal.progress if proposal is not None and proposal.answers else None

    # --- folding -----------------------------------------------------------------------------

    def know(self, ticket_id: str, configuration: str | None = None) -> Ticket:
        """The ticket, created (QUEUED, nothing known) on first mention."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            ticket = self.tickets[ticket_id] = Ticket(ticket_id)
        if configuration and not ticket.configuration:
            ticket.configuration = configuration
        return ticket

    def move(self, ticket: Ticket, status: TicketStatus, when: float | None, *, provisional: bool = False) -> None:
        """Move ``ticket`` to ``status`` at ``when``, unless that would go back in time or
        leave a final status that is not provisional."""
        if ticket.status in TERMINAL and not ticket.provisional:
            return  # a finished ticket never changes again
        if when is not None and ticket.status_since is not None and when < ticket.status_since:
            return  # a late event: the ticket already moved past it
        if ticket.status is status:
            if ticket.provisional and not provisional:
                ticket.provisional = False  # the service confirms what was inferred
            return
        ticket.enter(status, when, provisional=provisional)

    def apply(self, detail: Any, when: float | None, configuration: str | None = None) -> Folded | None:
        """Fold the event ``detail`` (an envelope's ``detail``) that happened at ``when``
        (None: unknown); None when it is not a matchmaking event (it has no type)."""
        if not isinstance(detail, dict):
            return None
        raw = detail.get("type")
        if not isinstance(raw, str):
            return None
        kind: EventType | str = _TYPES.get(raw, raw)
        folded = Folded(kind)
        if raw == EXPLANATION_EVENT:
            return self._explained(folded, detail)
        proposal = None
        match_id = detail.get("matchId")
        if isinstance(match_id, str):
            proposal = self.proposals.get(match_id)
            if proposal is None and kind in _PROPOSING:
                proposal = self.proposals[match_id] = Proposal(match_id)
            folded.proposal = proposal
        searching = kind is _SEARCHING_EVENT
        proposed = kind is _PROPOSED_EVENT
        answering = kind is _ANSWER_EVENT
        succeeded = kind is _SUCCEEDED_EVENT
        ending = _ENDINGS.get(kind)
        answers = proposal.answers if proposal is not None and (proposed or answering) else None
        sessions: Sequence[tuple[str, str]] = ()
        if searching:
            folded.estimated_wait_millis = _number(detail.get("estimatedWaitMillis"))
        elif proposed:
            folded.acceptance_required = bool(detail.get("acceptanceRequired"))
            folded.acceptance_timeout = _number(detail.get("acceptanceTimeout"))
        elif kind is _ROUND_EVENT:
            folded.acceptance = _text(detail.get("acceptance"))
        elif succeeded:
            sessions = _game_session(folded, detail.get("gameSessionInfo"))
        elif ending is not None:
            folded.reason = _text(detail.get("reason"))
            folded.message = _text(detail.get("message"))

        tickets = self.tickets
        named = folded.tickets
        listed = detail.get("tickets")
        for entry in listed if isinstance(listed, list) else ():
            if not isinstance(entry, dict):
                continue
            ticket_id = entry.get("ticketId")
            if not isinstance(ticket_id, str):
                continue
            started = entry.get("startTime")
            started = _start_time(started) if isinstance(started, str) else parse_time(started)
            ticket = tickets.get(ticket_id)
            if ticket is None:
                since = started if started is not None else when
                ticket = tickets[ticket_id] = Ticket(ticket_id, started_at=started, status_since=since)
            elif started is not None and (ticket.started_at is None or started < ticket.started_at):
                ticket.started_at = started
            if configuration and not ticket.configuration:
                ticket.configuration = configuration
            players = ticket.players
            people = entry.get("players")
            for p in people if isinstance(people, list) else ():
                if not isinstance(p, dict):
                    continue
                player = p.get("playerId")
                if not isinstance(player, str):
                    continue
                team = p.get("team")
                if not isinstance(team, str) or not team:
                    team = None
                if searching or team is not None:
                    players[player] = team  # a new search forgets the last match's teams
                elif player not in players:
                    players[player] = None
                if succeeded:
                    session = p.get("playerSessionId")
                    if isinstance(session, str) and session:
                        ticket.player_sessions[player] = session
                if answers is not None:
                    accepted = p.get("accepted") if answering else None
                    if not isinstance(accepted, bool):
                        answers.setdefault(player, _PENDING)
                    elif answers.get(player) is not (answer := _ANSWER[accepted]):
                        answers[player] = answer
                        folded.answered.append(player)
            named.append(ticket)

            if searching:
                if ticket.status is not _SEARCHING or ticket.provisional:
                    self.move(ticket, _SEARCHING, when)
                if ticket.status is _SEARCHING:
                    ticket.deadline_at = None
                    ticket.deadline_estimated = False
                    ticket.searching_seen_at = when
            elif proposed:
                if proposal is not None:
                    self._propose(ticket, proposal, folded, when)
            elif succeeded:
                self.move(ticket, _COMPLETED, when)
                if ticket.status is _COMPLETED:
                    if folded.game_session:
                        ticket.game_session = folded.game_session
                    for player, session in sessions:
                        if player in players:
                            ticket.player_sessions[player] = session
            elif ending is not None:
                self.move(ticket, ending, when)
                if ticket.status is ending:
                    ticket.reason, ticket.message = folded.reason, folded.message

        if proposal is not None and (answering or kind is _ROUND_EVENT):
            # An answer moves the progress of every ticket of the match, named or not.
            known = {t.ticket_id for t in named}
            named += [tickets[t] for t in proposal.ticket_ids if t not in known and t in tickets]
            if kind is _ROUND_EVENT:
                folded.round_ended = self._end_round(proposal, named, folded.acceptance, when)
        return folded

    def _explained(self, folded: Folded, detail: dict[str, Any]) -> Folded:
        """The emulator's word on why tickets still search: it names tickets known here and
        searching (one known nowhere else, or that has moved on, is left out), moves none."""
        rules = detail.get("rules")
        failing = []
        for m in rules if isinstance(rules, list) else ():
            if isinstance(m, dict) and isinstance(m.get("ruleName"), str):
                passed, failed = _number(m.get("passedCount")), _number(m.get("failedCount"))
                if failed:
                    failing.append((m["ruleName"], int(passed or 0), int(failed)))
        failing.sort(key=lambda m: (-m[2], m[0]))
        folded.held_back = tuple(failing)
        reasons = detail.get("reasons")
        folded.reasons = tuple(r for r in (reasons if isinstance(reasons, list) else ()) if isinstance(r, str))
        listed = detail.get("tickets")
        for entry in listed if isinstance(listed, list) else ():
            ticket_id = entry.get("ticketId") if isinstance(entry, dict) else None
            ticket = self.tickets.get(ticket_id) if isinstance(ticket_id, str) else None
            if ticket is not None and ticket.status is _SEARCHING:
                folded.tickets.append(ticket)
        return folded

    def _propose(self, ticket: Ticket, proposal: Proposal, folded: Folded, when: float | None) -> None:
        ticket.match_id = proposal.match_id
        if ticket.ticket_id not in proposal.ticket_ids:
            proposal.ticket_ids.append(ticket.ticket_id)
        if not folded.acceptance_required:
            self.move(ticket, _PLACING, when)
            return
        self.move(ticket, _AWAITING, when)
        if ticket.status is _AWAITING:
            ticket.awaiting_seen_at = when
            if when is not None and folded.acceptance_timeout is not None:
                ticket.deadline_at = when + folded.acceptance_timeout
                ticket.deadline_estimated = False

    def _end_round(self, proposal: Proposal, tickets: list[Ticket], outcome: str | None, when: float | None) -> bool:
        """The acceptance round of ``proposal`` ended as ``outcome``; True if it was open."""
        first = not proposal.ended
        if first:
            proposal.ended, proposal.outcome = True, outcome
        answers = proposal.answers
        for ticket in tickets:
            ticket.deadline_at = None
            if outcome == _ACCEPTED:
                self.move(ticket, _PLACING, when)
            else:
                mine = [answers.get(p, _PENDING) for p in ticket.players]
                self.move(ticket, after_dropped_match(mine), when, provisional=True)
        return first

    # --- forgetting --------------------------------------------------------------------------

    def forget(self, ticket_id: str) -> Ticket | None:
        """Drop a ticket, and its match once no ticket of it is known and unsettled."""
        gone = self.tickets.pop(ticket_id, None)
        proposal = self.proposal_of(gone) if gone is not None else None
        if proposal is not None and all(
            t not in self.tickets or self.tickets[t].settled for t in proposal.ticket_ids
        ):
            del self.proposals[proposal.match_id]
        return gone


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _game_session(folded: Folded, info: Any) -> list[tuple[str, str]]:
    """Note where a succeeded match is played; return its (player, player session) pairs."""
    if not isinstance(info, dict):
        return []
    port = info.get("port")
    folded.game_session = game_address(
        _text(info.get("dnsName")), _text(info.get("ipAddress")), port if isinstance(port, int) else None
    )
    listed = info.get("players")
    return [
        (s["playerId"], s["playerSessionId"])
        for s in (listed if isinstance(listed, list) else ())
        if isinstance(s, dict) and isinstance(s.get("playerId"), str) and isinstance(s.get("playerSessionId"), str)
    ]
