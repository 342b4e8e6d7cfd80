"""What a captain is asked to answer, whichever service asks: the backend-neutral offer.

Adapters turn service-specific wire data into these; the TUI renders only these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from lobby.core.clock import Clock, remaining


#: Reminders, in seconds before an offer's deadline, unless the settings say otherwise.
DEFAULT_REMINDERS = (30.0, 10.0)


class OfferKind(StrEnum):
    FLEXMATCH_TICKET = "flexmatch-ticket"  # a ticket of mine in REQUIRES_ACCEPTANCE
    TEAMBATTLES_MATCH = "teambattles-match"  # an open match my team may accept
    TEAMBATTLES_CHALLENGE = "teambattles-challenge"  # a match that challenges my team directly


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    """One thing awaiting an answer. ``deadline`` is when it can no longer be answered.

    A plain frozen dataclass, not a model: the console paints offers in its first frame, and
    what they are made of was checked where they were made (the adapters' wire models, or
    :func:`offer_from_json` for the last-known file). Change one with
    :func:`dataclasses.replace`."""

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
    facts: Mapping[str, str] = field(default_factory=dict)

    def time_left(self, clock: Clock) -> timedelta | None:
        return None if self.deadline is None else remaining(self.deadline, clock)

    def expired(self, clock: Clock) -> bool:
        return self.deadline is not None and clock.now() >= self.deadline


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferUpdated:
    """An offer appeared or changed (status, progress, deadline)."""

    offer: Offer
    event_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferClosed:
    """An offer can no longer be answered; ``outcome`` says why, in words."""

    kind: OfferKind
    id: str
    status: str
    outcome: str
    event_id: str | None = None


Change = OfferUpdated | OfferClosed


def offer_json(offer: Offer) -> dict[str, object]:
    """``offer`` as plain JSON data (what :func:`offer_from_json` reads)."""
    return {
        "kind": offer.kind.value,
        "id": offer.id,
        "title": offer.title,
        "status": offer.status,
        "deadline": None if offer.deadline is None else offer.deadline.isoformat(),
        "players": list(offer.players),
        "progress": None if offer.progress is None else list(offer.progress),
        "facts": dict(offer.facts),
    }


def offer_from_json(raw: object) -> Offer:
    """The offer :func:`offer_json` wrote; ValueError says what is not as written."""
    if not isinstance(raw, dict):
        raise ValueError("the offer is not an object")

    def text(name: str) -> str:
        value = raw.get(name)
        if not isinstance(value, str):
            raise ValueError(f"its {name} is not text")
        return value

    kind = OfferKind(text("kind"))  # ValueError when it is no kind of offer
    deadline = raw.get("deadline")
    if deadline is not None:
        if not isinstance(deadline, str):
            raise ValueError("its deadline is not a time")
        deadline = datetime.fromisoformat(deadline)
        if deadline.tzinfo is None:
            raise ValueError("its deadline has no time zone")
    players = raw.get("players", [])
    if not isinstance(players, list) or not all(isinstance(p, str) for p in players):
        raise ValueError("its players are not a list of names")
    progress = raw.get("progress")
    if progress is not None:
        if not (
            isinstance(progress, list)
            and len(progress) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in progress)
        ):
            raise ValueError("its progress is not two counts")
        progress = (progress[0], progress[1])
    facts = raw.get("facts", {})
    if not isinstance(facts, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in facts.items()):
        raise ValueError("its facts are not names and text")
    return Offer(
        kind=kind,
        id=text("id"),
        title=text("title"),
        status=text("status"),
        deadline=deadline,
        players=tuple(players),
        progress=progress,
        facts=facts,
    )
