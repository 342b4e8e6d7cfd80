"""Nothing typed is lost: a TeamBattles draft is kept per offer across Esc, navigation and a
restart, restored on reopen, and thrown away only when sent or discarded; the footer's keys
act from every field. Against the emulator; assertions check what the server recorded."""

from __future__ import annotations

import json

from doubles import settle
from test_flows_teambattles import CHALLENGE, HP, acceptances, backend_for, choose, open_form, until
from textual.widgets import Input, RadioSet, Select, SelectionList

from lobby.tui.app import LobbyApp
from lobby.tui.screens.confirm import ConfirmScreen
from lobby.tui.screens.home import HomeScreen
from lobby.tui.widgets.disputed_rules import DisputedRules
from lobby.tui.widgets.map_picker import MapPicker
from lobby.tui.widgets.roster_editor import RosterEditor


async def fill(pilot, screen) -> None:
    await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"], bench=["u_dee"])
    picker = screen.query_one(MapPicker)
    picker.query_one(RadioSet).query("RadioButton")[2].value = True  # Veto
    await pilot.pause()
    picker.query_one(SelectionList).select("harbor")
    screen.query_one("#message Input", Input).value = "see you there"
    screen.query_one(DisputedRules).add("overtime", "true")
    await pilot.pause()


def form_of(screen) -> tuple:
    roster = screen.query_one(RosterEditor)
    picker = screen.query_one(MapPicker)
    return (
        roster.active,
        roster.bench,
        picker.mode_index,
        picker.maps,
        screen.query_one("#message Input", Input).value,
        screen.query_one(DisputedRules).rules,
    )


FILLED = (["u_you", "u_ada", "u_bo", "u_cy"], ["u_dee"], 2, ("harbor",), "see you there", {"overtime": True})


async def test_a_draft_survives_esc_and_a_restart_and_is_sent_as_kept(emulator, tmp_path):
    drafts = tmp_path / "drafts.json"
    app = LobbyApp([backend_for(emulator)], still=True, drafts=drafts)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot, HP)
        await fill(pilot, screen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert any("Your draft is kept" in n.message for n in app._notifications)
        again = await open_form(app, pilot, HP)
        assert form_of(again) == FILLED
    assert json.loads(drafts.read_text())  # in the state directory

    restarted = LobbyApp([backend_for(emulator)], still=True, drafts=drafts)
    async with restarted.run_test(size=(80, 24)) as pilot:
        screen = await open_form(restarted, pilot, HP)
        await until(pilot, lambda: form_of(screen) == FILLED)
        screen.query_one("#message Input", Input).focus()
        await pilot.press("ctrl+s")  # from the message field
        await settle(pilot, screen)
        [(acceptance_id, team, status)] = acceptances(emulator, "tbm_vipers_hp")
        [row] = emulator.runtime.store.query(
            "SELECT active_roster, map_preference_mode, selected_maps, message FROM tb_acceptances WHERE id = ?",
            (acceptance_id,),
        )
        assert json.loads(row[0]) == ["u_you", "u_ada", "u_bo", "u_cy"]
        assert (row[1], json.loads(row[2]), row[3]) == ("VETO", ["harbor"], "see you there")
    assert list(json.loads(drafts.read_text())) == ["sent:teambattles-match:tbm_vipers_hp"]  # no draft left


async def test_discarding_a_draft_is_an_explicit_action(emulator, tmp_path):
    drafts = tmp_path / "drafts.json"
    app = LobbyApp([backend_for(emulator)], still=True, drafts=drafts)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot, HP)
        await fill(pilot, screen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot, screen)
        await until(pilot, lambda: screen.loaded and screen.query(MapPicker))
        assert form_of(screen)[:2] == ([], [])
        assert app.drafts.get(HP) is None
        assert acceptances(emulator, "tbm_vipers_hp") == []


async def test_refuse_works_from_the_reason_field_and_the_server_records_it(emulator):
    app = LobbyApp([backend_for(emulator)], still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot, CHALLENGE)
        reason = screen.query_one("#reason", Input)
        reason.focus()
        await pilot.press(*"busy tonight")
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert reason.value == "busy tonight"  # not cut
        await pilot.press("y")
        await settle(pilot, screen)
        [(status, reason)] = emulator.runtime.store.query(
            "SELECT status, cancel_reason FROM tb_matches WHERE id = ?", ("tbm_vipers_challenge_owls",)
        )
        assert (status, reason) == ("CANCELLED", "busy tonight")


async def test_a_restored_draft_of_another_team_keeps_its_roster(emulator, tmp_path):
    drafts = tmp_path / "drafts.json"
    app = LobbyApp([backend_for(emulator)], still=True, drafts=drafts)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(app, pilot, HP)
        screen.query_one("#team", Select).value = "t_anchors"
        await until(pilot, lambda: "u_dee" not in screen.query_one(RosterEditor).members)
        await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"])
        screen.query_one("#message Input", Input).value = "anchors aweigh"
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        kept = json.loads(drafts.read_text())["teambattles-match:tbm_vipers_hp"]
        assert (kept["team"], kept["active"]) == ("t_anchors", ["u_you", "u_ada", "u_bo", "u_cy"])

        again = await open_form(app, pilot, HP)
        for _ in range(5):  # every Select.Changed the restore set off has been handled
            await pilot.pause()
        assert any("Your draft for this offer is back" in n.message for n in app._notifications)
        assert again.query_one("#team", Select).value == "t_anchors"
        roster = again.query_one(RosterEditor)
        assert roster.active == ["u_you", "u_ada", "u_bo", "u_cy"]
        assert "[A]" in str(roster.get_option_at_index(0).prompt)
        assert again.query_one("#message Input", Input).value == "anchors aweigh"
        kept = json.loads(drafts.read_text())["teambattles-match:tbm_vipers_hp"]
        assert kept["active"] == ["u_you", "u_ada", "u_bo", "u_cy"]  # the file still holds them


async def test_a_rule_typed_but_not_added_is_kept_with_the_draft(emulator, tmp_path):
    drafts = tmp_path / "drafts.json"
    app = LobbyApp([backend_for(emulator)], still=True, drafts=drafts)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot, HP)
        screen.query_one("#rule-name", Input).focus()
        await pilot.press(*"overtime")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert any("Your draft is kept" in n.message for n in app._notifications)
    assert json.loads(drafts.read_text())["teambattles-match:tbm_vipers_hp"]["rule_name"] == "overtime"

    restarted = LobbyApp([backend_for(emulator)], still=True, drafts=drafts)
    async with restarted.run_test(size=(80, 24)) as pilot:
        screen = await open_form(restarted, pilot, HP)
        assert screen.query_one("#rule-name", Input).value == "overtime"
        assert acceptances(emulator, "tbm_vipers_hp") == []
