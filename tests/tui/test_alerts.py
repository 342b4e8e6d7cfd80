"""Nothing missed: a new offer or a decision on my request rings the bell, shows a toast and,
while the terminal window is not focused, asks the terminal for a desktop notification;
reminders at the configured lead times (by the offer's clock); a visual-only mode."""

from __future__ import annotations

import asyncio

from doubles import T0, FixedBackend, MemoryRequestBook, demo_offers, ticket
from textual import events

from lobby.config_schema import Settings
from lobby.core.backend import MyRequest
from lobby.core.clock import FrozenClock
from lobby.core.offers import OfferKind, OfferUpdated
from lobby.tui.alerts import Desktop, chosen, detect, sequence
from lobby.tui.app import LobbyApp

HANG = 10


def make_app(flex=(), *, settings: Settings | None = None, requests: MemoryRequestBook | None = None):
    _, tb = demo_offers()
    fm = FixedBackend("flexmatch", list(flex))
    tbb = FixedBackend("teambattles", tb, requests=requests)
    app = LobbyApp([fm, tbb], clock=FrozenClock(T0), still=True, settings=settings)
    heard: dict[str, list[str]] = {"bell": [], "terminal": []}
    app.bell = lambda: heard["bell"].append("bell")  # type: ignore[method-assign]
    app.write_to_terminal = heard["terminal"].append  # type: ignore[method-assign]
    return app, fm, heard


def toasts(app) -> list[tuple[str, str]]:
    return [(n.title, n.message) for n in app._notifications]


async def until(pilot, condition) -> None:
    async with asyncio.timeout(HANG):
        while not condition():
            await pilot.pause(0.02)


# --- the escape sequences ---------------------------------------------------------------------


def test_a_title_from_the_network_cannot_end_the_sequence_or_start_another():
    hostile = "Ember\x1b]0;pwned\x07 Foxes\x07;\x1b\\\n\x9b31m\tchallenge"
    osc9 = sequence(Desktop.OSC9, "Challenge received", hostile)
    assert osc9.startswith("\x1b]9;Challenge received: Ember") and osc9.endswith("\x07")
    assert osc9.count("\x1b") == 1 and osc9.count("\x07") == 1
    assert "pwned" not in osc9 and "\n" not in osc9 and "\t" not in osc9 and "\x9b" not in osc9
    osc777 = sequence(Desktop.OSC777, "Re;quest\x1b[2J approved", "Night Owls; see the console")
    assert osc777 == "\x1b]777;notify;Re,quest approved;Night Owls; see the console\x1b\\"


def test_inside_tmux_the_sequence_passes_through():
    wrapped = sequence(Desktop.OSC9, "Match found", "ana", tmux=True)
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;Match found: ana\x07\x1b\\"


def test_the_sequence_is_the_one_the_terminal_is_known_to_show():
    assert detect({"TERM_PROGRAM": "iTerm.app"}) is Desktop.OSC9
    assert detect({"TERM": "xterm-kitty"}) is Desktop.OSC9
    assert detect({"TERM_PROGRAM": "WezTerm"}) is Desktop.OSC9
    assert detect({"TERM": "foot"}) is Desktop.OSC777
    assert detect({"TERM_PROGRAM": "ghostty"}) is Desktop.OSC777
    assert detect({"TERM": "xterm-256color"}) is None  # unknown: nothing it might print
    assert chosen("osc777", {}) is Desktop.OSC777
    assert chosen("off", {"TERM_PROGRAM": "iTerm.app"}) is None


# --- new offers and decisions ------------------------------------------------------------------


