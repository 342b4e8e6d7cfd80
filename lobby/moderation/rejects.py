"""Messages a moderator's feed could not read: counted and listed, never fatal.

Any carrier can hand over something that is not an event: text that is not JSON, JSON nested
deeper than the parser goes, a number too large for a float, a body far larger than any event,
fields missing or of the wrong kind. :func:`read_event` turns every such failure into a
:class:`Rejected` entry of the feed's :class:`RejectLog` (the message's id and the reason in a
few words) and returns None, so the feed goes on with the next message.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from lobby.moderation.events import ModEvent, unwrap

#: A body larger than this is not read: an event is a few KiB (SQS allows up to 1 MiB).
MAX_BODY = 256 << 10
#: The largest magnitude a number of an event may have: far beyond any time, count or timeout
#: (1e14 s is three million years), well inside what a float and a date can hold.
MAX_NUMBER = 1e15
#: Rejected messages kept for the list (the counts cover every one).
KEEP = 500


@dataclass(frozen=True, slots=True)
class Rejected:
    """One message that was not applied."""

    #: The carrier's id for it (the SQS message id, the SSE id, the line of a recording).
    id: str
    reason: str
    #: When this console saw it, epoch seconds.
    seen: float


class RejectLog:
    """Counts of rejected messages by reason, and the latest :data:`KEEP` of them."""

    def __init__(self, keep: int = KEEP) -> None:
        self.count = 0
        self.reasons: Counter[str] = Counter()
        self.latest: deque[Rejected] = deque(maxlen=keep)
        #: Things worth saying once about the feed ("the queue has no redrive policy").
        self.notes: list[str] = []

    def __len__(self) -> int:
        return self.count

    def add(self, message_id: str, reason: str) -> Rejected:
        entry = Rejected(id=message_id, reason=reason, seen=time.time())
        self.count += 1
        self.reasons[reason.split(":", 1)[0]] += 1
        self.latest.append(entry)
        return entry

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def why_unreadable(exc: BaseException) -> str:
    """A few words for a failure to read or apply a message."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, OverflowError):
        return "a number out of range"
    if isinstance(exc, MemoryError):
        return "too large to read"
    if isinstance(exc, UnicodeError):
        return "not valid text"
    return f"unreadable ({type(exc).__name__})"


def read_event(
    payload: Any,
    *,
    message_id: str,
    rejects: RejectLog,
    fallback_id: str | None = None,
    received: float = 0.0,
    region: str | None = None,
) -> ModEvent | None:
    """The event in ``payload``, or None after recording why there is none (``region``: the
    feed's, for an event that names none).

    Text is decoded with every number checked as it is read (:func:`checked_loads`), so the
    events of a busy feed are not walked again; only a message that holds a number out of
    range, or one given already decoded, is walked to name where that number is."""
    text = isinstance(payload, (str, bytes))
    if text and len(payload) > MAX_BODY:
        rejects.add(message_id, f"too large ({len(payload):,} bytes)")
        return None
    try:
        checked = False
        if text:
            try:
                try:
                    payload, checked = checked_loads(payload), True
                except _Wild:
                    payload = json.loads(payload)
            except ValueError:
                rejects.add(message_id, "not JSON")
                return None
        try:
            event = unwrap(
                payload,
                fallback_id=fallback_id,
                received=received,
                region=region,
                loads=checked_loads if checked else json.loads,
            )
        except _Wild:  # in the text of an SNS message: read it again to find where
            event = unwrap(payload, fallback_id=fallback_id, received=received, region=region)
            checked = False
        wild = _out_of_range(event.body) if event is not None and not checked else None
    except Exception as exc:  # noqa: BLE001 - whatever a message does, the feed goes on
        rejects.add(message_id, why_unreadable(exc))
        return None
    if event is None:
        rejects.add(message_id, "not an event (missing or wrong fields)")
        return None
    if wild is not None:
        rejects.add(message_id, f"a number out of range ({wild})")
        return None
    return event


class _Wild(Exception):  # noqa: N818 - not an error of the caller's: a signal to look closer
    """A number no event field can hold, met while decoding."""


def _checked_int(text: str) -> int:
    value = int(text)
    if len(text) > 15 and not -MAX_NUMBER <= value <= MAX_NUMBER:
        raise _Wild
    return value


def _checked_float(text: str) -> float:
    value = float(text)
    if not -MAX_NUMBER <= value <= MAX_NUMBER:  # NaN compares false
        raise _Wild
    return value


def _no_constant(text: str) -> float:
    raise _Wild  # NaN, Infinity, -Infinity


_CHECKING = json.JSONDecoder(parse_int=_checked_int, parse_float=_checked_float, parse_constant=_no_constant)


def checked_loads(text: str | bytes) -> Any:
    """``json.loads``, except that a number beyond :data:`MAX_NUMBER` (or not finite) raises
    :class:`_Wild` as soon as it is read (an integer of 15 digits or fewer never is)."""
    if isinstance(text, bytes):
        return json.loads(text, parse_int=_checked_int, parse_float=_checked_float, parse_constant=_no_constant)
    if text.startswith("\ufeff"):  # as json.loads: a byte-order mark is not JSON
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _CHECKING.decode(text)


def _wild(value: Any) -> bool:
    """Whether ``value`` holds a number no event field can hold (not finite, or beyond
    :data:`MAX_NUMBER`). Every event is looked through, so this walk builds nothing."""
    kind = type(value)
    if kind is float:
        return not -MAX_NUMBER <= value <= MAX_NUMBER  # NaN compares false
    if kind is int:
        return bool(value > MAX_NUMBER or value < -MAX_NUMBER)
    if kind is dict:
        values: Any = value.values()
    elif kind is list:
        values = value
    else:
        return False
    for item in values:
        if _wild(item):
            return True
    return False


def _out_of_range(body: Any, path: str = "detail") -> str | None:
    """The path of the first number no event field can hold (not finite, or beyond
    :data:`MAX_NUMBER`), else None."""
    return _path_of_wild(body, path) if _wild(body) else None


def _path_of_wild(body: Any, path: str) -> str | None:
    if isinstance(body, bool):
        return None
    if isinstance(body, float):
        return path if not math.isfinite(body) or abs(body) > MAX_NUMBER else None
    if isinstance(body, int):
        return path if abs(body) > MAX_NUMBER else None
    if isinstance(body, dict):
        for key, value in body.items():
            found = _path_of_wild(value, f"{path}.{key}")
            if found is not None:
                return found
    elif isinstance(body, list):
        for index, value in enumerate(body):
            found = _path_of_wild(value, f"{path}[{index}]")
            if found is not None:
                return found
    return None
