"""The FlexMatch scheduler's job: everything due at a given time (expired acceptance rounds,
timed-out requests, queued tickets that start searching, finished placements, matchmaking),
and when something is next due."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lobby.emulator.flexmatch import notifications as ev
from lobby.emulator.flexmatch.agenda import Agenda
from lobby.emulator.flexmatch.catalog import Catalog
from lobby.emulator.flexmatch.lifecycle import Lifecycle
from lobby.emulator.flexmatch.matches import Matches
from lobby.emulator.flexmatch.matchmaker import Matchmaker, Player, Pool, SearchingTicket, find_matches
from lobby.emulator.flexmatch.placement import Placement
from lobby.emulator.flexmatch.records import TICKET_COLUMNS, Config, Ticket
from lobby.emulator.flexmatch.rounds import Rounds
from lobby.emulator.store import Store
from lobby.flexmatch.lifecycle import TicketStatus
from lobby.flexmatch.ruleset import TicketReport

S = TicketStatus

#: A ticket left searching is explained on the event stream (the emulator's own event, see
#: :meth:`Notifier.explain`) after the matchmaker's pass that left it, at most once every
#: EXPLAIN_EVERY seconds, and a repeat of its last explanation (the same rules failing, the
#: same sentences) at most once every EXPLAIN_SAME_EVERY seconds. One pass explains at most
#: EXPLAIN_PER_PASS tickets, longest searching first.
EXPLAIN_EVERY = 10.0
EXPLAIN_SAME_EVERY = 60.0
EXPLAIN_PER_PASS = 50


@dataclass(slots=True)
class Scheduler:
    store: Store
    catalog: Catalog
    rounds: Rounds
    agenda: Agenda
    lifecycle: Lifecycle
    matches: Matches
    placement: Placement
    #: Which searching tickets make matches (given what the database holds, stores nothing).
    matchmaker: Matchmaker = find_matches
    _next_due: float | None = field(default=None, init=False)
    #: Searching ticket id -> why the matchmaker's latest pass left it searching.
    explanations: dict[str, TicketReport] = field(default_factory=dict, init=False)
    #: Configuration -> when its searching tickets reach their next expansion step.
    _expansions: dict[str, float] = field(default_factory=dict, init=False)
    #: Searching ticket id -> (its configuration, when it was last explained on the stream,
    #: what that explanation said).
    _explained: dict[str, tuple[str, float, tuple[Any, ...]]] = field(default_factory=dict, init=False)

    def tick(self, now: float) -> float | None:
        """Do everything due at ``now``; return when something is next due (None: nothing)."""
        agenda = self.agenda
        if not agenda.dirty and (self._next_due is None or now < self._next_due):
            return self._next_due
        extra: list[float | None] = []
        for _ in range(8):  # consequences (bot actions, returned tickets) settle in one call
            agenda.dirty = False
            self._step(now)
            extra = [job(now) for job in agenda.jobs]
            if not agenda.dirty:
                break
        nxt = self._earliest(now, extra)
        self._next_due = nxt
        return nxt

    def _step(self, now: float) -> None:
        try:
            self._step_in_transaction(now)
        except BaseException:
            self.agenda.to_match = None  # rolled back: look at every configuration next time
            self.rounds.clear()
            raise

    def _step_in_transaction(self, now: float) -> None:
        with self.store.transaction() as db:
            for (match_id,) in db.execute(
                "SELECT match_id FROM fm_matches WHERE status='PROPOSED' AND deadline <= ?"
                " ORDER BY deadline, seq",
                (now,),
            ).fetchall():
                self.matches.expire_match(db, match_id, now)
            late = db.execute(
                f"SELECT {TICKET_COLUMNS} FROM fm_tickets WHERE status IN ('QUEUED', 'SEARCHING')"
                " AND request_deadline <= ? ORDER BY request_deadline, seq",
                (now,),
            ).fetchall()
            for row in late:
                self.lifecycle.time_out(db, Ticket.from_row(row), now)
            queued = db.execute(
                f"SELECT {TICKET_COLUMNS} FROM fm_tickets WHERE status='QUEUED'"
                " AND queued_until <= ? ORDER BY seq",
                (now,),
            ).fetchall()
            for row in queued:
                self.lifecycle.start_searching(db, Ticket.from_row(row), now)
            for (match_id,) in db.execute(
                "SELECT match_id FROM fm_matches WHERE status='PLACING' AND due <= ?"
                " ORDER BY due, seq",
                (now,),
            ).fetchall():
                self.placement.place(db, match_id, now)
            wanted, self.agenda.to_match = self.agenda.to_match, set()
            due = {name for name, when in self._expansions.items() if when <= now}
            for name in due:  # looked at again below, if it still has searching tickets
                del self._expansions[name]
            if wanted is not None:
                wanted |= due
            for (config_name,) in db.execute(
                "SELECT DISTINCT config_name FROM fm_tickets WHERE status='SEARCHING'"
            ).fetchall():
                if wanted is None or config_name in wanted:
                    self._matchmake(db, self.catalog.config_for(config_name), now)

    def _matchmake(self, db: Any, config: Config, now: float) -> None:
        rule_set = self.catalog.rule_set(config.rule_set_name)
        if rule_set is None:  # pragma: no cover
            return
        line = {
            t.ticket_id: t
            for t in (
                Ticket.from_row(r)
                for r in db.execute(
                    f"SELECT {TICKET_COLUMNS} FROM fm_tickets WHERE status='SEARCHING'"
                    " AND config_name=? ORDER BY searching_since, seq",
                    (config.name,),
                )
            )
        }
        pool = Pool(config, rule_set, [searching(t) for t in line.values()], now)
        outcome = self.matchmaker(pool)
        for ticket_id in line:
            self.explanations.pop(ticket_id, None)
        self.explanations.update((report.ticket_id, report) for report in outcome.left)
        if outcome.next_change is None:
            self._expansions.pop(config.name, None)
        else:
            self._expansions[config.name] = outcome.next_change
        for match in outcome.matches:
            teams = {player: team for team, players in match.teams.items() for player in players}
            metrics = [m.as_event() for m in match.metrics]
            self.matches.propose(db, config, [line[t] for t in match.tickets], teams, now, metrics)
        self._announce(config, line, outcome.left, now)

    def _announce(self, config: Config, line: dict[str, Ticket], left: Iterable[TicketReport], now: float) -> None:
        """Put on the event stream why tickets of ``config`` are still searching (rate-limited:
        see :data:`EXPLAIN_EVERY`)."""
        explained = self._explained
        for ticket_id in [t for t, (name, _, _) in explained.items() if name == config.name and t not in line]:
            del explained[ticket_id]  # no longer searching
        budget = EXPLAIN_PER_PASS
        lifecycle = self.lifecycle
        arn = None
        for report in left:
            if budget == 0:
                break
            said = (report.held_back_by, report.reasons)
            last = explained.get(report.ticket_id)
            if last is not None and now - last[1] < (EXPLAIN_SAME_EVERY if last[2] == said else EXPLAIN_EVERY):
                continue
            ticket = line.get(report.ticket_id)
            if ticket is None:  # pragma: no cover - the engine reports only tickets it was given
                continue
            arn = arn or lifecycle.arns.configuration(config.name)
            lifecycle.notifier.explain(
                now=now,
                config_arn=arn,
                ticket=ev.ticket_entry(ticket.ticket_id, ticket.start_time, ticket.players),
                report=ev.report_detail(report),
            )
            explained[report.ticket_id] = (config.name, now, said)
            budget -= 1

    def explain(self, ticket_id: str) -> TicketReport | None:
        """Why ``ticket_id`` is still searching, as of the matchmaker's latest pass over it
        (None: it is not searching, or no pass has looked at it yet)."""
        report = self.explanations.get(ticket_id)
        if report is None:
            return None
        row = self.store.query_one("SELECT status FROM fm_tickets WHERE ticket_id=?", (ticket_id,))
        if row is None or row[0] != S.SEARCHING.value:
            self.explanations.pop(ticket_id, None)
            return None
        return report

    def _earliest(self, now: float, extra: Iterable[float | None]) -> float | None:
        row = self.store.query_one(
            "SELECT"
            " (SELECT MIN(deadline) FROM fm_matches WHERE status='PROPOSED'),"
            " (SELECT MIN(due) FROM fm_matches WHERE status='PLACING'),"
            " (SELECT MIN(queued_until) FROM fm_tickets WHERE status='QUEUED'),"
            # The deadline index holds only these two statuses: the IN term lets it be used.
            " (SELECT MIN(request_deadline) FROM fm_tickets"
            "  WHERE status IN ('QUEUED', 'SEARCHING') AND status='QUEUED'),"
            " (SELECT MIN(request_deadline) FROM fm_tickets"
            "  WHERE status IN ('QUEUED', 'SEARCHING') AND status='SEARCHING')"
        )
        times: list[float] = [
            t for t in (*(row or ()), *extra, *self._expansions.values()) if t is not None
        ]
        if not times:
            return None
        return max(min(times), now + 0.001)


def searching(t: Ticket) -> SearchingTicket:
    """A searching ticket as the matchmaker sees it."""
    assert t.searching_since is not None  # set whenever a ticket starts searching
    return SearchingTicket(
        t.ticket_id,
        tuple(Player(p["PlayerId"], p.get("PlayerAttributes", {}), p.get("LatencyInMs", {})) for p in t.players),
        t.start_time,
        t.searching_since,
    )
