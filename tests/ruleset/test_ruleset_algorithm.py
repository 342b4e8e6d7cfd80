"""Forming matches in a tick: the documented process (oldest ticket first, candidates added
one by one to teams, rules checked for each), the guide's examples end to end, and the report
on every ticket left searching."""

from __future__ import annotations

import random

import pytest
from ruleset_helpers import body, example, example_body, party, solo

from lobby.flexmatch.ruleset import Ticket, evaluate_match, form_matches, parse_rule_set

SKILL = [{"name": "skill", "type": "number"}]


def teams_of(result) -> list[dict[str, tuple[str, ...]]]:
    return [dict(m.teams) for m in result.matches]


def test_the_oldest_ticket_is_matched_first_and_every_team_filled():
    rules = parse_rule_set(body([("red", 1, 1), ("blue", 1, 1)]))
    tickets = [solo("c", 3), solo("a", 1), solo("d", 4), solo("b", 2), solo("e", 5)]
    result = form_matches(rules, tickets, now=10)
    assert teams_of(result) == [{"red": ("a",), "blue": ("b",)}, {"red": ("c",), "blue": ("d",)}]
    (left,) = result.unmatched
    assert left.ticket_id == "e"
    assert left.reasons == (
        "Not enough compatible tickets: the best match around this ticket reached 1 players of the 2 the teams "
        "need (blue has 0 of 1).",
    )


def test_teams_fill_below_minimum_first_then_most_open_slots():
    # The guide's fill sequence: Red and Blue (5..10) and Green (2..3).
    rules = parse_rule_set(body([("Red", 5, 10), ("Blue", 5, 10), ("Green", 2, 3)]))
    tickets = [solo(f"t{i:02}", i) for i in range(20)]
    (match,) = form_matches(rules, tickets, now=100).matches
    assert match.teams["Red"] == tuple(f"t{i:02}" for i in [0, 2, 4, 6, 8, 12, 14, 16, 18])
    assert match.teams["Blue"] == tuple(f"t{i:02}" for i in [1, 3, 5, 7, 9, 13, 15, 17, 19])
    assert match.teams["Green"] == ("t10", "t11")
    (full,) = form_matches(rules, [solo(f"t{i:02}", i) for i in range(23)], now=100).matches
    assert [len(full.teams[t]) for t in ("Red", "Blue", "Green")] == [10, 10, 3]


def test_a_party_stays_on_one_team():
    rules = parse_rule_set(body([("red", 3, 3), ("blue", 3, 3)]))
    tickets = [solo("a", 0), party("trio", 1, {}, {}, {}), solo("b", 2), solo("c", 3)]
    (match,) = form_matches(rules, tickets, now=5).matches
    assert match.teams == {"red": ("a", "b", "c"), "blue": ("trio",)}


def test_a_complete_match_that_fails_a_count_rule_gives_back_its_newest_tickets():
    rules = example("example1")  # 4..8 a side, EqualTeamSizes
    tickets = [solo(f"t{i}", i, skill=10) for i in range(11)]
    (match,) = form_matches(rules, tickets, now=100).matches
    assert [len(v) for v in match.teams.values()] == [5, 5]
    assert {r.ticket_id for r in form_matches(rules, tickets, now=100).unmatched} == {"t10"}
    eq = next(m for m in match.metrics if m.rule == "EqualTeamSizes")
    assert (eq.passed, eq.failed) == (1, 1)  # 6 v 5 failed, then 5 v 5 passed


def test_rules_refuse_candidates_and_say_so():
    rules = example("example1")
    tickets = [solo(f"t{i}", i, skill=10 + (i % 2) * 1000) for i in range(12)]
    result = form_matches(rules, tickets, now=0)
    for match in result.matches:
        assert evaluate_match(rules, {k: [t for t in tickets if t.ticket_id in v] for k, v in match.teams.items()}, 0).passed
    assert result.unmatched
    left = result.unmatched[0]
    assert left.held_back_by == ("FairTeamSkill",)
    fair = next(m for m in left.rules if m.rule == "FairTeamSkill")
    assert fair.failed > 0


def test_the_monster_example_end_to_end():
    rules = example("example2")
    hunters = [solo(f"h{i}", i, desiredSkillOfMonster=20) for i in range(5)]
    weak = solo("weak", 5, skill=15, wantsToBeMonster=1)
    strong = solo("strong", 6, skill=25, wantsToBeMonster=1)
    result = form_matches(rules, [*hunters, weak, strong], now=10)
    assert teams_of(result) == [{"players": tuple(f"h{i}" for i in range(5)), "monster": ("strong",)}]
    (left,) = result.unmatched
    assert left.ticket_id == "weak"
    assert "MonsterSkill" in left.held_back_by


