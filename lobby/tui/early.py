"""The early listing of start-up: each backend's offers, read from its service by a helper
process while the console paints its first frame (:mod:`lobby.cli.early` makes it).

The console shows them as live (counted down by the service's time as the helper measured it)
until the backend, connected meanwhile in the console itself, lists them again: live data on
screen while the console is still importing its adapters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from lobby.core.offers import Offer


@dataclass(frozen=True, slots=True)
class EarlyListed:
    """One backend's offers, as the service listed them at start-up."""

    backend: str
    offers: Sequence[Offer]
    #: The service's time minus this machine's, in seconds, as measured with the listing.
    skew: float


class EarlyListing(Protocol):
    """Where the early listing arrives: readable (:meth:`fileno`) as each backend's comes."""

    #: The profile whose backends are listed.
    profile: str

    def fileno(self) -> int: ...

    def take(self) -> list[EarlyListed]:
        """The backends' listings that have arrived since the last call (never blocks)."""
        ...

    @property
    def finished(self) -> bool:
        """Nothing more will arrive."""
        ...

    @property
    def complete(self) -> bool:
        """Finished, and every backend of the profile was listed."""
        ...

    def close(self) -> None:
        """Stop listening (the helper is stopped if still at work); may be called again."""
        ...
