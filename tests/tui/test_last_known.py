"""Start-up with the last-known offers: the home shows them at once, each marked as refreshing,
until its backend confirms it (it stays, live) or drops it (it goes away); the offers known on
leaving are kept for the next start-up of the same profile, and of no other."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from doubles import T0, FixedBackend, challenge, demo_offers, open_match, ticket
from textual.widgets import DataTable

from lobby.core.clock import FrozenClock
from lobby.core.offers import OfferClosed, OfferKind, offer_json
from lobby.tui.app import LobbyApp
from lobby.tui.store import LastKnown, OfferStore

HANG = 10
MARK = "↻"


async def until(pilot, condition) -> None:
    async with asyncio.timeout(HANG):
        while not condition():
            await pilot.pause(0.02)


def rows(app: LobbyApp, section: str) -> list[str]:
    """The Offer/Match column of one home section, as shown."""
    table = app.screen.query_one(f"#{section} DataTable", DataTable)
    return [table.get_row_at(i)[0 if section == "open" else 1].plain for i in range(table.row_count)]


GONE = open_match("m-gone", "Cancelled since", minutes=50, game="Skyline Strike", region="EU")


def kept(path: Path, profile: str = "bench", where: str | None = None) -> LastKnown:
    """A last-known file of ``profile`` as an earlier session left it: the demo lobby's ticket
    and open matches, and a match the service no longer offers."""
    flex, tb = demo_offers()
    last = LastKnown(path)
    last.save(LastKnown.identity(profile, where), [*(("flexmatch", o) for o in flex), *(("teambattles", o) for o in tb), ("teambattles", GONE)])
    return last


# --- the store ------------------------------------------------------------------------------------


def test_the_store_confirms_last_known_offers_a_listing_names_and_drops_the_rest():
    store = OfferStore(FrozenClock(T0))
    applied = store.remember([("flexmatch", ticket()), ("teambattles", challenge()), ("teambattles", GONE)])
    assert {a.key[1] for a in applied} == {"t-ana", "c-1", "m-gone"}
    assert all(e.refreshing for e in store) and store.refreshing
    assert [e.offer.id for e in store.awaiting()] == ["t-ana", "c-1"]  # shown where they belong

    store.replace("teambattles", [challenge()])
    assert store.get((OfferKind.TEAMBATTLES_MATCH, "m-gone")) is None  # not confirmed: gone
    entry = store.get((OfferKind.TEAMBATTLES_CHALLENGE, "c-1"))
    assert entry is not None and not entry.refreshing and entry.closed is None
    assert store.get((OfferKind.FLEXMATCH_TICKET, "t-ana")).refreshing  # its backend has not answered

    store.clear()  # a profile connecting keeps what waits for its backend's word
    assert [e.offer.id for e in store] == ["t-ana"]
    store.replace("flexmatch", [])
    assert len(store) == 0 and not store.refreshing


def test_a_closing_change_also_ends_a_last_known_offer():
    store = OfferStore(FrozenClock(T0))
    store.remember([("flexmatch", ticket())])
    store.apply(OfferClosed(kind=OfferKind.FLEXMATCH_TICKET, id="t-ana", status="CANCELLED", outcome="Cancelled."), "flexmatch")
    assert store.awaiting() == []


def test_past_deadlines_and_known_offers_are_not_remembered():
    store = OfferStore(FrozenClock(T0))
    store.replace("flexmatch", [ticket(title="live")])
    store.remember([("flexmatch", ticket(title="old")), ("flexmatch", ticket("t-late", seconds=-1))])
    assert [(e.offer.id, e.offer.title, e.refreshing) for e in store] == [("t-ana", "live", False)]


def test_only_open_unanswered_offers_are_kept_for_next_time():
    clock = FrozenClock(T0)
    store = OfferStore(clock)
    flex, tb = demo_offers()
    store.replace("flexmatch", [*flex, ticket("t-done", players=("cy",))])
    store.replace("teambattles", tb)
    store.mark_answered((OfferKind.FLEXMATCH_TICKET, "t-done"), "Accepted.")
    store.apply(OfferClosed(kind=OfferKind.TEAMBATTLES_MATCH, id="m-102", status="CANCELLED", outcome="Cancelled."), "teambattles")
    assert sorted(o.id for _, o in store.last_known()) == ["c-1", "m-101", "m-103", "t-ana"]
    clock.advance(26 * 60)  # past t-ana's 42 s and c-1's 25 min
    assert sorted(o.id for _, o in store.last_known()) == ["m-101", "m-103"]


def test_the_file_belongs_to_one_profile_and_where_it_runs(tmp_path):
    path = tmp_path / "state" / "offers.json"
    last = kept(path, "bench", "http://127.0.0.1:4000")
    assert len(last.load(LastKnown.identity("bench", "http://127.0.0.1:4000"))) == 6
    assert last.load(LastKnown.identity("bench", "http://127.0.0.1:4001")) == []  # restarted elsewhere
    assert last.load(LastKnown.identity("live", None)) == []
    flex, _ = demo_offers()
    last.save(LastKnown.identity("live", None), [("flexmatch", flex[0])])  # another profile's, beside
    assert len(last.load(LastKnown.identity("bench", "http://127.0.0.1:4000"))) == 6
    assert [o for _, o in last.load(LastKnown.identity("live", None))] == flex
    for port in range(LastKnown.KEEP):  # the oldest profiles make room for the newest
        last.save(LastKnown.identity("bench", f"http://127.0.0.1:{port}"), [])
    assert last.load(LastKnown.identity("bench", "http://127.0.0.1:4000")) == []
    path.write_text("{not json")
    assert last.load(LastKnown.identity("bench", "http://127.0.0.1:4000")) == []
    assert LastKnown(tmp_path / "missing.json").load(LastKnown.identity("bench", None)) == []


def test_the_file_is_plain_json_and_every_fact_comes_back_as_written(tmp_path):
    path = tmp_path / "offers.json"
    last = kept(path)
    raw = json.loads(path.read_text())  # no model's dump: plain data, as a person could read it
    items = raw["identities"][LastKnown.identity("bench", None)]
    assert items[0] == {
        "backend": "flexmatch",
        "offer": {
            "kind": "flexmatch-ticket",
            "id": "t-ana",
            "title": "Ranked 5v5 · eu-west",
            "status": "REQUIRES_ACCEPTANCE",
            "deadline": ticket().deadline.isoformat(),
            "players": ["ana", "bo"],
            "progress": [7, 10],
            "facts": {"configuration": "ranked-5v5", "match": "m-1a2b"},
        },
    }
    flex, tb = demo_offers()
    assert [o for _, o in last.load(LastKnown.identity("bench", None))] == [*flex, *tb, GONE]
    # as the console wrote it before (pydantic's JSON): UTC as "Z"
    items[0]["offer"]["deadline"] = ticket().deadline.isoformat().replace("+00:00", "Z")
    path.write_text(json.dumps(raw))
    assert last.load(LastKnown.identity("bench", None))[0] == ("flexmatch", ticket())


def written(path: Path, identities: object, version: object = LastKnown.VERSION) -> None:
    path.write_text(json.dumps({"version": version, "identities": identities}))


def test_a_broken_or_foreign_file_is_left_out_with_a_note_never_a_crash(tmp_path, caplog):
    path = tmp_path / "offers.json"
    who = LastKnown.identity("bench", None)
    last = LastKnown(path)
    for content in ("{not json", "\udcff", "[1, 2]", "null", '{"version": 2}', '{"version": 2, "identities": []}'):
        path.write_text(content, errors="surrogateescape")
        caplog.clear()
        assert last.load(who) == []
        assert "left out" in caplog.text or "not read" in caplog.text, content
    path.write_bytes(b"\xff\xfe not text")
    caplog.clear()
    assert last.load(who) == [] and "not read" in caplog.text
    written(path, {who: [{"backend": "flexmatch", "offer": {"kind": "flexmatch-ticket"}}]}, version=1)
    caplog.clear()
    assert last.load(who) == [] and "not the format of this version (1, expected 2)" in caplog.text
    written(path, {who: {"backend": "flexmatch"}})
    assert last.load(who) == []
    assert LastKnown(tmp_path / "none.json").load(who) == []


def test_an_offer_not_as_written_is_left_out_and_the_others_are_shown(tmp_path, caplog):
    path = tmp_path / "offers.json"
    who = LastKnown.identity("bench", None)
    good = {"backend": "flexmatch", "offer": offer_json(ticket())}
    broken = {
        "a deadline without a time zone": {"deadline": "2026-12-03T14:00:00"},
        "a deadline that is no time": {"deadline": "soon"},
        "a kind lobby does not know": {"kind": "flexmatch-backfill"},
        "a title that is no text": {"title": 7},
        "players that are no names": {"players": "ana"},
        "a progress that is not two counts": {"progress": [1, True]},
        "facts that are not text": {"facts": {"teamSize": 4}},
        "an id missing": {"id": None},
    }
    items = [good, "an offer", {"offer": offer_json(ticket())}]
    items += [{"backend": "flexmatch", "offer": {**offer_json(ticket(f"t-{i}")), **change}} for i, change in enumerate(broken.values())]
    written(path, {who: items})
    caplog.clear()
    assert LastKnown(path).load(who) == [("flexmatch", ticket())]
    assert caplog.text.count("a last-known offer in") == 2 + len(broken)


# --- the console ----------------------------------------------------------------------------------


def gated_app(path: Path, release: asyncio.Event, flex, tb, profile: str = "bench") -> LobbyApp:
    async def connect(name: str):
        await release.wait()
        yield FixedBackend("flexmatch", flex)
        yield FixedBackend("teambattles", tb)

    return LobbyApp(clock=FrozenClock(T0), profile=profile, connect=connect, still=True, last_known=path)


async def test_last_known_offers_show_before_any_backend_answers_marked_and_unconfirmed_ones_go(tmp_path):
    path = tmp_path / "offers.json"
    kept(path)
    release = asyncio.Event()
    flex, tb = demo_offers()
    app = gated_app(path, release, flex, tb)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.backends == [] and app.connecting == "bench"  # nobody has answered
        assert rows(app, "awaiting") == [f"{MARK} Ranked 5v5 · eu-west", f"{MARK} Ember Foxes challenge you"]
        assert f"{MARK} Cancelled since" in rows(app, "open")
        assert all(title.startswith(MARK) for title in rows(app, "open"))

        await pilot.press("enter")  # a last-known offer does not open before it is confirmed
        assert app.screen.__class__.__name__ == "HomeScreen"

        release.set()
        await until(pilot, lambda: app.connecting is None and not app.store.refreshing)
        await until(pilot, lambda: MARK not in "".join(rows(app, "open") + rows(app, "awaiting")))
        assert rows(app, "awaiting") == ["Ranked 5v5 · eu-west", "Ember Foxes challenge you"]
        assert "Cancelled since" not in "".join(rows(app, "open"))  # the service did not confirm it
        assert len(rows(app, "open")) == 3


@pytest.mark.parametrize("before", [None, '{"version": 2, "identities": {'], ids=["no file", "a broken file"])
async def test_the_offers_known_on_leaving_are_kept_for_the_next_start_up(tmp_path, before):
    path = tmp_path / "offers.json"
    if before is not None:  # the console starts all the same, and leaves a good file
        path.write_text(before)
    release = asyncio.Event()
    release.set()
    flex, tb = demo_offers()
    app = gated_app(path, release, flex, tb[:2])
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.connecting is None and not app.following.loading() and len(app.store) == 3)
    again = LastKnown(path).load(LastKnown.identity("bench", None))
    assert sorted((backend, offer.id) for backend, offer in again) == [("flexmatch", "t-ana"), ("teambattles", "c-1"), ("teambattles", "m-101")]
    assert dict((o.id, o) for _, o in again)["m-101"] == tb[1]  # every fact as it was


async def test_another_profile_never_shows_these_offers(tmp_path):
    path = tmp_path / "offers.json"
    kept(path, "bench")
    release = asyncio.Event()
    app = gated_app(path, release, [], [], profile="other")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert len(app.store) == 0 and rows(app, "awaiting") == []
        release.set()


async def test_a_backend_the_profile_no_longer_has_drops_its_last_known_offers(tmp_path):
    path = tmp_path / "offers.json"
    kept(path)
    flex, _ = demo_offers()

    async def connect(name: str):
        yield FixedBackend("flexmatch", flex)  # this profile has no TeamBattles now

    app = LobbyApp(clock=FrozenClock(T0), profile="bench", connect=connect, still=True, last_known=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.connecting is None and not app.following.loading())
        await until(pilot, lambda: not app.store.refreshing)
        assert [e.offer.id for e in app.store] == ["t-ana"]
