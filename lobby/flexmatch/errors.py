"""Every way a GameLift call can fail, turned into a typed error with one plain sentence.

Service errors arrive as ``{"__type": "[namespace#]Code", "message": "..."}`` (or ``Message``,
or only an ``X-Amzn-ErrorType`` header). Transport failures come from httpx. Messages the
service sends are kept (trimmed) except for sign-in failures, whose text can quote the signed
request; any known secret is scrubbed from what remains.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TypedDict

import httpx
from pydantic import BaseModel, ValidationError

from lobby.core.errors import (
    AuthenticationFailed,
    BackendError,
    InvalidRequest,
    NotConfigured,
    NotFound,
    PermissionDenied,
    ProtocolError,
    Throttled,
    Unavailable,
)
from lobby.flexmatch.signing import HOW_TO_CONFIGURE
from lobby.flexmatch.wire import ErrorBody
from lobby.net.retry import retry_after_seconds


class _Said(TypedDict):
    """What every error made from an answer carries: the service's code and the status."""

    code: str | None
    status: int

#: Throttling codes of the AWS SDKs' standard retry mode.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException.Throttling",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
#: Transient service-side codes: retried like a 5xx.
TRANSIENT_CODES = frozenset(
    {
        "InternalServiceException",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignatureException",
        "MissingAuthenticationTokenException",
        "MissingAuthenticationToken",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "AuthFailure",
    }
)
PERMISSION_CODES = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "NotAuthorized", "UnauthorizedException"}
)

MAX_MESSAGE = 300


def clean(message: str | None, secrets: Iterable[str] = ()) -> str:
    """The service's message as part of a sentence: trimmed, one line, secrets removed."""
    text = " ".join((message or "").split())
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1].rstrip() + "…"
    if text and text[-1] not in ".!?…":
        text += "."
    return text


def _parse_error(response: httpx.Response) -> tuple[str | None, str | None, bool]:
    """(code, message, parsed): what the error body and headers say."""
    code = message = None
    parsed = False
    try:
        body = ErrorBody.model_validate_json(response.content)
        code, message = body.code, body.text
        parsed = True
    except ValidationError:
        try:
            data = json.loads(response.content)
            parsed = isinstance(data, dict)
        except ValueError:
            parsed = False
    header = response.headers.get("x-amzn-errortype")
    if code is None and header:
        code = header.split(":", 1)[0].rsplit("#", 1)[-1] or None
        parsed = True
    return code, message, parsed


def from_response(
    operation: str, response: httpx.Response, *, secrets: Iterable[str] = (), region: str | None = None
) -> BackendError:
    """The typed error for a non-2xx answer to ``operation``."""
    status = response.status_code
    code, raw_message, parsed = _parse_error(response)
    message = clean(raw_message, secrets)
    said = f" {message}" if message else ""
    label = code or f"HTTP {status}"
    kw: _Said = {"code": code, "status": status}

    if code in AUTH_CODES or (code is None and status == 401):
        if code in ("ExpiredToken", "ExpiredTokenException"):
            return AuthenticationFailed(
                "Your AWS session token has expired; sign in again (for SSO: `aws sso login`).", **kw
            )
        lowered = (raw_message or "").lower()
        if code == "RequestExpired" or ("expired" in lowered and "signature" in lowered):
            return AuthenticationFailed(
                "GameLift refused the request's signature as expired; check this machine's clock.", **kw
            )
        # Never echo the service's text here: it can quote the canonical request.
        return AuthenticationFailed(
            f"GameLift did not accept your AWS credentials ({label}); {HOW_TO_CONFIGURE}.",
            **kw,
        )
    if code in PERMISSION_CODES or (code is None and status == 403):
        return PermissionDenied(
            f"Your AWS identity is not allowed to call gamelift:{operation}; "
            "ask for that permission or use another profile.",
            **kw,
        )
    if code in THROTTLING_CODES or status == 429 or "rate exceeded" in (raw_message or "").lower():
        return Throttled(
            f"GameLift is throttling {operation} (rate exceeded); lobby will slow down, try again shortly.",
            retry_after=retry_after_seconds(response),
            **kw,
        )
    if code in TRANSIENT_CODES or status >= 500:
        return Unavailable(
            f"GameLift failed on its side during {operation} ({label}); "
            "try again in a moment.",
            **kw,
        )
    if not parsed:
        return ProtocolError(
            f"GameLift answered {operation} with HTTP {status} and a body that is not a service error.",
            **kw,
        )
    if code == "NotFoundException":
        return NotFound(f"GameLift found nothing for {operation}:{said or ' no such item.'}", **kw)
    if code == "UnsupportedRegionException":
        return NotConfigured(
            f"GameLift FlexMatch is not available in region {region or '(unknown)'}; "
            "set another gamelift.region in the profile.",
            **kw,
        )
    if code in ("UnknownOperationException", "UnknownOperation"):
        return ProtocolError(
            f"The endpoint does not know GameLift.{operation}; check that the endpoint URL is GameLift's.",
            **kw,
        )
    if code == "LimitExceededException":
        return InvalidRequest(f"GameLift refused {operation}: a service limit is reached.{said}", **kw)
    return InvalidRequest(f"GameLift refused {operation}:{said or f' {label}.'}", **kw)


def from_transport(operation: str, exc: httpx.HTTPError, endpoint: str) -> BackendError:
    """The typed error for a request that got no answer."""
    if isinstance(exc, httpx.TimeoutException) and not _refused(exc):
        return Unavailable(f"GameLift at {endpoint} did not answer {operation} in time.", timeout=True)
    if isinstance(exc, httpx.ConnectError) or _refused(exc):
        return Unavailable(f"Cannot connect to GameLift at {endpoint}; is the endpoint reachable?")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return NotConfigured(f"The GameLift endpoint {endpoint!r} is not a usable http(s) URL.")
    if isinstance(exc, httpx.DecodingError):
        return ProtocolError(f"GameLift's answer to {operation} could not be decoded.")
    if isinstance(exc, httpx.TransportError):
        return Unavailable(f"The connection to GameLift at {endpoint} broke during {operation}.")
    return Unavailable(f"Calling GameLift {operation} at {endpoint} failed ({type(exc).__name__}).")


def _refused(exc: httpx.HTTPError) -> bool:
    """A connection that was refused or unroutable rather than slow. The aiohttp transport
    reports every connection failure as ConnectTimeout; the cause tells them apart."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and not isinstance(cause, TimeoutError)


def from_validation(
    operation: str, exc: ValidationError, *, sending: bool, model: type[BaseModel] | None = None
) -> BackendError:
    """A request lobby refuses to send, or an answer it cannot read (members named as on the wire)."""
    first = exc.errors()[0]
    loc = list(first["loc"])
    if model is not None and loc and isinstance(loc[0], str) and loc[0] in model.model_fields:
        loc[0] = model.model_fields[loc[0]].alias or loc[0]
    where = ".".join(str(p) for p in loc) or "(body)"
    if sending:
        return InvalidRequest(f"lobby did not send {operation}: {where}: {first['msg']}.")
    return ProtocolError(f"GameLift's answer to {operation} is not what lobby expects ({where}: {first['msg']}).")
