"""Who may call what: every TeamBattles route the emulator serves, crossed with every kind of
caller, each cell with its exact status and error code (or success).

The callers live in a scenario of their own. Every key that tests one property of the key
(expired, revoked, free plan, developer-app kind, no scopes at all, only the discovery scope, a
read-only scope level) is owned by the captain of Alpha, so that property is the only thing
standing between the call and success. The role callers (plain member, co-captain, captain, owner of Alpha's organization)
hold full personal Pro keys, so their role is the only thing that differs; the outsider is the
captain of the other team, Beta, acting on Alpha's side of things.

Every write cell acts on objects made for it alone just before (a fresh match, acceptance or
challenge), so cells never depend on each other's order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from teambattles_helpers import EVERY_SCOPE, TB, error_of

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.scenario import load_scenario
from lobby.emulator.server import EmulatorThread

GAME = "gm_skyline"
MODE = "hardpoint"
ALPHA_ROSTER = ["u_cap", "u_co"]
BETA_ROSTER = ["u_bcap", "u_b2"]

_READ_ONLY = dict.fromkeys(EVERY_SCOPE, "read")


def _key(key: str, owner: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "owner": owner, "scopes": dict(EVERY_SCOPE), **extra}


# --- the callers ----------------------------------------------------------------------------------

#: Caller name -> the Authorization header it sends (None: no header at all).
CALLERS: dict[str, str | None] = {
    "no key": None,
    "malformed": "Bearer not-a-teambattles-key",
    "unknown": "Bearer tb_matrix_unknown_key_0000",
    "expired": "Bearer tb_matrix_expired_0000001",
    "revoked": "Bearer tb_matrix_revoked_0000001",
    "free plan": "Bearer tb_matrix_free_plan_00001",
    "dev-app": "Bearer tb_matrix_developer_app_01",
    "no scopes": "Bearer tb_matrix_no_scopes_000001",
    "discover": "Bearer tb_matrix_discover_only_01",  # matches.public_matches:read only
    "read-only": "Bearer tb_matrix_read_only_000001",
    "member": "Bearer tb_matrix_member_00000001",
    "co-captain": "Bearer tb_matrix_co_captain_00001",
    "captain": "Bearer tb_matrix_captain_0000001",
    "org owner": "Bearer tb_matrix_org_owner_000001",
    "outsider": "Bearer tb_matrix_beta_captain_00001",
}
CAPTAIN = "tb_matrix_captain_0000001"
BETA_CAPTAIN = "tb_matrix_beta_captain_00001"

KEYS = [
    _key("tb_matrix_expired_0000001", "u_cap", expires_in_days=-1),
    _key("tb_matrix_revoked_0000001", "u_cap", revoked=True),
    _key("tb_matrix_free_plan_00001", "u_cap", plan="free"),
    _key("tb_matrix_developer_app_01", "u_cap", kind="developer-app", plan="studio"),
    {"key": "tb_matrix_no_scopes_000001", "owner": "u_cap", "scopes": {}},
    {
        "key": "tb_matrix_discover_only_01",
        "owner": "u_cap",
        "scopes": {"matches.public_matches": "read"},
    },
    {"key": "tb_matrix_read_only_000001", "owner": "u_cap", "scopes": dict(_READ_ONLY)},
    _key("tb_matrix_member_00000001", "u_mem"),
    _key("tb_matrix_co_captain_00001", "u_co"),
    _key(CAPTAIN, "u_cap"),
    _key("tb_matrix_org_owner_000001", "u_boss"),
    _key(BETA_CAPTAIN, "u_bcap"),
]


_ALPHA_MEMBERS = {"u_cap": "CAPTAIN", "u_co": "CO_CAPTAIN", "u_mem": "MEMBER"}


def _team(id_: str, slug: str, name: str, tag: str, members: dict[str, str], **extra: Any) -> dict[str, Any]:
    """A Skyline Strike team of the scenario; ``members`` is user -> role."""
    return {
        "id": id_,
        "slug": slug,
        "name": name,
        "tag": tag,
        "game": "skyline-strike",
        **extra,
        "members": [{"user": user, "role": role} for user, role in members.items()],
    }


def _scenario(tmp_path: Path) -> Path:
    demo = load_scenario().model_dump(mode="json")
    skyline = next(g for g in demo["teambattles"]["games"] if g["convex_id"] == GAME)
    users = ["u_cap", "u_co", "u_mem", "u_boss", "u_bcap", "u_b2", "u_b3"]
    unlimited = {"burst": 1_000_000, "per_second": 1_000_000}
    tb = {
        "seed": 7,
        "raised_rate_limits": {
            **dict.fromkeys(("free", "pro", "studio", "ip"), unlimited),
            "reason": "the matrix checks who may call what, not how often",
        },
        "games": [skyline],
        "users": [{"id": u, "username": u.removeprefix("u_"), "name": u} for u in users],
        "organizations": [{"id": "org_alpha", "slug": "alpha-org", "name": "Alpha Org", "owner": "u_boss"}],
        "teams": [
            _team("t_alpha", "alpha", "Alpha", "ALP", _ALPHA_MEMBERS, organization="org_alpha"),
            _team(
                "t_alpha_academy",
                "alpha-academy",
                "Alpha Academy",
                "ALA",
                _ALPHA_MEMBERS,
                organization="org_alpha",
                visibility="private",
            ),
            _team("t_beta", "beta", "Beta", "BET", {"u_bcap": "CAPTAIN", "u_b2": "MEMBER", "u_b3": "MEMBER"}),
        ],
        "keys": KEYS,
        "matches": [],
        "bots": [],
    }
    path = tmp_path / "matrix-scenario.json"
    path.write_text(json.dumps({"name": "authorization-matrix", "teambattles": tb}), "utf-8")
    return path


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorThread]:
    path = _scenario(tmp_path_factory.mktemp("matrix"))
    with EmulatorThread(EmulatorConfig(scenario=path, time_travel=True)) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def setup(emu: EmulatorThread) -> Iterator[TB]:
    client = TB(emu.url, CAPTAIN)
    yield client
    client.close()


# --- objects each cell acts on --------------------------------------------------------------------


def _match_body(team: str, roster: list[str]) -> dict[str, Any]:
    """A two-a-side match of ``team`` to create, as yet unpublished."""
    return {
        "teamId": team,
        "gameId": GAME,
        "gameModeId": MODE,
        "matchType": "XP_ONLY",
        "mapSelectionType": "FLEX",
        "mapPreferenceMode": "PREFERRED",
        "teamSize": 2,
        "bestOf": 1,
        "activeRoster": roster,
    }


def _new_match(tb: TB, key: str, team: str, roster: list[str], **extra: Any) -> str:
    body = {**_match_body(team, roster), "publishStatus": "PUBLISHED", **extra}
    r = tb.post("/matches/create", body, key=key)
    assert r.status_code == 200, r.text
    return r.json()["matchId"]


def alpha_match(tb: TB, **extra: Any) -> str:
    return _new_match(tb, CAPTAIN, "t_alpha", ALPHA_ROSTER, **extra)


def beta_match(tb: TB, **extra: Any) -> str:
    return _new_match(tb, BETA_CAPTAIN, "t_beta", BETA_ROSTER, **extra)


def pending_acceptance(tb: TB) -> dict[str, str]:
    """An open match of Alpha's with a pending acceptance from Beta."""
    match_id = alpha_match(tb)
    r = tb.accept(match_id, {"teamId": "t_beta", "activeRoster": BETA_ROSTER}, key=BETA_CAPTAIN)
    assert r.status_code == 200, r.text
    return {"matchId": match_id, "acceptanceId": r.json()["acceptanceId"]}


