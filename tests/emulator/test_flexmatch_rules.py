"""Rule sets as the emulator applies them, through boto3: the matchmaker evaluates every rule
with its expansions, and the rule set operations refuse what the service refuses, naming the
rule and the field."""

from __future__ import annotations

import json

import httpx
import pytest
from botocore.exceptions import ClientError
from flexmatch_helpers import SKILL_RULES, advance, config_for, gamelift, gamelift_events, statuses


@pytest.fixture
def emulator_config(tmp_path):
    return config_for(tmp_path)


@pytest.fixture
def gl(emulator):
    return gamelift(emulator.url)


def make_config(gl, name: str, body: dict[str, object]) -> None:
    gl.create_matchmaking_rule_set(Name=f"{name}-rules", RuleSetBody=json.dumps(body))
    gl.create_matchmaking_configuration(
        Name=name, RuleSetName=f"{name}-rules", RequestTimeoutSeconds=600, AcceptanceRequired=False,
        FlexMatchMode="STANDALONE",
    )  # fmt: skip


def start_skilled(gl, config: str, ticket_id: str, player: str, skill: float) -> None:
    gl.start_matchmaking(
        TicketId=ticket_id, ConfigurationName=config,
        Players=[{"PlayerId": player, "PlayerAttributes": {"skill": {"N": skill}}}],
    )  # fmt: skip


def test_a_distance_rule_holds_two_tickets_apart_until_its_expansion_lets_them_match(emulator, gl):
    make_config(gl, "skill", SKILL_RULES)
    start_skilled(gl, "skill", "low", "p-low", 0)
    start_skilled(gl, "skill", "high", "p-high", 1000)
    advance(emulator)
    advance(emulator, 10)
    # skill 0 and 1000: each team's average is 500 from the match's, over maxDistance 10
    assert statuses(gl, "low", "high") == {"low": "SEARCHING", "high": "SEARCHING"}
    advance(emulator, 15)  # 25 s of wait: maxDistance is 600 now
    assert statuses(gl, "low", "high") == {"low": "COMPLETED", "high": "COMPLETED"}
    details = [e["detail"] for e in gamelift_events(emulator)]
    searching = [d for d in details if d["type"] == "MatchmakingSearching"]
    assert len(searching) == 2 and all("estimatedWaitMillis" in d for d in searching)
    (proposed,) = [d for d in details if d["type"] == "PotentialMatchCreated"]
    (metric,) = proposed["ruleEvaluationMetrics"]
    assert metric["ruleName"] == "FairSkill" and metric["passedCount"] >= 1


def test_close_skills_match_at_once_and_far_ones_never_without_an_expansion(emulator, gl):
    body = {k: v for k, v in SKILL_RULES.items() if k != "expansions"}
    make_config(gl, "tight", body)
    start_skilled(gl, "tight", "a", "pa", 100)
    start_skilled(gl, "tight", "b", "pb", 900)
    start_skilled(gl, "tight", "c", "pc", 105)
    advance(emulator)
    advance(emulator, 60)
    assert statuses(gl, "a", "b", "c") == {"a": "COMPLETED", "b": "SEARCHING", "c": "COMPLETED"}


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"name": "Odd", "type": "nonsense"}, ["Odd", "type"]),
        ({"name": "Fair", "type": "distance", "measurements": ["avg(teams[*].players.attributes[rank])"],
          "referenceValue": 1, "maxDistance": 10}, ["Fair", "rank"]),  # fmt: skip
        ({"name": "Fair", "type": "distance", "measurements": ["avg(teams[*].players.attributes[skill"],
          "referenceValue": 1, "maxDistance": 10}, ["Fair", "measurements"]),  # fmt: skip
        ({"name": "Both", "type": "compound", "statement": "and(FairSkill, Missing)"}, ["Both", "Missing"]),
    ],
)
def test_the_rule_set_operations_refuse_what_the_service_refuses(emulator, gl, rule, words):
    body = json.dumps({**SKILL_RULES, "rules": [*SKILL_RULES["rules"], rule]})
    for call in (
        lambda: gl.validate_matchmaking_rule_set(RuleSetBody=body),
        lambda: gl.create_matchmaking_rule_set(Name="refused", RuleSetBody=body),
    ):
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "InvalidRequestException"
        message = exc.value.response["Error"]["Message"]
        assert all(word in message for word in words), message
    assert gl.describe_matchmaking_rule_sets()["RuleSets"] == [] or all(
        r["RuleSetName"] != "refused" for r in gl.describe_matchmaking_rule_sets()["RuleSets"]
    )


