"""Events as every part of lobby names them: who sent them.

The emulator's stream, EventBridge envelopes and the filters of ``GET /_emulator/events``
(``?source=aws.gamelift,teambattles``) all name an event's sender with the same words.
"""

from __future__ import annotations

from enum import StrEnum


class EventSource(StrEnum):
    """The sender of an event, as its ``source`` member and the stream's filter spell it."""

    #: GameLift FlexMatch matchmaking events (EventBridge ``source``).
    GAMELIFT = "aws.gamelift"
    #: TeamBattles webhook-shaped events.
    TEAMBATTLES = "teambattles"
