"""Each rule type judged on candidate matches, from the guide's own examples: what the example
says it allows passes, what it says it refuses fails, with a reason."""

from __future__ import annotations

import pytest
from ruleset_helpers import body, example, party, solo

from lobby.flexmatch.ruleset import Ticket, evaluate_match, parse_rule_set


def judge(rules, teams: dict[str, list[Ticket]], now: float = 0.0, rule: str | None = None):
    result = evaluate_match(rules, teams, now)
    return result if rule is None else result.result(rule)


# --- comparison ----------------------------------------------------------------------------------


class TestComparison:
    rules = example("example2")  # players vs monster

    def hunters(self, *desired: float) -> list[Ticket]:
        return [solo(f"h{i}", desiredSkillOfMonster=d) for i, d in enumerate(desired)]

    def test_a_monster_who_asked_for_it_and_is_skilled_enough_passes(self):
        teams = {"players": self.hunters(10, 12, 15, 8, 9), "monster": [solo("m", skill=15, wantsToBeMonster=1)]}
        result = judge(self.rules, teams)
        assert result.passed, result
        assert [r.rule for r in result.rules] == ["MonsterSelection", "PlayerSelection", "MonsterSkill"]

    def test_a_monster_who_did_not_ask_fails_monster_selection(self):
        teams = {"players": self.hunters(10, 10, 10, 10, 10), "monster": [solo("m", skill=15)]}
        result = judge(self.rules, teams, rule="MonsterSelection")
        assert not result.passed
        assert result.reason == "teams[monster].players.attributes[wantsToBeMonster] gives 0, which is not = 1."

    def test_a_hunter_who_wants_the_monster_role_fails_player_selection(self):
        hunters = self.hunters(10, 10, 10, 10) + [solo("x", wantsToBeMonster=1)]
        teams = {"players": hunters, "monster": [solo("m", skill=15, wantsToBeMonster=1)]}
        assert not judge(self.rules, teams, rule="PlayerSelection").passed

    def test_the_monster_must_meet_the_highest_skill_the_hunters_want(self):
        teams = {"players": self.hunters(10, 30, 15, 8, 9), "monster": [solo("m", skill=25, wantsToBeMonster=1)]}
        result = judge(self.rules, teams, rule="MonsterSkill")
        assert not result.passed
        assert "is not >= 30" in result.reason and "max(teams[players]" in result.reason

    def test_across_players_equal_and_all_different(self):
        rules = example("example6")
        same = {"player_1": [solo("a", gameMode="coop", gameMap=2, character=1)],
                "player_2": [solo("b", gameMode="coop", gameMap=2, character=2)]}  # fmt: skip
        assert judge(rules, same).passed
        clash = {"player_1": [solo("a", character=7)], "player_2": [solo("b", character=7)]}
        result = judge(rules, clash)
        assert result.result("SameGameMode").passed  # both default to "turn-based"
        assert result.result("SameGameMap").passed
        assert result.result("DifferentCharacter").reason == (
            "flatten(teams[*].players.attributes[character]) gives 7 more than once; the values must all differ."
        )
        modes = {"player_1": [solo("a", gameMode="coop", character=1)], "player_2": [solo("b", character=2)]}
        assert "gives different values" in judge(rules, modes, rule="SameGameMode").reason

    def test_party_aggregation_turns_a_party_into_one_value(self):
        def rules(aggregation: str):
            return parse_rule_set(body([("all", 1, 5)], playerAttributes=[{"name": "skill", "type": "number"}], rules=[
                {"name": "Cap", "type": "comparison", "measurements": ["max(teams[all].players.attributes[skill])"],
                 "referenceValue": 30, "operation": "<=", "partyAggregation": aggregation}]))  # fmt: skip

        teams = {"all": [party("p", 0, {"skill": 20}, {"skill": 40}), solo("s", skill=25)]}
        assert judge(rules("avg"), teams).passed  # the party counts as 30
        assert judge(rules("min"), teams).passed  # ... as 20
        assert not judge(rules("max"), teams).passed  # ... as 40


# --- distance ------------------------------------------------------------------------------------


