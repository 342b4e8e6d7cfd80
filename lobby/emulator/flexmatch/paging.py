"""``NextToken``: the offset into a listing, tied to the kind of listing it came from."""

from __future__ import annotations

import base64
import binascii
import json

from lobby.emulator.flexmatch.errors import InvalidRequestException

#: The most items a Describe* answer holds.
MAX_PAGE = 10


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