def test_team_size_expansion_lets_a_smaller_match_form_later():
    rules = example("example2")
    tickets = [solo(f"h{i}", 0) for i in range(4)] + [solo("m", 0, skill=10, wantsToBeMonster=1)]
    assert not form_matches(rules, tickets, now=29).matches
    (match,) = form_matches(rules, tickets, now=30).matches
    assert len(match.teams["players"]) == 4
    assert match.evaluation.expanded == (("teams[players].minPlayers", 4.0),)


def test_expansions_wait_for_the_newest_ticket_unless_told_the_oldest():
    def rules(age: str):
        return parse_rule_set(body(
            playerAttributes=SKILL, algorithm={"expansionAgeSelection": age},
            rules=[{"name": "Close", "type": "distance", "measurements": ["avg(teams[red].players.attributes[skill])"],
                    "referenceValue": "avg(teams[blue].players.attributes[skill])", "maxDistance": 5}],
            expansions=[{"target": "rules[Close].maxDistance", "steps": [{"waitTimeSeconds": 30, "value": 50}]}]))  # fmt: skip

    tickets = [solo("old", 0, skill=10), solo("new", 20, skill=40)]
    assert not form_matches(rules("newest"), tickets, now=31).matches
    (match,) = form_matches(rules("oldest"), tickets, now=31).matches
    assert match.evaluation.wait_seconds == 31


def test_compound_example_forms_matches_through_either_branch():
    raw = example_body("example10")
    raw["teams"] = [{"name": "red", "minPlayers": 1, "maxPlayers": 1}, {"name": "blue", "minPlayers": 1, "maxPlayers": 1}]
    rules = parse_rule_set(raw)

    def p(name: str, league: float, skill: float, map_: str, mode: str) -> Ticket:
        return solo(name, 0, league=league, skill=skill, map=map_, mode=mode)

    same_selection = [p("a", 1, 10, "dust", "ranked"), p("b", 50, 80, "dust", "ranked")]
    assert len(form_matches(rules, same_selection, now=0).matches) == 1
    similar = [p("a", 1, 10, "dust", "ranked"), p("b", 1, 12, "forge", "coop")]
    assert len(form_matches(rules, similar, now=0).matches) == 1
    neither = [p("a", 1, 10, "dust", "ranked"), p("b", 50, 80, "forge", "coop")]
    result = form_matches(rules, neither, now=0)
    assert not result.matches
    assert all("CompoundRuleMatchmaker" in r.held_back_by for r in result.unmatched)


def test_block_list_end_to_end():
    raw = example_body("example11")
    raw["teams"] = [{"name": "red", "minPlayers": 2, "maxPlayers": 2}, {"name": "blue", "minPlayers": 2, "maxPlayers": 2}]
    rules = parse_rule_set(raw)
    tickets = [solo("a", 0, BlockList=("c",)), solo("b", 1), solo("c", 2), solo("d", 3)]
    assert not form_matches(rules, tickets, now=5).matches
    (match,) = form_matches(rules, [*tickets, solo("e", 4)], now=5).matches
    assert "c" not in match.ticket_ids


def test_sort_rules_order_the_candidates():
    def rules(kind: str, direction: str):
        return parse_rule_set(body(playerAttributes=SKILL, rules=[
            {"name": "S", "type": kind, "sortDirection": direction, "sortAttribute": "skill"}]))  # fmt: skip

    tickets = [solo("anchor", 0, skill=50), solo("a", 1, skill=90), solo("b", 2, skill=40), solo("c", 3, skill=55),
               solo("d", 4, skill=10)]  # fmt: skip
    partner = {}
    for kind, direction in [("distanceSort", "ascending"), ("distanceSort", "descending"),
                            ("absoluteSort", "ascending"), ("absoluteSort", "descending")]:  # fmt: skip
        first = form_matches(rules(kind, direction), tickets, now=5).matches[0]
        partner[(kind, direction)] = first.teams["blue"][0]
    assert partner == {
        ("distanceSort", "ascending"): "c",  # closest to 50
        ("distanceSort", "descending"): "d",  # farthest from 50
        ("absoluteSort", "ascending"): "d",  # lowest
        ("absoluteSort", "descending"): "a",  # highest
    }


def test_map_sort_uses_the_anchors_favourite_key():
    rules = example("example4")

    def p(name: str, start: float, prefs: dict[str, float], experience: float = 50) -> Ticket:
        return solo(name, start, mapPreference=prefs, experience=experience)

    anchor = p("anchor", 0, {"dust": 90, "forge": 10})
    others = [p(f"f{i}", 1 + i, {"forge": 100, "dust": 1}) for i in range(5)]
    others += [p(f"d{i}", 10 + i, {"dust": 80 + i}) for i in range(5)]
    first = form_matches(rules, [anchor, *others], now=20).matches[0]
    assert set(first.ticket_ids) == {"anchor", "d0", "d1", "d2", "d3", "d4"}


