"""The moderator's board: every FlexMatch ticket and TeamBattles match, kept live from events.

Read-only: the board never calls a service; it folds events (:class:`~.events.ModEvent`) into
one :class:`Row` per ticket or match, a timeline per row, and the windowed figures of
:class:`~.stats.Stats`. Each event is applied once: a second delivery with the same id (a feed
that resumed, an SQS message received twice) changes nothing.

Events may arrive late or out of order (SQS does not keep order): a status only moves forward
in time, a final status is kept, and a late event still lands in its place on the timeline.

Times are epoch seconds taken from the events themselves; "now" comes from the caller's clock.
"""

from __future__ import annotations

import bisect
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lobby.flexmatch.lifecycle import EventType, PlayerAnswer, TicketStatus, after_dropped_match
from lobby.core.events import EventSource, parse_time
from lobby.moderation.events import ModEvent
from lobby.moderation.stats import ROUND_ACCEPTED, Snapshot, Stats


class Kind(StrEnum):
    TICKET = "ticket"  # a FlexMatch matchmaking ticket
    MATCH = "match"  # a TeamBattles match


#: (kind, id): one row.
Key = tuple[str, str]

FLEXMATCH_FINAL = frozenset(s.value for s in TicketStatus if s.terminal)
TEAMBATTLES_FINAL = frozenset({"COMPLETED", "CANCELLED", "FORFEITED"})
#: TeamBattles statuses in which ``scheduledAt`` is a deadline: an open match is cancelled
#: then, an accepted one starts.
TEAMBATTLES_DEADLINE = frozenset({"PENDING", "ACCEPTED", "READY"})
#: Rows waiting for a match: the queue whose depth the header draws.
WAITING = frozenset({"QUEUED", "SEARCHING", "PENDING"})

#: Every status in lifecycle order (sorting by status uses it).
STATUS_ORDER: tuple[str, ...] = (
    "QUEUED",
    "SEARCHING",
    "PENDING",
    "REQUIRES_ACCEPTANCE",
    "ACCEPTED",
    "READY",
    "PLACING",
    "IN_PROGRESS",
    "DISPUTED",
    "COMPLETED",
    "CANCELLED",
    "TIMED_OUT",
    "FAILED",
    "FORFEITED",
)
FINAL_STATUSES = FLEXMATCH_FINAL | TEAMBATTLES_FINAL

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


def is_final(kind: str, status: str) -> bool:
    return status in (FLEXMATCH_FINAL if kind == Kind.TICKET else TEAMBATTLES_FINAL)


@dataclass(slots=True, eq=False)
class Row:
    """One ticket or match as the moderator sees it."""

    kind: str
    id: str
    status: str
    #: When the ticket started / the match was created.
    created: float
    #: When the current status began.
    status_since: float
    #: FlexMatch configuration, or TeamBattles game and mode.
    group: str = ""
    #: Acceptance progress: players who accepted (tickets) or approved requests (matches) of
    #: ``total``; total 0 while there is nothing to accept.
    accepted: int = 0
    total: int = 0
    #: Acceptance deadline (tickets) or scheduled start (open and accepted matches).
    deadline: float | None = None
    #: Players: id -> team (tickets); user id -> username (matches).
    players: dict[str, str | None] = field(default_factory=dict)
    #: Team names: ticket teams once matched; creator and opponent of a match.
    teams: tuple[str, ...] = ()
    #: The proposed FlexMatch match, or the TeamBattles match's own id.
    match_id: str | None = None
    reason: str | None = None
    finished_at: float | None = None
    #: Grows on every change, so views can cache what they drew.
    version: int = 0
    #: A final status inferred from a dropped match, not yet confirmed by its own event.
    provisional: bool = False
    #: The ticket was matched at least once (time to match is counted once).
    matched: bool = False
    #: Team ids seen on a match (to filter by), besides the names in ``teams``.
    team_ids: tuple[str, ...] = ()

    @property
    def key(self) -> Key:
        return (self.kind, self.id)

    @property
    def live(self) -> bool:
        return self.finished_at is None

    def player_list(self) -> list[str]:
        """Player ids (tickets) or usernames (matches), in the order first seen."""
        if self.kind == Kind.TICKET:
            return list(self.players)
        return [name or uid for uid, name in self.players.items()]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    time: float
    uid: str
    type: str
    #: One plain sentence; network text inside it is not yet made safe to show.
    text: str


@dataclass(slots=True)
class _Proposal:
    """A proposed FlexMatch match: every player of every ticket, with their answer."""

    match_id: str
    answers: dict[str, bool | None] = field(default_factory=dict)
    tickets: list[str] = field(default_factory=list)
    ended: str | None = None

    def progress(self) -> tuple[int, int]:
        return sum(1 for a in self.answers.values() if a is True), len(self.answers)


