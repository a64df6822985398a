"""Stop calling PagerDuty while it fails: Powertools' circuit breaker, with a sync and an async face.

The state machine, the DynamoDB persistence, the container cache and the half-open probe election (one probe
at a time across every process) are Powertools' (``utilities.circuit_breaker``). This module adds:

- the state table layout (``pk``/``expiration``, circuit ``circuit#<host>`` from ``state_table.circuit_key``);
- one circuit per PagerDuty *host*: 5xx, timeouts and network errors are host-wide, so one circuit per host
  stops every routing key at once, while per-key 429s are the rate limiter's business and never trip it;
- ``SharedCircuitStore``, what a fleet of containers needs on top of Powertools' DynamoDB persistence:
  failures counted in the table (Powertools counts them per container, so ten containers could each see four
  failures of a threshold of five and never open), a probe lease that outlives the probe's own timeout, and a
  container cache whose expiry is jittered and read through once (no burst of reads when every container's
  cache expires at the same moment, none when ten threads of one container miss it together);
- ``CircuitOpenError`` (a ``RetryableError`` carrying when to retry) instead of Powertools' exception;
- ``call_async``: while the container's cached state (fresh, no read needed) says closed, the call runs on the
  caller's event loop, as Powertools would run it, and only a table write its outcome needs (a failure to
  count, a count to reset) goes to a thread. Otherwise (no fresh state, open, half-open) Powertools' breaker,
  which is synchronous, decides on a worker thread whose protected function waits for the coroutine on the
  loop: electing the prober, probing, closing and reopening stay in Powertools. A healthy send thus costs no
  thread hand-offs, which matter most where the CPU is scarce (a small Lambda function, a busy container).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
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
from aws_lambda_powertools.utilities.circuit_breaker.persistence import (
    CircuitBreakerDynamoDBPersistence,
    CircuitBreakerPersistenceLayer,
)
from aws_lambda_powertools.utilities.circuit_breaker.persistence.record import CircuitStateRecord
from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import RetryableError
from pagerduty_utils.observability import logger
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.circuit_breaker.persistence.base import _CircuitSettings
    from mypy_boto3_dynamodb.client import DynamoDBClient

T = TypeVar("T")

# Powertools' own, per-container failure count must never trip the circuit: the shared count does.
_UNREACHABLE_THRESHOLD = 2**31 - 1


class CircuitOpenError(RetryableError):
    """The circuit is open (or another process is probing): the call was not made."""


class SharedCircuitStore(CircuitBreakerDynamoDBPersistence):
    """Powertools' DynamoDB persistence on the state table, shared by every container.

    ``probe_lease_seconds``: the least time a half-open probe owns the circuit (Powertools leases it for the
    recovery time, which can be shorter than a probe may take: a second prober would then start). The
    container cache of a read lasts the configured age lengthened by up to ``cache_jitter`` of it, at random:
    at most one read per container per cache age, and containers that read together drift apart.
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient,
        probe_lease_seconds: int = 0,
        cache_jitter: float = 0.5,
        random_source: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(
            table_name=table_name, key_attr=KEY_ATTRIBUTE, expiry_attr=EXPIRY_ATTRIBUTE, boto3_client=client
        )
        self._probe_lease = probe_lease_seconds
        self._cache_jitter = cache_jitter
        self._random = random_source
        self._clock = clock
        self._read_through = threading.Lock()
        self._failures_seen: dict[str, int] = {}

    def get_state(self, name: str) -> CircuitStateRecord:
        """Powertools' cached read, one read-through at a time: threads that missed together share one read."""
        with self._read_through:
            return super().get_state(name)

    def record_failure(self, name: str, threshold: int) -> bool:
        """Count one failure in the table while the circuit is closed; open it at ``threshold``.

        True when this call opened it. A table error is logged and counts nothing: the call's own error is
        what the caller must see.
        """
        names = {"#state": self.state_attr, "#failures": self.failure_count_attr, "#expiration": self.expiry_attr}
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=self._get_key(name),
                UpdateExpression="SET #state = if_not_exists(#state, :closed), #expiration = :ttl ADD #failures :one",
                ConditionExpression="attribute_not_exists(#state) OR #state = :closed",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    ":closed": {"S": str(CircuitState.CLOSED)},
                    ":one": {"N": "1"},
                    ":ttl": {"N": str(self._durable_ttl(name))},
                },
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False  # already open or half-open: nothing left to count
            logger.warning("circuit failure not counted", extra={"circuit": name, "reason": type(exc).__name__})
            return False
        except BotoCoreError as exc:
            logger.warning("circuit failure not counted", extra={"circuit": name, "reason": type(exc).__name__})
            return False
        failures = int(response["Attributes"][self.failure_count_attr]["N"])
        with self._lock:
            self._failures_seen[name] = failures
        return failures >= threshold and self._open(name, failures)

    def cached_state(self, name: str) -> CircuitState | None:
        """The state this container read or wrote, while its cache entry is fresh; None when only a read can
        tell. Never reads the table."""
        record = self._retrieve_from_cache(name)
        return None if record is None else record.state

    def knows_failures(self, name: str) -> bool:
        """Whether this container counted a failure, or read a count above zero, since the last reset."""
        with self._lock:
            cached = self._cached(name)
            return bool(self._failures_seen.get(name) or (cached and cached[1].failure_count))

    def record_success(self, name: str) -> None:
        """A call succeeded while closed: reset the shared count, if this container knows it is not zero.

        The healthy path writes nothing: only a container that counted a failure, or read a count, resets.
        """
        if not self.knows_failures(name):
            return
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._get_key(name),
                UpdateExpression="SET #failures = :zero",
                ConditionExpression="#state = :closed AND #failures > :zero",
                ExpressionAttributeNames={"#state": self.state_attr, "#failures": self.failure_count_attr},
                ExpressionAttributeValues={":closed": {"S": str(CircuitState.CLOSED)}, ":zero": {"N": "0"}},
            )
        except (ClientError, BotoCoreError) as exc:
            if not (isinstance(exc, ClientError) and _condition_failed(exc)):
                logger.warning("circuit failures not reset", extra={"circuit": name, "reason": type(exc).__name__})
                return  # the next success tries again
        self._forget_failures(name)

    def _forget_failures(self, name: str) -> None:
        """The shared count is zero now (reset, or found so): the next successes have nothing to reset."""
        with self._lock:
            self._failures_seen.pop(name, None)
            cached = self._cached(name)
            if cached is not None and cached[1].failure_count:
                expires, record = cached
                self._cache[self._cache_key(name)] = (expires, dataclasses.replace(record, failure_count=0))

    def _open(self, name: str, failures: int) -> bool:
        """Closed to open, only if still closed: of several containers crossing the threshold, one opens it."""
        opened_at = int(self._clock())
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._get_key(name),
                UpdateExpression=(
                    "SET #state = :open, #opened_at = :opened_at, #failures = :failures, #expiration = :ttl "
                    "REMOVE #owner, #lease"
                ),
                ConditionExpression="#state = :closed",
                ExpressionAttributeNames={
                    "#state": self.state_attr,
                    "#opened_at": self.opened_at_attr,
                    "#failures": self.failure_count_attr,
                    "#expiration": self.expiry_attr,
                    "#owner": self.half_open_owner_attr,
                    "#lease": self.probe_lease_expiry_attr,
                },
                ExpressionAttributeValues={
                    ":open": {"S": str(CircuitState.OPEN)},
                    ":closed": {"S": str(CircuitState.CLOSED)},
                    ":opened_at": {"N": str(opened_at)},
                    ":failures": {"N": str(failures)},
                    ":ttl": {"N": str(self._durable_ttl(name))},
                },
            )
        except (ClientError, BotoCoreError) as exc:
            if not (isinstance(exc, ClientError) and _condition_failed(exc)):
                logger.warning("circuit not opened", extra={"circuit": name, "reason": type(exc).__name__})
            return False
        self._save_to_cache(
            CircuitStateRecord(name=name, state=CircuitState.OPEN, failure_count=failures, opened_at=opened_at)
        )
        return True

    def _settings_for(self, name: str) -> _CircuitSettings:
        # Powertools derives the probe lease (and the item's TTL) from the recovery time: never shorter than
        # the probe may take.
        settings = super()._settings_for(name)
        return settings._replace(recovery_timeout=max(settings.recovery_timeout, self._probe_lease))

    def _save_to_cache(self, record: CircuitStateRecord) -> None:
        age = self._settings_for(record.name).local_cache_max_age * (1.0 + self._cache_jitter * self._random())
        with self._lock:
            self._cache[self._cache_key(record.name)] = (self._clock() + age, record)

    def _cached(self, name: str) -> tuple[float, CircuitStateRecord] | None:
        """The cache entry (expiry, record); call with ``self._lock`` held (Powertools' LRUDict is untyped)."""
        entry: tuple[float, CircuitStateRecord] | None = self._cache.get(self._cache_key(name))  # type: ignore[no-untyped-call]
        return entry

    def _retrieve_from_cache(self, name: str) -> CircuitStateRecord | None:
        with self._lock:
            cached = self._cached(name)
            if cached is None or self._clock() >= cached[0]:
                return None
            return cached[1]


