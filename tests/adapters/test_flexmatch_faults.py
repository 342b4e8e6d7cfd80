"""Faults a real server does not produce on demand, injected with httpx.MockTransport:
throttling runs, 5xx then success, broken connections, garbage bodies, Retry-After, and the
mapping of every error shape to a typed error with a plain sentence. Everything else is tested
against the emulator (test_flexmatch_adapter.py)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import threading
import time

import httpx
import pytest
from botocore.credentials import Credentials, RefreshableCredentials

from lobby.core.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotConfigured,
    NotFound,
    PermissionDenied,
    ProtocolError,
    Throttled,
    Unavailable,
)
from lobby.flexmatch import signing
from lobby.flexmatch.client import FlexMatchClient
from lobby.flexmatch.signing import AwsContext, CredentialSource

SECRET = "wJalrXUtnFEMI-not-a-real-secret"
TOKEN = "session-token-not-real"
TICKET = {"TicketId": "t-1", "ConfigurationName": "c", "Status": "SEARCHING", "StartTime": 1767268800.5}


def creds(token: str | None = TOKEN) -> CredentialSource:
    return CredentialSource(context=AwsContext(Credentials("AKIDTEST", SECRET, token), "us-east-1"))


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def client_for(handler, *, source: CredentialSource | None = None, rec: Recorder | None = None, **kw) -> FlexMatchClient:
    rec = rec or Recorder()
    return FlexMatchClient(
        "http://gamelift.test",
        region="us-east-1",
        credentials=source or creds(),
        transport=httpx.MockTransport(handler),
        sleep=rec.sleep,
        **kw,
    )


def sequence(*answers):
    """A handler answering with each item in turn (the last repeats); records requests."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = answers[min(len(seen), len(answers)) - 1]
        if isinstance(item, Exception):
            raise item
        return item

    handler.seen = seen  # type: ignore[attr-defined]
    return handler


def err(code: str, message: str = "", status: int = 400, **headers: str) -> httpx.Response:
    body = {"__type": code}
    if message:
        body["message"] = message
    return httpx.Response(status, json=body, headers=headers)


OK = httpx.Response(200, json={"TicketList": [TICKET]})


# --- retries -------------------------------------------------------------------------------------


async def test_throttling_is_retried_with_backoff_then_succeeds():
    handler = sequence(err("ThrottlingException", "Rate exceeded"), err("ThrottlingException"), OK)
    rec = Recorder()
    async with client_for(handler, rec=rec) as client:
        tickets = await client.describe_matchmaking(["t-1"])
    assert [t.ticket_id for t in tickets] == ["t-1"]
    assert len(handler.seen) == 3
    assert len(rec.sleeps) == 2 and 0 <= rec.sleeps[0] <= 1 and 0 <= rec.sleeps[1] <= 2


async def test_throttling_that_outlasts_three_attempts_is_a_plain_throttled_error():
    handler = sequence(err("ThrottlingException", "Rate exceeded"))
    async with client_for(handler) as client:
        with pytest.raises(Throttled) as info:
            await client.accept_match("t-1", ["p1"])
    assert len(handler.seen) == 3
    assert info.value.message == (
        "GameLift is throttling AcceptMatch (rate exceeded); lobby will slow down, try again shortly."
    )


async def test_rate_exceeded_under_another_code_and_http_429_are_throttling():
    for answer in (err("SomethingElse", "Rate exceeded"), httpx.Response(429, text="slow down")):
        handler = sequence(answer, OK)
        async with client_for(handler) as client:
            await client.describe_matchmaking(["t-1"])
        assert len(handler.seen) == 2


async def test_retry_after_is_honoured():
    handler = sequence(err("ThrottlingException", "Rate exceeded", **{"Retry-After": "3"}), OK)
    rec = Recorder()
    async with client_for(handler, rec=rec) as client:
        await client.describe_matchmaking(["t-1"])
    assert rec.sleeps == [3.0]
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    handler = sequence(err("ThrottlingException", **{"Retry-After": date}), OK)
    rec = Recorder()
    async with client_for(handler, rec=rec) as client:
        await client.describe_matchmaking(["t-1"])
    assert 25 <= rec.sleeps[0] <= 31


