"""The TeamBattles wire models name exactly the fields of the contract, with its required set,
and the error envelope is read by its code only."""

from __future__ import annotations

import datetime
import enum
import json
import types
import typing
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from lobby.core.answers import MapPreferenceMode, MatchStatus
from lobby.core.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Throttled,
    Unavailable,
)
from lobby.net.retry import retry_after_seconds
from lobby.teambattles import wire as m
from lobby.teambattles.errors import error_from_response
from lobby.teambattles.vocab import Platform, Region
from tests.conftest import CONTRACTS

CONTRACT = json.loads((CONTRACTS / "teambattles-openapi.nodoc.json").read_text())
SCHEMAS = CONTRACT["components"]["schemas"]


def _response_schema(path: str, method: str) -> dict[str, Any]:
    return CONTRACT["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]


PAIRS: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (m.GameMap, SCHEMAS["ApiGameMap"]),
    (m.GameMode, SCHEMAS["ApiGameMode"]),
    (m.GamePlaylist, SCHEMAS["ApiGamePlaylist"]),
    (m.GameModeMapPool, SCHEMAS["ApiGameModeMapPool"]),
    (m.Objective, SCHEMAS["ApiObjective"]),
    (m.GameCatalogEntry, SCHEMAS["ApiGameCatalogEntry"]),
    (m.GameCatalog, SCHEMAS["ApiGameCatalogResponse"]),
    (m.GameRef, SCHEMAS["Game"]),
    (m.MatchTeam, SCHEMAS["ApiMatchTeam"]),
    (m.Team, SCHEMAS["Team"]),
    (m.MatchDetail, SCHEMAS["ApiMatchDetail"]),
    (m.MatchDetailResponse, SCHEMAS["ApiMatchDetailResponse"]),
    (m.MatchDiscoverBody, SCHEMAS["MatchDiscoverBody"]),
    (m.MatchDiscoverPage, SCHEMAS["MatchDiscoverPage"]),
    (m.MatchesRequestBody, SCHEMAS["MatchesRequestBody"]),
    (m.UserMatch, SCHEMAS["UserMatch"]),
    (m.UserMatchesPage, _response_schema("/user/matches", "post")),
    (m.UserMatchesPage, _response_schema("/teams/{identifier}/matches", "post")),
    (m.OngoingMatches, SCHEMAS["OngoingMatchesResponse"]),
    (m.MatchPlayer, SCHEMAS["ApiMatchPlayer"]),
    (m.MatchPlayers, SCHEMAS["ApiMatchPlayersResponse"]),
    (m.UserProfile, SCHEMAS["ApiUserProfile"]),
    (m.TeamMember, SCHEMAS["ApiMember"]),
    (m.TeamMembers, _response_schema("/teams/{identifier}/members", "get")),
    (m.OrganizationSummary, SCHEMAS["ApiOrganizationSummary"]),
    (m.UserTeamMembership, SCHEMAS["ApiUserTeamMembership"]),
    (m.UserTeams, _response_schema("/users/{identifier}/teams", "get")),
    (m.TeamProfile, SCHEMAS["ApiTeamProfile"]),
    (m.TeamProfileResponse, _response_schema("/teams/{identifier}", "get")),
    (m.BenchPlayer, SCHEMAS["AcceptMatchRequestBody"]["properties"]["benchRoster"]["items"]),
    (m.AcceptMatchRequestBody, SCHEMAS["AcceptMatchRequestBody"]),
    (m.AcceptMatchResponse, SCHEMAS["AcceptMatchResponse"]),
    (m.ApproveAcceptanceRequestBody, SCHEMAS["ApproveAcceptanceRequestBody"]),
    (m.DeclineAcceptanceRequestBody, SCHEMAS["DeclineAcceptanceRequestBody"]),
    (m.AcceptChallengeRequestBody, SCHEMAS["AcceptChallengeRequestBody"]),
    (m.RefuseChallengeRequestBody, SCHEMAS["RefuseChallengeRequestBody"]),
    (m.SuccessResponse, SCHEMAS["ApproveAcceptanceResponse"]),
    (m.SuccessResponse, SCHEMAS["DeclineAcceptanceResponse"]),
    (m.SuccessResponse, SCHEMAS["AcceptChallengeResponse"]),
    (m.SuccessResponse, SCHEMAS["RefuseChallengeResponse"]),
    (m.SuccessResponse, SCHEMAS["PublishMatchResponse"]),
    (m.CreateMatchRequestBody, SCHEMAS["CreateMatchRequestBody"]),
    (m.MatchIdResponse, SCHEMAS["CreateMatchResponse"]),
    (m.MatchIdResponse, SCHEMAS["CancelMatchResponse"]),
    (m.CancelMatchRequestBody, SCHEMAS["CancelMatchRequestBody"]),
    (m.ErrorEnvelope, SCHEMAS["Error"]),
]