class Board:
    """Rows, timelines and figures, folded from events."""

    def __init__(
        self,
        *,
        window: float = 300.0,
        keep_finished: float = 300.0,
        max_finished: int = 5000,
        timeline_limit: int = 200,
        remember_ids: int = 200_000,
    ) -> None:
        self.rows: dict[Key, Row] = {}
        self.stats = Stats(window)
        self.keep_finished = keep_finished
        self.max_finished = max_finished
        self.timeline_limit = timeline_limit
        self._timelines: dict[Key, list[TimelineEntry]] = {}
        self._proposals: dict[str, _Proposal] = {}
        self._acceptances: dict[str, dict[str, str]] = {}  # match id -> acceptance id -> status
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._remember = remember_ids
        self._finished: OrderedDict[Key, float] = OrderedDict()
        #: Live rows by status.
        self.live_counts: Counter[str] = Counter()
        #: Keys changed since the last :meth:`drain`.
        self.changed: set[Key] = set()
        #: Grows whenever anything changes (rows added, changed or dropped).
        self.generation = 0
        self.applied = 0
        self.duplicates = 0
        self.ignored = 0
        #: The newest event time applied: "now" as the events tell it.
        self.latest = 0.0

    # --- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: Key) -> Row | None:
        return self.rows.get(key)

    def timeline(self, key: Key) -> list[TimelineEntry]:
        return list(self._timelines.get(key, ()))

    @property
    def queue_depth(self) -> int:
        return sum(self.live_counts[s] for s in WAITING)

    def snapshot(self, now: float) -> Snapshot:
        self.stats.sample_depth(now, self.queue_depth)
        return self.stats.snapshot(now, self.live_counts)

    def answers(self, key: Key) -> dict[str, bool | None]:
        """A ticket's players' answers in its current or last proposed match (None: not yet)."""
        row = self.rows.get(key)
        proposal = self._proposals.get(row.match_id) if row is not None and row.match_id else None
        if row is None or proposal is None:
            return {}
        return {p: proposal.answers.get(p) for p in row.players}

    def drain(self) -> set[Key]:
        """The keys changed since the last call (rows dropped by :meth:`prune` included)."""
        changed, self.changed = self.changed, set()
        return changed

    def seen(self, uid: str) -> bool:
        return uid in self._seen

    # --- applying -----------------------------------------------------------------------------

    def apply_all(self, events: Iterable[ModEvent]) -> int:
        return sum(1 for event in events if self.apply(event))

    def apply(self, event: ModEvent) -> bool:
        """Fold one event in; False when it was already applied or is not about the lobby."""
        if event.uid in self._seen:
            self.duplicates += 1
            return False
        self._seen[event.uid] = None
        if len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        if event.source is EventSource.GAMELIFT:
            done = self._flexmatch(event)
        elif event.source is EventSource.TEAMBATTLES:
            done = self._teambattles(event)
        else:
            done = False
        if not done:
            self.ignored += 1
            return False
        self.applied += 1
        if event.time > self.latest:
            self.latest = event.time
        self.generation += 1
        return True

    def prune(self, now: float) -> int:
        """Forget finished rows older than ``keep_finished`` (and the oldest beyond
        ``max_finished``); return how many went."""
        gone = 0
        horizon = now - self.keep_finished
        while self._finished:
            key, when = next(iter(self._finished.items()))
            if when >= horizon and len(self._finished) <= self.max_finished:
                break
            self._finished.popitem(last=False)
            row = self.rows.pop(key, None)
            self._timelines.pop(key, None)
            if row is not None:
                gone += 1
                self.changed.add(key)
                self._forget_related(row)
        if gone:
            self.generation += 1
        return gone

    def _forget_related(self, row: Row) -> None:
        if row.kind == Kind.MATCH:
            self._acceptances.pop(row.id, None)
            return
        proposal = self._proposals.get(row.match_id) if row.match_id else None
        if proposal is not None and all(
            (Kind.TICKET, t) not in self.rows or not self.rows[(Kind.TICKET, t)].live for t in proposal.tickets
        ):
            del self._proposals[proposal.match_id]

    # --- shared -------------------------------------------------------------------------------

    def _row(self, kind: str, item_id: str, created: float) -> Row:
        key = (kind, item_id)
        row = self.rows.get(key)
        if row is None:
            initial = "QUEUED" if kind == Kind.TICKET else "PENDING"
            row = self.rows[key] = Row(kind=kind, id=item_id, status=initial, created=created, status_since=created)
            self.live_counts[initial] += 1
        return row

    def _touch(self, row: Row) -> None:
        row.version += 1
        self.changed.add(row.key)

    def _note(self, row: Row, event: ModEvent, text: str) -> None:
        entries = self._timelines.setdefault(row.key, [])
        entry = TimelineEntry(event.time, event.uid, event.type, text)
        if not entries or entries[-1].time <= entry.time:
            entries.append(entry)
        else:
            bisect.insort(entries, entry, key=lambda e: e.time)
        if len(entries) > self.timeline_limit:
            del entries[: len(entries) - self.timeline_limit]

    def _set_status(self, row: Row, status: str, when: float, *, provisional: bool = False) -> None:
        """Move ``row`` to ``status`` at ``when``, unless that would go back in time or leave
        a confirmed final status."""
        final = is_final(row.kind, status)
        if not row.live and not row.provisional:
            return  # a finished item never changes again
        if when < row.status_since:
            return  # a late event: the row already moved past it
        if row.status == status:
            if row.provisional and not provisional:
                row.provisional = False
                if final:
                    self.stats.finished(row.finished_at or when, status)
            return
        old_live = row.live
        if old_live:
            self.live_counts[row.status] -= 1
            if self.live_counts[row.status] <= 0:
                del self.live_counts[row.status]
        row.status = status
        row.status_since = when
        row.provisional = provisional and final
        if final:
            row.finished_at = when
            row.deadline = None
            self._finished[row.key] = when
            self._finished.move_to_end(row.key)
            if not provisional:
                self.stats.finished(when, status)
        else:
            if not old_live:
                self._finished.pop(row.key, None)
                row.finished_at = None
            self.live_counts[status] += 1

    # --- FlexMatch ----------------------------------------------------------------------------

    def _flexmatch(self, event: ModEvent) -> bool:
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
            row = self._row(Kind.TICKET, wt["ticketId"], started if started is not None else when)
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
                self._set_status(row, "SEARCHING", when)
                if row.status == "SEARCHING":
                    row.deadline = None
                    row.accepted = row.total = 0
                wait = detail.get("estimatedWaitMillis")
                extra = f"; estimated wait {int(wait) // 1000} s" if isinstance(wait, int | float) else ""
                self._note(row, event, f"Searching for a match{extra}.")
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
                    self.stats.matched(when, when - row.created)
                if required:
                    self._set_status(row, "REQUIRES_ACCEPTANCE", when)
                    if row.status == "REQUIRES_ACCEPTANCE":
                        if isinstance(timeout, int | float):
                            row.deadline = when + timeout
                        row.accepted, row.total = accepted, total
                else:
                    self._set_status(row, "PLACING", when)
                ask = f"; {int(timeout)} s to accept" if required and isinstance(timeout, int | float) else (
                    "" if required else "; no acceptance needed"
                )
                self._note(
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
                    self._touch(row)
                self._note(row, event, text)
        elif kind == ACCEPT_MATCH_COMPLETED and proposal is not None:
            outcome = detail.get("acceptance") if isinstance(detail.get("acceptance"), str) else "Unknown"
            if proposal.ended is None:
                proposal.ended = outcome
                self.stats.round_ended(when, outcome)
            accepted, total = proposal.progress()
            for row in self._proposal_rows(proposal, rows):
                row.deadline = None
                if outcome == ROUND_ACCEPTED:
                    self._set_status(row, "PLACING", when)
                else:
                    answers = [_answer(proposal.answers.get(p)) for p in row.players]
                    target = after_dropped_match(answers).value
                    self._set_status(row, target, when, provisional=True)
                self._note(row, event, f"Acceptance ended: {outcome} ({accepted} of {total} accepted).")
        elif kind == SUCCEEDED:
            info = detail.get("gameSessionInfo") if isinstance(detail.get("gameSessionInfo"), dict) else {}
            host = info.get("dnsName") or info.get("ipAddress")
            where = f" at {host}:{info.get('port')}" if host and info.get("port") else ""
            for row in rows:
                if not row.matched:
                    row.matched = True
                    self.stats.matched(when, when - row.created)
                self._set_status(row, "COMPLETED", when)
                self._note(row, event, f"Match ready{where}.")
        elif kind in _FINAL_EVENTS:
            reason = detail.get("reason") if isinstance(detail.get("reason"), str) else None
            message = detail.get("message") if isinstance(detail.get("message"), str) else None
            words = {CANCELLED: "Cancelled", TIMED_OUT: "Timed out", FAILED: "Failed"}[kind]
            why = "; ".join(w for w in (reason, message) if w)
            for row in rows:
                self._set_status(row, _FINAL_EVENTS[kind], when)
                if row.status == _FINAL_EVENTS[kind]:
                    row.reason = why or None
                    row.deadline = None
                self._note(row, event, f"{words}{': ' + why if why else ''}.")
        else:
            for row in rows:
                self._note(row, event, f"{kind}.")
        for row in rows:
            self._touch(row)
        return True

    def _proposal_rows(self, proposal: _Proposal, named: list[Row]) -> list[Row]:
        """Every known ticket of a proposed match (an answer moves them all), named ones first."""
        out = {row.key: row for row in named}
        for ticket_id in proposal.tickets:
            row = self.rows.get((Kind.TICKET, ticket_id))
            if row is not None:
                out.setdefault(row.key, row)
        return list(out.values())

    # --- TeamBattles --------------------------------------------------------------------------

    def _teambattles(self, event: ModEvent) -> bool:
        data = event.body
        match = data.get("match")
        if not isinstance(match, dict) or not isinstance(match.get("id"), str):
            return False
        when = event.time
        created = _time(match.get("createdAt"))
        row = self._row(Kind.MATCH, match["id"], created if created is not None else when)
        row.match_id = row.id
        if created is not None and created < row.created:
            row.created = created
        game = match.get("game") if isinstance(match.get("game"), dict) else {}
        name = game.get("nameKey") or game.get("id") or ""
        mode = match.get("gameMode") or ""
        group = " · ".join(str(x) for x in (name, mode) if x)
        if group:
            row.group = group
        teams, team_ids = [], []
        for field_name in ("creatorTeam", "acceptedTeam", "challengedTeam"):
            team = match.get(field_name)
            if isinstance(team, dict):
                if isinstance(team.get("name"), str) and team["name"] not in teams:
                    if field_name == "challengedTeam" and match.get("acceptedTeam"):
                        continue
                    teams.append(team["name"])
                if isinstance(team.get("id"), str):
                    team_ids.append(team["id"])
        row.teams = tuple(teams)

        acceptances = self._acceptances.setdefault(row.id, {})
        acceptance = data.get("acceptance")
        if isinstance(acceptance, dict) and isinstance(acceptance.get("id"), str):
            acceptances[acceptance["id"]] = str(acceptance.get("status") or "PENDING")
            if isinstance(acceptance.get("teamId"), str):
                team_ids.append(acceptance["teamId"])
        if event.type == "match.accepted" and isinstance(data.get("acceptanceId"), str):
            acceptances[data["acceptanceId"]] = "APPROVED"
        if isinstance(data.get("teamId"), str):
            team_ids.append(data["teamId"])
        row.team_ids = tuple(dict.fromkeys((*row.team_ids, *team_ids)))
        players = data.get("players")
        if isinstance(players, list):
            for p in players:
                if isinstance(p, dict) and isinstance(p.get("userId"), str):
                    label = p.get("username") or p.get("name")
                    row.players[p["userId"]] = label if isinstance(label, str) else None
        row.accepted = sum(1 for s in acceptances.values() if s == "APPROVED")
        row.total = len(acceptances)

        status = match.get("status")
        if isinstance(status, str) and status:
            self._set_status(row, status, when)
        scheduled = _time(match.get("scheduledAt"))
        row.deadline = scheduled if row.status in TEAMBATTLES_DEADLINE else None
        if not row.live and event.type == "match.cancelled":
            reason = data.get("reason")
            row.reason = reason if isinstance(reason, str) and reason else row.reason
        self._note(row, event, _teambattles_words(event.type, data))
        self._touch(row)
        return True


def _teambattles_words(kind: str, data: dict[str, Any]) -> str:
    acceptance = data.get("acceptance") if isinstance(data.get("acceptance"), dict) else {}
    team = acceptance.get("teamId") or data.get("teamId") or ""
    reason = data.get("reason") if isinstance(data.get("reason"), str) else ""
    words = {
        "match.created": "Match created.",
        "match.published": "Match published: open to challengers.",
        "match.accepted": f"Request from {team} approved.",
        "roster.updated": f"Roster of {team} set.",
        "match.cancelled": f"Match cancelled{': ' + reason if reason else ''}.",
        "match.started": "Match started.",
        "emulator.acceptance.created": f"Acceptance request from {team}.",
        "emulator.acceptance.declined": f"Request from {team} declined.",
        "emulator.acceptance.superseded": f"Request from {team} superseded.",
        "emulator.acceptance.cancelled": f"Request from {team} cancelled.",
        "emulator.challenge.accepted": f"Challenge accepted by {team}.",
        "emulator.challenge.refused": f"Challenge refused by {team}{': ' + reason if reason else ''}.",
    }
    return words.get(kind, f"{kind}.")


def _answer(value: bool | None) -> PlayerAnswer:
    if value is True:
        return PlayerAnswer.ACCEPTED
    if value is False:
        return PlayerAnswer.REJECTED
    return PlayerAnswer.PENDING


_time = parse_time
