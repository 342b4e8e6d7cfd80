"""Pictures of every screen and state that matters, at 80x24 and 120x40.

Deterministic: a frozen clock, a fixed in-memory backend, animation off, no blinking cursors.
Review the SVGs under __snapshots__ when they change (see docs on snapshot review).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from doubles import T0, FixedBackend, FixedTeamBattles, demo_offers, focused_on, settle, text_of, until

from lobby.core.clock import FrozenClock
from lobby.core.errors import Unavailable
from lobby.core.offers import OfferClosed, OfferKind
from lobby.tui.app import LobbyApp

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


def lobby(flex=None, tb=None, *, fail=None, hang=False, notice=None):
    default_flex, default_tb = demo_offers()
    fm = FixedBackend("flexmatch", default_flex if flex is None else flex, fail=fail, hang=hang)
    tbb = FixedTeamBattles(default_tb if tb is None else tb, hang=hang, notice=notice)
    app = LobbyApp([fm, tbb], clock=FrozenClock(T0), profile="emulator", still=True)
    return app, fm


async def still_form(pilot, screen) -> None:
    """The form scrolled to its top once layout settles, so the picture does not depend on
    when the focused roster was scrolled into view: on a busy machine a layout can land after
    one pause, so the form is scrolled home again until two looks in a row agree."""
    form = screen.query_one("#tb-form")
    seen = None
    for _ in range(50):  # a guard against a form that never settles, not a timing
        await pilot.pause()
        form.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        now = (form.scroll_y, form.max_scroll_y, form.virtual_size)
        if now == seen and form.scroll_y == 0:
            return
        seen = now


def lobby_tb():
    app, _ = lobby()
    return app, app.backends[1]


async def open_match_form(pilot, match_id: str = "m-101"):
    from lobby.core.offers import OfferKind

    await pilot.pause()
    pilot.app.open_offer((OfferKind.TEAMBATTLES_MATCH, match_id))
    await pilot.pause()
    await settle(pilot, pilot.app.screen)
    return pilot.app.screen


@pytest.mark.parametrize("size", SIZES)
def test_home(snap_compare, size):
    app, _ = lobby()
    assert snap_compare(app, terminal_size=SIZES[size])


def test_home_empty(snap_compare):
    app, _ = lobby(flex=[], tb=[])
    assert snap_compare(app, terminal_size=SIZES["80x24"])


def test_home_loading(snap_compare):
    app, _ = lobby(hang=True)
    assert snap_compare(app, terminal_size=SIZES["80x24"])


def test_home_error(snap_compare):
    app, _ = lobby(fail=Unavailable("GameLift at http://127.0.0.1:9 could not be reached (connection refused)."))

    async def settle(pilot):
        await pilot.pause()
        pilot.app.clear_notifications()  # the toast is covered by its own test; show the section

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=settle)


async def open_ticket(pilot) -> None:
    """Open the first ticket from the home, once it is listed, and wait for its screen."""
    from lobby.tui.screens.ticket import TicketScreen

    await until(pilot, lambda: any(t.row_count for t in pilot.app.screen.query("#awaiting DataTable")), "the home")
    await pilot.press("enter")
    await until(pilot, focused_on(pilot, TicketScreen, "#players"), "the ticket screen")


@pytest.mark.parametrize("size", SIZES)
def test_ticket(snap_compare, size):
    app, _ = lobby()
    assert snap_compare(app, terminal_size=SIZES[size], run_before=open_ticket)


def test_ticket_expired(snap_compare):
    app, _ = lobby()

    async def expire(pilot):
        await open_ticket(pilot)
        pilot.app.clock.advance(timedelta(seconds=45))
        pilot.app._tick()

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=expire)


def test_ticket_success(snap_compare):
    app, fm = lobby()

    async def accept_and_place(pilot):
        await open_ticket(pilot)
        await pilot.press("a")
        screen = pilot.app.screen
        await settle(pilot, screen)  # the answer worker is done
        fm.queue.put_nowait(
            OfferClosed(
                kind=OfferKind.FLEXMATCH_TICKET,
                id="t-ana",
                status="COMPLETED",
                outcome="The match is ready at 127.0.0.1:7777.",
            )
        )
        outcome = screen.query_one("#outcome")
        await until(pilot, lambda: "127.0.0.1:7777" in text_of(outcome.render()), "the placed match's outcome")
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=accept_and_place)


def test_reject_confirmation(snap_compare):
    app, _ = lobby()

    async def confirm(pilot):
        from lobby.tui.screens.ticket import TicketScreen

        await open_ticket(pilot)
        await pilot.press("r")
        await until(pilot, lambda: not isinstance(pilot.app.screen, TicketScreen), "the confirmation")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=confirm)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, size):
    app, _ = lobby()
    assert snap_compare(app, press=["f1"], terminal_size=SIZES[size])


def test_teambattles_validation_errors(snap_compare):
    app, _ = lobby_tb()

    async def fill(pilot):
        screen = await open_match_form(pilot)
        await pilot.press("a", "down", "a", "down", "down", "b")
        screen.query_one("#message Input").value = "x" * 503
        await still_form(pilot, screen)

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=fill)


def test_teambattles_expired(snap_compare):
    app, _ = lobby_tb()

    async def expire(pilot):
        await open_match_form(pilot, "m-103")
        await pilot.press("a", "down", "a")
        pilot.app.clock.advance(timedelta(minutes=31))
        pilot.app._tick()
        await still_form(pilot, pilot.app.screen)

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=expire)


def test_teambattles_sent(snap_compare):
    app, backend = lobby_tb()
    backend.note = "Request acc_0001 sent for match m-101; waiting for the creator's answer."

    async def send(pilot):
        screen = await open_match_form(pilot)
        await pilot.press("a", "down", "a", "down", "a", "down", "a", "down", "b")
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        pilot.app.clear_notifications()
        await still_form(pilot, screen)

    assert snap_compare(app, terminal_size=SIZES["120x40"], run_before=send)


def test_home_with_a_moderator_view_but_no_feed(snap_compare):
    """`M` is offered when the console can build a moderator's view; a profile with no feed to
    watch says so in a warning and stays home."""
    default_flex, default_tb = demo_offers()
    app = LobbyApp(
        [FixedBackend("flexmatch", default_flex), FixedTeamBattles(default_tb)],
        clock=FrozenClock(T0),
        profile="live",
        still=True,
        moderation=lambda profile: None,
    )

    async def press_m(pilot):
        await pilot.pause()
        await pilot.press("M")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=press_m)


def test_teambattles_toast_leaves_the_actions_in_view(snap_compare):
    """A toast on the form (here: a refusal) sits to the right of the fields, below the
    heading: the violations, the buttons and the status line stay in view at 80x24."""
    app, backend = lobby_tb()

    async def refused(pilot):
        screen = await open_match_form(pilot)
        await pilot.press("a", "down", "a", "down", "a", "down", "a")
        pilot.app.notify("The creator no longer takes requests for this match.", title="Not accepted", severity="error", timeout=60)
        await still_form(pilot, screen)
        await pilot.pause()
        rack = pilot.app.screen.query_one("ToastRack")
        toasts = list(rack.query("Toast"))
        assert toasts
        for name in ("#tb-actions", "#tb-violations"):
            region = pilot.app.screen.query_one(name).region
            assert all(not t.region.overlaps(region) for t in toasts), name

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=refused)


@pytest.mark.parametrize("picker", ["closed", "open"])
def test_teambattles_banned_team_marked(snap_compare, picker):
    """A team that cannot answer (banned from competitive play) is marked in the picker, in
    words, and the rule's reason is shown under it."""
    from doubles import ANCHORS, OWLS

    app, backend = lobby_tb()
    backend.teams = (ANCHORS, OWLS)

    async def open_picker(pilot):
        screen = await open_match_form(pilot)
        await still_form(pilot, screen)
        if picker == "open":
            screen.query_one("#team").focus()
            await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()  # the footer follows the focus: let it settle

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=open_picker)