def challenge_to_alpha(tb: TB) -> dict[str, str]:
    return {"matchId": beta_match(tb, isChallenge=True, challengedTeamId="t_alpha")}


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    #: Builds the path parameters of one call (making whatever the call acts on).
    params: Callable[[TB], dict[str, str]]
    body: dict[str, Any] | None = None
    write: bool = False


def _none(tb: TB) -> dict[str, str]:
    return {}


ROUTES: dict[str, Route] = {
    "GET /games": Route("GET", "/games", _none),
    "POST /matches/discover": Route("POST", "/matches/discover", _none, {"limit": 5}),
    "POST /user/matches": Route("POST", "/user/matches", _none, {"numItems": 5}),
    "GET /user/ongoing-matches": Route("GET", "/user/ongoing-matches", _none),
    "GET /matches/{id}": Route("GET", "/matches/{matchId}", lambda tb: {"matchId": beta_match(tb)}),
    "GET /matches/{id} (draft)": Route(
        "GET", "/matches/{matchId}", lambda tb: {"matchId": alpha_match(tb, publishStatus="DRAFT")}
    ),
    "GET /matches/{id}/players": Route(
        "GET", "/matches/{matchId}/players", lambda tb: {"matchId": beta_match(tb)}
    ),
    "POST accept": Route(
        "POST",
        "/matches/{matchId}/accept",
        lambda tb: {"matchId": beta_match(tb)},
        {"teamId": "t_alpha", "activeRoster": ALPHA_ROSTER},
        write=True,
    ),
    "POST approve": Route(
        "POST",
        "/matches/{matchId}/acceptances/{acceptanceId}/approve",
        pending_acceptance,
        {"responseMessage": "See you there."},
        write=True,
    ),
    "POST decline": Route(
        "POST",
        "/matches/{matchId}/acceptances/{acceptanceId}/decline",
        pending_acceptance,
        {"responseMessage": "Not this time."},
        write=True,
    ),
    "POST challenges/accept": Route(
        "POST",
        "/matches/{matchId}/challenges/accept",
        challenge_to_alpha,
        {"activeRoster": ALPHA_ROSTER},
        write=True,
    ),
    "POST challenges/refuse": Route(
        "POST",
        "/matches/{matchId}/challenges/refuse",
        challenge_to_alpha,
        {"reason": "Busy that night."},
        write=True,
    ),
    "POST create": Route(
        "POST",
        "/matches/create",
        _none,
        _match_body("t_alpha", ALPHA_ROSTER),
        write=True,
    ),
    "POST publish": Route(
        "POST",
        "/matches/{matchId}/publish",
        lambda tb: {"matchId": alpha_match(tb, publishStatus="DRAFT")},
        write=True,
    ),
    "POST cancel": Route(
        "POST",
        "/matches/{matchId}/cancel",
        lambda tb: {"matchId": alpha_match(tb)},
        {"reason": "Called off."},
        write=True,
    ),
    "GET /teams/{id}": Route("GET", "/teams/{identifier}", lambda tb: {"identifier": "alpha"}),
    "GET /teams/{id}/members": Route(
        "GET", "/teams/{identifier}/members", lambda tb: {"identifier": "t_alpha"}
    ),
    "GET /teams/{id} (private)": Route(
        "GET", "/teams/{identifier}", lambda tb: {"identifier": "alpha-academy"}
    ),
    "GET /teams/{id}/members (private)": Route(
        "GET", "/teams/{identifier}/members", lambda tb: {"identifier": "t_alpha_academy"}
    ),
    "GET /users/{id}/teams": Route("GET", "/users/{identifier}/teams", lambda tb: {"identifier": "cap"}),
    "POST /teams/{id}/matches": Route(
        "POST", "/teams/{identifier}/matches", lambda tb: {"identifier": "alpha"}, {"numItems": 5}
    ),
    "GET /matches/{id} (challenge to me)": Route("GET", "/matches/{matchId}", challenge_to_alpha),
    "POST cancel (challenge to me)": Route(
        "POST", "/matches/{matchId}/cancel", challenge_to_alpha, {"reason": "Called off."}, write=True
    ),
}

