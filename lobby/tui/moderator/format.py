"""How the moderator screens write statuses, durations, figures and sparklines."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from rich.cells import cell_len, set_cell_size

from lobby.tui import timefmt

#: Short words for statuses whose own name does not fit a column.
STATUS_LABELS = {
    "REQUIRES_ACCEPTANCE": "ACCEPTING",
}

#: A style class per status, for colour.
STATUS_TONE = {
    "QUEUED": "waiting",
    "SEARCHING": "waiting",
    "PENDING": "waiting",
    "REQUIRES_ACCEPTANCE": "accepting",
    "ACCEPTED": "placing",
    "READY": "placing",
    "PLACING": "placing",
    "IN_PROGRESS": "placing",
    "DISPUTED": "failed",
    "COMPLETED": "done",
    "CANCELLED": "failed",
    "TIMED_OUT": "failed",
    "FAILED": "failed",
    "FORFEITED": "failed",
}

#: The words of the header's status counts, in lifecycle order.
HEADER_WORDS = {
    "QUEUED": "queued",
    "SEARCHING": "searching",
    "PENDING": "open",
    "REQUIRES_ACCEPTANCE": "accepting",
    "ACCEPTED": "accepted",
    "READY": "ready",
    "PLACING": "placing",
    "IN_PROGRESS": "playing",
    "DISPUTED": "disputed",
    "COMPLETED": "completed",
    "CANCELLED": "cancelled",
    "TIMED_OUT": "timed out",
    "FAILED": "failed",
    "FORFEITED": "forfeited",
}

_BARS = "▁▂▃▄▅▆▇█"


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


#: Durations from this long on are written as :data:`FOREVER` (a deadline from a wild
#: ``acceptanceTimeout`` is still a deadline; a timedelta cannot hold one past 999,999,999 days).
LONGEST = 10_000 * 86_400.0
FOREVER = ">9999d"


def duration(seconds: float | None) -> str:
    """"0:42", "12:05", "1:02:03", "2d 04h", ">9999d"; "-" for None or not a number."""
    if seconds is None or math.isnan(seconds):
        return "-"
    if seconds >= LONGEST:
        return FOREVER
    return timefmt.countdown(timedelta(seconds=max(0.0, seconds)))


def _moment(epoch: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, OSError, ValueError):  # out of the calendar's range
        return None


def clock_time(epoch: float) -> str:
    """"12:00:05" (UTC); "-" for a time no calendar holds."""
    moment = _moment(epoch)
    return moment.strftime("%H:%M:%S") if moment else "-"


def day_time(epoch: float) -> str:
    """"2026-01-01 12:00:05 UTC"; "-" for a time no calendar holds."""
    moment = _moment(epoch)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def count(n: int) -> str:
    """1234 -> "1,234"."""
    return f"{n:,}"


def sparkline(values: tuple[int, ...] | list[int], width: int) -> str:
    """The last ``width`` values as block characters scaled to the largest; "" when empty."""
    if width <= 0 or not values:
        return ""
    tail = list(values)[-width:]
    top = max(tail)
    if top <= 0:
        return _BARS[0] * len(tail)
    last = len(_BARS) - 1
    return "".join(_BARS[min(last, round(v / top * last))] for v in tail)


def fit(text: str, width: int) -> str:
    """``text`` cut (with "…") or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    if text.isascii():
        if len(text) > width:
            return text[: width - 1] + "…"
        return text.ljust(width)
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


def fit_right(text: str, width: int) -> str:
    """Like :func:`fit`, aligned right."""
    if text.isascii():
        return text.rjust(width) if len(text) < width else fit(text, width)
    cells = cell_len(text)
    return " " * (width - cells) + text if cells < width else fit(text, width)
