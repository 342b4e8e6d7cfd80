"""Whole FlexMatch flows through boto3's own gamelift client, unchanged, against the emulator."""

from __future__ import annotations

import re
import uuid

import pytest
from botocore.exceptions import ClientError
from flexmatch_helpers import (
    accept,
    advance,
    config_for,
    gamelift,
    rule_set_body,
    setup_matchmaker,
    start,
    statuses,
    tickets,
)


#: A distance rule that reads no player attribute: the teams' sizes at most 0 apart.
FAIR = {
    "name": "Fair", "type": "distance", "measurements": ["count(teams[*].players)"],
    "referenceValue": "max(count(teams[*].players))", "maxDistance": 0,
}  # fmt: skip

ACTIVE = {"QUEUED", "SEARCHING"}


@pytest.fixture
def emulator_config(tmp_path):
    return config_for(tmp_path)


@pytest.fixture
def gl(emulator):
    return gamelift(emulator.url)


def error_code(exc_info: pytest.ExceptionInfo[ClientError]) -> str:
    return exc_info.value.response["Error"]["Code"]


def test_accepted_match_is_placed_and_completed_with_connection_info(emulator, gl):
    config = setup_matchmaker(gl, "squads", [("red", 2, 2), ("blue", 2, 2)])
    assert config["ConfigurationArn"] == (
        "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/squads"
    )
    first = start(gl, "squads", "t-1", "p1", "p2")
    assert first["Status"] == "QUEUED"
    start(gl, "squads", "t-2", "p3")
    start(gl, "squads", "t-3", "p4")
    advance(emulator)
    seen = tickets(gl, "t-1", "t-2", "t-3")
    assert {t["Status"] for t in seen.values()} == {"REQUIRES_ACCEPTANCE"}
    teams = {p["PlayerId"]: p["Team"] for t in seen.values() for p in t["Players"]}
    assert teams["p1"] == teams["p2"]  # a ticket's players share a team
    assert teams["p3"] == teams["p4"] != teams["p1"]

    accept(gl, "t-1", "p1", "p2")
    accept(gl, "t-2", "p3")
    assert set(statuses(gl, "t-1", "t-2", "t-3").values()) == {"REQUIRES_ACCEPTANCE"}
    accept(gl, "t-3", "p4")
    assert set(statuses(gl, "t-1", "t-2", "t-3").values()) == {"PLACING"}

    advance(emulator, 30)
    done = tickets(gl, "t-1", "t-2", "t-3")
    assert {t["Status"] for t in done.values()} == {"COMPLETED"}
    info = done["t-1"]["GameSessionConnectionInfo"]
    assert info["IpAddress"] == "127.0.0.1"
    assert isinstance(info["Port"], int) and info["Port"] > 0
    assert info["GameSessionArn"].startswith("arn:aws:gamelift:us-east-1::gamesession/")
    sessions = info["MatchedPlayerSessions"]
    assert [s["PlayerId"] for s in sessions] == ["p1", "p2"]
    assert all(re.fullmatch(r"psess-\S+", s["PlayerSessionId"]) for s in sessions)
    assert done["t-2"]["GameSessionConnectionInfo"]["GameSessionArn"] == info["GameSessionArn"]
    assert done["t-1"]["EndTime"] >= done["t-1"]["StartTime"]
    assert "EstimatedWaitTime" not in done["t-1"]


def test_a_rejection_sends_accepted_tickets_back_and_cancels_the_rest(emulator, gl):
    setup_matchmaker(gl, "trio", [("solo", 1, 1, 3)])
    for n in (1, 2, 3):
        start(gl, "trio", f"t-{n}", f"p{n}")
    advance(emulator)
    assert set(statuses(gl, "t-1", "t-2", "t-3").values()) == {"REQUIRES_ACCEPTANCE"}
    accept(gl, "t-1", "p1")
    accept(gl, "t-2", "p2", reject=True)
    seen = tickets(gl, "t-1", "t-2", "t-3")
    assert seen["t-1"]["Status"] == "SEARCHING"  # every player of it accepted
    assert "Team" not in seen["t-1"]["Players"][0]
    assert seen["t-2"]["Status"] == "CANCELLED"  # its player rejected
    assert seen["t-3"]["Status"] == "CANCELLED"  # its player never answered
    assert seen["t-2"]["StatusReason"] == "Cancelled" and "rejected" in seen["t-2"]["StatusMessage"]
    assert "EndTime" in seen["t-3"] and "EndTime" not in seen["t-1"]
    # The returned ticket is matched again as soon as the match can be filled.
    start(gl, "trio", "t-4", "p4")
    start(gl, "trio", "t-5", "p5")
    advance(emulator)
    assert set(statuses(gl, "t-1", "t-4", "t-5").values()) == {"REQUIRES_ACCEPTANCE"}


