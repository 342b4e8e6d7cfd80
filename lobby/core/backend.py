"""The one Protocol every backend implements, and the capabilities it declares in types.

The console and the command line speak only this. What a backend can do beyond listing and
answering offers is declared in :class:`Capabilities`: each member is either an object with a
typed protocol or None, so callers branch on ``is None`` and never probe a backend by name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from lobby.core.offers import Change, Offer

if TYPE_CHECKING:  # annotations only: the console's first frame does without the answer model
    from lobby.core.answers import AcceptanceDraft, AcceptanceFacts, Violation


class FeedState(StrEnum):
    """Where a backend's live change feed stands."""

    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class MyRequest:
    """One request this user sent and the backend remembers (TeamBattles "my requests")."""

    match_id: str
    acceptance_id: str
    #: The request's state in the service's words (PENDING, APPROVED, DECLINED, ...).
    status: str
    note: str | None = None
    team_id: str | None = None


#: Stops a subscription when called.
Unsubscribe = Callable[[], None]


class RequestBook(Protocol):
    """The requests this user sent, kept in memory and pushed to subscribers as they change."""

    def current(self) -> Sequence[MyRequest]:
        """Every request known now; answered from memory, no I/O."""
        ...

    def subscribe(self, listener: Callable[[MyRequest], None]) -> Unsubscribe:
        """Call ``listener`` with each request that is recorded or changes, on the caller's loop."""
        ...


@dataclass(frozen=True, slots=True)
class TicketOutcome:
    """Where an answered ticket went after its offer closed."""

    ticket_id: str
    status: str
    #: One plain sentence for the captain (placed where, dropped, failed and why).
    sentence: str


class TicketOutcomes(Protocol):
    """Follows tickets past the end of their offer, from what the backend already knows."""

    def outcome(self, ticket_id: str, players: Sequence[str]) -> TicketOutcome | None:
        """The ticket's latest known outcome (no I/O), or None when it is not known."""
        ...


class AcceptanceDesk(Protocol):
    """Where a captain's acceptance drafts are judged (TeamBattles): the facts of a match for
    each team that could answer it, the teams to offer, and what the client can judge itself."""

    async def acceptance_facts(self, match_id: str) -> Sequence[AcceptanceFacts]:
        """One AcceptanceFacts per team of mine that could answer ``match_id``."""
        ...

    def offered(self, facts: Sequence[AcceptanceFacts]) -> list[AcceptanceFacts]:
        """The teams to offer, of those ``facts`` describe, in the order to offer them."""
        ...

    def violations(
        self, draft: AcceptanceDraft, facts: AcceptanceFacts, now: datetime
    ) -> list[Violation]:
        """Every rule ``draft`` breaks at ``now`` that the client can judge; the service
        judges the rest."""
        ...


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do besides offers; None where it cannot."""

    #: The state of its live change feed, read when the console repaints; None: no feed.
    feed_state: Callable[[], FeedState] | None = None
    #: Requests this user sent (TeamBattles).
    requests: RequestBook | None = None
    #: Outcomes of answered tickets (FlexMatch).
    outcomes: TicketOutcomes | None = None
    #: The facts and judgement of acceptance drafts (TeamBattles).
    acceptance: AcceptanceDesk | None = None
    #: What the user must be told while connected, read when the console repaints: one plain
    #: sentence from the server (network text, cleaned where shown), or None when there is
    #: nothing to say; e.g. an emulator metering TeamBattles above the service's rate limits.
    #: None: the backend never has such a notice.
    notice: Callable[[], str | None] | None = None


NO_CAPABILITIES = Capabilities()


@runtime_checkable
class OfferBackend(Protocol):
    """A source of offers and the way to answer them.

    ``answer`` is the backend's own answer object (for FlexMatch the player ids; for TeamBattles
    the acceptance draft). ``accept`` and ``reject`` return a short sentence describing what the
    service recorded; failures raise :class:`lobby.core.errors.BackendError` subclasses.
    """

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    async def list_offers(self) -> list[Offer]: ...

    def changes(self) -> AsyncIterator[Change]: ...

    async def accept(self, offer_id: str, answer: object) -> str: ...

    async def reject(self, offer_id: str, answer: object) -> str: ...

    async def aclose(self) -> None: ...