def test_sorted_batching_and_implicit_similarity_group_similar_players():
    sorted_rules = parse_rule_set(body([("red", 2, 2), ("blue", 2, 2)], playerAttributes=SKILL,
                                       algorithm={"batchingPreference": "sorted", "sortByAttributes": ["skill"]}))  # fmt: skip
    rnd = random.Random(4)
    skills = [100 + i / 10 for i in range(8)] + [2000 + i / 10 for i in range(8)]
    rnd.shuffle(skills)
    tickets = [solo(f"t{i}", i, skill=s) for i, s in enumerate(skills)]
    for match in form_matches(sorted_rules, tickets, now=50).matches:
        skills = [t.players[0].attributes["skill"] for t in tickets if t.ticket_id in match.ticket_ids]
        assert max(skills) - min(skills) < 10


def test_balanced_strategy_evens_out_the_teams():
    rules = parse_rule_set(body([("red", 2, 2), ("blue", 2, 2)], playerAttributes=SKILL,
                                algorithm={"strategy": "balanced", "balancedAttribute": "skill"}))  # fmt: skip
    tickets = [solo("a", 0, skill=10), solo("b", 1, skill=100), solo("c", 2, skill=11), solo("d", 3, skill=99)]
    (match,) = form_matches(rules, tickets, now=5).matches
    skill = {t.ticket_id: t.players[0].attributes["skill"] for t in tickets}
    sums = [sum(skill[t] for t in team) for team in match.teams.values()]
    assert abs(sums[0] - sums[1]) <= 2


def test_a_large_match_of_the_guide():
    rules = example("example7")
    rnd = random.Random(7)
    tickets = [
        solo(f"p{i}", i * 0.01, latency={"us-east-1": rnd.uniform(20, 140), "eu-west-1": rnd.uniform(20, 300)},
             skill=rnd.gauss(1000, 200))
        for i in range(190)
    ]  # fmt: skip
    (match,) = form_matches(rules, tickets, now=3).matches
    assert len(match.teams["Marauders"]) == 190
    assert match.evaluation.region == "us-east-1"
    assert [(m.rule, m.failed) for m in match.metrics] == [("low-latency", 0)]


def test_a_multi_team_large_match_fills_evenly():
    rules = example("example8")
    tickets = [solo(f"p{i}", i * 0.01, latency={"us-east-1": 40}, **{"monster-kills": i % 30}) for i in range(140)]
    (match,) = form_matches(rules, tickets, now=1).matches
    sizes = {name: len(v) for name, v in match.teams.items()}
    assert sizes["Monsters"] == 5
    hunters = [n for name, n in sizes.items() if name.startswith("Hunters")]
    assert sum(hunters) == 135 and max(hunters) - min(hunters) <= 1


def test_string_batch_distance_batches_by_value():
    rules = parse_rule_set(body(playerAttributes=[{"name": "mode", "type": "string"}], rules=[
        {"name": "SameMode", "type": "batchDistance", "batchAttribute": "mode"}]))  # fmt: skip
    tickets = [solo("a", 0, mode="x"), solo("b", 1, mode="y"), solo("c", 2, mode="y"), solo("d", 3, mode="x")]
    assert teams_of(form_matches(rules, tickets, now=5)) == [{"red": ("a",), "blue": ("d",)}, {"red": ("b",), "blue": ("c",)}]


def test_latency_keeps_players_of_distant_regions_apart():
    rules = example("example3")  # FastConnection 50 ms, relaxed to 100 after 10 s, 150 after 20 s
    east = [solo(f"e{i}", i, latency={"us-east-1": 30, "eu-west-1": 90}) for i in range(6)]
    west = [solo(f"w{i}", 6 + i, latency={"us-east-1": 90, "eu-west-1": 30}) for i in range(3)]
    result = form_matches(rules, east + west, now=15)
    assert not result.matches  # only 6 share a region under 50 ms; nine are needed
    assert all("Not enough compatible tickets" in r.reasons[0] for r in result.unmatched)
    (match,) = form_matches(rules, east + west, now=30).matches  # 100 ms: everyone shares both
    assert len(match.ticket_ids) == 9


