"""Pilot tests of the home and FlexMatch answer screens, fed by a fixed in-memory backend.

These check layout-level behaviour (what is shown, what keys do, what the app asks the backend);
tests/tui/test_flows_emulator.py runs the same flows against the real adapters and emulator.
"""

from __future__ import annotations

from datetime import timedelta

from doubles import T0, FixedBackend, demo_offers, focused_on, open_match, settle, text_of, ticket, until
from textual.widgets import Button, DataTable, SelectionList, Static

from lobby.core.clock import FrozenClock
from lobby.core.errors import Conflict, Unavailable
from lobby.core.offers import OfferKind, OfferUpdated
from lobby.tui.app import LobbyApp
from lobby.tui.screens.confirm import ConfirmScreen
from lobby.tui.screens.help import HelpScreen
from lobby.tui.screens.home import HomeScreen
from lobby.tui.screens.ticket import TicketScreen
from lobby.tui.widgets.filter_bar import FilterBar

HOSTILE = "[@click=app.quit]x[/] [b]bold \x1b[31mred"


def make_app(flex=None, tb=None, **kw):
    default_flex, default_tb = demo_offers()
    clock = FrozenClock(T0)
    fm = FixedBackend("flexmatch", default_flex if flex is None else flex)
    tbb = FixedBackend("teambattles", default_tb if tb is None else tb)
    app = LobbyApp([fm, tbb], clock=clock, still=True, **kw)
    return app, fm, tbb, clock


def cells(app, section: str) -> list[list[str]]:
    table = app.screen.query_one(f"#{section} DataTable", DataTable)
    return [[str(getattr(c, "plain", c)) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_home_shows_three_sections_with_countdowns():
    app, *_, clock = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert app.theme == "lobby" and "textual-dark" in app.available_themes
        assert cells(app, "awaiting") == [
            ["Ticket", "Ranked 5v5 · eu-west", "ana, bo", "7/10", "0:42"],
            ["Challenge", "Ember Foxes challenge you", "Night Owls", "-", "25:00"],
        ]
        assert [r[0] for r in cells(app, "open")] == [
            "2v2 duel night", "Friday scrim, EU evening", "Need a 4-stack for ranked practice",
        ]
        clock.advance(10)
        app._tick()
        await pilot.pause()
        assert cells(app, "awaiting")[0][-1] == "0:32"
        clock.advance(40)
        app._tick()
        await pilot.pause()
        assert cells(app, "awaiting")[0][-1] == "expired"


async def test_untrusted_text_is_shown_literally_and_never_acted_on():
    hostile = ticket(title=HOSTILE, players=("[b]ana[/b]", "\x1b]0;pwned\x07bo"))
    app, fm, *_ = make_app(flex=[hostile], tb=[open_match("m-1", HOSTILE, minutes=5, game="[red]g", region="EU")])
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        row = cells(app, "awaiting")[0]
        assert row[1] == "[@click=app.quit]x[/] [b]bold red"
        assert row[2] == "[b]ana[/b], bo"
        await pilot.click("#awaiting DataTable", offset=(30, 1))  # a click on the title is inert
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        head = app.screen.query_one("#ticket-head", Static).render()
        assert "[@click=app.quit]x[/] [b]bold red" in str(head)
        await pilot.click("#ticket-head", offset=(25, 0))
        await pilot.pause()
        assert app.is_running
        await pilot.press("ctrl+p")
        await pilot.press(*"jump")
        await pilot.pause(0.3)
        assert app.is_running


async def test_arrival_alerts_with_a_toast_and_the_bell(monkeypatch):
    app, fm, *_ = make_app(flex=[])
    bells = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-new")))
        await pilot.pause(0.1)
        assert bells == [1]
        assert any("A match was found for ana, bo" in n.message for n in app._notifications)
        assert [r[1] for r in cells(app, "awaiting")][0] == "Ranked 5v5 · eu-west"
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-new", progress=(8, 10))))
        await pilot.pause(0.1)
        assert bells == [1]  # an update is not a new arrival


async def test_the_bell_setting_turns_the_bell_off(monkeypatch):
    from lobby.config_schema import Settings

    app, fm, *_ = make_app(flex=[], settings=Settings(bell=False))
    bells = []
    monkeypatch.setattr(app, "bell", lambda: bells.append(1))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-new")))
        await pilot.pause(0.1)
        assert bells == [] and any("A match was found" in n.message for n in app._notifications)


async def test_accept_for_some_players():
    app, fm, *_ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        players = screen.query_one("#players", SelectionList)
        assert players.selected == ["ana", "bo"]
        await pilot.press("down", "space")  # untick bo
        assert players.selected == ["ana"]
        await pilot.press("a")
        await pilot.pause()
        assert fm.calls == [("accept", "t-ana", ("ana",))]
        outcome = str(screen.query_one("#outcome", Static).render())
        assert "Recorded." in outcome and "ana accepted" in outcome and "Still to answer: bo" in outcome
        # bo stays answerable until the deadline; ana's answer is shown, no longer a choice.
        assert not screen.query_one("#accept", Button).disabled
        assert players.selected == ["bo"] and app.store.get((OfferKind.FLEXMATCH_TICKET, "t-ana")).awaiting
        await pilot.press("a")
        await pilot.pause()
        assert fm.calls == [("accept", "t-ana", ("ana",)), ("accept", "t-ana", ("bo",))]
        assert screen.query_one("#accept", Button).disabled
        await pilot.press("escape")
        await pilot.pause()
        assert cells(app, "requests")[0][:2] == ["Ticket", "Ranked 5v5 · eu-west"]
        assert [r[0] for r in cells(app, "awaiting")] == ["Challenge"]


async def test_reject_asks_first_and_no_keeps_the_offer():
    app, fm, *_ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen) and fm.calls == []
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert fm.calls == [("reject", "t-ana", ("ana", "bo"))]


async def test_a_refused_answer_shows_the_reason_and_keeps_the_choice():
    app, fm, *_ = make_app()
    fm.answer_error = Conflict("The ticket no longer awaits acceptance: the match was cancelled.")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, focused_on(pilot, TicketScreen, "#players"), "the ticket screen")
        await pilot.press("down", "space", "a")
        await settle(pilot, app.screen)  # the answer worker is done: refused
        screen = app.screen
        outcome = str(screen.query_one("#outcome", Static).render())
        assert "The service refused the answer: The ticket no longer awaits acceptance" in outcome
        assert screen.query_one("#players", SelectionList).selected == ["ana"]
        assert not screen.query_one("#accept", Button).disabled  # may try again
        assert any(n.severity == "error" for n in app._notifications)


