"""FlexMatch state lives in SQLite: deadlines and seeds survive a restart on the same file."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from flexmatch_helpers import (
    accept,
    advance,
    config_for,
    detail_types,
    gamelift,
    setup_matchmaker,
    start,
    statuses,
)

from lobby.core.clock import FrozenClock
from lobby.emulator.server import EmulatorThread
from lobby.flexmatch.lifecycle import EventType


def test_acceptance_deadlines_survive_a_restart(tmp_path):
    config = config_for(tmp_path, db=str(tmp_path / "flexmatch.db"))
    t0 = float(int(time.time()))
    with EmulatorThread(config, clock=FrozenClock(t0)) as emu:
        gl = gamelift(emu.url)
        setup_matchmaker(gl, "short", acceptance=30)
        setup_matchmaker(gl, "long", acceptance=600)
        start(gl, "short", "s-1", "p1")
        start(gl, "short", "s-2", "p2")
        start(gl, "long", "l-1", "p3")
        start(gl, "long", "l-2", "p4")
        advance(emu)
        assert set(statuses(gl, "s-1", "s-2", "l-1", "l-2").values()) == {"REQUIRES_ACCEPTANCE"}
        accept(gl, "s-1", "p1")
        accept(gl, "l-1", "p3")
        before = detail_types(emu)

    # Down for 100 s: the 30 s deadline passed meanwhile, the 600 s one did not.
    with EmulatorThread(config, clock=FrozenClock(t0 + 100)) as emu:
        gl = gamelift(emu.url)
        advance(emu)
        assert statuses(gl, "s-1", "s-2", "l-1", "l-2") == {
            "s-1": "SEARCHING",
            "s-2": "CANCELLED",
            "l-1": "REQUIRES_ACCEPTANCE",
            "l-2": "REQUIRES_ACCEPTANCE",
        }
        after = detail_types(emu)
        assert after[: len(before)] == before
        assert after[len(before) :] == [EventType.ACCEPT_MATCH_COMPLETED, EventType.SEARCHING, EventType.CANCELLED]
        accept(gl, "l-1", "p3")  # the answer given before the restart is remembered
        assert detail_types(emu) == after
        advance(emu, 499)  # t0 + 599: one second before the original deadline
        assert set(statuses(gl, "l-1", "l-2").values()) == {"REQUIRES_ACCEPTANCE"}
        advance(emu, 2)  # t0 + 601
        assert statuses(gl, "l-1", "l-2") == {"l-1": "SEARCHING", "l-2": "CANCELLED"}


def test_an_answer_after_the_deadline_is_refused_even_before_the_scheduler_runs(tmp_path):
    clock = FrozenClock(float(int(time.time())))
    with EmulatorThread(config_for(tmp_path), clock=clock) as emu:
        gl = gamelift(emu.url)
        setup_matchmaker(gl, "late", acceptance=10)
        start(gl, "late", "a", "p1")
        start(gl, "late", "b", "p2")
        advance(emu)
        accept(gl, "a", "p1")
        clock.advance(11)  # straight on the clock: no job has run yet
        with pytest.raises(ClientError) as exc:
            accept(gl, "b", "p2")
        assert exc.value.response["Error"]["Code"] == "InvalidRequestException"
        assert statuses(gl, "a", "b") == {"a": "SEARCHING", "b": "CANCELLED"}


SEEDED = {
    "rule_sets": [
        {"name": "pair", "body": {"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 2, "maxPlayers": 2}]}}
    ],
    "configurations": [
        {"name": "pairs", "rule_set": "pair", "acceptance_timeout_seconds": 20},
        {"name": "pairs-quick", "rule_set": "pair", "acceptance_required": False, "flexmatch_mode": "STANDALONE"},
    ],
}


def test_scenario_resources_are_seeded_once(tmp_path):
    config = config_for(tmp_path, db=str(tmp_path / "seed.db"), flexmatch=SEEDED)
    with EmulatorThread(config) as emu:
        gl = gamelift(emu.url)
        configs = gl.describe_matchmaking_configurations()["Configurations"]
        assert [c["Name"] for c in configs] == ["pairs", "pairs-quick"]
        assert configs[0]["AcceptanceRequired"] is True and configs[0]["AcceptanceTimeoutSeconds"] == 20
        assert configs[1]["FlexMatchMode"] == "STANDALONE"
        gl.delete_matchmaking_configuration(Name="pairs-quick")
    with EmulatorThread(config) as emu:
        gl = gamelift(emu.url)
        # Not seeded twice, and what was deleted through the API stays deleted.
        assert [c["Name"] for c in gl.describe_matchmaking_configurations()["Configurations"]] == ["pairs"]
        assert [r["RuleSetName"] for r in gl.describe_matchmaking_rule_sets()["RuleSets"]] == ["pair"]


def test_the_demo_scenario_is_loaded_by_default(emulator):
    gl = gamelift(emulator.url)
    configs = {c["Name"]: c for c in gl.describe_matchmaking_configurations()["Configurations"]}
    assert len(configs) >= 3
    requiring = [c for c in configs.values() if c["AcceptanceRequired"]]
    assert len(requiring) > len(configs) / 2
    assert all(30 <= c["AcceptanceTimeoutSeconds"] <= 60 for c in requiring)
    scenario = emulator.app.state.flexmatch.scenario
    assert scenario.human_player_ids and scenario.bots.count > 0
