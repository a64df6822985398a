"""The forwarder's batch pipeline: from received messages to PagerDuty events, each alert accounted for.

    plan (map + route) -> group per alert key, in event-time order -> skip what the ledger already has
    -> circuit open? hand back -> take rate tokens per routing key (one write) -> send concurrently
    (different dedup keys in parallel, the same key in order) -> record the newest delivered per key
    -> dead-letter what was held past the horizon -> park permanent failures in the DLQ
    -> hide retried messages (growing with their hold age while PagerDuty fails, see ``holding``)

Every message ends in exactly one outcome: delivered, skipped (duplicate or stale), dropped by a rule,
dead-lettered (never retried: 400, unroutable, unmappable) or retried (handed back to its queue).

Ordering within a batch: events of one dedup key are sent one after another in ``occurred_at`` order, all of
them. Collapsing a trigger...resolve run into its last event would be cheaper but would hide an incident that
really happened (an alarm that fired and cleared before delivery must still page or at least leave a record),
so only exact duplicates are collapsed. When one event of a key must be retried, every later event of that key
is retried too, so the key's order survives the queue.

Across processes: the ledger's conditional write keeps the newest delivered event per key. If two processes
race on one key and the older event reaches PagerDuty last, its ledger write loses to the newer one and the
forwarder sends the newer event again (``race_repair``), so the alert ends in its newest state.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pagerduty_utils.alert_forwarder.batch import (
    AlertSender,
    BatchReport,
    CircuitGuard,
    InboundMessage,
    MessageOutcome,
    Planner,
    Verdict,
    reason_code,
    routing_fingerprint,
)
from pagerduty_utils.alert_forwarder.change_delivery import ChangeDelivery, PendingChange
from pagerduty_utils.alert_forwarder.dead_letter import DeadLetter, DeadLetterQueue
from pagerduty_utils.alert_forwarder.delivery_ledger import DeliveryLedger, LedgerEntry, PipelinedRecorder
from pagerduty_utils.alert_forwarder.held_alerts import HeldAlerts
from pagerduty_utils.alert_forwarder.holding import HORIZON_REASON, HoldPolicy, plan_holds
from pagerduty_utils.alert_forwarder.queue_backoff import QueueBackoff
from pagerduty_utils.alert_forwarder.race_repair import needs_repair, repair_event, replay_of
from pagerduty_utils.audit_logger import AuditLogger, audit_logger
from pagerduty_utils.circuit_breaker import CircuitOpenError
from pagerduty_utils.exceptions import PagerDutyUtilsError, RetryableError
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.observability import logger
from pagerduty_utils.pagerduty_events import AlertEvent
from pagerduty_utils.rate_limiter import RateLimiter

# Never start a send with less time than this before the deadline.
_MINIMUM_SEND_SECONDS = 0.5


@dataclass
class _Delivery:
    """One event on its way, with the message it came from and, once known, its result."""

    message: InboundMessage
    event: AlertEvent
    alert_key: str
    entry: LedgerEntry
    verdict: Verdict | None = None
    reason: str = ""
    detail: str = ""
    retry_after: float | None = None

    def settle(self, verdict: Verdict, reason: str = "", detail: str = "", retry_after: float | None = None) -> None:
        self.verdict, self.reason, self.detail, self.retry_after = verdict, reason, detail, retry_after


@dataclass
class _Tally:
    """Per-message bookkeeping while the batch runs."""

    message: InboundMessage
    deliveries: list[_Delivery] = field(default_factory=list)
    changes: list[PendingChange] = field(default_factory=list)
    dropped: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    retry: MessageOutcome | None = None


@dataclass(frozen=True)
class ForwarderDependencies:
    """Everything the pipeline talks to; the handler builds the real ones, tests pass fakes."""

    planner: Planner
    sender: AlertSender
    ledger: DeliveryLedger
    limiter: RateLimiter
    circuit: CircuitGuard
    metrics: MetricsCollector
    dead_letters: DeadLetterQueue | None = None
    backoff: QueueBackoff | None = None
    held_alerts: HeldAlerts | None = None
    changes: ChangeDelivery | None = None
    audit: AuditLogger = audit_logger
    concurrency: int = 10
    hold: HoldPolicy = field(default_factory=HoldPolicy)


class AlertForwarder:
    """``await forwarder.forward(messages, deadline=...)`` -> ``BatchReport`` (``deadline``: ``time.monotonic()``)."""

    def __init__(self, dependencies: ForwarderDependencies, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._deps = dependencies
        self._clock = clock

    async def forward(self, messages: Sequence[InboundMessage], *, deadline: float) -> BatchReport:
        tallies = {message.message_id: _Tally(message) for message in messages}
        for tally in tallies.values():
            self._plan(tally)
        pending = [delivery for tally in tallies.values() for delivery in tally.deliveries]
        await self._deliver(pending, deadline)
        await self._deliver_changes([change for tally in tallies.values() for change in tally.changes], deadline)
        report = self._conclude(tallies)
        self._expire(report, tallies)
        self._park(report, tallies)
        self._defer(report, tallies)
        self._count(report, tallies)
        return report

    # ----------------------------------------------------------------------------------------------- plan

    def _plan(self, tally: _Tally) -> None:
        try:
            plan = self._deps.planner.plan(tally.message.content)
        except RetryableError as exc:
            tally.retry = MessageOutcome(Verdict.RETRY, "dependency", str(exc), exc.retry_after)
            return
        except PagerDutyUtilsError as exc:
            tally.problems.append((reason_code(exc), str(exc)))
            return
        except Exception as exc:  # a bug must not fail the whole batch: retry this message alone
            logger.exception("unexpected error while planning", extra={"message_id": tally.message.message_id})
            tally.retry = MessageOutcome(Verdict.RETRY, "unexpected", type(exc).__name__)
            return
        tally.dropped = plan.dropped
        tally.problems.extend(("unroutable", detail) for detail in plan.unroutable)
        for event in plan.events:
            tally.deliveries.append(
                _Delivery(tally.message, event, alert_key(event), ledger_entry(event, tally.message))
            )
        tally.changes.extend(PendingChange(tally.message.message_id, change) for change in plan.changes)

    # -------------------------------------------------------------------------------------------- deliver

    async def _deliver(self, deliveries: list[_Delivery], deadline: float) -> None:
        groups = self._groups(deliveries)
        if not groups:
            return
        try:
            stored = await asyncio.to_thread(self._deps.ledger.latest, list(groups))
        except RetryableError as exc:
            _settle_all(deliveries, Verdict.RETRY, "dependency", str(exc), exc.retry_after)
            return
        sendable: dict[str, list[_Delivery]] = {}
        for key, group in groups.items():
            fresh = [delivery for delivery in group if delivery.entry.supersedes(stored.get(key))]
            for delivery in group:
                if delivery not in fresh:
                    delivery.settle(Verdict.SKIPPED, "duplicate" if stored.get(key) == delivery.entry else "stale")
                    _log_event("alert not sent again", delivery)
            if fresh:
                sendable[key] = fresh
        open_for = await asyncio.to_thread(self._deps.circuit.open_for)
        if open_for is not None and open_for > 0:
            _settle_all(
                [delivery for group in sendable.values() for delivery in group],
                Verdict.RETRY,
                "circuit_open",
                "PagerDuty circuit is open",
                open_for,
            )
            return
        admitted = await asyncio.to_thread(self._admit, sendable)
        limit = asyncio.Semaphore(self._deps.concurrency)
        recorder = PipelinedRecorder(self._deps.ledger, wave=self._deps.concurrency)
        await asyncio.gather(*(self._send_in_order(group, deadline, limit, recorder) for group in admitted.values()))
        await self._record(recorder, admitted.values(), deadline)

    async def _deliver_changes(self, changes: list[PendingChange], deadline: float) -> None:
        """Change events go through their own delivery (``change_delivery``): no dedup key, same rate budget."""
        if self._deps.changes is not None:
            await self._deps.changes.deliver(changes, deadline=deadline)
            return
        for change in changes:
            change.settle(Verdict.DEAD_LETTERED, "unsupported", "this forwarder is built without change events")

    def _groups(self, deliveries: Iterable[_Delivery]) -> dict[str, list[_Delivery]]:
        """Per alert key, in event-time order; exact duplicates within the batch are skipped here."""
        groups: dict[str, list[_Delivery]] = defaultdict(list)
        for delivery in sorted(deliveries, key=lambda item: item.entry):
            group = groups[delivery.alert_key]
            if group and group[-1].entry == delivery.entry:
                delivery.settle(Verdict.SKIPPED, "duplicate")
                continue
            group.append(delivery)
        return dict(groups)

    def _admit(self, sendable: dict[str, list[_Delivery]]) -> dict[str, list[_Delivery]]:
        """Take rate tokens per routing key in one write, every key's at once; keys first seen earliest get
        tokens first."""
        by_routing_key: dict[str, list[list[_Delivery]]] = defaultdict(list)
        for group in sorted(sendable.values(), key=lambda items: items[0].entry):
            by_routing_key[routing_fingerprint(group[0].event.routing_key)].append(group)
        grants = self._deps.limiter.acquire_many(
            {fingerprint: sum(len(group) for group in groups) for fingerprint, groups in by_routing_key.items()}
        )
        admitted: dict[str, list[_Delivery]] = {}
        for fingerprint, groups in by_routing_key.items():
            grant = grants[fingerprint]
            if isinstance(grant, RetryableError):
                for group in groups:
                    _settle_all(group, Verdict.RETRY, "dependency", str(grant), grant.retry_after)
                continue
            tokens = grant.granted
            for group in groups:
                allowed, held = group[:tokens], group[tokens:]
                tokens -= len(allowed)
                _settle_all(held, Verdict.RETRY, "rate_budget", "routing key over its rate budget", grant.retry_after)
                if allowed:
                    admitted[group[0].alert_key] = allowed
        return admitted

    async def _send_in_order(
        self, group: list[_Delivery], deadline: float, limit: asyncio.Semaphore, recorder: PipelinedRecorder
    ) -> None:
        async with limit:
            for index, delivery in enumerate(group):
                if self._clock() + _MINIMUM_SEND_SECONDS > deadline:
                    _settle_all(group[index:], Verdict.RETRY, "deadline", "no time left in this invocation", None)
                    break
                if not await self._send_one(delivery, deadline):
                    _settle_all(
                        group[index + 1 :], Verdict.RETRY, "ordering", "an earlier event of this key is retried", None
                    )
                    break
        newest = _newest_delivered(group)
        if newest is not None:
            recorder.add(newest.alert_key, newest.entry)

    async def _send_one(self, delivery: _Delivery, deadline: float) -> bool:
        """Send one event; False when it must be retried (so later events of its key wait too)."""
        event = delivery.event
        started = self._clock()
        try:
            await self._deps.circuit.call_async(lambda: self._deps.sender.send(event, deadline=deadline))
        except CircuitOpenError as exc:
            delivery.settle(Verdict.RETRY, "circuit_open", str(exc), exc.retry_after)
            return False
        except RetryableError as exc:
            reason = "throttled" if getattr(exc, "status", None) == 429 else "unavailable"
            delivery.settle(Verdict.RETRY, reason, str(exc), exc.retry_after)
            _log_event("alert send failed, will retry", delivery, level="warning")
            return False
        except PagerDutyUtilsError as exc:
            delivery.settle(Verdict.DEAD_LETTERED, reason_code(exc), str(exc))
            _log_event("alert rejected by PagerDuty", delivery, level="warning")
            return True
        except Exception as exc:  # an unexpected failure must hand the record back, never lose it
            logger.exception("unexpected error while sending", extra={"dedup_key": event.dedup_key})
            delivery.settle(Verdict.RETRY, "unexpected", type(exc).__name__, None)
            return False
        delivery.settle(Verdict.DELIVERED)
        self._deps.metrics.timing("DeliveryLatency", (self._clock() - started) * 1000)
        _log_event("alert forwarded", delivery)
        return True

    async def _record(self, recorder: PipelinedRecorder, groups: Iterable[list[_Delivery]], deadline: float) -> None:
        """One conditional ledger write per key for its newest delivered event: the recorder has written most
        of them while the sends went on; wait for the rest, then repair the races some of them lost."""
        recorded = await recorder.finish()
        if recorded.unrecorded:
            # PagerDuty has the events: a redelivery would resend them, which PagerDuty folds into the same alerts.
            logger.warning("deliveries not recorded", extra={"alerts": recorded.unrecorded, "reason": recorded.failure})
        newest = {delivery.alert_key: delivery for delivery in map(_newest_delivered, groups) if delivery is not None}
        raced = [
            (newest[key], winner)
            for key, winner in recorded.lost.items()
            if winner is not None and winner != newest[key].entry and needs_repair(newest[key].entry, winner)
        ]
        await asyncio.gather(*(self._repair_race(delivery, newer, deadline) for delivery, newer in raced))

    async def _repair_race(self, loser: _Delivery, newer: LedgerEntry, deadline: float) -> None:
        """A concurrent forwarder delivered a newer event before ours landed: send the newer one again."""
        _log_event(
            f"{loser.entry.action} raced a newer {newer.action}, sending the {newer.action} again",
            loser,
            level="warning",
        )
        try:
            repair = repair_event(loser.event, newer)
            await self._deps.circuit.call_async(lambda: self._deps.sender.send(repair, deadline=deadline))
        except PagerDutyUtilsError as exc:
            # Our event is now stale for the ledger, so a retry would skip it: a human must look.
            logger.error(
                "alert may be left in the wrong state after a race",
                extra={"dedup_key": loser.event.dedup_key, "newer_action": newer.action},
            )
            self._deps.audit.record(
                "alert.repair_after_race",
                "failed",
                reason=str(exc),
                dedup_key=loser.event.dedup_key,
                message_id=loser.message.message_id,
                newer_action=newer.action,
            )

    # ------------------------------------------------------------------------------------------ conclude

    def _conclude(self, tallies: Mapping[str, _Tally]) -> BatchReport:
        outcomes: dict[str, MessageOutcome] = {}
        for message_id, tally in tallies.items():
            outcomes[message_id] = tally.retry or _message_outcome(tally)
        return BatchReport(outcomes)

    def _park(self, report: BatchReport, tallies: Mapping[str, _Tally]) -> None:
        """Permanent failures go to the DLQ with their reason; what cannot be parked is retried instead."""
        parked = {
            message_id: outcome
            for message_id, outcome in report.outcomes.items()
            if outcome.verdict is Verdict.DEAD_LETTERED
        }
        if not parked:
            return
        if self._deps.dead_letters is None:
            logger.error("no dead-letter queue configured: permanent failures stay on the alert queue")
            for outcome in parked.values():
                outcome.verdict = Verdict.RETRY
            return
        letters = [
            DeadLetter(
                message_id=message_id,
                body=tallies[message_id].message.body,
                reason=outcome.reason,
                detail=outcome.detail,
                attributes=tallies[message_id].message.attributes,
            )
            for message_id, outcome in parked.items()
        ]
        not_parked = set(self._deps.dead_letters.park(letters))
        for message_id, outcome in parked.items():
            if message_id in not_parked:
                outcome.verdict = Verdict.RETRY
                continue
            self._deps.audit.record(
                "alert.dead_letter",
                "dead_lettered",
                reason=outcome.reason,
                detail=outcome.detail,
                message_id=message_id,
                dead_letter_queue=self._deps.dead_letters.queue_url,
            )

    def _expire(self, report: BatchReport, tallies: Mapping[str, _Tally]) -> None:
        """A message still failing at the hold horizon is dead-lettered, with why it was held so long."""
        for message_id, outcome in report.outcomes.items():
            message = tallies[message_id].message
            if outcome.verdict is Verdict.RETRY and message.queue_arn and self._deps.hold.past_horizon(message):
                detail = self._deps.hold.expiry_detail(message, outcome)
                report.outcomes[message_id] = MessageOutcome(Verdict.DEAD_LETTERED, HORIZON_REASON, detail)

    def _defer(self, report: BatchReport, tallies: Mapping[str, _Tally]) -> None:
        if self._deps.backoff is None:
            return
        retried = [(tallies[message_id].message, report.outcomes[message_id]) for message_id in report.retried]
        holds = plan_holds(self._deps.hold, retried)
        if holds.deferrals:
            self._deps.backoff.defer(holds.deferrals)
        if holds.held and self._deps.held_alerts is not None:
            self._deps.held_alerts.remember(holds.held)

    def _count(self, report: BatchReport, tallies: Mapping[str, _Tally]) -> None:
        deliveries = [delivery for tally in tallies.values() for delivery in tally.deliveries]
        reasons = [delivery.reason for delivery in deliveries if delivery.verdict is Verdict.RETRY]
        counts = {
            "Forwarded": sum(1 for delivery in deliveries if delivery.verdict is Verdict.DELIVERED),
            "Skipped": sum(1 for delivery in deliveries if delivery.verdict is Verdict.SKIPPED),
            "Dropped": sum(tally.dropped for tally in tallies.values()),
            "Retried": len(report.retried),
            "DeadLettered": report.count(Verdict.DEAD_LETTERED),
            "Throttled": reasons.count("throttled") + reasons.count("rate_budget"),
            "CircuitOpen": reasons.count("circuit_open"),
        }
        for name, value in counts.items():
            if value:
                self._deps.metrics.count(name, value)
        logger.info("batch forwarded", extra={"messages": len(tallies), **counts})


def alert_key(event: AlertEvent) -> str:
    """The ledger key of an alert: routing key fingerprint and dedup key (PagerDuty's own alert identity)."""
    return f"{routing_fingerprint(event.routing_key)}#{event.dedup_key}"


def ledger_entry(event: AlertEvent, message: InboundMessage) -> LedgerEntry:
    """The event's place in its key's history: occurred_at (microseconds), content hash, action, and for a
    trigger what a race repair needs to send it again."""
    occurred = event.occurred_at or message.sent_at
    digest = hashlib.sha256(event.model_dump_json(by_alias=True).encode()).hexdigest()[:32]
    return LedgerEntry(
        sequence=_microseconds(occurred),
        event_hash=digest,
        action=event.event_action.value,
        replay=replay_of(event),
    )


def _microseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _message_outcome(tally: _Tally) -> MessageOutcome:
    """The message's outcome from its events: any retry wins, then any permanent failure, then the rest."""
    results = [
        MessageOutcome(delivery.verdict or Verdict.RETRY, delivery.reason, delivery.detail, delivery.retry_after)
        for delivery in tally.deliveries
    ]
    results += [change.outcome or MessageOutcome(Verdict.RETRY) for change in tally.changes]
    retries = [result for result in results if result.verdict is Verdict.RETRY]
    if retries:
        waits = [result.retry_after for result in retries if result.retry_after is not None]
        return MessageOutcome(Verdict.RETRY, retries[0].reason, retries[0].detail, max(waits) if waits else None)
    failures = tally.problems + [(r.reason, r.detail) for r in results if r.verdict is Verdict.DEAD_LETTERED]
    if failures:
        return MessageOutcome(Verdict.DEAD_LETTERED, failures[0][0], "; ".join(detail for _, detail in failures)[:1000])
    if any(result.verdict is Verdict.DELIVERED for result in results):
        return MessageOutcome(Verdict.DELIVERED)
    if results:
        return MessageOutcome(Verdict.SKIPPED, results[0].reason)
    if tally.dropped:
        return MessageOutcome(Verdict.DROPPED, "dropped by rule")
    return MessageOutcome(Verdict.SKIPPED, "nothing to send")


def _newest_delivered(group: Sequence[_Delivery]) -> _Delivery | None:
    """The last delivered event of an alert key's group (the group is in event-time order)."""
    delivered = [delivery for delivery in group if delivery.verdict is Verdict.DELIVERED]
    return delivered[-1] if delivered else None


def _settle_all(
    deliveries: Iterable[_Delivery], verdict: Verdict, reason: str, detail: str, retry_after: float | None
) -> None:
    for delivery in deliveries:
        delivery.settle(verdict, reason, detail, retry_after)


def _log_event(message: str, delivery: _Delivery, *, level: str = "info") -> None:
    extra = {
        "dedup_key": delivery.event.dedup_key,
        "action": delivery.event.event_action.value,
        "message_id": delivery.message.message_id,
        "routing_key": routing_fingerprint(delivery.event.routing_key),
        "reason": delivery.reason or None,
    }
    getattr(logger, level)(message, extra=extra)
