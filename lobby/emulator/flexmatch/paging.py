"""``NextToken``: the offset into a listing, tied to the kind of listing it came from."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from lobby.emulator.flexmatch.errors import InvalidRequestException

#: The most items a Describe* answer holds.
MAX_PAGE = 10

T = TypeVar("T")


def make_token(offset: int, kind: str) -> str:
    raw = json.dumps({"k": kind, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(token: str | None, kind: str) -> int:
    if token is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = data["o"]
        if data["k"] != kind or type(offset) is not int or offset < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidRequestException(
            "NextToken is not a token returned by an earlier call of this operation."
        ) from None
    return offset


def page_of(
    items: Sequence[T], offset: int, limit: int, kind: str, member: str, render: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    """The answer listing ``items[offset:offset + limit]`` under ``member``, with the
    ``NextToken`` of the rest if there is more."""
    out: dict[str, Any] = {member: [render(item) for item in items[offset : offset + limit]]}
    if offset + limit < len(items):
        out["NextToken"] = make_token(offset + limit, kind)
    return out
