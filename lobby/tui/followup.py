"""Following an answered FlexMatch ticket past the end of its offer.

The FlexMatch backend closes an offer when its ticket leaves REQUIRES_ACCEPTANCE (to PLACING,
say) and reports nothing more, yet a captain who accepted wants to see where the match ended:
placed with connection details, or failed. A backend whose capabilities include
:class:`~lobby.core.backend.TicketOutcomes` tells, from what it already knows, where the ticket
stands now and in what words; nothing here sends a request.
"""

from __future__ import annotations

from collections.abc import Iterable

from lobby.core.backend import OfferBackend
from lobby.core.offers import OfferClosed, OfferKind
from lobby.flexmatch.lifecycle import TERMINAL, TicketStatus


def follow_up(backend: OfferBackend, closed: OfferClosed, players: Iterable[str]) -> OfferClosed | None:
    """A newer closing word for a FlexMatch ticket, or None when nothing moved."""
    if closed.kind is not OfferKind.FLEXMATCH_TICKET or closed.status in TERMINAL:
        return None
    outcomes = backend.capabilities.outcomes
    if outcomes is None:
        return None
    found = outcomes.outcome(closed.id, tuple(players))
    if found is None or found.status in (closed.status, TicketStatus.REQUIRES_ACCEPTANCE):
        return None
    return OfferClosed(
        kind=closed.kind,
        id=closed.id,
        status=found.status,
        outcome=found.sentence,
        event_id=closed.event_id,
    )
