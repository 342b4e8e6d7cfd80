"""SigV4: accepted unverified by default; verified against the environment's keys when asked."""

from __future__ import annotations

import datetime as dt
import os

import cbor2
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from flexmatch_helpers import JSON_HEADERS, cbor_gamelift, config_for, gamelift, http, rule_set_body

from lobby.emulator.server import EmulatorThread


def code_of(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


@pytest.fixture
def verifying(tmp_path):
    with EmulatorThread(config_for(tmp_path, verify_sigv4=True)) as emu:
        yield emu


def signed(url: str, body: bytes, *, key: str, secret: str, when: dt.datetime | None = None) -> dict[str, str]:
    """Headers of a JSON 1.1 DescribeMatchmaking request signed by botocore at ``when``."""
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={**JSON_HEADERS, "X-Amz-Target": "GameLift.DescribeMatchmaking"},
    )
    signer = SigV4Auth(Credentials(key, secret), "gamelift", "us-east-1")
    if when is None:
        signer.add_auth(request)
    else:
        request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
        request.headers["X-Amz-Date"] = request.context["timestamp"]
        canonical = signer.canonical_request(request)
        signature = signer.signature(signer.string_to_sign(request, canonical), request)
        names = signer.signed_headers(signer.headers_to_sign(request))
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, SignedHeaders={names},"
            f" Signature={signature}"
        )
    return dict(request.headers.items())


def test_unverified_by_default(emulator):
    gl = gamelift(emulator.url, aws_access_key_id="anything", aws_secret_access_key="at-all")
    assert gl.describe_matchmaking(TicketIds=["x"])["TicketList"] == []
    r = http.post(
        emulator.url + "/",
        content=b'{"TicketIds": []}',
        headers={**JSON_HEADERS, "X-Amz-Target": "GameLift.DescribeMatchmaking"},
    )
    assert r.status_code == 200


def test_the_right_keys_pass(verifying):
    gl = gamelift(verifying.url)  # the conftest's environment credentials
    assert gl.describe_matchmaking(TicketIds=["x"])["TicketList"] == []
    gl.create_matchmaking_rule_set(Name="signed", RuleSetBody=rule_set_body(("a", 1, 1)))
    assert [r["RuleSetName"] for r in gl.describe_matchmaking_rule_sets()["RuleSets"]] == ["signed"]


def test_a_wrong_secret_is_an_invalid_signature(verifying):
    gl = gamelift(verifying.url, aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong")
    with pytest.raises(ClientError) as exc:
        gl.describe_matchmaking(TicketIds=["x"])
    assert code_of(exc) == "InvalidSignatureException"
    assert "wrong" not in str(exc.value) and os.environ["AWS_SECRET_ACCESS_KEY"] not in str(exc.value)


def test_cbor_requests_are_verified_too(verifying, tmp_path):
    good = cbor_gamelift(verifying.url, tmp_path / "models")
    assert good.describe_matchmaking(TicketIds=["x"])["TicketList"] == []
    wrong = cbor_gamelift(
        verifying.url, tmp_path / "models",
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong",
    )  # fmt: skip
    with pytest.raises(ClientError) as exc:
        wrong.describe_matchmaking(TicketIds=["x"])
    assert code_of(exc) == "InvalidSignatureException"


def test_an_unknown_key_is_unrecognized(verifying):
    gl = gamelift(verifying.url, aws_access_key_id="AKIDSOMEONEELSE", aws_secret_access_key="x")
    with pytest.raises(ClientError) as exc:
        gl.describe_matchmaking(TicketIds=["x"])
    assert code_of(exc) == "UnrecognizedClientException"


def test_no_authorization_is_a_missing_token(verifying):
    r = http.post(
        verifying.url + "/",
        content=b'{"TicketIds": []}',
        headers={**JSON_HEADERS, "X-Amz-Target": "GameLift.DescribeMatchmaking"},
    )
    assert r.status_code == 400
    assert r.json()["__type"] == "MissingAuthenticationTokenException"
    r = http.post(
        verifying.url + "/service/GameLift/operation/DescribeMatchmaking",
        content=cbor2.dumps({"TicketIds": []}),
        headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"},
    )
    assert r.status_code == 400
    assert cbor2.loads(r.content)["__type"].endswith("MissingAuthenticationTokenException")


def test_tampering_and_stale_signatures_are_refused(verifying):
    key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    body = b'{"TicketIds": []}'
    headers = signed(verifying.url, body, key=key, secret=secret)
    assert http.post(verifying.url + "/", content=body, headers=headers).status_code == 200
    # The same signature over another body does not hold.
    r = http.post(verifying.url + "/", content=b'{"TicketIds": ["x"]}', headers=headers)
    assert r.json()["__type"] == "InvalidSignatureException"
    # Signed 20 minutes ago: too old, even though the signature itself is right.
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    r = http.post(verifying.url + "/", content=body, headers=signed(verifying.url, body, key=key, secret=secret, when=old))
    assert r.status_code == 400 and r.json()["__type"] == "InvalidSignatureException"
    assert "15 minutes" in r.json()["message"]
    # A mangled Authorization header.
    r = http.post(verifying.url + "/", content=body, headers={**headers, "Authorization": "AWS4-HMAC-SHA256 nonsense"})
    assert r.json()["__type"] == "IncompleteSignatureException"