@pytest.mark.parametrize(("model", "schema"), PAIRS, ids=lambda x: getattr(x, "__name__", ""))
def test_fields_and_required_set_match_the_contract(model: type[BaseModel], schema: dict[str, Any]) -> None:
    aliases = {f.alias or name: f for name, f in model.model_fields.items()}
    assert set(aliases) == set(schema["properties"])
    required = {alias for alias, f in aliases.items() if f.is_required()}
    assert required == set(schema.get("required", []))
    assert model.model_config.get("extra") == "forbid"


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _schema_kinds(schema: dict[str, Any]) -> tuple[set[str], set[Any]]:
    """The JSON types a property admits and the values it is closed to (enum or const)."""
    schema = _resolve(schema)
    kinds: set[str] = set()
    values: set[Any] = set(schema.get("enum", ()))
    if "const" in schema:
        values.add(schema["const"])
    if isinstance(schema.get("type"), str):
        kinds.add(schema["type"])
    for part in schema.get("anyOf", ()):
        more, closed = _schema_kinds(part)
        kinds |= more
        values |= closed
    return kinds, values


def _model_kinds(annotation: Any) -> tuple[set[str], set[Any]]:
    """The same for a model field's annotation."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds: set[str] = set()
        values: set[Any] = set()
        for arg in typing.get_args(annotation):
            more, closed = _model_kinds(arg)
            kinds |= more
            values |= closed
        return kinds, values
    if origin is typing.Annotated:
        return _model_kinds(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return {"boolean"}, set(typing.get_args(annotation))
    if origin is list:
        return {"array"}, set()
    if origin is dict:
        return {"object"}, set()
    if annotation is type(None):
        return {"null"}, set()
    simple = [(bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
              (datetime.datetime, "string"), (BaseModel, "object")]
    for cls, kind in simple:
        if isinstance(annotation, type) and issubclass(annotation, cls):
            closed = {e.value for e in annotation} if issubclass(annotation, enum.Enum) else set()
            return {kind}, closed
    raise AssertionError(f"no JSON type for {annotation!r}")


@pytest.mark.parametrize(("model", "schema"), PAIRS, ids=lambda x: getattr(x, "__name__", ""))
def test_types_and_closed_values_match_the_contract(
    model: type[BaseModel], schema: dict[str, Any]
) -> None:
    """Each field takes the contract's JSON types and, where the contract closes a property to
    an enum or a constant, exactly those values. ``None`` on a field the contract does not
    require stands for "absent" (requests leave it out); a required field is nullable only where
    the contract says so."""
    for name, field in model.model_fields.items():
        alias = field.alias or name
        want_kinds, want_values = _schema_kinds(schema["properties"][alias])
        kinds, values = _model_kinds(field.annotation)
        if not field.is_required():
            kinds.discard("null")
            want_kinds.discard("null")
        assert kinds == want_kinds, (model.__name__, alias)
        if want_values:
            assert values == want_values, (model.__name__, alias)


def test_enums_match_the_contract() -> None:
    assert {s.value for s in MatchStatus} == set(SCHEMAS["MatchStatus"]["enum"])
    body = SCHEMAS["AcceptMatchRequestBody"]["properties"]
    assert {s.value for s in MapPreferenceMode} == set(body["mapPreferenceMode"]["enum"])
    discover = SCHEMAS["MatchDiscoverBody"]["properties"]
    assert {s.value for s in Region} == set(discover["region"]["enum"])
    assert {s.value for s in Platform} == set(discover["platform"]["enum"])


def test_request_bodies_leave_out_unset_fields_and_use_wire_names() -> None:
    body = m.AcceptMatchRequestBody(
        team_id="t1", active_roster=["u1", "u2"], bench_roster=[m.BenchPlayer(id="u3", priority=1)]
    )
    assert body.wire() == {
        "teamId": "t1",
        "activeRoster": ["u1", "u2"],
        "benchRoster": [{"id": "u3", "priority": 1.0}],
    }
    with pytest.raises(ValidationError):
        m.AcceptMatchRequestBody(team_id="t1", active_roster=[])


def test_an_answer_with_a_field_the_contract_does_not_name_is_refused() -> None:
    with pytest.raises(ValidationError):
        m.AcceptMatchResponse.model_validate(
            {"success": True, "acceptanceId": "a1", "timestamp": "x", "extra": 1}
        )


# --- the error envelope -----------------------------------------------------------------------------


def _answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    content = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return httpx.Response(status, content=content, headers=headers or {})


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (401, "error_api_key_required", AuthenticationFailed),
        (401, "error_api_key_invalid", AuthenticationFailed),
        (401, "error_api_key_expired", AuthenticationFailed),
        (403, "error_api_feature_required", PermissionDenied),
        (403, "error_not_team_leader", PermissionDenied),
        (404, "error_match_not_found", NotFound),
        (409, "error_acceptance_already_pending", Conflict),
        (409, "error_idempotency_key_conflict", Conflict),
        (400, "error_roster_too_small", InvalidRequest),
        (422, "error_validation_failed", InvalidRequest),
        (429, "error_api_rate_limited", Throttled),
        (500, "error_internal", Unavailable),
        (503, None, Unavailable),
    ],
)
def test_each_status_maps_to_its_typed_error(status: int, code: str | None, cls: type) -> None:
    body = {"error": code, "details": "Some sentence."} if code else b"<html>down</html>"
    err = error_from_response(_answer(status, body))
    assert type(err) is cls
    assert err.status == status and err.code == code
    assert err.message and err.message[0].isupper() and err.message.endswith(".")


def test_validation_errors_keep_the_code_and_the_details() -> None:
    err = error_from_response(
        _answer(400, {"error": "error_not_team_member", "details": "User u9 is not a member."})
    )
    assert isinstance(err, InvalidRequest)
    assert err.code == "error_not_team_member"
    assert err.details == "User u9 is not a member."  # type: ignore[attr-defined]
    assert "u9" in err.message


def test_both_permission_denied_spellings_mean_the_same() -> None:
    a = error_from_response(_answer(403, {"error": "API_KEY_PERMISSION_DENIED"}))
    b = error_from_response(_answer(403, {"error": "error_api_key_permission_denied", "details": "x"}))
    assert type(a) is type(b) is PermissionDenied
    assert a.code == b.code == "error_api_key_permission_denied"
    assert a.message == b.message and "personal key" in a.message


def test_decisions_follow_the_code_not_the_details() -> None:
    # A details sentence that reads like another error changes nothing.
    err = error_from_response(
        _answer(401, {"error": "error_api_key_expired", "details": "rate limited, try later"})
    )
    assert isinstance(err, AuthenticationFailed) and "expired" in err.message


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds(_answer(429, headers={"Retry-After": "7"})) == 7
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    hinted = _answer(429, headers={"Retry-After": "Thu, 01 Jan 2026 12:00:30 GMT"})
    assert retry_after_seconds(hinted, now) == 30
    assert retry_after_seconds(_answer(429)) is None
    err = error_from_response(_answer(429, {"error": "error_api_rate_limited"}, {"Retry-After": "3"}))
    assert isinstance(err, Throttled) and err.retry_after == 3 and "3 s" in err.message


def test_every_route_lobby_uses_has_its_bodies_modelled() -> None:
    """The request body and the 200 answer of each route the emulator serves (the routes lobby
    uses) are among the pairs checked above."""
    from lobby.emulator.teambattles.routes import OPERATIONS

    checked = [schema for _, schema in PAIRS]
    missing = []
    for op in OPERATIONS:
        spec = CONTRACT["paths"][op.path][op.method.lower()]
        bodies = {
            "request": spec.get("requestBody", {}).get("content", {}).get("application/json", {}),
            "200": spec["responses"]["200"]["content"]["application/json"],
        }
        for part, content in bodies.items():
            if content and _resolve(content["schema"]) not in checked:
                missing.append(f"{op.name} {part}")
    assert missing == []