class TestDistance:
    rules = example("example1")  # aliens vs cowboys

    def team(self, prefix: str, *skills: float, start: float = 0.0) -> list[Ticket]:
        return [solo(f"{prefix}{i}", start, skill=s) for i, s in enumerate(skills)]

    def test_team_averages_within_ten_of_the_match_average_pass(self):
        teams = {"cowboys": self.team("c", 10, 20, 30, 40), "aliens": self.team("a", 20, 20, 30, 30)}
        result = judge(self.rules, teams)
        assert result.passed, result

    def test_team_averages_too_far_apart_fail_with_the_distance(self):
        teams = {"cowboys": self.team("c", 10, 10, 10, 10), "aliens": self.team("a", 40, 40, 40, 40)}
        result = judge(self.rules, teams, rule="FairTeamSkill")
        assert not result.passed
        assert result.reason == (
            "avg(teams[*].players.attributes[skill]) gives 10, 15 from 25; the most allowed is 10."
        )

    def test_the_expansion_relaxes_max_distance_with_the_newest_tickets_wait(self):
        teams = {"cowboys": self.team("c", 10, 10, 10, 10), "aliens": self.team("a", 40, 40, 40, 40)}
        assert not judge(self.rules, teams, now=4.9).passed
        relaxed = judge(self.rules, teams, now=5)
        assert relaxed.passed and relaxed.expanded == (("rules[FairTeamSkill].maxDistance", 50.0),)
        # A ticket that joined a second ago restarts the clock ("newest" is the default).
        teams["aliens"][0] = solo("late", 4.5, skill=40)
        assert not judge(self.rules, teams, now=5).passed

    def test_a_default_fills_a_missing_attribute(self):
        teams = {"cowboys": self.team("c", 10, 10, 10) + [solo("d")], "aliens": self.team("a", 10, 10, 10, 10)}
        assert judge(self.rules, teams).passed  # skill defaults to 10

    def test_equal_team_sizes_is_a_comparison_of_counts(self):
        teams = {"cowboys": self.team("c", 10, 10, 10, 10, 10), "aliens": self.team("a", 10, 10, 10, 10)}
        result = judge(self.rules, teams, rule="EqualTeamSizes")
        assert not result.passed and "gives 5, which is not = 4" in result.reason

    def test_close_team_sizes_and_spread_rules(self):
        three = example("example3")
        lat = {"us-east-1": 20}

        def trio(prefix: str, n: int) -> list[Ticket]:
            return [solo(f"{prefix}{i}", latency=lat, skill=10) for i in range(n)]

        assert judge(three, {"trio_1": trio("a", 3), "trio_2": trio("b", 3), "trio_3": trio("c", 4)}).passed
        result = judge(three, {"trio_1": trio("a", 3), "trio_2": trio("b", 5), "trio_3": trio("c", 5)})
        assert result.result("CloseTeamSizes").reason == "max(count(teams[*].players)) gives 5, 2 from 3; the most allowed is 1."

    def test_min_distance(self):
        rules = parse_rule_set(body(playerAttributes=[{"name": "skill", "type": "number"}], rules=[
            {"name": "Apart", "type": "distance", "measurements": ["avg(teams[red].players.attributes[skill])"],
             "referenceValue": "avg(teams[blue].players.attributes[skill])", "minDistance": 5}]))  # fmt: skip
        assert judge(rules, {"red": [solo("r", skill=10)], "blue": [solo("b", skill=15)]}).passed
        result = judge(rules, {"red": [solo("r", skill=10)], "blue": [solo("b", skill=14)]}, rule="Apart")
        assert result.reason.endswith("the least allowed is 5.")


# --- collection ----------------------------------------------------------------------------------


