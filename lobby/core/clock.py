"""The one source of "now" for every part of lobby.

Everything that reads the time takes a :class:`Clock`. Countdowns are always computed as
``deadline - clock.now()``; nothing decrements a counter. Tests use :class:`FrozenClock`.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """A source of wall-clock time, always timezone-aware UTC."""

    def now(self) -> datetime: ...

    def timestamp(self) -> float:
        """Seconds since the epoch, as a float."""
        ...


class SystemClock:
    """The machine's clock, optionally shifted by a fixed skew (server time minus local time)."""

    def __init__(self, skew: float = 0.0) -> None:
        self.skew = skew

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def timestamp(self) -> float:
        return time.time() + self.skew

    def __repr__(self) -> str:
        return f"SystemClock(skew={self.skew:+.3f})"


class FrozenClock:
    """A clock that only moves when told to. Thread-safe, so a server thread can share it."""

    def __init__(self, start: datetime | float = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)) -> None:
        if isinstance(start, datetime):
            if start.tzinfo is None:
                raise ValueError("FrozenClock needs a timezone-aware start")
            start = start.timestamp()
        self._t = float(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def timestamp(self) -> float:
        with self._lock:
            return self._t

    def advance(self, seconds: float | timedelta) -> None:
        if isinstance(seconds, timedelta):
            seconds = seconds.total_seconds()
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        with self._lock:
            self._t += seconds

    def set(self, when: datetime | float) -> None:
        if isinstance(when, datetime):
            when = when.timestamp()
        with self._lock:
            self._t = float(when)

    def __repr__(self) -> str:
        return f"FrozenClock({self.now().isoformat()})"


class OffsetClock:
    """The system clock plus an offset that can only grow: real time that tests can fast-forward.

    The emulator uses it when started with time travel enabled, so a test can skip a
    60-second acceptance window without waiting for it.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def timestamp(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        with self._lock:
            self._offset += seconds

    def __repr__(self) -> str:
        return f"OffsetClock(offset={self.offset:+.3f})"


def remaining(deadline: datetime, clock: Clock) -> timedelta:
    """Time left until ``deadline``, never negative."""
    left = deadline - clock.now()
    return left if left > timedelta(0) else timedelta(0)


def skew_from_server_date(server_date: datetime, local_now: datetime) -> float:
    """Seconds to add to the local clock to read the server's time (from an HTTP Date header)."""
    return (server_date - local_now).total_seconds()
