"""AWS credentials and SigV4 signing for httpx, done by botocore (no hand-written crypto).

botocore is imported when first needed (it costs more start-up time than the rest of the
FlexMatch adapter): an emulator profile's requests go unsigned until the emulator asks for
signatures (:class:`SignedWhenAsked`), as only one started with ``--verify-sigv4`` does.

Credentials come from botocore's standard chain (environment, shared config and credentials
files, named profiles, SSO, process credentials, container and instance roles). Resolving them
may read files or call the network, so it runs off the event loop, once; refreshable
credentials (SSO, assumed roles) are refreshed off the loop when botocore says they are due.

Nothing here puts a secret in a repr, a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import httpx

from lobby.core.errors import AuthenticationFailed, BackendError, NotConfigured

# botocore's signer logs each canonical request at DEBUG, the session token with it: never.
logging.getLogger("botocore.auth").setLevel(logging.INFO)

SERVICE = "gamelift"

HOW_TO_CONFIGURE = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure` or `aws sso login`, "
    "or name a profile of ~/.aws/config as gamelift.aws_profile in the lobby profile"
)

if TYPE_CHECKING:
    # botocore ships without type information: its names are Any here (see the mypy override).
    from botocore.credentials import Credentials, ReadOnlyCredentials


class FrozenCredentials(NamedTuple):
    """A key pair as botocore's signer reads it (the fields of its ReadOnlyCredentials)."""

    access_key: str
    secret_key: str
    token: str | None

    def __repr__(self) -> str:
        return "FrozenCredentials(...)"


def frozen_of(frozen: ReadOnlyCredentials) -> FrozenCredentials:
    """botocore's ReadOnlyCredentials as the key pair the signer reads."""
    return FrozenCredentials(frozen.access_key, frozen.secret_key, frozen.token)


#: What the emulator is signed with when the machine has no AWS credentials at all: it accepts
#: any signature unless started with --verify-sigv4.
EMULATOR_CREDENTIALS = FrozenCredentials("LOBBYEMULATORKEY", "lobby-emulator-secret", None)


@dataclass(frozen=True)
class AwsContext:
    """What the chain resolved: credentials (never printed) and the default region."""

    credentials: Credentials | None
    region: str | None

    def __repr__(self) -> str:
        return f"AwsContext(credentials={'present' if self.credentials else 'absent'}, region={self.region!r})"


