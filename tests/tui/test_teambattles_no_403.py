"""Every TeamBattles flow lobby has, console and command line, against the strict emulator (the
published access rules: reads are participant-gated), counted on the emulator's side: what it
answered to lobby's key, by operation and status (``GET /_emulator/teambattles/answers``). Not
one answer to lobby may be a 403 (nor a 401: lobby holds a good key throughout).

The creator's side (approving a request) is played by the test with the creator's own key, and
counted apart from lobby's. Run with ``-s`` to see the figures."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from doubles import settle
from test_flows_teambattles import (
    CHALLENGE,
    HP,
    VIPER,
    YOU,
    acceptances,
    backend_for,
    choose,
    open_form,
    until,
)
from textual.widgets import Input, RadioSet, SelectionList

from lobby import paths
from lobby.cli import main
from lobby.core.offers import OfferKind
from lobby.teambattles.backend import TeamBattlesBackend
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import check_key
from lobby.teambattles.requests import RequestStore
from lobby.tui.app import LobbyApp
from lobby.tui.screens.confirm import ConfirmScreen
from lobby.tui.screens.home import HomeScreen
from lobby.tui.widgets.map_picker import MapPicker

#: The owner of lobby's key (YOU) in the demo scenario.
LOBBY = "u_you"
#: A challenge to the Paper Tigers, another team "you" captains.
TIGERS_CHALLENGE = (OfferKind.TEAMBATTLES_CHALLENGE, "tbm_tide_challenge_tigers")

#: Every flow's answers to lobby, added up for the record (printed at the end of the module).
TOTALS: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    if TOTALS:
        statuses = {k: v for k, v in sorted(TOTALS.items()) if k != "total"}
        print(f"\nTeamBattles answers to lobby across the flows: {TOTALS['total']} {statuses}")


def answers(emulator) -> dict:
    r = httpx.get(emulator.url + "/_emulator/teambattles/answers", timeout=10)
    r.raise_for_status()
    return r.json()


def lobby_answers(snapshot: dict) -> Counter[tuple[str, int, str]]:
    """(operation, status, error) -> count, of the answers to lobby's key and to no key."""
    out: Counter[tuple[str, int, str]] = Counter()
    for row in snapshot["answers"]:
        if row["caller"] in (LOBBY, ""):
            out[(row["operation"], row["status"], row["error"])] += row["count"]
    return out


def assert_no_refusal_of_access(before: dict, after: dict) -> Counter[tuple[str, int, str]]:
    """The answers to lobby between two snapshots; none of them a 401 or 403."""
    delta = lobby_answers(after) - lobby_answers(before)
    refused = {k: n for k, n in delta.items() if k[1] in (401, 403)}
    assert not refused, f"the emulator refused lobby access: {refused}"
    assert sum(delta.values()) > 0, "lobby asked the service nothing: the flow did not run"
    TOTALS["total"] += sum(delta.values())
    for (_, status, _), n in delta.items():
        TOTALS[str(status)] += n
    TOTALS.setdefault("403", 0)
    return delta


# --- the console --------------------------------------------------------------------------------------


async def test_console_acceptance_with_bench_maps_and_message_then_my_requests(emulator):
    before = answers(emulator)
    app = LobbyApp([backend_for(emulator)], still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(app, pilot, HP)
        await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"], bench=["u_dee"])
        picker = screen.query_one(MapPicker)
        picker.query_one(RadioSet).query("RadioButton")[2].value = True  # Veto
        await pilot.pause()
        picker.query_one(SelectionList).select("harbor")
        screen.query_one("#message Input", Input).value = "GL HF"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        [(acceptance_id, team, status)] = acceptances(emulator, "tbm_vipers_hp")
        assert (team, status) == ("t_owls", "PENDING")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)

        # The creator approves (with its own key): my requests follow it, and lobby, now a
        # participant, may read the match.
        headers = {"Authorization": f"Bearer {VIPER}"}
        async with httpx.AsyncClient(base_url=emulator.url + "/api/v1", headers=headers) as viper:
            url = f"/matches/tbm_vipers_hp/acceptances/{acceptance_id}/approve"
            assert (await viper.post(url, json={})).status_code == 200
        await until(pilot, lambda: app.store.get(HP).request.status == "APPROVED")
        requests = app.screen.query_one("#requests DataTable")
        assert "approved" in str(requests.get_row_at(0)[2])
    delta = assert_no_refusal_of_access(before, answers(emulator))
    assert delta[("createMatchAcceptance", 200, "")] == 1


