"""What lobby knows about FlexMatch tickets, and how that knowledge becomes offers and changes.

GameLift has no call that lists tickets by player: a client learns ticket ids from matchmaking
events (which carry every ticket with its players) or from tickets it started itself. The
:class:`TicketBook` keeps both, per ticket: status, players and teams, the proposed match with
every player's answer (known only from events), and the acceptance deadline.

"My" tickets are those holding one of the configured players (every ticket when none are
configured, as a moderator sees them). A ticket of mine in REQUIRES_ACCEPTANCE is an
:class:`~lobby.core.offers.Offer`; each update to the book returns the
:class:`~lobby.core.offers.Change` s it caused, in order.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lobby.core.offers import Change, Offer, OfferClosed, OfferKind, OfferUpdated
from lobby.flexmatch.lifecycle import (
    AcceptanceOutcome,
    EventType,
    PlayerAnswer,
    TicketStatus,
    acceptance_progress,
    after_dropped_match,
)
from lobby.flexmatch.wire import MatchmakingEvent, MatchmakingTicket


@dataclass
class MatchView:
    """A proposed match: every player of every ticket in it, with their answers."""

    match_id: str
    answers: dict[str, PlayerAnswer] = field(default_factory=dict)
    ticket_ids: list[str] = field(default_factory=list)

    @property
    def progress(self) -> tuple[int, int]:
        return acceptance_progress(self.answers.values())


@dataclass
class TicketView:
    ticket_id: str
    status: TicketStatus
    configuration: str | None = None
    #: player id -> team (None until a match assigns one), in ticket order.
    players: dict[str, str | None] = field(default_factory=dict)
    start_time: datetime | None = None
    match_id: str | None = None
    deadline: datetime | None = None
    #: True when the deadline is lobby's estimate (no PotentialMatchCreated event was seen).
    deadline_estimated: bool = False
    reason: str | None = None
    message: str | None = None
    #: "address:port" of the game session once the match succeeded.
    game_session: str | None = None
    player_sessions: dict[str, str] = field(default_factory=dict)
    #: When the book last saw this ticket still looking for a match (bounds estimated deadlines).
    last_seen_searching: datetime | None = None
    first_seen_awaiting: datetime | None = None
    #: The status was inferred from a dropped match (the rule in the domain); the service's
    #: own next word on the ticket may still correct it.
    provisional: bool = False
    event_id: str | None = None

    @property
    def settled(self) -> bool:
        """Finished for good: nothing will change this ticket any more."""
        return self.status.terminal and not self.provisional


class TicketBook:
    """Tickets known from events, from tickets started here, and from DescribeMatchmaking."""

    def __init__(self, players: Iterable[str] = (), *, keep_finished: int = 5000) -> None:
        self.players = frozenset(players)
        self.tickets: dict[str, TicketView] = {}
        self.matches: dict[str, MatchView] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._keep_finished = keep_finished

    # --- questions ---------------------------------------------------------------------------

    def is_mine(self, ticket: TicketView) -> bool:
        return not self.players or not self.players.isdisjoint(ticket.players)

    def my_players(self, ticket: TicketView) -> tuple[str, ...]:
        if not self.players:
            return tuple(ticket.players)
        return tuple(p for p in ticket.players if p in self.players)

    def get(self, ticket_id: str) -> TicketView | None:
        return self.tickets.get(ticket_id)

    def live(self) -> list[TicketView]:
        return [t for t in self.tickets.values() if t.status.active]

    def pollable_ids(self) -> list[str]:
        """Tickets worth asking GameLift about: mine and not finished."""
        return [t.ticket_id for t in self.tickets.values() if not t.settled and self.is_mine(t)]

    def progress(self, ticket: TicketView) -> tuple[int, int] | None:
        match = self.matches.get(ticket.match_id) if ticket.match_id else None
        return match.progress if match and match.answers else None

    def answers(self, ticket: TicketView) -> dict[str, PlayerAnswer]:
        """This ticket's players' answers in the current match (PENDING when unknown)."""
        match = self.matches.get(ticket.match_id) if ticket.match_id else None
        known = match.answers if match else {}
        return {p: known.get(p, PlayerAnswer.PENDING) for p in ticket.players}

    def offer(self, ticket: TicketView) -> Offer | None:
        """The offer a ticket of mine makes while it awaits acceptance."""
        if ticket.status is not TicketStatus.REQUIRES_ACCEPTANCE or not self.is_mine(ticket):
            return None
        facts = {"configuration": ticket.configuration or "", "players": ", ".join(ticket.players)}
        if ticket.match_id:
            facts["match"] = ticket.match_id
        if ticket.deadline_estimated:
            facts["deadline"] = "estimated"
        return Offer(
            kind=OfferKind.FLEXMATCH_TICKET,
            id=ticket.ticket_id,
            title=f"{ticket.configuration or 'FlexMatch'} match",
            status=ticket.status.value,
            deadline=ticket.deadline,
            players=self.my_players(ticket),
            progress=self.progress(ticket),
            facts=facts,
        )

    def offers(self) -> list[Offer]:
        found = [o for t in self.tickets.values() if (o := self.offer(t)) is not None]
        return sorted(found, key=lambda o: (o.deadline is None, o.deadline.timestamp() if o.deadline else 0.0, o.id))

    # --- learning from events ----------------------------------------------------------------

    def apply(self, event: MatchmakingEvent, event_id: str | None = None, *, now: datetime | None = None) -> list[Change]:
        """Fold one matchmaking event into the book; return the changes to my offers."""
        detail = event.detail
        kind = detail.type
        when = event.time or now
        outcome: dict[str, str] = {}

        match = None
        if detail.match_id:
            match = self.matches.get(detail.match_id)
            if match is None and kind in (EventType.POTENTIAL_MATCH_CREATED, EventType.ACCEPT_MATCH):
                match = self.matches[detail.match_id] = MatchView(detail.match_id)
        # An answer changes the progress shown on every ticket of the match, named or not.
        affected = list(dict.fromkeys([t.ticket_id for t in detail.tickets] + (match.ticket_ids if match else [])))
        before = {tid: self._offer_of(tid) for tid in affected}

        for wt in detail.tickets:
            ticket = self.know(wt.ticket_id, event.configuration_name)
            if wt.start_time and not ticket.start_time:
                ticket.start_time = wt.start_time
            for p in wt.players:
                if p.player_id not in ticket.players or p.team:
                    ticket.players[p.player_id] = p.team or ticket.players.get(p.player_id)
                if p.player_session_id:
                    ticket.player_sessions[p.player_id] = p.player_session_id
            ticket.event_id = event_id
            if ticket.settled:
                continue  # a finished ticket never changes again
            ticket.provisional = False

            if kind == EventType.SEARCHING:
                ticket.status = TicketStatus.SEARCHING
                ticket.last_seen_searching = when
                ticket.deadline = None
                ticket.deadline_estimated = False
            elif kind == EventType.POTENTIAL_MATCH_CREATED:
                ticket.match_id = detail.match_id
                if match is not None and wt.ticket_id not in match.ticket_ids:
                    match.ticket_ids.append(wt.ticket_id)
                    for p in wt.players:
                        match.answers.setdefault(p.player_id, PlayerAnswer.PENDING)
                if detail.acceptance_required:
                    ticket.status = TicketStatus.REQUIRES_ACCEPTANCE
                    ticket.first_seen_awaiting = when
                    if when is not None and detail.acceptance_timeout is not None:
                        ticket.deadline = when + timedelta(seconds=detail.acceptance_timeout)
                        ticket.deadline_estimated = False
            elif kind == EventType.ACCEPT_MATCH:
                if match is not None:
                    for p in wt.players:
                        if p.accepted is not None:
                            match.answers[p.player_id] = PlayerAnswer.ACCEPTED if p.accepted else PlayerAnswer.REJECTED
                        else:
                            match.answers.setdefault(p.player_id, PlayerAnswer.PENDING)
            elif kind == EventType.ACCEPT_MATCH_COMPLETED:
                result = detail.acceptance or ""
                if result == AcceptanceOutcome.ACCEPTED:
                    ticket.status = TicketStatus.PLACING
                    outcome[wt.ticket_id] = "Every player accepted; the match is being placed."
                else:
                    ticket.status = after_dropped_match(self.answers(ticket).values())
                    ticket.provisional = True
                    why = "A player rejected the match" if result == AcceptanceOutcome.REJECTED else "The acceptance window closed"
                    then = "this ticket searches again" if ticket.status is TicketStatus.SEARCHING else "this ticket is cancelled"
                    outcome[wt.ticket_id] = f"{why}; {then}."
                ticket.deadline = None
            elif kind == EventType.SUCCEEDED:
                ticket.status = TicketStatus.COMPLETED
                info = detail.game_session_info
                if info is not None:
                    host = info.dns_name or info.ip_address
                    if host and info.port:
                        ticket.game_session = f"{host}:{info.port}"
                    for p in info.players:
                        if p.player_session_id and p.player_id in ticket.players:
                            ticket.player_sessions[p.player_id] = p.player_session_id
                outcome[wt.ticket_id] = (
                    f"The match is ready at {ticket.game_session}." if ticket.game_session else "The match is ready."
                )
            elif kind in (EventType.CANCELLED, EventType.TIMED_OUT, EventType.FAILED):
                ticket.status = {
                    EventType.CANCELLED: TicketStatus.CANCELLED,
                    EventType.TIMED_OUT: TicketStatus.TIMED_OUT,
                    EventType.FAILED: TicketStatus.FAILED,
                }[EventType(kind)]
                ticket.reason, ticket.message = detail.reason, detail.message
                outcome[wt.ticket_id] = _ended(ticket)
            if ticket.settled:
                ticket.deadline = None
                self._finish(ticket.ticket_id)

        return [
            c
            for tid in list(dict.fromkeys(affected + [t.ticket_id for t in detail.tickets]))
            if (c := self._change(tid, before.get(tid), outcome.get(tid), event_id)) is not None
        ]

    # --- learning from tickets (StartMatchmaking, DescribeMatchmaking) ------------------------

    def observe(
        self,
        wire: MatchmakingTicket,
        *,
        now: datetime,
        acceptance_timeout: int | None = None,
    ) -> list[Change]:
        """Fold a ticket as GameLift described it; return the changes to my offers.

        Without events there is no deadline on the wire: it is estimated as the acceptance
        timeout after the last moment the ticket was seen still searching (or its start).
        """
        ticket = self.know(wire.ticket_id, wire.configuration_name)
        before = self._offer_of(wire.ticket_id)
        for p in wire.players:
            if p.player_id:
                ticket.players[p.player_id] = p.team or ticket.players.get(p.player_id)
        if wire.start_time and not ticket.start_time:
            ticket.start_time = wire.start_time
        if ticket.settled:
            return []
        if ticket.status is wire.status and not ticket.provisional:
            if wire.status in (TicketStatus.QUEUED, TicketStatus.SEARCHING):
                ticket.last_seen_searching = now
            if wire.status is not TicketStatus.REQUIRES_ACCEPTANCE:
                return []
        ticket.provisional = False
        previous = ticket.status
        ticket.status = wire.status
        ticket.reason, ticket.message = wire.status_reason, wire.status_message
        outcome = None
        if wire.status in (TicketStatus.QUEUED, TicketStatus.SEARCHING):
            ticket.last_seen_searching = now
            ticket.deadline = None
        elif wire.status is TicketStatus.REQUIRES_ACCEPTANCE:
            if previous is not TicketStatus.REQUIRES_ACCEPTANCE:
                ticket.first_seen_awaiting = now
            if ticket.deadline is None and acceptance_timeout is not None:
                ticket.deadline = _estimate_deadline(ticket, now, acceptance_timeout)
                ticket.deadline_estimated = True
        else:
            ticket.deadline = None
            info = wire.game_session_connection_info
            if info is not None:
                host = info.dns_name or info.ip_address
                if host and info.port:
                    ticket.game_session = f"{host}:{info.port}"
                for s in info.matched_player_sessions:
                    if s.player_id and s.player_session_id:
                        ticket.player_sessions[s.player_id] = s.player_session_id
            outcome = _ended(ticket)
        if ticket.settled:
            self._finish(ticket.ticket_id)
        change = self._change(wire.ticket_id, before, outcome, None)
        return [change] if change is not None else []

    # --- internals ---------------------------------------------------------------------------

    def know(self, ticket_id: str, configuration: str | None = None) -> TicketView:
        """The ticket's entry, created (QUEUED, nothing known) on first mention."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            ticket = self.tickets[ticket_id] = TicketView(ticket_id, TicketStatus.QUEUED)
        if configuration and not ticket.configuration:
            ticket.configuration = configuration
        return ticket

    def _offer_of(self, ticket_id: str) -> Offer | None:
        ticket = self.tickets.get(ticket_id)
        return self.offer(ticket) if ticket is not None else None

    def _change(self, ticket_id: str, before: Offer | None, outcome: str | None, event_id: str | None) -> Change | None:
        ticket = self.tickets[ticket_id]
        after = self.offer(ticket)
        if after is not None:
            return OfferUpdated(offer=after, event_id=event_id) if after != before else None
        if before is not None:
            return OfferClosed(
                kind=OfferKind.FLEXMATCH_TICKET,
                id=ticket_id,
                status=ticket.status.value,
                outcome=outcome or _ended(ticket),
                event_id=event_id,
            )
        return None

    def _finish(self, ticket_id: str) -> None:
        self._finished[ticket_id] = None
        self._finished.move_to_end(ticket_id)
        while len(self._finished) > self._keep_finished:
            old, _ = self._finished.popitem(last=False)
            gone = self.tickets.pop(old, None)
            if gone is not None and gone.match_id:
                match = self.matches.get(gone.match_id)
                if match is not None and all(
                    t not in self.tickets or self.tickets[t].settled for t in match.ticket_ids
                ):
                    del self.matches[gone.match_id]


