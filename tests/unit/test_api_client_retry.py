"""The retry policy's decisions, with a fake clock: no test sleeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest

from pagerduty_utils.api_client import (
    AuthenticationError,
    DeadlineExceededError,
    InvalidEventError,
    NotFoundError,
    PagerDutyAPIError,
    PagerDutyUnavailableError,
    RateLimitedError,
    RetryPolicy,
    deadline_from_context,
)
from pagerduty_utils.api_client.responses import retry_after_seconds


@dataclass
class FakeClock:
    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def policy(clock: FakeClock, **options: float) -> RetryPolicy:
    settings = {"max_attempts": 4, "base_delay": 1.0, "max_delay": 8.0, **options}
    return RetryPolicy(
        max_attempts=int(settings["max_attempts"]),
        base_delay=settings["base_delay"],
        max_delay=settings["max_delay"],
        random_source=lambda: 0.5,
        clock=clock,
        sleep=clock.sleep,
    )


def test_full_jitter_backoff_grows_and_is_capped(clock: FakeClock) -> None:
    retry = policy(clock)
    assert [retry.backoff(attempt) for attempt in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert RetryPolicy(random_source=lambda: 0.0).backoff(3) == 0.0


@pytest.mark.parametrize(
    "error",
    [
        RateLimitedError("throttled", status=429),
        PagerDutyUnavailableError("bad gateway", status=502),
        PagerDutyUnavailableError("timeout"),
    ],
)
def test_retryable_errors_wait_the_backoff(clock: FakeClock, error: PagerDutyAPIError) -> None:
    assert policy(clock).delay_before_retry(error, 2, None) == 1.0


@pytest.mark.parametrize(
    "error",
    [
        InvalidEventError("bad", status=400),
        AuthenticationError("who", status=401),
        AuthenticationError("no", status=403),
        NotFoundError("gone", status=404),
    ],
)
def test_client_errors_are_never_retried(clock: FakeClock, error: PagerDutyAPIError) -> None:
    with pytest.raises(type(error)):
        policy(clock).delay_before_retry(error, 1, None)


def test_server_requested_wait_is_honored(clock: FakeClock) -> None:
    assert policy(clock).delay_before_retry(RateLimitedError("slow down", retry_after=3.0), 1, None) == 3.0


def test_wait_longer_than_max_delay_hands_the_error_back(clock: FakeClock) -> None:
    error = RateLimitedError("slow down", retry_after=20.0)
    with pytest.raises(RateLimitedError) as raised:
        policy(clock).delay_before_retry(error, 1, None)
    assert raised.value.retry_after == 20.0


def test_last_attempt_stops_with_retry_after_set(clock: FakeClock) -> None:
    with pytest.raises(PagerDutyUnavailableError) as raised:
        policy(clock).delay_before_retry(PagerDutyUnavailableError("down", status=503), 4, None)
    assert raised.value.retry_after == 4.0


def test_wait_that_would_cross_the_deadline_is_not_taken(clock: FakeClock) -> None:
    retry = policy(clock)
    with pytest.raises(PagerDutyUnavailableError):
        retry.delay_before_retry(PagerDutyUnavailableError("down"), 3, deadline=clock.now + 2.0)
    assert retry.delay_before_retry(PagerDutyUnavailableError("down"), 3, deadline=clock.now + 2.5) == 2.0


def test_no_attempt_starts_without_time_left(clock: FakeClock) -> None:
    retry = policy(clock)
    assert retry.time_left(clock.now + 5) == 5
    assert retry.time_left(None) is None
    with pytest.raises(DeadlineExceededError) as raised:
        retry.time_left(clock.now + 0.1)
    assert raised.value.retryable


def test_deadline_from_lambda_context_keeps_a_safety_margin(clock: FakeClock) -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 30_000

    assert deadline_from_context(Context(), safety_margin=2.0, clock=clock) == clock.now + 28.0


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="base_delay"):
        RetryPolicy(base_delay=5, max_delay=1)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"ratelimit-reset": "20"}, 20.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_rate_limit_headers(headers: dict[str, str], expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert retry_after_seconds(httpx.Headers(headers), now) == expected
