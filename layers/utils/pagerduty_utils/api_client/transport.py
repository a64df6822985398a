"""HTTP plumbing shared by the Events and REST clients: pooled httpx clients, timeouts, and the retry loop.

Connections are pooled in module-level httpx clients, one per timeout configuration (and, for async, per
event loop, since an ``AsyncClient``'s connections belong to the loop that opened them), so warm Lambda
invocations reuse TLS connections; all of them share one TLS context (``tls_context``). Async handlers that
want the same reuse run their coroutines with ``run_async``, which keeps one event loop for the life of the
container instead of one per ``asyncio.run``.

One logical call is ``send_with_retry`` (or ``asend_with_retry``): attempts bounded by the ``RetryPolicy`` and
the deadline, each attempt's timeouts clipped to the time left, and one ``api_call`` metric for the whole call.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx

from pagerduty_utils.api_client.errors import PagerDutyAPIError, PagerDutyUnavailableError
from pagerduty_utils.api_client.retry import RetryPolicy
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.observability import logger

if TYPE_CHECKING:
    from ssl import SSLContext

ResultT = TypeVar("ResultT")

# Maps a non-2xx response to the error it means (the Events and REST APIs word their errors differently).
ErrorFactory = Callable[[httpx.Response], PagerDutyAPIError]


@dataclass(frozen=True)
class Timeouts:
    """Connect and read timeouts in seconds (writes use the read timeout, waiting for a pooled one the connect)."""

    connect: float = 3.0
    read: float = 10.0

    def clipped(self, budget: float | None) -> httpx.Timeout:
        """httpx timeouts with no phase longer than ``budget`` (the time left before the deadline)."""
        connect, read = self.connect, self.read
        if budget is not None:
            connect, read = min(connect, budget), min(read, budget)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    def for_attempt(self, budget: float | None) -> dict[str, float | None]:
        """The per-request timeout extension httpx reads, clipped to ``budget``."""
        if budget is None:
            return self._unbounded
        return self.clipped(budget).as_dict()

    @cached_property
    def _unbounded(self) -> dict[str, float | None]:
        return self.clipped(None).as_dict()


# Concurrent sends (AsyncEventsClient with asyncio.gather) keep their connections open for the next batch
# instead of httpx's default of 20 kept-alive connections, so a warm container does not reconnect each time.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=60.0)


@cache
def tls_context() -> SSLContext:
    """The container's one TLS context, shared by every pooled client (httpx's defaults: certifi's CA bundle, or
    SSL_CERT_FILE / SSL_CERT_DIR).

    Creating one loads the CA bundle, about 20 ms of CPU, and httpx would create one per client: per timeout
    configuration and per event loop. The builders create it during Lambda's Init (``init_phase``), where the CPU
    is not throttled, rather than leaving it to the first send: directly, or with ``prepare_async_client``.
    """
    return httpx.create_ssl_context()


_sync_clients: dict[Timeouts, httpx.Client] = {}
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Timeouts, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
_container_loop: asyncio.AbstractEventLoop | None = None


def shared_client(timeouts: Timeouts) -> httpx.Client:
    """The container's pooled sync client for these timeouts."""
    client = _sync_clients.get(timeouts)
    if client is None or client.is_closed:
        client = _sync_clients[timeouts] = httpx.Client(
            timeout=timeouts.clipped(None), limits=POOL_LIMITS, verify=tls_context()
        )
    return client


def shared_async_client(timeouts: Timeouts) -> httpx.AsyncClient:
    """The pooled async client for these timeouts on the running event loop."""
    clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
    client = clients.get(timeouts)
    if client is None or client.is_closed:
        client = clients[timeouts] = httpx.AsyncClient(
            timeout=timeouts.clipped(None), limits=POOL_LIMITS, verify=tls_context()
        )
    return client


def prepare_async_client(timeouts: Timeouts) -> httpx.AsyncClient:
    """The pooled async client that sends run through ``run_async`` will use for these timeouts, created now.

    Creating it imports and builds httpx's transport (about 20 ms of CPU) and loads the TLS context, and the first
    await through anyio, which httpx's pool runs on, loads anyio's asyncio backend (some 25 modules, about 30 ms).
    The builders call this during Lambda's Init (``init_phase``) rather than leaving both to the first send. No
    connection opens.
    """
    return run_async(_prepared_async_client(timeouts))


async def _prepared_async_client(timeouts: Timeouts) -> httpx.AsyncClient:
    client = shared_async_client(timeouts)
    await anyio.sleep(0)
    return client


