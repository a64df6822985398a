"""The once-a-minute watch over held alerts: probe PagerDuty while the circuit is open, release on recovery.

Held messages hide for minutes (``holding``), so while the circuit is open nothing may call the forwarder for
a long time. A schedule does instead (the forwarder's ``HeldAlertsWatch`` event, ``rate(1 minute)``). Each run:

1. reads the held-alerts index (one BatchGetItem) and reports ``HeldAlerts``, ``OldestHeldAgeSeconds`` and
   ``CircuitState`` (0 closed, 1 half-open, 2 open) as metrics: the alarm and the dashboard read them;
2. nothing held: done;
3. something held: sends the probe through the circuit. An open circuit lets one probe through once its
   recovery time has passed (any other run, or a forwarder, is refused meanwhile); a failed probe counts
   towards opening it, or reopens it;
4. the probe answered: releases every held message at once.

The probe is a ``resolve`` for a dedup key no alert uses (``PROBE_DEDUP_KEY``), on the first configured routing
key: PagerDuty accepts it and drops it, opening or touching nothing. Any answer other than a 5xx, a timeout or
a 429 (a 400 included) shows that PagerDuty processes events again. A 429 means the key is still over its
budget: alerts held by a 429 storm stay held until the probe's key is accepted again. One probe a minute while
alerts are held, none otherwise.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.circuit_breaker import CircuitState

from pagerduty_utils.alert_forwarder.held_alerts import HeldAlerts
from pagerduty_utils.alert_forwarder.queue_backoff import QueueBackoff
from pagerduty_utils.api_client import PagerDutyAPIError
from pagerduty_utils.circuit_breaker import Circuit
from pagerduty_utils.exceptions import RetryableError
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.observability import logger

PROBE_DEDUP_KEY = "pdutils-circuit-probe"
_CIRCUIT_LEVEL = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


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
        recovered = bool(held) and await self._probe_pagerduty()
        released = len(self._held.release(self._backoff)) if recovered else 0
        state = self._circuit.state()
        self._metrics.record(
            {
                "HeldAlerts": (MetricUnit.Count, len(held) - released),
                "OldestHeldAgeSeconds": (MetricUnit.Seconds, 0.0 if released else oldest_age),
                "CircuitState": (MetricUnit.Count, _CIRCUIT_LEVEL[state]),
            },
            {},
        )
        result = WatchResult(len(held), oldest_age, state, released)
        logger.info("held alerts watched", extra=vars(result))
        return result

    async def _probe_pagerduty(self) -> bool:
        """True when PagerDuty answered the probe; False when it failed or the circuit refused it."""
        try:
            await self._circuit.call_async(self._answered)
        except RetryableError as exc:
            logger.info("PagerDuty not probed or still failing", extra={"reason": str(exc)})
            return False
        return True

    async def _answered(self) -> None:
        try:
            await self._probe()
        except RetryableError:
            raise
        except PagerDutyAPIError as exc:
            logger.info("PagerDuty answered the probe", extra={"status": exc.status})
