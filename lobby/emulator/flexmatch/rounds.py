"""Open acceptance rounds (PROPOSED matches), kept in memory next to the database so an answer
to a round costs a few small statements whatever the size of the match."""

from __future__ import annotations

from functools import partial
from typing import Any

from lobby.emulator.flexmatch import notifications as ev
from lobby.emulator.flexmatch.records import Ticket
from lobby.emulator.store import Store
from lobby.flexmatch.lifecycle import PlayerAnswer

#: A player's answer as ``fm_ticket_players.answer`` holds it.
ANSWER = {None: PlayerAnswer.PENDING, "ACCEPTED": PlayerAnswer.ACCEPTED, "REJECTED": PlayerAnswer.REJECTED}
_FRAGMENT = {PlayerAnswer.PENDING: 0, PlayerAnswer.ACCEPTED: 1, PlayerAnswer.REJECTED: 2}


class Proposal:
    """An open acceptance round (a PROPOSED match), kept in memory for fast answers.

    It mirrors what the database holds (the answers are written there too) and adds the
    pre-encoded JSON pieces of the AcceptMatch event, so an answer costs a few small SQL
    statements and string joins however large the match. Built from the database on first use
    (so it survives a restart) and dropped as soon as the round ends or a transaction that
    touched it rolls back. Its tickets are as the database holds them: any change of a ticket
    is a change of status, which closes the round first.
    """

    __slots__ = (
        "match_id", "config_name", "deadline", "tickets", "players", "counts", "encoded", "members",
    )  # fmt: skip

    def __init__(self, match_id: str, config_name: str, deadline: float | None) -> None:
        self.match_id = match_id
        self.config_name = config_name
        self.deadline = deadline
        #: ticket id -> (JSON head of its tickets[] entry, its player ids in order)
        self.tickets: dict[str, tuple[str, list[str]]] = {}
        #: player id -> [ticket id, answer, (JSON fragments: pending, accepted, rejected)]
        self.players: dict[str, list[Any]] = {}
        self.counts = {PlayerAnswer.PENDING: 0, PlayerAnswer.ACCEPTED: 0, PlayerAnswer.REJECTED: 0}
        #: ticket id -> its tickets[] entry as JSON text, as of the latest answers
        self.encoded: dict[str, str] = {}
        #: the tickets, in the match's order
        self.members: list[Ticket] = []

    def add(self, ticket: Ticket, answers: dict[str, str | None]) -> None:
        self.members.append(ticket)
        ids = ticket.player_ids
        self.tickets[ticket.ticket_id] = (ev.ticket_head(ticket.ticket_id, ticket.start_time), ids)
        for player in ticket.players:
            answer = ANSWER[answers.get(player["PlayerId"])]
            frags = ev.player_fragments(player["PlayerId"], player.get("Team"))
            self.players[player["PlayerId"]] = [ticket.ticket_id, answer, frags]
            self.counts[answer] += 1

    def seal(self) -> None:
        for ticket_id in self.tickets:
            self._encode(ticket_id)

    def answer(self, player_id: str, answer: PlayerAnswer) -> None:
        entry = self.players[player_id]
        self.counts[entry[1]] -= 1
        self.counts[answer] += 1
        entry[1] = answer
        self._encode(entry[0])

    def _encode(self, ticket_id: str) -> None:
        head, ids = self.tickets[ticket_id]
        players = self.players
        self.encoded[ticket_id] = (
            head + ",".join(players[p][2][_FRAGMENT[players[p][1]]] for p in ids) + "]}"
        )

    def answers(self) -> list[PlayerAnswer]:
        """One of each answer the round holds (a rejection, a silence, an acceptance): what
        :func:`round_outcome` decides on, without a list as long as the match.
        (tests/emulator/test_flexmatch_invariants.py checks that the rule still sees it so.)"""
        return [a for a, n in self.counts.items() if n]

    def tickets_json(self) -> str:
        """``detail.tickets`` with an ``accepted`` flag on every player who has answered."""
        return "[" + ",".join(self.encoded.values()) + "]"

    def plain_tickets_json(self) -> str:
        """``detail.tickets`` without answers."""
        players = self.players
        return "[" + ",".join(
            head + ",".join(players[p][2][0] for p in ids) + "]}" for head, ids in self.tickets.values()
        ) + "]"  # fmt: skip

    def session_players_json(self) -> str:
        """``detail.gameSessionInfo.players``: every player of the match, with their team."""
        players = self.players
        return "[" + ",".join(players[p][2][0] for _, ids in self.tickets.values() for p in ids) + "]"


class Rounds:
    """The open acceptance rounds by match id, and by each of their tickets.

    A ticket listed here is REQUIRES_ACCEPTANCE in the database: every status change of a
    ticket closes its round, and so does a rollback of the transaction that opened or changed
    it.
    """

    __slots__ = ("store", "by_match", "by_ticket")

    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_match: dict[str, Proposal] = {}
        self.by_ticket: dict[str, Proposal] = {}

    def open(self, proposal: Proposal) -> None:
        proposal.seal()
        self.by_match[proposal.match_id] = proposal
        for ticket_id in proposal.tickets:
            self.by_ticket[ticket_id] = proposal
        self.store.after_rollback(partial(self.close, proposal.match_id))

    def close(self, match_id: str) -> None:
        """Forget the open round of ``match_id`` (it ended, or the database did not keep it)."""
        proposal = self.by_match.pop(match_id, None)
        if proposal is not None:
            for ticket_id in proposal.tickets:
                if self.by_ticket.get(ticket_id) is proposal:
                    del self.by_ticket[ticket_id]

    def clear(self) -> None:
        """Forget every round (a transaction of unknown reach rolled back)."""
        self.by_match.clear()
        self.by_ticket.clear()
