"""Every screen usable at 80x24: what answers (buttons, keys), the status line and the countdown
are on screen, and toasts never cover them."""

from __future__ import annotations

from doubles import T0, FixedBackend, FixedTeamBattles, demo_offers, settle
from textual.geometry import Region
from textual.widget import Widget

from lobby.core.clock import FrozenClock
from lobby.core.offers import OfferKind
from lobby.tui.app import LobbyApp
from lobby.tui.screens.confirm import ConfirmScreen
from lobby.tui.screens.help import HelpScreen
from lobby.tui.screens.teambattles import TeamBattlesScreen
from lobby.tui.screens.ticket import TicketScreen

SCREEN = Region(0, 0, 80, 24)
LONG = "The service said something long about this answer, " * 8


def make_app():
    flex, tb = demo_offers()
    app = LobbyApp([FixedBackend("flexmatch", flex), FixedTeamBattles(tb)], clock=FrozenClock(T0), still=True)
    return app


def shown(app, selector: str) -> Widget:
    """The widget, wholly on screen and not scrolled out of view."""
    widget = app.screen.query_one(selector)
    assert widget.display and widget.region, selector
    assert SCREEN.contains_region(widget.region), (selector, widget.region)
    return widget


async def toasts_clear_of(pilot, *selectors: str) -> None:
    """Three long toasts in a row: one shows (the newest) and covers none of ``selectors``."""
    app = pilot.app
    for i in range(3):
        app.notify(f"{i}: {LONG}", title=f"Toast {i}", severity="error", timeout=60, markup=False)
    await pilot.pause()
    await pilot.pause()
    toasts = list(app.screen.query("Toast"))
    assert len(toasts) == 1 and "Toast 2" in str(toasts[0].render())
    for selector in selectors:
        region = shown(app, selector).region
        assert not toasts[0].region.overlaps(region), selector


async def test_every_screen_is_usable_at_80x24():
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        for section in ("#backends", "#awaiting", "#open", "#requests", "Footer"):
            shown(app, section)

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        for part in ("#players", "#countdown", "#outcome", "#accept", "#reject", "Footer"):
            shown(app, part)
        await toasts_clear_of(pilot, "#countdown", "#outcome", "#accept", "#reject")

        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        for part in ("#question", "#confirm-countdown", "#yes", "#no"):
            shown(app, part)
        await pilot.press("n", "f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown(app, "VerticalScroll")
        await pilot.press("escape", "escape")
        await pilot.pause()

        for key in ((OfferKind.TEAMBATTLES_MATCH, "m-101"), (OfferKind.TEAMBATTLES_CHALLENGE, "c-1")):
            app.open_offer(key)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, TeamBattlesScreen)
            await settle(pilot, screen)
            await pilot.press("a", "down", "a")
            await pilot.pause()
            parts = ["#tb-countdown", "#tb-violations", "#submit", "#tb-status", "#roster", "Footer"]
            if key[0] is OfferKind.TEAMBATTLES_CHALLENGE:
                parts.append("#refuse")
            for part in parts:
                shown(app, part)
            await toasts_clear_of(pilot, "#tb-countdown", "#tb-violations", "#submit", "#tb-status")
            app.clear_notifications()
            await pilot.press("escape")
            await pilot.pause()


async def test_a_ticket_keeps_its_answer_controls_clear_of_toasts_at_both_sizes():
    """Reminders of other tickets (a toast each) never cover the players one answers for, the
    countdown, the outcome or the buttons, at 120x40 as at 80x24."""
    from lobby.tui.alerts import Alert

    for size in ((120, 40), (80, 24)):
        app = make_app()
        async with app.run_test(size=size, notifications=True) as pilot:
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, TicketScreen)
            for i in range(3):
                app.alerts.announce(Alert(f"Reminder {i}", f"Ticket t-{i}: 10 s left to answer. {LONG}"))
            await pilot.pause()
            await pilot.pause()
            toasts = list(app.screen.query("Toast"))
            assert len(toasts) == 1 and "Reminder 2" in str(toasts[0].render())
            screen = Region(0, 0, *size)
            for part in ("#players", "#countdown", "#outcome", "#accept", "#reject"):
                region = app.screen.query_one(part).region
                assert screen.contains_region(region), (size, part)
                assert not toasts[0].region.overlaps(region), (size, part)
