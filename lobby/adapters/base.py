"""The one Protocol every backend adapter implements; the TUI and CLI speak only this."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from lobby.domain.offers import Change, Offer


@runtime_checkable
class OfferBackend(Protocol):
    """A source of offers and the way to answer them.

    ``answer`` is the backend's own answer object (for FlexMatch the player ids; for TeamBattles
    the acceptance draft). ``accept`` and ``reject`` return a short sentence describing what the
    service recorded; failures raise :class:`lobby.adapters.errors.BackendError` subclasses.
    """

    name: str

    async def list_offers(self) -> list[Offer]: ...

    def changes(self) -> AsyncIterator[Change]: ...

    async def accept(self, offer_id: str, answer: object) -> str: ...

    async def reject(self, offer_id: str, answer: object) -> str: ...

    async def aclose(self) -> None: ...
