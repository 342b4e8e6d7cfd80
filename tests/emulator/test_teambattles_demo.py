"""Demo life: bots answer requests and post matches, deterministically for one seed; the database
is seeded once and survives a restart; `lobby demo-keys` lists the keys and their owners."""

from __future__ import annotations

import json

import pytest
from teambattles_helpers import TB, VIPERS_HP, advance, events, owls_accept, scenario_file

from lobby.cli import main
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.scenario import load_scenario
from lobby.emulator.server import EmulatorThread

OPEN_BOT_MATCHES = [
    "tbm_vipers_hp",
    "tbm_vipers_snd",
    "tbm_foxes_ctrl",
    "tbm_tide_siege",
    "tbm_ghosts_circuit",
]
ROSTERS = {
    "tbm_vipers_hp": owls_accept(),
    "tbm_vipers_snd": owls_accept(),
    "tbm_foxes_ctrl": owls_accept(),
    "tbm_tide_siege": {"teamId": "t_tigers", "activeRoster": ["u_you", "u_kai"]},
    "tbm_ghosts_circuit": {"teamId": "t_drift", "activeRoster": ["u_you"]},
}


def bot_answers(seed_file=None) -> dict[str, str]:
    """Ask to play five bot matches, let a minute pass, and read how each bot answered."""
    config = EmulatorConfig(time_travel=True, bots=True, scenario=seed_file)
    with EmulatorThread(config) as emu:
        tb = TB(emu.url)
        asked = {tb.accept(m, ROSTERS[m]).json()["acceptanceId"]: m for m in OPEN_BOT_MATCHES}
        advance(emu.url, 60)
        answers = {}
        for kind, payload in events(emu.url):
            acceptance = payload["data"].get("acceptance")
            if acceptance and acceptance["id"] in asked and kind != "emulator.acceptance.created":
                answers[asked[acceptance["id"]]] = kind
        tb.close()
    return answers


def test_bots_answer_every_request_the_same_way_for_one_seed():
    first = bot_answers()
    assert set(first) == set(OPEN_BOT_MATCHES)
    assert set(first.values()) <= {"match.accepted", "emulator.acceptance.declined"}
    assert bot_answers() == first


def test_bots_decline_as_their_scenario_says(tmp_path):
    bots = [
        b.model_dump(mode="json") | {"approve_ratio": 0.0} for b in load_scenario().teambattles.bots
    ]
    answers = bot_answers(scenario_file(tmp_path, bots=bots))
    assert answers == {m: "emulator.acceptance.declined" for m in OPEN_BOT_MATCHES}


def test_bots_post_new_matches(tmp_path):
    with EmulatorThread(EmulatorConfig(time_travel=True, bots=True)) as emu:
        tb = TB(emu.url)
        before = {m["id"] for m in tb.post("/matches/discover", {"limit": 100}).json()["data"]}
        for _ in range(4):
            advance(emu.url, 40)
        after = tb.post("/matches/discover", {"limit": 100}).json()["data"]
        posted = [m for m in after if m["id"] not in before]
        assert posted
        assert {m["creatorTeam"]["id"] for m in posted} <= {
            "t_vipers",
            "t_foxes",
            "t_tide",
            "t_ghosts",
        }
        assert "match.published" in [e for e, _ in events(emu.url)]
        tb.close()


def test_without_bots_nothing_answers(emulator):
    tb = TB(emulator.url)
    tb.accept(VIPERS_HP, owls_accept())
    advance(emulator.url, 60)
    assert tb.match(VIPERS_HP)["status"] == "PENDING"
    tb.close()


def test_a_database_is_seeded_once_and_kept(tmp_path):
    config = EmulatorConfig(db=str(tmp_path / "emu.db"))
    with EmulatorThread(config) as emu:
        tb = TB(emu.url)
        assert tb.accept(VIPERS_HP, owls_accept()).status_code == 200
        count = len(tb.post("/user/matches", {"numItems": 100}).json()["page"])
        tb.close()
    with EmulatorThread(config) as emu:
        tb = TB(emu.url)
        assert (
            tb.accept(VIPERS_HP, owls_accept()).json()["error"]
            == "error_acceptance_already_pending"
        )
        assert len(tb.post("/user/matches", {"numItems": 100}).json()["page"]) == count
        tb.close()


def test_demo_keys_lists_every_key_and_owner(capsys):
    assert main(["demo-keys"]) == 0
    out = capsys.readouterr().out
    scenario = load_scenario().teambattles
    for key in scenario.keys:
        assert key.key in out
    assert "developer-app" in out and "revoked" in out and "expired" in out
    assert main(["demo-keys", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    you = next(r for r in rows if r["key"] == "tb_test_you_pro_personal_0001")
    assert (you["username"], you["kind"], you["plan"]) == ("you", "personal", "pro")
    assert you["scopes"]["matches.user_matches"] == "read-write"


def test_demo_keys_reports_a_bad_scenario(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"name": "x", "teambattles": {"keys": '
        '[{"key": "tb_live_0123456789abcdef", "owner": "u"}]}}'
    )
    assert main(["demo-keys", "--scenario", str(bad)]) == 1
    assert "live" in capsys.readouterr().err


@pytest.mark.parametrize("field", ["users", "teams", "keys", "matches", "games", "bots"])
def test_the_demo_scenario_has_each_kind_of_thing(field):
    assert getattr(load_scenario().teambattles, field)
