"""Demo bots: they queue bots and humans, answer only for bots, and are reproducible."""

from __future__ import annotations

import time

from flexmatch_helpers import advance, config_for, gamelift, gamelift_events

from lobby.core.clock import FrozenClock
from lobby.emulator.server import EmulatorThread
from lobby.flexmatch.lifecycle import EventType

T0 = float(int(time.time()))


def scenario(seed: int = 3, reject: float = 0.0) -> dict:
    return {
        "seed": seed,
        "placement_seconds": 2.0,
        "rule_sets": [
            {
                "name": "duel",
                "body": {
                    "ruleLanguageVersion": "1.0",
                    "teams": [
                        {"name": "red", "minPlayers": 1, "maxPlayers": 1},
                        {"name": "blue", "minPlayers": 1, "maxPlayers": 1},
                    ],
                },
            },
            {
                "name": "trio",
                "body": {
                    "ruleLanguageVersion": "1.0",
                    "teams": [{"name": "side", "minPlayers": 3, "maxPlayers": 3, "quantity": 2}],
                },
            },
        ],
        "configurations": [
            {"name": "duel", "rule_set": "duel", "acceptance_timeout_seconds": 20},
            {"name": "trio", "rule_set": "trio", "acceptance_timeout_seconds": 30},
        ],
        "human_parties": [{"players": ["me"], "configurations": ["duel"]}],
        "bots": {
            "count": 12,
            "party_sizes": [1, 2, 3],
            "queue_every_seconds": [0.5, 1.5],
            "accept_delay_seconds": [1.0, 4.0],
            "reject_probability": reject,
            "human_requeue_seconds": 3.0,
        },
    }


def run(tmp_path, name: str, steps: int, **kwargs) -> list[dict]:
    config = config_for(tmp_path / name, bots=True, flexmatch=scenario(**kwargs))
    with EmulatorThread(config, clock=FrozenClock(T0)) as emu:
        for _ in range(steps):
            advance(emu, 0.5)
        return gamelift_events(emu)


def summary(events: list[dict]) -> list[tuple]:
    """What happened, without the random ids (event ids, match ids, player session ids)."""
    out = []
    for event in events:
        d = event["detail"]
        players = tuple(
            (t["ticketId"], p["playerId"], p.get("team"), p.get("accepted"))
            for t in d["tickets"]
            for p in t["players"]
        )
        out.append((event["time"], d["type"], d.get("acceptance"), players))
    return out


def test_bots_queue_the_human_and_never_answer_for_them(tmp_path):
    (tmp_path / "a").mkdir()
    events = run(tmp_path, "a", steps=80)
    types = [e["detail"]["type"] for e in events]
    assert EventType.POTENTIAL_MATCH_CREATED in types and EventType.SUCCEEDED in types
    human_offers = [
        e for e in events
        if e["detail"]["type"] == EventType.POTENTIAL_MATCH_CREATED
        and any(p["playerId"] == "me" for t in e["detail"]["tickets"] for p in t["players"])
    ]  # fmt: skip
    assert human_offers, "the human party was never offered a match"
    for event in events:
        if event["detail"]["type"] == EventType.ACCEPT_MATCH:
            answered = {
                p["playerId"] for t in event["detail"]["tickets"] for p in t["players"] if "accepted" in p
            }
            assert "me" not in answered
    # Left unanswered, the human's offer times out and their ticket is cancelled; the bot that
    # accepted goes back to searching.
    cancelled = [
        e for e in events
        if e["detail"]["type"] == EventType.CANCELLED and e["detail"]["tickets"][0]["players"][0]["playerId"] == "me"
    ]  # fmt: skip
    assert cancelled
    # After the pause, the bots queue the human again.
    human_tickets = {
        t["ticketId"]
        for e in events
        for t in e["detail"]["tickets"]
        if t["players"][0]["playerId"] == "me"
    }
    assert len(human_tickets) >= 2


def test_same_seed_same_lobby(tmp_path):
    for name in ("one", "two", "other"):
        (tmp_path / name).mkdir()
    first = summary(run(tmp_path, "one", steps=40, reject=0.3))
    second = summary(run(tmp_path, "two", steps=40, reject=0.3))
    assert first == second
    assert any(step[2] == "Rejected" for step in first)
    assert summary(run(tmp_path, "other", steps=40, seed=4, reject=0.3)) != first


def test_no_bots_unless_asked(tmp_path):
    config = config_for(tmp_path, flexmatch=scenario())
    with EmulatorThread(config, clock=FrozenClock(T0)) as emu:
        advance(emu, 30)
        assert gamelift_events(emu) == []
        assert gamelift(emu.url).describe_matchmaking_configurations()["Configurations"]