# --- the matrix -----------------------------------------------------------------------------------

OK = "ok"
REQ = "401 error_api_key_required"
INV = "401 error_api_key_invalid"  # also for a revoked key: "unknown, revoked, or expired"
EXP = "401 error_api_key_expired"
SCOPE = "403 error_api_key_permission_denied"  # a missing scope, or a non-personal key
FEAT = "403 error_api_feature_required"
LEAD = "403 error_not_team_leader"
CAPT = "403 error_only_captains_can_respond_challenge"
PART = "403 error_not_match_participant"  # detail.mdx: reads are participant-gated
GONE = "404 error_match_not_found"  # a write on another team's draft
FORBID = "403 error_forbidden"  # a private team, or a team's matches, to a non-member

COLUMNS = tuple(CALLERS)
# fmt: off
MATRIX: dict[str, tuple[str, ...]] = {
    #                                      no key  malformed  unknown  expired  revoked  free   dev-app  no scopes  discover  read-only  member  co-capt  captain  org owner  outsider
    "GET /games":                          (REQ,    INV,       INV,     EXP,     INV,     OK,    OK,      OK,        OK,       OK,        OK,     OK,      OK,      OK,        OK),
    "POST /matches/discover":              (REQ,    INV,       INV,     EXP,     INV,     OK,    OK,      SCOPE,     OK,       OK,        OK,     OK,      OK,      OK,        OK),
    "POST /user/matches":                  (REQ,    INV,       INV,     EXP,     INV,     OK,    SCOPE,   SCOPE,     SCOPE,    OK,        OK,     OK,      OK,      OK,        OK),
    "GET /user/ongoing-matches":           (REQ,    INV,       INV,     EXP,     INV,     OK,    SCOPE,   SCOPE,     SCOPE,    OK,        OK,     OK,      OK,      OK,        OK),
    "POST /teams/{id}/matches":            (REQ,    INV,       INV,     EXP,     INV,     OK,    OK,      SCOPE,     SCOPE,    OK,        OK,     OK,      OK,      FORBID,    FORBID),
    "GET /matches/{id}":                   (REQ,    INV,       INV,     EXP,     INV,     PART,  PART,    SCOPE,     SCOPE,    PART,      PART,   PART,    PART,    PART,      OK),
    "GET /matches/{id} (draft)":           (REQ,    INV,       INV,     EXP,     INV,     OK,    OK,      SCOPE,     SCOPE,    OK,        PART,   OK,      OK,      OK,        PART),
    "GET /matches/{id} (challenge to me)": (REQ,    INV,       INV,     EXP,     INV,     OK,    OK,      SCOPE,     SCOPE,    OK,        OK,     OK,      OK,      PART,      OK),
    "GET /matches/{id}/players":           (REQ,    INV,       INV,     EXP,     INV,     PART,  PART,    SCOPE,     SCOPE,    PART,      PART,   PART,    PART,    PART,      OK),
    "POST accept":                         (REQ,    INV,       INV,     EXP,     INV,     FEAT,  SCOPE,   SCOPE,     SCOPE,    SCOPE,     LEAD,   OK,      OK,      OK,        LEAD),
    "POST approve":                        (REQ,    INV,       INV,     EXP,     INV,     FEAT,  SCOPE,   SCOPE,     SCOPE,    SCOPE,     LEAD,   OK,      OK,      OK,        LEAD),
    "POST decline":                        (REQ,    INV,       INV,     EXP,     INV,     FEAT,  SCOPE,   SCOPE,     SCOPE,    SCOPE,     LEAD,   OK,      OK,      OK,        LEAD),
    "POST challenges/accept":              (REQ,    INV,       INV,     EXP,     INV,     FEAT,  SCOPE,   SCOPE,     SCOPE,    SCOPE,     CAPT,   OK,      OK,      OK,        CAPT),
    "POST challenges/refuse":              (REQ,    INV,       INV,     EXP,     INV,     FEAT,  SCOPE,   SCOPE,     SCOPE,    SCOPE,     CAPT,   OK,      OK,      OK,        CAPT),
    "POST create":                         (REQ,    INV,       INV,     EXP,     INV,     FEAT,  SCOPE,   SCOPE,     SCOPE,    SCOPE,     LEAD,   OK,      OK,      OK,        LEAD),
    "POST publish":                        (REQ,    INV,       INV,     EXP,     INV,     FEAT,  SCOPE,   SCOPE,     SCOPE,    SCOPE,     LEAD,   OK,      OK,      OK,        GONE),
    "POST cancel":                         (REQ,    INV,       INV,     EXP,     INV,     FEAT,  SCOPE,   SCOPE,     SCOPE,    SCOPE,     LEAD,   OK,      OK,      OK,        LEAD),
    "POST cancel (challenge to me)":       (REQ,    INV,       INV,     EXP,     INV,     FEAT,  SCOPE,   SCOPE,     SCOPE,    SCOPE,     LEAD,   LEAD,    LEAD,    LEAD,      OK),
    "GET /teams/{id}":                     (REQ,    INV,       INV,     EXP,     INV,     OK,    OK,      SCOPE,     SCOPE,    OK,        OK,     OK,      OK,      OK,        OK),
    "GET /teams/{id}/members":             (REQ,    INV,       INV,     EXP,     INV,     OK,    OK,      SCOPE,     SCOPE,    OK,        OK,     OK,      OK,      OK,        OK),
    "GET /teams/{id} (private)":           (REQ,    INV,       INV,     EXP,     INV,     OK,    OK,      SCOPE,     SCOPE,    OK,        OK,     OK,      OK,      FORBID,    FORBID),
    "GET /teams/{id}/members (private)":   (REQ,    INV,       INV,     EXP,     INV,     OK,    OK,      SCOPE,     SCOPE,    OK,        OK,     OK,      OK,      FORBID,    FORBID),
    "GET /users/{id}/teams":               (REQ,    INV,       INV,     EXP,     INV,     OK,    OK,      SCOPE,     SCOPE,    OK,        OK,     OK,      OK,      OK,        OK),
}
# fmt: on

