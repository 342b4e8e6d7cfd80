"""Keys and help: Enter shown where it answers, the same table keys on every table and list,
f1 listing every key of the screen in front as bound now, buttons naming the current key."""

from __future__ import annotations

from doubles import T0, FixedBackend, FixedTeamBattles, demo_offers, open_match, settle, text_of
from textual.widgets import DataTable, OptionList, SelectionList
from textual.widgets._footer import FooterKey

from lobby.core.clock import FrozenClock
from lobby.core.offers import OfferKind
from lobby.tui.app import LobbyApp
from lobby.tui.screens.confirm import ConfirmScreen
from lobby.tui.screens.help import HelpScreen
from lobby.tui.screens.teambattles import TeamBattlesScreen
from lobby.tui.screens.ticket import TicketScreen


def make_app(*, tb=None, keymap=None):
    flex, default_tb = demo_offers()
    fm = FixedBackend("flexmatch", flex)
    tbb = FixedTeamBattles(default_tb if tb is None else tb)
    app = LobbyApp([fm, tbb], clock=FrozenClock(T0), still=True, keymap=keymap)
    return app, fm, tbb


def footer(app) -> dict[str, str]:
    """What the footer offers: description -> key, as shown."""
    return {key.description: key.key_display for key in app.screen.query(FooterKey)}


def help_text(app) -> str:
    assert isinstance(app.screen, HelpScreen)
    return text_of(app.screen._text(), width=140)


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def help_row(text: str, description: str) -> str:
    """The line of the help that describes ``description``."""
    return next(line for line in text.splitlines() if f"  {description}  " in f"{line}  ")


async def test_enter_is_shown_where_it_answers_and_opens():
    app, fm, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert footer(app)["Answer"] == "⏎"
        await pilot.press("f1")
        await pilot.pause()
        assert help_row(help_text(app), "Answer").split() == ["enter", "Answer", "lobby.home.answer"]
        await pilot.press("escape", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TicketScreen)
        await pilot.press("a")
        await settle(pilot, app.screen)
        await pilot.press("escape", "3")
        await pilot.pause()
        assert footer(app)["Open"] == "⏎" and "Answer" not in footer(app)


async def test_home_end_pages_and_j_k_move_on_the_home_tables():
    many = [open_match(f"m-{i:03}", f"Match {i:03}", minutes=10 + i, game="Skyline Strike", region="EU") for i in range(40)]
    app, *_ = make_app(tb=many)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("2")
        table = app.screen.query_one("#open DataTable", DataTable)
        assert app.focused is table and table.cursor_row == 0
        await pilot.press("end")
        assert table.cursor_row == 39
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("pagedown")
        page = table.cursor_row
        assert page > 2
        await pilot.press("pageup")
        assert table.cursor_row < page


async def test_j_and_k_move_on_every_list_of_the_answer_screens():
    app, *_ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        players = app.screen.query_one("#players", SelectionList)
        assert players.highlighted == 0
        await pilot.press("j")
        assert players.highlighted == 1
        await pilot.press("k")
        assert players.highlighted == 0
        await pilot.press("escape")
        await pilot.pause()
        app.open_offer((OfferKind.TEAMBATTLES_MATCH, "m-101"))
        await pilot.pause()
        await settle(pilot, app.screen)
        roster = app.screen.query_one("#roster", OptionList)
        assert app.focused is roster and roster.highlighted == 0
        await pilot.press("j", "j", "end")
        assert roster.highlighted == roster.option_count - 1
        await pilot.press("home", "j")
        assert roster.highlighted == 1


async def test_remapped_keys_show_on_buttons_hints_and_help_and_work():
    app, fm, _ = make_app(keymap={"lobby.ticket.accept": "y", "lobby.confirm.yes": "ctrl+y"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TicketScreen)
        labels = [str(b.label) for b in screen.query("Button")]
        assert labels == ["Accept (y)", "Reject (r)"]
        assert "Accept (y) or Reject (r)" in str(screen.query_one("#outcome").render())
        assert footer(app)["Accept"] == "y"
        await pilot.press("f1")
        await pilot.pause()
        assert help_row(help_text(app), "Accept").split() == ["y", "Accept", "lobby.ticket.accept"]
        await pilot.press("escape", "r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert [str(b.label) for b in app.screen.query("Button")] == ["Keep (n)", "Reject (ctrl+y)"]
        await pilot.press("n", "a")  # "a" is no longer Accept
        await pilot.pause()
        assert fm.calls == []
        await pilot.press("y")
        await settle(pilot, screen)
        assert fm.calls == [("accept", "t-ana", ("ana", "bo"))]


async def test_f1_lists_the_keys_where_the_focus_is_and_of_every_other_part_of_the_form():
    app, *_ = make_app(keymap={"lobby.tb.submit": "ctrl+o", "lobby.rules.remove": "delete"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_offer((OfferKind.TEAMBATTLES_MATCH, "m-101"))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TeamBattlesScreen)
        await settle(pilot, screen)
        assert str(screen.query_one("#submit").label) == "Send request (ctrl+o)"
        await pilot.press("f1")
        await pilot.pause()
        text = help_text(app)
        here, _, elsewhere = text.partition("On the disputed rules")
        # Where the focus is (the roster): its keys, the form's and the app's, as bound now.
        assert help_row(here, "Active").split() == ["a", "Active", "lobby.roster.active"]
        assert ["↓", "Down"] in rows(here) and ["j", "Down", "lobby.table.down"] in rows(here)
        assert help_row(here, "Send (not now)").split()[0] == "ctrl+o"  # the roster is empty yet
        assert help_row(here, "Help").split()[:3] == ["f1", "/", "?"]
        # The other parts of the form that take the focus, with their own keys.
        assert ["delete", "Remove", "rule", "lobby.rules.remove"] in rows(elsewhere)  # remapped: no backspace
        assert "On a list of choices" in text  # the map pool
