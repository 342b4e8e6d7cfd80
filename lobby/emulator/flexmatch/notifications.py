"""FlexMatch events as EventBridge delivers them, appended to the emulator's event log.

Every event is the full EventBridge envelope (``version``, ``id``, ``detail-type``, ``source``,
``account``, ``time``, ``region``, ``resources`` = [configuration ARN], ``detail``), stored as
the payload of an event-log entry whose SSE ``type`` is ``detail.type``.

The SSE ``subject`` of an entry is:

- the ticket id for events about one ticket: MatchmakingSearching, MatchmakingCancelled,
  MatchmakingTimedOut;
- the match id for events about a proposed match: PotentialMatchCreated, AcceptMatch,
  AcceptMatchCompleted, MatchmakingSucceeded, MatchmakingFailed.

Every ``detail`` carries ``tickets`` (ticketId, startTime, players with playerId and, once
matched, team) and ``gameSessionInfo.players``, except AcceptMatch: it is sent on every answer
and already lists every player of the match with their answer, so it leaves out the second,
redundant list of players (for a 200-player match that halves what each answer writes).

One more event is the emulator's own, never GameLift's: the explanation of a ticket the
matchmaker left searching (:meth:`Notifier.explain`), filed under the event log's
``lobby.emulator`` source with its own ``detail-type``.

Times inside events are ISO 8601 strings (UTC, milliseconds, ``Z``). Events are appended in
the caller's transaction, so an event exists exactly when the change it reports was committed.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from lobby.core.events import EventSource
from lobby.emulator.events import EventLog
from lobby.flexmatch.lifecycle import (
    EMULATOR_EVENT_SOURCE,
    EXPLANATION_DETAIL_TYPE,
    EXPLANATION_EVENT,
    EventType,
)
from lobby.flexmatch.ruleset import TicketReport

DETAIL_TYPE = "GameLift Matchmaking Event"

# Plain strings (the domain's enum values): they are written into pre-encoded event text.
SEARCHING = EventType.SEARCHING.value
POTENTIAL_MATCH_CREATED = EventType.POTENTIAL_MATCH_CREATED.value
ACCEPT_MATCH = EventType.ACCEPT_MATCH.value
ACCEPT_MATCH_COMPLETED = EventType.ACCEPT_MATCH_COMPLETED.value
SUCCEEDED = EventType.SUCCEEDED.value
TIMED_OUT = EventType.TIMED_OUT.value
CANCELLED = EventType.CANCELLED.value
FAILED = EventType.FAILED.value

ALL_TYPES = tuple(kind.value for kind in EventType)


def iso(ts: float) -> str:
    """Epoch seconds as an ISO 8601 UTC string with milliseconds."""
    moment = datetime.fromtimestamp(ts, UTC)
    return f"{_second_text(moment.replace(microsecond=0))}{moment.microsecond // 1000:03d}Z"


@lru_cache(maxsize=2)
def _second_text(second: datetime) -> str:
    """A whole second's text (strftime is slow; the same second comes back many times)."""
    return second.strftime("%Y-%m-%dT%H:%M:%S.")


#: Private to ids: a scenario or test seeding the global generator must not repeat them.
_ids = random.Random()


