"""The GameLift FlexMatch adapter: a typed client, the ticket book, and the OfferBackend.

``open_backend(profile, emulator_url=...)`` builds a ready backend from a settings profile:

- endpoint: the profile's ``endpoint_url``; else, for an emulator profile, the running
  emulator's URL (given by the caller); else ``https://gamelift.<region>.amazonaws.com``;
- region: the profile's, else the AWS chain's default (emulator profiles fall back to
  us-east-1);
- credentials: the AWS chain (environment, shared files, profiles, SSO); an emulator profile
  without any signs with placeholder keys, which the emulator accepts unless it verifies;
- event stream: the profile's ``feed_url``; else, for an emulator profile, the emulator itself;
  else none, and changes come from polling.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import httpx

from lobby.config import Profile
from lobby.core.clock import Clock
from lobby.core.errors import NotConfigured
from lobby.flexmatch.backend import MIN_POLL_INTERVAL, FlexMatchBackend
from lobby.flexmatch.client import FlexMatchClient, regional_endpoint
from lobby.flexmatch.signing import EMULATOR_CREDENTIALS, CredentialSource
from lobby.flexmatch.fold import Ticket
from lobby.flexmatch.tickets import TicketBook

__all__ = [
    "MIN_POLL_INTERVAL",
    "CredentialSource",
    "FlexMatchBackend",
    "FlexMatchClient",
    "Ticket",
    "TicketBook",
    "open_backend",
]

EMULATOR_REGION = "us-east-1"


async def open_backend(
    profile: Profile,
    *,
    emulator_url: str | None = None,
    players: Iterable[str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> FlexMatchBackend:
    """A FlexMatch backend for ``profile`` (``players`` overrides the profile's players).
    Reads AWS configuration in a worker thread."""
    gamelift = profile.gamelift
    emulated = profile.kind == "emulator"
    source = CredentialSource(gamelift.aws_profile, fallback=EMULATOR_CREDENTIALS if emulated else None)

    endpoint = gamelift.endpoint_url
    if endpoint is None and emulated:
        if emulator_url is None:
            raise NotConfigured("No lobby emulator is running; start `lobby demo` or `lobby emulator` first.")
        endpoint = emulator_url

    region = gamelift.region
    if region is None:
        region = (await source.context()).region or (EMULATOR_REGION if emulated else None)
        if region is None:
            raise NotConfigured(
                "No AWS region is set; set gamelift.region in the lobby profile or AWS_DEFAULT_REGION."
            )
    if endpoint is None:
        endpoint = regional_endpoint(region)

    feed_url = gamelift.feed_url or (endpoint if emulated else None)
    client = FlexMatchClient(endpoint, region=region, credentials=source, transport=transport, sleep=sleep)
    return FlexMatchBackend(
        client,
        players=gamelift.players if players is None else players,
        feed_url=feed_url,
        poll_interval=gamelift.poll_interval,
        clock=clock,
        sleep=sleep,
    )
