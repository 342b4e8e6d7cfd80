"""The TeamBattles flows end to end: the app, the real TeamBattles adapter, and the emulator
(demo scenario: "you" captain Night Owls). Assertions check what the server recorded."""

from __future__ import annotations

import json

import httpx
from doubles import settle, until
from textual.widgets import Button, Input, RadioSet, SelectionList, Static

from lobby.core.offers import OfferKind
from lobby.teambattles.backend import TeamBattlesBackend
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import check_key
from lobby.teambattles.requests import RequestStore
from lobby.tui.app import LobbyApp
from lobby.tui.screens.home import HomeScreen
from lobby.tui.screens.teambattles import TeamBattlesScreen
from lobby.tui.widgets.map_picker import MapPicker
from lobby.tui.widgets.roster_editor import RosterEditor

YOU = "tb_test_you_pro_personal_0001"
FREE = "tb_test_you_free_personal_0003"
VIPER = "tb_test_viper_bot_0014"
HP = (OfferKind.TEAMBATTLES_MATCH, "tbm_vipers_hp")
CHALLENGE = (OfferKind.TEAMBATTLES_CHALLENGE, "tbm_vipers_challenge_owls")
SKIRMISH = (OfferKind.TEAMBATTLES_MATCH, "tbm_tide_skirmish")


def backend_for(emulator, key: str = YOU):
    backend = TeamBattlesBackend(
        TeamBattlesClient(emulator.url + "/api/v1", check_key(key, "test")),
        requests=RequestStore("emulator"),
        user="you",
        feed_url=emulator.url,
    )
    return backend


def acceptances(emulator, match_id: str) -> list[tuple]:
    rows = emulator.runtime.store.query(
        "SELECT id, team_id, status FROM tb_acceptances WHERE match_id = ? ORDER BY seq", (match_id,)
    )
    return [tuple(r) for r in rows]


async def open_form(app, pilot, key) -> TeamBattlesScreen:
    await until(pilot, lambda: app.store.get(key) is not None)
    app.open_offer(key)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, TeamBattlesScreen)
    await settle(pilot, screen)
    assert screen.loaded, screen.load_error
    return screen


async def choose(pilot, screen, active, bench=()) -> None:
    roster = screen.query_one(RosterEditor)
    roster.focus()
    ids = [roster.get_option_at_index(i).id for i in range(roster.option_count)]
    for user, key in [*((u, "a") for u in active), *((u, "b") for u in bench)]:
        roster.highlighted = ids.index(user)
        await pilot.press(key)
    await pilot.pause()


def violations(screen) -> str:
    return str(screen.query_one("#tb-violations", Static).render())


