"""FlexMatch matchmaking events as lobby reads them, whoever carried them.

GameLift publishes a "GameLift Matchmaking Event" for every change of a ticket (through
EventBridge, or SNS). Its ``detail`` says what happened (:class:`~.lifecycle.EventType`), names
the tickets concerned with their players (teams once matched, answers in AcceptMatch) and adds
what the type is about: the proposed match, how an acceptance round ended, the game session,
why a ticket stopped.

:func:`read_detail` reads a ``detail`` into an :class:`EventDetail`, and :func:`read_event` a
whole envelope into a :class:`MatchmakingEvent`. They read by hand, defensively, into slots
dataclasses: the moderator's board reads a thousand events a second, and a validating model
would cost more than folding the event does. A member that is missing or of the wrong type
reads as absent; a ticket or a player without an id is left out. Times are epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from lobby.core.events import parse_time
from lobby.flexmatch.lifecycle import EventType

#: Where a configuration's name starts in its ARN (an envelope's ``resources``).
_CONFIGURATION_ARN = ":matchmakingconfiguration/"
_TYPES: dict[str, EventType] = {t.value: t for t in EventType}
_ENDED = frozenset({EventType.CANCELLED, EventType.TIMED_OUT, EventType.FAILED})


#: One player of a ticket in an event: (player id, team, answer, player session id). The team
#: is None until a match assigns one; the answer (AcceptMatch only) True or False once given,
#: else None; the player session (MatchmakingSucceeded only) None until placed. A plain tuple:
#: events name thousands of players a second.
EventPlayer = tuple[str, str | None, bool | None, str | None]


@dataclass(slots=True)
class EventTicket:
    ticket_id: str
    #: When the ticket was started.
    started_at: float | None
    players: list[EventPlayer]


@dataclass(slots=True)
class EventDetail:
    """The ``detail`` of a matchmaking event."""

    #: What happened; a type lobby does not know keeps the service's own word.
    type: EventType | str
    tickets: list[EventTicket]
    match_id: str | None = None
    #: PotentialMatchCreated: whether players must accept, and for how many seconds.
    acceptance_required: bool = False
    acceptance_timeout: float | None = None
    #: AcceptMatchCompleted: how the round ended, as :class:`~.lifecycle.AcceptanceOutcome`
    #: spells it.
    acceptance: str | None = None
    #: MatchmakingCancelled, MatchmakingTimedOut, MatchmakingFailed: why.
    reason: str | None = None
    message: str | None = None
    #: MatchmakingSucceeded: "address:port" of the game session, and (player, session) pairs.
    game_session: str | None = None
    player_sessions: tuple[tuple[str, str], ...] = ()
    #: MatchmakingSearching: the service's estimate of the wait, in milliseconds.
    estimated_wait_millis: float | None = None


@dataclass(slots=True)
class MatchmakingEvent:
    """An EventBridge envelope of a matchmaking event."""

    detail: EventDetail
    id: str | None = None
    #: When it happened.
    at: float | None = None
    #: The configuration named among the envelope's ``resources``.
    configuration_name: str | None = None

    @property
    def time(self) -> datetime | None:
        return datetime.fromtimestamp(self.at, UTC) if self.at is not None else None


def game_address(dns_name: str | None, ip_address: str | None, port: int | None) -> str | None:
    """"address:port" of a game session, once both are known (the DNS name preferred)."""
    host = dns_name or ip_address
    return f"{host}:{port}" if host and port else None


def configuration_of(resources: Any) -> str | None:
    """The matchmaking configuration named by an ARN in an envelope's ``resources``."""
    if isinstance(resources, list):
        for arn in resources:
            if isinstance(arn, str) and _CONFIGURATION_ARN in arn:
                return arn.split(_CONFIGURATION_ARN, 1)[1]
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


#: A ticket's start time comes again in every event about it: read each text once.
_start_time = lru_cache(maxsize=1 << 14)(parse_time)

