"""FlexMatch tickets on the moderator's board: matchmaking events folded into ticket rows.

One row per ticket. A proposed match moves every ticket in it: an answer changes the progress
of all of them, and the end of the round moves all of them (a dropped match by the rule of
:func:`~lobby.flexmatch.lifecycle.after_dropped_match`, provisionally until the ticket's own
event confirms it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lobby.core.events import parse_time
from lobby.flexmatch.lifecycle import EventType, PlayerAnswer, after_dropped_match
from lobby.moderation.events import ModEvent
from lobby.moderation.ledger import Ledger
from lobby.moderation.rows import Kind, Row
from lobby.moderation.stats import ROUND_ACCEPTED

# FlexMatch detail types.
SEARCHING = EventType.SEARCHING
POTENTIAL_MATCH_CREATED = EventType.POTENTIAL_MATCH_CREATED
ACCEPT_MATCH = EventType.ACCEPT_MATCH
ACCEPT_MATCH_COMPLETED = EventType.ACCEPT_MATCH_COMPLETED
SUCCEEDED = EventType.SUCCEEDED
TIMED_OUT = EventType.TIMED_OUT
CANCELLED = EventType.CANCELLED
FAILED = EventType.FAILED
_FINAL_EVENTS = {CANCELLED: "CANCELLED", TIMED_OUT: "TIMED_OUT", FAILED: "FAILED"}


@dataclass(slots=True)
class _Proposal:
    """A proposed FlexMatch match: every player of every ticket, with their answer."""

    match_id: str
    answers: dict[str, bool | None] = field(default_factory=dict)
    tickets: list[str] = field(default_factory=list)
    ended: str | None = None

    def progress(self) -> tuple[int, int]:
        return sum(1 for a in self.answers.values() if a is True), len(self.answers)


class TicketRows:
    """FlexMatch events onto the ledger's ticket rows."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._proposals: dict[str, _Proposal] = {}

    def answers(self, row: Row) -> dict[str, bool | None]:
        """A ticket's players' answers in its current or last proposed match (None: not yet)."""
        proposal = self._proposals.get(row.match_id) if row.match_id else None
        if proposal is None:
            return {}
        return {p: proposal.answers.get(p) for p in row.players}

    def forget(self, row: Row) -> None:
        """``row`` left the board: forget its proposal once no ticket of it is live."""
        rows = self._ledger.rows
        proposal = self._proposals.get(row.match_id) if row.match_id else None
        if proposal is not None and all(
            (Kind.TICKET, t) not in rows or not rows[(Kind.TICKET, t)].live for t in proposal.tickets
        ):
            del self._proposals[proposal.match_id]

    def apply(self, event: ModEvent) -> bool:
        detail = event.body
        kind = event.type
        when = event.time
        match_id = detail.get("matchId") if isinstance(detail.get("matchId"), str) else None
        proposal = self._proposals.get(match_id) if match_id else None
        if proposal is None and match_id and kind in (POTENTIAL_MATCH_CREATED, ACCEPT_MATCH, ACCEPT_MATCH_COMPLETED):
            proposal = self._proposals[match_id] = _Proposal(match_id)

        before = dict(proposal.answers) if proposal is not None and kind == ACCEPT_MATCH else {}
        rows: list[Row] = []
        for wt in detail.get("tickets") or ():
            if not isinstance(wt, dict) or not isinstance(wt.get("ticketId"), str):
                continue
            started = _time(wt.get("startTime"))
            row = self._ledger.row(Kind.TICKET, wt["ticketId"], started if started is not None else when)
            if event.configuration and not row.group:
                row.group = event.configuration
            if started is not None and started < row.created:
                row.created = started
            for p in wt.get("players") or ():
                if isinstance(p, dict) and isinstance(p.get("playerId"), str):
                    team = p.get("team") if isinstance(p.get("team"), str) else None
                    if team or p["playerId"] not in row.players or kind == SEARCHING:
                        # Searching again: the last match's teams no longer hold.
                        row.players[p["playerId"]] = team if kind == SEARCHING else team or row.players.get(p["playerId"])
                    if proposal is not None:
                        if kind == POTENTIAL_MATCH_CREATED:
                            proposal.answers.setdefault(p["playerId"], None)
                        elif kind == ACCEPT_MATCH and isinstance(p.get("accepted"), bool):
                            proposal.answers[p["playerId"]] = p["accepted"]
            teams = tuple(dict.fromkeys(t for t in row.players.values() if t))
            if teams != row.teams:
                row.teams = teams
            rows.append(row)
        if not rows and proposal is None:
            return False

        if kind == SEARCHING:
            for row in rows:
                self._ledger.set_status(row, "SEARCHING", when)
                if row.status == "SEARCHING":
                    row.deadline = None
                    row.accepted = row.total = 0
                wait = detail.get("estimatedWaitMillis")
                extra = f"; estimated wait {int(wait) // 1000} s" if isinstance(wait, int | float) else ""
                self._ledger.note(row, event, f"Searching for a match{extra}.")
        elif kind == POTENTIAL_MATCH_CREATED and proposal is not None:
            for row in rows:
                if row.key[1] not in proposal.tickets:
                    proposal.tickets.append(row.id)
            required = bool(detail.get("acceptanceRequired"))
            timeout = detail.get("acceptanceTimeout")
            accepted, total = proposal.progress()
            players = len(proposal.answers)
            for row in rows:
                row.match_id = proposal.match_id
                if not row.matched:
                    row.matched = True
                    self._ledger.stats.matched(when, when - row.created)
                if required:
                    self._ledger.set_status(row, "REQUIRES_ACCEPTANCE", when)
                    if row.status == "REQUIRES_ACCEPTANCE":
                        if isinstance(timeout, int | float):
                            row.deadline = when + timeout
                        row.accepted, row.total = accepted, total
                else:
                    self._ledger.set_status(row, "PLACING", when)
                ask = f"; {int(timeout)} s to accept" if required and isinstance(timeout, int | float) else (
                    "" if required else "; no acceptance needed"
                )
                self._ledger.note(
                    row,
                    event,
                    f"Match {proposal.match_id} proposed: {len(proposal.tickets)} tickets, {players} players{ask}.",
                )
        elif kind == ACCEPT_MATCH and proposal is not None:
            accepted, total = proposal.progress()
            news = [(p, a) for p, a in proposal.answers.items() if a is not None and before.get(p) is not a]
            said = "; ".join(f"{p} {'accepted' if a else 'rejected'}" for p, a in news[:3])
            said += "…" if len(news) > 3 else ""
            text = f"{said + '; ' if said else ''}{accepted} of {total} accepted."
            for row in self._proposal_rows(proposal, rows):
                if row.status == "REQUIRES_ACCEPTANCE" and row.match_id == proposal.match_id:
                    row.accepted, row.total = accepted, total
                    self._ledger.touch(row)
                self._ledger.note(row, event, text)
        elif kind == ACCEPT_MATCH_COMPLETED and proposal is not None:
            outcome = detail.get("acceptance") if isinstance(detail.get("acceptance"), str) else "Unknown"
            if proposal.ended is None:
                proposal.ended = outcome
                self._ledger.stats.round_ended(when, outcome)
            accepted, total = proposal.progress()
            for row in self._proposal_rows(proposal, rows):
                row.deadline = None
                if outcome == ROUND_ACCEPTED:
                    self._ledger.set_status(row, "PLACING", when)
                else:
                    answers = [_answer(proposal.answers.get(p)) for p in row.players]
                    target = after_dropped_match(answers).value
                    self._ledger.set_status(row, target, when, provisional=True)
                self._ledger.note(row, event, f"Acceptance ended: {outcome} ({accepted} of {total} accepted).")
        elif kind == SUCCEEDED:
            info = detail.get("gameSessionInfo") if isinstance(detail.get("gameSessionInfo"), dict) else {}
            host = info.get("dnsName") or info.get("ipAddress")
            where = f" at {host}:{info.get('port')}" if host and info.get("port") else ""
            for row in rows:
                if not row.matched:
                    row.matched = True
                    self._ledger.stats.matched(when, when - row.created)
                self._ledger.set_status(row, "COMPLETED", when)
                self._ledger.note(row, event, f"Match ready{where}.")
        elif kind in _FINAL_EVENTS:
            reason = detail.get("reason") if isinstance(detail.get("reason"), str) else None
            message = detail.get("message") if isinstance(detail.get("message"), str) else None
            words = {CANCELLED: "Cancelled", TIMED_OUT: "Timed out", FAILED: "Failed"}[kind]
            why = "; ".join(w for w in (reason, message) if w)
            for row in rows:
                self._ledger.set_status(row, _FINAL_EVENTS[kind], when)
                if row.status == _FINAL_EVENTS[kind]:
                    row.reason = why or None
                    row.deadline = None
                self._ledger.note(row, event, f"{words}{': ' + why if why else ''}.")
        else:
            for row in rows:
                self._ledger.note(row, event, f"{kind}.")
        for row in rows:
            self._ledger.touch(row)
        return True

    def _proposal_rows(self, proposal: _Proposal, named: list[Row]) -> list[Row]:
        """Every known ticket of a proposed match (an answer moves them all), named ones first."""
        out = {row.key: row for row in named}
        for ticket_id in proposal.tickets:
            row = self._ledger.rows.get((Kind.TICKET, ticket_id))
            if row is not None:
                out.setdefault(row.key, row)
        return list(out.values())


def _answer(value: bool | None) -> PlayerAnswer:
    if value is True:
        return PlayerAnswer.ACCEPTED
    if value is False:
        return PlayerAnswer.REJECTED
    return PlayerAnswer.PENDING


_time = parse_time
