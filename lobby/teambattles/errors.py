"""Turning a TeamBattles error answer into a typed lobby error with a plain sentence.

The service answers failures with ``{"error": code, "details"?: sentence}``. lobby decides on the
HTTP status and the ``error`` code only; ``details`` is shown to people where it helps (a
validation failure names the field at fault) but never drives a decision. Both spellings of the
permission-denied code come out as one error with one code.
"""

from __future__ import annotations

import json

import httpx

from lobby.core.errors import (
    AuthenticationFailed,
    BackendError,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ProtocolError,
    Throttled,
    Unavailable,
)
from lobby.net.retry import retry_after_seconds
from lobby.teambattles.vocab import ErrorCode as E
from lobby.teambattles.vocab import is_permission_denied

#: What to tell a person for codes where lobby knows better than ``details`` what to do next.
ADVICE: dict[str, str] = {
    E.API_KEY_REQUIRED: "TeamBattles received no API key.",
    E.API_KEY_INVALID: (
        "TeamBattles does not recognise this API key (or it was revoked); check that you copied "
        "the whole key, or create a new one in your settings."
    ),
    E.API_KEY_EXPIRED: "This TeamBattles API key has expired; create a new one in your settings.",
    E.API_KEY_PERMISSION_DENIED: (
        "This TeamBattles API key may not do that: answering matches needs a personal key "
        "with the matches.user_matches read-write scope."
    ),
    E.API_FEATURE_REQUIRED: (
        "Your TeamBattles plan does not include writes through the API; Pro or higher does."
    ),
    E.API_PLAN_REQUIRED: "Your TeamBattles plan does not include this; a higher plan does.",
    E.API_RATE_LIMITED: "TeamBattles is rate-limiting this API key.",
    E.IP_RATE_LIMITED: "TeamBattles is rate-limiting this address.",
    E.IDEMPOTENCY_KEY_CONFLICT: (
        "TeamBattles already saw this submission with a different body; nothing was changed."
    ),
}

#: Codes whose ``details`` would only repeat (or contradict) the advice above.
_ADVICE_ONLY = frozenset(
    {
        E.API_KEY_REQUIRED,
        E.API_KEY_INVALID,
        E.API_KEY_EXPIRED,
        E.API_KEY_PERMISSION_DENIED,
        E.API_FEATURE_REQUIRED,
        E.API_RATE_LIMITED,
        E.IP_RATE_LIMITED,
    }
)

_BY_STATUS: dict[int, tuple[type[BackendError], str]] = {
    400: (InvalidRequest, "TeamBattles refused the request as invalid."),
    401: (AuthenticationFailed, "TeamBattles did not accept the API key."),
    403: (PermissionDenied, "TeamBattles does not allow this API key to do that."),
    404: (NotFound, "TeamBattles has no such match, team or user."),
    409: (Conflict, "The request clashes with the current state on TeamBattles."),
    422: (InvalidRequest, "TeamBattles refused the request as invalid."),
    429: (Throttled, "TeamBattles is rate-limiting this API key."),
}


def canonical_code(code: str | None) -> str | None:
    """One spelling per meaning: both permission-denied codes become the contract's."""
    if code is not None and is_permission_denied(code):
        return str(E.API_KEY_PERMISSION_DENIED)
    return code


def parse_envelope(response: httpx.Response) -> tuple[str | None, str | None]:
    """``(error, details)`` from an error answer, or ``(None, None)`` if it is not an envelope."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return None, None
    details = body.get("details")
    return body["error"], details if isinstance(details, str) else None


def error_from_response(response: httpx.Response) -> BackendError:
    """The typed error for a 4xx/5xx answer. The caller redacts the key from the message."""
    status = response.status_code
    raw_code, details = parse_envelope(response)
    code = canonical_code(raw_code)

    if status >= 500 or status == 408:
        what = "did not get the whole request in time" if status == 408 else "failed on its side"
        err: BackendError = Unavailable(
            f"TeamBattles {what} (HTTP {status}); try again shortly.", code=code, status=status
        )
    else:
        other = (InvalidRequest, f"TeamBattles refused the request (HTTP {status}).")
        cls, fallback = _BY_STATUS.get(status, other)
        advice = ADVICE.get(code) if code else None
        if advice and (code in _ADVICE_ONLY or not details):
            message = advice
        else:
            message = details or advice or fallback
        if not message.endswith((".", "!", "?")):
            message += "."
        if cls is Throttled:
            wait = retry_after_seconds(response)
            if wait is not None:
                message = f"{message.rstrip('.')}; try again in {wait:.0f} s."
            err = Throttled(message, retry_after=wait, code=code, status=status)
        else:
            err = cls(message, code=code, status=status)
    err.details = details
    return err


def protocol_error(route: str, status: int) -> ProtocolError:
    return ProtocolError(
        f"TeamBattles answered {route} (HTTP {status}) with data lobby does not understand.",
        status=status,
    )