def random_uuid() -> str:
    """A random (version 4) UUID as text, as ``str(uuid.uuid4())`` gives but without a system
    call each time: for request and event ids, which need to be unique, not secret."""
    h = "%032x" % (_ids.getrandbits(128) & _UUID4_CLEAR | _UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_UUID4_CLEAR = 0xFFFFFFFF_FFFF_0FFF_3FFF_FFFFFFFFFFFF  # version and variant bits
_UUID4_SET = 0x00000000_0000_4000_8000_000000000000  # version 4, RFC 4122 variant


class Notifier:
    """Writes FlexMatch events into the emulator's event log.

    Events are written as already-encoded JSON: the AcceptMatch event of a large match is sent
    on every answer, and encoding it from dictionaries each time would dominate the cost of
    AcceptMatch. The row written is exactly what :meth:`EventLog.append` writes (same table,
    same columns, same wake-up of stream readers after commit).
    """

    def __init__(self, events: EventLog, *, account: str) -> None:
        self.events = events
        self.store = events.store
        self.account = account
        #: Configuration ARN -> (its JSON text, the envelope's head in its region).
        self._resources: dict[str, tuple[str, str]] = {}

    def _head(self, region: str) -> str:
        return (
            '{"version":"0","id":"%s","detail-type":' + json.dumps(DETAIL_TYPE)
            + ',"source":' + json.dumps(EventSource.GAMELIFT.value) + ',"account":' + _literal(self.account)
            + ',"time":"%s","region":' + _literal(region) + ',"resources":[%s],"detail":'
        )  # fmt: skip

    def emit(
        self,
        kind: str,
        *,
        now: float,
        config_arn: str,
        tickets: list[dict[str, Any]],
        subject: str,
        custom_event_data: str | None = None,
        **fields: Any,
    ) -> None:
        """Append one event; ``tickets`` are detail entries from :func:`ticket_entry`."""
        detail: dict[str, Any] = {"type": kind, "tickets": tickets}
        detail.update(fields)
        if "gameSessionInfo" not in detail:
            detail["gameSessionInfo"] = {"players": session_players(tickets)}
        if custom_event_data:
            detail["customEventData"] = custom_event_data
        self.emit_encoded(
            kind, now=now, config_arn=config_arn, subject=subject, detail=_encode(detail)
        )

    def emit_encoded(
        self, kind: str, *, now: float, config_arn: str, subject: str, detail: str
    ) -> None:
        """Append one event whose ``detail`` object is already JSON text. Its region is the
        configuration's (the fourth field of its ARN)."""
        known = self._resources.get(config_arn)
        if known is None:
            known = self._resources[config_arn] = (json.dumps(config_arn), self._head(config_arn.split(":")[3]))
        resources, head = known
        payload = head % (random_uuid(), iso(now), resources) + detail + "}"
        self.events.append(EventSource.GAMELIFT, kind, payload, subject=subject)


    def explain(
        self, *, now: float, config_arn: str, ticket: dict[str, Any], report: dict[str, Any]
    ) -> None:
        """Append the emulator's own explanation event for one ticket still searching
        (:data:`~lobby.flexmatch.lifecycle.EXPLANATION_EVENT`): a FlexMatch envelope with its own
        ``detail-type``, filed under the emulator's source so that a stream of GameLift events
        alone never carries it."""
        payload = {
            "version": "0",
            "id": random_uuid(),
            "detail-type": EXPLANATION_DETAIL_TYPE,
            "source": EventSource.GAMELIFT.value,
            "account": self.account,
            "time": iso(now),
            "region": config_arn.split(":")[3],
            "resources": [config_arn],
            "detail": {"type": EXPLANATION_EVENT, "tickets": [ticket], **report},
        }
        self.events.append(EMULATOR_EVENT_SOURCE, EXPLANATION_EVENT, payload, subject=ticket["ticketId"])


def report_detail(report: TicketReport) -> dict[str, Any]:
    """Why a ticket is still searching, as the explanation event and the explain route say it:
    ``heldBackBy`` (the rules that failed with it, most failures first), ``rules`` (per rule
    evaluated with it: ruleName, passedCount, failedCount, over the candidates tried) and
    ``reasons`` (sentences)."""
    return {
        "heldBackBy": list(report.held_back_by),
        "rules": [m.as_event() for m in report.rules],
        "reasons": list(report.reasons),
    }


def _literal(text: str) -> str:
    """A JSON string literal safe inside a %-format template."""
    return json.dumps(text).replace("%", "%%")


def _encode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def player_fragments(player_id: str, team: str | None) -> tuple[str, str, str]:
    """A ``tickets[].players[]`` entry as JSON text: (not answered, accepted, rejected)."""
    base = '{"playerId":' + _encode(player_id)
    if team:
        base += ',"team":' + _encode(team)
    return base + "}", base + ',"accepted":true}', base + ',"accepted":false}'


def ticket_head(ticket_id: str, start_time: float) -> str:
    """The opening of a ``tickets[]`` entry as JSON text, up to its players list."""
    return '{"ticketId":' + _encode(ticket_id) + ',"startTime":"' + iso(start_time) + '","players":['


def ticket_entry(
    ticket_id: str,
    start_time: float,
    players: list[dict[str, Any]],
    answers: dict[str, bool | None] | None = None,
) -> dict[str, Any]:
    """A ``detail.tickets[]`` entry. With ``answers``, each player who has answered carries
    ``accepted`` true/false; players who have not answered carry no ``accepted`` at all."""
    out = []
    for p in players:
        entry: dict[str, Any] = {"playerId": p["PlayerId"]}
        if p.get("Team"):
            entry["team"] = p["Team"]
        if answers is not None:
            answer = answers.get(p["PlayerId"])
            if answer is not None:
                entry["accepted"] = answer
        out.append(entry)
    return {"ticketId": ticket_id, "startTime": iso(start_time), "players": out}


def session_players(tickets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``gameSessionInfo.players``: every player of the event's tickets, with their team."""
    players = []
    for t in tickets:
        for p in t["players"]:
            entry = {"playerId": p["playerId"]}
            if "team" in p:
                entry["team"] = p["team"]
            players.append(entry)
    return players