def run_async(coroutine: Coroutine[Any, Any, ResultT]) -> ResultT:
    """Run ``coroutine`` on one event loop kept for the container, so pooled async connections survive."""
    global _container_loop  # noqa: PLW0603  # one loop per container is the point
    if _container_loop is None or _container_loop.is_closed():
        _container_loop = asyncio.new_event_loop()
    return _container_loop.run_until_complete(coroutine)


# Failures that happen before the request leaves: safe to retry even for writes PagerDuty does not deduplicate.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class CallContext:
    """What one logical call needs besides the request: policy, deadline, how to name and classify it."""

    operation: str
    policy: RetryPolicy
    deadline: float | None
    error_for: ErrorFactory
    metrics: MetricsCollector
    idempotent: bool = True
    """False for writes PagerDuty does not deduplicate: an ambiguous failure (a 5xx or 408 answer, a timeout or
    a dropped connection after the request was sent) stops at once, as the write may have happened. A 429 and
    a connection never made are retried: PagerDuty did not process those."""


@dataclass(frozen=True)
class Exchange:
    response: httpx.Response
    attempts: int


class _Attempts:
    """State of one call across attempts; the sync and async loops differ only in how they send and sleep."""

    def __init__(self, call: CallContext) -> None:
        self.call = call
        self.started = call.policy.clock()
        self.attempt = 0
        self.last_status: int | None = None

    def next_timeout(self, timeouts: Timeouts) -> dict[str, float | None]:
        self.attempt += 1
        try:
            return timeouts.for_attempt(self.call.policy.time_left(self.call.deadline))
        except PagerDutyAPIError:
            self.finish()
            raise

    def outcome(self, response: httpx.Response) -> PagerDutyAPIError | None:
        """None when the response is a success, else the error it means."""
        self.last_status = response.status_code
        if response.is_success:
            self.finish()
            return None
        error = self.call.error_for(response)
        if not self.call.idempotent and isinstance(error, PagerDutyUnavailableError):
            self.finish()
            raise error
        return error

    def network_error(self, exc: httpx.TransportError) -> PagerDutyAPIError:
        self.last_status = None
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "network error"
        error = PagerDutyUnavailableError(f"{self.call.operation} {kind}: {type(exc).__name__}")
        if not self.call.idempotent and not isinstance(exc, _NOT_SENT):
            self.finish()
            raise error from exc
        return error

    def delay_after(self, error: PagerDutyAPIError) -> float:
        try:
            delay = self.call.policy.delay_before_retry(error, self.attempt, self.call.deadline)
        except PagerDutyAPIError:
            self.finish()
            raise
        logger.info(
            "retrying PagerDuty call",
            extra={"operation": self.call.operation, "attempt": self.attempt, "status": error.status, "delay": delay},
        )
        return delay

    def finish(self) -> None:
        latency_ms = (self.call.policy.clock() - self.started) * 1000
        self.call.metrics.api_call(self.call.operation, self.last_status, latency_ms, max(self.attempt - 1, 0))


def send_with_retry(client: httpx.Client, request: httpx.Request, timeouts: Timeouts, call: CallContext) -> Exchange:
    """Send ``request`` until it succeeds or the policy stops; raises a typed ``PagerDutyAPIError``."""
    attempts = _Attempts(call)
    while True:
        request.extensions["timeout"] = attempts.next_timeout(timeouts)
        try:
            response = client.send(request)
        except httpx.TransportError as exc:
            error = attempts.network_error(exc)
        else:
            failure = attempts.outcome(response)
            if failure is None:
                return Exchange(response, attempts.attempt)
            error = failure
        call.policy.sleep(attempts.delay_after(error))


async def asend_with_retry(
    client: httpx.AsyncClient, request: httpx.Request, timeouts: Timeouts, call: CallContext
) -> Exchange:
    """``send_with_retry`` for asyncio; each attempt is also bounded as a whole by the time left."""
    attempts = _Attempts(call)
    while True:
        request.extensions["timeout"] = attempts.next_timeout(timeouts)
        try:
            async with asyncio.timeout(_whole_attempt_budget(call)):
                response = await client.send(request)
        except TimeoutError as exc:
            error = attempts.network_error(httpx.ReadTimeout(str(exc), request=request))
        except httpx.TransportError as exc:
            error = attempts.network_error(exc)
        else:
            failure = attempts.outcome(response)
            if failure is None:
                return Exchange(response, attempts.attempt)
            error = failure
        await call.policy.async_sleep(attempts.delay_after(error))


def _whole_attempt_budget(call: CallContext) -> float | None:
    if call.deadline is None:
        return None
    return max(call.deadline - call.policy.clock(), 0.0)
