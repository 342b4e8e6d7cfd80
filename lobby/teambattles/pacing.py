"""Pacing polls by what the service says about its rate limit.

Every TeamBattles answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (seconds until the window resets, not a timestamp). :class:`RateLimitPacer`
remembers the latest values; before each poll, :meth:`RateLimitPacer.before_poll` waits until the
reset when few requests remain, so background polling never spends the budget a person's own
submission needs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimitState:
    limit: int | None
    remaining: int | None
    #: Monotonic time at which the window resets.
    reset_at: float | None


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number >= 0 else None


class RateLimitPacer:
    """Tracks the rate-limit headers and spaces out background polls.

    ``reserve`` is how many requests to keep for the person at the keyboard: when
    ``remaining`` falls to ``max(reserve, reserve_ratio * limit)`` or below, the next poll waits
    for the reset.
    """

    def __init__(
        self,
        *,
        reserve: int = 5,
        reserve_ratio: float = 0.1,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_wait: float = 3600.0,
    ) -> None:
        self.reserve = reserve
        self.reserve_ratio = reserve_ratio
        self._monotonic = monotonic
        self._sleep = sleep
        self.max_wait = max_wait
        self.state = RateLimitState(None, None, None)
        #: Seconds waited because of the limit, in order (for people and tests).
        self.waits: list[float] = []

    def observe(self, headers: Mapping[str, str]) -> None:
        """Remember the limit headers of an answer (absent headers keep the last values)."""
        limit = _number(headers, "x-ratelimit-limit")
        remaining = _number(headers, "x-ratelimit-remaining")
        reset = _number(headers, "x-ratelimit-reset")
        if limit is None and remaining is None and reset is None:
            return
        old = self.state
        self.state = RateLimitState(
            int(limit) if limit is not None else old.limit,
            int(remaining) if remaining is not None else old.remaining,
            self._monotonic() + reset if reset is not None else old.reset_at,
        )

    def observe_retry_after(self, seconds: float) -> None:
        """A 429 said to wait ``seconds``: nothing remains until then."""
        self.state = RateLimitState(self.state.limit, 0, self._monotonic() + max(0.0, seconds))

    @property
    def low_water(self) -> int:
        limit = self.state.limit
        ratio = int(limit * self.reserve_ratio) if limit else 0
        return max(self.reserve, ratio)

    def wait_needed(self) -> float:
        """Seconds the next poll should wait (0 when the budget allows it now)."""
        s = self.state
        if s.remaining is None or s.reset_at is None or s.remaining > self.low_water:
            return 0.0
        return min(max(0.0, s.reset_at - self._monotonic()), self.max_wait)

    async def before_poll(self) -> float:
        """Wait, if the budget is low, until the window resets; returns the seconds waited."""
        wait = self.wait_needed()
        if wait > 0:
            self.waits.append(wait)
            await self._sleep(wait)
            # The window has reset: the old numbers no longer say anything.
            self.state = RateLimitState(self.state.limit, None, None)
        return wait
