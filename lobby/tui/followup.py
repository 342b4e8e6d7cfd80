"""Following an answered FlexMatch ticket past the end of its offer.

The FlexMatch backend closes an offer when its ticket leaves REQUIRES_ACCEPTANCE (to PLACING,
say) and reports nothing more, yet a captain who accepted wants to see where the match ended:
placed with connection details, or failed. A backend that exposes the tickets it follows
(``tickets(live_only=False)``, with ``ticket_id``, ``status``, ``game_session``,
``player_sessions``, ``reason``, ``message``) lets the app say so, without any extra request.
"""

from __future__ import annotations

from collections.abc import Iterable

from lobby.core.backend import OfferBackend
from lobby.core.offers import OfferClosed, OfferKind

#: Where a ticket's story ends.
FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"})


def _view(backend: OfferBackend, ticket_id: str) -> object | None:
    tickets = getattr(backend, "tickets", None)
    if not callable(tickets):
        return None
    try:
        views: Iterable[object] = tickets(live_only=False)
    except TypeError:
        return None
    for view in views:
        if getattr(view, "ticket_id", None) == ticket_id:
            return view
    return None


def describe(view: object, players: Iterable[str]) -> str:
    status = str(getattr(view, "status", ""))
    if status == "COMPLETED":
        where = getattr(view, "game_session", None)
        sessions = getattr(view, "player_sessions", {}) or {}
        text = f"The match is ready at {where}." if where else "The match is ready."
        mine = [f"{p}: {sessions[p]}" for p in players if p in sessions]
        if mine:
            text += " Player sessions: " + ", ".join(mine) + "."
        return text
    why = getattr(view, "message", None) or getattr(view, "reason", None)
    words = {
        "PLACING": "Every player accepted; the match is being placed.",
        "SEARCHING": "The match was dropped; the ticket searches again.",
        "FAILED": "Placing the match failed",
        "CANCELLED": "The ticket was cancelled",
        "TIMED_OUT": "The ticket timed out",
    }.get(status, f"The ticket is {status.replace('_', ' ').lower()}")
    if status in ("FAILED", "CANCELLED", "TIMED_OUT"):
        words += f" ({why})." if why else "."
    return words


def follow_up(backend: OfferBackend, closed: OfferClosed, players: Iterable[str]) -> OfferClosed | None:
    """A newer closing word for a FlexMatch ticket, or None when nothing moved."""
    if closed.kind is not OfferKind.FLEXMATCH_TICKET or closed.status in FINAL:
        return None
    view = _view(backend, closed.id)
    if view is None:
        return None
    status = str(getattr(view, "status", ""))
    if not status or status == closed.status or status == "REQUIRES_ACCEPTANCE":
        return None
    return OfferClosed(
        kind=closed.kind,
        id=closed.id,
        status=status,
        outcome=describe(view, players),
        event_id=closed.event_id,
    )
