"""Change events (deployments, stack updates) on their way to PagerDuty's ``/v2/change/enqueue``.

A change event has no dedup key and opens nothing: PagerDuty keeps every one it accepts, so a redelivered record
would show one deployment twice. The delivery ledger guards change events as it guards alerts, under a key of
their own content (``<routing key fingerprint>#change#<content hash>``): a redelivered record is skipped as a
duplicate. Their limits:
- the routing key's rate budget is shared with its alert events (PagerDuty counts both against the integration
  key), so tokens come from the same bucket;
- the circuit breaker is the same (one PagerDuty host);
- summary length (1024 characters) and size (512 KB) are applied by ``api_client.limits.fit_change``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from pagerduty_utils.alert_forwarder.batch import (
    ChangeSender,
    CircuitGuard,
    MessageOutcome,
    Verdict,
    reason_code,
    routing_fingerprint,
)
from pagerduty_utils.alert_forwarder.delivery_ledger import DeliveryLedger, LedgerEntry
from pagerduty_utils.circuit_breaker import CircuitOpenError
from pagerduty_utils.exceptions import PagerDutyUtilsError, RetryableError
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.observability import logger
from pagerduty_utils.pagerduty_events import ChangeEvent
from pagerduty_utils.rate_limiter import RateLimiter

_MINIMUM_SEND_SECONDS = 0.5
_CHANGE_ACTION = "change"


@dataclass
class PendingChange:
    """One change event of a message, and once known its outcome."""

    message_id: str
    event: ChangeEvent
    outcome: MessageOutcome | None = None

    @property
    def fingerprint(self) -> str:
        return routing_fingerprint(self.event.routing_key)

    @property
    def ledger_key(self) -> str:
        return f"{self.fingerprint}#change#{self.entry.event_hash}"

    @cached_property
    def entry(self) -> LedgerEntry:
        content = self.event.model_dump_json(exclude={"routing_key"}).encode()
        moment = self.event.timestamp
        return LedgerEntry(
            sequence=int(moment.timestamp() * 1_000_000) if moment else 0,
            event_hash=hashlib.sha256(content).hexdigest()[:32],
            action=_CHANGE_ACTION,
        )

    def settle(self, verdict: Verdict, reason: str = "", detail: str = "", retry_after: float | None = None) -> None:
        self.outcome = MessageOutcome(verdict, reason, detail, retry_after)


class ChangeDelivery:
    """``await delivery.deliver(changes, deadline=...)`` settles every ``PendingChange``."""

    def __init__(
        self,
        *,
        sender: ChangeSender,
        ledger: DeliveryLedger,
        limiter: RateLimiter,
        circuit: CircuitGuard,
        metrics: MetricsCollector,
        concurrency: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sender = sender
        self._ledger = ledger
        self._limiter = limiter
        self._circuit = circuit
        self._metrics = metrics
        self._concurrency = concurrency
        self._clock = clock

    async def deliver(self, changes: Sequence[PendingChange], *, deadline: float) -> None:
        if not changes:
            return
        try:
            stored = await asyncio.to_thread(self._ledger.latest, sorted({change.ledger_key for change in changes}))
        except RetryableError as exc:
            _settle_all(changes, Verdict.RETRY, "dependency", str(exc), exc.retry_after)
            return
        fresh: dict[str, PendingChange] = {}
        for change in changes:
            if stored.get(change.ledger_key) == change.entry or change.ledger_key in fresh:
                change.settle(Verdict.SKIPPED, "duplicate")
            else:
                fresh[change.ledger_key] = change
        open_for = await asyncio.to_thread(self._circuit.open_for)
        if open_for is not None and open_for > 0:
            _settle_all(fresh.values(), Verdict.RETRY, "circuit_open", "PagerDuty circuit is open", open_for)
            return
        admitted = await asyncio.to_thread(self._admit, list(fresh.values()))
        limit = asyncio.Semaphore(self._concurrency)
        await asyncio.gather(*(self._send(change, deadline, limit) for change in admitted))
        await self._record(
            [change for change in admitted if change.outcome and change.outcome.verdict is Verdict.DELIVERED]
        )

    def _admit(self, changes: list[PendingChange]) -> list[PendingChange]:
        """Rate tokens per routing key, from the bucket its alert events use."""
        by_routing_key: dict[str, list[PendingChange]] = defaultdict(list)
        for change in changes:
            by_routing_key[change.fingerprint].append(change)
        admitted: list[PendingChange] = []
        for fingerprint, group in by_routing_key.items():
            try:
                grant = self._limiter.acquire(fingerprint, len(group))
            except RetryableError as exc:
                _settle_all(group, Verdict.RETRY, "dependency", str(exc), exc.retry_after)
                continue
            admitted.extend(group[: grant.granted])
            held = group[grant.granted :]
            _settle_all(held, Verdict.RETRY, "throttled", "routing key over its rate budget", grant.retry_after)
        return admitted

    async def _send(self, change: PendingChange, deadline: float, limit: asyncio.Semaphore) -> None:
        async with limit:
            if self._clock() + _MINIMUM_SEND_SECONDS > deadline:
                change.settle(Verdict.RETRY, "deadline", "no time left in this invocation")
                return
            try:
                await self._circuit.call_async(lambda: self._sender.send_change(change.event, deadline=deadline))
            except CircuitOpenError as exc:
                change.settle(Verdict.RETRY, "circuit_open", str(exc), exc.retry_after)
            except RetryableError as exc:
                reason = "throttled" if getattr(exc, "status", None) == 429 else "unavailable"
                change.settle(Verdict.RETRY, reason, str(exc), exc.retry_after)
                _log("change event send failed, will retry", change, level="warning")
            except PagerDutyUtilsError as exc:
                change.settle(Verdict.DEAD_LETTERED, reason_code(exc), str(exc))
                _log("change event rejected by PagerDuty", change, level="warning")
            except Exception as exc:  # an unexpected failure must hand the record back, never lose it
                logger.exception(
                    "unexpected error while sending a change event", extra={"message_id": change.message_id}
                )
                change.settle(Verdict.RETRY, "unexpected", type(exc).__name__)
            else:
                change.settle(Verdict.DELIVERED)
                _log("change event forwarded", change)

    async def _record(self, delivered: list[PendingChange]) -> None:
        if not delivered:
            return
        self._metrics.count("ChangeEvents", len(delivered))
        try:
            await asyncio.to_thread(self._ledger.record_many, {change.ledger_key: change.entry for change in delivered})
        except RetryableError as exc:
            # PagerDuty has them: a redelivery would show these changes twice, which is only cosmetic.
            logger.warning("change events not recorded", extra={"changes": len(delivered), "reason": str(exc)})


def _settle_all(
    changes: Iterable[PendingChange], verdict: Verdict, reason: str, detail: str, retry_after: float | None
) -> None:
    for change in changes:
        change.settle(verdict, reason, detail, retry_after)


def _log(message: str, change: PendingChange, *, level: str = "info") -> None:
    outcome = change.outcome
    extra = {
        "message_id": change.message_id,
        "routing_key": change.fingerprint,
        "change_summary": change.event.summary[:200],
        "reason": (outcome.reason if outcome else "") or None,
    }
    getattr(logger, level)(message, extra=extra)