def test_tickets_that_can_never_match_are_reported_and_left_out():
    rules = example("example3")
    lat = {"us-east-1": 20}
    tickets = [
        solo("ok", 0, latency=lat),
        Ticket("big", 1, tuple(solo(f"b{i}", latency=lat).players[0] for i in range(6))),
        solo("nolat", 2),
        solo("wrong", 3, latency=lat, skill="high"),
        solo("ok", 4, latency=lat),
    ]
    result = form_matches(rules, tickets, now=0)
    reasons = {r.ticket_id: r.reasons for r in result.unmatched}
    assert reasons["big"] == ("The ticket's 6 players cannot join one team: the largest team holds 5.",)
    assert reasons["nolat"] == ("Player nolat reports no latency, and rule FastConnection evaluates latency.",)
    assert reasons["wrong"] == ("Player wrong's attribute skill is not a number value.",)
    assert [r.ticket_id for r in result.unmatched].count("ok") == 2
    assert "The ticket is given twice; only its first copy is matched." in result.unmatched[-1].reasons


def test_missing_attribute_without_default():
    rules = example("example6")  # character has no default
    result = form_matches(rules, [solo("a", 0, character=1), solo("b", 1)], now=0)
    assert not result.matches
    assert result.unmatched[1].reasons == ("Player b has no value for attribute character, which has no default.",)
    assert result.unmatched[0].reasons[0].startswith("Not enough compatible tickets")


def test_metrics_name_every_rule_in_order_in_the_event_shape():
    rules = example("example3")
    lat = {"us-east-1": 20}
    tickets = [solo(f"t{i}", i, latency=lat, skill=10, character=("medic",) if i < 2 else ("peasant",)) for i in range(15)]
    (match,) = form_matches(rules, tickets, now=0).matches
    assert [m.rule for m in match.metrics] == ["FairTeamSkill", "CloseTeamSizes", "OverallMedicLimit", "FastConnection"]
    assert all(m.passed > 0 for m in match.metrics)
    assert match.metrics[0].as_event() == {
        "ruleName": "FairTeamSkill", "passedCount": match.metrics[0].passed, "failedCount": match.metrics[0].failed
    }
    assert match.evaluation.passed and all(r.passed for r in match.evaluation.rules)


def test_the_same_input_gives_the_same_result():
    rules = example("example1")
    rnd = random.Random(11)
    tickets = [solo(f"t{i}", rnd.uniform(0, 20), skill=rnd.gauss(50, 20)) for i in range(200)]
    first, again = form_matches(rules, tickets, now=25), form_matches(rules, list(tickets), now=25)
    assert teams_of(first) == teams_of(again)
    assert first.unmatched == again.unmatched
    assert [m.metrics for m in first.matches] == [m.metrics for m in again.matches]


def test_max_matches_and_window():
    rules = parse_rule_set(body([("red", 1, 1), ("blue", 1, 1)]))
    tickets = [solo(f"t{i}", i) for i in range(6)]
    result = form_matches(rules, tickets, now=10, max_matches=1)
    assert len(result.matches) == 1
    assert result.unmatched[-1].reasons == ("The tick stopped at its limit of 1 matches first.",)
    narrow = parse_rule_set(body([("red", 1, 1), ("blue", 1, 1)], playerAttributes=SKILL, rules=[
        {"name": "Even", "type": "comparison", "measurements": ["flatten(teams[*].players.attributes[skill])"],
         "operation": "="}]))  # fmt: skip
    uneven = [solo("a", 0, skill=1), solo("b", 1, skill=2), solo("c", 2, skill=3)]

    def failures_of_a(**kwargs: int) -> int:
        report = form_matches(narrow, uneven, now=5, **kwargs).unmatched[0]
        assert report.ticket_id == "a"
        return sum(m.failed for m in report.rules)

    # a tries b and c as anchor, and is tried by b and by c: four failures. With one candidate
    # per anchor, a tries only b, b only c (younger tickets come first), and c only a.
    assert failures_of_a() == 4
    assert failures_of_a(window=1) == 2


@pytest.mark.parametrize("seed", range(3))
def test_every_match_formed_passes_evaluate_match(seed):
    rules = example("example3")
    rnd = random.Random(seed)
    tickets = [
        solo(f"t{i}", rnd.uniform(0, 30), latency={"us-east-1": rnd.uniform(10, 120), "eu-west-1": rnd.uniform(10, 120)},
             skill=rnd.gauss(20, 8), character=(rnd.choice(["medic", "peasant", "peasant"]),))
        for i in range(120)
    ]  # fmt: skip
    now = 30.0
    result = form_matches(rules, tickets, now)
    assert result.matches
    by_id = {t.ticket_id: t for t in tickets}
    for match in result.matches:
        check = evaluate_match(rules, {k: [by_id[t] for t in v] for k, v in match.teams.items()}, now)
        assert check.passed, check
    assert len({t for m in result.matches for t in m.ticket_ids}) == sum(len(m.ticket_ids) for m in result.matches)
    assert len(result.unmatched) + sum(len(m.ticket_ids) for m in result.matches) == len(tickets)
