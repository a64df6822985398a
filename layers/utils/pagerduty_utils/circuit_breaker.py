"""Stop calling PagerDuty while it fails: Powertools' circuit breaker, with a sync and an async face.

The state machine, the DynamoDB persistence, the few-seconds container cache and the half-open probe lease
(one probe at a time across every process) are Powertools' (``utilities.circuit_breaker``). This module adds:

- the state table layout (``pk``/``expiration``, circuit ``circuit#<host>`` from ``state_table.circuit_key``);
- one circuit per PagerDuty *host*: 5xx, timeouts and network errors are host-wide, so one circuit per host
  stops every routing key at once, while per-key 429s are the rate limiter's business and never trip it;
- ``CircuitOpenError`` (a ``RetryableError`` carrying when to retry) instead of Powertools' exception;
- ``call_async``: Powertools' breaker is synchronous, so the async face runs it on a worker thread whose
  protected function waits for the coroutine on the caller's event loop. Every decision (count, trip, elect
  the prober, close) stays in Powertools; calls still run concurrently, one worker thread per call in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.utilities.circuit_breaker import (
    CircuitBreakerConfig,
    CircuitBreakerOpenError,
    CircuitState,
    CircuitTransition,
    circuit_breaker,
)
from aws_lambda_powertools.utilities.circuit_breaker.persistence import CircuitBreakerPersistenceLayer

from pagerduty_utils.exceptions import RetryableError
from pagerduty_utils.observability import logger

T = TypeVar("T")


class CircuitOpenError(RetryableError):
    """The circuit is open (or another process is probing): the call was not made."""


class Circuit:
    """One named circuit: ``circuit.call(fn)``, ``await circuit.call_async(coro_fn)``, ``circuit.open_for()``."""

    def __init__(
        self,
        name: str,
        persistence: CircuitBreakerPersistenceLayer,
        *,
        failure_types: tuple[type[Exception], ...],
        failure_threshold: int,
        recovery_seconds: int,
        cache_seconds: int = 5,
        max_workers: int = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        # One successful probe closes the circuit: the async face runs calls on pooled threads, and Powertools
        # counts probe successes per thread, so a higher threshold could strand the circuit half-open.
        self._config = CircuitBreakerConfig(
            failure_threshold=failure_threshold,
            recovery_timeout=recovery_seconds,
            success_threshold=1,
            handled_exceptions=failure_types,
            local_cache_max_age=cache_seconds,
        )
        self._persistence = persistence
        self._persistence.configure(config=self._config, circuit_name=name)
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._clock = clock

    def open_for(self) -> float | None:
        """Seconds until the open circuit allows a probe, or None when calls may go (closed, probing due)."""
        record = self._persistence.get_state(self.name)
        if record.state != CircuitState.OPEN:
            return None
        return self._seconds_until_probe(record.opened_at)

    def call(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` through the circuit; raise ``CircuitOpenError`` without running it when open."""
        guarded = circuit_breaker(
            name=self.name,
            persistence_store=self._persistence,
            config=self._config,
            on_transition=_log_transition,
        )(operation)
        try:
            result: T = guarded()
        except CircuitBreakerOpenError as exc:
            opened_at = exc.circuit.opened_at if exc.circuit else None
            wait = self._seconds_until_probe(opened_at) or 1.0
            raise CircuitOpenError(f"circuit {self.name} is open", retry_after=wait) from None
        return result

    async def call_async(self, operation: Callable[[], Awaitable[T]]) -> T:
        """The async face: the coroutine runs on the caller's loop, the breaker's bookkeeping on a worker."""
        loop = asyncio.get_running_loop()

        def run_on_loop() -> T:
            return asyncio.run_coroutine_threadsafe(_awaited(operation), loop).result()

        return await loop.run_in_executor(self._workers(), self.call, run_on_loop)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    def _workers(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="circuit")
        return self._executor

    def _seconds_until_probe(self, opened_at: int | None) -> float:
        if opened_at is None:
            return 0.0
        return max(0.0, opened_at + self._config.recovery_timeout - self._clock())


async def _awaited(operation: Callable[[], Awaitable[T]]) -> T:
    return await operation()


def _log_transition(transition: CircuitTransition) -> None:
    logger.warning(
        "circuit state changed",
        extra={
            "circuit": transition.circuit_name,
            "from_state": str(transition.from_state),
            "to_state": str(transition.to_state),
        },
    )


# The utils README imports its decorator from here: ``from pagerduty_utils.circuit_breaker import CircuitBreaker``.
# It is built on ``Circuit`` in its own module and loaded on first use (PEP 562), so importing this module for
# ``Circuit`` alone costs nothing more. Type checkers see the import; the interpreter runs ``__getattr__``.
if TYPE_CHECKING:
    from pagerduty_utils.circuit_breaker_decorator import CircuitBreaker as CircuitBreaker  # noqa: PLC0414  # re-export
else:

    def __getattr__(name: str) -> Any:
        if name == "CircuitBreaker":
            from pagerduty_utils.circuit_breaker_decorator import CircuitBreaker  # noqa: PLC0415  # see above

            return CircuitBreaker
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
