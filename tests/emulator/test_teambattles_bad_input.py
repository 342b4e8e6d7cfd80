"""Malformed bodies, wrong types, unknown ids and oversized fields: always a 4xx in the Error
envelope, never a 500 and never FastAPI's own 422."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from teambattles_helpers import TB, VIPER, VIPERS_HP, error_of, owls_accept

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread


@pytest.fixture(scope="module")
def shared() -> Iterator[TB]:
    with EmulatorThread(EmulatorConfig()) as emu:
        client = TB(emu.url)
        yield client
        client.close()


RAW_BODIES = [
    b"",
    b"{",
    b"[]",
    b'"text"',
    b"null",
    b"\xff\xfe",
    b'{"teamId": NaN, "activeRoster": ["u_you"]}',
    b'{"teamId": "t_owls", "activeRoster": ["u_you"], "message": Infinity}',
    b"[" * 5000 + b"]" * 5000,
    b'{"teamId": "t_owls", "activeRoster": ["' + b"x" * 70_000 + b'"]}',
]


@pytest.mark.parametrize("raw", RAW_BODIES, ids=range(len(RAW_BODIES)))
def test_unreadable_bodies(shared, raw):
    r = shared.call(
        "POST",
        "/matches/{matchId}/accept",
        matchId=VIPERS_HP,
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert (r.status_code, error_of(r)) == (400, "error_validation_failed")


BAD_FIELDS = [
    {"teamId": 7},
    {"teamId": ""},
    {"teamId": None},
    {"teamId": "t" * 129},
    {"activeRoster": "u_you"},
    {"activeRoster": []},
    {"activeRoster": [""]},
    {"activeRoster": [1, 2, 3, 4]},
    {"activeRoster": ["u"] * 101},
    {"benchRoster": {"id": "u_dee"}},
    {"benchRoster": [{"id": "u_dee"}]},
    {"benchRoster": [{"id": "u_dee", "priority": "1"}]},
    {"benchRoster": [{"id": "u_dee", "priority": True}]},
    {"benchRoster": ["u_dee"]},
    {"mapPreferenceMode": "MAYBE"},
    {"mapPreferenceMode": "MANUAL"},
    {"selectedMaps": "harbor"},
    {"selectedMaps": [None]},
    {"message": 5},
    {"message": ["hi"]},
    {"message": "m" * 5000},
    {"disputedRules": []},
    {"disputedRules": "none"},
    {"disputedRules": {"a": {"b": 1}}},
    {"disputedRules": {"a": None}},
]


@pytest.mark.parametrize("bad", BAD_FIELDS, ids=range(len(BAD_FIELDS)))
def test_wrong_types_and_sizes(shared, bad):
    r = shared.accept(VIPERS_HP, {**owls_accept(), **bad}, valid=False)
    assert (r.status_code, error_of(r)) == (400, "error_validation_failed"), r.text
    assert r.json()["details"]


def test_missing_required_fields(shared):
    for body in ({}, {"teamId": "t_owls"}, {"activeRoster": ["u_you"]}):
        r = shared.accept(VIPERS_HP, body, valid=False)
        assert (r.status_code, error_of(r)) == (400, "error_validation_failed")
    r = shared.post(
        "/matches/{matchId}/challenges/accept", {}, matchId="tbm_vipers_challenge_owls", valid=False
    )
    assert r.status_code == 400
    r = shared.post("/matches/create", {"teamId": "t_owls"}, valid=False)
    assert r.status_code == 400 and "required" in r.json()["details"]


def test_unknown_ids_in_paths(shared):
    viper = shared.as_(VIPER)
    cases = [
        ("/matches/{matchId}/accept", {"matchId": "nope"}, owls_accept()),
        (
            "/matches/{matchId}/acceptances/{acceptanceId}/approve",
            {"matchId": VIPERS_HP, "acceptanceId": "nope"},
            {},
        ),
        ("/matches/{matchId}/challenges/refuse", {"matchId": "nope"}, {}),
        ("/matches/{matchId}/publish", {"matchId": "nope"}, None),
        ("/matches/{matchId}/cancel", {"matchId": "%00"}, {}),
    ]
    for template, params, body in cases:
        r = viper.post(template, body, **params)
        assert r.status_code == 404, (template, r.text)
    r = shared.get("/teams/{identifier}/members", identifier="..")
    assert r.status_code == 404


def test_wrong_types_on_the_creator_routes(shared):
    viper = shared.as_(VIPER)
    for body in ({"responseMessage": 1}, {"availableMaps": "harbor"}, {"availableMaps": [1]}):
        r = viper.post(
            "/matches/{matchId}/acceptances/{acceptanceId}/approve",
            body,
            matchId=VIPERS_HP,
            acceptanceId="acc_x",
            valid=False,
        )
        assert (r.status_code, error_of(r)) == (400, "error_validation_failed")
    r = viper.post("/matches/{matchId}/cancel", {"reason": ["no"]}, matchId=VIPERS_HP, valid=False)
    assert r.status_code == 400
    r = viper.post(
        "/matches/{matchId}/challenges/refuse",
        {"reason": "r" * 600},
        matchId="tbm_vipers_challenge_owls",
    )
    assert r.status_code == 400


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
ACCEPT_FIELDS = [
    "teamId",
    "activeRoster",
    "benchRoster",
    "mapPreferenceMode",
    "selectedMaps",
    "message",
    "disputedRules",
]
ROUTES = [
    ("/matches/{matchId}/accept", {"matchId": VIPERS_HP}),
    (
        "/matches/{matchId}/acceptances/{acceptanceId}/approve",
        {"matchId": VIPERS_HP, "acceptanceId": "a"},
    ),
    (
        "/matches/{matchId}/acceptances/{acceptanceId}/decline",
        {"matchId": VIPERS_HP, "acceptanceId": "a"},
    ),
    ("/matches/{matchId}/challenges/accept", {"matchId": "tbm_tide_challenge_tigers"}),
    ("/matches/{matchId}/challenges/refuse", {"matchId": "tbm_nope"}),
    ("/matches/create", {}),
    ("/matches/{matchId}/cancel", {"matchId": "tbm_nope"}),
    ("/matches/discover", {}),
    ("/user/matches", {}),
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=st.sampled_from(ROUTES),
    body=st.one_of(
        json_values,
        st.fixed_dictionaries({}, optional={f: json_values for f in ACCEPT_FIELDS}),
        st.fixed_dictionaries(
            {
                "teamId": st.sampled_from(["t_owls", "t_academy", "x"]),
                "activeRoster": st.lists(
                    st.sampled_from(["u_you", "u_ada", "u_bo", "u_cy", "u_dee", ""]), max_size=6
                ),
            },
            optional={"numItems": json_values, "limit": json_values, "cursor": json_values},
        ),
    ),
)
def test_no_body_ever_gets_a_500(shared, route, body):
    template, params = route
    r = shared.as_(VIPER).call("POST", template, json=body, valid=False, **params)
    assert 400 <= r.status_code < 500 or r.status_code == 200, r.text
    if r.status_code != 200:
        assert set(r.json()) <= {"error", "details"} and r.json()["error"]