async def test_a_new_offer_while_the_window_is_not_focused_notifies_the_desktop():
    app, fm, heard = make_app(settings=Settings(desktop_notifications="osc9"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-1")))
        await until(pilot, lambda: heard["bell"])
        assert heard["terminal"] == []  # the window has the focus: the toast and the bell do
        assert ("Match found", "A match was found for ana, bo: Ranked 5v5 · eu-west. 0:42 left to answer.") in toasts(app)

        app.post_message(events.AppBlur())
        await until(pilot, lambda: not app.app_focus)
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-2", players=("cy",))))
        await until(pilot, lambda: heard["terminal"])
        assert heard["bell"] == ["bell", "bell"]
        assert heard["terminal"] == [
            "\x1b]9;Match found: A match was found for cy: Ranked 5v5 · eu-west. 0:42 left to answer.\x07"
        ]

        app.post_message(events.AppFocus())
        await until(pilot, lambda: app.app_focus)
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-3", players=("dee",))))
        await until(pilot, lambda: len(heard["bell"]) == 3)
        assert len(heard["terminal"]) == 1


async def test_a_decision_on_my_request_alerts_like_a_new_offer():
    book = MemoryRequestBook([MyRequest("m-101", "acc-1", "PENDING")])
    app, _, heard = make_app(settings=Settings(desktop_notifications="osc777"), requests=book)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: book.subscribers)
        await pilot.pause()
        app.post_message(events.AppBlur())
        await until(pilot, lambda: not app.app_focus)
        book.record(MyRequest("m-101", "acc-1", "APPROVED", note="See you at eight."))
        await until(pilot, lambda: heard["terminal"])
        assert heard["bell"] == ["bell"]
        title, message = toasts(app)[-1]
        assert title == "Request approved"
        assert message == "Friday scrim, EU evening: your request was approved. See you at eight."
        assert heard["terminal"] == [f"\x1b]777;notify;Request approved;{message}\x1b\\"]


async def test_visual_only_shows_toasts_and_sends_no_bell_and_no_sequence():
    app, fm, heard = make_app(settings=Settings(visual_only=True, desktop_notifications="osc9"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.post_message(events.AppBlur())
        await until(pilot, lambda: not app.app_focus)
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-1")))
        await until(pilot, lambda: any(t == "Match found" for t, _ in toasts(app)))
        app._tick()
        app.clock.advance(12)
        app._tick()
        await pilot.pause()
        assert ("Reminder: 0:30 left", "Ranked 5v5 · eu-west: 0:30 left to answer.") in toasts(app)
        assert heard == {"bell": [], "terminal": []}


# --- reminders ---------------------------------------------------------------------------------


async def test_reminders_come_at_30_and_10_seconds_left_by_the_offers_clock():
    app, fm, heard = make_app([ticket("t-1", seconds=42)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app._tick()
        reminders = lambda: [m for t, m in toasts(app) if t.startswith("Reminder")]  # noqa: E731
        app.clock.advance(11)  # 31 s left: no lead crossed
        app._tick()
        await pilot.pause()
        assert reminders() == []
        app.clock.advance(1)  # 30 s left
        app._tick()
        app.clock.advance(5)
        app._tick()
        await pilot.pause()
        assert reminders() == ["Ranked 5v5 · eu-west: 0:30 left to answer."]
        app.clock.advance(15)  # 10 s left
        app._tick()
        app.clock.advance(11)  # expired: no reminder of an offer that is over
        app._tick()
        await pilot.pause()
        assert reminders() == ["Ranked 5v5 · eu-west: 0:30 left to answer.", "Ranked 5v5 · eu-west: 0:10 left to answer."]
        assert heard["bell"] == ["bell", "bell"]


async def test_an_offer_that_arrives_late_is_reminded_only_of_the_leads_still_ahead():
    app, fm, heard = make_app(settings=Settings(reminders=[45, 5]))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-1", seconds=20)))
        await until(pilot, lambda: heard["bell"])
        app._tick()
        app.clock.advance(15)
        app._tick()
        await pilot.pause()
        assert [t for t, _ in toasts(app)] == ["Match found", "Reminder: 0:05 left"]


async def test_an_answered_offer_is_not_reminded_of():
    app, fm, heard = make_app([ticket("t-1", seconds=42)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app._tick()
        await pilot.press("enter", "a")
        await until(pilot, lambda: fm.calls)
        app.clock.advance(20)
        app._tick()
        await pilot.pause()
        assert not [t for t, _ in toasts(app) if t.startswith("Reminder")]


async def test_an_offer_of_an_earlier_session_is_not_reminded_of_until_a_backend_confirms_it():
    app, fm, heard = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.store.remember([("flexmatch", ticket("t-old", seconds=42))])
        app._tick()
        app.clock.advance(12)
        app._tick()
        await pilot.pause()
        assert not [t for t, _ in toasts(app) if t.startswith("Reminder")]
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-old", seconds=42)))  # confirmed, 30 s left
        await until(pilot, lambda: not app.store.get((OfferKind.FLEXMATCH_TICKET, "t-old")).refreshing)
        app._tick()
        app.clock.advance(20)
        app._tick()
        await pilot.pause()
        assert [t for t, _ in toasts(app) if t.startswith("Reminder")] == ["Reminder: 0:10 left"]
