"""Hostile-input fuzzing of the emulated TeamBattles /api/v1 routes, driven by the committed
contract (the whole published document, tests/contracts/teambattles-openapi.nodoc.json) through
schemathesis, over every route the emulator serves.

What is checked is the published contract, not the emulator's own schema: schemathesis builds
positive (schema-valid) and negative (schema-breaking) requests for each route and every answer
must pass its response checks (no 5xx, a status the route lists, the listed content type and
headers, a body valid against the listed schema, schema-breaking data refused with a 4xx), plus
ours: every answer is JSON with the X-RateLimit headers, and every 4xx is the Error envelope
with a code the service defines.

Each case draws one Authorization header from the "auths" given (a demo key, a bad key, none),
so the same routes are fuzzed past and at the key check. Positive cases also get seeded ids
(so they reach past "not found") and, some of them, one hostile string or number. A campaign
does not stop at the first problem: it runs every case and gathers problems as findings, one
per (target, check, status).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import requests
import schemathesis
from fuzz_common import Campaign, seeded, target_settings
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from teambattles_helpers import (
    CONTRACT_PATH,
    contract,
    scenario_file,
    DEVAPP,
    YOU,
    YOU_DISCOVER_ONLY,
    YOU_EXPIRED,
    YOU_FREE,
    YOU_READONLY,
    YOU_REVOKED,
    YOU_STUDIO,
    schema_errors,
)

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.scenario import load_scenario
from lobby.teambattles.vocab import BEST_OF_VALUES

#: Team administration routes of the document the emulator does not serve (outside the routes
#: lobby uses; the fallback answers them 405 on purpose): never among the fuzzed ones.
NOT_SERVED = frozenset({"disbandTeam", "updateTeam"})

#: The built-in response checks. positive_data_acceptance is left out on purpose: the
#: contract's schemas are looser than the service's rules (any integer for teamSize, any string
#: for a date, gameId and gameSlug together), and the service answers such schema-valid
#: requests 400 error_validation_failed, a status the contract lists for those routes.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

#: Authorization header values. "pro" gets past every check; the others stop at the key check
#: (401) or at scopes, kind and plan (403).
AUTHS: dict[str, str | None] = {
    "pro": f"Bearer {YOU}",
    "studio": f"Bearer {YOU_STUDIO}",
    "free": f"Bearer {YOU_FREE}",
    "readonly": f"Bearer {YOU_READONLY}",
    "discover-only": f"Bearer {YOU_DISCOVER_ONLY}",
    "developer-app": f"Bearer {DEVAPP}",
    "expired": f"Bearer {YOU_EXPIRED}",
    "revoked": f"Bearer {YOU_REVOKED}",
    "unknown": "Bearer tb_test_not_a_key_of_this_emulator",
    "malformed": "Basic dGI6dGI=",
    "none": None,
}

#: The published ApiErrorCode enum: the only codes an answer may carry.
KNOWN_CODES = frozenset(contract()["components"]["schemas"]["ApiErrorCode"]["enum"])

#: The figures a campaign is judged by, and the checks that count towards each (schemathesis'
#: failure titles, and ours).
FIGURES = {
    "schema failures": ("Response violates schema",),
    "undocumented statuses": ("Undocumented status code",),
    "codes outside ApiErrorCode": ("error_code",),
}


#: The buckets a campaign runs with, raised by name: every case reaches its route whatever the
#: machine's speed (the limiter itself is tested in test_teambattles_ratelimit.py, and a 429 on
#: any route is a choice kept in Operation.status_for, see docs/emulator-decisions.md).
FUZZ_REASON = "fuzzing: every case reaches its route, however fast the machine runs them"
_WIDE = {"burst": 1_000_000, "per_second": 1_000_000}


def fuzz_config(directory: Path) -> EmulatorConfig:
    """The demo scenario with raised buckets (announced as such), written under ``directory``."""
    raised = {name: _WIDE for name in ("free", "pro", "studio", "ip")}
    directory.mkdir(parents=True, exist_ok=True)
    path = scenario_file(directory, raised_rate_limits={**raised, "reason": FUZZ_REASON})
    return EmulatorConfig(scenario=path)


def figures(campaign: Campaign) -> dict[str, int]:
    """Cases run, 5xx answers, and the findings of each kind in :data:`FIGURES`, plus every
    other finding."""
    counted = {check for checks in FIGURES.values() for check in checks}
    out = {
        "cases": campaign.total,
        "5xx": sum(
            n
            for (_, status), n in campaign.statuses.items()
            if isinstance(status, int) and status >= 500
        ),
    }
    for name, checks in FIGURES.items():
        out[name] = sum(f.count for f in campaign.findings.values() if f.check in checks)
    out["other findings"] = sum(
        f.count for f in campaign.findings.values() if f.check not in counted
    )
    return out


@cache
def contract_schema() -> Any:
    schema = schemathesis.openapi.from_path(str(CONTRACT_PATH))
    # The Authorization header is ours to set per auth (AUTHS), never generated.
    schema.config.generation.update(with_security_parameters=False)
    return schema


def served_ids() -> frozenset[str]:
    """The operationIds of the routes the emulator serves (a part of the whole document)."""
    from lobby.emulator.teambattles.routes import OPERATIONS

    return frozenset(op.name for op in OPERATIONS)


def operations() -> list[Any]:
    ops = [result.ok() for result in contract_schema().get_all_operations()]
    return [op for op in ops if op.definition.raw.get("operationId") in served_ids()]


@cache
def known_ids() -> dict[str, list[str]]:
    """Ids the demo scenario seeds, so positive cases also reach past "not found"."""
    tb = load_scenario().teambattles
    assert tb is not None
    users = [u.id for u in tb.users]
    return {
        "matchId": [m.id for m in tb.matches],
        "identifier": [t.id for t in tb.teams] + [t.slug for t in tb.teams] + users,
        "teamId": [t.id for t in tb.teams],
        "users": users,
        "gameId": [g.convex_id for g in tb.games] + [g.id for g in tb.games],
        "gameModeId": [m.id for g in tb.games for m in g.modes],
        "maps": [m.id for g in tb.games for m in g.maps],
    }


def _season(case: Any, rng: random.Random) -> None:
    """Swap some generated ids in a positive case for seeded ones (types are unchanged, so the
    case stays schema-valid)."""
    ids = known_ids()
    for name in list(case.path_parameters or {}):
        pool = ids.get(name)
        if pool and rng.random() < 0.7:
            case.path_parameters[name] = rng.choice(pool)
    body = case.body
    if not isinstance(body, dict):
        return
    for name in ("teamId", "challengedTeamId", "gameId", "gameModeId"):
        pool = ids.get("teamId" if name == "challengedTeamId" else name)
        if isinstance(body.get(name), str) and pool and rng.random() < 0.6:
            body[name] = rng.choice(pool)
    if isinstance(body.get("teamSize"), int) and rng.random() < 0.7:
        body["teamSize"] = rng.randint(1, 5)
    if isinstance(body.get("bestOf"), int) and rng.random() < 0.7:
        body["bestOf"] = rng.choice(BEST_OF_VALUES)
    for name in ("scheduledAfter", "scheduledBefore", "createdAfter", "createdBefore"):
        if isinstance(body.get(name), str) and rng.random() < 0.5:
            body[name] = rng.choice(TIMES)
    for name, pool_name in (("activeRoster", "users"), ("selectedMaps", "maps")):
        value = body.get(name)
        if isinstance(value, list) and value and rng.random() < 0.6:
            body[name] = rng.sample(ids[pool_name], min(len(value), len(ids[pool_name])))


#: Values a JSON schema's "string" or "number" admits that a service can still choke on.
HOSTILE_STRINGS = ("\ud800", "a\udfffb", "\x00", "\x1b[31m", "\u202e", "[b]x[/b]", "x" * 70_000,
                   "9999-12-31T23:59:59Z", "-0001-01-01T00:00:00Z")
HOSTILE_NUMBERS = (1e300, -1e300, 2**63, -(2**63), 2**53 + 1, 1e-300, -0.0, 0)


def _harden(case: Any, rng: random.Random) -> None:
    """Replace one string (or key) or number anywhere in the body with a hostile one of the same
    JSON type: the request stays schema-shaped and must still get a 4xx, not a 5xx."""
    spots: list[tuple[Any, Any, str]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            if isinstance(value, str):
                spots.append((node, key, "str"))
            elif isinstance(value, int | float) and not isinstance(value, bool):
                spots.append((node, key, "num"))
            elif isinstance(value, dict | list):
                walk(value)
            if isinstance(node, dict):
                spots.append((node, key, "key"))

    if isinstance(case.body, dict | list):
        walk(case.body)
    if not spots:
        return
    node, key, kind = rng.choice(spots)
    if kind == "str":
        node[key] = rng.choice(HOSTILE_STRINGS)
    elif kind == "num":
        node[key] = rng.choice(HOSTILE_NUMBERS)
    elif key in node:
        node[rng.choice(HOSTILE_STRINGS[:6])] = node.pop(key)


def _header(response: Any, name: str) -> str:
    """One header of a schemathesis Response (lower-case names, lists of values)."""
    values = response.headers.get(name.lower()) or [""]
    return values[0]


#: Idempotency-Key values sent on some cases (the contract does not list the header).
IDEMPOTENCY_KEYS = (None, None, None, "fuzz-1", "fuzz-1", "", "k" * 256, "caf\xe9", "a b", "x\x7f")
TIMES = ("2026-01-01T00:00:00Z", "2026-13-40T99:00:00Z", "0001-01-01T00:00:00+14:00",
         "9999-12-31T23:59:59.999999-14:00", "2026-06-01", "now", "1e309")


def our_checks(response: Any) -> Iterable[tuple[str, str]]:
    """(check, detail) for each problem in an answer, beyond the contract's own checks."""
    content_type = _header(response, "content-type")
    if not content_type.startswith("application/json"):
        yield "json_answer", f"content-type {content_type!r}"
        return
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        if not _header(response, name).isdigit():
            yield "rate_limit_headers", f"{name} is {_header(response, name)!r}"
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            yield "error_envelope", f"not JSON: {response.text[:200]!r}"
            return
        problems = schema_errors("components/schemas/Error", body)
        if problems:
            yield "error_envelope", f"{problems[:3]} in {response.text[:300]}"
        elif body["error"] not in KNOWN_CODES:
            yield "error_code", f"unknown code {body['error']!r}"


