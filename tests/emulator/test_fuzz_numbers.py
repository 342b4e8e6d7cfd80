"""Numbers of any size in every position: each member of every GameLift operation's input (over
AWS JSON 1.1 and RPC v2 CBOR), each body property and path parameter of every TeamBattles
route the emulator serves (as the whole published document describes it), the event stream's ids, and the headers the emulator reads as numbers. Every answer is
the service's own 4xx (or a 2xx), never a 5xx, never an aborted stream.

Exhaustive, not sampled: the case counts are printed (``-s``) for the record.

Left out, on purpose: TeamBattles' paging ``cursor`` (its bounds are fixed with the TeamBattles
routes, and covered by their own tests there).
"""

from __future__ import annotations

import json
import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import cbor2
import httpx
import pytest
from flexmatch_helpers import config_for
from fuzz_flexmatch_helpers import CBOR_TYPE, JSON_TYPE, model, operation_names, shapes
from teambattles_helpers import CONTRACT_PATH, VIPERS_HP, YOU, owls_accept

from lobby.emulator.server import EmulatorThread

HANG = 10
#: Out-of-range and awkward numbers: past int64 both ways, past uint64, past double, subnormal,
#: negative zero, just past exact doubles, and fractions where integers belong.
NUMBERS: tuple[Any, ...] = (
    2**63, 2**63 - 1, -(2**63) - 1, 2**64, -(2**64), 10**30, -(10**30),
    1e308, -1e308, 5e-324, -0.0, 2**53 + 1, 0.5, -1,
)  # fmt: skip
#: Only JSON can carry these: integers longer than any type, exponents past any double.
JSON_ONLY = (b"1" + b"0" * 400, b"-" + b"9" * 400, b"1e400", b"-1e400", b"1e-400")
#: Fixed with the TeamBattles routes (see the module docstring).
LEFT_OUT = frozenset({"cursor"})

counts: Counter[str] = Counter()


@pytest.fixture(scope="module")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with EmulatorThread(config_for(tmp_path_factory.mktemp("fuzz-numbers"))) as emu:
        yield emu.url
    print("\nnumbers in every position, cases:", dict(sorted(counts.items())))


# --- GameLift -------------------------------------------------------------------------------------


