"""Every request is checked against the packaged GameLift model; bad input is a 4xx, never a 500."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from flexmatch_helpers import JSON_HEADERS, config_for, http, raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lobby.emulator.flexmatch.model import load_model, model_text
from lobby.emulator.flexmatch.service import FlexMatchService

CONTRACT = Path(__file__).parents[1] / "contracts" / "gamelift-flexmatch-model.nodoc.json"


@pytest.fixture
def emulator_config(tmp_path):
    return config_for(tmp_path)


def test_packaged_model_is_the_committed_contract():
    assert json.loads(model_text()) == json.loads(CONTRACT.read_text("utf-8"))


def test_every_operation_of_the_model_has_a_handler(emulator):
    service: FlexMatchService = emulator.app.state.flexmatch
    assert set(service.handlers) == set(load_model().operations)


def error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["__type"], body["message"]


VALID_ACCEPT = {"TicketId": "t-1", "PlayerIds": ["p1"], "AcceptanceType": "ACCEPT"}


@pytest.mark.parametrize(
    ("operation", "body", "code", "fragments"),
    [
        # required members
        ("AcceptMatch", {"TicketId": "t-1", "PlayerIds": ["p1"]}, "InvalidRequestException",
         ["'AcceptanceType'", "must not be null"]),
        ("AcceptMatch", {}, "InvalidRequestException", ["3 validation errors", "'TicketId'", "'PlayerIds'"]),
        ("StartMatchmaking", {"Players": [{"PlayerId": "p"}], "ConfigurationName": None},
         "InvalidRequestException", ["'ConfigurationName'", "must not be null"]),
        # lengths
        ("AcceptMatch", {**VALID_ACCEPT, "TicketId": "t" * 129}, "InvalidRequestException",
         ["'TicketId'", "less than or equal to 128"]),
        ("AcceptMatch", {**VALID_ACCEPT, "PlayerIds": [""]}, "InvalidRequestException",
         ["'PlayerIds[0]'", "greater than or equal to 1"]),
        ("CreateMatchmakingRuleSet", {"Name": "r", "RuleSetBody": ""}, "InvalidRequestException",
         ["'RuleSetBody'", "greater than or equal to 1"]),
        # patterns
        ("AcceptMatch", {**VALID_ACCEPT, "TicketId": "bad id!"}, "InvalidRequestException",
         ["'TicketId'", "regular expression pattern", "'bad id!'"]),
        ("StartMatchmaking", {"ConfigurationName": "arn:aws:gamelift:x:matchmakingruleset/y",
                              "Players": [{"PlayerId": "p"}]},
         "InvalidRequestException", ["'ConfigurationName'", "pattern"]),
        ("DescribeMatchmaking", {"TicketIds": ["ok", "not ok\n"]}, "InvalidRequestException",
         ["'TicketIds[1]'", "pattern"]),
        # enums
        ("AcceptMatch", {**VALID_ACCEPT, "AcceptanceType": "MAYBE"}, "InvalidRequestException",
         ["'AcceptanceType'", "[ACCEPT, REJECT]"]),
        ("CreateMatchmakingConfiguration",
         {"Name": "c", "RuleSetName": "r", "RequestTimeoutSeconds": 5, "AcceptanceRequired": False,
          "FlexMatchMode": "SOLO"},
         "InvalidRequestException", ["'FlexMatchMode'", "[STANDALONE, WITH_QUEUE]"]),
        # ranges
        ("CreateMatchmakingConfiguration",
         {"Name": "c", "RuleSetName": "r", "RequestTimeoutSeconds": 0, "AcceptanceRequired": True,
          "AcceptanceTimeoutSeconds": 601},
         "InvalidRequestException", ["2 validation errors", "greater than or equal to 1", "less than or equal to 600"]),
        ("DescribeMatchmakingRuleSets", {"Limit": 11}, "InvalidRequestException", ["'Limit'"]),
        # list sizes
        ("DescribeMatchmakingRuleSets", {"Names": []}, "InvalidRequestException",
         ["'Names'", "length greater than or equal to 1"]),
        ("DescribeMatchmakingRuleSets", {"Names": [f"r{n}" for n in range(11)]}, "InvalidRequestException",
         ["'Names'", "length less than or equal to 10"]),
        ("CreateMatchmakingConfiguration",
         {"Name": "c", "RuleSetName": "r", "RequestTimeoutSeconds": 5, "AcceptanceRequired": False,
          "GameProperties": [{"Key": "k", "Value": "v"}] * 17},
         "InvalidRequestException", ["'GameProperties'", "less than or equal to 16"]),
        # nested structures and maps
        ("StartMatchmaking",
         {"ConfigurationName": "c", "Players": [{"PlayerId": "p", "PlayerAttributes": {"skill": {"S": ""}}}]},
         "InvalidRequestException", ["'Players[0].PlayerAttributes[skill].S'"]),
        ("CreateMatchmakingConfiguration",
         {"Name": "c", "RuleSetName": "r", "RequestTimeoutSeconds": 5, "AcceptanceRequired": False,
          "GameProperties": [{"Key": "k"}]},
         "InvalidRequestException", ["'GameProperties[0].Value'", "must not be null"]),
        # wrong types
        ("AcceptMatch", {**VALID_ACCEPT, "PlayerIds": "p1"}, "SerializationException", ["'PlayerIds'", "a list"]),
        ("AcceptMatch", {**VALID_ACCEPT, "TicketId": 5}, "SerializationException", ["'TicketId'", "a string"]),
        ("CreateMatchmakingConfiguration",
         {"Name": "c", "RuleSetName": "r", "RequestTimeoutSeconds": "5", "AcceptanceRequired": False},
         "SerializationException", ["'RequestTimeoutSeconds'", "an integer"]),
        ("CreateMatchmakingConfiguration",
         {"Name": "c", "RuleSetName": "r", "RequestTimeoutSeconds": 5, "AcceptanceRequired": "yes"},
         "SerializationException", ["'AcceptanceRequired'", "a boolean"]),
        ("StartMatchmaking",
         {"ConfigurationName": "c", "Players": [{"PlayerId": "p", "LatencyInMs": {"us-east-1": 1.5}}]},
         "SerializationException", ["'Players[0].LatencyInMs[us-east-1]'"]),
        ("StartMatchmaking", {"ConfigurationName": "c", "Players": {"PlayerId": "p"}},
         "SerializationException", ["'Players'"]),
    ],
)
def test_constraint_violations_name_the_member(emulator, operation, body, code, fragments):
    status, kind, message = error(raw(emulator, operation, body))
    assert (status, kind) == (400, code), message
    for fragment in fragments:
        assert fragment in message


def test_sensitive_values_are_not_echoed(emulator):
    secret = "player id with spaces " * 60
    status, kind, message = error(raw(emulator, "AcceptMatch", {**VALID_ACCEPT, "PlayerIds": [secret]}))
    assert (status, kind) == (400, "InvalidRequestException")
    assert "player id with spaces" not in message and "'PlayerIds[0]'" in message


def test_unknown_members_are_tolerated(emulator):
    r = raw(emulator, "DescribeMatchmaking", {"TicketIds": ["x"], "SomethingNew": {"a": [1]}})
    assert r.status_code == 200 and r.json() == {"TicketList": []}


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"{not json", {}, 400, "SerializationException"),
        (b"[1, 2]", {}, 400, "SerializationException"),
        (b'"text"', {}, 400, "SerializationException"),
        (b"\xff\xfe", {}, 400, "SerializationException"),
        (b"[" * 100_000, {}, 400, "SerializationException"),
        (b"{}", {"X-Amz-Target": "GameLift.LaunchRockets"}, 400, "UnknownOperationException"),
        (b"{}", {"X-Amz-Target": "DynamoDB_20120810.ListTables"}, 400, "UnknownOperationException"),
        (b"{}", {"X-Amz-Target": ""}, 400, "UnknownOperationException"),
        (b"{}", {"Content-Type": "text/plain"}, 415, "UnsupportedMediaTypeException"),
    ],
)
def test_unreadable_requests_are_4xx_in_the_error_shape(emulator, content, headers, status, code):
    response = raw(emulator, "DescribeMatchmaking", content, **headers)
    got_status, kind, message = error(response)
    assert (got_status, kind) == (status, code)
    assert message and response.headers["content-type"].startswith("application/x-amz-json-1.1")


def test_missing_target_is_an_unknown_operation(emulator):
    r = http.post(emulator.url + "/", content=b"{}", headers=JSON_HEADERS)
    assert error(r)[:2] == (400, "UnknownOperationException")


def test_an_empty_body_is_an_empty_input(emulator):
    r = raw(emulator, "DescribeMatchmakingConfigurations", b"")
    assert r.status_code == 200 and r.json() == {"Configurations": []}
    assert r.headers["x-amzn-RequestId"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_members = st.sampled_from(
    ["TicketId", "TicketIds", "PlayerIds", "AcceptanceType", "Players", "ConfigurationName", "Name",
     "RuleSetName", "RuleSetBody", "Limit", "NextToken", "Names", "RequestTimeoutSeconds",
     "AcceptanceRequired", "AcceptanceTimeoutSeconds", "FlexMatchMode", "GameProperties"]
)
_bodies = st.dictionaries(_members, _json, max_size=5) | _json


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operation=st.sampled_from(sorted(load_model().operations)), body=_bodies)
def test_no_input_produces_a_server_error(emulator, operation, body):
    r = raw(emulator, operation, body)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert set(r.json()) == {"__type", "message"}


def _streamed(data: bytes, piece: int = 64 * 1024):
    """The body in chunks, so the server sees it arrive in several messages."""
    for start in range(0, len(data), piece):
        yield data[start : start + piece]


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "chunked"])
def test_a_body_past_a_mebibyte_is_refused_without_reading_on(emulator, streamed):
    from lobby.emulator.flexmatch.protocol import MAX_BODY_BYTES

    huge = json.dumps({"Name": "x" * (MAX_BODY_BYTES + 10)}).encode()
    sent = {**JSON_HEADERS, "X-Amz-Target": "GameLift.DescribeMatchmakingRuleSets"}
    content = _streamed(huge) if streamed else huge
    r = http.post(emulator.url + "/", content=content, headers=sent)
    assert r.status_code == 413
    assert r.json()["__type"] == "RequestEntityTooLargeException"
    assert str(MAX_BODY_BYTES) in r.json()["message"]
    cbor = httpx.post(
        emulator.url + "/service/GameLift/operation/DescribeMatchmakingRuleSets",
        content=huge,
        headers={"content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor", "accept": "application/cbor"},
    )
    assert cbor.status_code == 413
    # The service goes on answering.
    assert raw(emulator, "DescribeMatchmakingRuleSets", {}).status_code == 200


def test_the_largest_rule_set_body_the_model_allows_is_read(emulator):
    teams = {"ruleLanguageVersion": "1.0", "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1}]}
    text = json.dumps(teams)
    body = text[:-1] + ', "pad": "' + "x" * (65535 - len(text) - 11) + '"}'
    assert len(body) <= 65535
    r = raw(emulator, "ValidateMatchmakingRuleSet", {"RuleSetBody": body})
    assert r.status_code == 200, r.text
