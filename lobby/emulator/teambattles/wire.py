"""Reading request bodies by the contract's types, and writing times the way the service does.

Every problem is a 400 ``error_validation_failed`` naming the field; nothing here can end in a
500 or in FastAPI's own 422.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from lobby.emulator.teambattles.errors import invalid
from lobby.teambattles.vocab import ErrorCode as E
from lobby.core.answers import BenchEntry
from lobby.teambattles.vocab import ID_MAX_LENGTH

#: The largest request body taken, in bytes.
MAX_BODY_BYTES = 64 * 1024
#: The longest list taken for any roster or id list, before the domain's finer rules.
MAX_LIST_ITEMS = 100


def iso(ts: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC with milliseconds, e.g. 2026-01-01T12:00:00.000Z."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str, field: str) -> float:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"{field} must be an ISO 8601 date-time.", E.INVALID_DATE_FORMAT) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes, *, required: bool) -> dict[str, Any] | None:
    """The body as a JSON object; an empty body is None unless the route requires one. A body
    of whitespace only is not empty: it is not JSON either."""
    if not raw:
        if required:
            raise invalid("This route needs a JSON object body.")
        return None
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid("The body must be a JSON object.")
    if b"\\u" in raw and not _is_unicode(data):
        raise invalid("The body is not valid JSON: a string holds a lone UTF-16 surrogate.")
    return data


def _is_unicode(data: Any) -> bool:
    """False when a string anywhere in ``data`` (keys included) holds a lone UTF-16 surrogate,
    which JSON can escape (\\ud800) but which no UTF-8 text, and so no stored field, can hold."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: The integers SQLite stores.
_SQL_INT = (-(2**63), 2**63 - 1)


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, shape: Sequence[type], field: str = "cursor") -> list[Any]:
    try:
        pad = "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(cursor + pad))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid(f"{field} is not a cursor this API issued.", E.INVALID_CURSOR) from None
    if not isinstance(values, list) or len(values) != len(shape):
        raise invalid(f"{field} is not a cursor this API issued.", E.INVALID_CURSOR)
    for v, t in zip(values, shape, strict=True):
        # A number SQLite cannot hold (an integer of 2**63 or more) is a cursor we never issued.
        ok = isinstance(v, t) and not isinstance(v, bool)
        if t is int:
            ok = ok and isinstance(v, int) and _SQL_INT[0] <= v <= _SQL_INT[1]
        if t is float:
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        if not ok:
            raise invalid(f"{field} is not a cursor this API issued.", E.INVALID_CURSOR)
    # A float slot holds a float even when the cursor spelled a (possibly huge) integer.
    return [float(v) if t is float else v for v, t in zip(values, shape, strict=True)]


class Body:
    """Typed access to the fields of a JSON object body. Unknown fields are ignored, as the
    contract's request schemas allow them."""

    def __init__(self, data: dict[str, Any] | None) -> None:
        self.data = data or {}

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(self, name: str, required: bool) -> Any:
        if name not in self.data:
            if required:
                raise invalid(f"{name} is required.")
            return None
        return self.data[name]

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        min_length: int = 0,
        max_length: int | None = ID_MAX_LENGTH,
        enum: Sequence[str] | None = None,
        nullable: bool = False,
    ) -> str | None:
        value = self._get(name, required)
        if value is None and (nullable or name not in self.data):
            return None
        if not isinstance(value, str):
            raise invalid(f"{name} must be a string.")
        if enum is not None and value not in enum:
            raise invalid(f"{name} must be one of {', '.join(enum)}.")
        if len(value) < min_length:
            raise invalid(f"{name} must not be empty.")
        if max_length is not None and len(value) > max_length:
            raise invalid(f"{name} is longer than {max_length} characters.")
        return value

    def text(self, name: str) -> Any:
        """A free-text field, left for the domain rules to bound; only its JSON type is checked."""
        value = self._get(name, False)
        if name in self.data and not isinstance(value, str):
            raise invalid(f"{name} must be a string.")
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        choices: Sequence[int] | None = None,
        code: str = E.VALIDATION_FAILED,
    ) -> int | None:
        """An integer field; ``code`` is the error the service gives for a bad one."""
        value = self._get(name, required)
        if value is None and name not in self.data:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"{name} must be an integer.", code)
        if isinstance(value, float):
            if not value.is_integer():
                raise invalid(f"{name} must be an integer.", code)
            value = int(value)
        if choices is not None and value not in choices:
            raise invalid(f"{name} must be one of {', '.join(map(str, choices))}.", code)
        if minimum is not None and value < minimum:
            raise invalid(f"{name} must be at least {minimum}.", code)
        if maximum is not None and value > maximum:
            raise invalid(f"{name} must be at most {maximum}.", code)
        return value

    def number(
        self, name: str, *, required: bool = False, minimum: float | None = None
    ) -> float | None:
        value = self._get(name, required)
        if value is None and name not in self.data:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise invalid(f"{name} must be a number.")
        if minimum is not None and value < minimum:
            raise invalid(f"{name} must be at least {minimum}.")
        return float(value)

    def boolean(self, name: str) -> bool | None:
        value = self._get(name, False)
        if value is None and name not in self.data:
            return None
        if not isinstance(value, bool):
            raise invalid(f"{name} must be true or false.")
        return value

    def strings(
        self,
        name: str,
        *,
        required: bool = False,
        min_items: int = 0,
        item_min_length: int = 0,
        max_items: int = MAX_LIST_ITEMS,
    ) -> tuple[str, ...]:
        value = self._get(name, required)
        if value is None and name not in self.data:
            return ()
        if not isinstance(value, list):
            raise invalid(f"{name} must be an array of strings.")
        if len(value) < min_items:
            raise invalid(f"{name} needs at least {min_items} item{'s' if min_items > 1 else ''}.")
        if len(value) > max_items:
            raise invalid(f"{name} has {len(value)} items; the limit is {max_items}.")
        for item in value:
            if not isinstance(item, str):
                raise invalid(f"{name} must be an array of strings.")
            if len(item) < item_min_length:
                raise invalid(f"{name} must not contain empty strings.")
            if len(item) > ID_MAX_LENGTH:
                raise invalid(f"An item of {name} is longer than {ID_MAX_LENGTH} characters.")
        return tuple(value)

    def bench(self, name: str = "benchRoster") -> tuple[BenchEntry, ...]:
        value = self._get(name, False)
        if value is None and name not in self.data:
            return ()
        if not isinstance(value, list):
            raise invalid(f"{name} must be an array of {{id, priority}} objects.")
        if len(value) > MAX_LIST_ITEMS:
            raise invalid(f"{name} has {len(value)} items; the limit is {MAX_LIST_ITEMS}.")
        out = []
        for item in value:
            if not isinstance(item, dict):
                raise invalid(f"{name} must be an array of {{id, priority}} objects.")
            entry = Body(item)
            user = entry.string("id", required=True, min_length=1)
            priority = entry.number("priority", required=True)
            assert user is not None and priority is not None
            out.append(BenchEntry(user, priority))
        return tuple(out)

    def mapping(self, name: str) -> dict[str, Any] | None:
        value = self._get(name, False)
        if value is None and name not in self.data:
            return None
        if not isinstance(value, dict):
            raise invalid(f"{name} must be an object.")
        return value

    def nullable_cursor(self, name: str = "cursor") -> str | None:
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid(f"{name} must be a string or null.", E.INVALID_CURSOR)
        if len(value) > 512:
            raise invalid(f"{name} is not a cursor this API issued.", E.INVALID_CURSOR)
        return value or None
