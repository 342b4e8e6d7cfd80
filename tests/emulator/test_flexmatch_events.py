"""Every FlexMatch transition appends an EventBridge-shaped event, in order, to the event log."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from flexmatch_helpers import (
    accept,
    advance,
    config_for,
    detail_types,
    gamelift,
    gamelift_events,
    rule_set_body,
    setup_matchmaker,
    start,
)
from httpx_sse import connect_sse

from lobby.emulator.server import EmulatorThread
from lobby.flexmatch.lifecycle import EventType


#: A distance rule that reads no player attribute: the teams' sizes at most 0 apart.
FAIR = {
    "name": "Fair", "type": "distance", "measurements": ["count(teams[*].players)"],
    "referenceValue": "max(count(teams[*].players))", "maxDistance": 0,
}  # fmt: skip

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CONFIG_ARN = "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/{}"


@pytest.fixture
def emulator_config(tmp_path):
    return config_for(tmp_path)


@pytest.fixture
def gl(emulator):
    return gamelift(emulator.url)


def test_a_full_accept_flow_in_order(emulator, gl):
    setup_matchmaker(gl, "ev", [("red", 1, 1), ("blue", 1, 1)], acceptance=40,
                     rules=[FAIR])  # fmt: skip
    start(gl, "ev", "t-1", "p1")
    start(gl, "ev", "t-2", "p2")
    advance(emulator)
    accept(gl, "t-1", "p1")
    accept(gl, "t-2", "p2")
    advance(emulator, 30)
    assert detail_types(emulator) == [
        EventType.SEARCHING,
        EventType.SEARCHING,
        EventType.POTENTIAL_MATCH_CREATED,
        EventType.ACCEPT_MATCH,
        EventType.ACCEPT_MATCH,
        EventType.ACCEPT_MATCH_COMPLETED,
        EventType.SUCCEEDED,
    ]
    events = gamelift_events(emulator)
    for event in events:
        assert event["version"] == "0"
        uuid.UUID(event["id"])
        assert event["detail-type"] == "GameLift Matchmaking Event"
        assert event["source"] == "aws.gamelift"
        assert event["account"] == "123456789012" and event["region"] == "us-east-1"
        assert event["resources"] == [CONFIG_ARN.format("ev")]
        assert ISO.match(event["time"])
        for ticket in event["detail"]["tickets"]:
            assert ISO.match(ticket["startTime"])
    searching, _, proposed, first, second, completed, succeeded = (e["detail"] for e in events)
    assert searching["tickets"][0]["ticketId"] == "t-1"
    assert searching["tickets"][0]["players"] == [{"playerId": "p1"}]
    assert proposed["acceptanceRequired"] is True and proposed["acceptanceTimeout"] == 40
    assert proposed["ruleEvaluationMetrics"] == [{"ruleName": "Fair", "passedCount": 1, "failedCount": 0}]
    match_id = proposed["matchId"]
    assert {p["team"] for t in proposed["tickets"] for p in t["players"]} == {"red", "blue"}

    def flags(detail):
        return {p["playerId"]: p.get("accepted") for t in detail["tickets"] for p in t["players"]}

    assert flags(first) == {"p1": True, "p2": None}  # p2 has not answered: no flag at all
    assert "accepted" not in first["tickets"][1]["players"][0]
    assert flags(second) == {"p1": True, "p2": True}
    assert completed["acceptance"] == "Accepted" and completed["matchId"] == match_id
    info = succeeded["gameSessionInfo"]
    assert info["ipAddress"] == "127.0.0.1" and info["port"] > 0
    assert info["gameSessionArn"].startswith("arn:aws:gamelift:us-east-1::gamesession/")
    assert {p["playerId"] for p in info["players"]} == {"p1", "p2"}
    assert all(p["playerSessionId"].startswith("psess-") for p in info["players"])
    assert succeeded["matchId"] == match_id

    # The SSE subject: ticket ids for ticket events, the match id for match events.
    logged = emulator.runtime.events.since(0, sources=["aws.gamelift"])
    assert [e.subject for e in logged] == ["t-1", "t-2"] + [match_id] * 5
    assert [e.type for e in logged] == detail_types(emulator)


def test_the_sse_stream_carries_the_same_events(emulator, gl):
    setup_matchmaker(gl, "sse", [("red", 1, 1), ("blue", 1, 1)])
    start(gl, "sse", "s-1", "p1")
    start(gl, "sse", "s-2", "p2")
    advance(emulator)
    accept(gl, "s-1", "p1", reject=True)
    expected = detail_types(emulator)
    got = []
    with httpx.Client(timeout=5) as client:
        with connect_sse(client, "GET", emulator.url + "/_emulator/events?source=aws.gamelift") as src:
            for sse in src.iter_sse():
                got.append((sse.event, sse.json()["detail"]["type"]))
                if len(got) == len(expected):
                    break
    assert [e for e, _ in got] == [t for _, t in got] == expected


def test_a_rejection_and_a_timeout(emulator, gl):
    setup_matchmaker(gl, "rj", [("red", 1, 1), ("blue", 1, 1)], acceptance=10)
    start(gl, "rj", "a", "p1")
    start(gl, "rj", "b", "p2")
    advance(emulator)
    mark = emulator.runtime.events.last_id()
    accept(gl, "a", "p1")
    accept(gl, "b", "p2", reject=True)
    assert detail_types(emulator, mark) == [
        EventType.ACCEPT_MATCH, EventType.ACCEPT_MATCH, EventType.ACCEPT_MATCH_COMPLETED, EventType.SEARCHING, EventType.CANCELLED,
    ]  # fmt: skip
    events = [e["detail"] for e in gamelift_events(emulator, mark)]
    assert {p["playerId"]: p["accepted"] for t in events[1]["tickets"] for p in t["players"]} == {
        "p1": True,
        "p2": False,
    }
    assert events[2]["acceptance"] == "Rejected"
    assert events[3]["tickets"][0]["ticketId"] == "a"
    assert events[4]["tickets"][0]["ticketId"] == "b" and events[4]["reason"] == "Cancelled"

    start(gl, "rj", "c", "p3")
    advance(emulator)
    mark = emulator.runtime.events.last_id()
    advance(emulator, 11)  # nobody answers
    assert detail_types(emulator, mark) == [
        EventType.ACCEPT_MATCH_COMPLETED, EventType.CANCELLED, EventType.CANCELLED,
    ]  # fmt: skip
    assert gamelift_events(emulator, mark)[0]["detail"]["acceptance"] == "TimedOut"


def test_timed_out_and_stopped_tickets(emulator, gl):
    setup_matchmaker(gl, "to", [("red", 2, 2), ("blue", 2, 2)], request_timeout=5)
    start(gl, "to", "slow", "p1")
    start(gl, "to", "stopped", "p2")
    advance(emulator)
    gl.stop_matchmaking(TicketId="stopped")
    advance(emulator, 6)
    types = detail_types(emulator)
    assert types[-2:] == [EventType.CANCELLED, EventType.TIMED_OUT]
    timed_out = gamelift_events(emulator)[-1]["detail"]
    assert timed_out["reason"] == "TimedOut" and timed_out["tickets"][0]["ticketId"] == "slow"


def test_a_failed_placement(tmp_path):
    with EmulatorThread(config_for(tmp_path, flexmatch={"placement_failure_probability": 1.0})) as emu:
        gl = gamelift(emu.url)
        setup_matchmaker(gl, "f", [("red", 1, 1), ("blue", 1, 1)], acceptance=None)
        start(gl, "f", "f-1", "p1")
        start(gl, "f", "f-2", "p2")
        advance(emu, 30)
        assert detail_types(emu)[-1] == EventType.FAILED
        failed = gamelift_events(emu)[-1]["detail"]
        assert failed["reason"] and failed["message"] and len(failed["tickets"]) == 2
        listed = gl.describe_matchmaking(TicketIds=["f-1"])["TicketList"][0]
        assert listed["Status"] == "FAILED" and "GameSessionConnectionInfo" not in listed


def test_custom_event_data_travels_with_events(emulator, gl):
    gl.create_matchmaking_rule_set(Name="cd", RuleSetBody=rule_set_body(("a", 2, 2)))
    gl.create_matchmaking_configuration(
        Name="cd", RuleSetName="cd", RequestTimeoutSeconds=60, AcceptanceRequired=False,
        CustomEventData="season-4",
    )  # fmt: skip
    start(gl, "cd", "x", "p1")
    advance(emulator)
    assert gamelift_events(emulator)[-1]["detail"]["customEventData"] == "season-4"
