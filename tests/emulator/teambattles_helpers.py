"""Shared by the TeamBattles emulator tests: the committed contract as a validator, demo keys and
ids, a client that checks every answer against the contract, and scenario variants."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import connect_sse
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from lobby.emulator.scenario import load_scenario
from lobby.emulator.teambattles.scenario import SCOPES

CONTRACT_PATH = Path(__file__).parents[1] / "contracts" / "teambattles-openapi.nodoc.json"
CONTRACT_URI = "urn:lobby:teambattles-contract"

# Demo keys (lobby demo-keys lists them all).
YOU = "tb_test_you_pro_personal_0001"
YOU_STUDIO = "tb_test_you_studio_personal_0002"
YOU_FREE = "tb_test_you_free_personal_0003"
YOU_READONLY = "tb_test_you_readonly_0004"
YOU_DISCOVER_ONLY = "tb_test_you_discover_only_0005"
YOU_EXPIRED = "tb_test_you_expired_0006"
YOU_REVOKED = "tb_test_you_revoked_0007"
DEVAPP = "tb_test_devapp_0009"
LEAGUE = "tb_test_league_operator_0010"
ADA = "tb_test_ada_member_0011"
KAI = "tb_test_kai_captain_0012"
VIPER = "tb_test_viper_bot_0014"
FOX = "tb_test_fox_bot_0015"
TIDE = "tb_test_tide_bot_0016"
REX = "tb_test_rex_captain_0013"
GHOST = "tb_test_ghost_bot_0017"
#: Keys of the demo's captains, to read a match as one of its participants.
PARTICIPANT_KEYS = (YOU, VIPER, FOX, TIDE, GHOST, KAI, REX, ADA)

#: Every scope of a TeamBattles key, read-write.
EVERY_SCOPE = dict.fromkeys(SCOPES, "read-write")

# Demo ids.
OWLS_ACTIVE = ["u_you", "u_ada", "u_bo", "u_cy"]
VIPERS_HP = "tbm_vipers_hp"  # open, Skyline Strike hardpoint, 4 a side, created by t_vipers


@cache
def contract() -> dict[str, Any]:
    return json.loads(CONTRACT_PATH.read_text("utf-8"))


@cache
def _registry() -> Registry:
    # OpenAPI 3.1 schemas are JSON Schema 2020-12.
    return Registry().with_resource(CONTRACT_URI, DRAFT202012.create_resource(contract()))


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@cache
def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{CONTRACT_URI}#/{pointer}"}, registry=_registry())


def schema_errors(pointer: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in _validator(pointer).iter_errors(instance)
    ]


def assert_response_conforms(method: str, template: str, response: httpx.Response) -> None:
    """The answer's body validates against the contract's schema for its status; a status the
    contract does not list for the route is allowed only for 429, in the Error envelope."""
    op = contract()["paths"][template][method.lower()]
    status = str(response.status_code)
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    if status in op["responses"]:
        pointer = _pointer(
            "paths",
            template,
            method.lower(),
            "responses",
            status,
            "content",
            "application/json",
            "schema",
        )
    else:
        assert status == "429", f"{method} {template} answered {status}, not in the contract"
        pointer = _pointer("components", "schemas", "Error")
    problems = schema_errors(pointer, body)
    assert not problems, f"{method} {template} {status}: {problems[:5]} in {body}"


def assert_request_conforms(method: str, template: str, body: Any) -> None:
    pointer = _pointer(
        "paths", template, method.lower(), "requestBody", "content", "application/json", "schema"
    )
    problems = schema_errors(pointer, body)
    assert not problems, f"test request for {method} {template} breaks the contract: {problems}"


def assert_rate_headers(response: httpx.Response) -> None:
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert response.headers.get(name, "").isdigit(), f"{name} missing on {response.url}"


class TB:
    """A TeamBattles client for tests: every call is checked against the contract and for the
    rate-limit headers. ``valid=False`` marks a request body that is wrong on purpose."""

    def __init__(self, base_url: str, key: str | None = YOU) -> None:
        self.base = base_url
        self.key = key
        self.http = httpx.Client(base_url=base_url + "/api/v1", timeout=10)

    def close(self) -> None:
        self.http.close()

    def as_(self, key: str | None) -> TB:
        other = TB.__new__(TB)
        other.base, other.key, other.http = self.base, key, self.http
        return other

    def call(
        self,
        method: str,
        template: str,
        *,
        json: Any = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        valid: bool = True,
        key: str | None = ...,  # type: ignore[assignment]
        **params: str,
    ) -> httpx.Response:
        key = self.key if key is ... else key
        hdrs = dict(headers or {})
        if key is not None:
            hdrs.setdefault("Authorization", f"Bearer {key}")
        if json is not None and valid:
            assert_request_conforms(method, template, json)
        response = self.http.request(
            method, template.format(**params), json=json, content=content, headers=hdrs
        )
        assert_rate_headers(response)
        assert_response_conforms(method, template, response)
        return response

    def get(self, template: str, **kw: Any) -> httpx.Response:
        return self.call("GET", template, **kw)

    def post(self, template: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.call("POST", template, json=body, **kw)

    # Shortcuts for the routes used most.
    def accept(self, match_id: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
        return self.post("/matches/{matchId}/accept", body, matchId=match_id, **kw)

    def match(self, match_id: str) -> dict[str, Any]:
        """The match as one of its participants reads it: this caller if it may (the service
        shows a match only to the people of its teams), else the first demo captain who may."""
        for key in (self.key, *PARTICIPANT_KEYS):
            r = self.as_(key).get("/matches/{matchId}", matchId=match_id)
            if r.status_code != 403:
                break
        assert r.status_code == 200, r.text
        return r.json()["match"]


def owls_accept(**extra: Any) -> dict[str, Any]:
    """A valid acceptance of VIPERS_HP by the demo user's Night Owls."""
    body: dict[str, Any] = {"teamId": "t_owls", "activeRoster": list(OWLS_ACTIVE)}
    body.update(extra)
    return body


def error_of(response: httpx.Response) -> str:
    return response.json()["error"]


def scenario_file(tmp_path: Path, **teambattles: Any) -> Path:
    """The demo scenario with some TeamBattles fields replaced, written to a file."""
    doc = load_scenario().model_dump(mode="json")
    doc["teambattles"].update(teambattles)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(doc), "utf-8")
    return path


def advance(base_url: str, seconds: float) -> None:
    r = httpx.post(base_url + "/_emulator/clock", json={"advanceSeconds": seconds})
    assert r.status_code == 200, r.text


def events(
    base_url: str, *, after: int = 0, until: str | None = None
) -> Iterator[tuple[str, dict]]:
    """TeamBattles events read from the SSE stream, oldest first: up to the first one of type
    ``until``, or else up to the last event the emulator had when called."""
    last = httpx.get(base_url + "/_emulator/health").json()["lastEventId"]
    if until is None and last <= after:
        return
    with httpx.Client(timeout=5) as client:
        with connect_sse(client, "GET", f"{base_url}/_emulator/events?after={after}") as source:
            for sse in source.iter_sse():
                if not sse.data:  # httpx-sse turns a keep-alive comment into an empty event
                    continue
                payload = sse.json()
                if payload.get("event") == sse.event and "data" in payload:  # a TeamBattles one
                    yield sse.event, payload
                if sse.event == until or (until is None and int(sse.id) >= last):
                    return