CELLS = [
    pytest.param(route, caller, expected, id=f"{route} | {caller}")
    for route, row in MATRIX.items()
    for caller, expected in zip(COLUMNS, row, strict=True)
]


def test_the_matrix_covers_every_route_and_caller():
    assert set(MATRIX) == set(ROUTES)
    assert all(len(row) == len(COLUMNS) for row in MATRIX.values())
    served = {(route.method, route.template) for route in ROUTES.values()}
    from lobby.emulator.teambattles.routes import OPERATIONS

    assert served == {(op.method, op.path) for op in OPERATIONS}


@pytest.mark.parametrize(("route", "caller", "expected"), CELLS)
def test_cell(setup: TB, route: str, caller: str, expected: str):
    spec = ROUTES[route]
    params = spec.params(setup)
    header = CALLERS[caller]
    headers = {} if header is None else {"Authorization": header}
    r = setup.call(spec.method, spec.template, json=spec.body, key=None, headers=headers, **params)
    if expected == OK:
        assert r.status_code == 200, f"{route} as {caller}: {r.status_code} {r.text}"
        if spec.write:
            assert r.json()["success"] is True
    else:
        status, code = expected.split(" ")
        assert (r.status_code, error_of(r)) == (int(status), code), r.text
        if status == "401":
            assert r.headers["www-authenticate"].startswith("Bearer")
    assert "tb_matrix" not in r.text  # a key is never echoed


