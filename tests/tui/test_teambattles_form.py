"""Pilot tests of the TeamBattles acceptance form, fed by a fixed in-memory backend with the
demo's teams. The same flows run against the real adapter and emulator in the flow tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from doubles import T0, FixedBackend, FixedTeamBattles, demo_offers, settle
from textual.widgets import Button, Input, RadioSet, Select, SelectionList, Static

from lobby.core.answers import AcceptanceDraft
from lobby.core.clock import FrozenClock
from lobby.core.errors import Conflict
from lobby.core.offers import OfferKind
from lobby.teambattles.vocab import MESSAGE_MAX_LENGTH
from lobby.tui.app import LobbyApp
from lobby.tui.screens.confirm import ConfirmScreen
from lobby.tui.screens.teambattles import TeamBattlesScreen
from lobby.core.answers import parse_value
from lobby.tui.widgets.disputed_rules import DisputedRules
from lobby.tui.widgets.map_picker import MapPicker
from lobby.tui.widgets.roster_editor import RosterEditor

MATCH = (OfferKind.TEAMBATTLES_MATCH, "m-101")
CHALLENGE = (OfferKind.TEAMBATTLES_CHALLENGE, "c-1")


def make_app():
    flex, tb = demo_offers()
    backend = FixedTeamBattles(tb)
    clock = FrozenClock(T0)
    app = LobbyApp([FixedBackend("flexmatch", flex), backend], clock=clock, still=True)
    return app, backend, clock


async def open_form(app, pilot, key=MATCH) -> TeamBattlesScreen:
    await pilot.pause()
    app.open_offer(key)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, TeamBattlesScreen)
    await settle(pilot, screen)
    await pilot.pause()
    assert screen.loaded
    return screen


def violations(screen) -> str:
    return str(screen.query_one("#tb-violations", Static).render())


async def pick_roster(pilot, keys):
    for key in keys:
        await pilot.press(key)
    await pilot.pause()


async def test_only_teams_i_lead_that_play_the_game_are_offered():
    app, *_ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        # Paper Tigers play another game; I am a plain member of Lone Wolves.
        assert list(screen.facts) == ["t_owls"]
        assert screen.query_one("#team", Select).value == "t_owls"


async def test_every_violation_is_explained_before_submit():
    app, backend, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        assert "The match is 4 a side; the active roster names 0." in violations(screen)
        assert screen.query_one("#submit", Button).disabled
        await pick_roster(pilot, ["a", "down", "a"])
        assert "names 2" in violations(screen)
        # A message over the limit and a bad disputed rule are explained too.
        screen.query_one("#message Input", Input).value = "x" * (MESSAGE_MAX_LENGTH + 1)
        screen.query_one(DisputedRules).add("overtime", "[" + ",".join("abcdefghijkl") + "]")
        await pilot.pause()
        text = violations(screen)
        assert "message is 501 characters long; the limit is 500." in text
        assert "Disputed rule 'overtime' lists 12 values; the limit is 10." in text
        assert str(screen.query_one("#message .counter", Static).render()) == "501/500"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert backend.calls == []


async def test_a_full_request_is_sent_once_with_every_choice():
    app, backend, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(app, pilot)
        # you, eli, ada, bo active; cy then dee on the bench, then dee moved up.
        await pick_roster(pilot, ["a", "down", "a", "down", "a", "down", "a", "down", "b", "down", "b", "shift+up"])
        roster = screen.query_one(RosterEditor)
        assert roster.active == ["u_you", "u_eli", "u_ada", "u_bo"] and roster.bench == ["u_dee", "u_cy"]
        picker = screen.query_one(MapPicker)
        picker.query_one(RadioSet).query("RadioButton")[2].value = True  # Veto
        await pilot.pause()
        picker.query_one(SelectionList).select("rooftops")
        screen.query_one("#message Input", Input).value = "GLHF [b]bold[/b]"
        screen.query_one(DisputedRules).add("overtime", "true")
        await pilot.pause()
        assert "Ready to send" in violations(screen)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await settle(pilot, screen)
        await pilot.pause()
        assert len(backend.calls) == 1
        verb, match_id, draft = backend.calls[0]
        assert (verb, match_id) == ("accept", "m-101")
        assert draft == AcceptanceDraft.build(
            "t_owls",
            ["u_you", "u_eli", "u_ada", "u_bo"],
            [("u_dee", 1), ("u_cy", 2)],
            map_mode="VETO",
            selected_maps=["rooftops"],
            message="GLHF [b]bold[/b]",
            disputed_rules={"overtime": True},
        )
        assert screen.query_one("#submit", Button).disabled  # a second submit cannot happen
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert len(backend.calls) == 1


async def test_a_refused_request_keeps_every_choice_and_shows_the_reason():
    app, backend, _ = make_app()
    backend.answer_error = Conflict("This team already has a request pending on this match.", code="error_acceptance_already_pending")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await pick_roster(pilot, ["a", "down", "a", "down", "a", "down", "a", "down", "b"])
        await pilot.press("ctrl+s")
        await pilot.pause()
        await settle(pilot, screen)
        await pilot.pause()
        status = str(screen.query_one("#tb-status", Static).render())
        assert "Refused: This team already has a request pending on this match." in status
        roster = screen.query_one(RosterEditor)
        assert roster.active == ["u_you", "u_eli", "u_ada", "u_bo"] and roster.bench == ["u_cy"]
        assert not screen.query_one("#submit", Button).disabled


async def test_at_the_scheduled_start_the_form_expires():
    app, backend, clock = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        await pick_roster(pilot, ["a", "down", "a", "down", "a", "down", "a"])
        assert not screen.query_one("#submit", Button).disabled
        clock.advance(timedelta(minutes=95))
        app._tick()
        await pilot.pause()
        assert screen.query_one("#submit", Button).disabled
        assert "The match's scheduled start has passed." in violations(screen)
        assert "Expired" in str(screen.query_one("#tb-status", Static).render())
        assert "started" in str(screen.query_one("#tb-countdown", Static).render())


async def test_challenge_accept_and_refuse_with_confirmation():
    app, backend, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot, CHALLENGE)
        assert not screen.query("#maps")  # a challenge takes a roster only
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert backend.calls == []
        screen.query_one("#reason", Input).value = "We are [i]busy[/i]"
        await pilot.press("ctrl+x")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        await settle(pilot, screen)
        assert backend.calls == [("reject", "c-1", "We are [i]busy[/i]")]


def test_disputed_rule_values():
    assert parse_value("true") is True and parse_value("3") == 3 and parse_value("1.5") == 1.5
    assert parse_value("[a, b]") == ["a", "b"] and parse_value(" best of 3 ") == "best of 3"


async def test_a_banned_team_is_marked_in_the_picker_and_explained():
    from doubles import ANCHORS, OWLS

    app, backend, _ = make_app()
    backend.teams = (ANCHORS, OWLS)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot)
        picker = screen.query_one("#team", Select)
        prompts = [str(prompt) for prompt, _ in picker._options]
        assert prompts == ["✖ Rusty Anchors  (cannot answer)", "Night Owls"]
        assert picker.value == "t_owls"  # the first team that can answer is chosen
        why = str(screen.query_one("#team-barred", Static).render())
        assert why == "✖ Rusty Anchors is banned from competitive play."
        picker.value = "t_anchors"
        await pilot.pause()
        await pick_roster(pilot, FOUR_ACTIVE)
        assert "Rusty Anchors is banned from competitive play." in violations(screen)
        assert screen.query_one("#submit", Button).disabled
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert backend.calls == []


FOUR_ACTIVE = ["a", "down", "a", "down", "a", "down", "a"]


def status(screen) -> str:
    return str(screen.query_one("#tb-status", Static).render())


async def refused_form(app, pilot, backend, error):
    """The form with four active players, sent once and refused with ``error``."""
    backend.answer_error = error
    screen = await open_form(app, pilot)
    await pick_roster(pilot, FOUR_ACTIVE)
    before = violations(screen)
    await pilot.press("ctrl+s")
    await settle(pilot, screen)
    return screen, before


async def test_a_refusal_clears_once_the_draft_changes():
    from lobby.core.errors import Unavailable

    app, backend, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        error = Conflict("The creator no longer takes requests.", code="error_match_not_published")
        screen, _ = await refused_form(app, pilot, backend, error)
        assert status(screen).startswith("Refused: The creator no longer takes requests.")
        await pick_roster(pilot, ["down", "b"])
        assert status(screen) == ""
        backend.answer_error = Unavailable("TeamBattles could not be reached.")
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        assert status(screen).startswith("Not sent: unreachable; your draft is kept.")
        await pick_roster(pilot, ["b"])
        assert status(screen) == ""


async def test_a_refusal_on_a_rule_the_console_cannot_check_is_shown_as_such():
    app, backend, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        error = Conflict("Night Owls is banned from competitive play.", code="error_competitive_banned")
        screen, before = await refused_form(app, pilot, backend, error)
        assert "Ready to send: every rule this console can check is met." in before
        assert "Ready to send" not in violations(screen)
        assert "the service refused the draft on something only it knows" in violations(screen)
        assert status(screen) == "Refused: Night Owls is banned from competitive play."


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_unreachable_status_shows_its_whole_sentence(size):
    from textual.geometry import Region

    from lobby.core.errors import Unavailable

    app, backend, _ = make_app()
    async with app.run_test(size=size) as pilot:
        where = "Could not reach TeamBattles at http://127.0.0.1:54321/api/v1 (connection refused)."
        screen, _ = await refused_form(app, pilot, backend, Unavailable(where))
        await pilot.pause()
        shown = screen.query_one("#tb-status", Static)
        lines = shown.render_lines(Region(0, 0, shown.size.width, shown.size.height))
        words = " ".join(" ".join(line.text.split()) for line in lines).strip()
        assert words == "Not sent: unreachable; your draft is kept. " + where
        # All of it on the screen, above the footer, and no toast over it.
        assert shown.region.bottom <= size[1] - 1 and shown.region.right <= size[0]
        for y in range(shown.region.y, shown.region.bottom):
            assert screen.get_widget_at(shown.region.x, y)[0] is shown