class TestCollection:
    def test_contains_counts_the_collections_holding_the_value(self):
        rules = example("example3")
        lat = {"us-east-1": 20}

        def team(prefix: str, medics: int) -> list[Ticket]:
            return [
                solo(f"{prefix}{i}", latency=lat, character=("medic",) if i < medics else ("peasant",)) for i in range(3)
            ]

        assert judge(rules, {"trio_1": team("a", 2), "trio_2": team("b", 2), "trio_3": team("c", 1)}).passed
        result = judge(rules, {"trio_1": team("a", 2), "trio_2": team("b", 2), "trio_3": team("c", 2)}, rule="OverallMedicLimit")
        assert not result.passed
        assert result.reason == (
            "The number of collections in flatten(teams[*].players.attributes[character]) holding 'medic' is 6; "
            "the most allowed is 5."
        )

    def test_intersection_counts_the_values_every_player_shares(self):
        rules = example("example4")

        def p(name: str, modes: tuple[str, ...], maps: tuple[str, ...] = ("dust",)) -> Ticket:
            return solo(name, gameMode=modes, acceptableMaps=maps)

        shared = {"red": [p("a", ("coop", "ffa")), p("b", ("coop",)), p("c", ("coop", "ctf"))],
                  "blue": [p("d", ("coop",)), p("e", ("ffa", "coop")), p("f", ("coop",))]}  # fmt: skip
        assert judge(rules, shared).passed
        shared["blue"][0] = p("d", ("ctf",))
        result = judge(rules, shared, rule="SharedMode")
        assert result.reason == (
            "The number of values common to every collection in flatten(teams[*].players.attributes[gameMode]) is 0; "
            "the least allowed is 1."
        )
        # Defaults: both lists default for a player who gives neither.
        assert judge(rules, {"red": [solo(x) for x in "abc"], "blue": [solo(x) for x in "def"]}).passed

    def test_reference_intersection_count_with_a_set_intersection_reference(self):
        rules = example("example5")

        def p(name: str, mine: str, wanted: tuple[str, ...], start: float = 0.0) -> Ticket:
            return solo(name, start, myCharacter=(mine,), preferredOpponents=wanted)

        ok = [p("a", "knight", ("mage", "knight", "rogue")), p("b", "mage", ("mage", "knight")),
              p("c", "knight", ("knight", "mage")), p("d", "mage", ("mage", "knight")), p("e", "mage", ("knight", "mage"))]  # fmt: skip
        assert judge(rules, {"red": ok}).passed
        bad = ok[:4] + [p("e", "rogue", ("knight", "mage"))]
        result = judge(rules, {"red": bad}, rule="OpponentMatch")
        assert result.reason == "The intersection of ['rogue'] with the reference values is 0; the least allowed is 1."
        # After 15 seconds the expansion drops minCount to 0.
        assert judge(rules, {"red": bad}, now=15).passed

    def test_block_list(self):
        rules = example("example11")

        def p(name: str, *blocked: str) -> Ticket:
            return solo(name, BlockList=blocked)

        clean = {"red": [p("a"), p("b"), p("c"), p("d"), p("e")], "blue": [p("f"), p("g"), p("h"), p("i"), p("j", "zed")]}
        assert judge(rules, clean).passed
        clean["blue"][4] = p("j", "a")
        result = judge(rules, clean, rule="PlayerIdNotInBlockList")
        assert not result.passed and "The intersection of ['a']" in result.reason

    def test_union_and_intersection_party_aggregation(self):
        def rules(aggregation: str):
            return parse_rule_set(body([("all", 1, 5)], playerAttributes=[{"name": "modes", "type": "string_list"}], rules=[
                {"name": "HasCtf", "type": "collection", "measurements": ["teams[all].players.attributes[modes]"],
                 "operation": "contains", "referenceValue": "CTF", "minCount": 1, "partyAggregation": aggregation}]))  # fmt: skip

        teams = {"all": [party("p", 0, {"modes": ("TDM", "CTF")}, {"modes": ("TDM",)})]}
        assert judge(rules("union"), teams).passed
        assert not judge(rules("intersection"), teams).passed

    def test_without_bounds_a_count_of_one_is_needed(self):
        rules = parse_rule_set(body([("all", 1, 5)], playerAttributes=[{"name": "modes", "type": "string_list"}], rules=[
            {"name": "Common", "type": "collection", "measurements": ["teams[all].players.attributes[modes]"],
             "operation": "intersection"}]))  # fmt: skip
        assert judge(rules, {"all": [solo("a", modes=("x",)), solo("b", modes=("x", "y"))]}).passed
        assert not judge(rules, {"all": [solo("a", modes=("x",)), solo("b", modes=("y",))]}).passed


# --- latency -------------------------------------------------------------------------------------