async def test_503_then_success_and_internal_service_exception_then_success():
    for first in (httpx.Response(503, text="<html>busy</html>"), err("InternalServiceException", "oops", 500)):
        handler = sequence(first, OK)
        async with client_for(handler) as client:
            assert (await client.describe_matchmaking(["t-1"]))[0].status == "SEARCHING"
        assert len(handler.seen) == 2


async def test_connection_resets_are_retried_and_accept_is_safe_to_repeat():
    handler = sequence(httpx.ReadError("connection reset by peer"), httpx.Response(200, json={}))
    async with client_for(handler) as client:
        await client.accept_match("t-1", ["p1", "p2"])
    bodies = [json.loads(r.content) for r in handler.seen]
    assert bodies[0] == bodies[1] == {"TicketId": "t-1", "PlayerIds": ["p1", "p2"], "AcceptanceType": "ACCEPT"}


async def test_unreachable_and_slow_services_are_unavailable_after_three_attempts():
    handler = sequence(httpx.ConnectError("refused"))
    async with client_for(handler) as client:
        with pytest.raises(Unavailable, match=r"^Cannot connect to GameLift at http://gamelift.test"):
            await client.stop_matchmaking("t-1")
    assert len(handler.seen) == 3
    handler = sequence(httpx.ReadTimeout("slow"))
    async with client_for(handler) as client:
        with pytest.raises(Unavailable) as info:
            await client.stop_matchmaking("t-1")
    assert info.value.timeout and "did not answer StopMatchmaking in time" in info.value.message


async def test_retry_quota_stops_retry_storms():
    handler = sequence(httpx.Response(503))
    async with client_for(handler) as client:
        client.quota._tokens = 5  # one retry left in the budget
        with pytest.raises(Unavailable):
            await client.describe_matchmaking(["t-1"])
        assert len(handler.seen) == 2
        with pytest.raises(Unavailable):
            await client.describe_matchmaking(["t-1"])
        assert len(handler.seen) == 3


async def test_garbage_success_bodies_are_protocol_errors_and_not_retried():
    for body in (b"<html>hello</html>", b'{"TicketList": [{"Status": "NOPE"}]}'):
        handler = sequence(httpx.Response(200, content=body))
        async with client_for(handler) as client:
            with pytest.raises(ProtocolError) as info:
                await client.describe_matchmaking(["t-1"])
        assert len(handler.seen) == 1
        assert info.value.message.startswith("GameLift") and "\n" not in info.value.message


# --- error mapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error", "sentence"),
    [
        (
            err("com.amazonaws.gamelift#InvalidRequestException", "Ticket t-1 is not awaiting acceptance"),
            InvalidRequest,
            "GameLift refused AcceptMatch: Ticket t-1 is not awaiting acceptance.",
        ),
        (
            httpx.Response(400, json={"__type": "NotFoundException", "Message": "No ticket t-1."}),
            NotFound,
            "GameLift found nothing for AcceptMatch: No ticket t-1.",
        ),
        (
            httpx.Response(400, json={}, headers={"x-amzn-ErrorType": "NotFoundException:http://internal"}),
            NotFound,
            "GameLift found nothing for AcceptMatch: no such item.",
        ),
        (
            err("UnrecognizedClientException", "The security token included in the request is invalid."),
            AuthenticationFailed,
            "GameLift did not accept your AWS credentials (UnrecognizedClientException); ",
        ),
        (err("MissingAuthenticationTokenException", "Missing"), AuthenticationFailed, "GameLift did not accept"),
        (err("ExpiredTokenException", "expired"), AuthenticationFailed, "Your AWS session token has expired"),
        (
            err("InvalidSignatureException", "Signature expired: 20260101T000000Z is now earlier than ..."),
            AuthenticationFailed,
            "GameLift refused the request's signature as expired; check this machine's clock.",
        ),
        (
            err("AccessDeniedException", "User: arn:aws:iam::1:user/x is not authorized", 403),
            PermissionDenied,
            "Your AWS identity is not allowed to call gamelift:AcceptMatch;",
        ),
        (err("UnsupportedRegionException", "no"), NotConfigured, "GameLift FlexMatch is not available in region us-east-1"),
        (err("UnknownOperationException"), ProtocolError, "The endpoint does not know GameLift.AcceptMatch"),
        (err("LimitExceededException", "Too many."), InvalidRequest, "GameLift refused AcceptMatch: a service limit"),
        (err("SerializationException"), InvalidRequest, "GameLift refused AcceptMatch: SerializationException."),
        (httpx.Response(400, content=b"\x00\x01nonsense"), ProtocolError, "GameLift answered AcceptMatch with HTTP 400"),
        (httpx.Response(401, content=b""), AuthenticationFailed, "GameLift did not accept your AWS credentials (HTTP 401)"),
    ],
)
async def test_every_failure_is_a_typed_error_with_a_plain_sentence(answer, error, sentence):
    handler = sequence(answer)
    async with client_for(handler) as client:
        with pytest.raises(error) as info:
            await client.accept_match("t-1", ["p1"])
    message = info.value.message
    assert message.startswith(sentence)
    assert "\n" not in message and message.endswith(".")
    assert len(handler.seen) == 1  # none of these is retryable


