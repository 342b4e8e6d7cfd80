from datetime import UTC, datetime, timedelta

import pytest

from lobby.core.clock import FrozenClock, OffsetClock, SystemClock, remaining


def test_frozen_clock_moves_only_when_told():
    clock = FrozenClock(datetime(2026, 5, 1, tzinfo=UTC))
    before = clock.now()
    assert clock.now() == before
    clock.advance(1.5)
    assert clock.now() - before == timedelta(seconds=1.5)
    clock.advance(timedelta(minutes=1))
    assert clock.now() - before == timedelta(seconds=61.5)


def test_frozen_clock_refuses_to_run_backwards_and_naive_times():
    clock = FrozenClock()
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        FrozenClock(datetime(2026, 1, 1))


def test_remaining_is_deadline_minus_now_and_never_negative():
    clock = FrozenClock(datetime(2026, 5, 1, tzinfo=UTC))
    deadline = clock.now() + timedelta(seconds=30)
    assert remaining(deadline, clock) == timedelta(seconds=30)
    clock.advance(29)
    assert remaining(deadline, clock) == timedelta(seconds=1)
    clock.advance(5)
    assert remaining(deadline, clock) == timedelta(0)


def test_offset_clock_runs_with_real_time_plus_offset():
    clock = OffsetClock()
    base = SystemClock().timestamp()
    clock.advance(3600)
    assert clock.timestamp() - base == pytest.approx(3600, abs=5)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_system_clock_applies_skew():
    assert SystemClock(skew=120).timestamp() - SystemClock().timestamp() == pytest.approx(120, abs=1)
    assert SystemClock().now().tzinfo is UTC
