"""The matchmaker on its own: a pool of searching tickets in, proposed matches out (no database,
no server). Proposals as the service stores them are covered through the API in
test_flexmatch_boto3.py and test_flexmatch_events.py."""

from __future__ import annotations

import json

from lobby.emulator.flexmatch.matchmaker import Player, Pool, ProposedMatch, SearchingTicket, find_matches
from lobby.emulator.flexmatch.records import Config
from lobby.flexmatch.ruleset import parse_rule_set

NOW = 1_700_000_000.0


def pool(teams: list[dict[str, object]], parties: list[list[str]]) -> Pool:
    """Tickets in line order, one per party, each waiting a second less than the one before."""
    rule_set = parse_rule_set(json.dumps({"ruleLanguageVersion": "1.0", "teams": teams}))
    tickets = [
        SearchingTicket(
            f"t{i}",
            tuple(Player(p, {"skill": {"N": 10.0}}, {"us-east-1": 40}) for p in party),
            NOW - 100 + i,
            NOW - 50 + i,
        )
        for i, party in enumerate(parties)
    ]
    config = Config("c", "r", {"FlexMatchMode": "STANDALONE"}, NOW - 1000, None)
    return Pool(config, rule_set, tickets, NOW)


def one_v_one() -> list[dict[str, object]]:
    return [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}]


def test_the_longest_waiting_tickets_are_matched_first_and_the_rest_wait():
    matches = find_matches(pool(one_v_one(), [["a"], ["b"], ["c"]])).matches
    assert matches == [ProposedMatch(tickets=("t0", "t1"), teams={"red": ("a",), "blue": ("b",)})]


def test_one_pool_gives_as_many_matches_as_it_can_fill_in_line_order():
    matches = find_matches(pool(one_v_one(), [["a"], ["b"], ["c"], ["d"], ["e"]])).matches
    assert [m.tickets for m in matches] == [("t0", "t1"), ("t2", "t3")]


def test_a_party_stays_on_one_team_and_one_that_cannot_fit_is_passed_over():
    teams = [{"name": "red", "minPlayers": 2, "maxPlayers": 2}, {"name": "blue", "minPlayers": 2, "maxPlayers": 2}]
    matches = find_matches(pool(teams, [["a1", "a2"], ["b1"], ["c1", "c2"], ["d1"]])).matches
    # a1 and a2 fill red, b1 goes to blue, where the pair c1, c2 no longer fits: d1 comes first.
    assert matches == [ProposedMatch(tickets=("t0", "t1", "t3"), teams={"red": ("a1", "a2"), "blue": ("b1", "d1")})]


def test_teams_of_a_quantity_are_named_apart():
    teams = [{"name": "arena", "minPlayers": 1, "maxPlayers": 1, "quantity": 3}]
    (match,) = find_matches(pool(teams, [["a"], ["b"], ["c"]])).matches
    assert match.teams == {"arena_1": ("a",), "arena_2": ("b",), "arena_3": ("c",)}


def test_nothing_is_proposed_while_the_minimum_is_not_there():
    teams = [{"name": "red", "minPlayers": 3, "maxPlayers": 5}, {"name": "blue", "minPlayers": 3, "maxPlayers": 5}]
    assert find_matches(pool(teams, [["a", "b"], ["c", "d"]])).matches == []
    assert find_matches(pool(teams, [])).matches == []


def with_settings(p: Pool, **settings: object) -> Pool:
    return Pool(Config("c", "r", settings, NOW - 1000, None), p.rule_set, p.tickets, p.now)


def test_additional_player_count_leaves_slots_open_in_every_match():
    twelve = [{"name": "all", "minPlayers": 12, "maxPlayers": 12}]
    players = [[f"p{i}"] for i in range(14)]
    # The model's own example: one 12-player team, 2 slots kept open: 10 players are matched.
    (match,) = find_matches(with_settings(pool(twelve, players), AdditionalPlayerCount=2)).matches
    assert len(match.teams["all"]) == 10 and match.tickets == tuple(f"t{i}" for i in range(10))
    # Two teams of 5 with 3 open: the slots are dealt from the team with most room, first of equals.
    teams = [{"name": "red", "minPlayers": 5, "maxPlayers": 5}, {"name": "blue", "minPlayers": 5, "maxPlayers": 5}]
    matches = find_matches(with_settings(pool(teams, players), AdditionalPlayerCount=3)).matches
    assert [(len(m.teams["red"]), len(m.teams["blue"])) for m in matches] == [(3, 4), (3, 4)]


def test_additional_player_count_is_not_used_in_standalone_mode():
    twelve = [{"name": "all", "minPlayers": 12, "maxPlayers": 12}]
    players = [[f"p{i}"] for i in range(12)]
    standalone = with_settings(pool(twelve, players), FlexMatchMode="STANDALONE", AdditionalPlayerCount=2)
    (match,) = find_matches(standalone).matches
    assert len(match.teams["all"]) == 12


def test_a_party_that_only_fits_without_the_open_slots_waits_and_is_told_why():
    teams = [{"name": "red", "minPlayers": 1, "maxPlayers": 3}, {"name": "blue", "minPlayers": 1, "maxPlayers": 3}]
    outcome = find_matches(with_settings(pool(teams, [["a", "b", "c"], ["d"], ["e"]]), AdditionalPlayerCount=2))
    assert [m.tickets for m in outcome.matches] == [("t1", "t2")]
    (left,) = outcome.left
    assert left.ticket_id == "t0" and any("largest team holds 2" in r for r in left.reasons), left.reasons