def test_a_missed_deadline_follows_the_same_rule(emulator, gl):
    setup_matchmaker(gl, "late", [("red", 2, 2), ("blue", 1, 1)], acceptance=20)
    start(gl, "late", "a", "p1")
    start(gl, "late", "b", "p2", "p3")
    advance(emulator)
    assert set(statuses(gl, "a", "b").values()) == {"REQUIRES_ACCEPTANCE"}
    accept(gl, "a", "p1")
    accept(gl, "b", "p2")  # p3 stays silent
    advance(emulator, 19)
    assert set(statuses(gl, "a", "b").values()) == {"REQUIRES_ACCEPTANCE"}
    advance(emulator, 2)
    seen = tickets(gl, "a", "b")
    assert seen["a"]["Status"] == "SEARCHING"
    assert seen["b"]["Status"] == "CANCELLED"
    assert "in time" in seen["b"]["StatusMessage"]
    with pytest.raises(ClientError) as exc:
        accept(gl, "b", "p3")
    assert error_code(exc) == "InvalidRequestException"


def test_request_timeout_ends_in_timed_out(emulator, gl):
    setup_matchmaker(gl, "slow", [("red", 2, 2), ("blue", 2, 2)], request_timeout=10)
    start(gl, "slow", "lonely", "p1")
    advance(emulator, 5)
    assert statuses(gl, "lonely") == {"lonely": "SEARCHING"}
    advance(emulator, 6)
    ticket = tickets(gl, "lonely")["lonely"]
    assert ticket["Status"] == "TIMED_OUT"
    assert ticket["StatusReason"] == "TimedOut"
    assert (ticket["EndTime"] - ticket["StartTime"]).total_seconds() == pytest.approx(11, abs=1)


def test_stop_matchmaking(emulator, gl):
    setup_matchmaker(gl, "stop", [("red", 1, 1), ("blue", 1, 1)], acceptance=None)
    start(gl, "stop", "s-1", "p1")
    gl.stop_matchmaking(TicketId="s-1")
    ticket = tickets(gl, "s-1")["s-1"]
    assert ticket["Status"] == "CANCELLED" and ticket["StatusReason"] == "Cancelled"
    gl.stop_matchmaking(TicketId="s-1")  # stopping a cancelled ticket again changes nothing
    with pytest.raises(ClientError) as exc:
        gl.stop_matchmaking(TicketId="nope")
    assert error_code(exc) == "NotFoundException"
    # Without acceptance a match goes straight to PLACING, which cannot be stopped.
    start(gl, "stop", "s-2", "p2")
    start(gl, "stop", "s-3", "p3")
    advance(emulator)
    assert statuses(gl, "s-2") == {"s-2": "PLACING"}
    with pytest.raises(ClientError) as exc:
        gl.stop_matchmaking(TicketId="s-2")
    assert error_code(exc) == "InvalidRequestException"
    advance(emulator, 30)
    with pytest.raises(ClientError) as exc:
        gl.stop_matchmaking(TicketId="s-2")
    assert error_code(exc) == "InvalidRequestException"


def test_stopping_a_ticket_awaiting_acceptance_drops_its_match(emulator, gl):
    setup_matchmaker(gl, "drop", [("red", 1, 1), ("blue", 1, 1)])
    start(gl, "drop", "d-1", "p1")
    start(gl, "drop", "d-2", "p2")
    advance(emulator)
    accept(gl, "d-2", "p2")
    gl.stop_matchmaking(TicketId="d-1")
    assert statuses(gl, "d-1", "d-2") == {"d-1": "CANCELLED", "d-2": "SEARCHING"}


