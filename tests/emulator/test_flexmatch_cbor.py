"""Smithy RPC v2 CBOR: botocore's own CBOR client runs a whole flow; errors keep their shape."""

from __future__ import annotations

from datetime import datetime

import cbor2
import pytest
from botocore.exceptions import ClientError
from flexmatch_helpers import advance, cbor_gamelift, config_for, http, rule_set_body

CBOR_HEADERS = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor", "Accept": "application/cbor"}


@pytest.fixture
def emulator_config(tmp_path):
    return config_for(tmp_path)


@pytest.fixture
def cbor_client(emulator, tmp_path):
    client = cbor_gamelift(emulator.url, tmp_path / "models")
    sent: list[str] = []
    client.meta.events.register("before-send.gamelift.*", lambda request, **_: sent.append(request.url))
    client.sent = sent
    return client


def test_a_whole_flow_over_cbor(emulator, cbor_client):
    gl = cbor_client
    gl.create_matchmaking_rule_set(
        Name="duo", RuleSetBody=rule_set_body(("red", 1, 1), ("blue", 1, 1))
    )
    made = gl.create_matchmaking_configuration(
        Name="duo",
        RuleSetName="duo",
        RequestTimeoutSeconds=300,
        AcceptanceRequired=True,
        AcceptanceTimeoutSeconds=30,
    )["Configuration"]
    assert isinstance(made["CreationTime"], datetime)
    skilled = {"PlayerId": "p1", "PlayerAttributes": {"skill": {"N": 12.5}}}
    first = gl.start_matchmaking(TicketId="c-1", ConfigurationName="duo", Players=[skilled])
    assert first["MatchmakingTicket"]["Status"] == "QUEUED"
    assert first["MatchmakingTicket"]["Players"][0]["PlayerAttributes"] == {"skill": {"N": 12.5}}
    gl.start_matchmaking(TicketId="c-2", ConfigurationName="duo", Players=[{"PlayerId": "p2"}])
    advance(emulator)
    listed = gl.describe_matchmaking(TicketIds=["c-1", "c-2"])["TicketList"]
    assert [t["Status"] for t in listed] == ["REQUIRES_ACCEPTANCE"] * 2
    assert isinstance(listed[0]["StartTime"], datetime)
    gl.accept_match(TicketId="c-1", PlayerIds=["p1"], AcceptanceType="ACCEPT")
    gl.accept_match(TicketId="c-2", PlayerIds=["p2"], AcceptanceType="ACCEPT")
    advance(emulator, 30)
    done = gl.describe_matchmaking(TicketIds=["c-1"])["TicketList"][0]
    assert done["Status"] == "COMPLETED"
    assert done["GameSessionConnectionInfo"]["MatchedPlayerSessions"][0]["PlayerSessionId"].startswith("psess-")
    assert isinstance(done["EndTime"], datetime)

    with pytest.raises(ClientError) as exc:
        gl.accept_match(TicketId="c-1", PlayerIds=["p1"], AcceptanceType="ACCEPT")
    assert exc.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(ClientError) as exc:
        gl.stop_matchmaking(TicketId="ghost")
    assert exc.value.response["Error"]["Code"] == "NotFoundException"
    assert all("/service/GameLift/operation/" in url for url in gl.sent)


def post(emulator, operation: str, body: bytes, headers: dict[str, str] | None = None, service: str = "GameLift"):
    return http.post(
        f"{emulator.url}/service/{service}/operation/{operation}",
        content=body,
        headers=CBOR_HEADERS if headers is None else headers,
    )


def test_cbor_errors_carry_type_and_message(emulator):
    r = post(emulator, "AcceptMatch", cbor2.dumps({"TicketId": "x!", "PlayerIds": ["p"], "AcceptanceType": "ACCEPT"}))
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/cbor" and r.headers["smithy-protocol"] == "rpc-v2-cbor"
    body = cbor2.loads(r.content)
    assert body["__type"].rsplit("#", 1)[-1] == "InvalidRequestException"
    assert "'TicketId'" in body["message"]

    serialization, unknown = "SerializationException", "UnknownOperationException"
    no_protocol = {"Content-Type": "application/cbor"}
    as_json = {**CBOR_HEADERS, "Content-Type": "application/json"}
    byte_ticket = cbor2.dumps({"TicketId": b"bytes", "PlayerIds": ["p"], "AcceptanceType": "ACCEPT"})
    cases = [
        (post(emulator, "LaunchRockets", cbor2.dumps({})), 404, unknown),
        (post(emulator, "AcceptMatch", cbor2.dumps({}), service="DynamoDB"), 404, unknown),
        (post(emulator, "AcceptMatch", b"\xff\xff\xff"), 400, serialization),
        (post(emulator, "AcceptMatch", cbor2.dumps([1, 2])), 400, serialization),
        (post(emulator, "AcceptMatch", cbor2.dumps({}), no_protocol), 400, serialization),
        (post(emulator, "AcceptMatch", b"{}", as_json), 415, "UnsupportedMediaTypeException"),
        (post(emulator, "AcceptMatch", byte_ticket), 400, serialization),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.content
        body = cbor2.loads(response.content)
        assert body["__type"].rsplit("#", 1)[-1] == code and body["message"]


def test_cbor_timestamps_are_tag_1_and_empty_input_is_allowed(emulator):
    post(emulator, "CreateMatchmakingRuleSet", cbor2.dumps({"Name": "r", "RuleSetBody": rule_set_body(("a", 1, 2))}))
    r = post(emulator, "DescribeMatchmakingRuleSets", b"", {"smithy-protocol": "rpc-v2-cbor"})
    assert r.status_code == 200
    created = cbor2.loads(r.content)["RuleSets"][0]["CreationTime"]
    assert isinstance(created, datetime)  # cbor2 reads tag 1 (epoch seconds) as a datetime
    assert b"\xc1\xfb" in r.content  # tag 1 around a double
