"""The GameLift service model shipped with the emulator, compiled once into fast checkers.

``gamelift-model.json`` (beside this module) is the contract: operations, shapes, lengths,
ranges, patterns and enums. At import time every operation's input shape is compiled into a
tree of small closures, so checking a request costs a few dictionary look-ups and compiled
regular-expression matches, with no re-reading of the model per request.

Checking follows the service's own behaviour:

- members the model does not know are ignored (clients may be newer than the service) and
  dropped from the request, so none is stored and answered back;
- ``null`` counts as absent;
- a value of the wrong JSON/CBOR type is a :class:`SerializationException`;
- a value of the right type that breaks a constraint (required, length, range, pattern,
  enum, list size) is an :class:`InvalidRequestException` naming the member and the
  constraint, for every such problem in the request.

Values of members the model marks sensitive (player ids, ...) are never echoed in messages.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from cbor2 import CBORTag

from lobby.emulator.flexmatch.errors import InvalidRequestException, SerializationException

MODEL_RESOURCE = "gamelift-model.json"

#: (value, path, problems) -> None; appends problems it finds.
Checker = Callable[[Any, str, list["Problem"]], None]


class Problem:
    __slots__ = ("path", "text", "value", "is_type")

    def __init__(self, path: str, text: str, value: Any = None, *, is_type: bool = False) -> None:
        self.path = path
        self.text = text
        self.value = value
        self.is_type = is_type

    def sentence(self) -> str:
        shown = ""
        if isinstance(self.value, str) and len(self.value) <= 64:
            shown = f" '{self.value}'"
        elif isinstance(self.value, int) and not isinstance(self.value, bool):
            shown = f" '{self.value}'"
        return f"Value{shown} at '{self.path}' failed to satisfy constraint: {self.text}"


_TYPE_NAMES = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    list: "a list",
    dict: "an object",
    type(None): "null",
    bytes: "a byte string",
}


def _kind(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


class ServiceModel:
    """The loaded model with a compiled input checker and CBOR output adapter per operation."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.metadata: dict[str, Any] = document["metadata"]
        self.shapes: dict[str, dict[str, Any]] = document["shapes"]
        self.operations: dict[str, dict[str, Any]] = document["operations"]
        self._compiled: dict[tuple[str, bool], Checker] = {}
        self._checkers: dict[str, Checker] = {}
        self._cbor_outputs: dict[str, Callable[[Any], Any] | None] = {}
        self.errors: dict[str, frozenset[str]] = {}
        for name, op in self.operations.items():
            self._checkers[name] = self._compile(op["input"]["shape"], False)
            self._cbor_outputs[name] = self._cbor_adapter(op["output"]["shape"], set())
            self.errors[name] = frozenset(e["shape"] for e in op.get("errors", ()))

    # --- input checking ------------------------------------------------------------------------

    def check_input(self, operation: str, params: Any) -> None:
        """Raise SerializationException / InvalidRequestException if ``params`` breaks the model."""
        if type(params) is not dict:
            raise SerializationException(
                f"The request body must be an object holding the {operation} input members,"
                f" not {_kind(params)}."
            )
        problems: list[Problem] = []
        self._checkers[operation](params, "", problems)
        if not problems:
            return
        wrong_types = [p for p in problems if p.is_type]
        if wrong_types:
            raise SerializationException(wrong_types[0].text)
        count = len(problems)
        head = f"{count} validation error{'s' if count > 1 else ''} detected: "
        raise InvalidRequestException(head + "; ".join(p.sentence() for p in problems))

    def _compile(self, name: str, sensitive: bool) -> Checker:
        key = (name, sensitive)
        found = self._compiled.get(key)
        if found is not None:
            return found
        # A forwarding stub first, so recursive shapes would terminate.
        slot: list[Checker] = []
        self._compiled[key] = lambda v, p, e: slot[0](v, p, e)
        shape = self.shapes[name]
        sensitive = sensitive or bool(shape.get("sensitive"))
        kind = shape["type"]
        builder = {
            "structure": self._structure,
            "list": self._list,
            "map": self._map,
            "string": self._string,
            "integer": self._integer,
            "long": self._integer,
            "boolean": self._boolean,
            "double": self._number,
            "float": self._number,
            "timestamp": self._timestamp,
        }[kind]
        checker = builder(shape, sensitive)
        slot.append(checker)
        self._compiled[key] = checker
        return checker

    def _structure(self, shape: dict[str, Any], sensitive: bool) -> Checker:
        members = {
            member: self._compile(ref["shape"], sensitive)
            for member, ref in shape.get("members", {}).items()
        }
        required = tuple(shape.get("required", ()))

        def check(value: Any, path: str, problems: list[Problem]) -> None:
            if type(value) is not dict:
                problems.append(_type_problem(path, "an object", value))
                return
            for member in required:
                if value.get(member) is None:
                    problems.append(Problem(_join(path, member), "Member must not be null"))
            unknown = None
            for member, item in value.items():
                sub = members.get(member)
                if sub is None:
                    unknown = (unknown or []) + [member]
                elif item is not None:
                    sub(item, _join(path, member), problems)
            if unknown:  # dropped, so that nothing stored from a request can echo them back
                for member in unknown:
                    del value[member]

        return check

    def _list(self, shape: dict[str, Any], sensitive: bool) -> Checker:
        item_check = self._compile(shape["member"]["shape"], sensitive)
        lo = shape.get("min")
        hi = shape.get("max")

        def check(value: Any, path: str, problems: list[Problem]) -> None:
            if type(value) is not list:
                problems.append(_type_problem(path, "a list", value))
                return
            n = len(value)
            if lo is not None and n < lo:
                problems.append(Problem(path, f"Member must have length greater than or equal to {lo}"))
            if hi is not None and n > hi:
                problems.append(Problem(path, f"Member must have length less than or equal to {hi}"))
            for i, item in enumerate(value):
                if item is None:
                    problems.append(Problem(f"{path}[{i}]", "Member must not be null"))
                else:
                    item_check(item, f"{path}[{i}]", problems)

        return check

    def _map(self, shape: dict[str, Any], sensitive: bool) -> Checker:
        key_check = self._compile(shape["key"]["shape"], sensitive)
        value_check = self._compile(shape["value"]["shape"], sensitive)
        lo = shape.get("min")
        hi = shape.get("max")

        def check(value: Any, path: str, problems: list[Problem]) -> None:
            if type(value) is not dict:
                problems.append(_type_problem(path, "an object", value))
                return
            n = len(value)
            if lo is not None and n < lo:
                problems.append(Problem(path, f"Member must have length greater than or equal to {lo}"))
            if hi is not None and n > hi:
                problems.append(Problem(path, f"Member must have length less than or equal to {hi}"))
            for key, item in value.items():
                shown = key if isinstance(key, str) and len(key) <= 40 else "…"
                sub = f"{path}[{shown}]"
                key_check(key, f"{sub}(key)", problems)
                if item is None:
                    problems.append(Problem(sub, "Member must not be null"))
                else:
                    value_check(item, sub, problems)

        return check

    def _string(self, shape: dict[str, Any], sensitive: bool) -> Checker:
        lo = shape.get("min")
        hi = shape.get("max")
        pattern_text = shape.get("pattern")
        pattern = re.compile(pattern_text) if pattern_text else None
        enum = frozenset(shape["enum"]) if "enum" in shape else None
        enum_text = "[" + ", ".join(shape.get("enum", ())) + "]"
        if lo == 0:
            lo = None

        def check(value: Any, path: str, problems: list[Problem]) -> None:
            if type(value) is not str:
                problems.append(_type_problem(path, "a string", value))
                return
            if not value.isascii() and not _is_unicode(value):
                where = f"'{path}'" if path else "the top level"
                problems.append(
                    Problem(path, f"Expected text at {where} but found a string holding a lone"
                            " UTF-16 surrogate.", is_type=True)
                )
                return
            shown = None if sensitive else value
            n = len(value)
            if lo is not None and n < lo:
                problems.append(
                    Problem(path, f"Member must have length greater than or equal to {lo}", shown)
                )
            if hi is not None and n > hi:
                problems.append(
                    Problem(path, f"Member must have length less than or equal to {hi}", shown)
                )
            if pattern is not None and pattern.fullmatch(value) is None:
                problems.append(
                    Problem(
                        path, f"Member must satisfy regular expression pattern: {pattern_text}", shown
                    )
                )
            if enum is not None and value not in enum:
                problems.append(Problem(path, f"Member must satisfy enum value set: {enum_text}", shown))

        return check

    def _integer(self, shape: dict[str, Any], sensitive: bool) -> Checker:
        lo = shape.get("min")
        hi = shape.get("max")
        bits = 64 if shape["type"] == "long" else 32
        floor, ceiling = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

        def check(value: Any, path: str, problems: list[Problem]) -> None:
            if type(value) is not int:
                problems.append(_type_problem(path, "an integer", value))
                return
            if not floor <= value <= ceiling:
                where = f"'{path}'" if path else "the top level"
                problems.append(
                    Problem(path, f"Expected an integer at {where} but found one outside the"
                            f" {bits}-bit range.", is_type=True)
                )
                return
            if lo is not None and value < lo:
                problems.append(
                    Problem(path, f"Member must have value greater than or equal to {lo}", value)
                )
            if hi is not None and value > hi:
                problems.append(
                    Problem(path, f"Member must have value less than or equal to {hi}", value)
                )

        return check

    def _boolean(self, shape: dict[str, Any], sensitive: bool) -> Checker:
        def check(value: Any, path: str, problems: list[Problem]) -> None:
            if type(value) is not bool:
                problems.append(_type_problem(path, "a boolean", value))

        return check

    def _number(self, shape: dict[str, Any], sensitive: bool) -> Checker:
        def check(value: Any, path: str, problems: list[Problem]) -> None:
            if type(value) is float:
                return
            if type(value) is not int or not -_DOUBLE_MAX <= value <= _DOUBLE_MAX:
                problems.append(_type_problem(path, "a number", value))

        return check

    def _timestamp(self, shape: dict[str, Any], sensitive: bool) -> Checker:
        def check(value: Any, path: str, problems: list[Problem]) -> None:
            if type(value) not in (int, float) and not isinstance(value, datetime):
                problems.append(_type_problem(path, "a timestamp (epoch seconds)", value))

        return check

    # --- output for CBOR -------------------------------------------------------------------------

    def to_cbor(self, operation: str, output: dict[str, Any]) -> Any:
        """The output with its timestamps as CBOR tag 1 (epoch seconds)."""
        adapter = self._cbor_outputs[operation]
        return output if adapter is None else adapter(output)

    def _cbor_adapter(self, name: str, seen: set[str]) -> Callable[[Any], Any] | None:
        """A converter for the timestamps inside shape ``name``, or None when it holds none."""
        if name in seen:
            return None
        shape = self.shapes[name]
        kind = shape["type"]
        if kind == "timestamp":
            return lambda v: CBORTag(1, v) if isinstance(v, int | float) else v
        seen = seen | {name}
        if kind == "structure":
            subs = {
                m: a
                for m, ref in shape.get("members", {}).items()
                if (a := self._cbor_adapter(ref["shape"], seen)) is not None
            }
            if not subs:
                return None

            def structure(v: Any) -> Any:
                if not isinstance(v, dict):
                    return v
                out = dict(v)
                for m, adapt in subs.items():
                    if out.get(m) is not None:
                        out[m] = adapt(out[m])
                return out

            return structure
        if kind == "list":
            item = self._cbor_adapter(shape["member"]["shape"], seen)
            if item is None:
                return None
            return lambda v: [item(x) for x in v] if isinstance(v, list) else v
        if kind == "map":
            value = self._cbor_adapter(shape["value"]["shape"], seen)
            if value is None:
                return None
            return lambda v: {k: value(x) for k, x in v.items()} if isinstance(v, dict) else v
        return None


#: The largest integer a double member takes; past it the value has no double.
_DOUBLE_MAX = int(sys.float_info.max)


def _is_unicode(value: str) -> bool:
    """False for a string holding a lone UTF-16 surrogate (JSON can escape one, e.g. \\ud800):
    such a string cannot be stored or sent back as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _type_problem(path: str, expected: str, value: Any) -> Problem:
    where = f"'{path}'" if path else "the top level"
    return Problem(
        path, f"Expected {expected} at {where} but found {_kind(value)}.", is_type=True
    )


def model_text() -> str:
    return resources.files(__package__).joinpath(MODEL_RESOURCE).read_text("utf-8")


@cache
def load_model() -> ServiceModel:
    """The packaged model, loaded and compiled once per process."""
    return ServiceModel(json.loads(model_text()))