def test_one_active_ticket_per_player(emulator, gl):
    setup_matchmaker(gl, "one", [("red", 3, 3), ("blue", 3, 3)])
    start(gl, "one", "old", "p1", "p2")
    start(gl, "one", "new", "p2", "p3")
    seen = tickets(gl, "old", "new")
    assert seen["old"]["Status"] == "CANCELLED"
    assert "new" in seen["old"]["StatusMessage"]
    assert seen["new"]["Status"] in ACTIVE
    # p1 is free again too: its ticket was cancelled as a whole.
    start(gl, "one", "again", "p1")
    assert set(statuses(gl, "new", "again").values()) <= ACTIVE


def test_standalone_completes_without_placement(emulator, gl):
    setup_matchmaker(gl, "solo", [("red", 1, 1), ("blue", 1, 1)], acceptance=None, standalone=True)
    start(gl, "solo", "x", "p1")
    start(gl, "solo", "y", "p2")
    advance(emulator)
    seen = tickets(gl, "x", "y")
    assert {t["Status"] for t in seen.values()} == {"COMPLETED"}
    assert all("GameSessionConnectionInfo" not in t for t in seen.values())
    assert {seen["x"]["Players"][0]["Team"], seen["y"]["Players"][0]["Team"]} == {"red", "blue"}

    # STANDALONE with acceptance: all accept -> COMPLETED at once.
    setup_matchmaker(gl, "solo-ack", [("red", 1, 1), ("blue", 1, 1)], standalone=True)
    start(gl, "solo-ack", "x2", "p1")
    start(gl, "solo-ack", "y2", "p2")
    advance(emulator)
    accept(gl, "x2", "p1")
    accept(gl, "y2", "p2")
    assert statuses(gl, "x2", "y2") == {"x2": "COMPLETED", "y2": "COMPLETED"}


def test_team_quantity_expands_teams(emulator, gl):
    setup_matchmaker(gl, "arena", [("arena", 2, 2, 2)], acceptance=None, standalone=True)
    for n in range(4):
        start(gl, "arena", f"a{n}", f"p{n}")
    advance(emulator)
    seen = tickets(gl, *(f"a{n}" for n in range(4)))
    teams = sorted(t["Players"][0]["Team"] for t in seen.values())
    assert teams == ["arena_1", "arena_1", "arena_2", "arena_2"]


def test_ticket_id_is_generated_and_reuse_of_an_active_one_refused(emulator, gl):
    setup_matchmaker(gl, "ids", [("red", 5, 5), ("blue", 5, 5)])
    made = gl.start_matchmaking(ConfigurationName="ids", Players=[{"PlayerId": "p1"}])
    ticket_id = made["MatchmakingTicket"]["TicketId"]
    uuid.UUID(ticket_id)
    with pytest.raises(ClientError) as exc:
        start(gl, "ids", ticket_id, "p2")
    assert error_code(exc) == "InvalidRequestException"
    # Ticket ids may also be given as the configuration ARN.
    arn = "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/ids"
    assert start(gl, arn, "by-arn", "p3")["ConfigurationName"] == "ids"


def test_a_finished_tickets_id_is_not_reused(emulator, gl):
    setup_matchmaker(gl, "again", standalone=True, acceptance=None)
    start(gl, "again", "t-1", "p1")
    start(gl, "again", "t-2", "p2")
    advance(emulator)
    assert statuses(gl, "t-1", "t-2") == {"t-1": "COMPLETED", "t-2": "COMPLETED"}
    for ticket_id in ("t-1", "t-2"):
        with pytest.raises(ClientError) as exc:
            start(gl, "again", ticket_id, "p3")
        assert error_code(exc) == "InvalidRequestException"
        assert "COMPLETED" in exc.value.response["Error"]["Message"]
    # The finished ticket is untouched, and the player starts again under a new id.
    assert tickets(gl, "t-1")["t-1"]["Players"][0]["PlayerId"] == "p1"
    assert start(gl, "again", "t-3", "p1")["Status"] == "QUEUED"


