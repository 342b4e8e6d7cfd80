"""Token buckets: one per API key (sized by its plan) and one per client address.

Every answer carries X-RateLimit-Limit (the burst), X-RateLimit-Remaining (whole tokens left)
and X-RateLimit-Reset (seconds until the bucket is full again: the conservative bound the service
publishes); a 429 adds Retry-After with the same value, as the service's rate-limit page says. Buckets live in memory: a restarted emulator starts them full.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from lobby.emulator.teambattles.scenario import Bucket, RateLimits


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int

    def headers(self) -> dict[str, str]:
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = out["X-RateLimit-Reset"]
        return out


class _TokenBucket:
    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, spec: Bucket, now: float) -> None:
        self.capacity = float(spec.burst)
        self.rate = float(spec.per_second)
        self.tokens = self.capacity
        self.updated = now

    def take(self, now: float) -> Decision:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
        allowed = self.tokens >= 1.0
        if allowed:
            self.tokens -= 1.0
        reset = max(0, math.ceil((self.capacity - self.tokens) / self.rate))
        return Decision(
            allowed=allowed,
            limit=int(self.capacity),
            remaining=int(math.floor(self.tokens)),
            reset=reset if allowed else max(1, reset),
        )


class RateLimiter:
    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._buckets: dict[tuple[str, str], _TokenBucket] = {}
        self._lock = threading.Lock()

    def _take(self, kind: str, ident: str, spec: Bucket, now: float) -> Decision:
        with self._lock:
            bucket = self._buckets.get((kind, ident))
            if bucket is None:
                if len(self._buckets) > 10_000:
                    self._prune(now)
                bucket = self._buckets[(kind, ident)] = _TokenBucket(spec, now)
            return bucket.take(now)

    def _prune(self, now: float) -> None:
        for ident, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * bucket.rate >= bucket.capacity:
                del self._buckets[ident]

    def take_ip(self, address: str, now: float) -> Decision:
        return self._take("ip", address, self.limits.ip, now)


    def take_key(self, key_hash: str, plan: str, now: float) -> Decision:
        spec = {"free": self.limits.free, "pro": self.limits.pro}.get(plan, self.limits.studio)
        return self._take("key", key_hash, spec, now)