class TestLatency:
    rules = example("example3")

    def teams(self, *latencies: dict[str, float], start: float = 0.0) -> dict[str, list[Ticket]]:
        tickets = [solo(f"t{i}", start, latency=lat) for i, lat in enumerate(latencies)]
        return {"trio_1": tickets[0:3], "trio_2": tickets[3:6], "trio_3": tickets[6:9]}

    def test_every_player_under_max_latency_in_a_common_region_passes(self):
        fast = {"us-east-1": 30, "eu-west-1": 120}
        result = judge(self.rules, self.teams(*[fast] * 8, {"us-east-1": 50, "eu-west-1": 10}))
        assert result.passed and result.region == "us-east-1"

    def test_no_common_region_fails_then_expansions_relax_it(self):
        lat = [{"us-east-1": 30, "eu-west-1": 90}] * 8 + [{"us-east-1": 60, "eu-west-1": 10}]
        result = judge(self.rules, self.teams(*lat), rule="FastConnection")
        assert result.reason == "No region has a latency of at most 50 ms for every ticket."
        relaxed = judge(self.rules, self.teams(*lat), now=10)
        assert relaxed.passed and relaxed.expanded == (("rules[FastConnection].maxLatency", 100.0),)
        assert relaxed.region == "us-east-1"  # lowest average latency of the regions everyone may use

    def test_a_player_without_latency_cannot_be_matched_with_a_latency_rule(self):
        teams = self.teams(*[{"us-east-1": 30}] * 8, {})
        result = judge(self.rules, teams)
        assert not result.passed
        assert any("reports no latency" in p for p in result.problems)

    def test_max_distance_from_the_reference(self):
        def rules(reference: str):
            return parse_rule_set(body([("all", 1, 5)], rules=[
                {"name": "Near", "type": "latency", "maxLatency": 200, "maxDistance": 30, "distanceReference": reference}]))  # fmt: skip

        teams = {"all": [solo("a", latency={"r": 10}), solo("b", latency={"r": 35}), solo("c", latency={"r": 45})]}
        assert not judge(rules("min"), teams).passed  # 45 is 35 above the lowest, 10
        assert judge(rules("avg"), teams).passed  # every one is within 30 of the average, 30
        result = judge(rules("min"), teams, rule="Near")
        assert result.reason == "No acceptable region has every ticket's latency within 30 ms of the min latency."

    def test_a_party_latency_is_aggregated_over_its_players(self):
        rules = parse_rule_set(body([("all", 1, 5)], rules=[
            {"name": "Fast", "type": "latency", "maxLatency": 50, "partyAggregation": "max"}]))  # fmt: skip
        duo = party("p", 0, {}, {}, latency={"r": 40})
        assert judge(rules, {"all": [duo]}).passed
        slow = Ticket("q", 0, (solo("x", latency={"r": 40}).players[0], solo("y", latency={"r": 60}).players[0]))
        assert not judge(rules, {"all": [slow]}).passed
        avg = parse_rule_set(body([("all", 1, 5)], rules=[{"name": "Fast", "type": "latency", "maxLatency": 50}]))
        assert judge(avg, {"all": [slow]}).passed  # average 50


# --- batchDistance -------------------------------------------------------------------------------


class TestBatchDistance:
    rules = parse_rule_set(
        body([("all", 1, 4)], playerAttributes=[{"name": "SkillRating", "type": "number"}, {"name": "GameMode", "type": "string"}],
             rules=[{"name": "SimilarSkillRatings", "description": "All players must have similar skill ratings",
                     "type": "batchDistance", "batchAttribute": "SkillRating", "maxDistance": "500"},
                    {"name": "SameGameMode", "description": "All players must have the same game mode",
                     "type": "batchDistance", "batchAttribute": "GameMode"}])  # fmt: skip
    )

    def test_numbers_within_max_distance_of_one_another(self):
        ok = [solo("a", SkillRating=1000, GameMode="x"), solo("b", SkillRating=1500, GameMode="x")]
        assert judge(self.rules, {"all": ok}).passed
        far = ok + [solo("c", SkillRating=1501, GameMode="x")]
        result = judge(self.rules, {"all": far}, rule="SimilarSkillRatings")
        assert result.reason == "The tickets' SkillRating values span 1000 to 1501; they must lie within 500 of one another."

    def test_strings_must_be_equal(self):
        mixed = [solo("a", SkillRating=1000, GameMode="x"), solo("b", SkillRating=1000, GameMode="y")]
        result = judge(self.rules, {"all": mixed}, rule="SameGameMode")
        assert result.reason == "The players' GameMode values differ (['x', 'y']); they must all be equal."

    def test_the_expansion_of_example_9(self):
        rules = example("example9")

        def p(name: str, skill: float, start: float = 0.0) -> Ticket:
            return solo(name, start, league=1, skill=skill, map="dust", mode="ranked")

        teams = {"red": [p(f"r{i}", 10 + i % 2 * 15) for i in range(100)], "blue": [p(f"b{i}", 12) for i in range(100)]}
        assert not judge(rules, teams).passed
        assert judge(rules, teams, now=10).passed  # maxDistance 20 after 10 s


# --- compound ------------------------------------------------------------------------------------


