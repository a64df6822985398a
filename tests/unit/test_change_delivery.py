"""Change events through the forwarder: once per change, within the routing key's budget, every outcome kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from pagerduty_utils.alert_forwarder.batch import InboundMessage, Plan, Verdict, routing_fingerprint
from pagerduty_utils.alert_forwarder.change_delivery import ChangeDelivery, PendingChange
from pagerduty_utils.alert_forwarder.delivery_ledger import DeliveryLedger
from pagerduty_utils.alert_forwarder.forwarding import AlertForwarder, ForwarderDependencies
from pagerduty_utils.api_client import InvalidEventError, PagerDutyUnavailableError
from pagerduty_utils.pagerduty_events import AlertEvent, ChangeEvent
from pagerduty_utils.rate_limiter import RateLimiter
from pdutils.testing.forwarder import StateTable
from tests.unit.fixtures.forwarder_fakes import FakeCircuit, RecordingMetrics

ROUTING_KEY = "R" * 32
T0 = datetime(2026, 11, 27, 5, 52, tzinfo=UTC)


def change(summary: str = "CodeDeploy SUCCESS: checkout-api/production") -> ChangeEvent:
    return ChangeEvent(routing_key=ROUTING_KEY, summary=summary, source="checkout-api", timestamp=T0)


@dataclass
class FakeChangeSender:
    sent: list[ChangeEvent] = field(default_factory=list)
    failure: Exception | None = None

    async def send_change(self, event: ChangeEvent, *, deadline: float | None = None) -> object:
        await asyncio.sleep(0)
        if self.failure is not None:
            raise self.failure
        self.sent.append(event)
        return {"status": "success"}

    async def send(self, event: AlertEvent, *, deadline: float | None = None) -> object:
        raise AssertionError("no alert event is expected here")


@dataclass
class Setup:
    table: StateTable
    sender: FakeChangeSender = field(default_factory=FakeChangeSender)
    circuit: FakeCircuit = field(default_factory=FakeCircuit)
    metrics: RecordingMetrics = field(default_factory=RecordingMetrics)
    rate_limit: int = 120

    @property
    def ledger(self) -> DeliveryLedger:
        return DeliveryLedger(self.table.name, retention_seconds=3600, client=self.table.client)

    @property
    def limiter(self) -> RateLimiter:
        return RateLimiter(self.table.name, limit_per_minute=self.rate_limit, client=self.table.client)

    def delivery(self) -> ChangeDelivery:
        return ChangeDelivery(
            sender=self.sender, ledger=self.ledger, limiter=self.limiter, circuit=self.circuit, metrics=self.metrics
        )

    def deliver(self, *events: ChangeEvent) -> list[PendingChange]:
        pending = [PendingChange(f"m{index}", event) for index, event in enumerate(events)]
        asyncio.run(self.delivery().deliver(pending, deadline=time.monotonic() + 30))
        return pending


@pytest.fixture
def setup(in_process_state_table: StateTable) -> Setup:
    return Setup(in_process_state_table)


def verdicts(pending: list[PendingChange]) -> list[tuple[Verdict, str]]:
    return [
        (item.outcome.verdict, item.outcome.reason) if item.outcome else (Verdict.RETRY, "unsettled")
        for item in pending
    ]


def test_a_change_is_delivered_once_even_when_its_record_comes_back(setup: Setup) -> None:
    assert verdicts(setup.deliver(change())) == [(Verdict.DELIVERED, "")]
    assert verdicts(setup.deliver(change())) == [(Verdict.SKIPPED, "duplicate")]
    assert len(setup.sender.sent) == 1
    assert setup.metrics.counts == {"ChangeEvents": 1}


def test_two_different_changes_are_both_delivered_and_a_repeat_within_a_batch_once(setup: Setup) -> None:
    outcomes = verdicts(setup.deliver(change(), change("CloudFormation UPDATE_COMPLETE: checkout-api"), change()))
    assert outcomes == [(Verdict.DELIVERED, ""), (Verdict.DELIVERED, ""), (Verdict.SKIPPED, "duplicate")]


def test_changes_share_the_routing_keys_budget_with_its_alerts(setup: Setup) -> None:
    setup.rate_limit = 12  # a burst of 2
    setup.limiter.acquire(routing_fingerprint(ROUTING_KEY), 2)  # alerts of this key spent the burst
    [pending] = setup.deliver(change())
    assert pending.outcome is not None
    assert (pending.outcome.verdict, pending.outcome.reason) == (Verdict.RETRY, "throttled")
    assert pending.outcome.retry_after is not None
    assert pending.outcome.retry_after > 0
    assert setup.sender.sent == []


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (InvalidEventError("payload.summary is missing", status=400), (Verdict.DEAD_LETTERED, "invalid_event")),
        (PagerDutyUnavailableError("503", status=503), (Verdict.RETRY, "unavailable")),
        (RuntimeError("bug"), (Verdict.RETRY, "unexpected")),
    ],
)
def test_a_failed_send_is_retried_or_dead_lettered_and_never_recorded(
    setup: Setup, failure: Exception, expected: tuple[Verdict, str]
) -> None:
    setup.sender.failure = failure
    assert verdicts(setup.deliver(change())) == [expected]
    setup.sender.failure = None
    assert verdicts(setup.deliver(change())) == [(Verdict.DELIVERED, "")]


def test_an_open_circuit_hands_changes_back_without_calling(setup: Setup) -> None:
    setup.circuit.open_seconds = 42
    [pending] = setup.deliver(change())
    assert pending.outcome is not None
    assert (pending.outcome.verdict, pending.outcome.retry_after) == (Verdict.RETRY, 42)
    assert setup.sender.sent == []


class ChangePlanner:
    def plan(self, content: str | Mapping[str, Any]) -> Plan:
        return Plan(changes=(change(),))


def forward_one(setup: Setup, *, with_changes: bool) -> Verdict:
    dependencies = ForwarderDependencies(
        planner=ChangePlanner(),
        sender=setup.sender,
        ledger=setup.ledger,
        limiter=setup.limiter,
        circuit=setup.circuit,
        metrics=setup.metrics,
        changes=setup.delivery() if with_changes else None,
    )
    message = InboundMessage(message_id="m1", content={}, body="{}", sent_at=T0)
    report = asyncio.run(AlertForwarder(dependencies).forward([message], deadline=time.monotonic() + 30))
    return report.outcomes["m1"].verdict


def test_the_forwarder_reports_a_message_of_changes_by_their_outcome(setup: Setup) -> None:
    assert forward_one(setup, with_changes=True) is Verdict.DELIVERED
    assert forward_one(setup, with_changes=True) is Verdict.SKIPPED


def test_a_forwarder_built_without_change_delivery_says_so_instead_of_dropping_them(setup: Setup) -> None:
    # no dead-letter queue in this setup: a permanent failure stays on the queue (retried), never lost
    assert forward_one(setup, with_changes=False) is Verdict.RETRY
    assert setup.sender.sent == []
