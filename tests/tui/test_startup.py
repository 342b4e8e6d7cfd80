"""Start-up: the console paints before its backends exist, takes them one by one as each is
ready, and (for tests/bench) marks its first paints with data."""

from __future__ import annotations

import asyncio

from doubles import T0, FixedBackend, demo_offers, text_of
from textual.widgets import Static

import lobby.cli
import lobby.cli.app
import lobby.cli.profiles
from lobby.core.clock import FrozenClock
from lobby.core.errors import Unavailable
from lobby.tui import switching
from lobby.tui.app import LobbyApp
from lobby.tui.probe import FIRST_PAINT_ENV
from lobby.tui.messages import Health
from lobby.tui.widgets.backend_bar import BackendBar

HANG = 10


async def until(pilot, condition) -> None:
    async with asyncio.timeout(HANG):
        while not condition():
            await pilot.pause(0.02)


def placeholder(app, section: str) -> str:
    return text_of(app.screen.query_one(f"#{section} .placeholder", Static).render())


def bar(app) -> str:
    return text_of(app.screen.query_one(BackendBar).render())


def streaming_app(connect) -> LobbyApp:
    return LobbyApp(clock=FrozenClock(T0), profile="bench", connect=connect, still=True)


async def test_the_console_paints_connecting_before_any_backend_exists():
    release = asyncio.Event()
    flex, tb = demo_offers()

    async def connect(profile: str):
        await release.wait()
        yield FixedBackend("teambattles", tb)

    app = streaming_app(connect)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.connecting == "bench" and app.backends == []
        assert "Connecting to profile bench" in placeholder(app, "awaiting")
        assert "connecting to profile bench" in bar(app)
        assert "No backend" not in bar(app) + placeholder(app, "open")
        release.set()
        await until(pilot, lambda: app.connecting is None and app.store.open_matches())
        # The bar repaints from a message posted when the connection ended: wait for it.
        await until(pilot, lambda: "connecting" not in bar(app))
        assert "TeamBattles live" in bar(app)


async def test_backends_come_one_at_a_time_and_keep_their_order():
    flex, tb = demo_offers()
    seen_when_asked: list[object] = []

    async def connect(profile: str):
        yield FixedBackend("teambattles", tb)
        seen_when_asked.append(app.status["teambattles"].health)  # asked for the next one now
        yield FixedBackend("flexmatch", flex)

    app = streaming_app(connect)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connecting is None and len(app.status) == 2)
        await until(pilot, lambda: all(s.health is Health.LIVE for s in app.status.values()))
        assert seen_when_asked == [Health.LIVE]  # the next one was built once the first had loaded
        assert [b.name for b in app.backends] == ["flexmatch", "teambattles"]
        assert bar(app).index("FlexMatch") < bar(app).index("TeamBattles")


async def test_a_slow_backend_does_not_hold_back_the_next(monkeypatch):
    monkeypatch.setattr(switching, "NEXT_BACKEND_AFTER", 0.05)
    flex, _ = demo_offers()

    async def connect(profile: str):
        yield FixedBackend("teambattles", hang=True)
        yield FixedBackend("flexmatch", flex)

    app = streaming_app(connect)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.store.awaiting())
        assert app.status["teambattles"].health is Health.LOADING


async def test_a_failure_after_the_first_backend_keeps_it():
    _, tb = demo_offers()

    async def connect(profile: str):
        yield FixedBackend("teambattles", tb)
        raise Unavailable("The FlexMatch adapter could not be loaded.")

    app = streaming_app(connect)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connecting is None)
        # notify() posts a message: the notification is listed once the app has handled it.
        await until(pilot, lambda: any("could not be loaded" in str(n.message) for n in app._notifications))
        assert [b.name for b in app.backends] == ["teambattles"]


