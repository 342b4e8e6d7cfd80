"""The life of a proposed match: proposed, answered, then accepted (placed or, STANDALONE,
completed at once) or dropped (a rejection, a missed deadline, a stopped ticket).

The fate of each ticket of a dropped match is decided by
:func:`lobby.flexmatch.lifecycle.after_dropped_match`, never here. Every change appends its
event in the same transaction. Answers to an open round are served from its
:class:`~lobby.emulator.flexmatch.rounds.Proposal`, so AcceptMatch costs a few small
statements whatever the size of the match.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import partial
from typing import Any

from lobby.emulator.flexmatch import notifications as ev
from lobby.emulator.flexmatch.agenda import Agenda
from lobby.emulator.flexmatch.catalog import Catalog
from lobby.emulator.flexmatch.errors import GameLiftError, InvalidRequestException
from lobby.emulator.flexmatch.lifecycle import Lifecycle
from lobby.emulator.flexmatch.names import Arns
from lobby.emulator.flexmatch.records import TICKET_COLUMNS, Config, Ticket
from lobby.emulator.flexmatch.rounds import ANSWER, Proposal, Rounds
from lobby.emulator.flexmatch.scenario import FlexMatchScenario
from lobby.emulator.store import Store
from lobby.flexmatch.lifecycle import (
    AcceptanceOutcome,
    PlayerAnswer,
    TicketStatus,
    after_dropped_match,
    round_outcome,
)

S = TicketStatus
_FLAG = {None: None, "ACCEPTED": True, "REJECTED": False}

_SET_ANSWER = "UPDATE fm_ticket_players SET answer=? WHERE ticket_id=? AND player_id=?"


@dataclass(slots=True)
class Matches:
    store: Store
    scenario: FlexMatchScenario
    catalog: Catalog
    rounds: Rounds
    agenda: Agenda
    lifecycle: Lifecycle
    notifier: ev.Notifier
    arns: Arns

    def match_tickets(
        self, db: Any, match_id: str
    ) -> tuple[Any, list[Ticket], dict[str, dict[str, str | None]]]:
        """The match row, its tickets in proposal order, and {ticket: {player: answer}}."""
        match = db.execute(
            "SELECT seq, match_id, config_name, status, proposed_at, acceptance_required,"
            " deadline, due, tickets FROM fm_matches WHERE match_id=?",
            (match_id,),
        ).fetchone()
        ids = json.loads(match[8])
        rows = db.execute(
            f"SELECT {TICKET_COLUMNS} FROM fm_tickets WHERE match_id=?", (match_id,)
        ).fetchall()
        by_id = {r[1]: Ticket.from_row(r) for r in rows}
        tickets = [by_id[i] for i in ids if i in by_id]
        answers: dict[str, dict[str, str | None]] = {t.ticket_id: {} for t in tickets}
        for tid, pid, answer in db.execute(
            "SELECT ticket_id, player_id, answer FROM fm_ticket_players WHERE ticket_id IN"
            " (SELECT ticket_id FROM fm_tickets WHERE match_id=?)",
            (match_id,),
        ):
            if tid in answers:
                answers[tid][pid] = answer
        return match, tickets, answers

    @staticmethod
    def entries(
        tickets: list[Ticket], answers: dict[str, dict[str, str | None]] | None = None
    ) -> list[dict[str, Any]]:
        return [
            ev.ticket_entry(
                t.ticket_id,
                t.start_time,
                t.players,
                None if answers is None else {k: _FLAG[v] for k, v in answers[t.ticket_id].items()},
            )
            for t in tickets
        ]

    # --- the acceptance round ------------------------------------------------------------------

    def proposal(self, db: Any, match_id: str) -> Proposal:
        """The open round of ``match_id``, from memory or rebuilt from the database (after a
        restart, or a rollback)."""
        proposal = self.rounds.by_match.get(match_id)
        if proposal is None:
            match, tickets, answers = self.match_tickets(db, match_id)
            proposal = Proposal(match_id, match[2], match[6])
            for t in tickets:
                proposal.add(t, answers[t.ticket_id])
            self.rounds.open(proposal)
        return proposal

    def record_answers(
        self,
        db: Any,
        proposal: Proposal,
        ticket_id: str,
        player_ids: list[str],
        wanted: PlayerAnswer,
        now: float,
    ) -> GameLiftError | None:
        players = proposal.players
        strangers = 0
        changed = []
        for pid in dict.fromkeys(player_ids):
            entry = players.get(pid)
            if entry is None or entry[0] != ticket_id:
                strangers += 1
            elif entry[1] is not wanted:
                changed.append(pid)
        if strangers:
            return InvalidRequestException(
                f"{strangers} of the given player ids {'is' if strangers == 1 else 'are'}"
                f" not in matchmaking ticket {ticket_id}."
            )
        if not player_ids:
            return InvalidRequestException("PlayerIds must name at least one player.")
        if not changed:  # a repeated ACCEPT changes nothing and says nothing
            return None
        if len(changed) == 1:
            db.execute(_SET_ANSWER, (wanted.value, ticket_id, changed[0]))
        else:
            db.executemany(_SET_ANSWER, [(wanted.value, ticket_id, pid) for pid in changed])
        self.store.after_rollback(partial(self.rounds.close, proposal.match_id))
        for pid in changed:
            proposal.answer(pid, wanted)
        self._answered(db, proposal, now)
        return None

    # --- matches -------------------------------------------------------------------------------

    def propose(
        self,
        db: Any,
        config: Config,
        tickets: list[Ticket],
        teams: dict[str, str],
        now: float,
        metrics: list[dict[str, Any]],
    ) -> None:
        """Propose ``tickets`` as a match, each player on the team ``teams`` names for them;
        ``metrics`` are the ``ruleEvaluationMetrics`` of building it."""
        match_id = str(uuid.uuid4())
        required = config.acceptance_required
        deadline = now + (config.acceptance_timeout or 0) if required else None
        db.execute(
            "INSERT INTO fm_matches (match_id, config_name, status, proposed_at,"
            " acceptance_required, deadline, tickets) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                match_id,
                config.name,
                "PROPOSED" if required else "ACCEPTED",
                now,
                int(required),
                deadline,
                json.dumps([t.ticket_id for t in tickets]),
            ),
        )
        waits = []
        for t in tickets:
            for player in t.players:
                player["Team"] = teams[player["PlayerId"]]
            t.match_id = match_id
            t.rounds += 1
            waits.append(now - t.start_time)
            db.execute(
                "UPDATE fm_tickets SET match_id=?, rounds=?, players=? WHERE seq=?",
                (match_id, t.rounds, json.dumps(t.players), t.seq),
            )
            db.execute("UPDATE fm_ticket_players SET answer=NULL WHERE ticket_id=?", (t.ticket_id,))
        estimate = sum(waits) / len(waits)
        if config.wait_estimate is not None:
            estimate = 0.7 * config.wait_estimate + 0.3 * estimate
        config.wait_estimate = estimate
        db.execute(
            "UPDATE fm_configurations SET wait_estimate=? WHERE name=?", (estimate, config.name)
        )
        self.catalog.forget_config(config.name)
        fields: dict[str, Any] = {
            "acceptanceRequired": required,
            "ruleEvaluationMetrics": metrics,
            "matchId": match_id,
        }
        if required:
            fields["acceptanceTimeout"] = config.acceptance_timeout
        self.notifier.emit(
            ev.POTENTIAL_MATCH_CREATED,
            now=now,
            config_arn=self.arns.configuration(config.name),
            tickets=self.entries(tickets),
            subject=match_id,
            custom_event_data=config.custom_event_data,
            **fields,
        )
        if required:
            proposal = Proposal(match_id, config.name, deadline)
            self.lifecycle.move_all(db, tickets, S.REQUIRES_ACCEPTANCE, now)
            for t in tickets:
                proposal.add(t, {})
            self.rounds.open(proposal)
        else:
            self.accepted(db, config, match_id, tickets, now)

    def accepted(
        self,
        db: Any,
        config: Config,
        match_id: str,
        tickets: list[Ticket],
        now: float,
        proposal: Proposal | None = None,
    ) -> None:
        """Everyone is in: place the match (or, STANDALONE, complete it at once). With the
        match's ``proposal``, its events are built from the round's pre-encoded pieces."""
        self.rounds.close(match_id)
        if config.standalone:
            self.lifecycle.move_all(db, tickets, S.COMPLETED, now)
            db.execute(
                "UPDATE fm_matches SET status='COMPLETED', deadline=NULL WHERE match_id=?",
                (match_id,),
            )
            if proposal is not None:
                detail = (
                    '{"type":"' + ev.SUCCEEDED + '","tickets":' + proposal.plain_tickets_json()
                    + ',"matchId":' + json.dumps(match_id) + ',"gameSessionInfo":{"players":'
                    + proposal.session_players_json() + "}"
                    + _custom_event_data(config.custom_event_data) + "}"
                )  # fmt: skip
                self.notifier.emit_encoded(
                    ev.SUCCEEDED, now=now, config_arn=self.arns.configuration(config.name),
                    subject=match_id, detail=detail,
                )  # fmt: skip
                return
            entries = self.entries(tickets)
            self.notifier.emit(
                ev.SUCCEEDED,
                now=now,
                config_arn=self.arns.configuration(config.name),
                tickets=entries,
                subject=match_id,
                custom_event_data=config.custom_event_data,
                matchId=match_id,
                gameSessionInfo={"players": ev.session_players(entries)},
            )
            return
        self.lifecycle.move_all(db, tickets, S.PLACING, now)
        db.execute(
            "UPDATE fm_matches SET status='PLACING', deadline=NULL, due=? WHERE match_id=?",
            (now + self.scenario.placement_seconds, match_id),
        )

    def _answered(self, db: Any, proposal: Proposal, now: float) -> None:
        """Someone answered: report it, and close the round if the answers settle it."""
        config = self.catalog.config_for(proposal.config_name)
        match_id = proposal.match_id
        # No gameSessionInfo here: it would repeat every player of the match once more, on
        # every answer, and the tickets already carry each player's team and answer.
        config_arn = self.arns.configuration(config.name)
        tickets = proposal.tickets_json()
        custom = _custom_event_data(config.custom_event_data)
        detail = (
            '{"type":"' + ev.ACCEPT_MATCH + '","tickets":' + tickets
            + ',"matchId":"' + match_id + '"' + custom + "}"
        )  # fmt: skip
        self.notifier.emit_encoded(
            ev.ACCEPT_MATCH, now=now, config_arn=config_arn, subject=match_id, detail=detail
        )
        outcome = round_outcome(proposal.answers(), deadline_passed=False)
        if outcome is AcceptanceOutcome.ACCEPTED:
            # Everyone accepted: the round already holds the event's pieces and the tickets.
            completed = (
                '{"type":"' + ev.ACCEPT_MATCH_COMPLETED + '","tickets":' + tickets
                + ',"acceptance":' + json.dumps(outcome.value) + ',"matchId":' + json.dumps(match_id)
                + ',"gameSessionInfo":{"players":' + proposal.session_players_json() + "}"
                + custom + "}"
            )  # fmt: skip
            self.notifier.emit_encoded(
                ev.ACCEPT_MATCH_COMPLETED, now=now, config_arn=config_arn, subject=match_id,
                detail=completed,
            )  # fmt: skip
            self.accepted(db, config, match_id, proposal.members, now, proposal)
            if self.agenda.jobs or not config.standalone:
                # A completed STANDALONE match gives the scheduler nothing to do (no ticket
                # searches again, nothing is to be placed), unless jobs watch the tickets.
                self.agenda.changed()
        elif outcome is AcceptanceOutcome.REJECTED:
            self.drop_match(db, match_id, outcome, now)
            self.agenda.changed()

    def expire_match(self, db: Any, match_id: str, now: float) -> None:
        match, tickets, answers = self.match_tickets(db, match_id)
        if match[3] != "PROPOSED":
            return
        everyone = [ANSWER[a] for t in tickets for a in answers[t.ticket_id].values()]
        outcome = round_outcome(everyone, deadline_passed=True)
        if outcome is AcceptanceOutcome.ACCEPTED:  # pragma: no cover - settled when answered
            config = self.catalog.config_for(match[2])
            self.accepted(db, config, match_id, tickets, now)
        else:
            self.drop_match(db, match_id, outcome or AcceptanceOutcome.TIMED_OUT, now)

    def drop_match(
        self,
        db: Any,
        match_id: str,
        outcome: AcceptanceOutcome,
        now: float,
        stopped: dict[str, str] | None = None,
    ) -> None:
        """End an acceptance round without a game: each ticket goes where the domain rule says
        (``stopped`` tickets are cancelled whatever their answers)."""
        stopped = stopped or {}
        self.rounds.close(match_id)
        match, tickets, answers = self.match_tickets(db, match_id)
        config = self.catalog.config_for(match[2])
        arn = self.arns.configuration(config.name)
        self.notifier.emit(
            ev.ACCEPT_MATCH_COMPLETED,
            now=now,
            config_arn=arn,
            tickets=self.entries(tickets, answers),
            subject=match_id,
            custom_event_data=config.custom_event_data,
            acceptance=outcome.value,
            matchId=match_id,
        )
        db.execute(
            "UPDATE fm_matches SET status='DROPPED', deadline=NULL WHERE match_id=?", (match_id,)
        )
        why = (
            "the acceptance deadline passed before every player accepted"
            if outcome is AcceptanceOutcome.TIMED_OUT
            else "a player rejected it"
        )
        for t in tickets:
            mine = [ANSWER[a] for a in answers[t.ticket_id].values()]
            target = S.CANCELLED if t.ticket_id in stopped else after_dropped_match(mine)
            if target is S.SEARCHING:
                self.lifecycle.search_again(db, t, now, why)
            else:
                message = stopped.get(t.ticket_id) or (
                    "A player of this ticket did not accept the proposed match in time."
                    if outcome is AcceptanceOutcome.TIMED_OUT
                    or PlayerAnswer.REJECTED not in mine
                    else "A player of this ticket rejected the proposed match."
                )
                self.lifecycle.cancel(db, t, now, message, dropped=match_id)


def _custom_event_data(custom: str | None) -> str:
    """The ``customEventData`` member of an event detail as JSON text, with its leading comma
    (nothing if the configuration has none)."""
    return ',"customEventData":' + json.dumps(custom) if custom else ""
