"""FlexMatch tickets on the moderator's board: one row per ticket, kept from the events.

Where a ticket stands is decided by :class:`~lobby.flexmatch.fold.TicketFold`, as for the
captain: each event is folded there, then every ticket it concerned is copied onto its row
(status, deadline, players and teams, acceptance progress while the ticket awaits answers),
with a line on the row's timeline and the figures the event adds (a round ended, a ticket
matched, a ticket finished).
"""

from __future__ import annotations

from lobby.flexmatch.fold import Folded, TicketFold
from lobby.flexmatch.lifecycle import EventType, PlayerAnswer, TicketStatus
from lobby.moderation.events import ModEvent
from lobby.moderation.ledger import Ledger
from lobby.moderation.rows import Kind, Row

_ENDED_WORDS: dict[EventType | str, str] = {EventType.CANCELLED: "Cancelled", EventType.TIMED_OUT: "Timed out", EventType.FAILED: "Failed"}
#: Events that change the progress shown on a ticket awaiting answers, and those that tell it.
_ANSWERING = frozenset({EventType.POTENTIAL_MATCH_CREATED, EventType.ACCEPT_MATCH})
_PROGRESSING = _ANSWERING | {EventType.ACCEPT_MATCH_COMPLETED}
#: How many players an answer's line names before "…".
_NAMED_ANSWERS = 3
# Enum members read through their class cost a descriptor call each (Python 3.11): the board
# compares with these for every ticket of every event.
_SEARCHING_EVENT = EventType.SEARCHING
_PROPOSED_EVENT = EventType.POTENTIAL_MATCH_CREATED
_ANSWER_EVENT = EventType.ACCEPT_MATCH
_ROUND_EVENT = EventType.ACCEPT_MATCH_COMPLETED
_SUCCEEDED_EVENT = EventType.SUCCEEDED
_SEARCHING = TicketStatus.SEARCHING
_AWAITING = TicketStatus.REQUIRES_ACCEPTANCE
_ACCEPTED = PlayerAnswer.ACCEPTED
_TICKET = Kind.TICKET


class TicketRows:
    """FlexMatch events onto the ledger's ticket rows."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self.fold = TicketFold()

    def answers(self, row: Row) -> dict[str, PlayerAnswer]:
        """A ticket's players' answers in its current or last proposed match."""
        ticket = self.fold.get(row.id)
        return self.fold.answers(ticket) if ticket is not None else {}

    def forget(self, row: Row) -> None:
        """``row`` left the board: so does its ticket (and its match, once no ticket of it
        is still in play)."""
        self.fold.forget(row.id)

    def apply(self, event: ModEvent) -> bool:
        folded = self.fold.apply(event.body, event.time, event.configuration)
        if folded is None:
            return False
        proposal = folded.proposal
        if not folded.tickets and proposal is None:
            return False
        kind = folded.type
        progress = proposal.progress if proposal is not None and kind in _PROGRESSING else None
        text = _words(folded, progress)
        matched = kind is _SUCCEEDED_EVENT or (kind is _PROPOSED_EVENT and proposal is not None)
        ended = kind in _ENDED_WORDS
        ledger = self._ledger
        when = event.time
        rows = ledger.rows
        for ticket in folded.tickets:
            row = rows.get((_TICKET, ticket.ticket_id))
            if row is None:
                created = ticket.started_at if ticket.started_at is not None else when
                row = ledger.row(_TICKET, ticket.ticket_id, created)
                row.players = ticket.players  # the fold's own: it keeps them
            elif ticket.started_at is not None and ticket.started_at < row.created:
                row.created = ticket.started_at
            if ticket.configuration and not row.group:
                row.group = ticket.configuration
            if matched and not row.matched:
                row.matched = True
                ledger.stats.matched(when, when - row.created)
            status = ticket.status
            if status is not row.status or ticket.provisional is not row.provisional:
                since = ticket.status_since if ticket.status_since is not None else row.status_since
                ledger.moved(row, status, since, provisional=ticket.provisional)
            row.deadline = ticket.deadline_at
            row.match_id = ticket.match_id
            if status is _AWAITING:
                # The progress of the match it awaits answers for (frozen once it moves on).
                if progress is not None and proposal is not None and kind in _ANSWERING and ticket.match_id == proposal.match_id:
                    row.accepted, row.total = progress
            elif status is _SEARCHING and kind is _SEARCHING_EVENT:
                row.accepted = row.total = 0
            if ended:
                row.reason = "; ".join(w for w in (ticket.reason, ticket.message) if w) or None
            if row.teams or any(ticket.players.values()):
                teams = tuple(dict.fromkeys(filter(None, ticket.players.values())))
                if teams != row.teams:
                    row.teams = teams
            ledger.note(row, event, text)
        if folded.round_ended and proposal is not None:
            ledger.stats.round_ended(when, proposal.outcome or "Unknown")
        return True


def _words(folded: Folded, progress: tuple[int, int] | None) -> str:
    """The event in one sentence, as the timeline of every row it concerned shows it;
    ``progress`` is its match's after it."""
    kind = folded.type
    proposal = folded.proposal
    if kind is _SEARCHING_EVENT:
        wait = folded.estimated_wait_millis
        return f"Searching for a match{f'; estimated wait {int(wait) // 1000} s' if wait is not None else ''}."
    if proposal is not None:
        if kind is _PROPOSED_EVENT:
            timeout = folded.acceptance_timeout
            if not folded.acceptance_required:
                ask = "; no acceptance needed"
            else:
                ask = f"; {int(timeout)} s to accept" if timeout is not None else ""
            tickets, players = len(proposal.ticket_ids), len(proposal.answers)
            return f"Match {proposal.match_id} proposed: {tickets} tickets, {players} players{ask}."
        if kind is _ANSWER_EVENT and progress is not None:
            accepted, total = progress
            changed = set(folded.answered)
            news = [(p, a) for p, a in proposal.answers.items() if p in changed]
            said = "; ".join(f"{p} {'accepted' if a is _ACCEPTED else 'rejected'}" for p, a in news[:_NAMED_ANSWERS])
            said += "…" if len(news) > _NAMED_ANSWERS else ""
            return f"{said + '; ' if said else ''}{accepted} of {total} accepted."
        if kind is _ROUND_EVENT and progress is not None:
            accepted, total = progress
            return f"Acceptance ended: {folded.acceptance or 'Unknown'} ({accepted} of {total} accepted)."
    if kind is _SUCCEEDED_EVENT:
        return f"Match ready{f' at {folded.game_session}' if folded.game_session else ''}."
    if kind in _ENDED_WORDS:
        why = "; ".join(w for w in (folded.reason, folded.message) if w)
        return f"{_ENDED_WORDS[kind]}{': ' + why if why else ''}."
    return f"{kind}."
