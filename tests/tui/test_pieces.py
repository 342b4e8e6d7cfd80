"""Small pure pieces of the TUI: how time reads, and how an answered ticket's end reads."""

from __future__ import annotations

from datetime import timedelta

from lobby.core.backend import NO_CAPABILITIES, Capabilities
from lobby.core.offers import OfferClosed, OfferKind
from lobby.flexmatch.fold import Ticket
from lobby.flexmatch.lifecycle import TicketStatus
from lobby.flexmatch.tickets import TicketBook
from lobby.tui import timefmt
from lobby.tui.followup import follow_up


def test_countdown_words():
    assert timefmt.countdown(None) == "-"
    assert timefmt.countdown(timedelta(seconds=41.9)) == "0:41"  # never shows time that is not there
    assert timefmt.countdown(timedelta(minutes=95)) == "1:35:00"
    assert timefmt.countdown(timedelta(days=2, hours=4, minutes=5)) == "2d 04h"
    assert timefmt.countdown(timedelta(seconds=-3)) == "0:00"
    assert [timefmt.urgency(timedelta(seconds=s)) for s in (0, 10, 30, 90)] == ["expired", "urgent", "soon", "calm"]


def View(  # noqa: N802 - reads as the ticket it builds
    ticket_id: str,
    status: str,
    game_session: str | None = None,
    player_sessions: dict[str, str] | None = None,
    reason: str | None = None,
    message: str | None = None,
) -> Ticket:
    """A ticket the backend follows, last seen moving on from PLACING."""
    return Ticket(
        ticket_id,
        TicketStatus(status),
        came_from=TicketStatus.PLACING,
        game_session=game_session,
        player_sessions=dict(player_sessions or {}),
        reason=reason,
        message=message,
    )


class Tickets:
    """A FlexMatch backend whose ticket book knows ``views``."""

    name = "flexmatch"

    def __init__(self, *views: Ticket) -> None:
        book = TicketBook()
        book.tickets.update((view.ticket_id, view) for view in views)
        self.capabilities = Capabilities(outcomes=book)


class NoOutcomes:
    """A backend that does not follow tickets."""

    name = "flexmatch"
    capabilities = NO_CAPABILITIES


PLACING = OfferClosed(kind=OfferKind.FLEXMATCH_TICKET, id="t-1", status="PLACING", outcome="Placing.")


def test_a_placed_ticket_reads_with_its_connection_details():
    backend = Tickets(View("t-1", "COMPLETED", "10.0.0.1:7777", {"ana": "psess-1", "zed": "psess-9"}))
    newer = follow_up(backend, PLACING, ["ana"])
    assert newer is not None and newer.status == "COMPLETED"
    assert newer.outcome == "The match is ready at 10.0.0.1:7777. Player sessions: ana: psess-1."


def test_follow_up_says_nothing_new_when_nothing_moved_or_nothing_is_known():
    assert follow_up(Tickets(View("t-1", "PLACING")), PLACING, ["ana"]) is None
    assert follow_up(Tickets(), PLACING, ["ana"]) is None
    assert follow_up(NoOutcomes(), PLACING, ["ana"]) is None  # a backend that does not follow tickets
    failed = follow_up(Tickets(View("t-1", "FAILED", message="No capacity.")), PLACING, [])
    assert failed is not None and failed.outcome == "Placing the match failed (No capacity.)."
    final = OfferClosed(kind=OfferKind.FLEXMATCH_TICKET, id="t-1", status="CANCELLED", outcome="x")
    assert follow_up(Tickets(View("t-1", "SEARCHING")), final, []) is None