async def test_request_for_an_open_match_is_recorded_once_and_its_status_follows(emulator):
    app = LobbyApp([backend_for(emulator)], still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(app, pilot, HP)
        teams = list(screen.facts)
        assert teams[0] == "t_owls" and "t_tigers" not in teams  # Paper Tigers play another game
        await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"], bench=["u_dee"])
        picker = screen.query_one(MapPicker)
        picker.query_one(RadioSet).query("RadioButton")[2].value = True  # Veto
        await pilot.pause()
        picker.query_one(SelectionList).select("harbor")
        screen.query_one("#message Input", Input).value = "Good luck! [b]"
        await pilot.pause()
        assert "Ready to send" in violations(screen)
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        [(acceptance_id, team, status)] = acceptances(emulator, "tbm_vipers_hp")
        assert (team, status) == ("t_owls", "PENDING")
        [row] = emulator.runtime.store.query(
            "SELECT active_roster, bench_roster, map_preference_mode, selected_maps, message"
            " FROM tb_acceptances WHERE id = ?",
            (acceptance_id,),
        )
        active, bench, mode, maps, message = row
        assert json.loads(active) == ["u_you", "u_ada", "u_bo", "u_cy"]
        assert [(b["id"], b["priority"]) for b in json.loads(bench)] == [("u_dee", 1)]
        assert (mode, json.loads(maps), message) == ("VETO", ["harbor"], "Good luck! [b]")
        assert acceptance_id in str(screen.query_one("#tb-status", Static).render())
        assert screen.query_one("#submit", Button).disabled
        await pilot.press("ctrl+s")  # a second submit does nothing
        await settle(pilot, screen)
        assert len(acceptances(emulator, "tbm_vipers_hp")) == 1

        # The sent request opens read-only, with exactly what was sent.
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        entry = app.store.get(HP)
        assert entry.answered and entry.request is not None and entry.request.status == "PENDING"
        app.open_offer(HP)
        await pilot.pause()
        again = app.screen
        sent = str(again.query_one("#tb-sent", Static).render())
        assert "Sent — read-only." in sent and "Active: u_you, u_ada, u_bo, u_cy" in sent
        assert "Bench: 1. u_dee" in sent and "Maps: harbor" in sent and "Message: Good luck! [b]" in sent
        assert "pending" in sent and not again.query(RosterEditor)
        assert again.query_one("#submit", Button).disabled
        await pilot.press("escape")

        # The creator approves: the request's status follows, live.
        async with httpx.AsyncClient(base_url=emulator.url + "/api/v1", headers={"Authorization": f"Bearer {VIPER}"}) as viper:
            answer = await viper.post(f"/matches/tbm_vipers_hp/acceptances/{acceptance_id}/approve", json={})
            assert answer.status_code == 200, answer.text
        await until(pilot, lambda: app.store.get(HP).request.status == "APPROVED")
        requests = app.screen.query_one("#requests DataTable")
        assert "approved" in str(requests.get_row_at(0)[2])
        # The decision is announced like a new offer.
        assert any("your request was approved" in n.message for n in app._notifications)


async def test_a_refusal_from_the_server_keeps_every_choice_and_says_why(emulator):
    app = LobbyApp([backend_for(emulator, FREE)], still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot, HP)
        await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"], bench=["u_dee"])
        screen.query_one("#message Input", Input).value = "hello"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        assert acceptances(emulator, "tbm_vipers_hp") == []
        status = str(screen.query_one("#tb-status", Static).render())
        assert status.startswith("Refused: ") and "plan" in status.lower()
        roster = screen.query_one(RosterEditor)
        assert roster.active == ["u_you", "u_ada", "u_bo", "u_cy"] and roster.bench == ["u_dee"]
        assert screen.query_one("#message Input", Input).value == "hello"
        assert not screen.query_one("#submit", Button).disabled


async def test_accepting_a_challenge_arranges_the_match(emulator):
    backend = backend_for(emulator)
    app = LobbyApp([backend], still=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot, CHALLENGE)
        await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"])
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        # What the adapter said, or (if the match's event came first) how the offer closed.
        said = str(screen.query_one("#tb-status", Static).render())
        assert "Challenge tbm_vipers_challenge_owls accepted" in said or "Night Owls will play it" in said
        async with TeamBattlesClient(emulator.url + "/api/v1", check_key(YOU, "test")) as client:
            match = await client.get_match("tbm_vipers_challenge_owls")
        assert match.accepted_team is not None and match.accepted_team.id == "t_owls"
        # "My requests" says what the service answered, not the listing's "pending" of before.
        from lobby.core.offers import OfferKind
        from lobby.tui.screens.home import _status

        entry = app.store.get((OfferKind.TEAMBATTLES_CHALLENGE, "tbm_vipers_challenge_owls"))
        assert entry is not None and entry in app.store.my_requests()
        shown = str(_status(entry))
        assert "accepted" in shown or "Night Owls will play it" in shown, shown


async def test_a_request_that_races_the_start_shows_what_the_service_said(emulator):
    # The app does not follow changes here, so the form is still open when the emulator's clock
    # passes the start and it cancels the match: exactly the race of a late submit.
    app = LobbyApp([backend_for(emulator)], still=True, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot, SKIRMISH)
        await choose(pilot, screen, ["u_you"])
        assert not screen.query_one("#submit", Button).disabled
        async with httpx.AsyncClient() as http:
            (await http.post(emulator.url + "/_emulator/clock", json={"advanceSeconds": 9 * 60})).raise_for_status()
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        status = str(screen.query_one("#tb-status", Static).render())
        assert status.startswith("Refused: ") and "CANCELLED" in status
        assert acceptances(emulator, "tbm_tide_skirmish") == []


def footer(app) -> dict[str, str]:
    """What the footer offers: description -> key, as shown."""
    from textual.widgets._footer import FooterKey

    return {key.description: key.key_display for key in app.screen.query(FooterKey)}


async def test_a_sent_request_opens_read_only_with_its_team_named_and_nothing_to_send(emulator):
    app = LobbyApp([backend_for(emulator)], still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(app, pilot, HP)
        await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"])
        assert "Send" in footer(app)
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        [(_, team, status)] = acceptances(emulator, "tbm_vipers_hp")
        assert (team, status) == ("t_owls", "PENDING")
        # Sent: nothing more to send or discard, here or when it opens again.
        assert not screen.query_one("#submit", Button).display
        assert "Send" not in footer(app) and "Discard draft" not in footer(app)
        await pilot.press("escape")
        await pilot.pause()
        app.open_offer(HP)
        again = app.screen
        await settle(pilot, again)
        await until(pilot, lambda: "Night Owls" in str(again.query_one("#tb-sent", Static).render()))
        sent = str(again.query_one("#tb-sent", Static).render())
        assert "Sent — read-only." in sent and "Team: Night Owls" in sent and "t_owls" not in sent
        assert not again.query_one("#submit", Button).display
        assert "Send" not in footer(app) and "Discard draft" not in footer(app)
        await pilot.press("ctrl+s", "ctrl+n")
        await pilot.pause()
        assert app.screen is again and len(acceptances(emulator, "tbm_vipers_hp")) == 1


async def test_a_request_sent_elsewhere_opens_with_its_team_named(emulator, tmp_path):
    first = LobbyApp([backend_for(emulator)], still=True, drafts=tmp_path / "first.json")
    async with first.run_test(size=(120, 40)) as pilot:
        screen = await open_form(first, pilot, HP)
        await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"])
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
    assert [row[1:] for row in acceptances(emulator, "tbm_vipers_hp")] == [("t_owls", "PENDING")]

    other = LobbyApp([backend_for(emulator)], still=True, drafts=tmp_path / "other.json")  # another console: what was sent is not known
    async with other.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: (e := other.store.get(HP)) is not None and e.request is not None)
        other.open_offer(HP)
        again = other.screen
        await settle(pilot, again)
        await until(pilot, lambda: "Night Owls" in str(again.query_one("#tb-sent", Static).render()))
        sent = str(again.query_one("#tb-sent", Static).render())
        assert "not known here" in sent and "t_owls" not in sent
        assert "Send" not in footer(other)


async def test_refusing_a_challenge_clears_the_violations_of_the_draft(emulator):
    app = LobbyApp([backend_for(emulator)], still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(app, pilot, CHALLENGE)
        assert "the active roster names 0" in violations(screen)
        await pilot.press("ctrl+x")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, screen)
        [(status,)] = emulator.runtime.store.query("SELECT status FROM tb_matches WHERE id = ?", (CHALLENGE[1],))
        assert status == "CANCELLED"
        await until(pilot, lambda: screen.sent_note is not None)
        await pilot.pause()
        panel = screen.query_one("#tb-violations", Static)
        assert "✖" not in violations(screen) and not panel.display