async def test_an_unknown_profile_keeps_the_current_backends():
    app = LobbyApp(
        [FixedBackend("teambattles", demo_offers()[1])],
        clock=FrozenClock(T0),
        profile="emulator",
        profiles=["emulator", "nope"],
        connect=lambda name: lobby.cli.profiles.stream_profile(_settings(), name),
        still=True,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.switch_profile("nope").wait()
        await pilot.pause()
        assert app.profile == "emulator" and [b.name for b in app.backends] == ["teambattles"]
        assert app.connecting is None
        assert any("no profile named 'nope'" in str(n.message) for n in app._notifications)


def _settings():
    from lobby.config_schema import Settings

    return Settings.load()


async def test_the_first_paint_probe_marks_rows_loaded_then_connected_and_exits(tmp_path, monkeypatch):
    probe = tmp_path / "first-paint"
    monkeypatch.setenv(FIRST_PAINT_ENV, str(probe))
    flex, tb = demo_offers()

    async def connect(profile: str):
        yield FixedBackend("teambattles", tb)
        yield FixedBackend("flexmatch", flex)

    app = streaming_app(connect)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: probe.exists() and "connected" in probe.read_text())
    marks = [line.split() for line in probe.read_text().splitlines()]
    assert [m[0] for m in marks] == ["rows", "loaded", "connected"]
    assert all(len(m) == 3 and float(m[1]) > 0 and float(m[2]) > 0 for m in marks)
    assert app.return_code == 0


async def test_without_the_probe_nothing_is_written_and_the_app_stays(tmp_path, monkeypatch):
    monkeypatch.delenv(FIRST_PAINT_ENV, raising=False)
    app = LobbyApp([FixedBackend("teambattles", demo_offers()[1])], clock=FrozenClock(T0), still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.store.open_matches())
        await pilot.pause()
        assert app.is_running


def test_lobby_alone_opens_the_console_without_loading_the_sub_commands(monkeypatch):
    opened = []
    monkeypatch.setattr(lobby.cli.app, "run_app", lambda args: opened.append(args) or 0)

    def no_parser():
        raise AssertionError("the sub-commands were loaded")

    monkeypatch.setattr(lobby.cli, "build_parser", no_parser)
    assert lobby.cli.main([]) == 0
    assert len(opened) == 1 and opened[0].command is None


async def test_the_home_rebuilds_its_footer_keys_only_when_they_change():
    """A binding refresh that changes no key keeps the footer's key widgets; a focused table
    of offers adds its Enter key."""
    from textual.widgets._footer import FooterKey

    flex, tb = demo_offers()
    app = LobbyApp([FixedBackend("flexmatch", flex), FixedBackend("teambattles", tb)], clock=FrozenClock(T0), still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: not app.following.loading() and app.screen.query(FooterKey))
        await pilot.pause()
        keys = list(app.screen.query(FooterKey))
        assert "Answer" in [key.description for key in keys]  # a table of offers has the focus
        for _ in range(3):
            app.screen.refresh_bindings()
            await pilot.pause()
        assert list(app.screen.query(FooterKey)) == keys
        app.screen.set_focus(None)  # no table: no Enter key
        await until(pilot, lambda: "Answer" not in [key.description for key in app.screen.query(FooterKey)])
        assert all(key not in keys for key in app.screen.query(FooterKey))


async def test_the_home_writes_only_the_cells_that_look_different(monkeypatch):
    """Each cell written makes a table render all of its cells again: a refresh that changes
    nothing writes none, and a second passing writes only the countdowns."""
    from lobby.tui.widgets.tables import OfferTable

    written: list[object] = []
    original = OfferTable.update_cell

    def update_cell(self, row_key, column_key, value, *, update_width=False):
        written.append(column_key)
        return original(self, row_key, column_key, value, update_width=update_width)

    monkeypatch.setattr(OfferTable, "update_cell", update_cell)
    clock = FrozenClock(T0)
    flex, tb = demo_offers()
    app = LobbyApp([FixedBackend("flexmatch", flex), FixedBackend("teambattles", tb)], clock=clock, still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: not app.following.loading() and len(app.store) == 5)
        await pilot.pause()
        written.clear()
        app.screen.refresh_sections()
        app.screen._tick()
        assert written == []
        clock.advance(1)
        app.screen._tick()
        assert written and set(written) == {"left"}
        assert len(written) == sum(1 for e in app.store if e.offer.deadline is not None)
