"""Hostile-input fuzzing of the emulated FlexMatch operations over both wire protocols: AWS JSON
1.1 (POST / with X-Amz-Target) and Smithy RPC v2 CBOR (/service/GameLift/operation/<Op>).

Request bodies are built by hypothesis from the committed GameLift model
(tests/contracts/gamelift-flexmatch-model.nodoc.json): valid values (enums, patterns, lengths,
ranges, names and tickets the emulator knows), boundary values (one past each limit) and
invalid ones (wrong types, bad patterns and enums, extra members, nested junk, huge lists,
non-object bodies, unreadable JSON and CBOR). The oracle:

- never a 5xx;
- a 4xx is the protocol's error shape: JSON ``{"__type", "message"}`` with X-Amzn-ErrorType, or
  a CBOR map with ``__type`` ``com.amazonaws.gamelift#<Code>``; the code is one the model lists
  for the operation, or one of the protocol's own;
- a 2xx is shaped like the operation's output (known members, right types, enum values,
  timestamps as epoch numbers in JSON and CBOR tag 1 in CBOR), in strict JSON (no NaN).

Like the TeamBattles campaign, a run goes through every case and gathers findings.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import cbor2
import httpx
from fuzz_common import Campaign, seeded, target_settings
from hypothesis import given
from hypothesis import strategies as st

MODEL_PATH = Path(__file__).parents[1] / "contracts" / "gamelift-flexmatch-model.nodoc.json"
NAMESPACE = "com.amazonaws.gamelift#"
JSON_TYPE = "application/x-amz-json-1.1"
CBOR_TYPE = "application/cbor"

#: Codes a protocol answers with on its own, whatever the operation's model lists.
PROTOCOL_CODES = frozenset(
    {"SerializationException", "UnknownOperationException", "UnsupportedMediaTypeException"}
)

#: Names the campaign's emulator is seeded with (see :func:`seed_emulator`).
RULE_SET = "fz-rules"
CONFIG = "fz"
CONFIG_ACCEPT = "fz-accept"
TICKETS = ("fz-t1", "fz-t2", "fz-t3", "fz-t4")
PLAYERS = ("p1", "p2", "p3", "p4")
ACCOUNT_ARN = "arn:aws:gamelift:us-east-1:123456789012"
NEW_NAMES = ("fz-new-1", "fz-new-2", "fz-new-3")
KNOWN_NAMES = {
    "MatchmakingConfigurationName": (
        CONFIG,
        CONFIG_ACCEPT,
        f"{ACCOUNT_ARN}:matchmakingconfiguration/{CONFIG}",
        f"{ACCOUNT_ARN}:matchmakingconfiguration/",
        "arn::matchmakingconfiguration/" + "a" * 200,
    ),
    "MatchmakingRuleSetName": (RULE_SET, f"{ACCOUNT_ARN}:matchmakingruleset/{RULE_SET}"),
}


@cache
def model() -> dict[str, Any]:
    return json.loads(MODEL_PATH.read_text("utf-8"))


def shapes() -> dict[str, dict[str, Any]]:
    return model()["shapes"]


def operation_names() -> list[str]:
    return sorted(model()["operations"])


# --- values from the model ----------------------------------------------------------------------

_ODD_TEXT = (
    "",
    " ",
    "\x00",
    "\ud800",
    "a\udfffb",
    "\u2028",
    "\x1b[31mred",
    "[b]markup[/b]",
    "é" * 40,
    "🎮",
    "-",
    ".",
    "arn:",
    "arn:aws:gamelift:us-east-1:1:matchmakingconfiguration/..",
    "NaN",
    "1e999",
)


def _text(cbor: bool) -> st.SearchStrategy[str]:
    odd = [t for t in _ODD_TEXT if not cbor or not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]
    parts = [st.sampled_from(odd), st.text(max_size=40)]
    if not cbor:  # JSON can escape a lone surrogate (CBOR text must be UTF-8)
        lone = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
        parts.append(st.builds(lambda a, c, b: a + c + b, st.text(max_size=4), lone, st.text(max_size=4)))
    return st.one_of(parts)


def _numbers(cbor: bool) -> st.SearchStrategy[Any]:
    edges = [0, -1, 1, 2**31, 2**31 - 1, -(2**31), 2**53 + 1, 2**63, 2**64, -(2**64), 10**40, 10**400]
    floats = st.floats(allow_nan=True, allow_infinity=True)
    return st.one_of(st.sampled_from(edges), st.integers(), floats, st.just(1.0), st.just(-0.0))


def _odd_cbor(i: int) -> Any:
    """CBOR items JSON has no word for: tags (a date, an unknown one), undefined, a simple value."""
    return [cbor2.CBORTag(1, 1.5), cbor2.CBORTag(1, "x"), cbor2.CBORTag(999, [1]),
            cbor2.undefined, cbor2.CBORSimpleValue(99), datetime(2026, 1, 1, tzinfo=UTC)][i]


def junk(cbor: bool) -> st.SearchStrategy[Any]:
    """Any JSON (or CBOR) value, nested."""
    leaves: list[st.SearchStrategy[Any]] = [st.none(), st.booleans(), _numbers(cbor), _text(cbor)]
    if cbor:
        leaves += [
            st.binary(max_size=20),
            st.integers(0, 5).map(_odd_cbor),
        ]
    return st.recursive(
        st.one_of(leaves),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(_text(cbor), inner, max_size=4)
        ),
        max_leaves=12,
    )


def _valid_string(shape: dict[str, Any], name: str) -> st.SearchStrategy[str]:
    if "enum" in shape:
        return st.sampled_from(shape["enum"])
    lo, hi = shape.get("min", 0), shape.get("max")
    pool: list[st.SearchStrategy[str]] = []
    if name in KNOWN_NAMES:  # mostly seeded names: most requests should find what they name
        known = st.sampled_from(KNOWN_NAMES[name][:3])
        other = st.sampled_from(KNOWN_NAMES[name][3:] + NEW_NAMES)
        regex = st.from_regex(shape["pattern"], fullmatch=True).map(lambda s: s[: hi or 64])
        return st.sampled_from([known] * 7 + [other, other, regex]).flatmap(lambda s: s)
    if name == "MatchmakingIdStringModel":
        pool.append(st.sampled_from(TICKETS + ("fz-new-1", "fz-new-2", "")))
    if name == "PlayerId":
        pool.append(st.sampled_from(PLAYERS + ("p5", "p6")))
    if name == "RuleSetBody":
        return rule_set_bodies()
    if "pattern" in shape:
        pool.append(st.from_regex(shape["pattern"], fullmatch=True).map(lambda s: s[: hi or 64]))
    else:
        pool.append(st.text(min_size=lo, max_size=min(hi or 40, 40)))
    return st.one_of(pool)


def _boundary_string(shape: dict[str, Any]) -> st.SearchStrategy[str]:
    lo, hi = shape.get("min", 0), shape.get("max")
    sizes = {0, lo, max(lo - 1, 0)}
    if hi is not None:
        sizes |= {hi, hi + 1}
    bad = ["bad enum"] if "enum" in shape else []
    return st.one_of(
        st.sampled_from(sorted(sizes)).map(lambda n: "a" * n),
        st.sampled_from(sorted(sizes)).map(lambda n: "é" * n),
        st.sampled_from(bad + ["!pattern?", "a b", "a/b", "a\nb"]),
    )


def rule_set_bodies() -> st.SearchStrategy[str]:
    team = st.fixed_dictionaries(
        {"name": st.sampled_from(["red", "blue", "x" * 100]),
         "minPlayers": st.sampled_from([1, 1, 2, 0, -1, 10**6]),
         "maxPlayers": st.sampled_from([1, 2, 0, 10**6])},
        optional={"quantity": st.sampled_from([1, 2, 0, 200])},
    )
    good = st.builds(
        lambda teams, extra: json.dumps({"ruleLanguageVersion": "1.0", "teams": teams, **extra}),
        st.lists(team, min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(["rules", "expansions", "algorithm", "playerAttributes"]),
                        junk(False), max_size=2),
    )
    return st.one_of(good, good, good, junk(False).map(json.dumps), st.sampled_from(["{", "[]", "null", ""]))


def value_for(
    shape_name: str, cbor: bool, depth: int = 0, hostile: bool = True
) -> st.SearchStrategy[Any]:
    """A value for a member of shape ``shape_name``: valid when not ``hostile``; else mostly
    valid, sometimes at or past a limit, sometimes of another type entirely."""
    good, edge, wrong = _parts(shape_name, cbor, depth, hostile)
    if not hostile:
        return good
    if depth > 3:
        return good | wrong
    # Mostly valid, so that a request often breaks in one place only.
    return st.integers(0, 99).flatmap(lambda n: good if n < 75 else edge if n < 90 else wrong)


@cache
def bad_value(shape_name: str, cbor: bool) -> st.SearchStrategy[Any]:
    """A value that breaks shape ``shape_name``: at or past a limit, or of another type."""
    _, edge, wrong = _parts(shape_name, cbor, 0, False)
    return st.one_of(edge, edge, wrong)


def _parts(
    shape_name: str, cbor: bool, depth: int, hostile: bool
) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    """(valid, boundary, wrong-type) values for shape ``shape_name``."""
    shape = shapes()[shape_name]
    kind = shape["type"]
    lo, hi = shape.get("min"), shape.get("max")
    wrong = junk(cbor)
    if kind == "structure":
        good: st.SearchStrategy[Any] = structure_for(shape_name, cbor, depth + 1, hostile)
        edge: st.SearchStrategy[Any] = st.just({})
    elif kind == "list":
        item = value_for(shape["member"]["shape"], cbor, depth + 1, hostile)
        good = st.lists(item, min_size=lo or 0, max_size=min(hi or 4, 4))
        if shape_name == "PlayerList" and not hostile:
            good = st.lists(item, min_size=1, max_size=2)
        sizes = [0, 11, 101, 1025] + ([hi + 1] if hi is not None else [])
        edge = st.sampled_from(sizes).flatmap(
            lambda n: st.lists(item, min_size=min(n, 12), max_size=min(n, 12)).map(
                lambda xs, n=n: (xs * (n // max(len(xs), 1) + 1))[:n] if xs else ["x"] * n
            )
        )
    elif kind == "map":
        keys = value_for(shape["key"]["shape"], cbor, depth + 1, hostile)
        values = value_for(shape["value"]["shape"], cbor, depth + 1, hostile)
        good = st.dictionaries(keys.filter(lambda k: isinstance(k, str)), values, max_size=3)
        edge = st.integers(11, 60).map(lambda n: {f"k{i}": "v" for i in range(n)})
    elif kind == "string":
        good = _valid_string(shape, shape_name)
        edge = _boundary_string(shape)
    elif kind in ("integer", "long"):
        good = st.integers(lo if lo is not None else -5, hi if hi is not None else 10**6)
        edge = st.sampled_from(
            [v for v in (lo, hi) if v is not None]
            + [(lo or 0) - 1, (hi or 0) + 1, 0, -1, 2**31, 2**63, 10**30, 1.0, 1.5]
        )
    elif kind == "boolean":
        good = st.booleans()
        edge = st.sampled_from([0, 1, "true", "false"])
    elif kind in ("double", "float"):
        good = st.floats(-1e6, 1e6) | st.integers(-10**6, 10**6)
        edge = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, 10**400, "NaN", "1.5"])
    else:  # timestamp
        good = st.integers(0, 2**33)
        edge = st.sampled_from(["2026-01-01T00:00:00Z", -1, 1e20])
    if kind == "string":
        edge = edge | _text(cbor)
    return good, edge, wrong


def mutated(shape_name: str, cbor: bool) -> st.SearchStrategy[dict[str, Any]]:
    """A valid input for structure ``shape_name`` broken in exactly one place, at any depth: a
    member, list item or map value replaced by a bad one, or a member the model knows added
    with a bad value, or a required member taken away."""

    def walk(draw: Any, value: Any, name: str, depth: int) -> Any:
        shape = shapes()[name]
        kind = shape["type"]
        children: list[tuple[Any, str]] = []
        if kind == "structure" and isinstance(value, dict):
            members = shape.get("members", {})
            children = [(k, members[k]["shape"]) for k in value if k in members and value[k] is not None]
            choice = draw(st.integers(0, 9))
            absent = [m for m in members if value.get(m) is None]
            if choice == 0 and absent:
                m = draw(st.sampled_from(absent))
                return {**value, m: draw(bad_value(members[m]["shape"], cbor))}
            if choice == 1 and shape.get("required"):
                m = draw(st.sampled_from(shape["required"]))
                return {k: v for k, v in value.items() if k != m}
        elif kind == "list" and isinstance(value, list):
            children = [(i, shape["member"]["shape"]) for i in range(len(value))]
        elif kind == "map" and isinstance(value, dict):
            children = [(k, shape["value"]["shape"]) for k in value]
        if not children or (depth > 0 and draw(st.integers(0, 2)) == 0):
            return draw(bad_value(name, cbor))
        key, sub = draw(st.sampled_from(children))
        out = dict(value) if isinstance(value, dict) else list(value)
        out[key] = walk(draw, value[key], sub, depth + 1)
        return out

    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        return walk(draw, draw(structure_for(shape_name, cbor, hostile=False)), shape_name, 0)

    return build()


def structure_for(
    shape_name: str, cbor: bool, depth: int = 0, hostile: bool = True
) -> st.SearchStrategy[dict[str, Any]]:
    """An object for structure ``shape_name``: its required members, some optional ones, and
    when ``hostile`` sometimes a required one missing and members the model does not know."""
    shape = shapes()[shape_name]
    members = shape.get("members", {})
    required = shape.get("required", [])
    optional = [m for m in members if m not in required]

    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        must = list(required) + (["PlayerId"] if shape_name == "Player" and not hostile else [])
        for m in must:
            if hostile and draw(st.integers(0, 19)) == 0:
                continue  # a required member left out
            out[m] = draw(value_for(members[m]["shape"], cbor, depth, hostile))
        rest = [m for m in optional if m not in must]
        chosen = draw(st.lists(st.sampled_from(rest), unique=True)) if rest else []
        for m in chosen:
            out[m] = draw(st.none() | value_for(members[m]["shape"], cbor, depth, hostile))
        if hostile and draw(st.integers(0, 5)) == 0:
            out.update(draw(st.dictionaries(_text(cbor), junk(cbor), min_size=1, max_size=3)))
        return out

    return build()


# --- bodies on the wire ---------------------------------------------------------------------------

_RAW_JSON = (
    b"{",
    b"{}}",
    b"[]",
    b"null",
    b'"text"',
    b"17",
    b"\xff\xfe\x00",
    b"\xef\xbb\xbf{}",
    b'{"TicketId": NaN}',
    b'{"Limit": 1e999}',
    b'{"Limit": 10' + b"0" * 5000 + b"}",
    b"[" * 20_000 + b"]" * 20_000,
    b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    b'{"TicketIds": [' + b",".join([b'"x"'] * 100_000) + b"]}",
    b'{"TicketId": "\\ud800"}',
    b'{"TicketId": "a", "TicketId": 7}',
    b" " * 10,
)

_RAW_CBOR = (
    b"\xa1",  # a map of one pair, cut short
    b"\xff",
    b"\x1f",  # reserved
    b"\x9f" * 20_000,  # indefinite arrays, nested deep
    b"\x81" * 20_000 + b"\x00",
    b"\xbf\x61a\x01",  # an indefinite map never closed
    b"\xa1\x64Name\x62\xed\xa0",  # invalid UTF-8 in a text string
    b"\xa1\x64Name\x7f\x61a\x41b\xff",  # a byte string inside an indefinite text string
    b"\xa1\x64Name\xd8\x23\x63(a)",  # tag 35: a regular expression
    b"\xa1\x65Limit\xc2\x49\x01" + b"\x00" * 8,  # a bignum
    b"\xa1\x65Limit\xfb\x7f\xf8\x00\x00\x00\x00\x00\x00",  # NaN
    b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff",  # a byte string claiming 2**64 bytes
    b"\xa1\xa0\x01",  # a map key that is a map
    b"\x80",
    b"\x60",
)


def _encode_json(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


def _utf8_only(value: Any) -> Any:
    """CBOR text must be UTF-8: lone surrogates (which JSON can escape) become U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_utf8_only(v) for v in value]
    if isinstance(value, dict):
        return {_utf8_only(k): _utf8_only(v) for k, v in value.items()}
    return value


