"""What a backend declares in its Capabilities reaches the console: my requests pushed by its
RequestBook (read once at connect, never polled), and its feed's state in the status line."""

from __future__ import annotations

import asyncio

from doubles import T0, FixedBackend, MemoryRequestBook, demo_offers, open_match, until
from textual.widgets import DataTable

from lobby.core.backend import FeedState, MyRequest
from lobby.core.clock import FrozenClock
from lobby.core.offers import OfferKind
from lobby.tui.app import LobbyApp
from lobby.tui.messages import Health

MATCH = (OfferKind.TEAMBATTLES_MATCH, "m-101")


def request_rows(app) -> list[list[str]]:
    table = app.screen.query_one("#requests DataTable", DataTable)
    return [[str(getattr(c, "plain", c)) for c in table.get_row_at(i)] for i in range(table.row_count)]


def pending(match_id: str, acceptance_id: str = "acc-1", **kw: str) -> MyRequest:
    return MyRequest(match_id=match_id, acceptance_id=acceptance_id, status=kw.pop("status", "PENDING"), **kw)


async def test_requests_known_at_connect_show_once_and_pushed_changes_follow_without_polling():
    _, tb = demo_offers()
    book = MemoryRequestBook([pending("m-101"), pending("m-gone", "acc-2", status="DECLINED", note="Full.")])
    backend = FixedBackend("teambattles", tb, requests=book)
    app = LobbyApp([backend], clock=FrozenClock(T0), still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.store.get(MATCH) is not None and app.store.get(MATCH).request is not None)
        await pilot.pause()
        rows = request_rows(app)
        assert ["Match", "Friday scrim, EU evening", "pending: waiting for the creator's answer"] in [r[:3] for r in rows]
        assert ["Match", "Match m-gone", "declined: Full."] in [r[:3] for r in rows]
        assert book.subscribers == 1

        async def approve() -> None:  # the book changes on another task of the loop
            book.record(pending("m-101", status="APPROVED", note="Approved: the match is PENDING."))

        await asyncio.create_task(approve())
        await until(pilot, lambda: app.store.get(MATCH).request.status == "APPROVED")
        await pilot.pause()
        assert "approved: Approved: the match is PENDING." in [r[2] for r in request_rows(app)]

        for _ in range(10):  # ticks never read the book again
            app._tick()
        await pilot.pause()
        assert book.reads == 1


async def test_an_answer_recorded_by_the_backend_is_pushed_to_my_requests():
    book = MemoryRequestBook()
    backend = FixedBackend(
        "teambattles", [open_match("m-9", "Scrim", minutes=30, game="Skyline Strike", region="EU")], requests=book
    )
    app = LobbyApp([backend], clock=FrozenClock(T0), still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.store.open_matches())
        key = (OfferKind.TEAMBATTLES_MATCH, "m-9")
        await backend.accept("m-9", None)  # what the form's answer does, through the backend
        app.answered(key, "Sent.")
        await until(pilot, lambda: app.store.get(key).request is not None)
        assert app.store.get(key).request == pending("m-9", "acc-m-9")
        assert [e.offer.id for e in app.store.my_requests()] == ["m-9"]


async def test_leaving_a_profile_stops_following_its_requests():
    _, tb = demo_offers()
    old_book = MemoryRequestBook([pending("m-101")])
    replacement = FixedBackend("teambattles", tb[:1])
    app = LobbyApp(
        [FixedBackend("teambattles", tb, requests=old_book)],
        clock=FrozenClock(T0),
        profile="one",
        profiles=["one", "two"],
        connect=lambda name: [replacement],
        still=True,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: old_book.subscribers == 1)
        await app.switch_profile("two").wait()
        await pilot.pause()
        assert old_book.subscribers == 0 and app.backends == [replacement]
        old_book.record(pending("m-101", status="APPROVED"))  # the old profile's: not shown
        await pilot.pause()
        assert app.store.my_requests() == []


async def test_the_status_line_follows_the_feed_state():
    _, tb = demo_offers()
    backend = FixedBackend("teambattles", tb, feed=FeedState.LIVE)
    app = LobbyApp([backend], clock=FrozenClock(T0), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.status.get("teambattles") and app.status["teambattles"].health is Health.LIVE)
        backend.feed = FeedState.RECONNECTING
        app._tick()
        assert app.status["teambattles"].health is Health.RECONNECTING
        backend.feed = FeedState.LIVE
        app._tick()
        assert app.status["teambattles"].health is Health.LIVE


async def test_a_backend_without_a_feed_keeps_its_health():
    _, tb = demo_offers()
    backend = FixedBackend("teambattles", tb)
    app = LobbyApp([backend], clock=FrozenClock(T0), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.status.get("teambattles") and app.status["teambattles"].health is Health.LIVE)
        app._tick()
        assert app.status["teambattles"].health is Health.LIVE
