"""Optional AWS Signature Version 4 checking of incoming requests.

Off by default: the emulator accepts any (or no) signature, as local emulators usually do.
With ``--verify-sigv4`` it knows one identity, the access key pair found in the environment
(``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / optional ``AWS_SESSION_TOKEN``, read by
botocore's environment provider), and refuses requests as GameLift would:

- no Authorization header: MissingAuthenticationTokenException;
- an Authorization header that is not a complete SigV4 one: IncompleteSignatureException;
- another access key id (or session token): UnrecognizedClientException;
- a signature that does not match, or a signing time more than 15 minutes away from now:
  InvalidSignatureException.

The signature is recomputed with botocore's own signer over the request as received (method,
path, query, the headers the client listed as signed, body, and the client's X-Amz-Date), then
compared in constant time. Signing times are judged against the machine's real clock, since
callers sign with theirs, not against the emulator's possibly fast-forwarded clock. Secrets are
never logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

# botocore ships no type information (no py.typed, no stubs installed); "unused-ignore" keeps
# these lines right if a mypy override for botocore is added to the project's settings.
from botocore.auth import SIGV4_TIMESTAMP, UNSIGNED_PAYLOAD, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, EnvProvider
from starlette.requests import Request

from lobby.core.clock import Clock, SystemClock
from lobby.emulator.flexmatch.errors import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

log = logging.getLogger("lobby.emulator.flexmatch")
# botocore's signer logs each canonical request at DEBUG, the session token with it: never.
logging.getLogger("botocore.auth").setLevel(logging.INFO)

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 15 * 60


def environment_credentials() -> Credentials | None:
    """The key pair in the environment, as botocore reads it, or None."""
    return EnvProvider().load()


class SigV4Verifier:
    def __init__(
        self,
        credentials: Credentials | None,
        *,
        service: str = "gamelift",
        clock: Clock | None = None,
    ) -> None:
        self.credentials = credentials.get_frozen_credentials() if credentials else None
        self.service = service
        self.clock = clock or SystemClock()
        if self.credentials is None:
            log.warning(
                "SigV4 verification is on but no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are set;"
                " every request will be refused"
            )

    def verify(self, request: Request, body: bytes) -> None:
        headers = request.headers
        authorization = headers.get("authorization")
        if not authorization:
            raise MissingAuthenticationTokenException(
                "The request carries no Authorization header; sign it with AWS Signature Version 4."
            )
        fields = _parse_authorization(authorization)
        scope = fields["Credential"].split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            raise IncompleteSignatureException(
                "The Credential of the Authorization header must read"
                " <access key id>/<date>/<region>/<service>/aws4_request."
            )
        access_key, day, region, service, _ = scope
        creds = self.credentials
        if creds is None or not _same(access_key, creds.access_key):
            raise UnrecognizedClientException(
                "The access key id of the request is not known to this emulator."
            )
        if not _same(headers.get("x-amz-security-token") or "", creds.token or ""):
            raise UnrecognizedClientException(
                "The security token of the request is not valid for its access key id."
            )
        if service != self.service:
            raise InvalidSignatureException(
                f"The credential is scoped to service {service!r}; this endpoint is"
                f" {self.service!r}."
            )
        stamp, signed_at = self._signing_time(headers)
        if stamp[:8] != day:
            raise InvalidSignatureException(
                "The date in the credential scope differs from the request's signing date."
            )
        skew = signed_at.timestamp() - self.clock.timestamp()
        if abs(skew) > MAX_SKEW_SECONDS:
            raise InvalidSignatureException(
                f"The request was signed at {signed_at:%Y-%m-%dT%H:%M:%SZ}, more than 15 minutes"
                f" {'after' if skew > 0 else 'before'} the time of its arrival; check the clock"
                " of the signing machine."
            )
        signed = [h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip()]
        if "host" not in signed:
            raise InvalidSignatureException("The signed headers must include host.")
        rebuilt: dict[str, str] = {}
        for name in signed:
            values = headers.getlist(name)
            if not values:
                raise InvalidSignatureException(
                    f"The header {name!r} is listed as signed but is not in the request."
                )
            rebuilt[name] = ",".join(values)
        content_hash = headers.get("x-amz-content-sha256")
        if content_hash and content_hash != UNSIGNED_PAYLOAD:
            if not _same(content_hash, hashlib.sha256(body).hexdigest()):
                raise InvalidSignatureException(
                    "The X-Amz-Content-SHA256 header does not match the body of the request."
                )
        scope_ = request.scope
        query = scope_.get("query_string", b"").decode("latin-1")
        url = f"{request.url.scheme}://{rebuilt['host']}{scope_['path']}" + (
            f"?{query}" if query else ""
        )
        aws_request = AWSRequest(method=request.method, url=url, headers=rebuilt, data=body)
        aws_request.context["timestamp"] = stamp
        signer = SigV4Auth(creds, service, region)
        try:
            canonical = signer.canonical_request(aws_request)
            expected = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)
        except ValueError:  # e.g. a Host header that is no host ("[::1"): nothing to sign
            raise InvalidSignatureException(
                "The request cannot be signed as received; check its Host header."
            ) from None
        if not _same(expected, fields["Signature"]):
            raise InvalidSignatureException(
                "The request signature does not match the signature computed for it; check the"
                " secret access key and the signing method."
            )

    @staticmethod
    def _signing_time(headers: Any) -> tuple[str, datetime]:
        amz_date = headers.get("x-amz-date")
        if amz_date:
            try:
                when = datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
            except ValueError:
                raise IncompleteSignatureException(
                    "X-Amz-Date must be a basic ISO 8601 UTC time such as 20260101T120000Z."
                ) from None
            return amz_date, when
        date = headers.get("date")
        if date:
            try:
                when = parsedate_to_datetime(date).astimezone(UTC)
            except (TypeError, ValueError, OverflowError):  # Overflow: past 9999 once in UTC
                raise IncompleteSignatureException("The Date header is not an HTTP date.") from None
            return when.strftime(SIGV4_TIMESTAMP), when
        raise IncompleteSignatureException(
            "A signed request needs an X-Amz-Date (or Date) header giving its signing time."
        )


def signed_region(authorization: str | None) -> str | None:
    """The region of a SigV4 Authorization header's credential scope
    (``Credential=<key>/<date>/<region>/<service>/aws4_request``), or None when the header is
    absent or names none. Read whether or not signatures are verified: the region a client
    signed for is the region its request is made in."""
    if not authorization:
        return None
    _, _, rest = authorization.strip().partition(" ")
    for part in rest.split(","):
        key, sep, item = part.strip().partition("=")
        if sep and key == "Credential":
            scope = item.strip().split("/")
            return scope[2] if len(scope) == 5 and scope[2] else None
    return None


def _same(given: str, expected: str) -> bool:
    """Constant-time equality of two header values."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _parse_authorization(value: str) -> dict[str, str]:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"The Authorization header must use the {ALGORITHM} algorithm."
        )
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, item = part.strip().partition("=")
        if sep:
            fields[key] = item.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not fields.get(k)]
    if missing:
        raise IncompleteSignatureException(
            f"The Authorization header lacks {', '.join(missing)}."
        )
    return fields