def _describe(case: Any, response: Any) -> str:
    body = case.body if case.body is not NOT_SET else None
    text = repr(body)
    if len(text) > 400:
        text = text[:400] + "..."
    return (
        f"{case.method} {case.formatted_path} body={text} -> {response.status_code}"
        f" {response.text[:300]}"
    )


def run_teambattles(
    base_url: str,
    *,
    examples: int,
    auths: Mapping[str, str | None],
    modes: Iterable[GenerationMode] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    derandomize: bool = True,
    random_seed: int | None = None,
    campaign: Campaign | None = None,
    on_case: Callable[[], None] | None = None,
) -> Campaign:
    """Up to ``examples`` cases per (route, generation mode), each with one of ``auths``;
    returns what was found."""
    out = campaign if campaign is not None else Campaign()
    session = requests.Session()
    api = base_url.rstrip("/") + "/api/v1"
    try:
        for op in operations():
            for mode in modes:
                _run_target(op, mode, dict(auths), api, session, examples, derandomize,
                            random_seed, out, on_case)
    finally:
        session.close()
    return out


def _run_target(
    op: Any,
    mode: GenerationMode,
    auths: dict[str, str | None],
    api: str,
    session: requests.Session,
    examples: int,
    derandomize: bool,
    random_seed: int | None,
    out: Campaign,
    on_case: Callable[[], None] | None,
) -> None:

    @target_settings(examples, derandomize, report_multiple_bugs=False)
    @given(
        case=op.as_strategy(generation_mode=mode),
        auth=st.sampled_from(sorted(auths)),
        pick=st.integers(0, 2**32),
    )
    def one(case: Any, auth: str, pick: int) -> None:
        header = auths[auth]
        headers = {} if header is None else {"Authorization": header}
        target = f"{op.label} [{mode.value}, {auth}]"
        rng = random.Random(pick)
        if mode is GenerationMode.POSITIVE:
            _season(case, rng)
            if rng.random() < 0.3:
                _harden(case, rng)
        if header is None and case.headers:
            case.headers.pop("Authorization", None)
        sent = dict(headers)
        idem = IDEMPOTENCY_KEYS[pick % len(IDEMPOTENCY_KEYS)]
        if idem is not None and case.method.upper() == "POST":
            sent["Idempotency-Key"] = idem
        response = case.call(base_url=api, session=session, headers=sent, timeout=30)
        out.cases[target] += 1
        out.statuses[(op.label, response.status_code)] += 1
        if on_case is not None:
            on_case()
        try:
            case.validate_response(response, checks=CHECKS, headers=sent)
        except BaseException as exc:  # schemathesis raises a group of check failures
            if isinstance(exc, KeyboardInterrupt):
                raise
            for failure in getattr(exc, "exceptions", [exc]):
                title = getattr(failure, "title", type(failure).__name__)
                out.add(target, str(title), response.status_code, _describe(case, response))
        for check, detail in our_checks(response):
            out.add(target, check, response.status_code, f"{detail}; {_describe(case, response)}")

    try:
        seeded(one, derandomize, random_seed)()
    except Unsatisfiable:  # nothing to break: a negative case of a route that takes no input
        if mode is not GenerationMode.NEGATIVE:
            raise