async def test_at_zero_the_offer_expires_and_answers_are_disabled():
    app, fm, _, clock = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        clock.advance(timedelta(seconds=42))
        app._tick()
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#accept", Button).disabled and screen.query_one("#reject", Button).disabled
        assert "Expired" in str(screen.query_one("#outcome", Static).render())
        await pilot.press("a", "r")
        await pilot.pause()
        assert fm.calls == [] and isinstance(app.screen, TicketScreen)


async def test_a_failing_backend_says_why_and_the_others_still_work():
    app, fm, tb, _ = make_app()
    fm.fail = Unavailable("GameLift at http://127.0.0.1:9 could not be reached.")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert [r[0] for r in cells(app, "awaiting")] == ["Challenge"]
        assert app.status["flexmatch"].health.value == "error"
        assert any("could not be reached" in n.message for n in app._notifications)


async def test_filters_narrow_open_matches():
    app, *_ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        assert app.screen.query_one(FilterBar).has_class("-shown")
        await app.screen.apply_filter("region", "NA")
        await pilot.pause()
        assert [r[0] for r in cells(app, "open")] == ["Need a 4-stack for ranked practice"]
        await app.screen.apply_filter("region", None)
        await pilot.pause()
        assert len(cells(app, "open")) == 3


async def test_palette_jumps_to_an_offer():
    app, *_ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.press(*"to ticket")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen) and app.screen.key == (OfferKind.FLEXMATCH_TICKET, "t-ana")


async def test_keys_are_remappable_by_binding_id():
    app, *_ = make_app(keymap={"lobby.home.filter": "f", "lobby.help": "f2"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f")
        assert app.screen.query_one(FilterBar).has_class("-shown")
        await pilot.press("escape", "f2")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "lobby.home.filter" in text_of(app.screen._text())


async def test_profile_switch_from_the_palette():
    _, new_tb = demo_offers()
    replacement = FixedBackend("teambattles", new_tb[:1])
    app, fm, tb, _ = make_app(profiles=["emulator", "team"], profile="emulator", connect=lambda name: [replacement])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.press(*"switch")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.profile == "team" and fm.closed and tb.closed
        assert app.backends == [replacement]
        assert [r[0] for r in cells(app, "awaiting")] == ["Challenge"]
    assert replacement.closed  # leaving the app closes its backends


async def test_the_reject_question_shows_the_time_left_and_closes_itself_at_the_deadline():
    app, fm, _, clock = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter", "r")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "Left to answer: 0:42" in str(confirm.query_one("#confirm-countdown").render())
        clock.advance(timedelta(seconds=30))
        app._tick()
        await pilot.pause()
        assert "Left to answer: 0:12" in str(confirm.query_one("#confirm-countdown").render())
        clock.advance(timedelta(seconds=12))
        app._tick()
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        assert any("the match was not rejected" in n.message for n in app._notifications)
        await pilot.press("y")
        await pilot.pause()
        assert fm.calls == []


async def test_the_cursor_stays_on_the_first_row_until_the_person_moves_it():
    """Offers that arrive sorted above the others (a backend listing after another, a new
    ticket) leave the cursor on the first row, the most urgent, so Enter answers that one; once
    the person has moved the cursor, it stays on the offer they chose."""
    fm = FixedBackend("flexmatch", [ticket("t-late", seconds=50)])
    app = LobbyApp([fm], clock=FrozenClock(T0), still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#awaiting OfferTable", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-soon", seconds=20)))
        await until(pilot, lambda: table.row_count == 2)
        assert table.cursor_row == 0 and app.screen.query_one("#awaiting").highlighted()[1] == "t-soon"
        table.focus()
        await pilot.press("j")  # the person moves to the second row: t-late
        await until(pilot, lambda: table.cursor_row == 1)
        fm.queue.put_nowait(OfferUpdated(offer=ticket("t-sooner", seconds=10)))
        await until(pilot, lambda: table.row_count == 3)
        assert app.screen.query_one("#awaiting").highlighted()[1] == "t-late" and table.cursor_row == 2
