"""The TeamBattles adapter: wire models, HTTP client, my requests, and the OfferBackend.

``open_backend()`` builds a backend from the active settings profile: the live service at the
profile's ``base_url``, or, for an emulator profile, the emulator this user account is running
(its announced URL + ``/api/v1``, with changes from its event stream).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from lobby import paths
from lobby.config import Settings
from lobby.core.errors import NotConfigured
from lobby.net.transports import shared_transport
from lobby.teambattles.backend import TeamBattlesBackend
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import ApiKey, load_api_key
from lobby.teambattles.requests import AcceptanceRecord, RequestStore

__all__ = [
    "AcceptanceRecord",
    "ApiKey",
    "RequestStore",
    "TeamBattlesBackend",
    "TeamBattlesClient",
    "load_api_key",
    "open_backend",
]


def endpoints(kind: str, base_url: str) -> tuple[str, str | None]:
    """(API base URL, event stream base URL or None) for a profile of ``kind``."""
    if kind != "emulator":
        return base_url.rstrip("/"), None
    announced = paths.read_emulator_announcement()
    if announced is None:
        raise NotConfigured(
            "No lobby emulator is running; start one with `lobby demo` or `lobby emulator`, "
            "or choose a live profile."
        )
    root = announced.rstrip("/")
    return root + "/api/v1", root


def open_backend(
    settings: Settings | None = None,
    *,
    user: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    requests_path: Path | None = None,
) -> TeamBattlesBackend:
    """A backend for the active profile. Raises NotConfigured (a plain sentence) when there is
    no key, no running emulator, or an unknown profile."""
    settings = settings or Settings()
    try:
        name, profile = settings.active()
    except ValueError as exc:
        raise NotConfigured(str(exc)) from None
    tb = profile.teambattles
    api, feed = endpoints(profile.kind, tb.base_url)
    key = load_api_key(name, tb.key_file)
    client = TeamBattlesClient(api, key, transport=transport if transport is not None else shared_transport())
    return TeamBattlesBackend(
        client,
        requests=RequestStore(name, requests_path),
        user=user or tb.user,
        feed_url=feed,
    )