def _match_state(tb: TB, match_id: str) -> dict[str, Any]:
    return tb.match(match_id)


@pytest.mark.parametrize("caller", [c for c in COLUMNS if c not in ("co-captain", "captain", "org owner")])
def test_a_refused_write_changes_nothing(setup: TB, caller: str):
    """A refusal leaves the match as it was: still open, no opponent, the acceptance pending
    (a later approval by the captain still works)."""
    target = pending_acceptance(setup)
    header = CALLERS[caller]
    headers = {} if header is None else {"Authorization": header}
    tried = [
        ("/matches/{matchId}/acceptances/{acceptanceId}/approve", target),
        ("/matches/{matchId}/acceptances/{acceptanceId}/decline", target),
        ("/matches/{matchId}/cancel", {"matchId": target["matchId"]}),
    ]
    for template, params in tried:
        r = setup.call("POST", template, json={}, key=None, headers=headers, **params)
        assert r.status_code in (401, 403), r.text
    match = _match_state(setup, target["matchId"])
    assert (match["status"], match["acceptedTeam"]) == ("PENDING", None)
    r = setup.post("/matches/{matchId}/acceptances/{acceptanceId}/approve", {}, **target)
    assert r.status_code == 200, r.text
    assert setup.match(target["matchId"])["acceptedTeam"]["id"] == "t_beta"
