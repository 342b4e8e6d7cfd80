"""Where a FlexMatch ticket ended, in one plain sentence for the captain.

An offer closes with one of these sentences when its ticket leaves REQUIRES_ACCEPTANCE, and the
console follows an answered ticket further with them (placed where, dropped, failed and why):
see :class:`~lobby.core.backend.TicketOutcomes`, which the ticket book implements.
"""

from __future__ import annotations

from collections.abc import Iterable

from lobby.flexmatch.fold import Ticket
from lobby.flexmatch.lifecycle import AcceptanceOutcome, TicketStatus


def sentence(ticket: Ticket, players: Iterable[str] = ()) -> str:
    """Where ``ticket`` stands now; with ``players``, their game sessions once it is placed."""
    status = ticket.status
    why = ticket.message or ticket.reason
    because = f" ({why})" if why else ""
    if status is TicketStatus.COMPLETED:
        text = f"The match is ready at {ticket.game_session}." if ticket.game_session else "The match is ready."
        sessions = ticket.player_sessions
        mine = [f"{p}: {sessions[p]}" for p in players if p in sessions]
        return text + (" Player sessions: " + ", ".join(mine) + "." if mine else "")
    if status is TicketStatus.FAILED:
        placing = ticket.came_from is TicketStatus.PLACING
        return f"{'Placing the match failed' if placing else 'Matchmaking failed'}{because}."
    return {
        TicketStatus.QUEUED: "The ticket is queued again.",
        TicketStatus.SEARCHING: "The match was dropped; the ticket searches again.",
        TicketStatus.REQUIRES_ACCEPTANCE: "The ticket awaits acceptance.",
        TicketStatus.PLACING: "Every player accepted; the match is being placed.",
        TicketStatus.CANCELLED: f"The ticket was cancelled{because}.",
        TicketStatus.TIMED_OUT: f"The ticket timed out before a match was found{because}.",
    }[status]


def dropped(acceptance: str | None, status: TicketStatus) -> str:
    """A ticket's match was dropped (its acceptance round ended as ``acceptance``, not
    Accepted) and the ticket went to ``status``."""
    why = "A player rejected the match" if acceptance == AcceptanceOutcome.REJECTED else "The acceptance window closed"
    then = "this ticket searches again" if status is TicketStatus.SEARCHING else "this ticket is cancelled"
    return f"{why}; {then}."
