"""The built-in demo lives: its rule sets carry skill and latency rules, and with its bots on a
virtual clock matches form at once, form only after an expansion, and sometimes do not form
(the emulator says which rule holds a ticket back); the captain's own party gets offers."""

from __future__ import annotations

import time
from statistics import mean

from flexmatch_helpers import advance

from lobby.core.clock import FrozenClock
from lobby.emulator.flexmatch.bots import demo_player
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.scenario import load_scenario
from lobby.emulator.server import EmulatorThread
from lobby.flexmatch.lifecycle import EMULATOR_EVENT_SOURCE, EventType

T0 = float(int(time.time()))
#: Base values of the demo's rules (before any expansion), by configuration.
SQUAD_DISTANCE, DUEL_DISTANCE = 150, 100


def skill(player_id: str, humans: set[str]) -> float:
    return float(demo_player(player_id, human=player_id in humans)["PlayerAttributes"]["skill"]["N"])


def test_the_demo_forms_matches_at_once_after_expansions_and_sometimes_not(tmp_path):
    demo = load_scenario(None).flexmatch
    kinds = {r.name: {rule["type"] for rule in r.body.get("rules", [])} for r in demo.rule_sets}
    assert {"distance", "latency"} <= set().union(*kinds.values())
    assert {"distance", "latency"} <= kinds["squad-5v5"]
    humans = {p for party in demo.human_parties for p in party.players}

    config = EmulatorConfig(db=str(tmp_path / "demo.db"), bots=True, time_travel=True)
    with EmulatorThread(config, clock=FrozenClock(T0)) as emu:
        for _ in range(360):  # three minutes of the lobby's life
            advance(emu, 0.5)
        events = emu.runtime.events.since(0, limit=100_000)
    gamelift = [e.payload for e in events if e.source == "aws.gamelift"]
    proposed = [e for e in gamelift if e["detail"]["type"] == EventType.POTENTIAL_MATCH_CREATED]
    by_config = {e["resources"][0].rsplit("/", 1)[1] for e in proposed}
    assert {"ranked-5v5", "arena-3v3", "duel-1v1"} <= by_config

    def teams(event: dict) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for t in event["detail"]["tickets"]:
            for p in t["players"]:
                out.setdefault(p["team"], []).append(skill(p["playerId"], humans))
        return out

    # Matches only an expansion allows: teams' average skills further apart than the base rule.
    expanded = []
    for event in proposed:
        config_name = event["resources"][0].rsplit("/", 1)[1]
        sides = teams(event)
        overall = mean(s for side in sides.values() for s in side)
        if config_name == "ranked-5v5" and any(abs(mean(s) - overall) > SQUAD_DISTANCE for s in sides.values()):
            expanded.append(event)
        if config_name == "duel-1v1" and abs(sides["challenger"][0] - sides["defender"][0]) > DUEL_DISTANCE:
            expanded.append(event)
    assert expanded, "no match needed an expansion"

    # Tickets held back by a rule, as the emulator explains them.
    held = [e.payload["detail"] for e in events if e.source == EMULATOR_EVENT_SOURCE]
    rules_holding = {rule for d in held for rule in d["heldBackBy"]}
    assert {"EvenSkill", "FastConnection"} & rules_holding and "CloseSkill" in rules_holding, rules_holding

    # The captain's own party is offered matches.
    offered = {p["playerId"] for e in proposed for t in e["detail"]["tickets"] for p in t["players"]}
    assert {"captain-ayla", "mate-dara"} <= offered