def _positions(shape_name: str, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(path, a function of a number giving the member's value) for each member, nested."""
    shape = shapes()[shape_name]
    kind = shape.get("type")
    if kind == "structure" and depth < 3:
        for name, member in shape.get("members", {}).items():
            yield name, None
            for path, _ in _positions(member["shape"], depth + 1):
                yield f"{name}.{path}", None
    elif kind == "list" and depth < 3:
        for path, _ in _positions(shape["member"]["shape"], depth + 1):
            yield f"[].{path}", None
    elif kind == "map" and depth < 3:
        yield "{}", None
        for path, _ in _positions(shape["value"]["shape"], depth + 1):
            yield f"{{}}.{path}", None


def _place(path: str, value: Any) -> Any:
    """A body with ``value`` at ``path`` (``a.b``, ``[]`` a list item, ``{}`` a map value)."""
    head, _, rest = path.partition(".")
    inner = value if not rest else _place(rest, value)
    if head == "[]":
        return [inner]
    if head == "{}":
        return {"k": inner}
    return {head: inner}


def _gamelift_cases() -> list[tuple[str, str]]:
    return [
        (op, path)
        for op in operation_names()
        for path, _ in _positions(model()["operations"][op]["input"]["shape"])
    ]


def _check_gamelift(r: httpx.Response, cbor: bool, what: str) -> None:
    assert r.status_code < 500, (what, r.status_code, r.content[:300])
    if r.status_code >= 400:
        body = cbor2.loads(r.content) if cbor else json.loads(r.content)
        assert "__type" in body and isinstance(body.get("message"), str), (what, body)


@pytest.mark.parametrize(("operation", "path"), _gamelift_cases())
def test_gamelift_numbers_in_every_member(emulator_url, operation, path):
    with httpx.Client(timeout=HANG) as http:
        for number in NUMBERS:
            body = json.dumps(_place(path, number)).encode()
            headers = {"Content-Type": JSON_TYPE, "X-Amz-Target": f"GameLift.{operation}"}
            r = http.post(emulator_url + "/", content=body, headers=headers)
            _check_gamelift(r, False, (operation, path, number, "json"))
            counts["gamelift json"] += 1
            r = http.post(
                emulator_url + f"/service/GameLift/operation/{operation}",
                content=cbor2.dumps(_place(path, number)),
                headers={"Content-Type": CBOR_TYPE, "smithy-protocol": "rpc-v2-cbor"},
            )
            _check_gamelift(r, True, (operation, path, number, "cbor"))
            counts["gamelift cbor"] += 1
        for raw in JSON_ONLY:
            body = json.dumps(_place(path, "@")).encode().replace(b'"@"', raw)
            headers = {"Content-Type": JSON_TYPE, "X-Amz-Target": f"GameLift.{operation}"}
            r = http.post(emulator_url + "/", content=body, headers=headers)
            _check_gamelift(r, False, (operation, path, raw[:10], "json"))
            counts["gamelift json"] += 1
        for special in (float("inf"), float("-inf"), float("nan")):
            r = http.post(
                emulator_url + f"/service/GameLift/operation/{operation}",
                content=cbor2.dumps(_place(path, special)),
                headers={"Content-Type": CBOR_TYPE, "smithy-protocol": "rpc-v2-cbor"},
            )
            _check_gamelift(r, True, (operation, path, special, "cbor"))
            counts["gamelift cbor"] += 1


# --- TeamBattles ----------------------------------------------------------------------------------


def _contract() -> dict[str, Any]:
    return json.loads(CONTRACT_PATH.read_text("utf-8"))


def _properties(schema: dict[str, Any], doc: dict[str, Any], depth: int = 0) -> Iterator[str]:
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for name, prop in schema.get("properties", {}).items():
        if name in LEFT_OUT:
            continue
        yield name
        if depth < 2:
            if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
                for sub in _properties(prop["items"], doc, depth + 1):
                    yield f"{name}.[].{sub}"
            elif "$ref" in prop or "properties" in prop:
                for sub in _properties(prop, doc, depth + 1):
                    yield f"{name}.{sub}"


def _teambattles_cases() -> list[tuple[str, str, str]]:
    from lobby.emulator.teambattles.routes import OPERATIONS

    served = {op.name for op in OPERATIONS}
    doc = _contract()
    cases = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            if not isinstance(op, dict) or op.get("operationId") not in served:
                continue
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            positions = ["(path)"] if "{" in path else []
            if schema is not None:
                positions += list(_properties(schema, doc))
            cases += [(method.upper(), path, p) for p in positions]
    return cases


def _put(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``base`` with ``value`` at ``path`` (``a.[].b``: in the first item of list ``a``)."""
    parts = path.split(".")
    out = json.loads(json.dumps(base))
    node: Any = out
    for i, part in enumerate(parts[:-1]):
        if part == "[]":
            continue
        nxt = parts[i + 1]
        if nxt == "[]":
            node[part] = [{}]
            node = node[part][0]
        else:
            node = node.setdefault(part, {}) if isinstance(node.get(part), dict) else node.setdefault(part, {})
    node[parts[-1]] = value
    return out


@pytest.mark.parametrize(("method", "route", "position"), _teambattles_cases())
def test_teambattles_numbers_in_every_position(emulator_url, method, route, position):
    base = owls_accept() if route.endswith("/accept") else {}
    auth = {"Authorization": f"Bearer {YOU}"}
    with httpx.Client(timeout=HANG) as http:
        values: list[Any] = [*NUMBERS, *(raw.decode() for raw in JSON_ONLY)]
        for number in values:
            raw_number = isinstance(number, str)
            if position == "(path)":
                url = route
                for name in ("matchId", "acceptanceId", "identifier"):
                    url = url.replace("{" + name + "}", str(number))
                body = json.dumps(base).encode() if method != "GET" else None
            else:
                url = route.replace("{matchId}", VIPERS_HP).replace("{acceptanceId}", "acc_1")
                url = url.replace("{identifier}", "t_owls")
                placed = _put(base, position, "@" if raw_number else number)
                body = json.dumps(placed).encode()
                if raw_number:
                    body = body.replace(b'"@"', number.encode())
            r = http.request(
                method,
                emulator_url + "/api/v1" + url,
                content=body,
                headers={**auth, "Content-Type": "application/json"},
            )
            assert r.status_code < 500, (method, route, position, str(number)[:20], r.text[:300])
            if r.status_code >= 400:
                assert isinstance(r.json().get("error"), str), r.text[:300]
            counts["teambattles"] += 1


# --- the event stream and numeric headers ---------------------------------------------------------


@pytest.mark.parametrize("number", [*NUMBERS, *(raw.decode() for raw in JSON_ONLY)])
def test_event_stream_numbers_in_every_position(emulator_url, number):
    text = number if isinstance(number, str) else json.dumps(number)
    with httpx.Client(timeout=HANG) as http:
        for headers, params in (
            ({"Last-Event-ID": text}, {}),
            ({}, {"after": text}),
            ({"X-Emulator-Instance": text}, {}),
        ):
            with http.stream("GET", emulator_url + "/_emulator/events", headers=headers, params=params) as r:
                if r.status_code == 200:
                    assert next(r.iter_lines()) == ": stream open"  # opened, not aborted
                else:
                    r.read()
                    assert r.status_code == 400 and r.json()["error"] in ("bad_last_event_id", "bad_after")
            counts["event stream"] += 1


@pytest.mark.parametrize(
    "head",
    [
        "POST / HTTP/1.1\r\nX-Amz-Target: GameLift.DescribeMatchmaking\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n",
        "POST /service/GameLift/operation/DescribeMatchmaking HTTP/1.1\r\nsmithy-protocol: rpc-v2-cbor\r\n",
        f"POST /api/v1/matches/{VIPERS_HP}/accept HTTP/1.1\r\nAuthorization: Bearer {YOU}\r\n",
        "PUT /_emulator/faults HTTP/1.1\r\n",
        "GET /_emulator/events HTTP/1.1\r\n",
    ],
)
@pytest.mark.parametrize("length", [str(2**63), str(2**64), "9" * 40, "-1", "1e3"])
def test_a_content_length_of_any_size_is_a_4xx(emulator_url, head, length):
    parts = urlsplit(emulator_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=HANG) as sock:
        sock.sendall(f"{head}Host: e\r\nContent-Length: {length}\r\n\r\n{{}}".encode())
        answer = sock.recv(4096)
    status = int(answer.split(b" ", 2)[1]) if answer else 0
    assert 400 <= status < 500, (head, length, answer[:200])
    counts["content-length"] += 1
