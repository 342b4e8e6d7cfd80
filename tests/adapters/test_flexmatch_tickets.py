"""The ticket book's own logic on hand-written events and tickets: wire parsing, offers from
events, the dropped-match rule, and deadline estimates when only polling is possible. The same
flows against the emulator are in test_flexmatch_adapter.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lobby.core.events import EventSource
from lobby.core.offers import OfferClosed, OfferUpdated
from lobby.flexmatch.lifecycle import EventType, TicketStatus
from lobby.flexmatch.tickets import TicketBook
from lobby.flexmatch.notifications import MatchmakingEvent, read_event
from lobby.flexmatch.wire import MatchmakingTicket

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ARN = "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/duel"


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def event(kind: EventType, tickets: dict[str, dict[str, bool | None]], *, at: datetime = T0, **detail) -> MatchmakingEvent:
    """tickets: ticket id -> {player id: accepted (None = not answered)}."""
    envelope = read_event(
        {
            "version": "0",
            "id": "e",
            "detail-type": "GameLift Matchmaking Event",
            "source": EventSource.GAMELIFT,
            "time": iso(at),
            "resources": [ARN],
            "detail": {
                "type": kind,
                "tickets": [
                    {
                        "ticketId": tid,
                        "startTime": iso(T0 - timedelta(seconds=5)),
                        "players": [
                            {"playerId": p, "team": "red", **({} if a is None else {"accepted": a})}
                            for p, a in players.items()
                        ],
                    }
                    for tid, players in tickets.items()
                ],
                **detail,
            },
        }
    )
    assert envelope is not None
    return envelope


MATCH = {"t-a": {"alice": None}, "t-b": {"bob": None, "bea": None}}


def propose(book: TicketBook) -> list:
    book.apply(event(EventType.SEARCHING, {"t-a": {"alice": None}}, at=T0 - timedelta(seconds=5)))
    return book.apply(
        event(EventType.POTENTIAL_MATCH_CREATED, MATCH, matchId="m-1", acceptanceRequired=True, acceptanceTimeout=30)
    )


def test_wire_timestamps_become_aware_datetimes_and_unknown_members_are_ignored():
    ticket = MatchmakingTicket.model_validate(
        {"TicketId": "t", "Status": "SEARCHING", "StartTime": 1767268800, "Brand": "new", "Players": [{"PlayerId": "p"}]}
    )
    assert ticket.start_time == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert ticket.status is TicketStatus.SEARCHING and ticket.player_ids == ["p"]
    assert "p" not in repr(ticket.players[0])  # player ids are sensitive
    ev = event(EventType.SEARCHING, {"t": {"p": None}})
    assert ev.time == T0 and ev.configuration_name == "duel"


def test_a_proposal_is_an_offer_with_deadline_and_progress_for_my_tickets_only():
    book = TicketBook(["alice"])
    changes = propose(book)
    assert [type(c) for c in changes] == [OfferUpdated]
    offer = changes[0].offer
    assert (offer.id, offer.status, offer.players) == ("t-a", "REQUIRES_ACCEPTANCE", ("alice",))
    assert offer.deadline == T0 + timedelta(seconds=30)
    assert offer.progress == (0, 3) and offer.facts["configuration"] == "duel"
    changes = book.apply(event(EventType.ACCEPT_MATCH, {"t-b": {"bob": True, "bea": None}}, matchId="m-1"))
    # Only t-b is named, but the progress of my offer on t-a changed with it.
    assert [(c.offer.id, c.offer.progress) for c in changes] == [("t-a", (1, 3))]
    changes = book.apply(event(EventType.ACCEPT_MATCH, {"t-a": {"alice": True}}, matchId="m-1"))
    assert [c.offer.progress for c in changes] == [(2, 3)]


def test_everyone_accepting_closes_the_offer_as_placing_then_completed():
    book = TicketBook(["alice"])
    propose(book)
    for t, p in (("t-a", "alice"), ("t-b", "bob"), ("t-b", "bea")):
        book.apply(event(EventType.ACCEPT_MATCH, {t: {p: True}}, matchId="m-1"))
    changes = book.apply(event(EventType.ACCEPT_MATCH_COMPLETED, MATCH, matchId="m-1", acceptance="Accepted"))
    assert [(type(c), c.status) for c in changes] == [(OfferClosed, "PLACING")]
    assert changes[0].outcome == "Every player accepted; the match is being placed."
    book.apply(
        event(
            EventType.SUCCEEDED,
            MATCH,
            matchId="m-1",
            gameSessionInfo={"ipAddress": "127.0.0.1", "port": 7777, "players": [{"playerId": "alice", "playerSessionId": "psess-1"}]},
        )
    )
    ticket = book.get("t-a")
    assert ticket.status is TicketStatus.COMPLETED and ticket.game_session == "127.0.0.1:7777"
    assert ticket.player_sessions == {"alice": "psess-1"}


def test_a_rejection_follows_the_domain_rule_until_the_service_confirms():
    book = TicketBook(["alice", "bob"])
    propose(book)
    book.apply(event(EventType.ACCEPT_MATCH, {"t-a": {"alice": True}}, matchId="m-1"))
    book.apply(event(EventType.ACCEPT_MATCH, {"t-b": {"bob": False, "bea": None}}, matchId="m-1"))
    changes = book.apply(event(EventType.ACCEPT_MATCH_COMPLETED, MATCH, matchId="m-1", acceptance="Rejected"))
    closed = {c.id: (c.status, c.outcome) for c in changes}
    assert closed == {
        "t-a": ("SEARCHING", "A player rejected the match; this ticket searches again."),
        "t-b": ("CANCELLED", "A player rejected the match; this ticket is cancelled."),
    }
    # The service has the last word, even on a ticket inferred to be cancelled.
    assert book.apply(event(EventType.SEARCHING, {"t-b": {"bob": None}})) == []
    assert book.get("t-b").status is TicketStatus.SEARCHING
    book.apply(event(EventType.CANCELLED, {"t-b": {"bob": None}}, reason="Cancelled"))
    book.apply(event(EventType.SEARCHING, {"t-b": {"bob": None}}))
    assert book.get("t-b").status is TicketStatus.CANCELLED  # settled: nothing changes it now


def test_timeout_closes_the_offer_and_silent_tickets_are_cancelled():
    book = TicketBook()  # no players configured: every ticket counts
    assert len(propose(book)) == 2
    changes = book.apply(event(EventType.ACCEPT_MATCH_COMPLETED, MATCH, matchId="m-1", acceptance="TimedOut"))
    assert {c.id: c.status for c in changes} == {"t-a": "CANCELLED", "t-b": "CANCELLED"}
    assert all(c.outcome.startswith("The acceptance window closed") for c in changes)


def test_polling_estimates_the_deadline_from_the_last_search_sighting():
    book = TicketBook(["alice"])
    wire = lambda status: MatchmakingTicket.model_validate(  # noqa: E731
        {"TicketId": "t-a", "ConfigurationName": "duel", "Status": status, "StartTime": (T0 - timedelta(minutes=5)).timestamp(), "Players": [{"PlayerId": "alice"}]}
    )
    assert book.observe(wire("SEARCHING"), now=T0) == []
    changes = book.observe(wire("REQUIRES_ACCEPTANCE"), now=T0 + timedelta(seconds=10), acceptance_timeout=30)
    offer = changes[0].offer
    assert offer.deadline == T0 + timedelta(seconds=30) and offer.facts["deadline"] == "estimated"
    assert offer.progress is None  # only events carry answers
    assert book.observe(wire("REQUIRES_ACCEPTANCE"), now=T0 + timedelta(seconds=20), acceptance_timeout=30) == []
    changes = book.observe(wire("CANCELLED"), now=T0 + timedelta(seconds=40))
    assert [(type(c), c.status) for c in changes] == [(OfferClosed, "CANCELLED")]
    assert book.pollable_ids() == []


def test_first_sighting_already_awaiting_uses_that_moment_when_the_start_is_too_old():
    book = TicketBook(["alice"])
    ticket = MatchmakingTicket.model_validate(
        {"TicketId": "t-a", "Status": "REQUIRES_ACCEPTANCE", "StartTime": (T0 - timedelta(hours=1)).timestamp(), "Players": [{"PlayerId": "alice"}]}
    )
    offer = book.observe(ticket, now=T0, acceptance_timeout=60)[0].offer
    assert offer.deadline == T0 + timedelta(seconds=60)


def test_finished_tickets_are_forgotten_beyond_the_limit():
    book = TicketBook(keep_finished=2)
    for n in range(5):
        book.apply(event(EventType.SEARCHING, {f"t-{n}": {"p": None}}))
        book.apply(event(EventType.TIMED_OUT, {f"t-{n}": {"p": None}}, reason="TimedOut"))
    assert sorted(book.tickets) == ["t-3", "t-4"]
