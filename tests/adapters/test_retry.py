"""The shared retry policy: AWS standard-mode timing, retryable errors only, the retry quota."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lobby.core.errors import InvalidRequest, NotFound, Throttled, Unavailable
from lobby.net.retry import RetryPolicy, RetryQuota, with_retries


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def failing(*errors: Exception, result: object = "ok"):
    """A call that raises ``errors`` in turn, then returns ``result``."""
    queue = list(errors)
    calls = []

    async def call():
        calls.append(1)
        if queue:
            raise queue.pop(0)
        return result

    call.calls = calls  # type: ignore[attr-defined]
    return call


@given(attempt=st.integers(min_value=1, max_value=12), seed=st.integers(0, 2**32))
def test_delay_is_jittered_below_the_capped_exponential(attempt, seed):
    policy = RetryPolicy(rng=random.Random(seed))
    delay = policy.delay(attempt)
    assert 0 <= delay <= min(2 ** (attempt - 1), 20)


def test_delay_uses_the_random_draw_times_the_bound():
    class Fixed(random.Random):
        def random(self) -> float:
            return 0.5

    policy = RetryPolicy(rng=Fixed())
    assert [policy.delay(n) for n in (1, 2, 3, 5, 6, 9)] == [0.5, 1.0, 2.0, 8.0, 10.0, 10.0]


def test_retry_after_is_honoured_and_bounded():
    policy = RetryPolicy(max_retry_after=30)
    assert policy.delay(1, Throttled("slow down", retry_after=7)) == 7
    assert policy.should_retry(1, Throttled("slow down", retry_after=7))
    assert not policy.should_retry(1, Throttled("slow down", retry_after=120))


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


async def test_retryable_errors_are_retried_up_to_three_attempts():
    sleeps = Sleeps()
    call = failing(Unavailable("down"), Throttled("slow"))
    assert await with_retries(call, RetryPolicy(), sleep=sleeps) == "ok"
    assert len(call.calls) == 3 and len(sleeps.calls) == 2

    call = failing(Unavailable("down"), Unavailable("down"), Unavailable("still down"))
    with pytest.raises(Unavailable, match="still down"):
        await with_retries(call, RetryPolicy(), sleep=sleeps)
    assert len(call.calls) == 3


@pytest.mark.parametrize("error", [InvalidRequest("no"), NotFound("gone")])
async def test_other_errors_are_not_retried(error):
    sleeps = Sleeps()
    call = failing(error)
    with pytest.raises(type(error)):
        await with_retries(call, RetryPolicy(), sleep=sleeps)
    assert len(call.calls) == 1 and sleeps.calls == []


async def test_quota_charges_retries_refunds_successes_and_stops_retries_when_spent():
    quota = RetryQuota(capacity=12, retry_cost=5, timeout_cost=10)
    sleeps = Sleeps()
    # One retry after a timeout costs 10; success after a retry refunds it.
    assert await with_retries(failing(Unavailable("slow", timeout=True)), RetryPolicy(), sleep=sleeps, quota=quota) == "ok"
    assert quota.available == 12
    # A first-try success earns one token, never above capacity.
    await with_retries(failing(), RetryPolicy(), sleep=sleeps, quota=quota)
    assert quota.available == 12
    # Spend the budget: 12 -> 7 -> 2; the third failure cannot be paid for and is returned.
    assert quota.acquire(Unavailable("x")) == 5
    assert quota.acquire(Unavailable("x")) == 5
    call = failing(Unavailable("down"))
    with pytest.raises(Unavailable):
        await with_retries(call, RetryPolicy(), sleep=sleeps, quota=quota)
    assert len(call.calls) == 1
