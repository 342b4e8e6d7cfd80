"""Retry timing shared by the adapters: the AWS SDK "standard" mode shape.

Up to ``max_attempts`` tries; before try n+1 wait rand(0, 1) * min(base * 2**(n-1), cap), or
the server's Retry-After when it gave one. Only retryable failures are retried.

A :class:`RetryQuota` (optional) is the standard mode's client-wide retry budget: every retry
spends tokens (more for timeouts), every success earns some back, so a service that is down
is not hammered by retries from many concurrent calls.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx

from lobby.core.errors import BackendError, Throttled, Unavailable

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base: float = 1.0
    cap: float = 20.0
    #: Upper bound on a server-requested wait; longer hints are refused rather than slept.
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base < 0 or self.cap < 0:
            raise ValueError("backoff base and cap must not be negative")

    def delay(self, attempt: int, error: BackendError | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if isinstance(error, Throttled) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_retry_after)
        return self.rng.random() * min(self.base * 2.0 ** (attempt - 1), self.cap)

    def should_retry(self, attempt: int, error: BackendError) -> bool:
        if attempt >= self.max_attempts or not error.retryable:
            return False
        if isinstance(error, Throttled) and error.retry_after is not None:
            return error.retry_after <= self.max_retry_after
        return True


class RetryQuota:
    """The standard mode's retry token bucket, shared by every call of one client.

    A retry costs ``retry_cost`` tokens (``timeout_cost`` after a timeout); when the bucket
    cannot pay, the failure is returned instead of retried. A call that succeeds on its first
    try adds ``success_increment``; one that succeeds after retries refunds what its last retry
    cost. Thread-safe.
    """

    def __init__(
        self,
        capacity: int = 500,
        *,
        retry_cost: int = 5,
        timeout_cost: int = 10,
        success_increment: int = 1,
    ) -> None:
        self.capacity = capacity
        self.retry_cost = retry_cost
        self.timeout_cost = timeout_cost
        self.success_increment = success_increment
        self._tokens = capacity
        self._lock = threading.Lock()

    @property
    def available(self) -> int:
        with self._lock:
            return self._tokens

    def acquire(self, error: BackendError) -> int | None:
        """Take the cost of retrying after ``error``; None when the budget is spent."""
        cost = self.timeout_cost if isinstance(error, Unavailable) and error.timeout else self.retry_cost
        with self._lock:
            if cost > self._tokens:
                return None
            self._tokens -= cost
            return cost

    def release(self, spent: int) -> None:
        """A call succeeded; ``spent`` is what its last retry cost (0 if it never retried)."""
        with self._lock:
            self._tokens = min(self.capacity, self._tokens + (spent or self.success_increment))


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    quota: RetryQuota | None = None,
) -> T:
    """Run ``call`` until it succeeds, fails with a non-retryable error, or attempts run out."""
    attempt = 1
    spent = 0
    while True:
        try:
            result = await call()
        except BackendError as error:
            if not policy.should_retry(attempt, error):
                raise
            if quota is not None:
                cost = quota.acquire(error)
                if cost is None:
                    raise
                spent = cost
            await sleep(policy.delay(attempt, error))
            attempt += 1
        else:
            if quota is not None:
                quota.release(spent)
            return result


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """The ``Retry-After`` hint in seconds (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