async def test_secrets_never_reach_error_text():
    leak = f"Credential=AKIDTEST, secret {SECRET}, token {TOKEN}"
    for answer in (err("InvalidSignatureException", leak), err("InvalidRequestException", leak)):
        async with client_for(sequence(answer)) as client:
            with pytest.raises((AuthenticationFailed, InvalidRequest)) as info:
                await client.accept_match("t-1", ["p1"])
        text = str(info.value) + repr(info.value)
        assert SECRET not in text and TOKEN not in text
    source = creds()
    assert SECRET not in repr(source) + repr(await source.context()) + repr(signing.SigV4(source, "us-east-1"))


async def test_requests_lobby_would_not_send_fail_before_the_network():
    handler = sequence(OK)
    async with client_for(handler) as client:
        with pytest.raises(InvalidRequest, match=r"^lobby did not send AcceptMatch: TicketId"):
            await client.accept_match("bad id!", ["p1"])
        with pytest.raises(InvalidRequest, match="PlayerIds"):
            await client.accept_match("t-1", [])
        with pytest.raises(InvalidRequest, match="AcceptanceType"):
            await client.accept_match("t-1", ["p1"], "MAYBE")
    assert handler.seen == []


# --- signing and credentials ---------------------------------------------------------------------


async def test_requests_are_aws_json_and_signed_with_sigv4_for_gamelift():
    handler = sequence(OK)
    async with client_for(handler) as client:
        await client.describe_matchmaking(["t-1"])
    request = handler.seen[0]
    assert request.method == "POST" and request.url.path == "/"
    assert request.headers["x-amz-target"] == "GameLift.DescribeMatchmaking"
    assert request.headers["content-type"] == "application/x-amz-json-1.1"
    auth = request.headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
    assert "/us-east-1/gamelift/aws4_request" in auth
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target" in auth
    assert request.headers["x-amz-security-token"] == TOKEN
    assert json.loads(request.content) == {"TicketIds": ["t-1"]}


async def test_credentials_resolve_once_off_the_event_loop(monkeypatch):
    calls = []

    def resolve(profile):
        calls.append((profile, threading.get_ident()))
        return AwsContext(Credentials("AKIDTEST", SECRET), "eu-west-1")

    monkeypatch.setattr(signing, "resolve_aws", resolve)
    source = CredentialSource("team")
    handler = sequence(OK)
    async with client_for(handler, source=source) as client:
        await asyncio.gather(*(client.describe_matchmaking(["t-1"]) for _ in range(5)))
    assert len(calls) == 1 and calls[0][0] == "team"
    assert calls[0][1] != threading.get_ident()


async def test_refreshable_credentials_are_refreshed_when_due_off_the_loop():
    refreshed = []

    def refresh():
        refreshed.append(threading.get_ident())
        return {
            "access_key": f"AKIDROTATED{len(refreshed)}",
            "secret_key": SECRET,
            "token": TOKEN,
            "expiry_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60)),
        }

    # Expires within the advisory window: every request finds a refresh due.
    rc = RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")
    refreshed.clear()
    source = CredentialSource(context=AwsContext(rc, "us-east-1"))
    handler = sequence(OK)
    async with client_for(handler, source=source) as client:
        await client.describe_matchmaking(["t-1"])
        await client.describe_matchmaking(["t-1"])
    assert len(refreshed) >= 2 and threading.get_ident() not in refreshed
    assert "Credential=AKIDROTATED" in handler.seen[-1].headers["authorization"]


