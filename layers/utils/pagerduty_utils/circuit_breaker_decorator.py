"""``@CircuitBreaker(failure_threshold=5, timeout=60)``: the utils README's decorator, over ``circuit_breaker.Circuit``.

On sync and async functions, and as a context manager (``with breaker:`` / ``async with breaker:``)::

    @CircuitBreaker(failure_threshold=5, timeout=60)
    async def external_api_call() -> dict: ...

After ``failure_threshold`` failures the circuit opens: calls raise ``CircuitOpenError`` (a ``RetryableError``
with ``retry_after``) without running, until ``timeout`` (alias ``recovery_timeout``) seconds have passed and
one probe call is let through. Unset thresholds come from the configuration
(``pagerduty.circuit_breaker.failure_threshold`` / ``recovery_timeout``).

Where the state lives: in the DynamoDB state table when one is configured (``table_name=``, else the
configuration's ``state_table`` / ``STATE_TABLE_NAME``), shared by every process and container using the same
circuit name; otherwise in this process (``InProcessCircuitPersistence``), shared by every breaker of that name.
The circuit is named after the decorated function unless ``name`` is given, and is built on its first call, so
``configure()`` may run after the decorated module was imported.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, cast

from aws_lambda_powertools.utilities.circuit_breaker import CircuitState
from aws_lambda_powertools.utilities.circuit_breaker.persistence import (
    CircuitBreakerDynamoDBPersistence,
    CircuitBreakerPersistenceLayer,
)
from aws_lambda_powertools.utilities.circuit_breaker.persistence.base import CircuitBreakerExistingLockError
from aws_lambda_powertools.utilities.circuit_breaker.persistence.record import CircuitStateRecord

from pagerduty_utils.circuit_breaker import Circuit, CircuitOpenError
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, circuit_key

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_CIRCUIT_NAME = "default"
_HALF_OPEN_CONDITION = "half_open"


class InProcessCircuitPersistence(CircuitBreakerPersistenceLayer):
    """Circuit records in this process's memory, with the DynamoDB layer's single-prober election."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._records: dict[str, CircuitStateRecord] = {}
        self._records_lock = threading.Lock()
        self._clock = clock

    def _get_record(self, name: str) -> CircuitStateRecord | None:
        with self._records_lock:
            record = self._records.get(name)
            return replace(record) if record else None

    def _put_record(
        self, record: CircuitStateRecord, condition: str | None = None, expected_opened_at: int | None = None
    ) -> None:
        with self._records_lock:
            if condition == _HALF_OPEN_CONDITION and not self._may_probe(record.name, expected_opened_at):
                raise CircuitBreakerExistingLockError(record.name)
            self._records[record.name] = replace(record)

    def _update_record(self, record: CircuitStateRecord) -> None:
        with self._records_lock:
            self._records[record.name] = replace(record, half_open_owner=None, probe_lease_expiry=None)

    def _may_probe(self, name: str, expected_opened_at: int | None) -> bool:
        """Open with nobody probing (and opened when the caller saw it), or a prober whose lease ran out."""
        current = self._records.get(name)
        if current is None:
            return False
        if current.state == CircuitState.OPEN and current.half_open_owner is None:
            return expected_opened_at is None or current.opened_at == expected_opened_at
        lease = current.probe_lease_expiry
        return current.state == CircuitState.HALF_OPEN and lease is not None and lease <= self._clock()


_in_process = InProcessCircuitPersistence()


class CircuitBreaker:
    """Decorator and context manager; see the module docstring."""

    def __init__(
        self,
        failure_threshold: int | None = None,
        timeout: int | None = None,
        *,
        recovery_timeout: int | None = None,
        name: str | None = None,
        expected_exception: type[Exception] | tuple[type[Exception], ...] = Exception,
        table_name: str | None = None,
        persistence: CircuitBreakerPersistenceLayer | None = None,
    ) -> None:
        if timeout is not None and recovery_timeout is not None and timeout != recovery_timeout:
            raise ValueError("timeout and recovery_timeout are the same setting: give one")
        recovery = recovery_timeout if recovery_timeout is not None else timeout
        for setting, value in (("failure_threshold", failure_threshold), ("timeout", recovery)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{setting} must be a positive number of failures or seconds, not {value!r}")
        self._failure_threshold = failure_threshold
        self._recovery_timeout = recovery
        self._name = name
        self._failure_types = expected_exception if isinstance(expected_exception, tuple) else (expected_exception,)
        self._table_name = table_name
        self._persistence = persistence
        self._circuits: dict[str, Circuit] = {}
        self._lock = threading.Lock()

    def __call__(self, function: Callable[P, T]) -> Callable[P, T]:
        name = self._name or f"{function.__module__}.{function.__qualname__}"
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def guarded_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await self.circuit(name).call_async(lambda: function(*args, **kwargs))

            return cast("Callable[P, T]", guarded_async)

        @functools.wraps(function)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            return self.circuit(name).call(lambda: function(*args, **kwargs))

        return guarded

    def circuit(self, name: str | None = None) -> Circuit:
        """The circuit called ``name`` (default: this breaker's name), built on first use."""
        name = name or self._name or DEFAULT_CIRCUIT_NAME
        with self._lock:
            circuit = self._circuits.get(name)
            if circuit is None:
                circuit = self._circuits[name] = self._build(name)
            return circuit

    # The context manager checks before the block and reports its outcome after it: the block itself is not
    # run by the breaker, so a half-open circuit may let more than one block through while it is being probed.

    def __enter__(self) -> CircuitBreaker:
        self._refuse_if_open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._report(exc)

    async def __aenter__(self) -> CircuitBreaker:
        await asyncio.to_thread(self._refuse_if_open)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self._report, exc)

    def _refuse_if_open(self) -> None:
        circuit = self.circuit()
        wait = circuit.open_for()
        if wait is not None:
            raise CircuitOpenError(f"circuit {circuit.name} is open", retry_after=wait or 1.0)

    def _report(self, outcome: BaseException | None) -> None:
        """Count the block's outcome through the circuit; the block's own exception is left to propagate."""

        def replay() -> None:
            if outcome is not None:
                raise outcome

        try:
            self.circuit().call(replay)
        except CircuitOpenError:
            return
        except BaseException as replayed:  # the block's exception coming back: the caller's `with` re-raises it
            if replayed is not outcome:
                raise

    def _build(self, name: str) -> Circuit:
        from pagerduty_utils.config_parser.settings_file import utils_config  # noqa: PLC0415  # only when built

        config = utils_config()
        options = config.pagerduty.circuit_breaker
        table = self._table_name or config.state_table
        if self._persistence is not None:
            persistence = self._persistence
        elif table:
            persistence = CircuitBreakerDynamoDBPersistence(
                table_name=table, key_attr=KEY_ATTRIBUTE, expiry_attr=EXPIRY_ATTRIBUTE
            )
        else:
            persistence = _in_process
        return Circuit(
            circuit_key(name),
            persistence,
            failure_types=self._failure_types,
            failure_threshold=self._failure_threshold or options.failure_threshold,
            recovery_seconds=self._recovery_timeout or options.recovery_timeout,
            cache_seconds=5 if table else 0,
        )