async def test_console_accepts_one_challenge_and_refuses_another(emulator):
    before = answers(emulator)
    app = LobbyApp([backend_for(emulator)], still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(app, pilot, CHALLENGE)
        await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"])
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        await pilot.press("escape")
        await pilot.pause()

        screen = await open_form(app, pilot, TIGERS_CHALLENGE)
        screen.query_one("#reason", Input).value = "Not this week"
        await pilot.press("ctrl+x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await pilot.pause()
        await settle(pilot, screen)
    rows = emulator.runtime.store.query(
        "SELECT id, status, accepted_team_id FROM tb_matches WHERE id IN (?, ?) ORDER BY id",
        ("tbm_tide_challenge_tigers", "tbm_vipers_challenge_owls"),
    )
    got = {r["id"]: (r["status"], r["accepted_team_id"]) for r in rows}
    assert got["tbm_vipers_challenge_owls"][1] == "t_owls"
    assert got["tbm_tide_challenge_tigers"] == ("CANCELLED", None)
    delta = assert_no_refusal_of_access(before, answers(emulator))
    assert delta[("acceptMatchChallenge", 200, "")] == 1
    assert delta[("refuseMatchChallenge", 200, "")] == 1


async def test_console_on_polling_follows_a_request_without_reading_the_match_early(emulator):
    """As against the live service: no event stream, the backend polls (paced by the rate-limit
    headers). My requests follow the request to its decision from lobby's own records, the
    listings and the reads a participant may make."""
    backend = TeamBattlesBackend(
        TeamBattlesClient(emulator.url + "/api/v1", check_key(YOU, "test")),
        requests=RequestStore("emulator"),
        user="you",
        poll_interval=0.2,
    )
    before = answers(emulator)
    app = LobbyApp([backend], still=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_form(app, pilot, HP)
        await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"])
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        [(acceptance_id, _, _)] = acceptances(emulator, "tbm_vipers_hp")
        await pilot.press("escape")
        polled = answers(emulator)
        await until(pilot, lambda: lobby_answers(answers(emulator)) != lobby_answers(polled))
        headers = {"Authorization": f"Bearer {VIPER}"}
        async with httpx.AsyncClient(base_url=emulator.url + "/api/v1", headers=headers) as viper:
            url = f"/matches/tbm_vipers_hp/acceptances/{acceptance_id}/approve"
            assert (await viper.post(url, json={})).status_code == 200
        await until(pilot, lambda: app.store.get(HP).request.status == "APPROVED")
    delta = assert_no_refusal_of_access(before, answers(emulator))
    assert delta[("discoverMatches", 200, "")] >= 2  # it did poll


# --- the command line ---------------------------------------------------------------------------------


@pytest.fixture
def announced(emulator, monkeypatch: pytest.MonkeyPatch):
    """The emulator announced as `lobby emulator` announces itself; lobby's key in the
    environment and a profile naming the key's owner."""
    monkeypatch.setenv(
        "LOBBY_PROFILES", json.dumps({"emulator": {"kind": "emulator", "teambattles": {"user": "you"}}})
    )
    monkeypatch.setenv("TEAMBATTLES_API_KEY", YOU)
    path = paths.emulator_announcement()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
    yield emulator
    path.unlink(missing_ok=True)


def test_command_line_lists_accepts_and_follows_requests(announced, capsys):
    emulator = announced
    before = answers(emulator)
    runs = [
        ["matches"],
        ["matches", "--json"],
        ["accept-match", "tbm_vipers_hp", "--team", "night-owls", "--active", "you,ada,bo,cy",
         "--bench", "dee:1", "--map-mode", "veto", "--maps", "harbor", "--message", "gg"],
        ["accept-match", "tbm_vipers_challenge_owls", "--team", "night-owls",
         "--active", "you,ada,bo,cy"],
        ["my-requests"],
        ["my-requests", "--json"],
    ]  # fmt: skip
    for argv in runs:
        assert main(argv) == 0, argv
        capsys.readouterr()
    [(acceptance_id, _, _)] = acceptances(emulator, "tbm_vipers_hp")
    headers = {"Authorization": f"Bearer {VIPER}"}
    url = f"{emulator.url}/api/v1/matches/tbm_vipers_hp/acceptances/{acceptance_id}/approve"
    assert httpx.post(url, json={}, headers=headers, timeout=10).status_code == 200
    assert main(["my-requests", "--json"]) == 0
    mine = json.loads(capsys.readouterr().out)
    assert any(r.get("status") == "approved" for r in mine), mine
    delta = assert_no_refusal_of_access(before, answers(emulator))
    assert delta[("createMatchAcceptance", 200, "")] == 1
    assert delta[("acceptMatchChallenge", 200, "")] == 1


# --- what one acceptance costs ------------------------------------------------------------------------


async def test_one_acceptance_from_the_console_makes_these_requests(emulator):
    """From opening the form to the answer of its send, for an open match lobby is not in:
    the requests lobby makes, counted by the emulator. Reads are only of what a non-participant
    may read (the discover listing, the games and map pools, the captain's own teams and their
    members); the match itself and its players are never read. Opening the form reads the
    members of each of the captain's four teams for the game (the rest comes from the listing
    already held); the send is the one request. (The client as it was before reading within the
    published rules made 16: the match twice, its players twice, team profiles five times.)"""
    app = LobbyApp([backend_for(emulator)], still=True, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.store.get(HP) is not None)
        await pilot.pause()
        before = answers(emulator)
        screen = await open_form(app, pilot, HP)
        opened = answers(emulator)
        await choose(pilot, screen, ["u_you", "u_ada", "u_bo", "u_cy"], bench=["u_dee"])
        screen.query_one("#message Input", Input).value = "GL HF"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot, screen)
        after = answers(emulator)

    def operations(a: dict, b: dict) -> Counter[str]:
        delta = lobby_answers(b) - lobby_answers(a)
        assert all(status == 200 for (_, status, _) in delta), delta
        out: Counter[str] = Counter()
        for (op, _, _), n in delta.items():
            out[op] += n
        return out

    form, send = operations(before, opened), operations(opened, after)
    print(f"\nrequests for one acceptance: {form.total() + send.total()}: form {dict(form)}, send {dict(send)}")
    assert form == {"listTeamMembers": 4}
    assert send == {"createMatchAcceptance": 1}


def test_command_line_answers_challenges(announced, capsys):
    """Accepting one challenge and refusing another from the command line, where it has those
    commands (`accept-challenge`, `refuse-challenge`)."""
    import argparse

    from lobby.cli import build_parser

    parser = build_parser()
    commands: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands |= set(action.choices)
    if not {"accept-challenge", "refuse-challenge"} <= commands:
        pytest.skip("this command line answers challenges only through accept-match")
    emulator = announced
    before = answers(emulator)
    runs = [
        ["accept-challenge", "tbm_vipers_challenge_owls", "--active", "you,ada,bo,cy"],
        ["refuse-challenge", "tbm_tide_challenge_tigers", "--reason", "Not this week"],
    ]
    for argv in runs:
        assert main(argv) == 0, argv
        capsys.readouterr()
    delta = assert_no_refusal_of_access(before, answers(emulator))
    assert delta[("acceptMatchChallenge", 200, "")] == 1
    assert delta[("refuseMatchChallenge", 200, "")] == 1
