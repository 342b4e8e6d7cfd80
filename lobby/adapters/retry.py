"""Retry timing shared by the adapters: the AWS SDK "standard" mode shape.

Up to ``max_attempts`` tries; before try n+1 wait rand(0, 1) * min(base * 2**(n-1), cap), or
the server's Retry-After when it gave one. Only retryable failures are retried.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from lobby.adapters.errors import BackendError, Throttled

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base: float = 1.0
    cap: float = 20.0
    #: Upper bound on a server-requested wait; longer hints are refused rather than slept.
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, error: BackendError | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if isinstance(error, Throttled) and error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_retry_after)
        return self.rng.random() * min(self.base * 2 ** (attempt - 1), self.cap)

    def should_retry(self, attempt: int, error: BackendError) -> bool:
        if attempt >= self.max_attempts or not error.retryable:
            return False
        if isinstance(error, Throttled) and error.retry_after is not None:
            return error.retry_after <= self.max_retry_after
        return True


async def with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Run ``call`` until it succeeds, fails with a non-retryable error, or attempts run out."""
    attempt = 1
    while True:
        try:
            return await call()
        except BackendError as error:
            if not policy.should_retry(attempt, error):
                raise
            await sleep(policy.delay(attempt, error))
            attempt += 1