def resolve_aws(aws_profile: str | None) -> AwsContext:
    """Run botocore's credential chain and read the default region. Blocking: call it in a thread."""
    import botocore.exceptions
    import botocore.session

    try:
        session = botocore.session.Session(profile=aws_profile)
        credentials = session.get_credentials()
        region = session.get_config_variable("region")
        if credentials is not None:
            credentials.get_frozen_credentials()  # SSO and role credentials load lazily: now
    except botocore.exceptions.ProfileNotFound:
        raise NotConfigured(
            f"The AWS profile {aws_profile!r} is not in your AWS config files; "
            "check gamelift.aws_profile or run `aws configure --profile NAME`."
        ) from None
    except (
        botocore.exceptions.SSOTokenLoadError,
        botocore.exceptions.UnauthorizedSSOTokenError,
        botocore.exceptions.TokenRetrievalError,
    ):
        raise AuthenticationFailed(
            "Your AWS SSO session is missing or expired; run `aws sso login`"
            + (f" --profile {aws_profile}" if aws_profile else "")
            + " and try again."
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        # Class name only: botocore messages may quote configuration values.
        raise NotConfigured(
            f"Reading AWS credentials failed ({type(exc).__name__}); {HOW_TO_CONFIGURE}."
        ) from None
    except Exception as exc:  # a role or SSO call refused (ClientError) or the network failed
        raise AuthenticationFailed(
            f"Loading AWS credentials failed ({type(exc).__name__}); sign in again and retry."
        ) from None
    return AwsContext(credentials, region)


class CredentialSource:
    """Resolves credentials once (in a thread), then hands out frozen ones per request."""

    def __init__(
        self,
        aws_profile: str | None = None,
        *,
        fallback: FrozenCredentials | None = None,
        context: AwsContext | None = None,
    ) -> None:
        self._profile = aws_profile
        self._fallback = fallback
        self._context = context
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"CredentialSource(aws_profile={self._profile!r})"

    async def context(self) -> AwsContext:
        if self._context is None:
            async with self._lock:
                if self._context is None:
                    try:
                        self._context = await asyncio.to_thread(resolve_aws, self._profile)
                    except BackendError:
                        if self._fallback is None:
                            raise
                        # The emulator needs no real identity: a broken AWS setup must not
                        # stop the demo.
                        self._context = AwsContext(None, None)
        return self._context

    async def frozen(self) -> FrozenCredentials:
        credentials = (await self.context()).credentials
        if credentials is None:
            if self._fallback is not None:
                return self._fallback
            raise NotConfigured(f"No AWS credentials were found; {HOW_TO_CONFIGURE}.")
        from botocore.credentials import RefreshableCredentials

        if isinstance(credentials, RefreshableCredentials) and credentials.refresh_needed():
            try:
                return frozen_of(await asyncio.to_thread(credentials.get_frozen_credentials))
            except Exception as exc:  # refresh calls STS/SSO; never echo its message
                raise AuthenticationFailed(
                    f"Refreshing your AWS credentials failed ({type(exc).__name__}); "
                    "sign in again (for SSO: `aws sso login`)."
                ) from None
        return frozen_of(credentials.get_frozen_credentials())

    async def secrets(self) -> tuple[str, ...]:
        """The secret strings currently in use, so error text can be scrubbed of them."""
        try:
            frozen = await self.frozen()
        except Exception:
            return ()
        return tuple(s for s in (frozen.secret_key, frozen.token) if s)


#: Headers botocore adds and httpx must send.
_SIGNED = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")


class SigV4(httpx.Auth):
    """An httpx Auth that signs each request with SigV4 for GameLift (async clients only)."""

    requires_request_body = True

    def __init__(self, source: CredentialSource, region: str, service: str = SERVICE) -> None:
        self.source = source
        self.region = region
        self.service = service

    def __repr__(self) -> str:
        return f"SigV4(region={self.region!r}, service={self.service!r})"

    def sign(self, request: httpx.Request, credentials: FrozenCredentials) -> None:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        # Sign only what we set ourselves; botocore derives the host header from the URL the
        # same way httpx does (no default port).
        headers = {
            name: request.headers[name]
            for name in ("Content-Type", "X-Amz-Target")
            if name in request.headers
        }
        aws = AWSRequest(method=request.method, url=str(request.url), data=request.content, headers=headers)
        SigV4Auth(credentials, self.service, self.region).add_auth(aws)
        for name in _SIGNED:
            value = aws.headers.get(name)
            if value is not None:
                request.headers[name] = value

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        self.sign(request, await self.source.frozen())
        yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("lobby signs GameLift requests only on async clients")
        yield request  # pragma: no cover


#: The error code of a request refused for carrying no signature.
UNSIGNED_REFUSED = "MissingAuthenticationTokenException"


class SignedWhenAsked(httpx.Auth):
    """For the emulator: requests go unsigned until one is refused for want of a signature (the
    emulator started with --verify-sigv4); that one is sent again signed, and every later one
    is signed at once. botocore is imported only then."""

    requires_request_body = True
    requires_response_body = True

    def __init__(self, signed: SigV4) -> None:
        self.signed = signed
        self.asked = False

    def __repr__(self) -> str:
        return f"SignedWhenAsked({self.signed!r}, asked={self.asked})"

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self.asked:
            response = yield request
            if not refused_unsigned(response):
                return
            self.asked = True
        self.signed.sign(request, await self.signed.source.frozen())
        yield request

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("lobby signs GameLift requests only on async clients")
        yield request  # pragma: no cover


def refused_unsigned(response: httpx.Response) -> bool:
    """Whether ``response`` refuses a request for carrying no signature."""
    if response.status_code not in (400, 403):
        return False
    code: str = response.headers.get("x-amzn-errortype", "").split(":", 1)[0]
    if not code:
        try:
            body = response.json()
        except ValueError:
            return False
        code = str(body.get("__type", "")).rsplit("#", 1)[-1] if isinstance(body, dict) else ""
    return code == UNSIGNED_REFUSED