def test_errors_arrive_as_client_errors_with_the_right_code(emulator, gl):
    setup_matchmaker(gl, "err", [("red", 2, 2), ("blue", 2, 2)])
    bad, missing = "InvalidRequestException", "NotFoundException"
    queue = ["arn:aws:gamelift:us-east-1::gamesessionqueue/q"]

    def config(name, rule_set="err-rules", **extra):
        extra.setdefault("AcceptanceRequired", False)
        return lambda: gl.create_matchmaking_configuration(
            Name=name, RuleSetName=rule_set, RequestTimeoutSeconds=10, **extra
        )

    cases = [
        (lambda: accept(gl, "missing", "p1"), missing),
        (lambda: start(gl, "no-such-config", "t", "p1"), missing),
        (lambda: gl.describe_matchmaking(TicketIds=[f"t{n}" for n in range(11)]), bad),
        (lambda: gl.create_matchmaking_rule_set(Name="bad", RuleSetBody="{not json"), bad),
        (lambda: gl.create_matchmaking_rule_set(Name="err-rules", RuleSetBody=rule_set_body(("a", 1, 1))), bad),
        (lambda: gl.delete_matchmaking_rule_set(Name="err-rules"), bad),  # in use
        (lambda: gl.delete_matchmaking_rule_set(Name="absent"), missing),
        (lambda: gl.validate_matchmaking_rule_set(RuleSetBody='{"ruleLanguageVersion": "1.0"}'), bad),
        (lambda: gl.describe_matchmaking_rule_sets(Names=["absent"]), missing),
        (config("c2", rule_set="absent"), missing),
        (config("err"), bad),  # the name is taken
        (config("c3", AcceptanceRequired=True), bad),  # no AcceptanceTimeoutSeconds
        (config("c4", FlexMatchMode="STANDALONE", GameSessionQueueArns=queue), bad),
        (lambda: gl.update_matchmaking_configuration(Name="absent"), missing),
        (lambda: gl.update_matchmaking_configuration(Name="err", RuleSetName="absent"), missing),
        (lambda: gl.delete_matchmaking_configuration(Name="absent"), missing),
        (lambda: gl.start_matchmaking(ConfigurationName="err", Players=[]), bad),
        (lambda: start(gl, "err", "dup", "p1", "p1"), bad),
        (lambda: gl.describe_matchmaking_configurations(Limit=11), bad),
        (lambda: gl.describe_matchmaking_configurations(NextToken="garbage"), bad),
    ]
    for call, code in cases:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc) == code, exc.value
        assert exc.value.response["Error"]["Message"]

    start(gl, "err", "busy", "p1")
    with pytest.raises(ClientError) as exc:
        gl.delete_matchmaking_configuration(Name="err")
    assert error_code(exc) == "InvalidRequestException"
    advance(emulator)
    with pytest.raises(ClientError) as exc:
        accept(gl, "busy", "p1")  # SEARCHING, not REQUIRES_ACCEPTANCE
    assert error_code(exc) == "InvalidRequestException"
    start(gl, "err", "mate", "p2", "p3")
    start(gl, "err", "mate2", "p4")
    advance(emulator)
    with pytest.raises(ClientError) as exc:
        accept(gl, "mate", "p1")  # not a player of that ticket
    assert error_code(exc) == "InvalidRequestException"


def test_repeated_accept_is_harmless(emulator, gl):
    setup_matchmaker(gl, "again", [("red", 1, 1), ("blue", 1, 1)])
    start(gl, "again", "r-1", "p1")
    start(gl, "again", "r-2", "p2")
    advance(emulator)
    before = emulator.runtime.events.last_id()
    accept(gl, "r-1", "p1")
    after_first = emulator.runtime.events.last_id()
    accept(gl, "r-1", "p1")
    accept(gl, "r-1", "p1")
    assert emulator.runtime.events.last_id() == after_first > before
    assert statuses(gl, "r-1", "r-2") == {"r-1": "REQUIRES_ACCEPTANCE", "r-2": "REQUIRES_ACCEPTANCE"}