async def test_missing_credentials_are_not_configured_with_a_how_to(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    handler = sequence(OK)
    async with client_for(handler, source=CredentialSource()) as client:
        with pytest.raises(NotConfigured) as info:
            await client.describe_matchmaking(["t-1"])
    assert handler.seen == []
    assert info.value.message.startswith("No AWS credentials were found; set AWS_ACCESS_KEY_ID")
    # An emulator needs no real identity: placeholder keys sign instead.
    fallback = CredentialSource(fallback=signing.EMULATOR_CREDENTIALS)
    async with client_for(handler, source=fallback) as client:
        await client.describe_matchmaking(["t-1"])
    assert "Credential=LOBBYEMULATORKEY/" in handler.seen[0].headers["authorization"]


async def test_an_unknown_aws_profile_is_not_configured():
    async with client_for(sequence(OK), source=CredentialSource("no-such-profile")) as client:
        with pytest.raises(NotConfigured, match="The AWS profile 'no-such-profile' is not in your AWS config files"):
            await client.describe_matchmaking(["t-1"])


# --- clock skew ----------------------------------------------------------------------------------


async def test_server_date_gives_the_clock_skew():
    ahead = email.utils.formatdate(time.time() + 120, usegmt=True)
    handler = sequence(httpx.Response(200, json={"TicketList": []}, headers={"Date": ahead}))
    async with client_for(handler) as client:
        assert client.skew == 0.0
        await client.describe_matchmaking(["t-1"])
        assert 118 <= client.skew <= 122
        assert abs(client.server_clock().timestamp() - (time.time() + client.skew)) < 1
    now = email.utils.formatdate(time.time(), usegmt=True)
    handler = sequence(httpx.Response(200, json={"TicketList": []}, headers={"Date": now}))
    async with client_for(handler) as client:
        await client.describe_matchmaking(["t-1"])
        assert client.skew == 0.0  # within the Date header's one-second grain


# --- batching ------------------------------------------------------------------------------------


async def test_describe_batches_by_ten_with_bounded_concurrency_in_callers_order():
    in_flight = 0
    peak = 0
    sizes = []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        ids = json.loads(request.content)["TicketIds"]
        sizes.append(len(ids))
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):
            await asyncio.sleep(0)
        in_flight -= 1
        # Answer out of order and leave out unknown ids.
        found = [dict(TICKET, TicketId=i) for i in reversed(ids) if not i.endswith("x")]
        return httpx.Response(200, json={"TicketList": found})

    ids = [f"t-{n}" for n in range(95)] + ["t-unknown-x", "t-3"]
    client = FlexMatchClient(
        "http://gamelift.test", region="us-east-1", credentials=creds(), transport=httpx.MockTransport(handler)
    )
    async with client:
        tickets = await client.describe_matchmaking(ids)
    assert [t.ticket_id for t in tickets] == [f"t-{n}" for n in range(95)]
    assert sorted(sizes) == [6] + [10] * 9 and 1 < peak <= 4


async def test_a_failed_batch_fails_the_whole_describe():
    async def handler(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["TicketIds"]
        if "t-15" in ids:
            return err("InvalidRequestException", "bad id")
        return httpx.Response(200, json={"TicketList": []})

    client = FlexMatchClient(
        "http://gamelift.test", region="us-east-1", credentials=creds(), transport=httpx.MockTransport(handler)
    )
    async with client:
        with pytest.raises(InvalidRequest, match="bad id"):
            await client.describe_matchmaking([f"t-{n}" for n in range(30)])


async def test_configuration_paging_follows_tokens_and_refuses_loops():
    page = lambda names, token=None: httpx.Response(  # noqa: E731
        200, json={"Configurations": [{"Name": n, "AcceptanceTimeoutSeconds": 30} for n in names], **({"NextToken": token} if token else {})}
    )
    handler = sequence(page(["a", "b"], "n1"), page(["c"], "n2"), page([]))
    async with client_for(handler) as client:
        found = await client.describe_matchmaking_configurations(limit=2)
    assert [c.name for c in found] == ["a", "b", "c"]
    assert [json.loads(r.content).get("NextToken") for r in handler.seen] == [None, "n1", "n2"]
    assert json.loads(handler.seen[0].content) == {"Limit": 2}
    handler = sequence(page(["a"], "same"))
    async with client_for(handler) as client:
        with pytest.raises(ProtocolError, match="repeated a page token"):
            await client.describe_matchmaking_configurations()
