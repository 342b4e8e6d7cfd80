"""Regions and accounts, through boto3: a request is made in the region its client signed for
(else the emulator's ``--region``), the account is the emulator's ``--account``; resources,
tickets, ARNs and events belong to the region they were made in, and an ARN of another region
or account is refused where a name may be given."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from flexmatch_helpers import (
    advance,
    config_for,
    gamelift,
    gamelift_events,
    raw,
    setup_matchmaker,
    start,
    statuses,
    tickets,
)

ACCOUNT = "111122223333"


@pytest.fixture
def emulator_config(tmp_path):
    return config_for(tmp_path, region="ap-southeast-2", account_id=ACCOUNT)


@pytest.fixture
def east(emulator):
    return gamelift(emulator.url, "us-east-1")


@pytest.fixture
def west(emulator):
    return gamelift(emulator.url, "eu-west-1")


def code_and_message(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = exc.value.response["Error"]
    return error["Code"], error["Message"]


def test_each_region_has_its_own_resources_arns_tickets_and_events(emulator, east, west):
    made_east = setup_matchmaker(east, "duel", standalone=True, acceptance=None)
    made_west = setup_matchmaker(west, "duel", standalone=True, acceptance=None)  # the same name
    assert made_east["ConfigurationArn"] == f"arn:aws:gamelift:us-east-1:{ACCOUNT}:matchmakingconfiguration/duel"
    assert made_west["ConfigurationArn"] == f"arn:aws:gamelift:eu-west-1:{ACCOUNT}:matchmakingconfiguration/duel"
    assert made_west["RuleSetArn"] == f"arn:aws:gamelift:eu-west-1:{ACCOUNT}:matchmakingruleset/duel-rules"
    assert made_west["Name"] == "duel" and made_west["RuleSetName"] == "duel-rules"
    for client, region in ((east, "us-east-1"), (west, "eu-west-1")):
        (listed,) = client.describe_matchmaking_configurations()["Configurations"]
        assert listed["ConfigurationArn"].split(":")[3] == region
        (rules,) = client.describe_matchmaking_rule_sets()["RuleSets"]
        assert rules["RuleSetArn"].split(":")[3] == region and rules["RuleSetName"] == "duel-rules"

    start(west, "duel", "w1", "p1")
    start(west, "duel", "w2", "p2")
    start(east, "duel", "e1", "p3")
    advance(emulator)
    assert statuses(west, "w1", "w2") == {"w1": "COMPLETED", "w2": "COMPLETED"}
    assert statuses(east, "e1") == {"e1": "SEARCHING"}  # alone in its region's pool
    assert tickets(east, "w1", "w2") == {}  # another region's tickets are not there
    assert tickets(west, "w1")["w1"]["ConfigurationArn"] == made_west["ConfigurationArn"]
    with pytest.raises(ClientError) as exc:
        east.stop_matchmaking(TicketId="w1")
    assert code_and_message(exc)[0] == "NotFoundException"

    events = gamelift_events(emulator)
    assert events and all(e["account"] == ACCOUNT for e in events)
    by_region = {e["region"] for e in events if e["resources"] == [made_west["ConfigurationArn"]]}
    assert by_region == {"eu-west-1"}
    assert {e["region"] for e in events if e["resources"] == [made_east["ConfigurationArn"]]} == {"us-east-1"}


def test_an_arn_of_another_region_is_refused_where_a_name_may_be_given(emulator, east, west):
    made = setup_matchmaker(west, "far", standalone=True, acceptance=None)
    arn = made["ConfigurationArn"]
    calls = [
        lambda: east.start_matchmaking(TicketId="t", ConfigurationName=arn, Players=[{"PlayerId": "p"}]),
        lambda: east.describe_matchmaking_configurations(Names=[arn]),
        lambda: east.delete_matchmaking_configuration(Name=arn),
        lambda: east.update_matchmaking_configuration(Name=arn, Description="x"),
        lambda: east.describe_matchmaking_rule_sets(Names=[made["RuleSetArn"]]),
        lambda: east.create_matchmaking_configuration(
            Name="near", RuleSetName=made["RuleSetArn"], RequestTimeoutSeconds=60, AcceptanceRequired=False,
            FlexMatchMode="STANDALONE",
        ),  # fmt: skip
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        code, message = code_and_message(exc)
        assert code == "InvalidRequestException"
        assert "eu-west-1" in message and "us-east-1" in message, message
    # By its own region's client, the same ARN is fine.
    assert west.describe_matchmaking_configurations(Names=[arn])["Configurations"][0]["Name"] == "far"
    # And by name, another region's resource is simply not there.
    with pytest.raises(ClientError) as exc:
        east.start_matchmaking(TicketId="t", ConfigurationName="far", Players=[{"PlayerId": "p"}])
    assert code_and_message(exc)[0] == "NotFoundException"


def test_an_arn_of_another_account_is_refused(emulator, east):
    setup_matchmaker(east, "mine", standalone=True, acceptance=None)
    other = "arn:aws:gamelift:us-east-1:999999999999:matchmakingconfiguration/mine"
    with pytest.raises(ClientError) as exc:
        east.start_matchmaking(TicketId="t", ConfigurationName=other, Players=[{"PlayerId": "p"}])
    code, message = code_and_message(exc)
    assert code == "InvalidRequestException" and "999999999999" in message and ACCOUNT in message
    mine = f"arn:aws:gamelift:us-east-1:{ACCOUNT}:matchmakingconfiguration/mine"
    assert start(east, mine, "t", "p")["ConfigurationName"] == "mine"


def test_an_unsigned_request_is_made_in_the_emulators_region(emulator):
    body = '{"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 1}]}'
    answer = raw(emulator, "CreateMatchmakingRuleSet", {"Name": "home", "RuleSetBody": body})
    assert answer.status_code == 200
    assert answer.json()["RuleSet"]["RuleSetArn"] == f"arn:aws:gamelift:ap-southeast-2:{ACCOUNT}:matchmakingruleset/home"
    home = gamelift(emulator.url, "ap-southeast-2")
    assert [r["RuleSetName"] for r in home.describe_matchmaking_rule_sets()["RuleSets"]] == ["home"]


def test_a_credential_scope_that_names_no_region_is_an_unsupported_region(emulator):
    moon = gamelift(emulator.url, "moon")
    with pytest.raises(ClientError) as exc:
        moon.describe_matchmaking_rule_sets()
    assert code_and_message(exc)[0] == "UnsupportedRegionException"