# Enum members read through their class cost a descriptor call each (Python 3.11); the reader
# compares the type of every event with them.
_SEARCHING = EventType.SEARCHING
_POTENTIAL_MATCH_CREATED = EventType.POTENTIAL_MATCH_CREATED
_ACCEPT_MATCH = EventType.ACCEPT_MATCH
_ACCEPT_MATCH_COMPLETED = EventType.ACCEPT_MATCH_COMPLETED
_SUCCEEDED = EventType.SUCCEEDED


def read_detail(detail: Any) -> EventDetail | None:
    """The event in an envelope's ``detail``; None when it is not one (no type).

    Players' answers are read from AcceptMatch events and their game sessions from
    MatchmakingSucceeded events, the only ones that carry them."""
    if not isinstance(detail, dict):
        return None
    raw = detail.get("type")
    if not isinstance(raw, str):
        return None
    kind: EventType | str = _TYPES.get(raw, raw)
    answers = kind is _ACCEPT_MATCH
    sessions = kind is _SUCCEEDED
    tickets: list[EventTicket] = []
    listed = detail.get("tickets")
    if isinstance(listed, list):
        for entry in listed:
            if not isinstance(entry, dict):
                continue
            ticket_id = entry.get("ticketId")
            if not isinstance(ticket_id, str):
                continue
            players: list[EventPlayer] = []
            named = entry.get("players")
            if isinstance(named, list):
                for p in named:
                    if not isinstance(p, dict):
                        continue
                    player_id = p.get("playerId")
                    if not isinstance(player_id, str):
                        continue
                    team = p.get("team")
                    if not isinstance(team, str):
                        team = None
                    if answers:
                        accepted = p.get("accepted")
                        players.append((player_id, team, accepted if isinstance(accepted, bool) else None, None))
                    elif sessions:
                        players.append((player_id, team, None, _text(p.get("playerSessionId"))))
                    else:
                        players.append((player_id, team, None, None))
            started = entry.get("startTime")
            tickets.append(
                EventTicket(ticket_id, _start_time(started) if isinstance(started, str) else parse_time(started), players)
            )
    match_id = detail.get("matchId")
    event = EventDetail(kind, tickets, match_id if isinstance(match_id, str) else None)
    if kind is _SEARCHING:
        event.estimated_wait_millis = _number(detail.get("estimatedWaitMillis"))
    elif kind is _POTENTIAL_MATCH_CREATED:
        event.acceptance_required = bool(detail.get("acceptanceRequired"))
        event.acceptance_timeout = _number(detail.get("acceptanceTimeout"))
    elif kind is _ACCEPT_MATCH_COMPLETED:
        event.acceptance = _text(detail.get("acceptance"))
    elif sessions:
        info = detail.get("gameSessionInfo")
        if isinstance(info, dict):
            port = info.get("port")
            event.game_session = game_address(
                _text(info.get("dnsName")), _text(info.get("ipAddress")), port if isinstance(port, int) else None
            )
            listed = info.get("players")
            if isinstance(listed, list):
                event.player_sessions = tuple(
                    (s["playerId"], s["playerSessionId"])
                    for s in listed
                    if isinstance(s, dict)
                    and isinstance(s.get("playerId"), str)
                    and isinstance(s.get("playerSessionId"), str)
                )
    elif kind in _ENDED:
        event.reason = _text(detail.get("reason"))
        event.message = _text(detail.get("message"))
    return event


def read_event(envelope: Any) -> MatchmakingEvent | None:
    """A whole EventBridge envelope; None when its ``detail`` is not a matchmaking event."""
    if not isinstance(envelope, dict):
        return None
    detail = read_detail(envelope.get("detail"))
    if detail is None:
        return None
    return MatchmakingEvent(
        detail,
        id=_text(envelope.get("id")),
        at=parse_time(envelope.get("time")),
        configuration_name=configuration_of(envelope.get("resources")),
    )
