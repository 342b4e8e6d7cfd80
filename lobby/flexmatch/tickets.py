"""What the captain knows about FlexMatch tickets, and how that knowledge becomes offers and changes.

GameLift has no call that lists tickets by player: a client learns ticket ids from matchmaking
events (folded by :class:`~lobby.flexmatch.fold.TicketFold`, which also serves the moderator's
board) or from tickets it started itself (DescribeMatchmaking answers, folded here). The
:class:`TicketBook` keeps both, per ticket: status, players and teams, the proposed match with
every player's answer (known only from events), and the acceptance deadline.

"My" tickets are those holding one of the configured players (every ticket when none are
configured, as a moderator sees them). A ticket of mine in REQUIRES_ACCEPTANCE is an
:class:`~lobby.core.offers.Offer`; each update to the book returns the
:class:`~lobby.core.offers.Change` s it caused, in order, measured against the offers it last
reported. Where a ticket ended reads as one
sentence of :mod:`~lobby.flexmatch.outcomes`, the book being the backend's
:class:`~lobby.core.backend.TicketOutcomes`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import datetime

from lobby.core.backend import TicketOutcome
from lobby.core.offers import Change, Offer, OfferClosed, OfferKind, OfferUpdated
from lobby.flexmatch.fold import Proposal, Ticket, TicketFold
from lobby.flexmatch.lifecycle import AcceptanceOutcome, EventType, PlayerAnswer, TicketStatus
from lobby.flexmatch.notifications import MatchmakingEvent, game_address
from lobby.flexmatch.outcomes import dropped, sentence
from lobby.flexmatch.wire import MatchmakingTicket


class TicketBook:
    """Tickets known from events, from tickets started here, and from DescribeMatchmaking."""

    def __init__(self, players: Iterable[str] = (), *, keep_finished: int = 5000) -> None:
        self.players = frozenset(players)
        self.fold = TicketFold()
        #: The open offers as last reported, by ticket id: what a change is measured against.
        self._reported: dict[str, Offer] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()
        self._keep_finished = keep_finished

    @property
    def tickets(self) -> dict[str, Ticket]:
        return self.fold.tickets

    @property
    def matches(self) -> dict[str, Proposal]:
        return self.fold.proposals

    # --- questions ---------------------------------------------------------------------------

    def is_mine(self, ticket: Ticket) -> bool:
        return not self.players or not self.players.isdisjoint(ticket.players)

    def my_players(self, ticket: Ticket) -> tuple[str, ...]:
        if not self.players:
            return tuple(ticket.players)
        return tuple(p for p in ticket.players if p in self.players)

    def get(self, ticket_id: str) -> Ticket | None:
        return self.fold.get(ticket_id)

    def live(self) -> list[Ticket]:
        return [t for t in self.tickets.values() if t.status.active]

    def pollable_ids(self) -> list[str]:
        """Tickets worth asking GameLift about: mine and not finished."""
        return [t.ticket_id for t in self.tickets.values() if not t.settled and self.is_mine(t)]

    def progress(self, ticket: Ticket) -> tuple[int, int] | None:
        return self.fold.progress(ticket)

    def answers(self, ticket: Ticket) -> dict[str, PlayerAnswer]:
        """This ticket's players' answers in the current match (PENDING when unknown)."""
        return self.fold.answers(ticket)

    def offer(self, ticket: Ticket) -> Offer | None:
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

    def outcome(self, ticket_id: str, players: Sequence[str]) -> TicketOutcome | None:
        """Where the ticket stands, in a sentence for ``players`` (no I/O); None if unknown."""
        ticket = self.get(ticket_id)
        if ticket is None:
            return None
        return TicketOutcome(ticket_id=ticket_id, status=ticket.status.value, sentence=sentence(ticket, players))

    # --- learning from events ----------------------------------------------------------------

    def apply(self, event: MatchmakingEvent, event_id: str | None = None, *, now: datetime | None = None) -> list[Change]:
        """Fold one matchmaking event into the book; return the changes to my offers."""
        when = event.at if event.at is not None else (now.timestamp() if now is not None else None)
        folded = self.fold.apply(event.detail, when, event.configuration_name)
        if folded is None:
            return []
        affected = [t.ticket_id for t in folded.tickets]
        if folded.proposal is not None:
            # An answer changes the progress shown on every ticket of the match, named or not.
            affected += folded.proposal.ticket_ids
        dropping = folded.type is EventType.ACCEPT_MATCH_COMPLETED and folded.acceptance != AcceptanceOutcome.ACCEPTED
        changes: list[Change] = []
        for ticket_id in dict.fromkeys(affected):
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                continue  # forgotten long ago, once it had finished
            outcome = dropped(folded.acceptance, ticket.status) if dropping else None
            change = self._change(ticket, outcome, event_id)
            if change is not None:
                changes.append(change)
        for ticket in folded.tickets:
            if ticket.settled:
                self._finish(ticket.ticket_id)
        return changes

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
        at = now.timestamp()
        ticket = self.know(wire.ticket_id, wire.configuration_name)
        for p in wire.players:
            if p.player_id:
                ticket.players[p.player_id] = p.team or ticket.players.get(p.player_id)
        if wire.start_time and ticket.started_at is None:
            ticket.started_at = wire.start_time.timestamp()
        if ticket.settled:
            return []
        searching = wire.status in (TicketStatus.QUEUED, TicketStatus.SEARCHING)
        if ticket.status is wire.status and not ticket.provisional:
            if searching:
                ticket.searching_seen_at = at
            if wire.status is not TicketStatus.REQUIRES_ACCEPTANCE:
                return []
        previous = ticket.status
        if ticket.status is not wire.status:
            ticket.enter(wire.status, None)
        ticket.provisional = False
        ticket.reason, ticket.message = wire.status_reason, wire.status_message
        outcome = None
        if searching:
            ticket.searching_seen_at = at
            ticket.deadline_at = None
        elif wire.status is TicketStatus.REQUIRES_ACCEPTANCE:
            if previous is not TicketStatus.REQUIRES_ACCEPTANCE:
                ticket.awaiting_seen_at = at
            if ticket.deadline_at is None and acceptance_timeout is not None:
                ticket.deadline_at = _estimate_deadline(ticket, at, acceptance_timeout)
                ticket.deadline_estimated = True
        else:
            ticket.deadline_at = None
            info = wire.game_session_connection_info
            if info is not None:
                ticket.game_session = game_address(info.dns_name, info.ip_address, info.port) or ticket.game_session
                for s in info.matched_player_sessions:
                    if s.player_id and s.player_session_id:
                        ticket.player_sessions[s.player_id] = s.player_session_id
            outcome = sentence(ticket)
        change = self._change(ticket, outcome, None)
        if ticket.settled:
            self._finish(ticket.ticket_id)
        return [change] if change is not None else []

    # --- internals ---------------------------------------------------------------------------

    def know(self, ticket_id: str, configuration: str | None = None) -> Ticket:
        """The ticket's entry, created (QUEUED, nothing known) on first mention."""
        return self.fold.know(ticket_id, configuration)

    def _change(self, ticket: Ticket, outcome: str | None, event_id: str | None) -> Change | None:
        """How the ticket's offer changed since last reported (None: it did not)."""
        before = self._reported.get(ticket.ticket_id)
        after = self.offer(ticket)
        if after is not None:
            self._reported[ticket.ticket_id] = after
            return OfferUpdated(offer=after, event_id=event_id) if after != before else None
        if before is None:
            return None
        del self._reported[ticket.ticket_id]
        return OfferClosed(
            kind=OfferKind.FLEXMATCH_TICKET,
            id=ticket.ticket_id,
            status=ticket.status.value,
            outcome=outcome or sentence(ticket),
            event_id=event_id,
        )

    def _finish(self, ticket_id: str) -> None:
        self._finished[ticket_id] = None
        self._finished.move_to_end(ticket_id)
        while len(self._finished) > self._keep_finished:
            old, _ = self._finished.popitem(last=False)
            self.fold.forget(old)
            self._reported.pop(old, None)


def _estimate_deadline(ticket: Ticket, now: float, timeout: int) -> float:
    """The earliest the deadline can be: the proposal came after the ticket was last seen
    searching (or started). If that is already past while the ticket still awaits, the bound
    is useless; then assume the proposal came when the ticket was first seen awaiting."""
    since = ticket.searching_seen_at if ticket.searching_seen_at is not None else ticket.started_at
    first = ticket.awaiting_seen_at if ticket.awaiting_seen_at is not None else now
    if since is not None and since + timeout > first:
        return since + timeout
    return first + timeout