def _estimate_deadline(ticket: TicketView, now: datetime, timeout: int) -> datetime:
    """The earliest the deadline can be: the proposal came after the ticket was last seen
    searching (or started). If that is already past while the ticket still awaits, the bound
    is useless; then assume the proposal came when the ticket was first seen awaiting."""
    window = timedelta(seconds=timeout)
    since = ticket.last_seen_searching or ticket.start_time
    first = ticket.first_seen_awaiting or now
    if since is not None and since + window > first:
        return since + window
    return first + window


def _ended(ticket: TicketView) -> str:
    status = ticket.status
    why = f" ({ticket.message or ticket.reason})" if (ticket.message or ticket.reason) else ""
    return {
        TicketStatus.QUEUED: "The ticket is queued again.",
        TicketStatus.SEARCHING: "The match was dropped; the ticket searches again.",
        TicketStatus.PLACING: "Every player accepted; the match is being placed.",
        TicketStatus.COMPLETED: f"The match is ready at {ticket.game_session}." if ticket.game_session else "The match is ready.",
        TicketStatus.CANCELLED: f"The ticket was cancelled{why}.",
        TicketStatus.TIMED_OUT: f"The ticket timed out before a match was found{why}.",
        TicketStatus.FAILED: f"Matchmaking failed{why}.",
        TicketStatus.REQUIRES_ACCEPTANCE: "The ticket awaits acceptance.",
    }[status]