class TestCompound:
    rules = example("example10")

    def p(self, name: str, league: float, skill: float, map_: str, mode: str) -> Ticket:
        return solo(name, league=league, skill=skill, map=map_, mode=mode)

    def teams(self, *players: Ticket) -> dict[str, list[Ticket]]:
        return {"red": list(players[: len(players) // 2]), "blue": list(players[len(players) // 2 :])}

    def test_either_branch_of_the_or_passes(self):
        same_selection = [self.p(f"s{i}", 1 + i * 5, i * 50, "dust", "ranked") for i in range(20)]
        result = judge(self.rules, self.teams(*same_selection))
        assert result.passed
        # The rules it combines fail on their own but decide nothing alone.
        skill = result.result("SimilarSkillDistance")
        assert not skill.passed and not skill.enforced
        similar = [self.p(f"c{i}", 3, 100 + i % 5, ["dust", "forge"][i % 2], "coop") for i in range(20)]
        assert judge(self.rules, self.teams(*similar)).passed

    def test_neither_branch_fails(self):
        players = [self.p(f"n{i}", 1 + i * 5, i * 50, ["dust", "forge"][i % 2], "ranked") for i in range(20)]
        result = judge(self.rules, self.teams(*players), rule="CompoundRuleMatchmaker")
        assert not result.passed and result.enforced
        assert result.reason == (
            "The statement or(and(SameMapComparison, SameModeComparison), and(SimilarSkillDistance, "
            "SimilarLeagueDistance)) is false for this match."
        )

    @pytest.mark.parametrize(
        ("statement", "expected"),
        [("and(Low, High)", False), ("or(Low, High)", True), ("xor(Low, High)", True), ("xor(Low, Low2)", False),
         ("not(High)", True), ("not(Low)", False), ("and(Low, not(High))", True), ("or(High, High2, Low)", True)],
    )  # fmt: skip
    def test_operators(self, statement, expected):
        rules = parse_rule_set(body([("all", 1, 2)], playerAttributes=[{"name": "skill", "type": "number"}], rules=[
            {"name": "Low", "type": "comparison", "measurements": ["teams[all].players.attributes[skill]"],
             "referenceValue": 10, "operation": "<"},
            {"name": "Low2", "type": "comparison", "measurements": ["teams[all].players.attributes[skill]"],
             "referenceValue": 20, "operation": "<"},
            {"name": "High", "type": "comparison", "measurements": ["teams[all].players.attributes[skill]"],
             "referenceValue": 100, "operation": ">"},
            {"name": "High2", "type": "comparison", "measurements": ["teams[all].players.attributes[skill]"],
             "referenceValue": 200, "operation": ">"},
            {"name": "C", "type": "compound", "statement": statement}]))  # fmt: skip
        assert judge(rules, {"all": [solo("a", skill=5)]}, rule="C").passed is expected


# --- sort rules and the match as a whole ---------------------------------------------------------


def test_sort_rules_never_fail_a_match():
    result = judge(example("example4"), {"red": [solo(x) for x in "abc"], "blue": [solo(x) for x in "def"]})
    sorts = [r for r in result.rules if r.type in ("absoluteSort", "distanceSort")]
    assert [r.passed for r in sorts] == [True, True] and not any(r.enforced for r in sorts)


def test_team_sizes_and_unknown_teams():
    rules = example("example1")
    result = judge(rules, {"cowboys": [solo("a")], "aliens": [solo("b")]})
    assert not result.passed
    assert result.problems == (
        "Team cowboys has 1 players; it needs at least 4.",
        "Team aliens has 1 players; it needs at least 4.",
    )
    with pytest.raises(ValueError, match="no team named 'martians'"):
        evaluate_match(rules, {"martians": []}, 0)


def test_a_ticket_with_a_value_of_the_wrong_type_cannot_be_matched():
    rules = example("example1")
    teams = {"cowboys": [solo(f"c{i}", skill=10) for i in range(4)],
             "aliens": [solo(f"a{i}", skill=10) for i in range(3)] + [solo("x", skill="high")]}  # fmt: skip
    result = judge(rules, teams)
    assert not result.passed
    assert result.problems == ("Ticket x: Player x's attribute skill is not a number value.",)
    assert all(not r.passed and r.reason.startswith("Not evaluated") for r in result.rules)


def test_the_oldest_ticket_decides_with_expansion_age_selection_oldest():
    rules = parse_rule_set(
        body([("red", 1, 1), ("blue", 1, 1)], playerAttributes=[{"name": "skill", "type": "number"}],
             algorithm={"expansionAgeSelection": "oldest"},
             rules=[{"name": "Close", "type": "distance", "measurements": ["avg(teams[red].players.attributes[skill])"],
                     "referenceValue": "avg(teams[blue].players.attributes[skill])", "maxDistance": 5}],
             expansions=[{"target": "rules[Close].maxDistance", "steps": [{"waitTimeSeconds": 30, "value": 50}]}])  # fmt: skip
    )
    teams = {"red": [solo("old", 0, skill=10)], "blue": [solo("new", 29, skill=40)]}
    result = judge(rules, teams, now=31)
    assert result.passed and result.wait_seconds == 31