def test_describe_matchmaking_configurations_pages(emulator, gl):
    gl.create_matchmaking_rule_set(Name="rs-a", RuleSetBody=rule_set_body(("red", 1, 1), ("blue", 1, 1)))
    gl.create_matchmaking_rule_set(Name="rs-b", RuleSetBody=rule_set_body(("all", 2, 4)))
    for n in range(13):
        gl.create_matchmaking_configuration(
            Name=f"cfg-{n:02d}",
            RuleSetName="rs-a" if n % 3 else "arn:aws:gamelift:us-east-1:123456789012:matchmakingruleset/rs-b",
            RequestTimeoutSeconds=100,
            AcceptanceRequired=True,
            AcceptanceTimeoutSeconds=30,
            Description=f"configuration {n}",
        )
    names, token, pages = [], None, 0
    while True:
        kwargs = {"Limit": 5} | ({"NextToken": token} if token else {})
        page = gl.describe_matchmaking_configurations(**kwargs)
        pages += 1
        names += [c["Name"] for c in page["Configurations"]]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3 and names == [f"cfg-{n:02d}" for n in range(13)]
    # The paginator boto3 ships for this operation works unchanged.
    paginator = gl.get_paginator("describe_matchmaking_configurations")
    listed = [c["Name"] for p in paginator.paginate(PaginationConfig={"PageSize": 4}) for c in p["Configurations"]]
    assert listed == names

    by_rule_set = gl.describe_matchmaking_configurations(RuleSetName="rs-b")["Configurations"]
    assert [c["Name"] for c in by_rule_set] == ["cfg-00", "cfg-03", "cfg-06", "cfg-09", "cfg-12"]
    assert {c["RuleSetArn"] for c in by_rule_set} == {
        "arn:aws:gamelift:us-east-1:123456789012:matchmakingruleset/rs-b"
    }
    picked = gl.describe_matchmaking_configurations(
        Names=["cfg-07", "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/cfg-01", "ghost"]
    )["Configurations"]
    assert [c["Name"] for c in picked] == ["cfg-07", "cfg-01"]
    one = picked[0]
    assert one["AcceptanceTimeoutSeconds"] == 30 and one["Description"] == "configuration 7"
    assert one["FlexMatchMode"] == "WITH_QUEUE" and one["CreationTime"].year >= 2020

    updated = gl.update_matchmaking_configuration(Name="cfg-07", AcceptanceTimeoutSeconds=90, RuleSetName="rs-b")
    assert updated["Configuration"]["AcceptanceTimeoutSeconds"] == 90
    assert updated["Configuration"]["RuleSetName"] == "rs-b"
    assert updated["Configuration"]["Description"] == "configuration 7"
    gl.delete_matchmaking_configuration(Name="cfg-07")
    assert gl.describe_matchmaking_configurations(Names=["cfg-07"])["Configurations"] == []


def test_rule_sets_lifecycle(emulator, gl):
    body = rule_set_body(("red", 1, 2), ("blue", 1, 2), rules=[FAIR])
    assert gl.validate_matchmaking_rule_set(RuleSetBody=body)["Valid"] is True
    made = gl.create_matchmaking_rule_set(Name="rules", RuleSetBody=body)["RuleSet"]
    assert made["RuleSetArn"].endswith(":matchmakingruleset/rules")
    assert made["RuleSetBody"] == body
    for n in range(11):
        gl.create_matchmaking_rule_set(Name=f"more-{n:02d}", RuleSetBody=body)
    first = gl.describe_matchmaking_rule_sets(Limit=10)
    assert len(first["RuleSets"]) == 10 and first["NextToken"]
    rest = gl.describe_matchmaking_rule_sets(Limit=10, NextToken=first["NextToken"])
    assert len(rest["RuleSets"]) == 2 and "NextToken" not in rest
    named = gl.describe_matchmaking_rule_sets(Names=["rules"])["RuleSets"]
    assert [r["RuleSetName"] for r in named] == ["rules"]
    gl.delete_matchmaking_rule_set(Name="arn:aws:gamelift:us-east-1:123456789012:matchmakingruleset/rules")
    with pytest.raises(ClientError) as exc:
        gl.describe_matchmaking_rule_sets(Names=["rules"])
    assert error_code(exc) == "NotFoundException"


def test_estimated_wait_time_appears_once_matches_were_made(emulator, gl):
    setup_matchmaker(gl, "est", [("red", 1, 1), ("blue", 1, 1)], acceptance=None, standalone=True)
    start(gl, "est", "e-1", "p1")
    advance(emulator, 8)
    start(gl, "est", "e-2", "p2")
    advance(emulator)
    waiting = start(gl, "est", "e-3", "p3")
    assert waiting["EstimatedWaitTime"] >= 0
    assert set(statuses(gl, "e-1", "e-2").values()) == {"COMPLETED"}
