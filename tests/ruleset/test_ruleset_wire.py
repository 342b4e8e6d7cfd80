"""GameLift's Player structure read into the engine's input, and used end to end."""

from __future__ import annotations

import pytest
from ruleset_helpers import example

from lobby.flexmatch.ruleset import Player, WireError, form_matches, player_from_wire, ticket_from_wire


def test_every_attribute_kind_and_latency():
    player = player_from_wire(
        {
            "PlayerId": "p1",
            "PlayerAttributes": {
                "skill": {"N": 23},
                "gameMode": {"S": "deathmatch"},
                "modes": {"SL": ["coop", "ctf", "coop"]},
                "maps": {"SDM": {"dust": 10, "forge": 2.5}},
            },
            "LatencyInMs": {"us-east-1": 40, "eu-west-1": 120},
        }
    )
    assert player == Player(
        "p1",
        {"skill": 23.0, "gameMode": "deathmatch", "modes": ("coop", "ctf"), "maps": {"dust": 10.0, "forge": 2.5}},
        {"us-east-1": 40.0, "eu-west-1": 120.0},
    )
    assert player_from_wire({"PlayerId": "bare"}) == Player("bare", {}, {})


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"PlayerId": 5},
        {"PlayerId": "p", "PlayerAttributes": {"skill": {"N": "high"}}},
        {"PlayerId": "p", "PlayerAttributes": {"skill": {"N": 1, "S": "x"}}},
        {"PlayerId": "p", "PlayerAttributes": {"skill": {"Q": 1}}},
        {"PlayerId": "p", "PlayerAttributes": {"modes": {"SL": ["a", 1]}}},
        {"PlayerId": "p", "PlayerAttributes": {"maps": {"SDM": {"a": "b"}}}},
        {"PlayerId": "p", "PlayerAttributes": {"skill": {"N": True}}},
        {"PlayerId": "p", "LatencyInMs": {"us": "fast"}},
        {"PlayerId": "p", "LatencyInMs": []},
    ],
)
def test_what_is_not_the_wire_shape_is_refused(raw):
    with pytest.raises(WireError):
        player_from_wire(raw)


def test_wire_tickets_form_a_match():
    rules = example("example1")
    tickets = [
        ticket_from_wire(f"t{i}", float(i), [{"PlayerId": f"p{i}", "PlayerAttributes": {"skill": {"N": 20 + i % 3}}}])
        for i in range(8)
    ]
    (match,) = form_matches(rules, tickets, now=10).matches
    assert sorted(match.ticket_ids) == [f"t{i}" for i in range(8)]