class Circuit:
    """One named circuit: ``circuit.call(fn)``, ``await circuit.call_async(coro_fn)``, ``circuit.open_for()``.

    With a ``SharedCircuitStore`` the failures are counted in the table, across containers; with another
    Powertools persistence (one process's memory, say) Powertools counts them, which is then the whole scope.
    """

    def __init__(
        self,
        name: str,
        store: CircuitBreakerPersistenceLayer,
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
        self._shared = store if isinstance(store, SharedCircuitStore) else None
        self._config = CircuitBreakerConfig(
            failure_threshold=_UNREACHABLE_THRESHOLD if self._shared else failure_threshold,
            recovery_timeout=recovery_seconds,
            success_threshold=1,
            handled_exceptions=failure_types,
            local_cache_max_age=cache_seconds,
        )
        self._failure_types = failure_types
        self._failure_threshold = failure_threshold
        self._persistence = store
        self._persistence.configure(config=self._config, circuit_name=name)
        self._max_workers = max_workers
        self._executor: ThreadPoolExecutor | None = None
        self._clock = clock

    def state(self) -> CircuitState:
        """The shared state, through the container cache."""
        return self._persistence.get_state(self.name).state

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
        )(self._counted(operation, self._shared) if self._shared else operation)
        try:
            result: T = guarded()
        except CircuitBreakerOpenError as exc:
            opened_at = exc.circuit.opened_at if exc.circuit else None
            wait = self._seconds_until_probe(opened_at) or 1.0
            raise CircuitOpenError(f"circuit {self.name} is open", retry_after=wait) from None
        return result

    async def call_async(self, operation: Callable[[], Awaitable[T]]) -> T:
        """The async face: the coroutine always runs on the caller's loop. A closed circuit the container's cache
        vouches for needs no decision from Powertools; anything else is decided by Powertools on a worker."""
        shared = self._shared
        if shared is not None and shared.cached_state(self.name) is CircuitState.CLOSED:
            return await self._closed_call(operation, shared)
        loop = asyncio.get_running_loop()

        def run_on_loop() -> T:
            return asyncio.run_coroutine_threadsafe(_awaited(operation), loop).result()

        return await loop.run_in_executor(self._workers(), self.call, run_on_loop)

    async def _closed_call(self, operation: Callable[[], Awaitable[T]], shared: SharedCircuitStore) -> T:
        """What Powertools does with a call while closed, given that the shared store counts the failures: run
        it, count a failure (which may open the circuit), reset a known count after a success."""
        try:
            result = await operation()
        except self._failure_types:
            await asyncio.to_thread(self._count_failure, shared)
            raise
        if shared.knows_failures(self.name):
            await asyncio.to_thread(shared.record_success, self.name)
        return result

    def _counted(self, operation: Callable[[], T], shared: SharedCircuitStore) -> Callable[[], T]:
        """``operation`` with its outcome counted in the shared store while the circuit is closed (Powertools
        handles a probe's outcome itself)."""

        def counted() -> T:
            closed = shared.get_state(self.name).state is CircuitState.CLOSED
            try:
                result = operation()
            except self._failure_types:
                if closed:
                    self._count_failure(shared)
                raise
            if closed:
                shared.record_success(self.name)
            return result

        return counted

    def _count_failure(self, shared: SharedCircuitStore) -> None:
        if shared.record_failure(self.name, self._failure_threshold):
            _log_transition(
                CircuitTransition(circuit_name=self.name, from_state=CircuitState.CLOSED, to_state=CircuitState.OPEN)
            )

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


def _condition_failed(exc: ClientError) -> bool:
    error: Any = exc.response.get("Error", {})
    return bool(error.get("Code") == "ConditionalCheckFailedException")


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
