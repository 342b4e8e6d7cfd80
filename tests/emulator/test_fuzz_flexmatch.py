"""The FlexMatch operations fuzzed over AWS JSON 1.1 and Smithy RPC v2 CBOR with bodies built
from the committed GameLift model (see fuzz_flexmatch_helpers). A small derandomized run: the
full campaign is tests/bench/test_bench_fuzz.py. Findings are listed in the failure message."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import cbor2
import httpx
import pytest
from flexmatch_helpers import config_for
from fuzz_flexmatch_helpers import (
    CBOR_TYPE,
    JSON_TYPE,
    NAMESPACE,
    answer_problems,
    operation_names,
    run_flexmatch,
    run_sigv4,
)

from lobby.emulator.server import EmulatorThread

#: Cases per (operation, protocol).
EXAMPLES = int(os.environ.get("LOBBY_FUZZ_FM_EXAMPLES", "30"))


@pytest.fixture(scope="module")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with EmulatorThread(config_for(tmp_path_factory.mktemp("fuzz-flexmatch"))) as emu:
        yield emu.url


def test_every_operation_of_the_model_is_fuzzed():
    assert len(operation_names()) == 12
    assert "AcceptMatch" in operation_names()


@pytest.mark.parametrize("protocol", ["json", "cbor"])
def test_fuzz(emulator_url, protocol):
    campaign = run_flexmatch(emulator_url, examples=EXAMPLES, protocols=(protocol == "cbor",))
    assert not campaign.findings, "\n" + campaign.report()
    assert campaign.total >= 12 * EXAMPLES, campaign.report()
    outcomes = {outcome for (_, outcome) in campaign.statuses}
    # Valid requests got through, and each kind of refusal was seen.
    assert "200" in outcomes
    assert {"400:InvalidRequestException", "400:SerializationException", "400:NotFoundException"} <= outcomes


@pytest.fixture
def signed_emulator_url(tmp_path) -> Iterator[str]:
    """SigV4 checking on, with the key pair tests/conftest.py puts in the environment (for each
    test, so that it starts after that environment is set)."""
    with EmulatorThread(config_for(tmp_path, verify_sigv4=True)) as emu:
        yield emu.url


def test_fuzz_sigv4_headers(signed_emulator_url):
    campaign = run_sigv4(signed_emulator_url, examples=EXAMPLES * 5)
    assert not campaign.findings, "\n" + campaign.report()
    outcomes = {outcome for (_, outcome) in campaign.statuses}
    # Properly signed requests got through; each refusal was met.
    assert "200" in outcomes
    for code in ("MissingAuthenticationToken", "IncompleteSignature", "UnrecognizedClient",
                 "InvalidSignature"):
        assert f"400:{code}Exception" in outcomes, outcomes


# --- the oracle itself can fail -------------------------------------------------------------------


def _json(status: int, body: bytes, **headers: str) -> httpx.Response:
    sent = {"content-type": JSON_TYPE, "x-amzn-requestid": "r-1", **headers}
    return httpx.Response(status, content=body, headers=sent)


def _cbor(status: int, body: object) -> httpx.Response:
    headers = {"content-type": CBOR_TYPE, "x-amzn-requestid": "r-1", "smithy-protocol": "rpc-v2-cbor"}
    return httpx.Response(status, content=cbor2.dumps(body), headers=headers)


def _checks(operation: str, cbor: bool, response: httpx.Response) -> set[str]:
    return {check for check, _ in answer_problems(operation, cbor, response)}


A, D = "AcceptMatch", "DescribeMatchmaking"


@pytest.mark.parametrize(
    ("operation", "response", "expected"),
    [
        (A, _json(500, b'{"__type": "InternalServiceException", "message": "x"}',
                  **{"x-amzn-errortype": "InternalServiceException"}), "server_error"),
        (A, _json(400, b'{"message": "x"}'), "error_shape"),
        (A, _json(400, b'{"__type": "InvalidRequestException"}',
                  **{"x-amzn-errortype": "InvalidRequestException"}), "error_shape"),
        (A, _json(400, b'{"__type": "LimitExceededException", "message": "x"}',
                  **{"x-amzn-errortype": "LimitExceededException"}), "error_code"),
        (A, _json(400, b'{"__type": "NotFoundException", "message": "x"}'), "error_shape"),
        (A, _json(200, b'{"Extra": 1}'), "output_shape"),
        (D, _json(200, b'{"TicketList": [{"Status": "WAITING"}]}'), "output_shape"),
        (D, _json(200, b'{"TicketList": [{"StartTime": "2026-01-01"}]}'), "output_shape"),
        (D, _json(200, b'{"TicketList": [{"EstimatedWaitTime": 4294967296}]}'), "output_shape"),
        (D, _json(200, b'{"TicketList": [{"Players": [{"PlayerAttributes": {"a": {"N": NaN}}}]}]}'),
         "body_encoding"),
        (A, httpx.Response(200, content=b"{}", headers={"x-amzn-requestid": "r"}), "content_type"),
    ],
)
def test_the_json_oracle_flags(operation, response, expected):
    assert expected in _checks(operation, False, response)


def test_the_cbor_oracle_flags_a_json_style_error_and_an_epoch_number():
    assert "error_shape" in _checks(
        "AcceptMatch", True, _cbor(400, {"__type": "InvalidRequestException", "message": "x"})
    )
    ticket = {"TicketId": "t", "StartTime": 1.5}
    assert "output_shape" in _checks("DescribeMatchmaking", True, _cbor(200, {"TicketList": [ticket]}))


def test_the_oracle_passes_proper_answers():
    ok_error = {"__type": NAMESPACE + "NotFoundException", "message": "No such ticket."}
    assert _checks("AcceptMatch", True, _cbor(400, ok_error)) == set()
    json_error = json.dumps({"__type": "NotFoundException", "message": "No such ticket."}).encode()
    assert _checks("AcceptMatch", False,
                   _json(400, json_error, **{"x-amzn-errortype": "NotFoundException"})) == set()
    nan = {"TicketList": [{"Players": [{"PlayerId": "p", "PlayerAttributes": {"a": {"N": "NaN"}}}]}]}
    assert _checks("DescribeMatchmaking", False, _json(200, json.dumps(nan).encode())) == set()
