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


# --- the early listing of start-up (OfferStore.confirm) --------------------------------------------


def test_an_early_listing_shows_new_offers_live_counted_down_by_the_services_clock():
    store = OfferStore(FrozenClock(T0))
    service = FrozenClock(T0 + timedelta(seconds=10))  # the service's time, as measured then
    applied = store.confirm("flexmatch", [ticket()], service)
    assert [(a.key, a.new, a.arrived) for a in applied] == [((OfferKind.FLEXMATCH_TICKET, "t-ana"), True, False)]
    entry = store.get((OfferKind.FLEXMATCH_TICKET, "t-ana"))
    assert entry.refreshing and entry.confirmed and not entry.unconfirmed
    assert entry.clock is service and entry.window == 32.0  # 42 s by the machine's, 32 by the service's
    assert store.refreshing and not store.unconfirmed
    service.advance(2)
    assert entry.offer.time_left(entry.clock) == timedelta(seconds=30)


def test_an_early_listing_confirms_the_last_known_offers_it_names_and_drops_the_rest_of_that_backend():
    clock = FrozenClock(T0)
    store = OfferStore(clock)
    gone = open_match("m-gone", "Cancelled since", minutes=50, game="Skyline Strike", region="EU")
    store.remember([("flexmatch", ticket()), ("teambattles", challenge()), ("teambattles", gone)])
    assert store.unconfirmed
    service = FrozenClock(T0 + timedelta(seconds=2))
    newer = ticket(seconds=60, progress=(9, 10))
    applied = store.confirm("flexmatch", [newer], service)
    assert [(a.key[1], a.new) for a in applied] == [("t-ana", False)]
    entry = store.get((OfferKind.FLEXMATCH_TICKET, "t-ana"))
    assert entry.offer == newer and entry.clock is service and entry.window == 58.0
    assert entry.refreshing and entry.confirmed and not entry.unconfirmed  # no "↻" on the home
    # TeamBattles' last-known offers wait for their own listing, still marked.
    assert all(store.get(k).unconfirmed for k in [(OfferKind.TEAMBATTLES_CHALLENGE, "c-1"), (OfferKind.TEAMBATTLES_MATCH, "m-gone")])
    assert store.unconfirmed

    applied = store.confirm("teambattles", [challenge()], service)
    assert {(a.key[1], a.new) for a in applied} == {("c-1", False), ("m-gone", False)}
    assert store.get((OfferKind.TEAMBATTLES_MATCH, "m-gone")) is None  # not listed: gone
    assert store.get((OfferKind.TEAMBATTLES_CHALLENGE, "c-1")).confirmed
    assert store.refreshing and not store.unconfirmed


def test_an_early_listing_of_one_backend_keeps_the_last_known_offers_of_another():
    store = OfferStore(FrozenClock(T0))
    store.remember([("flexmatch", ticket()), ("teambattles", challenge())])
    applied = store.confirm("teambattles", [], FrozenClock(T0))
    assert [(a.key, a.new) for a in applied] == [((OfferKind.TEAMBATTLES_CHALLENGE, "c-1"), False)]
    assert store.get((OfferKind.TEAMBATTLES_CHALLENGE, "c-1")) is None
    entry = store.get((OfferKind.FLEXMATCH_TICKET, "t-ana"))
    assert entry is not None and entry.unconfirmed and store.unconfirmed


def test_an_early_listing_leaves_an_offer_its_backend_has_listed_as_it_is():
    store = OfferStore(FrozenClock(T0))
    backends = FrozenClock(T0 + timedelta(seconds=1))
    store.clocks["flexmatch"] = backends
    store.replace("flexmatch", [ticket(progress=(8, 10))])
    assert store.confirm("flexmatch", [ticket(seconds=90, progress=(1, 10)), ticket("t-early")], FrozenClock(T0)) != []
    entry = store.get((OfferKind.FLEXMATCH_TICKET, "t-ana"))
    assert entry.offer == ticket(progress=(8, 10)) and entry.clock is backends and entry.window == 41.0
    assert not entry.refreshing and not entry.confirmed
    # An offer the backend did not list is shown from the early one until the backend says more.
    assert store.get((OfferKind.FLEXMATCH_TICKET, "t-early")).confirmed


def test_the_backends_own_listing_makes_early_offers_plain_live_entries_by_its_clock():
    store = OfferStore(FrozenClock(T0))
    early = FrozenClock(T0 + timedelta(seconds=5))
    store.remember([("teambattles", challenge())])
    store.confirm("teambattles", [challenge(), open_match("m-1", "Scrim", minutes=10, game="g", region="EU")], early)
    store.confirm("flexmatch", [ticket()], early)
    backends = FrozenClock(T0 + timedelta(seconds=3))
    store.clocks["teambattles"] = backends
    applied = store.replace("teambattles", [challenge(), open_match("m-1", "Scrim", minutes=10, game="g", region="EU")])
    assert {(a.key[1], a.new) for a in applied} == {("c-1", False), ("m-1", False)}
    for key in [(OfferKind.TEAMBATTLES_CHALLENGE, "c-1"), (OfferKind.TEAMBATTLES_MATCH, "m-1")]:
        entry = store.get(key)
        assert not entry.refreshing and not entry.confirmed and not entry.unconfirmed
        assert entry.clock is backends and entry.closed is None
    assert store.get((OfferKind.TEAMBATTLES_MATCH, "m-1")).offer.time_left(backends) == timedelta(minutes=10, seconds=-3)
    # FlexMatch's offer waits for its own backend, still shown by the early listing's clock.
    flex = store.get((OfferKind.FLEXMATCH_TICKET, "t-ana"))
    assert flex.refreshing and flex.confirmed and flex.clock is early
    assert store.refreshing and not store.unconfirmed
    store.replace("flexmatch", [])  # the backend no longer offers it: gone, not closed
    assert store.get((OfferKind.FLEXMATCH_TICKET, "t-ana")) is None
    assert not store.refreshing and not store.unconfirmed


def test_connecting_at_start_up_keeps_what_the_early_listing_confirmed():
    store = OfferStore(FrozenClock(T0))
    store.replace("teambattles", [open_match("m-1", "Scrim", minutes=10, game="g", region="EU")])  # listed before
    store.remember([("teambattles", challenge())])
    store.confirm("flexmatch", [ticket()], FrozenClock(T0))
    store.clear()  # what the start-up connect does before adopting the backends
    assert sorted((e.offer.id, e.confirmed, e.unconfirmed) for e in store) == [("c-1", False, True), ("t-ana", True, False)]
