"""API keys: missing, malformed, unknown, expired and revoked keys; kinds, plans and scopes;
only the key's owner ever acts; keys are stored hashed."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from teambattles_helpers import (
    ADA,
    DEVAPP,
    LEAGUE,
    TB,
    VIPERS_HP,
    YOU,
    YOU_DISCOVER_ONLY,
    YOU_EXPIRED,
    YOU_FREE,
    YOU_READONLY,
    YOU_REVOKED,
    YOU_STUDIO,
    error_of,
    events,
    owls_accept,
)

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.scenario import load_scenario
from lobby.emulator.server import EmulatorThread
from lobby.emulator.teambattles.scenario import KeySpec


@pytest.fixture
def tb(emulator) -> Iterator[TB]:
    client = TB(emulator.url)
    yield client
    client.close()


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "error_api_key_required"),
        ("", "error_api_key_required"),
        ("Basic dXNlcjpwYXNz", "error_api_key_invalid"),
        ("Bearer", "error_api_key_invalid"),
        ("Bearer not-a-teambattles-key", "error_api_key_invalid"),
        ("Bearer tb_short", "error_api_key_invalid"),
        ("Bearer tb_test_this_key_does_not_exist_0000", "error_api_key_invalid"),
        (f"Bearer {YOU_EXPIRED}", "error_api_key_expired"),
        (f"Bearer {YOU_REVOKED}", "error_api_key_invalid"),  # "unknown, revoked, or expired"
    ],
)
def test_bad_keys_are_401_with_their_codes(tb, authorization, code):
    headers = {} if authorization is None else {"Authorization": authorization}
    for r in (
        tb.get("/games", key=None, headers=headers),
        tb.accept(VIPERS_HP, owls_accept(), key=None, headers=headers),
    ):
        assert r.status_code == 401 and error_of(r) == code
        assert "tb_test" not in r.text  # the key is never echoed
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_the_scheme_is_case_insensitive(tb):
    r = tb.get("/games", key=None, headers={"Authorization": f"bearer {YOU}"})
    assert r.status_code == 200


def test_free_plan_reads_but_cannot_write(tb):
    free = tb.as_(YOU_FREE)
    assert free.get("/games").status_code == 200
    assert free.post("/matches/discover", {}).status_code == 200
    r = free.accept(VIPERS_HP, owls_accept())
    assert r.status_code == 403 and error_of(r) == "error_api_feature_required"
    assert tb.as_(YOU_STUDIO).accept(VIPERS_HP, owls_accept()).status_code == 200


@pytest.mark.parametrize("key", [DEVAPP, LEAGUE])
def test_only_personal_keys_make_personal_writes(tb, key):
    other = tb.as_(key)
    assert other.post("/matches/discover", {}).status_code == 200
    r = other.accept(VIPERS_HP, owls_accept())
    assert r.status_code == 403
    assert error_of(r) == "error_api_key_permission_denied"  # ApiErrorCode's only spelling
    r = other.post("/matches/{matchId}/cancel", {}, matchId="tbm_owls_open")
    assert error_of(r) == "error_api_key_permission_denied"


def test_a_missing_scope_or_level_is_403(tb):
    readonly = tb.as_(YOU_READONLY)
    assert readonly.match(VIPERS_HP)["id"] == VIPERS_HP
    r = readonly.accept(VIPERS_HP, owls_accept())
    assert r.status_code == 403 and error_of(r) == "error_api_key_permission_denied"
    assert "read-write" in r.json()["details"]
    narrow = tb.as_(YOU_DISCOVER_ONLY)
    assert narrow.post("/matches/discover", {}).status_code == 200
    for r in (
        narrow.get("/matches/{matchId}", matchId=VIPERS_HP),
        narrow.get("/teams/{identifier}", identifier="night-owls"),
        narrow.get("/teams/{identifier}/members", identifier="night-owls"),
        narrow.get("/users/{identifier}/teams", identifier="you"),
        narrow.get("/user/ongoing-matches"),
        narrow.post("/user/matches", {}),
    ):
        assert r.status_code == 403 and error_of(r) == "error_api_key_permission_denied"
    assert narrow.get("/games").status_code == 200  # the catalog needs no scope


def test_only_the_keys_owner_acts(tb, emulator):
    # ada is a plain member of Night Owls; naming the captain in the body changes nothing.
    body = owls_accept(userId="u_you", ownerId="u_you", submittedBy="u_you")
    r = tb.as_(ADA).accept(VIPERS_HP, body, valid=True)
    assert r.status_code == 403 and error_of(r) == "error_not_team_leader"
    r = tb.accept(VIPERS_HP, owls_accept(submittedBy="u_ada"))
    assert r.status_code == 200
    created = [p for e, p in events(emulator.url, until="emulator.acceptance.created")][-1]
    assert created["data"]["acceptance"]["submittedBy"] == "u_you"


def test_keys_are_stored_as_hashes_only(tmp_path):
    db = tmp_path / "emu.db"
    with EmulatorThread(EmulatorConfig(db=str(db))) as emu:
        client = TB(emu.url)
        assert client.get("/games").status_code == 200
        client.close()
    keys = [k.key for k in load_scenario().teambattles.keys]
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert not any(k.encode() in raw for k in keys)
    rows = sqlite3.connect(db).execute("SELECT hash FROM tb_keys").fetchall()
    assert {r[0] for r in rows} == {hashlib.sha256(k.encode()).hexdigest() for k in keys}


def test_demo_keys_never_look_live():
    assert all(not k.key.startswith("tb_live_") for k in load_scenario().teambattles.keys)
    with pytest.raises(ValidationError, match="live"):
        KeySpec(key="tb_live_0123456789abcdef", owner="u_you")