def _encode_cbor(value: Any) -> bytes:
    try:
        return cbor2.dumps(value)
    except UnicodeEncodeError:
        return cbor2.dumps(_utf8_only(value))


# --- the oracle -----------------------------------------------------------------------------------


def _strict_json(raw: bytes) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(raw, parse_constant=refuse)


def output_problems(shape_name: str, value: Any, path: str, cbor: bool) -> list[str]:
    """How ``value`` breaks output shape ``shape_name`` (types, members, enums, timestamps)."""
    shape = shapes()[shape_name]
    kind = shape["type"]
    where = path or "(root)"
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        out: list[str] = []
        members = shape.get("members", {})
        for key, item in value.items():
            if key not in members:
                out.append(f"{where}: member {key!r} is not in {shape_name}")
            elif item is not None:
                out += output_problems(members[key]["shape"], item, f"{path}.{key}", cbor)
        return out
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        out = []
        for i, item in enumerate(value):
            out += output_problems(shape["member"]["shape"], item, f"{path}[{i}]", cbor)
        return out
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: not a map"]
        out = []
        for key, item in value.items():
            out += output_problems(shape["key"]["shape"], key, f"{path}[key]", cbor)
            out += output_problems(shape["value"]["shape"], item, f"{path}[{key!r}]", cbor)
        return out
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: not a string but {type(value).__name__}"]
        if "enum" in shape and value not in shape["enum"]:
            return [f"{where}: {value!r} is not one of {shape['enum']}"]
        return []
    if kind in ("integer", "long"):
        bits = 64 if kind == "long" else 32
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            return [f"{where}: {value} is outside the {bits}-bit range"]
        return [] if ok else [f"{where}: not an integer"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: not a boolean"]
    if kind in ("double", "float"):
        # JSON has no number for these; AWS JSON writes them as strings.
        ok = (isinstance(value, int | float) and not isinstance(value, bool)) or (
            not cbor and value in ("NaN", "Infinity", "-Infinity")
        )
        return [] if ok else [f"{where}: not a number"]
    if kind == "timestamp":
        if cbor:
            return [] if isinstance(value, datetime) else [f"{where}: not CBOR tag 1"]
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: not epoch seconds"]
    return [f"{where}: shape type {kind} unknown to the oracle"]


def allowed_codes(operation: str) -> frozenset[str]:
    op = model()["operations"].get(operation)
    listed = frozenset(e["shape"] for e in op.get("errors", ())) if op else frozenset()
    return listed | PROTOCOL_CODES


def answer_problems(
    operation: str, cbor: bool, response: httpx.Response, also: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(check, detail) for each way an answer breaks the protocol or the model."""
    status = response.status_code
    if status >= 500:
        return [("server_error", response.text[:300])]
    if not response.headers.get("x-amzn-requestid"):
        return [("request_id", "no x-amzn-requestid header")]
    want = CBOR_TYPE if cbor else JSON_TYPE
    if response.headers.get("content-type", "").split(";")[0] != want:
        return [("content_type", f"{response.headers.get('content-type')!r} instead of {want}")]
    if cbor and response.headers.get("smithy-protocol") != "rpc-v2-cbor":
        return [("smithy_protocol", "no smithy-protocol: rpc-v2-cbor header")]
    try:
        body = cbor2.loads(response.content) if cbor else _strict_json(response.content)
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the finding
        return [("body_encoding", f"{type(exc).__name__}: {response.content[:200]!r}")]
    if 200 <= status < 300:
        out_shape = model()["operations"][operation]["output"]["shape"]
        return [("output_shape", p) for p in output_problems(out_shape, body, "", cbor)[:3]]
    if not 400 <= status < 500:
        return [("status", f"HTTP {status}")]
    if not isinstance(body, dict) or not isinstance(body.get("__type"), str):
        return [("error_shape", f"no __type in {body!r:.200}")]
    if not isinstance(body.get("message"), str):
        return [("error_shape", f"no message in {body!r:.200}")]
    extra = set(body) - {"__type", "message"}
    if extra:
        return [("error_shape", f"unexpected members {sorted(extra)}")]
    kind = body["__type"]
    if cbor:
        if not kind.startswith(NAMESPACE):
            return [("error_shape", f"__type {kind!r} is not a shape id of {NAMESPACE}")]
        code = kind[len(NAMESPACE) :]
    else:
        code = kind.rsplit("#", 1)[-1]
        if response.headers.get("x-amzn-errortype", "").split(":")[0] != code:
            return [("error_shape", f"X-Amzn-ErrorType {response.headers.get('x-amzn-errortype')!r}")]
    if code not in allowed_codes(operation) | also:
        return [("error_code", f"{code} is not an error of {operation}: {body.get('message')!r:.200}")]
    return []


# --- sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    operation: str
    cbor: bool
    content: bytes
    headers: dict[str, str]
    shown: str

    def send(self, http: httpx.Client, base_url: str) -> httpx.Response:
        if self.cbor:
            url = f"{base_url}/service/GameLift/operation/{self.operation}"
        else:
            url = base_url + "/"
        return http.post(url, content=self.content, headers=self.headers)


def _headers(operation: str, cbor: bool, twist: int) -> dict[str, str]:
    """The protocol's headers; a small share of cases get one of them wrong."""
    if cbor:
        headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": CBOR_TYPE, "Accept": CBOR_TYPE}
        if twist == 1:
            headers["Content-Type"] = "application/json"
        elif twist == 2:
            del headers["smithy-protocol"]
        return headers
    headers = {"X-Amz-Target": f"GameLift.{operation}", "Content-Type": JSON_TYPE}
    if twist == 1:
        headers["Content-Type"] = "text/plain"
    elif twist == 2:
        headers["X-Amz-Target"] = f"GameLift.{operation}x"
    elif twist == 3:
        headers["X-Amz-Target"] = f"gamelift.{operation}"
    return headers


def requests_for(operation: str, cbor: bool) -> st.SearchStrategy[Request]:
    """Requests for one operation on one protocol: model-built bodies most of the time, else a
    non-object value or a raw unreadable body."""
    input_shape = model()["operations"][operation]["input"]["shape"]
    valid = structure_for(input_shape, cbor, hostile=False)
    once = mutated(input_shape, cbor)
    hostile = structure_for(input_shape, cbor)
    non_object = junk(cbor).filter(lambda v: not isinstance(v, dict))
    raw = st.sampled_from(_RAW_CBOR if cbor else _RAW_JSON)
    encode = _encode_cbor if cbor else _encode_json

    @st.composite
    def build(draw: Any) -> Request:
        pick = draw(st.integers(0, 19))
        twist = draw(st.integers(0, 24)) if pick >= 11 else 0
        if pick < 15:
            value = draw(valid if pick < 5 else once if pick < 11 else hostile)
            content, shown = encode(value), repr(value)
        elif pick < 17:
            value = draw(non_object)
            content, shown = encode(value), repr(value)
        else:
            content = draw(raw)
            shown = f"raw {content[:60]!r}... ({len(content)} bytes)"
        return Request(operation, cbor, content, _headers(operation, cbor, twist), shown[:600])

    return build()


def seed_emulator(http: httpx.Client, base_url: str) -> None:
    """A rule set, two configurations and a few tickets for the fuzzed requests to find. Run
    again before each target, as fuzzed requests delete and stop things: what still exists is
    refused and left as it is."""

    def call(op: str, body: dict[str, Any]) -> None:
        r = http.post(base_url + "/", json=body,
                      headers={"X-Amz-Target": f"GameLift.{op}", "Content-Type": JSON_TYPE})
        assert r.status_code < 500, r.text

    teams = [{"name": "red", "minPlayers": 1, "maxPlayers": 2}, {"name": "blue", "minPlayers": 1, "maxPlayers": 2}]
    call("CreateMatchmakingRuleSet",
         {"Name": RULE_SET, "RuleSetBody": json.dumps({"ruleLanguageVersion": "1.0", "teams": teams})})
    call("CreateMatchmakingConfiguration",
         {"Name": CONFIG, "RuleSetName": RULE_SET, "RequestTimeoutSeconds": 3600,
          "AcceptanceRequired": False, "FlexMatchMode": "STANDALONE"})
    call("CreateMatchmakingConfiguration",
         {"Name": CONFIG_ACCEPT, "RuleSetName": RULE_SET, "RequestTimeoutSeconds": 3600,
          "AcceptanceRequired": True, "AcceptanceTimeoutSeconds": 600, "FlexMatchMode": "STANDALONE"})
    for ticket, player in zip(TICKETS, PLAYERS, strict=True):
        call("StartMatchmaking",
             {"TicketId": ticket, "ConfigurationName": CONFIG_ACCEPT, "Players": [{"PlayerId": player}]})


def run_flexmatch(
    base_url: str,
    *,
    examples: int,
    operations: list[str] | None = None,
    protocols: tuple[bool, ...] = (False, True),
    derandomize: bool = True,
    random_seed: int | None = None,
    campaign: Campaign | None = None,
) -> Campaign:
    """Up to ``examples`` cases per (operation, protocol); returns what was found."""
    out = campaign if campaign is not None else Campaign()
    with httpx.Client(timeout=30) as http:
        for operation in operations or operation_names():
            for cbor in protocols:
                seed_emulator(http, base_url)
                target = f"{'CBOR' if cbor else 'JSON'} {operation}"
                _run_target(http, base_url, operation, cbor, target, examples, derandomize,
                            random_seed, out)
    return out


def _run_target(
    http: httpx.Client,
    base_url: str,
    operation: str,
    cbor: bool,
    target: str,
    examples: int,
    derandomize: bool,
    random_seed: int | None,
    out: Campaign,
) -> None:
    @target_settings(examples, derandomize)
    @given(request=requests_for(operation, cbor))
    def one(request: Request) -> None:
        response = request.send(http, base_url)
        out.cases[target] += 1
        code = ""
        if response.status_code >= 400:
            try:
                body = cbor2.loads(response.content) if cbor else json.loads(response.content)
                code = ":" + str(body.get("__type", "?")).rsplit("#", 1)[-1]
            except Exception:  # noqa: BLE001 - the oracle reports unreadable answers
                code = ":?"
        out.statuses[(target, f"{response.status_code}{code}")] += 1
        for check, detail in answer_problems(operation, cbor, response):
            out.add(target, check, response.status_code, f"{detail}; sent {request.shown}")

    seeded(one, derandomize, random_seed)()



# --- SigV4 ------------------------------------------------------------------------------------------

#: The codes an emulator started with SigV4 checking refuses requests with.
AUTH_CODES = frozenset(
    {
        "MissingAuthenticationTokenException",
        "IncompleteSignatureException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
    }
)


def _header_text(max_size: int) -> st.SearchStrategy[str]:
    """Header-safe Latin-1 text (no control characters, which HTTP/1.1 cannot carry)."""
    return st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                   max_size=max_size)


@dataclass(frozen=True)
class SignedCase:
    properly_signed: bool
    headers: dict[str, str]
    tickets: tuple[str, ...]


@st.composite
def sigv4_cases(draw: Any, access_key: str) -> SignedCase:
    """Authorization, X-Amz-Date, Date, Host and friends: mostly well-formed SigV4 with one or
    more parts wrong, sometimes anything at all, sometimes a request signed properly."""
    tickets = tuple(draw(st.lists(st.sampled_from(TICKETS + ("x", "y-1")), max_size=3)))
    if draw(st.sampled_from([True] + [False] * 7)):
        return SignedCase(True, {}, tickets)
    # Which parts to get wrong: none in about a third of the cases, so that the others (Host,
    # the token, the payload hash) reach the signature computation.
    parts = ["algorithm", "key", "day", "region", "service", "terminator", "separator", "skew"]
    broken = draw(st.sampled_from([0, 0, 1, 1, 2]).flatmap(
        lambda n: st.sets(st.sampled_from(parts), min_size=n, max_size=n)))
    skew = draw(st.sampled_from([901, -901, 10**7, -(10**10)])) if "skew" in broken else 0
    when = datetime.now(UTC).timestamp() + skew
    amz = datetime.fromtimestamp(max(when, 0), UTC).strftime("%Y%m%dT%H%M%SZ")

    def usually(part: str, good: Any, *bad: Any) -> Any:
        return draw(st.sampled_from(bad)) if part in broken else good

    signed = draw(
        st.sampled_from(["host;x-amz-date"] * 3 + ["host;x-amz-date;x-amz-content-sha256"])
        | st.lists(st.sampled_from(["host", "x-amz-date", "date", "content-type", "x-amz-target",
                                    "missing", "", "HOST", " host ", "x-amz-security-token"]),
                   max_size=6).map(";".join)
    )
    signature = draw(st.text("0123456789abcdef", max_size=64) | _header_text(70))
    sep = usually("separator", ", ", ",", " , ", ";", "")
    auth = (
        f"{usually('algorithm', 'AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1', '', 'aws4-hmac-sha256')}"
        f" Credential={usually('key', access_key, 'AKIDNOTKNOWN', '', 'é' * 3, access_key + '/x')}"
        f"/{usually('day', amz[:8], '20000101', '', 'x', '99999999')}"
        f"/{usually('region', 'us-east-1', '', 'é', '../x')}"
        f"/{usually('service', 'gamelift', 's3', '')}/{usually('terminator', 'aws4_request', '', 'x')}"
        f"{sep}SignedHeaders={signed}{sep}Signature={signature}"
    )
    headers: dict[str, str] = {}
    kind = draw(st.sampled_from(["sigv4"] * 8 + ["none", "text"]))
    if kind == "text":
        auth = draw(_header_text(200))
    if kind != "none":
        headers["Authorization"] = auth
    when_kind = draw(st.sampled_from([0] * 6 + [3, 4, 5]))
    if when_kind == 0:
        headers["X-Amz-Date"] = amz
    elif when_kind == 3:
        headers["X-Amz-Date"] = draw(st.sampled_from(["", "20260101", "99991231T235959Z", "00010101T000000Z"])
                                     | _header_text(20))
    elif when_kind == 4:
        headers["Date"] = draw(st.sampled_from(["Mon, 01 Jan 0001 00:00:00 +1400", "Fri, 31 Dec 9999 23:59:59 -1400",
                                                "yesterday", ""]) | _header_text(30))
    if draw(st.integers(0, 3)) == 0:
        headers["Host"] = draw(st.sampled_from(["[::1", "a b", "h:99999999", "", "é", "[", "x" * 300])
                               | _header_text(40))
    if draw(st.integers(0, 4)) == 0:
        headers["X-Amz-Security-Token"] = draw(_header_text(40))
    if draw(st.integers(0, 4)) == 0:
        headers["X-Amz-Content-SHA256"] = draw(st.sampled_from(["UNSIGNED-PAYLOAD", "0" * 64]) | _header_text(70))
    return SignedCase(False, headers, tickets)


def run_sigv4(
    base_url: str,
    *,
    examples: int,
    derandomize: bool = True,
    random_seed: int | None = None,
    campaign: Campaign | None = None,
) -> Campaign:
    """Requests to an emulator started with SigV4 checking (and the environment's key pair),
    with hostile signing headers; a properly signed request must get through."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import EnvProvider

    credentials = EnvProvider().load()
    assert credentials is not None, "the campaign signs with the environment's key pair"
    out = campaign if campaign is not None else Campaign()
    target = "JSON DescribeMatchmaking [SigV4 headers]"
    base = {"X-Amz-Target": "GameLift.DescribeMatchmaking", "Content-Type": JSON_TYPE}

    with httpx.Client(timeout=30) as http:

        @target_settings(examples, derandomize)
        @given(case=sigv4_cases(credentials.access_key))
        def one(case: SignedCase) -> None:
            body = json.dumps({"TicketIds": list(case.tickets)}).encode()
            headers = {**base, **case.headers}
            if case.properly_signed:
                signed = AWSRequest(method="POST", url=base_url + "/", data=body, headers=base)
                SigV4Auth(credentials, "gamelift", "us-east-1").add_auth(signed)
                headers = dict(signed.headers.items())
            # HTTP/1.1 trims a header value's outer spaces; send them trimmed.
            sent = {k: v.strip(" \t").encode("latin-1") for k, v in headers.items()}
            response = http.post(base_url + "/", content=body, headers=sent)
            out.cases[target] += 1
            code = ""
            if response.status_code >= 400:
                try:
                    code = ":" + str(response.json().get("__type", "?"))
                except ValueError:
                    code = ":?"
            out.statuses[(target, f"{response.status_code}{code}")] += 1
            shown = f"headers {case.headers!r:.500}"
            if case.properly_signed and response.status_code != 200:
                out.add(target, "signed_refused", response.status_code, f"{response.text[:300]}; {shown}")
            for check, detail in answer_problems("DescribeMatchmaking", False, response, AUTH_CODES):
                out.add(target, check, response.status_code, f"{detail}; sent {shown}")

        seeded(one, derandomize, random_seed)()
    return out
