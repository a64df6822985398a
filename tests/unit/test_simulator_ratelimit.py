"""The sliding-window budget the simulator applies per routing key and per REST token."""

from __future__ import annotations

from pdutils.simulator.ratelimit import SlidingWindowLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allows_the_limit_then_refuses_without_counting_refusals() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=3, clock=clock)

    decisions = [limiter.check("key") for _ in range(5)]

    assert [decision.allowed for decision in decisions] == [True, True, True, False, False]
    assert [decision.remaining for decision in decisions] == [2, 1, 0, 0, 0]
    assert decisions[-1].headers() == {"ratelimit-limit": "3", "ratelimit-remaining": "0", "ratelimit-reset": "60"}


def test_budget_returns_as_the_window_slides() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=2, clock=clock)
    limiter.check("key")
    clock.now += 30
    limiter.check("key")

    assert not limiter.check("key").allowed
    assert limiter.check("key").reset_seconds == 30
    clock.now += 30
    assert limiter.check("key").allowed


def test_keys_have_separate_budgets_and_reset_forgets_them() -> None:
    limiter = SlidingWindowLimiter(limit=1, clock=FakeClock())
    limiter.check("first")

    assert limiter.check("second").allowed
    assert not limiter.check("first").allowed
    limiter.reset()
    assert limiter.check("first").allowed
