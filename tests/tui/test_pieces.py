"""Small pure pieces of the TUI: how time reads, and how an answered ticket's end reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from lobby.core.offers import OfferClosed, OfferKind
from lobby.tui import timefmt
from lobby.tui.followup import follow_up


def test_countdown_words():
    assert timefmt.countdown(None) == "-"
    assert timefmt.countdown(timedelta(seconds=41.9)) == "0:41"  # never shows time that is not there
    assert timefmt.countdown(timedelta(minutes=95)) == "1:35:00"
    assert timefmt.countdown(timedelta(days=2, hours=4, minutes=5)) == "2d 04h"
    assert timefmt.countdown(timedelta(seconds=-3)) == "0:00"
    assert [timefmt.urgency(timedelta(seconds=s)) for s in (0, 10, 30, 90)] == ["expired", "urgent", "soon", "calm"]


@dataclass
class View:
    ticket_id: str
    status: str
    game_session: str | None = None
    player_sessions: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    message: str | None = None


class Tickets:
    name = "flexmatch"

    def __init__(self, *views: View) -> None:
        self.views = list(views)

    def tickets(self, *, live_only: bool = True) -> list[View]:
        return self.views


PLACING = OfferClosed(kind=OfferKind.FLEXMATCH_TICKET, id="t-1", status="PLACING", outcome="Placing.")


def test_a_placed_ticket_reads_with_its_connection_details():
    backend = Tickets(View("t-1", "COMPLETED", "10.0.0.1:7777", {"ana": "psess-1", "zed": "psess-9"}))
    newer = follow_up(backend, PLACING, ["ana"])
    assert newer is not None and newer.status == "COMPLETED"
    assert newer.outcome == "The match is ready at 10.0.0.1:7777. Player sessions: ana: psess-1."


def test_follow_up_says_nothing_new_when_nothing_moved_or_nothing_is_known():
    assert follow_up(Tickets(View("t-1", "PLACING")), PLACING, ["ana"]) is None
    assert follow_up(Tickets(), PLACING, ["ana"]) is None
    assert follow_up(object(), PLACING, ["ana"]) is None  # a backend without tickets()
    failed = follow_up(Tickets(View("t-1", "FAILED", message="No capacity.")), PLACING, [])
    assert failed is not None and failed.outcome == "Placing the match failed (No capacity.)."
    final = OfferClosed(kind=OfferKind.FLEXMATCH_TICKET, id="t-1", status="CANCELLED", outcome="x")
    assert follow_up(Tickets(View("t-1", "SEARCHING")), final, []) is None
