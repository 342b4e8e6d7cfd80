"""The matchmaking operations: StartMatchmaking, DescribeMatchmaking, StopMatchmaking and
AcceptMatch.

A stopped or replaced ticket counts as its players rejecting the match it was proposed for.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from lobby.core.clock import Clock
from lobby.emulator.flexmatch.agenda import Agenda
from lobby.emulator.flexmatch.catalog import Catalog
from lobby.emulator.flexmatch.errors import GameLiftError, InvalidRequestException, NotFoundException
from lobby.emulator.flexmatch.lifecycle import Lifecycle
from lobby.emulator.flexmatch.matches import Matches
from lobby.emulator.flexmatch.names import Arns, dedupe
from lobby.emulator.flexmatch.records import TICKET_COLUMNS, Ticket
from lobby.emulator.flexmatch.rendering import render_ticket
from lobby.emulator.flexmatch.rounds import Rounds
from lobby.emulator.flexmatch.scenario import FlexMatchScenario
from lobby.emulator.store import Store
from lobby.flexmatch.lifecycle import AcceptanceOutcome, PlayerAnswer, TicketStatus, can_accept, can_stop

S = TicketStatus
MAX_PLAYERS_PER_TICKET = 10
MAX_PLAYER_ATTRIBUTES = 10
MAX_DESCRIBE_TICKETS = 10


def read_ticket(db: Any, ticket_id: str) -> Ticket | None:
    row = db.execute(
        f"SELECT {TICKET_COLUMNS} FROM fm_tickets WHERE ticket_id=?", (ticket_id,)
    ).fetchone()
    return None if row is None else Ticket.from_row(row)


@dataclass(slots=True)
class Matchmaking:
    store: Store
    clock: Clock
    scenario: FlexMatchScenario
    catalog: Catalog
    rounds: Rounds
    agenda: Agenda
    lifecycle: Lifecycle
    matches: Matches
    arns: Arns

    def start_matchmaking(self, p: dict[str, Any]) -> dict[str, Any]:
        config_name = self.arns.scoped(p["ConfigurationName"], "configuration")
        players_in = p["Players"]
        if not players_in:
            raise InvalidRequestException("Players must name at least one player.")
        if len(players_in) > MAX_PLAYERS_PER_TICKET:
            raise InvalidRequestException(
                f"A matchmaking request holds at most {MAX_PLAYERS_PER_TICKET} players;"
                f" this one has {len(players_in)}."
            )
        players: list[dict[str, Any]] = []
        seen: set[str] = set()
        for i, player in enumerate(players_in):
            pid = player.get("PlayerId")
            if pid is None:
                raise InvalidRequestException(f"Players[{i}].PlayerId is required.")
            if pid in seen:
                raise InvalidRequestException(f"Players[{i}] repeats a player already in the request.")
            seen.add(pid)
            attrs = player.get("PlayerAttributes")
            if attrs and len(attrs) > MAX_PLAYER_ATTRIBUTES:
                raise InvalidRequestException(
                    f"Players[{i}].PlayerAttributes holds {len(attrs)} attributes;"
                    f" at most {MAX_PLAYER_ATTRIBUTES} are allowed."
                )
            for name, value in (attrs or {}).items():
                check_attribute_value(f"Players[{i}].PlayerAttributes[{name}]", value)
            kept = {"PlayerId": pid}
            for member in ("PlayerAttributes", "LatencyInMs"):
                if player.get(member) is not None:
                    kept[member] = player[member]
            players.append(kept)
        ticket_id = p.get("TicketId") or str(uuid.uuid4())
        now = self.clock.timestamp()
        with self.store.transaction() as db:
            config = self.catalog.configuration(config_name)
            if config is None:
                raise NotFoundException(
                    f"No matchmaking configuration named {self.arns.name_of(config_name)} exists."
                )
            rule_set = self.catalog.rule_set(config.rule_set_name)
            if rule_set is None:  # pragma: no cover - deletion is refused while in use
                raise NotFoundException(f"No matchmaking rule set named {config.rule_set_name} exists.")
            # A party larger than any team is accepted, as the service accepts it; the matchmaker
            # never places it, and says so (GET /_emulator/flexmatch/explain).
            # A ticket id names one ticket: a finished ticket keeps its id (DescribeMatchmaking
            # still answers with it, and its events have been sent under it), so a new request
            # needs a new id (docs/emulator-decisions.md).
            existing = read_ticket(db, ticket_id)
            if existing is not None:
                raise InvalidRequestException(
                    f"Matchmaking ticket {ticket_id} already exists and is {existing.status}"
                    + ("." if existing.status.active else "; start a new request with a new ticket id.")
                )
            ids = [pl["PlayerId"] for pl in players]
            older = db.execute(
                f"SELECT DISTINCT ticket_id FROM fm_ticket_players"
                f" WHERE active=1 AND player_id IN ({','.join('?' * len(ids))})",
                ids,
            ).fetchall()
            replaced = sorted(
                (t for t in (read_ticket(db, r[0]) for r in older) if t is not None),
                key=lambda t: t.seq,
            )
            for old in replaced:
                if old.status is S.PLACING:
                    raise InvalidRequestException(
                        f"A player of this request is in a match being placed (ticket"
                        f" {old.ticket_id}); start a new request once it completes."
                    )
            for old in replaced:
                # Re-read: stopping one ticket may already have moved another one.
                current = read_ticket(db, old.ticket_id)
                if current is not None and current.status.active:
                    self.stop(
                        db, current, now,
                        f"Replaced by matchmaking ticket {ticket_id} for the same player.",
                    )  # fmt: skip
            estimate = None if config.wait_estimate is None else round(config.wait_estimate)
            db.execute(
                "INSERT INTO fm_tickets (ticket_id, config_name, status, start_time, players,"
                " request_deadline, queued_until, estimate) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    ticket_id,
                    config_name,
                    S.QUEUED.value,
                    now,
                    json.dumps(players),
                    now + config.settings["RequestTimeoutSeconds"],
                    now + self.scenario.queue_seconds,
                    estimate,
                ),
            )
            db.executemany(
                "INSERT INTO fm_ticket_players (ticket_id, player_id, position) VALUES (?, ?, ?)",
                [(ticket_id, pid, i) for i, pid in enumerate(ids)],
            )
            ticket = read_ticket(db, ticket_id)
            self.agenda.changed()
        assert ticket is not None
        return {"MatchmakingTicket": render_ticket(self.arns, ticket)}

    def describe_matchmaking(self, p: dict[str, Any]) -> dict[str, Any]:
        ids = dedupe(p["TicketIds"])
        if len(ids) > MAX_DESCRIBE_TICKETS:
            raise InvalidRequestException(
                f"TicketIds may name at most {MAX_DESCRIBE_TICKETS} tickets; it names {len(ids)}."
            )
        if not ids:
            return {"TicketList": []}
        rows = self.store.query(
            f"SELECT {TICKET_COLUMNS} FROM fm_tickets WHERE ticket_id IN ({','.join('?' * len(ids))})",
            ids,
        )
        found = {t.ticket_id: t for t in map(Ticket.from_row, rows) if self.arns.mine(t.config_name)}
        return {"TicketList": [render_ticket(self.arns, found[i]) for i in ids if i in found]}

    def stop_matchmaking(self, p: dict[str, Any]) -> dict[str, Any]:
        ticket_id = p["TicketId"]
        now = self.clock.timestamp()
        with self.store.transaction() as db:
            ticket = read_ticket(db, ticket_id)
            if ticket is None or not self.arns.mine(ticket.config_name):
                raise NotFoundException(f"No matchmaking ticket {ticket_id} exists.")
            if ticket.status is S.CANCELLED:
                return {}
            if not can_stop(ticket.status):
                raise InvalidRequestException(
                    f"Matchmaking ticket {ticket_id} is {ticket.status}"
                    + (
                        "; a ticket whose match is being placed cannot be stopped."
                        if ticket.status is S.PLACING
                        else " and can no longer be stopped."
                    )
                )
            self.stop(db, ticket, now, "Stopped by a StopMatchmaking request.")
            self.agenda.changed()
        return {}

    def accept_match(self, p: dict[str, Any]) -> dict[str, Any]:
        ticket_id = p["TicketId"]
        wanted = PlayerAnswer.ACCEPTED if p["AcceptanceType"] == "ACCEPT" else PlayerAnswer.REJECTED
        now = self.clock.timestamp()
        error: GameLiftError | None = None
        with self.store.transaction() as db:
            proposal = self.rounds.by_ticket.get(ticket_id)
            if proposal is not None:  # an open round: the ticket is REQUIRES_ACCEPTANCE
                status, match_id = S.REQUIRES_ACCEPTANCE, proposal.match_id
                if not self.arns.mine(proposal.config_name):
                    raise NotFoundException(f"No matchmaking ticket {ticket_id} exists.")
            else:
                row = db.execute(
                    "SELECT status, match_id, config_name FROM fm_tickets WHERE ticket_id=?",
                    (ticket_id,),
                ).fetchone()
                if row is None or not self.arns.mine(row[2]):
                    raise NotFoundException(f"No matchmaking ticket {ticket_id} exists.")
                status, match_id = S(row[0]), row[1]
                if can_accept(status):
                    proposal = self.matches.proposal(db, match_id)
            if proposal is not None and proposal.deadline is not None and proposal.deadline <= now:
                # The deadline passed before the scheduler got to it: settle that first
                # (committed, though the answer itself is refused).
                self.matches.expire_match(db, match_id, now)
                self.agenda.changed()
                status = S(db.execute(
                    "SELECT status FROM fm_tickets WHERE ticket_id=?", (ticket_id,)
                ).fetchone()[0])  # fmt: skip
            if proposal is None or not can_accept(status):
                error = InvalidRequestException(
                    f"Matchmaking ticket {ticket_id} is {status}; players can only accept"
                    " or reject a match while its ticket is REQUIRES_ACCEPTANCE."
                )
            else:
                error = self.matches.record_answers(db, proposal, ticket_id, p["PlayerIds"], wanted, now)
        if error is not None:
            raise error
        return {}

    def stop(self, db: Any, t: Ticket, now: float, message: str) -> None:
        """Cancel an active ticket on request. In REQUIRES_ACCEPTANCE this drops its match as
        if its players had rejected it."""
        if t.status is S.REQUIRES_ACCEPTANCE and t.match_id:
            db.execute(
                "UPDATE fm_ticket_players SET answer='REJECTED' WHERE ticket_id=?", (t.ticket_id,)
            )
            self.matches.drop_match(
                db, t.match_id, AcceptanceOutcome.REJECTED, now, stopped={t.ticket_id: message}
            )
            return
        self.lifecycle.cancel(db, t, now, message)


#: Limits the developer guide gives for player attribute values (the model states none).
MAX_STRING_LIST_ITEMS = 100
MAX_STRING_NUMBER_MAP_PAIRS = 10


def check_attribute_value(where: str, value: Any) -> None:
    """Refuse an AttributeValue the service refuses: not exactly one of S, N, SL and SDM set,
    a string list over 100 items, a string-number map over 10 pairs."""
    members = [m for m in ("S", "N", "SL", "SDM") if isinstance(value, dict) and value.get(m) is not None]
    if len(members) != 1:
        raise InvalidRequestException(
            f"{where} must set exactly one of S, N, SL and SDM; it sets {len(members)}."
        )
    (member,) = members
    if member == "SL" and len(value["SL"]) > MAX_STRING_LIST_ITEMS:
        raise InvalidRequestException(
            f"{where}.SL holds {len(value['SL'])} strings; at most {MAX_STRING_LIST_ITEMS} are allowed."
        )
    if member == "SDM" and len(value["SDM"]) > MAX_STRING_NUMBER_MAP_PAIRS:
        raise InvalidRequestException(
            f"{where}.SDM holds {len(value['SDM'])} pairs; at most {MAX_STRING_NUMBER_MAP_PAIRS} are allowed."
        )
