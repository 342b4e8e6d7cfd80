"""FlexMatch tickets on the moderator's board: one row per ticket, kept from the events.

Where a ticket stands is decided by :class:`~lobby.flexmatch.fold.TicketFold`, as for the
captain: each event is folded there, then every ticket it concerned is copied onto its row
(status, deadline, players and teams, acceptance progress while the ticket awaits answers),
with a line on the row's timeline and the figures the event adds (a round ended, a ticket
matched, a ticket finished).
"""

from __future__ import annotations

from collections.abc import Callable

from lobby.flexmatch.fold import Folded, TicketFold
from lobby.flexmatch.lifecycle import EXPLANATION_EVENT, EventType, PlayerAnswer, TicketStatus
from lobby.moderation.events import ModEvent
from lobby.moderation.ledger import Ledger
from lobby.moderation.rows import Kind, Row

#: Events that set the progress shown on a ticket awaiting answers, one that clears it, and
#: those whose line tells the progress.
_ANSWERING = frozenset({EventType.POTENTIAL_MATCH_CREATED, EventType.ACCEPT_MATCH})
_SEARCHING_AGAIN = frozenset({EventType.SEARCHING})
_PROGRESSING = _ANSWERING | {EventType.ACCEPT_MATCH_COMPLETED}
#: Events after which a ticket counts as matched (time to match is counted once).
_MATCHING = frozenset({EventType.POTENTIAL_MATCH_CREATED, EventType.SUCCEEDED})
_ENDED = frozenset({EventType.CANCELLED, EventType.TIMED_OUT, EventType.FAILED})
#: How many players an answer's line names before "…".
_NAMED_ANSWERS = 3
# Read through their class, enum members cost a call each (Python 3.11); these are compared
# with for every ticket of every event.
_AWAITING, _SEARCHING, _TICKET = TicketStatus.REQUIRES_ACCEPTANCE, TicketStatus.SEARCHING, Kind.TICKET


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
        # The progress shown on tickets awaiting answers in that match (frozen once they move on).
        shown = progress if proposal is not None and kind in _ANSWERING else None
        text = _WORDS.get(kind, _other)(folded, progress)
        matched = kind in _MATCHING and (proposal is not None or kind is EventType.SUCCEEDED)
        searching_again = kind in _SEARCHING_AGAIN
        ended = kind in _ENDED
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
            if not row.region:
                ledger.place(row, event.region)
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
                if shown is not None and proposal is not None and ticket.match_id == proposal.match_id:
                    row.accepted, row.total = shown
            elif status is _SEARCHING and searching_again:
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


# --- the timeline's words, per event type ---------------------------------------------------


def _searching(folded: Folded, progress: tuple[int, int] | None) -> str:
    wait = folded.estimated_wait_millis
    return f"Searching for a match{f'; estimated wait {int(wait) // 1000} s' if wait is not None else ''}."


def _proposed(folded: Folded, progress: tuple[int, int] | None) -> str:
    proposal = folded.proposal
    if proposal is None:
        return _other(folded, progress)
    timeout = folded.acceptance_timeout
    if not folded.acceptance_required:
        ask = "; no acceptance needed"
    else:
        ask = f"; {int(timeout)} s to accept" if timeout is not None else ""
    tickets, players = len(proposal.ticket_ids), len(proposal.answers)
    return f"Match {proposal.match_id} proposed: {tickets} tickets, {players} players{ask}."


def _answered(folded: Folded, progress: tuple[int, int] | None) -> str:
    proposal = folded.proposal
    if proposal is None or progress is None:
        return _other(folded, progress)
    accepted, total = progress
    changed = set(folded.answered)
    news = [(p, a) for p, a in proposal.answers.items() if p in changed]
    said = "; ".join(
        f"{p} {'accepted' if a is PlayerAnswer.ACCEPTED else 'rejected'}" for p, a in news[:_NAMED_ANSWERS]
    )
    said += "…" if len(news) > _NAMED_ANSWERS else ""
    return f"{said + '; ' if said else ''}{accepted} of {total} accepted."


def _round_ended(folded: Folded, progress: tuple[int, int] | None) -> str:
    if folded.proposal is None or progress is None:
        return _other(folded, progress)
    accepted, total = progress
    return f"Acceptance ended: {folded.acceptance or 'Unknown'} ({accepted} of {total} accepted)."


def _succeeded(folded: Folded, progress: tuple[int, int] | None) -> str:
    return f"Match ready{f' at {folded.game_session}' if folded.game_session else ''}."


def _stopped(word: str) -> Callable[[Folded, tuple[int, int] | None], str]:
    def words(folded: Folded, progress: tuple[int, int] | None) -> str:
        why = "; ".join(w for w in (folded.reason, folded.message) if w)
        return f"{word}{': ' + why if why else ''}."

    return words


def _explained(folded: Folded, progress: tuple[int, int] | None) -> str:
    """The emulator's word on a ticket still searching: the rules that failed with it."""
    rules = [f"{rule} ({passed} passed, {failed} failed)" for rule, passed, failed in folded.held_back]
    if rules:
        why = "held back by " + ", ".join(rules[:_NAMED_ANSWERS]) + ("…" if len(rules) > _NAMED_ANSWERS else "")
    else:
        why = folded.reasons[0] if folded.reasons else "no match could be made yet"
    return f"Still searching: {why}" + ("" if why.endswith((".", "…")) else ".")


def _other(folded: Folded, progress: tuple[int, int] | None) -> str:
    return f"{folded.type}."


#: The event in one sentence, as the timeline of every row it concerned shows it (given the
#: progress of its match after it).
_WORDS: dict[EventType | str, Callable[[Folded, tuple[int, int] | None], str]] = {
    EventType.SEARCHING: _searching,
    EventType.POTENTIAL_MATCH_CREATED: _proposed,
    EventType.ACCEPT_MATCH: _answered,
    EventType.ACCEPT_MATCH_COMPLETED: _round_ended,
    EventType.SUCCEEDED: _succeeded,
    EventType.CANCELLED: _stopped("Cancelled"),
    EventType.TIMED_OUT: _stopped("Timed out"),
    EventType.FAILED: _stopped("Failed"),
    EXPLANATION_EVENT: _explained,
}
