"""Start-up with the early listing: the offers a helper process listed arrive over a pipe and
show live, unmarked, before any backend of the console is connected; each backend's own listing
takes over; the start-up probe and the last-known offers count them as live data.

The early listing is the console's real one (lobby.cli.early.EarlyListing) over a real pipe;
its "helper" is a real child process that would sleep, written for by the test as the helper
writes (one JSON line per backend, then done)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from doubles import HANG, T0, FixedBackend, challenge, demo_offers, ticket, until
from test_last_known import MARK, kept, rows

from lobby.cli.early import DONE, EarlyListing
from lobby.core.clock import FrozenClock
from lobby.core.offers import Offer, OfferKind, offer_json
from lobby.tui.app import LobbyApp
from lobby.tui.messages import Health
from lobby.tui.probe import FIRST_PAINT_ENV
from lobby.tui.store import LastKnown
from lobby.tui.switching import Served

TICKET = (OfferKind.FLEXMATCH_TICKET, "t-ana")
FLEX, TB = demo_offers()


class Helper:
    """The helper's side: a child process at work, and its end of the pipe the console reads
    (made as lobby.cli.early.start_early_listing makes it: the console's end non-blocking)."""

    def __init__(self, profile: str = "bench") -> None:
        self.process = subprocess.Popen(["sleep", "30"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        read, self._write = os.pipe()
        os.set_blocking(read, False)
        self.early = EarlyListing(profile, self.process.pid, read)

    def line(self, item: dict[str, object]) -> None:
        """One line; none once the console has closed its end (the helper then ends)."""
        data = (json.dumps(item, separators=(",", ":")) + "\n").encode()
        if self._write < 0:
            return
        try:
            while data:
                data = data[os.write(self._write, data) :]
        except BrokenPipeError:
            self.end()

    def listed(self, backend: str, offers: list[Offer]) -> None:
        """``backend``'s offers, with the skew that makes the service's time T0 now."""
        skew = T0.timestamp() - time.time()
        self.line({"backend": backend, "offers": [offer_json(o) for o in offers], "skew": skew})

    def failed(self, backend: str) -> None:
        self.line({"backend": backend, "failed": True})

    def done(self) -> None:
        """The last line; the helper ends."""
        self.line({DONE: True})
        self.end()

    def end(self) -> None:
        if self._write >= 0:
            os.close(self._write)
            self._write = -1

    def reaped(self) -> bool:
        try:
            os.waitpid(self.process.pid, os.WNOHANG)
        except ChildProcessError:
            return True
        return False

    def close(self) -> None:
        self.end()
        self.early.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def helper() -> Iterator[Helper]:
    made = Helper()
    yield made
    made.close()


def held_app(
    helper: Helper,
    flex: list[Offer] = FLEX,
    tb: list[Offer] = TB,
    *,
    clocks: dict[str, FrozenClock] | None = None,
    last_known: Path | None = None,
    profile: str = "bench",
) -> tuple[LobbyApp, asyncio.Event]:
    """The console connecting ``profile`` with the early listing, and the event that lets it build
    its backends once set (with the service clocks of ``clocks``, by name)."""
    clocks = clocks or {}

    async def connect(name: str):
        await release.wait()
        for backend in (FixedBackend("flexmatch", flex), FixedBackend("teambattles", tb)):
            clock = clocks.get(backend.name)
            yield backend if clock is None else Served(backend, clock)

    release = asyncio.Event()
    app = LobbyApp(clock=FrozenClock(T0), profile=profile, connect=connect, still=True, last_known=last_known, early=helper.early)
    return app, release


def shown(app: LobbyApp) -> str:
    return "\n".join(rows(app, "awaiting") + rows(app, "open"))


async def test_the_early_offers_show_live_and_unmarked_before_any_backend_connects(helper):
    app, release = held_app(helper)
    async with app.run_test(size=(120, 40)) as pilot:
        helper.listed("flexmatch", FLEX)
        await until(pilot, lambda: "Ranked 5v5 · eu-west" in rows(app, "awaiting"), "FlexMatch's early offers")
        assert app.backends == [] and app.connecting == "bench"
        assert not app.live_data_shown()  # TeamBattles not listed yet

        helper.listed("teambattles", TB)
        helper.done()
        await until(pilot, lambda: app.live_data_shown(), "the early listing to be live")
        await until(pilot, lambda: len(rows(app, "open")) == 3, "TeamBattles' early offers")
        assert app.backends == [] and app.connecting == "bench"  # still no backend connected
        assert rows(app, "awaiting") == ["Ranked 5v5 · eu-west", "Ember Foxes challenge you"]
        assert MARK not in shown(app)
        assert all(e.refreshing and e.confirmed and not e.unconfirmed for e in app.store)
        assert helper.reaped()  # the listing is over: the helper was stopped and reaped

        release.set()
        await until(pilot, lambda: app.connecting is None and not app.store.refreshing, "the backends' own listings")
        assert app.live_data_shown()
        assert len(app.store) == 5


async def test_early_offers_confirm_the_last_known_ones_and_drop_the_rest(helper, tmp_path):
    path = tmp_path / "offers.json"
    kept(path)  # the demo lobby's offers, and "Cancelled since", which the service no longer offers
    app, release = held_app(helper, last_known=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: f"{MARK} Cancelled since" in rows(app, "open"), "the last-known offers")
        assert not app.live_data_shown()
        helper.listed("flexmatch", FLEX)
        helper.listed("teambattles", TB)
        helper.done()
        await until(pilot, lambda: MARK not in shown(app), "the marks to go")
        assert "Cancelled since" not in shown(app)
        assert len(rows(app, "open")) == 3 and app.backends == []
        assert app.live_data_shown()
        release.set()


async def test_with_a_failed_backend_the_data_is_not_live_until_the_backends_connect(helper, tmp_path):
    path = tmp_path / "offers.json"
    kept(path)
    app, release = held_app(helper, last_known=path)
    async with app.run_test(size=(120, 40)) as pilot:
        helper.listed("flexmatch", FLEX)
        helper.failed("teambattles")
        helper.done()
        await until(pilot, lambda: helper.early.finished and rows(app, "awaiting")[0] == "Ranked 5v5 · eu-west", "the listing")
        assert rows(app, "awaiting")[0] == "Ranked 5v5 · eu-west"  # FlexMatch's: live
        assert f"{MARK} Ember Foxes challenge you" in rows(app, "awaiting")  # TeamBattles': still marked
        assert not app.live_data_shown()
        release.set()
        await until(pilot, lambda: app.connecting is None and not app.following.loading(), "the backends")
        assert app.live_data_shown()
        await until(pilot, lambda: MARK not in shown(app), "the marks to go")


async def test_without_any_last_known_offer_a_failed_backend_still_is_not_live(helper):
    app, release = held_app(helper)
    async with app.run_test(size=(120, 40)) as pilot:
        helper.failed("teambattles")
        helper.listed("flexmatch", FLEX)
        helper.done()
        await until(pilot, lambda: helper.early.finished and app.store.awaiting(), "the listing")
        assert not app.live_data_shown()
        release.set()
        await until(pilot, lambda: app.live_data_shown(), "the backends")


async def test_each_backends_own_listing_takes_over_with_its_clock(helper):
    services = {"flexmatch": FrozenClock(T0 + timedelta(seconds=2)), "teambattles": FrozenClock(T0 + timedelta(seconds=3))}
    newer = dataclasses.replace(FLEX[0], progress=(9, 10))
    app, release = held_app(helper, [newer], TB[:2], clocks=services)
    async with app.run_test(size=(120, 40)) as pilot:
        helper.listed("flexmatch", FLEX)
        helper.listed("teambattles", TB)
        helper.done()
        await until(pilot, lambda: len(app.store) == 5 and app.live_data_shown(), "the early listing")
        early = app.store.get(TICKET)
        assert early.clock is not services["flexmatch"] and early.offer.progress == (7, 10)
        release.set()
        await until(pilot, lambda: app.connecting is None and not app.following.loading(), "the backends")
        await until(pilot, lambda: not app.store.refreshing, "the early entries to be taken over")
        for entry in app.store:
            assert not entry.refreshing and not entry.confirmed
            assert entry.clock is services[entry.backend]
        assert app.store.get(TICKET).offer.progress == (9, 10)
        assert app.store.get(TICKET).offer.time_left(app.store.get(TICKET).clock) == timedelta(seconds=40)
        # The early listing's open matches the backend does not list go away.
        assert sorted(e.offer.id for e in app.store.open_matches()) == ["m-101"]
        assert app.store.get((OfferKind.TEAMBATTLES_MATCH, "m-102")) is None


async def test_an_early_listing_of_another_profile_is_closed_and_ignored():
    helper = Helper("other")
    try:
        helper.listed("flexmatch", [ticket()])
        helper.done()
        app, release = held_app(helper, [], [])
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: helper.early.finished, "the early listing to be closed")
            assert helper.reaped()
            for _ in range(5):
                await pilot.pause()
            assert len(app.store) == 0 and rows(app, "awaiting") == []
            assert not app.live_data_shown()
            release.set()
            await until(pilot, lambda: app.connecting is None and not app.following.loading(), "the backends")
            assert len(app.store) == 0
    finally:
        helper.close()


async def test_a_backend_that_has_listed_wins_over_an_early_listing_arriving_later(helper):
    release, next_one = asyncio.Event(), asyncio.Event()
    release.set()
    listed = dataclasses.replace(FLEX[0], progress=(8, 10))

    async def connect(name: str):
        yield FixedBackend("flexmatch", [listed])
        await next_one.wait()
        yield FixedBackend("teambattles", TB)

    app = LobbyApp(clock=FrozenClock(T0), profile="bench", connect=connect, still=True, early=helper.early)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.following.health("flexmatch", Health.LOADING) is Health.LIVE, "FlexMatch's listing")
        assert app.connecting == "bench"  # TeamBattles is still being connected
        helper.listed("flexmatch", [FLEX[0], ticket("t-early")])
        helper.listed("teambattles", TB)
        helper.done()
        await until(pilot, lambda: helper.early.finished and len(rows(app, "open")) == 3, "the early listing")
        entry = app.store.get(TICKET)
        assert entry.offer == listed and not entry.refreshing and not entry.confirmed
        assert app.store.get((OfferKind.FLEXMATCH_TICKET, "t-early")) is None
        assert app.store.get((OfferKind.TEAMBATTLES_CHALLENGE, "c-1")).confirmed  # not connected yet
        next_one.set()
        await until(pilot, lambda: app.connecting is None and not app.store.refreshing, "TeamBattles")


async def test_the_probe_marks_loaded_on_the_early_listing_before_the_backends_connect(helper, tmp_path, monkeypatch):
    probe = tmp_path / "first-paint"
    monkeypatch.setenv(FIRST_PAINT_ENV, str(probe))
    app, release = held_app(helper)  # no backend connects until release is set
    async with app.run_test(size=(80, 24)) as pilot:
        helper.listed("flexmatch", FLEX)
        await until(pilot, lambda: probe.exists(), "the rows mark")
        helper.listed("teambattles", TB)
        helper.done()
        await until(pilot, lambda: "loaded" in probe.read_text(), "the loaded mark")
        assert app.backends == [] and "connected" not in probe.read_text()
        release.set()  # then "connected", once the backends have listed themselves, and the app exits
        await until(pilot, lambda: "connected" in probe.read_text(), "the connected mark")
    assert [line.split()[0] for line in probe.read_text().splitlines()] == ["rows", "loaded", "connected"]
    assert app.return_code == 0


async def test_an_early_offer_opens_once_its_backend_is_connected(helper):
    app, release = held_app(helper)
    async with app.run_test(size=(120, 40)) as pilot:
        helper.listed("flexmatch", FLEX)
        helper.done()
        await until(pilot, lambda: rows(app, "awaiting") == ["Ranked 5v5 · eu-west"], "the early offer")
        await pilot.press("enter")
        said = "Ranked 5v5 · eu-west is offered: it opens once FlexMatch is connected."
        await until(pilot, lambda: any(said == str(n.message) for n in app._notifications), "the notification")
        assert app.screen.__class__.__name__ == "HomeScreen"
        release.set()
        await until(pilot, lambda: app.connecting is None and not app.store.refreshing, "the backends")
        app.open_offer(TICKET)
        await until(pilot, lambda: app.screen.__class__.__name__ == "TicketScreen", "the ticket's screen")


@pytest.mark.parametrize("complete", [True, False], ids=["listed", "a backend failed"])
async def test_the_offers_of_the_early_listing_are_kept_on_leaving(helper, tmp_path, complete):
    path = tmp_path / "offers.json"
    app, release = held_app(helper, last_known=path)  # release never set: the console leaves before any backend connects
    async with app.run_test(size=(120, 40)) as pilot:
        helper.listed("flexmatch", FLEX)
        if complete:
            helper.listed("teambattles", TB)
        else:
            helper.failed("teambattles")
        helper.done()
        await until(pilot, lambda: helper.early.finished and app.store.awaiting(), "the early listing")
        assert app.live_data_shown() is complete
    if not complete:  # not every backend listed: nothing live to keep
        assert not path.exists()
        return
    again = LastKnown(path).load(LastKnown.identity("bench", None))
    assert sorted((backend, offer.id) for backend, offer in again) == [
        ("flexmatch", "t-ana"),
        ("teambattles", "c-1"),
        ("teambattles", "m-101"),
        ("teambattles", "m-102"),
        ("teambattles", "m-103"),
    ]
    assert dict((o.id, o) for _, o in again)["c-1"] == challenge()




async def test_a_skew_that_is_no_time_leaves_that_backend_out_and_the_listing_not_live(helper):
    app, release = held_app(helper)
    async with app.run_test(size=(120, 40)) as pilot:
        helper.line({"backend": "flexmatch", "offers": [offer_json(o) for o in FLEX], "skew": float("inf")})
        helper.listed("teambattles", TB)
        helper.done()
        await until(pilot, lambda: helper.early.finished, "the early listing")
        await pilot.pause()
        try:
            assert len(rows(app, "open")) == 3  # TeamBattles' are shown
            assert app.store.get(TICKET) is None and not app.live_data_shown()
        finally:
            release.set()
            await until(pilot, lambda: app.connecting is None, "the backends")

@pytest.mark.parametrize("late", [False, True], ids=["listed before the settings", "listed after them"])
@pytest.mark.parametrize("last_known", [False, True], ids=["nothing kept", "last-known offers kept"])
async def test_the_early_listing_of_a_profile_the_first_look_got_wrong_is_dropped(helper, tmp_path, last_known, late):
    """The first look said "bench" (the helper lists bench), the validated settings say
    "other": bench's offers are not shown as other's, nor counted as live data."""
    from test_settings_later import write_config

    from lobby.config import FirstLook
    from lobby.config_schema import Settings

    write_config('profile = "other"\n[profiles.bench]\nkind = "emulator"\n[profiles.other]\nkind = "emulator"\n')
    release, go_on = threading.Event(), asyncio.Event()

    def load() -> Settings:
        release.wait(HANG)
        return Settings.load()

    async def connect(name: str):
        await go_on.wait()
        yield FixedBackend("teambattles", [])

    app = LobbyApp(
        clock=FrozenClock(T0),
        first_look=FirstLook(profile="bench"),
        load_settings=load,
        connect=connect,
        last_known=tmp_path / "offers.json" if last_known else None,
        still=True,
        early=helper.early,
    )

    def listing() -> None:
        helper.listed("flexmatch", FLEX)
        helper.listed("teambattles", TB)
        helper.done()

    if not late:
        listing()
    async with app.run_test(size=(80, 24)) as pilot:
        if not late:
            await until(pilot, lambda: helper.early.finished and len(app.store) == 5, "bench's early listing")
        release.set()
        await until(pilot, lambda: app.settings is not None and app.connecting == "other", "the settings")
        if late:
            listing()
            await until(pilot, lambda: helper.early.finished, "bench's early listing")
        await pilot.pause()
        try:
            assert [e.offer.id for e in app.store] == []
            assert not app.live_data_shown()  # nothing of other's is listed yet
        finally:
            go_on.set()
            await until(pilot, lambda: app.connecting is None, "other's backends")


async def test_validating_the_settings_waits_for_the_early_listing_to_be_shown(helper, monkeypatch):
    from test_settings_later import write_config

    import lobby.tui.app
    from lobby.config import FirstLook
    from lobby.config_schema import Settings

    monkeypatch.setattr(lobby.tui.app, "EARLY_WAIT", 10 * HANG)  # no time limit within the test
    write_config('profile = "bench"\n[profiles.bench]\nkind = "emulator"\n')
    shown_when_loaded: list[int] = []
    go_on = asyncio.Event()

    def load() -> Settings:
        shown_when_loaded.append(len(app.store))
        return Settings.load()

    async def connect(name: str):
        await go_on.wait()
        yield FixedBackend("teambattles", TB)

    app = LobbyApp(
        clock=FrozenClock(T0),
        first_look=FirstLook(profile="bench"),
        load_settings=load,
        connect=connect,
        still=True,
        early=helper.early,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        helper.listed("flexmatch", FLEX)
        await until(pilot, lambda: app.store.awaiting(), "FlexMatch's early offers")
        for _ in range(10):  # the first frames are long painted: the settings still wait
            await pilot.pause()
        assert shown_when_loaded == [] and app.settings is None
        helper.listed("teambattles", TB)
        helper.done()
        await until(pilot, lambda: app.settings is not None, "the settings")
        assert shown_when_loaded == [5]  # every early offer was in the store first
        go_on.set()
        await until(pilot, lambda: app.connecting is None, "the backends")


async def test_offers_of_a_backend_that_then_fails_to_list_are_last_known_again(helper):
    """The early listing showed FlexMatch's offers; the console's own FlexMatch cannot list:
    they are marked again (known from a listing, not followed)."""
    from lobby.cli.profiles import FailedBackend
    from lobby.core.errors import Unavailable

    async def connect(name: str):
        await release.wait()
        yield FailedBackend("flexmatch", Unavailable("FlexMatch is down."))
        yield FixedBackend("teambattles", TB)

    release = asyncio.Event()
    app = LobbyApp(clock=FrozenClock(T0), profile="bench", connect=connect, still=True, early=helper.early)
    async with app.run_test(size=(120, 40)) as pilot:
        helper.listed("flexmatch", FLEX)
        helper.listed("teambattles", TB)
        helper.done()
        await until(pilot, lambda: app.live_data_shown() and rows(app, "awaiting"), "the early listing")
        assert not any(MARK in row for row in rows(app, "awaiting"))
        release.set()
        await until(pilot, lambda: app.status.get("flexmatch") is not None and app.connecting is None, "the backends")
        await until(pilot, lambda: any(MARK in row for row in rows(app, "awaiting")), "the mark")
        flex = [e for e in app.store if e.backend == "flexmatch"]
        assert flex and all(e.unconfirmed for e in flex)
        assert app.status["flexmatch"].health is Health.ERROR
        assert all(not e.refreshing for e in app.store if e.backend == "teambattles")
