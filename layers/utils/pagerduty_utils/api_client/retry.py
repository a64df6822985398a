"""A retry policy built for Lambda: bounded by attempts and by the invocation's deadline.

What is retried: 429, 408, 5xx, timeouts and network errors (``PagerDutyAPIError.retryable``). Never 400,
401, 403 or 404; and for a write PagerDuty does not deduplicate (a note, an incident without ``incident_key``)
nothing that may have reached PagerDuty: only a 429 or a connection never made (see ``transport.CallContext``).
Between attempts the policy waits what PagerDuty asked for (``ratelimit-reset`` or ``Retry-After``) or a
capped full-jitter backoff (``uniform(0, min(max_delay, base_delay * 2**n))``).
When PagerDuty asks for a longer wait than ``max_delay``, or when the wait plus another attempt would not fit
before the deadline, the policy stops at once and the caller gets the retryable error with ``retry_after``
set: in Lambda it is cheaper to hand the work back to its queue than to sleep through the invocation.

The deadline is an absolute ``time.monotonic()`` value; ``deadline_from_context`` derives it from a Lambda
context. The random source, the clock and both sleep functions are injectable so tests are deterministic and
never sleep.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from pagerduty_utils.api_client.errors import DeadlineExceededError, PagerDutyAPIError

DEFAULT_SAFETY_MARGIN_SECONDS = 1.0


class LambdaContextLike(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def deadline_from_context(
    context: LambdaContextLike,
    *,
    safety_margin: float = DEFAULT_SAFETY_MARGIN_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> float:
    """The monotonic time by which a PagerDuty call must have returned so the handler can still answer.

    ``safety_margin`` is the time the handler needs after the call (report failures, flush metrics).
    """
    return clock() + context.get_remaining_time_in_millis() / 1000 - safety_margin


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, how long to wait between them, and the time sources used to do it."""

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    minimum_attempt_seconds: float = 0.25
    """An attempt is not started with less time than this left before the deadline."""
    random_source: Callable[[], float] = field(default=random.random, repr=False)  # jitter, not crypto
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    async_sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("need 0 <= base_delay <= max_delay")

    def backoff(self, attempt: int) -> float:
        """Full-jitter delay after failed attempt number ``attempt`` (1-based)."""
        return self.random_source() * min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))

    def time_left(self, deadline: float | None) -> float | None:
        """Seconds an attempt may take, or None without a deadline; raises when too little is left."""
        if deadline is None:
            return None
        remaining = deadline - self.clock()
        if remaining < self.minimum_attempt_seconds:
            raise DeadlineExceededError(
                f"no time left before the deadline ({max(remaining, 0.0):.3f}s)", retry_after=self.base_delay
            )
        return remaining

    def delay_before_retry(self, error: PagerDutyAPIError, attempt: int, deadline: float | None) -> float:
        """The wait before the next attempt, or raises ``error`` (with ``retry_after`` set) to stop here."""
        if not error.retryable:
            raise error
        delay = error.retry_after if error.retry_after is not None else self.backoff(attempt)
        error.retry_after = delay
        if attempt >= self.max_attempts or delay > self.max_delay:
            raise error
        if deadline is not None and self.clock() + delay + self.minimum_attempt_seconds > deadline:
            raise error
        return delay
