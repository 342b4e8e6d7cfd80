"""What hostile-input fuzzing of the emulator found, one explicit test per finding, each through
the real HTTP API of an emulator on a loopback port. Before the fix each of these answered a 500
(or a 2xx that broke the contract); now each gets the service's own refusal, or a proper answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import cbor2
import httpx
import pytest
from flexmatch_helpers import config_for
from teambattles_helpers import TB, YOU, error_of, owls_accept

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread

# --- TeamBattles ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tb() -> Iterator[TB]:
    with EmulatorThread(EmulatorConfig()) as emu:
        client = TB(emu.url)
        yield client
        client.close()


@pytest.mark.parametrize("route", ["/matches/discover", "/user/matches"])
@pytest.mark.parametrize("raw", [b"\t", b" ", b"\r\n  "])
def test_tb_a_body_of_whitespace_is_not_an_empty_body(tb, route, raw):
    """Found: an optional body of whitespace only was taken as no body (200)."""
    r = tb.call("POST", route, content=raw, headers={"Content-Type": "application/json"})
    assert (r.status_code, error_of(r)) == (400, "error_validation_failed")


def test_tb_an_empty_optional_body_is_still_no_body(tb):
    r = tb.call("POST", "/matches/discover", content=b"", headers={"Content-Type": "application/json"})
    assert r.status_code == 200


def _create(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "teamId": "t_owls",
        "gameId": "gm_skyline",
        "gameModeId": "hardpoint",
        "matchType": "XP_ONLY",
        "mapSelectionType": "FLEX",
        "mapPreferenceMode": "PREFERRED",
        "teamSize": 4,
        "bestOf": 3,
        "activeRoster": ["u_you", "u_ada", "u_bo", "u_cy"],
    }
    body.update(extra)
    return body


LONE_SURROGATES = [
    ("/matches/{matchId}/accept", {"matchId": "tbm_vipers_hp"}, owls_accept(message="hi \ud800")),
    ("/matches/{matchId}/accept", {"matchId": "tbm_vipers_hp"}, owls_accept(disputedRules={"\udc00": 1})),
    ("/matches/{matchId}/accept", {"matchId": "tbm_vipers_hp"},
     owls_accept(disputedRules={"maps": ["a\udfffb"]})),
    ("/matches/discover", {}, {"gameId": "\ud800"}),
    ("/user/matches", {}, {"gameId": "\ud800", "opponentId": "\udfff"}),
    ("/matches/create", {}, _create(notes="n\ud800")),
    ("/matches/create", {}, _create(gameSpecificOptions={"\ud800": 1})),
    ("/matches/{matchId}/cancel", {"matchId": "tbm_owls_open"}, {"reason": "\ud800"}),
]


@pytest.mark.parametrize(("template", "params", "body"), LONE_SURROGATES, ids=range(len(LONE_SURROGATES)))
def test_tb_a_lone_surrogate_anywhere_in_the_body_is_refused(tb, template, params, body):
    """Found: JSON can escape a lone UTF-16 surrogate (\\ud800); storing or matching such a string
    failed in SQLite (500)."""
    raw = json.dumps(body).encode()  # ensure_ascii: the surrogate goes as the escape \\ud800
    assert b"\\ud" in raw or b"\\udc" in raw or b"\\udf" in raw
    r = tb.call("POST", template, content=raw, headers={"Content-Type": "application/json"}, **params)
    assert (r.status_code, error_of(r)) == (400, "error_validation_failed")


def test_tb_escaped_text_that_is_whole_still_goes_through(tb):
    raw = json.dumps({"gameId": "gm_sky\u00e9\U0001f3ae"}).encode()
    r = tb.call("POST", "/matches/discover", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 200


LATEST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


@pytest.mark.parametrize("scheduled", [LATEST_MS + 1, 1e300, 1.7976931348623157e308])
def test_tb_a_start_past_the_year_9999_is_refused(tb, scheduled):
    """Found: createMatch with a huge scheduledAt failed formatting it as a date (500)."""
    r = tb.post("/matches/create", _create(scheduledAt=scheduled))
    assert (r.status_code, error_of(r)) == (400, "error_validation_failed")
    assert "9999" in r.json()["details"]


def test_tb_a_start_at_the_end_of_the_year_9999_is_taken(tb):
    r = tb.post("/matches/create", _create(scheduledAt=LATEST_MS, publishStatus="DRAFT"))
    assert r.status_code == 200, r.text
    match = tb.match(r.json()["matchId"])
    assert match["scheduledAt"].startswith("9999-12-31T23:59:59")


# --- FlexMatch ------------------------------------------------------------------------------------

JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}
CBOR_HEADERS = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
RULES = json.dumps(
    {"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 2, "maxPlayers": 2}]}
)


class FM:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=10)

    def json(self, operation: str, body: bytes | dict[str, Any]) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {**JSON_HEADERS, "X-Amz-Target": f"GameLift.{operation}"}
        r = self.http.post(self.url + "/", content=raw, headers=headers)
        assert r.status_code < 500, r.text
        return r

    def cbor(self, operation: str, body: Any) -> httpx.Response:
        raw = body if isinstance(body, bytes) else cbor2.dumps(body)
        r = self.http.post(f"{self.url}/service/GameLift/operation/{operation}", content=raw,
                           headers=CBOR_HEADERS)
        assert r.status_code < 500, r.content
        return r


def json_error(r: httpx.Response) -> str:
    assert r.status_code == 400, r.text
    return r.json()["__type"]


def cbor_error(r: httpx.Response) -> str:
    assert r.status_code == 400, r.content
    return cbor2.loads(r.content)["__type"].rsplit("#", 1)[-1]


@pytest.fixture(scope="module")
def fm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FM]:
    with EmulatorThread(config_for(tmp_path_factory.mktemp("fuzz-regressions"))) as emu:
        client = FM(emu.url)
        assert client.json("CreateMatchmakingRuleSet", {"Name": "rules", "RuleSetBody": RULES}).status_code == 200
        config = {"Name": "cfg", "RuleSetName": "rules", "RequestTimeoutSeconds": 3600,
                  "AcceptanceRequired": False, "FlexMatchMode": "STANDALONE"}
        assert client.json("CreateMatchmakingConfiguration", config).status_code == 200
        yield client
        client.http.close()


def _start(ticket: str, player: dict[str, Any]) -> dict[str, Any]:
    return {"TicketId": ticket, "ConfigurationName": "cfg", "Players": [player]}


@pytest.mark.parametrize(
    "raw",
    [
        b'{"TicketId":"j1","ConfigurationName":"cfg","Players":[{"PlayerId":"a",'
        b'"PlayerAttributes":{"skill":{"N":NaN}}}]}',
        b'{"TicketId":"j1","ConfigurationName":"cfg","Players":[{"PlayerId":"a",'
        b'"PlayerAttributes":{"skill":{"N":-Infinity}}}]}',
        b'{"TicketIds":[Infinity]}',
    ],
)
def test_fm_json_nan_and_infinity_are_not_json(fm, raw):
    """Found: Python's parser takes NaN/Infinity; the ticket was stored and later answered with
    a bare NaN, which is not JSON either."""
    operation = "DescribeMatchmaking" if b"TicketIds" in raw else "StartMatchmaking"
    assert json_error(fm.json(operation, raw)) == "SerializationException"


def test_fm_a_nan_double_sent_in_cbor_is_answered_in_strict_json(fm):
    """CBOR carries NaN and infinities; JSON answers write them as AWS JSON does, as strings."""
    attributes = {"n": {"N": float("nan")}, "i": {"N": float("inf")}, "m": {"SDM": {"x": float("-inf")}}}
    r = fm.cbor("StartMatchmaking", _start("c-nan", {"PlayerId": "nan-player", "PlayerAttributes": attributes}))
    assert r.status_code == 200, cbor2.loads(r.content)
    r = fm.json("DescribeMatchmaking", {"TicketIds": ["c-nan"]})
    assert r.status_code == 200

    def refuse(name: str) -> Any:
        raise AssertionError(f"bare {name} in the answer")

    ticket = json.loads(r.content, parse_constant=refuse)["TicketList"][0]
    got = ticket["Players"][0]["PlayerAttributes"]
    assert got == {"n": {"N": "NaN"}, "i": {"N": "Infinity"}, "m": {"SDM": {"x": "-Infinity"}}}
    # CBOR answers keep them as floats.
    again = cbor2.loads(fm.cbor("DescribeMatchmaking", {"TicketIds": ["c-nan"]}).content)
    value = again["TicketList"][0]["Players"][0]["PlayerAttributes"]["n"]["N"]
    assert value != value  # NaN


SURROGATE_BODIES = [
    ("StartMatchmaking", _start("s1", {"PlayerId": "q\ud800"})),
    ("StartMatchmaking", _start("s2", {"PlayerId": "ok", "Team": "\udfff"})),
    ("StartMatchmaking", _start("s3", {"PlayerId": "ok", "PlayerAttributes": {"\ud800": {"S": "x"}}})),
    ("StartMatchmaking", _start("s4", {"PlayerId": "ok", "LatencyInMs": {"us\udc00": 10}})),
    ("CreateMatchmakingRuleSet", {"Name": "r2", "RuleSetBody": RULES.replace('"a"', '"\ud800"')}),
    ("CreateMatchmakingConfiguration",
     {"Name": "c2", "RuleSetName": "rules", "RequestTimeoutSeconds": 10, "AcceptanceRequired": False,
      "FlexMatchMode": "STANDALONE", "Description": "\ud800"}),
    ("AcceptMatch", {"TicketId": "t", "PlayerIds": ["\ud800"], "AcceptanceType": "ACCEPT"}),
    ("DescribeMatchmakingRuleSets", {"NextToken": "\ud800"}),
]


@pytest.mark.parametrize(("operation", "body"), SURROGATE_BODIES, ids=range(len(SURROGATE_BODIES)))
def test_fm_a_lone_surrogate_in_any_string_is_a_serialization_error(fm, operation, body):
    """Found: a lone surrogate (escaped in JSON) reached SQLite and failed there (500), or was
    stored and then could not be written back as CBOR."""
    raw = json.dumps(body).encode()
    assert b"\\ud" in raw
    r = fm.json(operation, raw)
    assert json_error(r) == "SerializationException"
    assert "surrogate" in r.json()["message"]


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("StartMatchmaking", _start("i1", {"PlayerId": "a", "LatencyInMs": {"us": 2**31}})),
        ("StartMatchmaking", _start("i2", {"PlayerId": "a", "LatencyInMs": {"us": 10**30}})),
        ("DescribeMatchmakingConfigurations", {"Limit": 2**70}),
        ("CreateMatchmakingConfiguration",
         {"Name": "c3", "RuleSetName": "rules", "RequestTimeoutSeconds": 10, "AcceptanceRequired": False,
          "FlexMatchMode": "WITH_QUEUE", "AdditionalPlayerCount": 10**30}),
        ("StartMatchmaking", _start("i3", {"PlayerId": "a", "PlayerAttributes": {"s": {"N": 10**400}}})),
    ],
)
@pytest.mark.parametrize("protocol", ["json", "cbor"])
def test_fm_a_number_past_its_type_is_a_serialization_error(fm, operation, body, protocol):
    """Found: integers past 32 bits were stored and answered back as they were (an integer
    member no SDK can read), and a double given as a 400-digit integer likewise."""
    if protocol == "json":
        assert json_error(fm.json(operation, body)) == "SerializationException"
    else:
        assert cbor_error(fm.cbor(operation, body)) == "SerializationException"


@pytest.mark.parametrize(
    "body",
    [
        '{"ruleLanguageVersion": "1.0", "teams": [{"name": "\\ud800", "minPlayers": 1, "maxPlayers": 1}]}',
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        "[" * 30_000 + "]" * 30_000,
    ],
    ids=["surrogate-team-name", "deep-object", "deep-array"],
)
@pytest.mark.parametrize("operation", ["ValidateMatchmakingRuleSet", "CreateMatchmakingRuleSet"])
def test_fm_a_rule_set_body_that_cannot_be_read_back_is_refused(fm, operation, body):
    """Found: a rule set whose team name was an escaped lone surrogate was taken, and every CBOR
    answer naming that team then failed (500); a deeply nested body overflowed the parser (500)."""
    assert len(body) <= 65535
    r = fm.json(operation, {"Name": "deep", "RuleSetBody": body})
    assert json_error(r) == "InvalidRequestException"
    assert "not valid JSON" in r.json()["message"]


def test_fm_the_largest_32_bit_integer_is_taken(fm):
    r = fm.json("StartMatchmaking", _start("i4", {"PlayerId": "big", "LatencyInMs": {"us": 2**31 - 1}}))
    assert r.status_code == 200, r.text
    assert r.json()["MatchmakingTicket"]["Players"][0]["LatencyInMs"] == {"us": 2**31 - 1}


@pytest.mark.parametrize("protocol", ["json", "cbor"])
def test_fm_members_the_model_does_not_know_are_not_answered_back(fm, protocol):
    """Found: unknown members inside a player (and its attribute values) were stored and echoed
    in StartMatchmaking and DescribeMatchmaking answers, breaking the output shape."""
    ticket = f"u-{protocol}"
    player = {"PlayerId": f"unknown-{protocol}", "Extra": 1,
              "PlayerAttributes": {"skill": {"N": 10, "\u2028": None, "X": [1]}}}
    body = {**_start(ticket, player), "Bogus": {"a": 1}}
    send = fm.json if protocol == "json" else fm.cbor

    def decode(r: httpx.Response) -> Any:
        assert r.status_code == 200, r.content
        return r.json() if protocol == "json" else cbor2.loads(r.content)

    started = decode(send("StartMatchmaking", body))["MatchmakingTicket"]["Players"][0]
    described = decode(send("DescribeMatchmaking", {"TicketIds": [ticket]}))["TicketList"][0]["Players"][0]
    described.pop("Team", None)  # set once the matchmaker has placed the ticket
    for got in (started, described):
        assert got == {"PlayerId": f"unknown-{protocol}", "PlayerAttributes": {"skill": {"N": 10}}}


def test_fm_unknown_members_are_still_ignored_not_refused(fm):
    r = fm.json("DescribeMatchmaking", {"TicketIds": [], "FutureMember": {"x": 1}})
    assert r.status_code == 200
    assert r.json() == {"TicketList": []}
    key = YOU  # a TeamBattles key means nothing to GameLift: just another unknown member
    assert fm.json("DescribeMatchmaking", {"TicketIds": [], "ApiKey": key}).status_code == 200


@pytest.mark.parametrize("host", ["[::1", "[", "a]b["])
def test_fm_a_host_header_that_is_no_host_is_a_signature_error(tmp_path, host):
    """Found (SigV4 checking on): a request whose signed Host header cannot be read as a host
    failed while the signature was computed (500)."""
    from datetime import UTC, datetime

    with EmulatorThread(config_for(tmp_path, verify_sigv4=True)) as emu:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        authorization = (
            f"AWS4-HMAC-SHA256 Credential=AKIDLOBBYTESTEXAMPLE/{stamp[:8]}/us-east-1/gamelift/aws4_request,"
            " SignedHeaders=host;x-amz-date, Signature=0123"
        )
        headers = {**JSON_HEADERS, "X-Amz-Target": "GameLift.DescribeMatchmaking",
                   "Authorization": authorization, "X-Amz-Date": stamp, "Host": host}
        r = httpx.post(emu.url + "/", content=b'{"TicketIds": []}', headers=headers)
    assert json_error(r) == "InvalidSignatureException"
    assert "Host" in r.json()["message"]


@pytest.mark.parametrize("date", ["Fri, 31 Dec 9999 23:59:59 -1400", "Fri, 31 Dec 9999 10:00:00 -1400"])
def test_fm_a_date_header_out_of_range_in_utc_is_incomplete(tmp_path, date):
    """Found (SigV4 checking on): a Date header that is past the year 9999 once moved to UTC
    failed converting it (500)."""
    with EmulatorThread(config_for(tmp_path, verify_sigv4=True)) as emu:
        authorization = (
            "AWS4-HMAC-SHA256 Credential=AKIDLOBBYTESTEXAMPLE/99991231/us-east-1/gamelift/aws4_request,"
            " SignedHeaders=host;date, Signature=0123"
        )
        headers = {**JSON_HEADERS, "X-Amz-Target": "GameLift.DescribeMatchmaking",
                   "Authorization": authorization, "Date": date}
        r = httpx.post(emu.url + "/", content=b'{"TicketIds": []}', headers=headers)
    assert json_error(r) == "IncompleteSignatureException"