def test_reminder_toast(snap_compare):
    """Thirty seconds before a ticket's deadline (by its clock) a reminder says so in words."""
    app, _ = lobby()

    async def remind(pilot):
        await pilot.pause()
        app._tick()
        app.clock.advance(timedelta(seconds=12))
        app._tick()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=remind)


def test_request_decision_toast(snap_compare):
    """A decision on my request alerts like a new offer: a toast that says what was decided."""
    from doubles import MemoryRequestBook

    from lobby.core.backend import MyRequest

    default_flex, default_tb = demo_offers()
    book = MemoryRequestBook([MyRequest("m-101", "acc-1", "PENDING")])
    app = LobbyApp(
        [FixedBackend("flexmatch", default_flex), FixedTeamBattles(default_tb, requests=book)],
        clock=FrozenClock(T0),
        profile="emulator",
        still=True,
    )

    async def decide(pilot):
        await pilot.pause()
        book.record(MyRequest("m-101", "acc-1", "DECLINED", note="We found another team."))
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=decide)


def test_ticket_toast_leaves_the_countdown_and_actions_in_view(snap_compare):
    """On a ticket a toast sits at the bottom right, beside the buttons, one at a time: the players,
    the countdown, the outcome and the buttons stay in view at 80x24."""
    app, _ = lobby()

    async def toasts(pilot):
        await pilot.press("enter")
        await pilot.pause()
        for i in range(3):
            pilot.app.notify(f"Answer {i} not recorded: the service is busy, try again in a moment.", title="Not recorded", severity="error", timeout=60)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZES["80x24"], run_before=toasts)


@pytest.mark.parametrize("size", SIZES)
def test_home_at_raised_rate_limits(snap_compare, size):
    """Connected to an emulator that meters TeamBattles above the service's own rate limits:
    the status line says so in words, after the backends' health."""
    notice = "TeamBattles rate limits raised above the service's own (pro): load test"
    app, _ = lobby(notice=notice)

    async def told(pilot):
        await pilot.pause()
        pilot.app.following.tick()
        await pilot.pause()
        assert pilot.app.following.notices == {"teambattles": notice}

    assert snap_compare(app, terminal_size=SIZES[size], run_before=told)
