"""Moving tickets from status to status, and the events about one ticket.

Every status change goes through :func:`lobby.flexmatch.lifecycle.transition` and is written in
the caller's transaction; leaving REQUIRES_ACCEPTANCE closes the ticket's acceptance round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lobby.emulator.flexmatch import notifications as ev
from lobby.emulator.flexmatch.agenda import Agenda
from lobby.emulator.flexmatch.catalog import Catalog
from lobby.emulator.flexmatch.names import Arns
from lobby.emulator.flexmatch.records import Config, Ticket
from lobby.emulator.flexmatch.rounds import Rounds
from lobby.flexmatch.lifecycle import TicketStatus, transition

S = TicketStatus

#: Why a ticket left the search, as StatusReason / StatusMessage and event reason / message.
REASON_CANCELLED = "Cancelled"
REASON_TIMED_OUT = "TimedOut"
REASON_FAILED = "UNEXPECTED_ERROR"
REASON_MATCH_DROPPED = "PotentialMatchDropped"


@dataclass(slots=True)
class Lifecycle:
    catalog: Catalog
    rounds: Rounds
    agenda: Agenda
    notifier: ev.Notifier
    arns: Arns

    def set_status(
        self,
        db: Any,
        t: Ticket,
        target: TicketStatus,
        now: float,
        *,
        reason: str | None = None,
        message: str | None = None,
        clear_match: bool = False,
        connection: dict[str, Any] | None = None,
    ) -> None:
        """Move one ticket, through the domain's transition table, and persist it."""
        t.status = transition(t.status, target)
        if target is not S.REQUIRES_ACCEPTANCE:
            round_ = self.rounds.by_ticket.get(t.ticket_id)
            if round_ is not None:
                self.rounds.close(round_.match_id)
        t.status_reason, t.status_message = reason, message
        if target.terminal:
            t.end_time = now
        if clear_match:
            t.match_id = None
            for player in t.players:
                player.pop("Team", None)
        if target is S.SEARCHING:
            if t.searching_since is None:
                t.searching_since = now
            self.agenda.match_soon(t.config_name)
        if connection is not None:
            t.connection = json.dumps(connection)
        db.execute(
            "UPDATE fm_tickets SET status=?, status_reason=?, status_message=?, end_time=?,"
            " match_id=?, players=?, searching_since=?, connection=? WHERE seq=?",
            (
                t.status.value,
                reason,
                message,
                t.end_time,
                t.match_id,
                json.dumps(t.players),
                t.searching_since,
                t.connection,
                t.seq,
            ),
        )
        if target.terminal:
            db.execute("UPDATE fm_ticket_players SET active=0 WHERE ticket_id=?", (t.ticket_id,))
        if target is S.SEARCHING or clear_match:
            db.execute("UPDATE fm_ticket_players SET answer=NULL WHERE ticket_id=?", (t.ticket_id,))

    def move_all(self, db: Any, tickets: list[Ticket], target: TicketStatus, now: float) -> None:
        """:meth:`set_status` for the tickets of a match moving together, with no reason,
        message or other change (their rows otherwise hold what these objects hold): the same
        transitions and in-memory changes, in one statement per table for the whole match."""
        assert target is not S.SEARCHING
        rows = []
        for t in tickets:
            t.status = transition(t.status, target)
            if target is not S.REQUIRES_ACCEPTANCE:
                round_ = self.rounds.by_ticket.get(t.ticket_id)
                if round_ is not None:
                    self.rounds.close(round_.match_id)
            t.status_reason = t.status_message = None
            if target.terminal:
                t.end_time = now
            rows.append((t.status.value, t.end_time, t.seq))
        db.executemany(
            "UPDATE fm_tickets SET status=?, status_reason=NULL, status_message=NULL, end_time=?"
            " WHERE seq=?",
            rows,
        )
        if target.terminal:
            db.executemany(
                "UPDATE fm_ticket_players SET active=0 WHERE ticket_id=?",
                [(t.ticket_id,) for t in tickets],
            )

    # --- one ticket's moves with their events ---------------------------------------------------

    def start_searching(self, db: Any, t: Ticket, now: float) -> None:
        """A queued ticket's queue time is over: it searches."""
        config = self.catalog.config_for(t.config_name)
        self.set_status(db, t, S.SEARCHING, now)
        self.emit_ticket(ev.SEARCHING, t, config, now, estimatedWaitMillis=wait_ms(t))

    def search_again(self, db: Any, t: Ticket, now: float, why: str) -> None:
        """The match ``t`` was proposed for was dropped (``why``); its players all accepted."""
        config = self.catalog.config_for(t.config_name)
        self.set_status(
            db, t, S.SEARCHING, now, clear_match=True, reason=REASON_MATCH_DROPPED,
            message=f"The proposed match was dropped because {why}; searching again.",
        )  # fmt: skip
        self.emit_ticket(ev.SEARCHING, t, config, now, estimatedWaitMillis="NOT_AVAILABLE")

    def time_out(self, db: Any, t: Ticket, now: float) -> None:
        """``t`` found no match within its configuration's RequestTimeoutSeconds."""
        config = self.catalog.config_for(t.config_name)
        message = "No match was found before the request timed out."
        self.set_status(db, t, S.TIMED_OUT, now, reason=REASON_TIMED_OUT, message=message)
        self.emit_ticket(
            ev.TIMED_OUT, t, config, now, reason=REASON_TIMED_OUT, message=message,
            ruleEvaluationMetrics=self.metrics(config, 0),
        )  # fmt: skip

    def cancel(self, db: Any, t: Ticket, now: float, message: str, *, dropped: str | None = None) -> None:
        """Cancel ``t`` (``message`` says why); ``dropped`` names the match it leaves, if any."""
        config = self.catalog.config_for(t.config_name)
        self.set_status(
            db, t, S.CANCELLED, now, clear_match=dropped is not None, reason=REASON_CANCELLED,
            message=message,
        )  # fmt: skip
        fields: dict[str, Any] = {"reason": REASON_CANCELLED, "message": message}
        if dropped is not None:
            fields["matchId"] = dropped
        fields["ruleEvaluationMetrics"] = self.metrics(config, 0)
        self.emit_ticket(ev.CANCELLED, t, config, now, **fields)

    # --- events ----------------------------------------------------------------------------------

    def emit_ticket(self, kind: str, t: Ticket, config: Config, now: float, **fields: Any) -> None:
        self.notifier.emit(
            kind,
            now=now,
            config_arn=self.arns.configuration(config.name),
            tickets=[ev.ticket_entry(t.ticket_id, t.start_time, t.players)],
            subject=t.ticket_id,
            custom_event_data=config.custom_event_data,
            **fields,
        )

    def metrics(self, config: Config, passed: int) -> list[dict[str, Any]]:
        rule_set = self.catalog.rule_set(config.rule_set_name)
        names = rule_set.rule_names if rule_set else ()
        return [{"ruleName": n, "passedCount": passed, "failedCount": 0} for n in names]


def wait_ms(t: Ticket) -> int | str:
    return "NOT_AVAILABLE" if t.estimate is None else int(t.estimate * 1000)
