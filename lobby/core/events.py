"""Events as every part of lobby reads them: who sent them, and when they happened.

The emulator's stream, EventBridge envelopes and the filters of ``GET /_emulator/events``
(``?source=aws.gamelift,teambattles``) all name an event's sender with the same words; the
emulator and the feed that reads its stream (:mod:`lobby.net.stream`) share its route names and
instance header from here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class EventSource(StrEnum):
    """The sender of an event, as its ``source`` member and the stream's filter spell it."""

    #: GameLift FlexMatch matchmaking events (EventBridge ``source``).
    GAMELIFT = "aws.gamelift"
    #: TeamBattles webhook-shaped events.
    TEAMBATTLES = "teambattles"


#: The emulator's event stream (Server-Sent Events), as the emulator serves it and the feed reads it.
EVENTS_PATH = "/_emulator/events"
#: The emulator's health check: where its event stream stands, its database instance, its time.
HEALTH_PATH = "/_emulator/health"
#: The header naming the emulator's database instance, whose events the ids count: on every
#: answer of the stream, and from a resuming client, the instance it counted in.
INSTANCE_HEADER = "X-Emulator-Instance"


def parse_time(value: Any) -> float | None:
    """An ISO 8601 time (``Z`` allowed) or epoch seconds to epoch seconds; None if unreadable."""
    if isinstance(value, str):
        return _parse_text(value) if value else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # a tuple: cheaper than int | float
        return float(value)
    return None


def _parse_text(value: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