def test_a_large_match_may_not_hold_a_distance_rule(emulator, gl):
    body = {
        **SKILL_RULES,
        "teams": [{"name": "red", "minPlayers": 25, "maxPlayers": 25}, {"name": "blue", "minPlayers": 25, "maxPlayers": 25}],
        "algorithm": {"strategy": "balanced", "balancedAttribute": "skill"},
        "expansions": [],
    }
    with pytest.raises(ClientError) as exc:
        gl.validate_matchmaking_rule_set(RuleSetBody=json.dumps(body))
    message = exc.value.response["Error"]["Message"]
    assert "FairSkill" in message and "large match" in message, message


def test_the_emulator_says_which_rule_holds_a_searching_ticket_back(emulator, gl):
    body = {k: v for k, v in SKILL_RULES.items() if k != "expansions"}
    make_config(gl, "why", body)
    start_skilled(gl, "why", "low", "p-low", 0)
    start_skilled(gl, "why", "high", "p-high", 1000)
    advance(emulator)
    advance(emulator, 5)
    explained = httpx.get(emulator.url + "/_emulator/flexmatch/explain", params={"ticketId": ["low", "nope"]}).json()
    low, nope = explained["tickets"]
    assert low["searching"] is True and low["heldBackBy"] == ["FairSkill"]
    (rule,) = low["rules"]
    assert rule["ruleName"] == "FairSkill" and rule["failedCount"] >= 1
    assert low["reasons"]
    assert nope == {"ticketId": "nope", "searching": False}


def test_a_party_larger_than_any_team_is_accepted_and_never_matches(emulator, gl):
    make_config(gl, "party", {k: v for k, v in SKILL_RULES.items() if k != "expansions"})
    gl.start_matchmaking(TicketId="big", ConfigurationName="party", Players=[{"PlayerId": "p1"}, {"PlayerId": "p2"}])
    start_skilled(gl, "party", "one", "p3", 10)
    start_skilled(gl, "party", "two", "p4", 10)
    advance(emulator)
    advance(emulator, 30)
    assert statuses(gl, "big", "one", "two") == {"big": "SEARCHING", "one": "COMPLETED", "two": "COMPLETED"}
    explained = httpx.get(emulator.url + "/_emulator/flexmatch/explain", params={"ticketId": "big"}).json()
    (big,) = explained["tickets"]
    assert big["searching"] is True and big["reasons"]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({}, ["exactly one"]),
        ({"S": "a", "N": 1}, ["exactly one"]),
        ({"SL": [f"s{n}" for n in range(101)]}, ["101", "100"]),
        ({"SDM": {f"k{n}": n for n in range(11)}}, ["11", "10"]),
    ],
)
def test_start_matchmaking_refuses_attribute_values_the_service_refuses(emulator, gl, value, words):
    make_config(gl, "attrs", {k: v for k, v in SKILL_RULES.items() if k != "expansions"})
    with pytest.raises(ClientError) as exc:
        gl.start_matchmaking(
            TicketId="t", ConfigurationName="attrs", Players=[{"PlayerId": "p", "PlayerAttributes": {"skill": value}}]
        )
    assert exc.value.response["Error"]["Code"] == "InvalidRequestException"
    message = exc.value.response["Error"]["Message"]
    assert all(w in message for w in words), message


def test_start_matchmaking_takes_a_list_of_100_and_a_map_of_10(emulator, gl):
    make_config(gl, "edge", {k: v for k, v in SKILL_RULES.items() if k != "expansions"})
    gl.start_matchmaking(
        TicketId="t", ConfigurationName="edge",
        Players=[{"PlayerId": "p", "PlayerAttributes": {
            "tags": {"SL": [f"s{n}" for n in range(100)]}, "map": {"SDM": {f"k{n}": n for n in range(10)}},
        }}],
    )  # fmt: skip
