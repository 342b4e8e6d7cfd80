"""FlexMatch matchmaking events as they arrive: EventBridge envelopes, whoever carried them.

GameLift publishes a "GameLift Matchmaking Event" for every change of a ticket (through
EventBridge, or SNS). The envelope says when it happened and, among its ``resources``, which
matchmaking configuration it is about; its ``detail`` says what happened
(:class:`~.lifecycle.EventType`), names the tickets concerned with their players, and adds what
the type is about (the proposed match, how an acceptance round ended, the game session, why a
ticket stopped). The detail is read as it is folded, by :class:`~.fold.TicketFold`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lobby.core.events import parse_time

#: Where a configuration's name starts in its ARN (an envelope's ``resources``).
_CONFIGURATION_ARN = ":matchmakingconfiguration/"


@dataclass(slots=True)
class MatchmakingEvent:
    """An EventBridge envelope of a matchmaking event."""

    #: The event itself, as sent: read by :meth:`~.fold.TicketFold.apply`.
    detail: dict[str, Any]
    id: str | None = None
    #: When it happened, epoch seconds.
    at: float | None = None
    #: The configuration named among the envelope's ``resources``.
    configuration_name: str | None = None

    @property
    def time(self) -> datetime | None:
        return datetime.fromtimestamp(self.at, UTC) if self.at is not None else None


def read_event(envelope: Any) -> MatchmakingEvent | None:
    """The envelope's event; None when its ``detail`` is not a matchmaking event's (no type)."""
    if not isinstance(envelope, dict):
        return None
    detail = envelope.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("type"), str):
        return None
    uid = envelope.get("id")
    return MatchmakingEvent(
        detail,
        id=uid if isinstance(uid, str) else None,
        at=parse_time(envelope.get("time")),
        configuration_name=configuration_of(envelope.get("resources")),
    )


def configuration_of(resources: Any) -> str | None:
    """The matchmaking configuration named by an ARN in an envelope's ``resources``."""
    if isinstance(resources, list):
        for arn in resources:
            if isinstance(arn, str) and _CONFIGURATION_ARN in arn:
                return arn.split(_CONFIGURATION_ARN, 1)[1]
    return None


def game_address(dns_name: str | None, ip_address: str | None, port: int | None) -> str | None:
    """"address:port" of a game session, once both are known (the DNS name preferred)."""
    host = dns_name or ip_address
    return f"{host}:{port}" if host and port else None
