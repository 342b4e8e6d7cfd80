"""The app's state store: offers by id, sections, answered offers, closing and reopening."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from doubles import T0, challenge, demo_offers, open_match, ticket

from lobby.core.clock import FrozenClock
from lobby.core.offers import OfferClosed, OfferKind, OfferUpdated
from lobby.tui.store import Filters, OfferStore


def make_store():
    clock = FrozenClock(T0)
    store = OfferStore(clock)
    flex, tb = demo_offers()
    store.replace("flexmatch", flex)
    store.replace("teambattles", tb)
    return store, clock


def test_sections_and_order():
    store, _ = make_store()
    assert [e.offer.id for e in store.awaiting()] == ["t-ana", "c-1"]  # by deadline
    assert [e.offer.id for e in store.open_matches()] == ["m-103", "m-101", "m-102"]
    assert store.my_requests() == []


def test_filters_use_offer_facts():
    store, _ = make_store()
    filters = Filters()
    filters.values["region"] = "EU"
    assert [e.offer.id for e in store.open_matches(filters)] == ["m-103", "m-101"]
    filters.values["game"] = "Iron Tide"
    assert [e.offer.id for e in store.open_matches(filters)] == ["m-103"]
    assert filters.describe() == "Game: Iron Tide, Region: EU"
    assert store.fact_values("game") == ["Iron Tide", "Skyline Strike"]


def test_updates_apply_by_id_and_answered_offers_move_to_requests():
    store, _ = make_store()
    key = (OfferKind.FLEXMATCH_TICKET, "t-ana")
    applied = store.apply(OfferUpdated(offer=ticket(progress=(8, 10))), "flexmatch")
    assert applied is not None and not applied.new and not applied.arrived
    assert store.get(key).offer.progress == (8, 10)
    store.mark_answered(key, "Accepted.")
    assert [e.offer.id for e in store.awaiting()] == ["c-1"]
    assert [e.offer.id for e in store.my_requests()] == ["t-ana"]
    store.apply(OfferClosed(kind=OfferKind.FLEXMATCH_TICKET, id="t-ana", status="PLACING", outcome="Placing."), "flexmatch")
    assert store.get(key).status_words == "Placing."
    # The ticket is proposed for another match: a fresh question that arrives again.
    again = store.apply(OfferUpdated(offer=ticket(seconds=90, progress=(0, 10))), "flexmatch")
    assert again.arrived and store.get(key).answered is False and store.get(key).is_open


def test_new_awaiting_offer_arrives_once():
    store, clock = make_store()
    first = store.apply(OfferUpdated(offer=ticket("t-new")), "flexmatch")
    second = store.apply(OfferUpdated(offer=ticket("t-new", progress=(8, 10))), "flexmatch")
    assert first.new and first.arrived and not second.arrived
    assert store.get((OfferKind.FLEXMATCH_TICKET, "t-new")).window == 42.0


def test_a_listing_closes_offers_it_no_longer_has():
    store, _ = make_store()
    store.replace("teambattles", [challenge(), open_match("m-101", "x", minutes=5, game="g", region="EU")])
    assert {e.offer.id for e in store.open_matches()} == {"m-101"}
    assert store.get((OfferKind.TEAMBATTLES_MATCH, "m-102")).closed is not None


def test_closing_an_unknown_offer_is_ignored():
    store, _ = make_store()
    assert store.apply(OfferClosed(kind=OfferKind.FLEXMATCH_TICKET, id="nope", status="X", outcome=""), "flexmatch") is None


def test_expiry_follows_the_clock():
    store, clock = make_store()
    entry = store.get((OfferKind.FLEXMATCH_TICKET, "t-ana"))
    assert not entry.offer.expired(clock)
    clock.advance(timedelta(seconds=42))
    assert entry.offer.expired(clock)


def test_the_newest_request_of_a_match_is_the_one_shown_and_a_decision_is_news():
    from lobby.core.backend import MyRequest

    store = OfferStore(FrozenClock(T0))
    declined = MyRequest("m-1", "acc-1", "DECLINED", note="roster too small")
    pending = MyRequest("m-1", "acc-2", "PENDING")
    # What the book knows at start-up, oldest first: the newest request wins.
    assert store.note_request("teambattles", declined).decided
    store.note_request("teambattles", pending)
    [entry] = store.my_requests()
    assert entry.request == pending and len(entry.requests) == 2
    # A late fact about the older request does not hide the newer one.
    store.note_request("teambattles", MyRequest("m-1", "acc-1", "SUPERSEDED"))
    assert entry.request == pending
    approved = store.note_request("teambattles", MyRequest("m-1", "acc-2", "APPROVED"))
    assert approved is not None and approved.decided
    assert entry.status_words == "approved"
    assert store.note_request("teambattles", MyRequest("m-1", "acc-2", "APPROVED")) is None


def test_an_accepted_challenge_reads_as_the_service_answered_until_the_listing_moves_on():
    store, _ = make_store()
    key = (OfferKind.TEAMBATTLES_CHALLENGE, "c-1")
    listed = store.get(key).offer.status
    store.mark_answered(key, "Challenge c-1 accepted; the match is on.")
    # The listing still names the challenge as it was before the answer: the answer is newer.
    store.apply(OfferUpdated(offer=challenge()), "teambattles")
    assert store.get(key).status_words == "Challenge c-1 accepted; the match is on."
    assert store.get(key).offer.status == listed
    # Once the listing says something else, that is the newer fact.
    moved = dataclasses.replace(challenge(), status="IN_PROGRESS")
    store.apply(OfferUpdated(offer=moved), "teambattles")
    assert store.get(key).status_words == "IN_PROGRESS"
