"""The emulated FlexMatch service: operations, ticket lifecycle, matchmaker and timers.

:class:`FlexMatchService` is the one place where FlexMatch state changes. The HTTP protocols
(JSON 1.1, RPC v2 CBOR) and the demo bots all go through :meth:`FlexMatchService.invoke`, so a
request from any of them is checked against the same model and follows the same rules.

Rules kept here, and where they come from:

- every status change goes through :func:`lobby.flexmatch.lifecycle.transition`;
- the fate of each ticket of a dropped match (a rejection, a missed deadline, a stopped
  ticket) is decided by :func:`lobby.flexmatch.lifecycle.after_dropped_match`, never here;
- a stopped or replaced ticket counts as its players rejecting the match it was proposed for;
- every change appends its event (see :mod:`.notifications`) in the same transaction.

The matchmaker is FIFO per configuration (:func:`form_match`): searching tickets, oldest first,
are placed whole on a team until every team of the rule set has its minimum; that set of
tickets is proposed as a match, and it runs again whenever a configuration gains searching
tickets. Only ``teams`` of a rule set are evaluated; other rules and ``AdditionalPlayerCount``
are stored and reported, not applied.

Answers to an open round are served from a :class:`Proposal` kept in memory next to the
database, so AcceptMatch costs a few small statements whatever the size of the match.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from lobby.emulator.flexmatch import notifications as ev
from lobby.emulator.flexmatch.errors import (
    GameLiftError,
    InvalidRequestException,
    NotFoundException,
    UnknownOperationException,
)
from lobby.emulator.flexmatch.model import ServiceModel
from lobby.emulator.flexmatch.rulesets import RuleSet, RuleSetError, parse_rule_set
from lobby.emulator.flexmatch.scenario import FlexMatchScenario
from lobby.emulator.flexmatch.schema import COMPONENT, MIGRATIONS
from lobby.emulator.runtime import Runtime
from lobby.flexmatch.lifecycle import (
    AcceptanceOutcome,
    PlayerAnswer,
    TicketStatus,
    after_dropped_match,
    can_accept,
    can_stop,
    round_outcome,
    transition,
)

log = logging.getLogger("lobby.emulator.flexmatch")

S = TicketStatus
ACTIVE_STATUSES = tuple(s.value for s in TicketStatus if s.active)
_ACTIVE_SQL = ",".join(f"'{s}'" for s in ACTIVE_STATUSES)
MAX_PLAYERS_PER_TICKET = 10
MAX_PLAYER_ATTRIBUTES = 10
MAX_DESCRIBE_TICKETS = 10
MAX_PAGE = 10
_IP_LIKE = re.compile(r"^[0-9A-Fa-f:.]+$")
_ANSWER = {None: PlayerAnswer.PENDING, "ACCEPTED": PlayerAnswer.ACCEPTED, "REJECTED": PlayerAnswer.REJECTED}
_FLAG = {None: None, "ACCEPTED": True, "REJECTED": False}
_FRAGMENT = {PlayerAnswer.PENDING: 0, PlayerAnswer.ACCEPTED: 1, PlayerAnswer.REJECTED: 2}

_SET_ANSWER = "UPDATE fm_ticket_players SET answer=? WHERE ticket_id=? AND player_id=?"

TICKET_COLUMNS = (
    "seq, ticket_id, config_name, status, status_reason, status_message, start_time, end_time,"
    " players, match_id, request_deadline, searching_since, rounds, estimate, connection"
)

#: Why a ticket left the search, as StatusReason / StatusMessage and event reason / message.
REASON_CANCELLED = "Cancelled"
REASON_TIMED_OUT = "TimedOut"
REASON_FAILED = "UNEXPECTED_ERROR"
REASON_MATCH_DROPPED = "PotentialMatchDropped"


@dataclass(slots=True)
class Ticket:
    seq: int
    ticket_id: str
    config_name: str
    status: TicketStatus
    status_reason: str | None
    status_message: str | None
    start_time: float
    end_time: float | None
    players: list[dict[str, Any]]
    match_id: str | None
    request_deadline: float
    searching_since: float | None
    rounds: int
    estimate: int | None
    connection: str | None

    @classmethod
    def from_row(cls, row: Any) -> Ticket:
        return cls(
            row[0], row[1], row[2], TicketStatus(row[3]), row[4], row[5], row[6], row[7],
            json.loads(row[8]), row[9], row[10], row[11], row[12], row[13], row[14],
        )  # fmt: skip

    @property
    def player_ids(self) -> list[str]:
        return [p["PlayerId"] for p in self.players]


@dataclass(slots=True)
class Config:
    name: str
    rule_set_name: str
    settings: dict[str, Any]
    creation_time: float
    wait_estimate: float | None

    @classmethod
    def from_row(cls, row: Any) -> Config:
        return cls(row[0], row[1], json.loads(row[2]), row[3], row[4])

    @property
    def acceptance_required(self) -> bool:
        return bool(self.settings.get("AcceptanceRequired"))

    @property
    def acceptance_timeout(self) -> int | None:
        return self.settings.get("AcceptanceTimeoutSeconds")

    @property
    def standalone(self) -> bool:
        return self.settings.get("FlexMatchMode") == "STANDALONE"

    @property
    def custom_event_data(self) -> str | None:
        return self.settings.get("CustomEventData")


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
            answer = _ANSWER[answers.get(player["PlayerId"])]
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


class FlexMatchService:
    def __init__(self, runtime: Runtime, scenario: FlexMatchScenario, model: ServiceModel) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.clock = runtime.clock
        self.scenario = scenario
        self.model = model
        self.region = runtime.config.region
        self.account = runtime.config.account_id
        self.notifier = ev.Notifier(runtime.events, account=self.account, region=self.region)
        self.store.migrate(COMPONENT, MIGRATIONS)
        self._rule_sets: dict[str, RuleSet] = {}
        #: Open acceptance rounds by match id, and by each of their tickets. A ticket listed
        #: here is REQUIRES_ACCEPTANCE in the database: every status change of a ticket closes
        #: its round (:meth:`_set_status`), and so does a rollback of the transaction that
        #: opened or changed it.
        self._proposals: dict[str, Proposal] = {}
        self._open: dict[str, Proposal] = {}
        self._configs: dict[str, Config] = {}
        self._dirty = True
        self._next_due: float | None = None
        #: Configurations whose searching tickets changed since the matchmaker last looked
        #: (None: all of them, as after a start or a failed pass).
        self._to_match: set[str] | None = None
        self._fleet = "fleet-" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"lobby:{self.account}"))
        #: Jobs run after each matchmaker pass (the demo bots); each returns its next due time.
        self.after_tick: list[Callable[[float], float | None]] = []
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "CreateMatchmakingRuleSet": self.create_rule_set,
            "DescribeMatchmakingRuleSets": self.describe_rule_sets,
            "ValidateMatchmakingRuleSet": self.validate_rule_set,
            "DeleteMatchmakingRuleSet": self.delete_rule_set,
            "CreateMatchmakingConfiguration": self.create_configuration,
            "DescribeMatchmakingConfigurations": self.describe_configurations,
            "UpdateMatchmakingConfiguration": self.update_configuration,
            "DeleteMatchmakingConfiguration": self.delete_configuration,
            "StartMatchmaking": self.start_matchmaking,
            "DescribeMatchmaking": self.describe_matchmaking,
            "StopMatchmaking": self.stop_matchmaking,
            "AcceptMatch": self.accept_match,
        }
        missing = set(model.operations) - set(self.handlers)
        if missing:  # the packaged model and this module must agree
            raise RuntimeError(f"no handler for {sorted(missing)}")

    # --- entry point -----------------------------------------------------------------------------

    def invoke(self, operation: str, params: Any) -> dict[str, Any]:
        """Check ``params`` against the model, then run the operation. Raises GameLiftError."""
        handler = self.handlers.get(operation)
        if handler is None:
            raise UnknownOperationException(f"GameLift has no operation named {operation!r}.")
        self.model.check_input(operation, params)
        return handler(params)

    # --- names and ARNs ------------------------------------------------------------------------

    def config_arn(self, name: str) -> str:
        return f"arn:aws:gamelift:{self.region}:{self.account}:matchmakingconfiguration/{name}"

    def rule_set_arn(self, name: str) -> str:
        return f"arn:aws:gamelift:{self.region}:{self.account}:matchmakingruleset/{name}"

    @staticmethod
    def _name(value: str) -> str:
        """A resource name, given as itself or as its ARN."""
        return value.rsplit("/", 1)[1] if value.startswith("arn:") else value

    def _match_soon(self, config_name: str) -> None:
        if self._to_match is not None:
            self._to_match.add(config_name)

    def _changed(self) -> None:
        """State the scheduler acts on changed: run the matchmaker soon."""
        self._dirty = True
        self.store.after_commit(self.runtime.poke)

    # --- rule sets -----------------------------------------------------------------------------

    def rule_set(self, name: str) -> RuleSet | None:
        cached = self._rule_sets.get(name)
        if cached is None:
            row = self.store.query_one("SELECT body FROM fm_rule_sets WHERE name=?", (name,))
            if row is None:
                return None
            cached = self._rule_sets[name] = parse_rule_set(row[0])
        return cached

    def _render_rule_set(self, row: Any) -> dict[str, Any]:
        return {
            "RuleSetName": row[0],
            "RuleSetArn": self.rule_set_arn(row[0]),
            "RuleSetBody": row[1],
            "CreationTime": row[2],
        }

    def create_rule_set(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["Name"]
        if not name:
            raise InvalidRequestException("Name must not be empty.")
        try:
            parsed = parse_rule_set(p["RuleSetBody"])
        except RuleSetError as exc:
            raise InvalidRequestException(str(exc)) from None
        now = self.clock.timestamp()
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM fm_rule_sets WHERE name=?", (name,)).fetchone():
                raise InvalidRequestException(f"A matchmaking rule set named {name} already exists.")
            db.execute(
                "INSERT INTO fm_rule_sets (name, body, creation_time) VALUES (?, ?, ?)",
                (name, p["RuleSetBody"], now),
            )
        self._rule_sets[name] = parsed
        return {"RuleSet": self._render_rule_set((name, p["RuleSetBody"], now))}

    def describe_rule_sets(self, p: dict[str, Any]) -> dict[str, Any]:
        limit = p.get("Limit") or MAX_PAGE
        offset = _read_token(p.get("NextToken"), "rulesets")
        if p.get("Names"):
            names = _dedupe(self._name(n) for n in p["Names"])
            rows = {
                r[0]: r
                for r in self.store.query(
                    f"SELECT name, body, creation_time FROM fm_rule_sets"
                    f" WHERE name IN ({','.join('?' * len(names))})",
                    names,
                )
            }
            missing = [n for n in names if n not in rows]
            if missing:
                raise NotFoundException(f"No matchmaking rule set named {missing[0]} exists.")
            ordered = [rows[n] for n in names]
        else:
            ordered = self.store.query(
                "SELECT name, body, creation_time FROM fm_rule_sets ORDER BY name"
            )
        page = ordered[offset : offset + limit]
        out: dict[str, Any] = {"RuleSets": [self._render_rule_set(r) for r in page]}
        if offset + limit < len(ordered):
            out["NextToken"] = _make_token(offset + limit, "rulesets")
        return out

    def validate_rule_set(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            parse_rule_set(p["RuleSetBody"])
        except RuleSetError as exc:
            raise InvalidRequestException(str(exc)) from None
        return {"Valid": True}

    def delete_rule_set(self, p: dict[str, Any]) -> dict[str, Any]:
        name = self._name(p["Name"])
        with self.store.transaction() as db:
            if not db.execute("SELECT 1 FROM fm_rule_sets WHERE name=?", (name,)).fetchone():
                raise NotFoundException(f"No matchmaking rule set named {name} exists.")
            user = db.execute(
                "SELECT name FROM fm_configurations WHERE rule_set_name=? ORDER BY name LIMIT 1",
                (name,),
            ).fetchone()
            if user:
                raise InvalidRequestException(
                    f"Matchmaking rule set {name} is used by configuration {user[0]};"
                    " delete or change that configuration first."
                )
            db.execute("DELETE FROM fm_rule_sets WHERE name=?", (name,))
        self._rule_sets.pop(name, None)
        return {}

    # --- configurations ------------------------------------------------------------------------

    def configuration(self, name: str) -> Config | None:
        """A configuration as stored (cached; every writer of fm_configurations refreshes it)."""
        cached = self._configs.get(name)
        if cached is not None:
            return cached
        row = self.store.query_one(
            "SELECT name, rule_set_name, settings, creation_time, wait_estimate"
            " FROM fm_configurations WHERE name=?",
            (name,),
        )
        if row is None:
            return None
        config = self._configs[name] = Config.from_row(row)
        return config

    def _forget_config(self, name: str) -> None:
        """Drop the cached copy once the transaction that changed the row has ended."""
        self._configs.pop(name, None)
        self.store.after_commit(lambda: self._configs.pop(name, None))

    def _render_config(self, c: Config) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": c.name, "ConfigurationArn": self.config_arn(c.name)}
        out.update(c.settings)
        out["RuleSetName"] = c.rule_set_name
        out["RuleSetArn"] = self.rule_set_arn(c.rule_set_name)
        out["CreationTime"] = c.creation_time
        return out

    _SETTING_MEMBERS = (
        "Description",
        "GameSessionQueueArns",
        "RequestTimeoutSeconds",
        "AcceptanceTimeoutSeconds",
        "AcceptanceRequired",
        "NotificationTarget",
        "AdditionalPlayerCount",
        "CustomEventData",
        "GameProperties",
        "GameSessionData",
        "BackfillMode",
        "FlexMatchMode",
    )

    def _check_settings(self, s: dict[str, Any]) -> None:
        if s.get("AcceptanceRequired") and s.get("AcceptanceTimeoutSeconds") is None:
            raise InvalidRequestException(
                "AcceptanceTimeoutSeconds is required when AcceptanceRequired is true."
            )
        queues = s.get("GameSessionQueueArns") or []
        if len(queues) > 1:
            raise InvalidRequestException(
                "A matchmaking configuration takes at most one game session queue ARN."
            )
        if s.get("FlexMatchMode") == "STANDALONE":
            if queues:
                raise InvalidRequestException(
                    "GameSessionQueueArns cannot be set when FlexMatchMode is STANDALONE."
                )
            if s.get("BackfillMode") == "AUTOMATIC":
                raise InvalidRequestException(
                    "BackfillMode AUTOMATIC is not available when FlexMatchMode is STANDALONE."
                )

    def _require_rule_set(self, db: Any, value: str) -> str:
        name = self._name(value)
        if not db.execute("SELECT 1 FROM fm_rule_sets WHERE name=?", (name,)).fetchone():
            raise NotFoundException(f"No matchmaking rule set named {name} exists.")
        return name

    def create_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p["Name"]
        if not name:
            raise InvalidRequestException("Name must not be empty.")
        settings = {m: p[m] for m in self._SETTING_MEMBERS if p.get(m) is not None}
        settings.setdefault("FlexMatchMode", "WITH_QUEUE")
        if settings["FlexMatchMode"] == "WITH_QUEUE":
            settings.setdefault("BackfillMode", "MANUAL")
            settings.setdefault("AdditionalPlayerCount", 0)
        self._check_settings(settings)
        now = self.clock.timestamp()
        with self.store.transaction() as db:
            rule_set = self._require_rule_set(db, p["RuleSetName"])
            if db.execute("SELECT 1 FROM fm_configurations WHERE name=?", (name,)).fetchone():
                raise InvalidRequestException(
                    f"A matchmaking configuration named {name} already exists."
                )
            db.execute(
                "INSERT INTO fm_configurations (name, rule_set_name, settings, creation_time)"
                " VALUES (?, ?, ?, ?)",
                (name, rule_set, json.dumps(settings), now),
            )
            self._forget_config(name)
        self._changed()
        return {"Configuration": self._render_config(Config(name, rule_set, settings, now, None))}

    def describe_configurations(self, p: dict[str, Any]) -> dict[str, Any]:
        limit = p.get("Limit") or MAX_PAGE
        if limit > MAX_PAGE:
            raise InvalidRequestException(f"Limit must be at most {MAX_PAGE}.")
        offset = _read_token(p.get("NextToken"), "configurations")
        sql = (
            "SELECT name, rule_set_name, settings, creation_time, wait_estimate"
            " FROM fm_configurations"
        )
        where: list[str] = []
        params: list[Any] = []
        names: list[str] | None = None
        if p.get("Names"):
            names = _dedupe(self._name(n) for n in p["Names"])
            where.append(f"name IN ({','.join('?' * len(names))})")
            params += names
        if p.get("RuleSetName"):
            where.append("rule_set_name = ?")
            params.append(self._name(p["RuleSetName"]))
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY name"
        configs = [Config.from_row(r) for r in self.store.query(sql, params)]
        if names is not None:
            order = {n: i for i, n in enumerate(names)}
            configs.sort(key=lambda c: order[c.name])
        page = configs[offset : offset + limit]
        out: dict[str, Any] = {"Configurations": [self._render_config(c) for c in page]}
        if offset + limit < len(configs):
            out["NextToken"] = _make_token(offset + limit, "configurations")
        return out

    def update_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        name = self._name(p["Name"])
        with self.store.transaction() as db:
            current = self.configuration(name)
            if current is None:
                raise NotFoundException(f"No matchmaking configuration named {name} exists.")
            settings = dict(current.settings)
            settings.update({m: p[m] for m in self._SETTING_MEMBERS if p.get(m) is not None})
            if settings.get("FlexMatchMode") == "STANDALONE" and "GameSessionQueueArns" not in p:
                settings.pop("GameSessionQueueArns", None)
            self._check_settings(settings)
            rule_set = current.rule_set_name
            if p.get("RuleSetName"):
                rule_set = self._require_rule_set(db, p["RuleSetName"])
            db.execute(
                "UPDATE fm_configurations SET rule_set_name=?, settings=? WHERE name=?",
                (rule_set, json.dumps(settings), name),
            )
            self._forget_config(name)
            self._match_soon(name)
            self._changed()
        updated = Config(name, rule_set, settings, current.creation_time, current.wait_estimate)
        return {"Configuration": self._render_config(updated)}

    def delete_configuration(self, p: dict[str, Any]) -> dict[str, Any]:
        name = self._name(p["Name"])
        with self.store.transaction() as db:
            if not db.execute("SELECT 1 FROM fm_configurations WHERE name=?", (name,)).fetchone():
                raise NotFoundException(f"No matchmaking configuration named {name} exists.")
            busy = db.execute(
                f"SELECT COUNT(*) FROM fm_tickets WHERE config_name=? AND status IN ({_ACTIVE_SQL})",
                (name,),
            ).fetchone()[0]
            if busy:
                raise InvalidRequestException(
                    f"Matchmaking configuration {name} has {busy} active ticket"
                    f"{'s' if busy > 1 else ''}; stop them or let them finish first."
                )
            db.execute("DELETE FROM fm_configurations WHERE name=?", (name,))
            self._forget_config(name)
        return {}

    # --- tickets: API --------------------------------------------------------------------------

    def _ticket(self, db: Any, ticket_id: str) -> Ticket | None:
        row = db.execute(
            f"SELECT {TICKET_COLUMNS} FROM fm_tickets WHERE ticket_id=?", (ticket_id,)
        ).fetchone()
        return None if row is None else Ticket.from_row(row)

    def render_ticket(self, t: Ticket) -> dict[str, Any]:
        out: dict[str, Any] = {
            "TicketId": t.ticket_id,
            "ConfigurationName": t.config_name,
            "ConfigurationArn": self.config_arn(t.config_name),
            "Status": t.status.value,
            "StartTime": t.start_time,
            "Players": t.players,
        }
        if t.status_reason:
            out["StatusReason"] = t.status_reason
        if t.status_message:
            out["StatusMessage"] = t.status_message
        if t.end_time is not None:
            out["EndTime"] = t.end_time
        if t.connection:
            out["GameSessionConnectionInfo"] = json.loads(t.connection)
        if t.estimate is not None and t.status in (S.QUEUED, S.SEARCHING):
            out["EstimatedWaitTime"] = t.estimate
        return out

    def start_matchmaking(self, p: dict[str, Any]) -> dict[str, Any]:
        config_name = self._name(p["ConfigurationName"])
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
            kept = {"PlayerId": pid}
            for member in ("PlayerAttributes", "LatencyInMs"):
                if player.get(member) is not None:
                    kept[member] = player[member]
            players.append(kept)
        ticket_id = p.get("TicketId") or str(uuid.uuid4())
        now = self.clock.timestamp()
        with self.store.transaction() as db:
            config = self.configuration(config_name)
            if config is None:
                raise NotFoundException(f"No matchmaking configuration named {config_name} exists.")
            rule_set = self.rule_set(config.rule_set_name)
            if rule_set is None:  # pragma: no cover - deletion is refused while in use
                raise NotFoundException(f"No matchmaking rule set named {config.rule_set_name} exists.")
            if len(players) > rule_set.largest_team:
                raise InvalidRequestException(
                    f"The players of one request share a team, and the largest team of rule set"
                    f" {config.rule_set_name} holds {rule_set.largest_team}; this request has"
                    f" {len(players)} players."
                )
            existing = self._ticket(db, ticket_id)
            if existing is not None:
                if existing.status.active:
                    raise InvalidRequestException(
                        f"Matchmaking ticket {ticket_id} already exists and is {existing.status}."
                    )
                db.execute("DELETE FROM fm_tickets WHERE ticket_id=?", (ticket_id,))
            ids = [pl["PlayerId"] for pl in players]
            older = db.execute(
                f"SELECT DISTINCT ticket_id FROM fm_ticket_players"
                f" WHERE active=1 AND player_id IN ({','.join('?' * len(ids))})",
                ids,
            ).fetchall()
            replaced = sorted(
                (t for t in (self._ticket(db, r[0]) for r in older) if t is not None),
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
                current = self._ticket(db, old.ticket_id)
                if current is not None and current.status.active:
                    self._stop(
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
            ticket = self._ticket(db, ticket_id)
            self._changed()
        assert ticket is not None
        return {"MatchmakingTicket": self.render_ticket(ticket)}

    def describe_matchmaking(self, p: dict[str, Any]) -> dict[str, Any]:
        ids = _dedupe(p["TicketIds"])
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
        found = {r[1]: Ticket.from_row(r) for r in rows}
        return {"TicketList": [self.render_ticket(found[i]) for i in ids if i in found]}

    def stop_matchmaking(self, p: dict[str, Any]) -> dict[str, Any]:
        ticket_id = p["TicketId"]
        now = self.clock.timestamp()
        with self.store.transaction() as db:
            ticket = self._ticket(db, ticket_id)
            if ticket is None:
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
            self._stop(db, ticket, now, "Stopped by a StopMatchmaking request.")
            self._changed()
        return {}

    def accept_match(self, p: dict[str, Any]) -> dict[str, Any]:
        ticket_id = p["TicketId"]
        wanted = PlayerAnswer.ACCEPTED if p["AcceptanceType"] == "ACCEPT" else PlayerAnswer.REJECTED
        now = self.clock.timestamp()
        error: GameLiftError | None = None
        with self.store.transaction() as db:
            proposal = self._open.get(ticket_id)
            if proposal is not None:  # an open round: the ticket is REQUIRES_ACCEPTANCE
                status, match_id = S.REQUIRES_ACCEPTANCE, proposal.match_id
            else:
                row = db.execute(
                    "SELECT status, match_id FROM fm_tickets WHERE ticket_id=?", (ticket_id,)
                ).fetchone()
                if row is None:
                    raise NotFoundException(f"No matchmaking ticket {ticket_id} exists.")
                status, match_id = S(row[0]), row[1]
                if can_accept(status):
                    proposal = self._proposal(db, match_id)
            if proposal is not None and proposal.deadline is not None and proposal.deadline <= now:
                # The deadline passed before the scheduler got to it: settle that first
                # (committed, though the answer itself is refused).
                self._expire_match(db, match_id, now)
                self._changed()
                status = S(db.execute(
                    "SELECT status FROM fm_tickets WHERE ticket_id=?", (ticket_id,)
                ).fetchone()[0])  # fmt: skip
            if proposal is None or not can_accept(status):
                error = InvalidRequestException(
                    f"Matchmaking ticket {ticket_id} is {status}; players can only accept"
                    " or reject a match while its ticket is REQUIRES_ACCEPTANCE."
                )
            else:
                error = self._record_answers(db, proposal, ticket_id, p["PlayerIds"], wanted, now)
        if error is not None:
            raise error
        return {}

    def _record_answers(
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
        self.store.after_rollback(partial(self._close_round, proposal.match_id))
        for pid in changed:
            proposal.answer(pid, wanted)
        self._answered(db, proposal, now)
        return None

    def _proposal(self, db: Any, match_id: str) -> Proposal:
        """The open round of ``match_id``, from memory or rebuilt from the database (after a
        restart, or a rollback)."""
        proposal = self._proposals.get(match_id)
        if proposal is None:
            match, tickets, answers = self._match_tickets(db, match_id)
            proposal = Proposal(match_id, match[2], match[6])
            for t in tickets:
                proposal.add(t, answers[t.ticket_id])
            self._open_round(proposal)
        return proposal

    def _open_round(self, proposal: Proposal) -> None:
        proposal.seal()
        self._proposals[proposal.match_id] = proposal
        for ticket_id in proposal.tickets:
            self._open[ticket_id] = proposal
        self.store.after_rollback(partial(self._close_round, proposal.match_id))

    def _close_round(self, match_id: str) -> None:
        """Forget the open round of ``match_id`` (it ended, or the database did not keep it)."""
        proposal = self._proposals.pop(match_id, None)
        if proposal is not None:
            for ticket_id in proposal.tickets:
                if self._open.get(ticket_id) is proposal:
                    del self._open[ticket_id]

    # --- tickets: lifecycle ----------------------------------------------------------------------

    def _set_status(
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
            round_ = self._open.get(t.ticket_id)
            if round_ is not None:
                self._close_round(round_.match_id)
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
            self._match_soon(t.config_name)
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

    def _move_all(self, db: Any, tickets: list[Ticket], target: TicketStatus, now: float) -> None:
        """:meth:`_set_status` for the tickets of a match moving together, with no reason,
        message or other change (their rows otherwise hold what these objects hold): the same
        transitions and in-memory changes, in one statement per table for the whole match."""
        assert target is not S.SEARCHING
        rows = []
        for t in tickets:
            t.status = transition(t.status, target)
            if target is not S.REQUIRES_ACCEPTANCE:
                round_ = self._open.get(t.ticket_id)
                if round_ is not None:
                    self._close_round(round_.match_id)
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

    def _config_for(self, name: str) -> Config:
        config = self.configuration(name)
        if config is None:  # pragma: no cover - deletion is refused while tickets are active
            raise RuntimeError(f"configuration {name} vanished under active tickets")
        return config

    def _emit_ticket(self, kind: str, t: Ticket, config: Config, now: float, **fields: Any) -> None:
        self.notifier.emit(
            kind,
            now=now,
            config_arn=self.config_arn(config.name),
            tickets=[ev.ticket_entry(t.ticket_id, t.start_time, t.players)],
            subject=t.ticket_id,
            custom_event_data=config.custom_event_data,
            **fields,
        )

    def _stop(self, db: Any, t: Ticket, now: float, message: str) -> None:
        """Cancel an active ticket on request. In REQUIRES_ACCEPTANCE this drops its match as
        if its players had rejected it."""
        if t.status is S.REQUIRES_ACCEPTANCE and t.match_id:
            db.execute(
                "UPDATE fm_ticket_players SET answer='REJECTED' WHERE ticket_id=?", (t.ticket_id,)
            )
            self._drop_match(
                db, t.match_id, AcceptanceOutcome.REJECTED, now, stopped={t.ticket_id: message}
            )
            return
        config = self._config_for(t.config_name)
        self._set_status(db, t, S.CANCELLED, now, reason=REASON_CANCELLED, message=message)
        self._emit_ticket(
            ev.CANCELLED, t, config, now, reason=REASON_CANCELLED, message=message,
            ruleEvaluationMetrics=self._metrics(config, 0),
        )  # fmt: skip

    def _metrics(self, config: Config, passed: int) -> list[dict[str, Any]]:
        rule_set = self.rule_set(config.rule_set_name)
        names = rule_set.rule_names if rule_set else ()
        return [{"ruleName": n, "passedCount": passed, "failedCount": 0} for n in names]

    # --- matches -------------------------------------------------------------------------------

    def _match_tickets(
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
    def _entries(
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

    def _propose(
        self, db: Any, config: Config, tickets: list[Ticket], teams: dict[str, str], now: float
    ) -> None:
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
            team = teams[t.ticket_id]
            for player in t.players:
                player["Team"] = team
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
        self._forget_config(config.name)
        fields: dict[str, Any] = {
            "acceptanceRequired": required,
            "ruleEvaluationMetrics": self._metrics(config, len(tickets)),
            "matchId": match_id,
        }
        if required:
            fields["acceptanceTimeout"] = config.acceptance_timeout
        self.notifier.emit(
            ev.POTENTIAL_MATCH_CREATED,
            now=now,
            config_arn=self.config_arn(config.name),
            tickets=self._entries(tickets),
            subject=match_id,
            custom_event_data=config.custom_event_data,
            **fields,
        )
        if required:
            proposal = Proposal(match_id, config.name, deadline)
            self._move_all(db, tickets, S.REQUIRES_ACCEPTANCE, now)
            for t in tickets:
                proposal.add(t, {})
            self._open_round(proposal)
        else:
            self._accepted(db, config, match_id, tickets, now)

    def _accepted(
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
        self._close_round(match_id)
        if config.standalone:
            self._move_all(db, tickets, S.COMPLETED, now)
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
                    ev.SUCCEEDED, now=now, config_arn=self.config_arn(config.name),
                    subject=match_id, detail=detail,
                )  # fmt: skip
                return
            entries = self._entries(tickets)
            self.notifier.emit(
                ev.SUCCEEDED,
                now=now,
                config_arn=self.config_arn(config.name),
                tickets=entries,
                subject=match_id,
                custom_event_data=config.custom_event_data,
                matchId=match_id,
                gameSessionInfo={"players": ev.session_players(entries)},
            )
            return
        self._move_all(db, tickets, S.PLACING, now)
        db.execute(
            "UPDATE fm_matches SET status='PLACING', deadline=NULL, due=? WHERE match_id=?",
            (now + self.scenario.placement_seconds, match_id),
        )

    def _answered(self, db: Any, proposal: Proposal, now: float) -> None:
        """Someone answered: report it, and close the round if the answers settle it."""
        config = self._config_for(proposal.config_name)
        match_id = proposal.match_id
        # No gameSessionInfo here: it would repeat every player of the match once more, on
        # every answer, and the tickets already carry each player's team and answer.
        config_arn = self.config_arn(config.name)
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
            self._accepted(db, config, match_id, proposal.members, now, proposal)
            if self.after_tick or not config.standalone:
                # A completed STANDALONE match gives the scheduler nothing to do (no ticket
                # searches again, nothing is to be placed), unless jobs watch the tickets.
                self._changed()
        elif outcome is AcceptanceOutcome.REJECTED:
            self._drop_match(db, match_id, outcome, now)
            self._changed()

    def _expire_match(self, db: Any, match_id: str, now: float) -> None:
        match, tickets, answers = self._match_tickets(db, match_id)
        if match[3] != "PROPOSED":
            return
        everyone = [_ANSWER[a] for t in tickets for a in answers[t.ticket_id].values()]
        outcome = round_outcome(everyone, deadline_passed=True)
        if outcome is AcceptanceOutcome.ACCEPTED:  # pragma: no cover - settled when answered
            config = self._config_for(match[2])
            self._accepted(db, config, match_id, tickets, now)
        else:
            self._drop_match(db, match_id, outcome or AcceptanceOutcome.TIMED_OUT, now)

    def _drop_match(
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
        self._close_round(match_id)
        match, tickets, answers = self._match_tickets(db, match_id)
        config = self._config_for(match[2])
        arn = self.config_arn(config.name)
        self.notifier.emit(
            ev.ACCEPT_MATCH_COMPLETED,
            now=now,
            config_arn=arn,
            tickets=self._entries(tickets, answers),
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
            mine = [_ANSWER[a] for a in answers[t.ticket_id].values()]
            target = S.CANCELLED if t.ticket_id in stopped else after_dropped_match(mine)
            if target is S.SEARCHING:
                self._set_status(
                    db, t, S.SEARCHING, now, clear_match=True, reason=REASON_MATCH_DROPPED,
                    message=f"The proposed match was dropped because {why}; searching again.",
                )  # fmt: skip
                self._emit_ticket(
                    ev.SEARCHING, t, config, now, estimatedWaitMillis="NOT_AVAILABLE"
                )
            else:
                message = stopped.get(t.ticket_id) or (
                    "A player of this ticket did not accept the proposed match in time."
                    if outcome is AcceptanceOutcome.TIMED_OUT
                    or PlayerAnswer.REJECTED not in mine
                    else "A player of this ticket rejected the proposed match."
                )
                self._set_status(
                    db, t, target, now, clear_match=True, reason=REASON_CANCELLED, message=message
                )
                self._emit_ticket(
                    ev.CANCELLED, t, config, now, reason=REASON_CANCELLED, message=message,
                    matchId=match_id, ruleEvaluationMetrics=self._metrics(config, 0),
                )  # fmt: skip

    def _place(self, db: Any, match_id: str, now: float) -> None:
        """Placement finished: the game session is up (or, rarely by scenario, it failed)."""
        match, tickets, _ = self._match_tickets(db, match_id)
        config = self._config_for(match[2])
        arn = self.config_arn(config.name)
        chance = self.scenario.placement_failure_probability
        if chance and random.Random(f"{self.scenario.seed}:placement:{match[0]}").random() < chance:
            message = "The game session for this match could not be started."
            for t in tickets:
                self._set_status(db, t, S.FAILED, now, reason=REASON_FAILED, message=message)
            db.execute("UPDATE fm_matches SET status='FAILED' WHERE match_id=?", (match_id,))
            self.notifier.emit(
                ev.FAILED, now=now, config_arn=arn, tickets=self._entries(tickets),
                subject=match_id, custom_event_data=config.custom_event_data,
                reason=REASON_FAILED, message=message, matchId=match_id,
            )  # fmt: skip
            return
        session_arn = f"arn:aws:gamelift:{self.region}::gamesession/{self._fleet}/gsess-{match_id}"
        port = 7000 + (match[0] % 1000)
        host = self.runtime.config.public_host
        where: dict[str, Any]
        if _IP_LIKE.fullmatch(host):
            where = {"IpAddress": host}
        elif host == "localhost":
            where = {"IpAddress": "127.0.0.1", "DnsName": host}
        else:
            where = {"DnsName": host}
        session_players = []
        for t in tickets:
            sessions = [
                {"PlayerId": p["PlayerId"], "PlayerSessionId": f"psess-{uuid.uuid4()}"}
                for p in t.players
            ]
            info = {"GameSessionArn": session_arn, **where, "Port": port}
            info["MatchedPlayerSessions"] = sessions
            self._set_status(db, t, S.COMPLETED, now, connection=info)
            teams = {p["PlayerId"]: p.get("Team") for p in t.players}
            for s in sessions:
                entry = {"playerId": s["PlayerId"], "playerSessionId": s["PlayerSessionId"]}
                if teams.get(s["PlayerId"]):
                    entry["team"] = teams[s["PlayerId"]]
                session_players.append(entry)
        db.execute("UPDATE fm_matches SET status='COMPLETED', due=NULL WHERE match_id=?", (match_id,))
        game_session = {"gameSessionArn": session_arn, "port": port, "players": session_players}
        game_session["ipAddress"] = where.get("IpAddress", host)
        self.notifier.emit(
            ev.SUCCEEDED, now=now, config_arn=arn, tickets=self._entries(tickets),
            subject=match_id, custom_event_data=config.custom_event_data,
            gameSessionInfo=game_session, matchId=match_id,
        )  # fmt: skip

    # --- the scheduler's job ---------------------------------------------------------------------

    def tick(self, now: float) -> float | None:
        """Do everything due at ``now``; return when something is next due (None: nothing)."""
        if not self._dirty and (self._next_due is None or now < self._next_due):
            return self._next_due
        extra: list[float | None] = []
        for _ in range(8):  # consequences (bot actions, returned tickets) settle in one call
            self._dirty = False
            self._step(now)
            extra = [job(now) for job in self.after_tick]
            if not self._dirty:
                break
        nxt = self._earliest(now, extra)
        self._next_due = nxt
        return nxt

    def _step(self, now: float) -> None:
        try:
            self._step_in_transaction(now)
        except BaseException:
            self._to_match = None  # rolled back: look at every configuration next time
            self._proposals.clear()
            self._open.clear()
            raise

    def _step_in_transaction(self, now: float) -> None:
        with self.store.transaction() as db:
            for (match_id,) in db.execute(
                "SELECT match_id FROM fm_matches WHERE status='PROPOSED' AND deadline <= ?"
                " ORDER BY deadline, seq",
                (now,),
            ).fetchall():
                self._expire_match(db, match_id, now)
            late = db.execute(
                f"SELECT {TICKET_COLUMNS} FROM fm_tickets WHERE status IN ('QUEUED', 'SEARCHING')"
                " AND request_deadline <= ? ORDER BY request_deadline, seq",
                (now,),
            ).fetchall()
            for row in late:
                t = Ticket.from_row(row)
                config = self._config_for(t.config_name)
                message = "No match was found before the request timed out."
                self._set_status(db, t, S.TIMED_OUT, now, reason=REASON_TIMED_OUT, message=message)
                self._emit_ticket(
                    ev.TIMED_OUT, t, config, now, reason=REASON_TIMED_OUT, message=message,
                    ruleEvaluationMetrics=self._metrics(config, 0),
                )  # fmt: skip
            queued = db.execute(
                f"SELECT {TICKET_COLUMNS} FROM fm_tickets WHERE status='QUEUED'"
                " AND queued_until <= ? ORDER BY seq",
                (now,),
            ).fetchall()
            for row in queued:
                t = Ticket.from_row(row)
                config = self._config_for(t.config_name)
                self._set_status(db, t, S.SEARCHING, now)
                self._emit_ticket(ev.SEARCHING, t, config, now, estimatedWaitMillis=_wait_ms(t))
            for (match_id,) in db.execute(
                "SELECT match_id FROM fm_matches WHERE status='PLACING' AND due <= ?"
                " ORDER BY due, seq",
                (now,),
            ).fetchall():
                self._place(db, match_id, now)
            wanted, self._to_match = self._to_match, set()
            for (config_name,) in db.execute(
                "SELECT DISTINCT config_name FROM fm_tickets WHERE status='SEARCHING'"
            ).fetchall():
                if wanted is None or config_name in wanted:
                    self._matchmake(db, self._config_for(config_name), now)

    def _matchmake(self, db: Any, config: Config, now: float) -> None:
        rule_set = self.rule_set(config.rule_set_name)
        if rule_set is None:  # pragma: no cover
            return
        pool = [
            Ticket.from_row(r)
            for r in db.execute(
                f"SELECT {TICKET_COLUMNS} FROM fm_tickets WHERE status='SEARCHING'"
                " AND config_name=? ORDER BY searching_since, seq",
                (config.name,),
            )
        ]
        while pool:
            formed = form_match(rule_set, pool)
            if formed is None:
                return
            chosen = [t for t in pool if t.ticket_id in formed]
            self._propose(db, config, chosen, formed, now)
            pool = [t for t in pool if t.ticket_id not in formed]

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
        times = [t for t in (*(row or ()), *extra) if t is not None]
        if not times:
            return None
        return max(min(times), now + 0.001)


def form_match(rule_set: RuleSet, pool: list[Ticket], budget: int = 5_000) -> dict[str, str] | None:
    """{ticket id: team} for the first set of searching tickets, oldest preferred, that gives
    every team at least its minimum without passing any maximum; None if there is none.

    A depth-first search in FIFO order: each ticket is first tried on a team (the one furthest
    below its minimum first), and only then left out. Teams alike in bounds and fill are tried
    once, a branch stops when the tickets left cannot cover what is missing, and ``budget``
    bounds the work for pools that can never fill a match. Recursion goes one level per ticket
    placed, so its depth is bounded by the size of a match, not of the pool.
    """
    teams = rule_set.teams
    sizes = [len(t.players) for t in pool]
    if sum(sizes) < rule_set.min_players:
        return None
    after = [0] * (len(pool) + 1)  # players in pool[i:]
    for i in range(len(pool) - 1, -1, -1):
        after[i] = after[i + 1] + sizes[i]
    fill = [0] * len(teams)
    chosen: dict[str, str] = {}
    left = [budget]

    def missing() -> int:
        return sum(max(0, t.min_players - fill[j]) for j, t in enumerate(teams))

    def search(start: int) -> bool:
        short = missing()
        if short == 0:
            return True
        for i in range(start, len(pool)):
            if short > after[i] or left[0] <= 0:
                return False
            left[0] -= 1
            n = sizes[i]
            order = sorted(
                (j for j, t in enumerate(teams) if fill[j] + n <= t.max_players),
                key=lambda j: (fill[j] - teams[j].min_players, fill[j], j),
            )
            tried: set[tuple[int, int, int]] = set()
            for j in order:
                shape = (teams[j].min_players, teams[j].max_players, fill[j])
                if shape in tried:
                    continue
                tried.add(shape)
                fill[j] += n
                chosen[pool[i].ticket_id] = teams[j].name
                if search(i + 1):
                    return True
                fill[j] -= n
                del chosen[pool[i].ticket_id]
            # leave pool[i] out and go on with the next ticket
        return False

    return dict(chosen) if search(0) else None


def _wait_ms(t: Ticket) -> int | str:
    return "NOT_AVAILABLE" if t.estimate is None else int(t.estimate * 1000)


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _make_token(offset: int, kind: str) -> str:
    raw = json.dumps({"k": kind, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str | None, kind: str) -> int:
    if token is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = data["o"]
        if data["k"] != kind or type(offset) is not int or offset < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidRequestException(
            "NextToken is not a token returned by an earlier call of this operation."
        ) from None
    return offset


def _custom_event_data(custom: str | None) -> str:
    """The ``customEventData`` member of an event detail as JSON text, with its leading comma
    (nothing if the configuration has none)."""
    return ',"customEventData":' + json.dumps(custom) if custom else ""
