"""Reading and checking rule set bodies: the guide's examples are valid, and each kind of
mistake the service refuses comes back as a problem naming its section and field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruleset_helpers import EXAMPLE_FILES, body, example, example_body

from lobby.flexmatch.ruleset import RuleSet, RuleSetInvalid, RuleSetProblem, parse_rule_set, validate_rule_set
from lobby.flexmatch.ruleset.model import (
    BatchDistanceRule,
    Call,
    CollectionRule,
    CompoundRule,
    DistanceRule,
    Expr,
    LatencyRule,
    RuleRef,
    RuleTarget,
    TeamTarget,
)


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_every_example_rule_set_of_the_guide_is_valid(name):
    result = validate_rule_set(json.dumps(example_body(name.removesuffix(".json"))))
    assert isinstance(result, RuleSet), result


def test_a_definition_with_quantity_makes_numbered_teams():
    rules = example("example3")
    assert [t.name for t in rules.teams] == ["trio_1", "trio_2", "trio_3"]
    assert {(t.definition, t.min_players, t.max_players) for t in rules.teams} == {("trio", 3, 5)}
    hunters = example("example8")
    assert [t.name for t in hunters.teams] == ["Monsters"] + [f"Hunters_{n}" for n in range(1, 11)]
    assert hunters.max_players == 155


def test_more_than_forty_players_is_a_large_match():
    assert example("example7").is_large and example("example8").is_large and example("example9").is_large
    assert not example("example10").is_large  # exactly 40 players
    assert example("example10").max_players == 40


def test_the_parsed_rules_keep_what_the_body_says():
    rules = example("example1")
    fair, equal = rules.rules
    assert isinstance(fair, DistanceRule)
    assert fair.measurements == ("avg(teams[*].players.attributes[skill])",)
    assert fair.reference == Expr("avg(flatten(teams[*].players.attributes[skill]))")
    assert fair.max_distance == 10.0 and fair.min_distance is None and fair.party_aggregation == "avg"
    assert equal.type == "comparison"
    (expansion,) = rules.expansions
    assert expansion.target == RuleTarget("FairTeamSkill", "maxDistance")
    assert [(s.wait_seconds, s.value) for s in expansion.steps] == [(5.0, 50.0), (15.0, 100.0)]
    assert rules.attribute("skill").default == 10.0
    assert rules.algorithm.strategy == "exhaustiveSearch" and rules.algorithm.batching_preference == "random"
    assert rules.algorithm.expansion_age_selection == "newest" and rules.algorithm.backfill_priority == "normal"


def test_the_compound_statement_is_parsed_into_a_tree():
    rule = example("example10").rule("CompoundRuleMatchmaker")
    assert isinstance(rule, CompoundRule)
    assert rule.tree == Call(
        "or",
        (
            Call("and", (RuleRef("SameMapComparison"), RuleRef("SameModeComparison"))),
            Call("and", (RuleRef("SimilarSkillDistance"), RuleRef("SimilarLeagueDistance"))),
        ),
    )


def test_collection_references_and_block_list_measurements_given_as_a_string():
    block = example("example11").rule("PlayerIdNotInBlockList")
    assert isinstance(block, CollectionRule)
    assert block.measurements == ("flatten(teams[*].players.attributes[BlockList])",)
    assert block.reference == Expr("flatten(teams[*].players[playerId])")
    assert block.max_count == 0 and block.min_count is None
    medics = example("example3").rule("OverallMedicLimit")
    assert isinstance(medics, CollectionRule) and medics.reference == "medic" and medics.max_count == 5


def test_numbers_written_as_strings_are_read_as_the_guide_writes_them():
    # The rule types page writes "maxDistance":"500".
    rules = parse_rule_set(
        body(
            playerAttributes=[{"name": "SkillRating", "type": "number"}, {"name": "GameMode", "type": "string"}],
            rules=[
                {"name": "SimilarSkillRatings", "description": "All players must have similar skill ratings",
                 "type": "batchDistance", "batchAttribute": "SkillRating", "maxDistance": "500"},
                {"name": "SameGameMode", "description": "All players must have the same game mode",
                 "type": "batchDistance", "batchAttribute": "GameMode"},
            ],
        )  # fmt: skip
    )
    similar, same = rules.rules
    assert isinstance(similar, BatchDistanceRule) and similar.max_distance == 500.0
    assert isinstance(same, BatchDistanceRule) and same.max_distance is None


def test_the_rule_type_pages_examples_are_valid():
    rules = parse_rule_set(
        body(
            playerAttributes=[{"name": "skill", "type": "number"}, {"name": "mode", "type": "string"}],
            rules=[
                {"name": "SeriousPlayers", "type": "comparison", "measurements": ["flatten(teams[*].players.attributes[mode])"],
                 "referenceValue": "serious", "operation": "="},
                {"name": "CasualPlayers", "type": "comparison", "measurements": ["flatten(teams[*].players.attributes[mode])"],
                 "referenceValue": "casual", "operation": "="},
                {"name": "VeryCloseSkill", "type": "distance", "measurements": ["max(flatten(teams[*].players.attributes[skill]))"],
                 "referenceValue": "min(flatten(teams[*].players.attributes[skill]))", "maxDistance": 5},
                {"name": "SomewhatCloseSkill", "type": "distance", "measurements": ["max(flatten(teams[*].players.attributes[skill]))"],
                 "referenceValue": "min(flatten(teams[*].players.attributes[skill]))", "maxDistance": 50},
                {"name": "CompoundRuleExample", "type": "compound",
                 "statement": "or(and(SeriousPlayers, VeryCloseSkill), and(CasualPlayers, SomewhatCloseSkill))"},
                {"name": "AbsoluteSortExample", "type": "absoluteSort", "sortDirection": "ascending",
                 "sortAttribute": "skill", "partyAggregation": "avg"},
            ],
        )  # fmt: skip
    )
    assert [r.type for r in rules.rules][-2:] == ["compound", "absoluteSort"]


def test_properties_the_service_does_not_define_are_ignored():
    rules = parse_rule_set(body(pad="x" * 100, rules=[{"name": "L", "type": "latency", "maxLatency": 50, "extra": 1}]))
    assert isinstance(rules.rules[0], LatencyRule)


def test_latency_max_distance_without_reference_measures_from_the_lowest():
    rules = parse_rule_set(body(rules=[{"name": "L", "type": "latency", "maxLatency": 150, "maxDistance": 40}]))
    (rule,) = rules.rules
    assert isinstance(rule, LatencyRule) and rule.distance_reference == "min"


def test_team_expansions_name_definitions_and_lists_of_them():
    rules = parse_rule_set(
        body(
            [("Red", 4, 5), ("Yellow", 4, 5)],
            expansions=[{"target": "teams[Red, Yellow].minPlayers", "steps": [{"waitTimeSeconds": 30, "value": 3}]}],
        )
    )
    assert rules.expansions[0].target == TeamTarget(("Red", "Yellow"), "minPlayers")


def test_the_largest_team_counts_max_players_expansions():
    rules = parse_rule_set(
        body([("a", 2, 3)], expansions=[{"target": "teams[a].maxPlayers", "steps": [{"waitTimeSeconds": 5, "value": 6}]}])
    )
    assert rules.largest_team == 6


# --- problems ------------------------------------------------------------------------------------

NUMBER = [{"name": "skill", "type": "number"}]
STRINGS = [{"name": "modes", "type": "string_list"}, {"name": "mode", "type": "string"}]
MAP = [{"name": "maps", "type": "string_number_map"}]
SKILL = "teams[*].players.attributes[skill]"


def rule(**fields: Any) -> dict[str, Any]:
    return body(playerAttributes=NUMBER + STRINGS + MAP, rules=[{"name": "R", **fields}])


INVALID: list[tuple[str, dict[str, Any] | str, str, str | None, str]] = [
    # (what, body, section, field, words of the message)
    ("not JSON", "{", "ruleSet", None, "not valid JSON"),
    ("NaN", '{"ruleLanguageVersion": "1.0", "x": NaN}', "ruleSet", None, "not valid JSON"),
    ("lone surrogate", '{"ruleLanguageVersion": "1.0", "teams": [{"name": "\\ud800", "minPlayers": 1, "maxPlayers": 1}]}',
     "ruleSet", None, "lone UTF-16 surrogate"),
    ("deep", "[" * 30_000 + "]" * 30_000, "ruleSet", None, "nests too deep"),
    ("a list", "[]", "ruleSet", None, "must be a JSON object"),
    ("no version", {"teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 1}]}, "ruleSet", "ruleLanguageVersion",
     "needs a ruleLanguageVersion"),
    ("other version", body(ruleLanguageVersion="2.0"), "ruleSet", "ruleLanguageVersion", "'2.0' is not supported"),
    ("name not a string", body(name=3), "ruleSet", "name", "must be a string"),
    ("no teams", {"ruleLanguageVersion": "1.0"}, "teams", None, "needs teams"),
    ("empty teams", body() | {"teams": []}, "teams", None, "needs teams"),
    ("team without name", body() | {"teams": [{"minPlayers": 1, "maxPlayers": 1}]}, "teams[0]", "name", "non-empty string name"),
    ("team twice", body([("a", 1, 1), ("a", 1, 1)]), "teams[a]", "name", "used twice"),
    ("min above max", body([("a", 3, 2)]), "teams[a]", "minPlayers", "above its maxPlayers 2"),
    ("max zero", body([("a", 1, 0)]), "teams[a]", "maxPlayers", "whole number of at least 1"),
    ("min zero", body([("a", 0, 2)]), "teams[a]", "minPlayers", "whole number of at least 1"),
    ("min fractional", body() | {"teams": [{"name": "a", "minPlayers": 1.5, "maxPlayers": 2}]}, "teams[a]", "minPlayers",
     "whole number"),
    ("no max", body() | {"teams": [{"name": "a", "minPlayers": 1}]}, "teams[a]", "maxPlayers", "needs maxPlayers"),
    ("quantity zero", body() | {"teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 1, "quantity": 0}]}, "teams[a]",
     "quantity", "whole number of at least 1"),
    ("quantity clash", body() | {"teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 1, "quantity": 2},
                                          {"name": "a_1", "minPlayers": 1, "maxPlayers": 1}]},
     "teams[a_1]", "name", "a team that team 'a' makes with its quantity"),
    ("quantity clash, later", body() | {"teams": [{"name": "a_2", "minPlayers": 1, "maxPlayers": 1},
                                                 {"name": "a", "minPlayers": 1, "maxPlayers": 1, "quantity": 2}]},
     "teams[a]", "quantity", "a name team 'a_2' already has"),
    ("over 200", body([("a", 1, 150), ("b", 1, 60)]), "teams", "maxPlayers", "at most 200"),
    ("huge quantity", body() | {"teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 1, "quantity": 10**9}]},
     "teams", "maxPlayers", "hold up to 1000000000 players"),
    ("large needs balanced", body([("a", 1, 30), ("b", 1, 30)]), "algorithm", "strategy", 'needs algorithm.strategy "balanced"'),
    ("attribute type", body(playerAttributes=[{"name": "skill", "type": "float"}]), "playerAttributes[skill]", "type",
     "has type 'float'"),
    ("attribute twice", body(playerAttributes=NUMBER + NUMBER), "playerAttributes[skill]", "name", "declared twice"),
    ("attribute no name", body(playerAttributes=[{"type": "number"}]), "playerAttributes[0]", "name", "non-empty string name"),
    ("default of wrong type", body(playerAttributes=[{"name": "skill", "type": "number", "default": "high"}]),
     "playerAttributes[skill]", "default", "not a number value"),
    ("list default of wrong type", body(playerAttributes=[{"name": "m", "type": "string_list", "default": "x"}]),
     "playerAttributes[m]", "default", "not a string_list value"),
    ("attributes not a list", body(playerAttributes={"skill": "number"}), "playerAttributes", None, "must be a list"),
    ("strategy", body(algorithm={"strategy": "genetic"}), "algorithm", "strategy", "'genetic'"),
    ("batching", body(algorithm={"batchingPreference": "balanced"}), "algorithm", "batchingPreference", "'balanced'"),
    ("batching vs strategy", body(algorithm={"batchingPreference": "fastestRegion"}), "algorithm", "batchingPreference",
     'valid only with strategy "balanced"'),
    ("random with balanced", body(playerAttributes=NUMBER, algorithm={"strategy": "balanced", "balancedAttribute": "skill",
                                                                      "batchingPreference": "random"}),
     "algorithm", "batchingPreference", 'valid only with strategy "exhaustiveSearch"'),
    ("sorted needs attributes", body(algorithm={"batchingPreference": "sorted"}), "algorithm", "sortByAttributes",
     'needs sortByAttributes'),
    ("sorted by undeclared", body(algorithm={"batchingPreference": "sorted", "sortByAttributes": ["map"]}), "algorithm",
     "sortByAttributes", "'map', which playerAttributes does not declare"),
    ("balanced needs attribute", body(algorithm={"strategy": "balanced"}), "algorithm", "balancedAttribute",
     "needs a balancedAttribute"),
    ("balanced attribute undeclared", body(algorithm={"strategy": "balanced", "balancedAttribute": "skill"}), "algorithm",
     "balancedAttribute", "does not declare"),
    ("balanced attribute a string", body(playerAttributes=STRINGS, algorithm={"strategy": "balanced", "balancedAttribute": "mode"}),
     "algorithm", "balancedAttribute", "must be a number attribute"),
    ("age selection", body(algorithm={"expansionAgeSelection": "middle"}), "algorithm", "expansionAgeSelection", "'middle'"),
    ("backfill", body(algorithm={"backfillPriority": "urgent"}), "algorithm", "backfillPriority", "'urgent'"),
    ("algorithm not an object", body(algorithm=[]), "algorithm", None, "must be an object"),
    ("rules not a list", body(rules={}), "rules", None, "must be a list"),
    ("rule without name", body(rules=[{"type": "latency", "maxLatency": 5}]), "rules[0]", "name", "non-empty string name"),
    ("rule twice", body(rules=[{"name": "R", "type": "latency", "maxLatency": 5}] * 2), "rules[R]", "name", "used twice"),
    ("unknown type", rule(type="bogus"), "rules[R]", "type", "'bogus', which is not a FlexMatch rule type"),
    ("no type", rule(), "rules[R]", "type", "no type, which is not a FlexMatch rule type"),
    ("description", rule(type="latency", maxLatency=5, description=5), "rules[R]", "description", "not a string"),
    ("malformed expression", rule(type="distance", measurements=["avg(teams[*].players.attributes[skill]"], referenceValue=1,
                                  maxDistance=1),
     "rules[R]", "measurements[0]", "not a valid property expression"),
    ("unknown function", rule(type="distance", measurements=["mean(teams[*].players.attributes[skill])"], referenceValue=1,
                              maxDistance=1),
     "rules[R]", "measurements[0]", "'mean', which is not one of"),
    ("missing .players", rule(type="comparison", measurements=["teams[*]"], operation="="), "rules[R]", "measurements[0]",
     "not a valid property expression"),
    ("players[bogus]", rule(type="comparison", measurements=["teams[*].players[skill]"], operation="="), "rules[R]",
     "measurements[0]", "only players[playerId]"),
    ("undeclared attribute", rule(type="distance", measurements=["avg(teams[*].players.attributes[rank])"],
                                  referenceValue=1, maxDistance=1),
     "rules[R]", "measurements[0]", "'rank', which playerAttributes does not declare"),
    ("unknown team", rule(type="distance", measurements=["avg(teams[green].players.attributes[skill])"],
                          referenceValue=1, maxDistance=1),
     "rules[R]", "measurements[0]", "team 'green', which the rule set does not define"),
    ("avg of strings", rule(type="distance", measurements=["avg(teams[red].players.attributes[mode])"], referenceValue=1,
                            maxDistance=1),
     "rules[R]", "measurements[0]", "holds no numbers"),
    ("flatten of a flat list", rule(type="distance", measurements=["avg(flatten(teams[red].players.attributes[skill]))"],
                                    referenceValue=1, maxDistance=1),
     "rules[R]", "measurements[0]", "not a list of lists"),
    ("avg of a number", rule(type="distance", measurements=["avg(avg(teams[red].players.attributes[skill]))"],
                             referenceValue=1, maxDistance=1),
     "rules[R]", "measurements[0]", "not a list"),
    ("no measurements", rule(type="comparison", operation="="), "rules[R]", "measurements", "needs measurements"),
    ("no operation", rule(type="comparison", measurements=[SKILL]), "rules[R]", "operation", "needs operation"),
    ("bad operation", rule(type="comparison", measurements=[SKILL], operation="=="), "rules[R]", "operation", "'=='"),
    ("order across players", rule(type="comparison", measurements=[SKILL], operation="<="), "rules[R]", "operation",
     "must be = or !=, not <="),
    ("order strings", rule(type="comparison", measurements=["teams[*].players.attributes[mode]"], operation="<",
                           referenceValue="x"),
     "rules[R]", "operation", "must measure numbers"),
    ("compare number to string", rule(type="comparison", measurements=[SKILL], operation="=", referenceValue="x"),
     "rules[R]", "referenceValue", "compares number values with a string referenceValue"),
    ("comparison reference list", rule(type="comparison", measurements=[SKILL], operation="=", referenceValue=[1]),
     "rules[R]", "referenceValue", "is a list"),
    ("comparison with a map", rule(type="comparison", measurements=["teams[*].players.attributes[maps]"], operation="="),
     "rules[R]", "measurements[0]", "measures number or string values"),
    ("distance without reference", rule(type="distance", measurements=[SKILL], maxDistance=1), "rules[R]", "referenceValue",
     "needs a referenceValue"),
    ("distance without bounds", rule(type="distance", measurements=[SKILL], referenceValue=1), "rules[R]", "maxDistance",
     "needs maxDistance, minDistance or both"),
    ("negative distance", rule(type="distance", measurements=[SKILL], referenceValue=1, maxDistance=-1), "rules[R]",
     "maxDistance", "number of at least 0"),
    ("min above max distance", rule(type="distance", measurements=[SKILL], referenceValue=1, maxDistance=1, minDistance=2),
     "rules[R]", "minDistance", "above its maxDistance"),
    ("distance reference of strings", rule(type="distance", measurements=[SKILL], maxDistance=1,
                                           referenceValue="teams[*].players.attributes[mode]"),
     "rules[R]", "referenceValue", "not a number"),
    ("distance reference not a number", rule(type="distance", measurements=[SKILL], referenceValue="x", maxDistance=1),
     "rules[R]", "referenceValue", "must be a number or a property expression"),
    ("distance of strings", rule(type="distance", measurements=["teams[*].players.attributes[mode]"], referenceValue=1,
                                 maxDistance=1),
     "rules[R]", "measurements[0]", "measures number values"),
    ("collection operation", rule(type="collection", measurements=["teams[*].players.attributes[modes]"], operation="union"),
     "rules[R]", "operation", "'union'"),
    ("collection of numbers", rule(type="collection", measurements=[SKILL], operation="intersection", minCount=1),
     "rules[R]", "measurements[0]", "measures string values"),
    ("contains without reference", rule(type="collection", measurements=["teams[*].players.attributes[modes]"],
                                        operation="contains", maxCount=1),
     "rules[R]", "referenceValue", "must be a string"),
    ("intersection count without reference", rule(type="collection", measurements=["teams[*].players.attributes[modes]"],
                                                  operation="reference_intersection_count", minCount=1),
     "rules[R]", "referenceValue", "needs a referenceValue"),
    ("negative count", rule(type="collection", measurements=["teams[*].players.attributes[modes]"], operation="intersection",
                            minCount=-1),
     "rules[R]", "minCount", "whole number of at least 0"),
    ("min above max count", rule(type="collection", measurements=["teams[*].players.attributes[modes]"],
                                 operation="intersection", minCount=3, maxCount=1),
     "rules[R]", "minCount", "above its maxCount"),
    ("collection party aggregation", rule(type="collection", measurements=["teams[*].players.attributes[modes]"],
                                          operation="intersection", partyAggregation="avg"),
     "rules[R]", "partyAggregation", "'avg'"),
    ("latency without limit", rule(type="latency"), "rules[R]", "maxLatency", "needs maxLatency"),
    ("latency reference without distance", rule(type="latency", maxLatency=100, distanceReference="min"), "rules[R]",
     "distanceReference", "no maxDistance"),
    ("latency reference", rule(type="latency", maxLatency=100, maxDistance=5, distanceReference="max"), "rules[R]",
     "distanceReference", "'max'"),
    ("latency aggregation", rule(type="latency", maxLatency=100, partyAggregation="sum"), "rules[R]", "partyAggregation",
     "'sum'"),
    ("batch attribute missing", rule(type="batchDistance", maxDistance=1), "rules[R]", "batchAttribute", "needs batchAttribute"),
    ("batch attribute undeclared", rule(type="batchDistance", batchAttribute="rank"), "rules[R]", "batchAttribute",
     "does not declare"),
    ("batch on a list", rule(type="batchDistance", batchAttribute="modes"), "rules[R]", "batchAttribute",
     "string_list attribute 'modes'"),
    ("sort direction", rule(type="absoluteSort", sortAttribute="skill", sortDirection="up"), "rules[R]", "sortDirection", "'up'"),
    ("sort without direction", rule(type="distanceSort", sortAttribute="skill"), "rules[R]", "sortDirection",
     "needs sortDirection"),
    ("distance sort on strings", rule(type="distanceSort", sortAttribute="mode", sortDirection="ascending"), "rules[R]",
     "sortAttribute", "needs one of type number or string_number_map"),
    ("map sort without key", rule(type="absoluteSort", sortAttribute="maps", sortDirection="ascending"), "rules[R]",
     "mapKey", "needs a mapKey"),
    ("map key on a number", rule(type="absoluteSort", sortAttribute="skill", sortDirection="ascending", mapKey="maxValue"),
     "rules[R]", "mapKey", "not a string_number_map"),
    ("compound without statement", rule(type="compound"), "rules[R]", "statement", "needs a statement"),
    ("compound bare name", body(rules=[{"name": "A", "type": "latency", "maxLatency": 1},
                                       {"name": "R", "type": "compound", "statement": "A"}]),
     "rules[R]", "statement", "is a bare rule name"),
    ("compound unknown rule", body(rules=[{"name": "A", "type": "latency", "maxLatency": 1},
                                          {"name": "R", "type": "compound", "statement": "and(A, B)"}]),
     "rules[R]", "statement", "'B' in its statement, which is not a rule defined before it"),
    ("compound names a later rule", body(rules=[{"name": "R", "type": "compound", "statement": "and(A, A2)"},
                                                {"name": "A", "type": "latency", "maxLatency": 1},
                                                {"name": "A2", "type": "latency", "maxLatency": 2}]),
     "rules[R]", "statement", "'A' in its statement, which is not a rule defined before it"),
    ("compound operator", body(rules=[{"name": "A", "type": "latency", "maxLatency": 1},
                                      {"name": "R", "type": "compound", "statement": "nand(A, A)"}]),
     "rules[R]", "statement", "'nand', which is not one of and, or, not, xor"),
    ("compound not arity", body(rules=[{"name": "A", "type": "latency", "maxLatency": 1},
                                       {"name": "R", "type": "compound", "statement": "not(A, A)"}]),
     "rules[R]", "statement", "not takes exactly one"),
    ("compound and arity", body(rules=[{"name": "A", "type": "latency", "maxLatency": 1},
                                       {"name": "R", "type": "compound", "statement": "and(A)"}]),
     "rules[R]", "statement", "and takes two or more"),
    ("compound unclosed", body(rules=[{"name": "A", "type": "latency", "maxLatency": 1},
                                      {"name": "R", "type": "compound", "statement": "and(A, A"}]),
     "rules[R]", "statement", "without its closing ')'"),
    ("compound of batchDistance", body(playerAttributes=NUMBER, rules=[
        {"name": "B", "type": "batchDistance", "batchAttribute": "skill", "maxDistance": 1},
        {"name": "A", "type": "latency", "maxLatency": 1},
        {"name": "R", "type": "compound", "statement": "or(A, B)"}]),
     "rules[R]", "statement", "cannot use batchDistance rules"),
    ("compound of a sort", body(playerAttributes=NUMBER, rules=[
        {"name": "S", "type": "absoluteSort", "sortAttribute": "skill", "sortDirection": "ascending"},
        {"name": "A", "type": "latency", "maxLatency": 1},
        {"name": "R", "type": "compound", "statement": "or(A, S)"}]),
     "rules[R]", "statement", "sort rule 'S'"),
    ("compound names itself", body(rules=[{"name": "A", "type": "latency", "maxLatency": 1},
                                          {"name": "R", "type": "compound", "statement": "or(A, R)"}]),
     "rules[R]", "statement", "names itself"),
    ("large match comparison", body([("a", 1, 30), ("b", 1, 30)], playerAttributes=NUMBER,
                                    algorithm={"strategy": "balanced", "balancedAttribute": "skill"},
                                    rules=[{"name": "R", "type": "comparison", "measurements": [SKILL], "operation": "="}]),
     "rules[R]", "type", "a large match (more than 40 players) does not allow"),
    ("large match compound", body([("a", 1, 30), ("b", 1, 30)], playerAttributes=NUMBER,
                                  algorithm={"strategy": "balanced", "balancedAttribute": "skill"},
                                  rules=[{"name": "R", "type": "compound", "statement": "and(A, B)"}]),
     "rules[R]", "type", "does not allow"),
    ("large match latency distance", body([("a", 1, 30), ("b", 1, 30)], playerAttributes=NUMBER,
                                          algorithm={"strategy": "balanced", "balancedAttribute": "skill"},
                                          rules=[{"name": "R", "type": "latency", "maxLatency": 100, "maxDistance": 10}]),
     "rules[R]", "maxDistance", "may set only maxLatency"),
    ("expansions not a list", body(expansions={}), "expansions", None, "must be a list"),
    ("expansion target missing", body(expansions=[{"steps": [{"waitTimeSeconds": 1, "value": 1}]}]), "expansions[0]",
     "target", "needs a target"),
    ("expansion target shape", body(expansions=[{"target": "bogus", "steps": [{"waitTimeSeconds": 1, "value": 1}]}]),
     "expansions[0]", "target", "neither rules[<rule>].<property> nor teams[<team>]"),
    ("expansion of an unknown rule", body(expansions=[{"target": "rules[Nope].maxDistance",
                                                       "steps": [{"waitTimeSeconds": 1, "value": 1}]}]),
     "expansions[0]", "target", "no rule is named 'Nope'"),
    ("expansion of an unknown team", body(expansions=[{"target": "teams[green].minPlayers",
                                                       "steps": [{"waitTimeSeconds": 1, "value": 1}]}]),
     "expansions[0]", "target", "team 'green', which the rule set does not define"),
    ("expansion of a concrete quantity team", body() | {
        "teams": [{"name": "trio", "minPlayers": 3, "maxPlayers": 5, "quantity": 3}],
        "expansions": [{"target": "teams[trio_1].minPlayers", "steps": [{"waitTimeSeconds": 1, "value": 2}]}]},
     "expansions[0]", "target", "team 'trio_1'"),
    ("expansion of a team property", body(expansions=[{"target": "teams[red].quantity",
                                                       "steps": [{"waitTimeSeconds": 1, "value": 2}]}]),
     "expansions[0]", "target", "teams expand minPlayers or maxPlayers"),
    ("expansion of a rule property", body(rules=[{"name": "L", "type": "latency", "maxLatency": 1}],
                                          expansions=[{"target": "rules[L].partyAggregation",
                                                       "steps": [{"waitTimeSeconds": 1, "value": 2}]}]),
     "expansions[0]", "target", "can relax there are: maxLatency, maxDistance"),
    ("expansion of a compound", body(rules=[{"name": "A", "type": "latency", "maxLatency": 1},
                                            {"name": "B", "type": "latency", "maxLatency": 2},
                                            {"name": "C", "type": "compound", "statement": "or(A, B)"}],
                                     expansions=[{"target": "rules[C].maxLatency",
                                                  "steps": [{"waitTimeSeconds": 1, "value": 2}]}]),
     "expansions[0]", "target", "expand the rules it combines instead"),
    ("expansion twice", body(rules=[{"name": "L", "type": "latency", "maxLatency": 1}],
                             expansions=[{"target": "rules[L].maxLatency", "steps": [{"waitTimeSeconds": 1, "value": 2}]},
                                         {"target": "rules[L].maxLatency", "steps": [{"waitTimeSeconds": 2, "value": 3}]}]),
     "expansions[1]", "target", "which expansions[0] already expands"),
    ("expansion without steps", body(expansions=[{"target": "teams[red].minPlayers", "steps": []}]), "expansions[0]",
     "steps", "needs steps"),
    ("steps not increasing", body([("red", 3, 5)], expansions=[{"target": "teams[red].minPlayers", "steps": [
        {"waitTimeSeconds": 10, "value": 2}, {"waitTimeSeconds": 10, "value": 1}]}]),
     "expansions[0]", "steps[1].waitTimeSeconds", "each step must wait longer"),
    ("negative wait", body(expansions=[{"target": "teams[red].minPlayers", "steps": [{"waitTimeSeconds": -1, "value": 1}]}]),
     "expansions[0]", "steps[0].waitTimeSeconds", "number of at least 0"),
    ("step without value", body(expansions=[{"target": "teams[red].minPlayers", "steps": [{"waitTimeSeconds": 1}]}]),
     "expansions[0]", "steps[0].value", "needs a value"),
    ("team step above max", body([("red", 1, 3)], expansions=[{"target": "teams[red].minPlayers",
                                                              "steps": [{"waitTimeSeconds": 1, "value": 4}]}]),
     "expansions[0]", "steps[0].value", "above its maxPlayers 3"),
    ("team step fractional", body(expansions=[{"target": "teams[red].minPlayers", "steps": [{"waitTimeSeconds": 1, "value": 0.5}]}]),
     "expansions[0]", "steps[0].value", "whole number of at least 1"),
    ("max step past the small limit", body([("red", 1, 20), ("blue", 1, 20)], expansions=[
        {"target": "teams[red].maxPlayers", "steps": [{"waitTimeSeconds": 1, "value": 21}]}]),
     "expansions[0]", "steps[0].value", "more than the 40 this small match allows"),
    ("rule step not a number", body(rules=[{"name": "L", "type": "latency", "maxLatency": 1}],
                                    expansions=[{"target": "rules[L].maxLatency", "steps": [{"waitTimeSeconds": 1, "value": "x"}]}]),
     "expansions[0]", "steps[0].value", "number of at least 0"),
    ("count step fractional", body(playerAttributes=STRINGS, rules=[
        {"name": "C", "type": "collection", "measurements": ["teams[*].players.attributes[modes]"],
         "operation": "intersection", "minCount": 1}],
        expansions=[{"target": "rules[C].minCount", "steps": [{"waitTimeSeconds": 1, "value": 0.5}]}]),
     "expansions[0]", "steps[0].value", "whole number of at least 0"),
    ("reference step of another type", body(playerAttributes=NUMBER, rules=[
        {"name": "C", "type": "comparison", "measurements": [SKILL], "operation": ">=", "referenceValue": 10}],
        expansions=[{"target": "rules[C].referenceValue", "steps": [{"waitTimeSeconds": 1, "value": "low"}]}]),
     "expansions[0]", "steps[0].value", "same type as the rule's referenceValue"),
    ("reference step malformed", body(playerAttributes=NUMBER, rules=[
        {"name": "D", "type": "distance", "measurements": [SKILL], "referenceValue": 10, "maxDistance": 1}],
        expansions=[{"target": "rules[D].referenceValue", "steps": [{"waitTimeSeconds": 1, "value": "avg(teams[*]"}]}]),
     "expansions[0]", "steps[0].value", "not a valid property expression"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "raw", "section", "field", "words"), INVALID, ids=[c[0] for c in INVALID])
def test_each_problem_names_its_section_and_field(what, raw, section, field, words):
    result = validate_rule_set(raw if isinstance(raw, str) else json.dumps(raw))
    assert isinstance(result, list), f"{what}: accepted"
    found = [p for p in result if p.section == section and p.field == field]
    assert found, f"{what}: no problem at {section}/{field} in {result}"
    assert any(words in p.message for p in found), f"{what}: {[p.message for p in found]}"
    for p in result:  # each is a sentence fit for an InvalidRequestException message
        assert p.message[0].isupper() and p.message.endswith("."), p.message
        assert "\n" not in p.message


def test_every_problem_is_reported_not_just_the_first():
    raw = {
        "ruleLanguageVersion": "1.0",
        "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 5}],
        "playerAttributes": [{"name": "skill", "type": "number"}],
        "rules": [
            {"name": "A", "type": "distance", "measurements": ["avg(teams[red].players.attributes[rank])"],
             "referenceValue": 1, "maxDistance": 1},
            {"name": "B", "type": "latency"},
            {"name": "C", "type": "sorter"},
        ],
        "expansions": [{"target": "rules[Z].maxDistance", "steps": [{"waitTimeSeconds": 1, "value": 2}]}],
    }  # fmt: skip
    problems = validate_rule_set(raw)
    assert isinstance(problems, list)
    assert {(p.section, p.field) for p in problems} == {
        ("rules[A]", "measurements[0]"), ("rules[B]", "maxLatency"), ("rules[C]", "type"), ("expansions[0]", "target"),
    }  # fmt: skip


def test_an_invalid_rule_is_reported_once_even_where_others_name_it():
    raw = body(
        rules=[
            {"name": "A", "type": "latency"},
            {"name": "B", "type": "latency", "maxLatency": 5},
            {"name": "C", "type": "compound", "statement": "and(A, B)"},
        ],
        expansions=[{"target": "rules[A].maxLatency", "steps": [{"waitTimeSeconds": 1, "value": 2}]}],
    )
    problems = validate_rule_set(raw)
    assert isinstance(problems, list)
    assert [(p.section, p.field) for p in problems] == [("rules[A]", "maxLatency")]


def test_parse_raises_with_every_sentence():
    with pytest.raises(RuleSetInvalid) as caught:
        parse_rule_set(body([("a", 3, 2)], algorithm={"strategy": "genetic"}))
    assert [p.section for p in caught.value.problems] == ["teams[a]", "algorithm"]
    assert str(caught.value) == " ".join(p.message for p in caught.value.problems)
    assert isinstance(caught.value, ValueError)


def test_problems_compare_by_value():
    assert RuleSetProblem("a", "b", "c") == RuleSetProblem("a", "b", "c")
    assert len({RuleSetProblem("a", "b", "c"), RuleSetProblem("a", "b", "c")}) == 1


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 300) | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "red", "1.0", "number", "string_list", "latency", "teams[*].players.attributes[skill]",
                       "avg(teams[red].players.attributes[skill])", "and(A, B)", "rules[A].maxDistance"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "type", "teams", "rules", "minPlayers", "maxPlayers", "quantity", "measurements",
                         "referenceValue", "operation", "maxDistance", "statement", "target", "steps", "value",
                         "waitTimeSeconds", "algorithm", "strategy", "playerAttributes", "default", "expansions",
                         "maxLatency", "batchAttribute"]),
        inner, max_size=5),
    max_leaves=25,
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=st.fixed_dictionaries(
        {"ruleLanguageVersion": st.sampled_from(["1.0", "1.0", "2"])},
        optional={"teams": JSON, "rules": JSON, "playerAttributes": JSON, "algorithm": JSON, "expansions": JSON},
    )
)
def test_any_json_gives_a_rule_set_or_problems_never_an_exception(doc):
    result = validate_rule_set(json.dumps(doc))
    assert isinstance(result, RuleSet) or (result and all(isinstance(p, RuleSetProblem) for p in result))
