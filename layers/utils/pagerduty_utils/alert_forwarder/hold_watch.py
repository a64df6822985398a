"""The once-a-minute watch over held alerts: probe PagerDuty while the circuit is open, release on recovery.

Held messages hide for minutes (``holding``), so while the circuit is open nothing may call the forwarder for
a long time. A schedule does instead (the forwarder's ``HeldAlertsWatch`` event, ``rate(1 minute)``). Each run:

1. reads the held-alerts index (one BatchGetItem) and reports ``HeldAlerts`` and ``OldestHeldAgeSeconds``;
2. nothing held: done;
3. circuit not closed: sends the probe through it. The circuit lets one probe through once its recovery time
   has passed (any other run, or a forwarder, is refused meanwhile); a failure reopens it, and the run ends;
4. circuit closed (it was, or the probe closed it): releases every held message at once.

The probe is a ``resolve`` for a dedup key no alert uses (``PROBE_DEDUP_KEY``), on one of the configured routing
keys: PagerDuty accepts it and drops it, opening or touching nothing. Any answer from PagerDuty other than a
5xx or a timeout (a 4xx included) shows that it is processing events again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aws_lambda_powertools.utilities.circuit_breaker import CircuitState

from pagerduty_utils.alert_forwarder.held_alerts import HeldAlerts
from pagerduty_utils.alert_forwarder.queue_backoff import QueueBackoff
from pagerduty_utils.api_client import PagerDutyAPIError, PagerDutyUnavailableError
from pagerduty_utils.circuit_breaker import Circuit
from pagerduty_utils.exceptions import RetryableError
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.observability import logger

PROBE_DEDUP_KEY = "pdutils-circuit-probe"


@dataclass(frozen=True)
class WatchResult:
    held: int
    oldest_age_seconds: float
    circuit: CircuitState
    released: int


class HoldWatch:
    """``await watch.run()``; ``probe`` sends the probe event (raises the client's typed errors)."""

    def __init__(
        self,
        held_alerts: HeldAlerts,
        circuit: Circuit,
        probe: Callable[[], Awaitable[object]],
        backoff: QueueBackoff,
        metrics: MetricsCollector,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._held = held_alerts
        self._circuit = circuit
        self._probe = probe
        self._backoff = backoff
        self._metrics = metrics
        self._clock = clock

    async def run(self) -> WatchResult:
        held = self._held.snapshot()
        oldest_age = max(0.0, self._clock() - held[0].sent_at) if held else 0.0
        self._metrics.count("HeldAlerts", len(held))
        self._metrics.count("OldestHeldAgeSeconds", round(oldest_age))
        state = self._circuit.state()
        if held and state is not CircuitState.CLOSED:
            state = await self._probe_pagerduty()
        released = len(self._held.release(self._backoff)) if held and state is CircuitState.CLOSED else 0
        result = WatchResult(len(held), oldest_age, state, released)
        logger.info("held alerts watched", extra=vars(result))
        return result

    async def _probe_pagerduty(self) -> CircuitState:
        """The circuit's state after one probe attempt (refused while another process probes or it is early)."""
        try:
            await self._circuit.call_async(self._answered)
        except RetryableError as exc:
            logger.info("PagerDuty not probed or still failing", extra={"reason": str(exc)})
        return self._circuit.state()

    async def _answered(self) -> None:
        try:
            await self._probe()
        except PagerDutyUnavailableError:
            raise
        except PagerDutyAPIError as exc:
            logger.info("PagerDuty answered the probe", extra={"status": exc.status})
