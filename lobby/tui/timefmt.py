"""How lobby writes durations and moments for people."""

from __future__ import annotations

from datetime import timedelta


def countdown(left: timedelta | None) -> str:
    """"0:42", "12:05", "1:02:03", "2d 04h"; "-" when there is no deadline."""
    if left is None:
        return "-"
    total = max(0, int(left.total_seconds()))  # floor: never show time that is not there
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def urgency(left: timedelta | None) -> str:
    """A style name for a countdown: "expired", "urgent" (under 15 s), "soon" (under 1 min)."""
    if left is None:
        return "none"
    seconds = left.total_seconds()
    if seconds <= 0:
        return "expired"
    if seconds < 15:
        return "urgent"
    if seconds < 60:
        return "soon"
    return "calm"
