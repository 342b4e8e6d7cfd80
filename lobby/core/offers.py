"""What a captain is asked to answer, whichever service asks: the backend-neutral offer.

Adapters turn service-specific wire data into these; the TUI renders only these.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from lobby.core.clock import Clock, remaining


class OfferKind(StrEnum):
    FLEXMATCH_TICKET = "flexmatch-ticket"  # a ticket of mine in REQUIRES_ACCEPTANCE
    TEAMBATTLES_MATCH = "teambattles-match"  # an open match my team may accept
    TEAMBATTLES_CHALLENGE = "teambattles-challenge"  # a match that challenges my team directly


class Offer(BaseModel):
    """One thing awaiting an answer. ``deadline`` is when it can no longer be answered."""

    model_config = ConfigDict(frozen=True)

    kind: OfferKind
    id: str
    title: str
    status: str
    deadline: datetime | None = None
    #: The players (FlexMatch) or nothing (TeamBattles) this answer is given for.
    players: tuple[str, ...] = ()
    #: (accepted, total) across the whole proposed match, when known from events.
    progress: tuple[int, int] | None = None
    #: Service-specific facts worth showing (configuration, game, team size, ...).
    facts: Mapping[str, str] = Field(default_factory=dict)

    def time_left(self, clock: Clock) -> timedelta | None:
        return None if self.deadline is None else remaining(self.deadline, clock)

    def expired(self, clock: Clock) -> bool:
        return self.deadline is not None and clock.now() >= self.deadline


class OfferUpdated(BaseModel):
    """An offer appeared or changed (status, progress, deadline)."""

    model_config = ConfigDict(frozen=True)

    offer: Offer
    event_id: str | None = None


class OfferClosed(BaseModel):
    """An offer can no longer be answered; ``outcome`` says why, in words."""

    model_config = ConfigDict(frozen=True)

    kind: OfferKind
    id: str
    status: str
    outcome: str
    event_id: str | None = None


Change = OfferUpdated | OfferClosed
