"""API keys: ``Authorization: Bearer tb_...``, looked up by hash; scopes, kinds and plans.

Key values are never logged, stored or echoed: only their SHA-256 is kept, and error details
speak of "the key", never quote it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from lobby.emulator.store import Store
from lobby.emulator.teambattles.db import hash_key
from lobby.emulator.teambattles.access import Access
from lobby.emulator.teambattles.errors import ApiError
from lobby.emulator.teambattles.scenario import KEY_PATTERN
from lobby.teambattles.vocab import ErrorCode as E

LEVELS = {"read": 1, "read-write": 2}


@dataclass(frozen=True, slots=True)
class ApiKey:
    hash: str
    key_id: str
    owner_id: str
    kind: str
    plan: str
    scopes: dict[str, str]

    def grants(self, scope: str, level: str) -> bool:
        have = self.scopes.get(scope)
        return have is not None and LEVELS[have] >= LEVELS[level]


def authenticate(store: Store, header: str | None, now: float) -> ApiKey:
    """The key the request carries, or a 401 that says what is wrong with it."""
    if header is None or not header.strip():
        raise ApiError(
            E.API_KEY_REQUIRED,
            "Send an API key as 'Authorization: Bearer tb_...'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not KEY_PATTERN.match(token):
        raise ApiError(
            E.API_KEY_INVALID,
            "The Authorization header is malformed; expected 'Bearer tb_...'.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    row = store.query_one(
        "SELECT hash, key_id, owner_id, kind, plan, scopes, expires_at, revoked_at"
        " FROM tb_keys WHERE hash = ?",
        (hash_key(token),),
    )
    if row is None:
        raise ApiError(
            E.API_KEY_INVALID,
            "The API key is not recognised.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if row["revoked_at"] is not None:  # the service: "unknown, revoked, or expired"
        raise ApiError(
            E.API_KEY_INVALID,
            "The API key has been revoked.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise ApiError(
            E.API_KEY_EXPIRED,
            "The API key has expired.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return ApiKey(
        hash=row["hash"],
        key_id=row["key_id"],
        owner_id=row["owner_id"],
        kind=row["kind"],
        plan=row["plan"],
        scopes=json.loads(row["scopes"]),
    )


def authorize(key: ApiKey, access: Access) -> None:
    """403 unless the key may call a route with ``access``: a personal key where the route acts
    as a person, the paid plan for a write, and any one of its scopes at its level."""
    if access.personal and key.kind != "personal":
        raise ApiError(
            E.API_KEY_PERMISSION_DENIED,
            f"This route acts as a person; a {key.kind} key cannot call it.",
        )
    if access.write and key.plan == "free":
        raise ApiError(
            E.API_FEATURE_REQUIRED,
            "Writes through the API need a Pro or Studio plan.",
        )
    scopes, level = access.scopes, access.level
    if scopes and not any(key.grants(s, level) for s in scopes):
        held = [s for s in scopes if s in key.scopes]
        if held:
            details = f"The key holds {held[0]}:{key.scopes[held[0]]} but this route needs {level}."
        else:
            wanted = " or ".join(f"{s}:{level}" for s in scopes)
            details = f"The key lacks the scope this route needs ({wanted})."
        raise ApiError(E.API_KEY_PERMISSION_DENIED, details)
