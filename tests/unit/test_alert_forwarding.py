from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from pagerduty_utils.alert_forwarder.batch import (
    BatchReport,
    InboundMessage,
    MessageOutcome,
    Plan,
    Verdict,
    routing_fingerprint,
)
from pagerduty_utils.alert_forwarder.dead_letter import DETAIL_ATTRIBUTE, REASON_ATTRIBUTE, DeadLetterQueue
from pagerduty_utils.alert_forwarder.delivery_ledger import DeliveryLedger
from pagerduty_utils.alert_forwarder.forwarding import AlertForwarder, ForwarderDependencies, alert_key, ledger_entry
from pagerduty_utils.alert_forwarder.holding import HoldPolicy
from pagerduty_utils.alert_forwarder.queue_backoff import QueueBackoff
from pagerduty_utils.api_client import InvalidEventError, PagerDutyUnavailableError, RateLimitedError
from pagerduty_utils.audit_logger import AuditLogger
from pagerduty_utils.exceptions import DependencyError, ValidationError
from pagerduty_utils.pagerduty_events import AlertEvent, AlertPayload, EventAction, Severity
from pagerduty_utils.rate_limiter import RateLimiter
from pdutils.testing.forwarder import StateTable
from tests.unit.fixtures.forwarder_fakes import FakeCircuit, RecordingMetrics

ROUTING_KEY = "R" * 32
OTHER_ROUTING_KEY = "S" * 32
T0 = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
PAYLOAD = {"summary": "fired", "source": "test", "severity": Severity.ERROR}


def event(
    dedup_key: str, action: EventAction = EventAction.TRIGGER, minute: int = 0, routing_key: str = ROUTING_KEY
) -> AlertEvent:
    payload = None
    if action is EventAction.TRIGGER:
        payload = AlertPayload.model_validate({**PAYLOAD, "summary": f"{dedup_key} fired"})
    return AlertEvent(
        routing_key=routing_key,
        event_action=action,
        dedup_key=dedup_key,
        payload=payload,
        occurred_at=T0 + timedelta(minutes=minute),
    )


def message(message_id: str, *events: AlertEvent, **plan: Any) -> InboundMessage:
    """A message whose content tells the fake planner what to return."""
    content: dict[str, Any] = {"events": [item.model_dump(mode="json") for item in events], "plan": plan}
    for index, item in enumerate(events):
        content["events"][index]["routing_key"] = item.routing_key
        content["events"][index]["occurred_at"] = item.occurred_at.isoformat() if item.occurred_at else None
    return InboundMessage(
        message_id=message_id,
        content=content,
        body=json.dumps(content),
        sent_at=T0,
        receipt_handle=f"receipt-{message_id}",
        queue_arn="arn:aws:sqs:us-east-1:123456789012:alerts",
    )


class FakePlanner:
    def plan(self, content: str | Mapping[str, Any]) -> Plan:
        assert isinstance(content, Mapping)
        options = content["plan"]
        if "error" in options:
            error = {"validation": ValidationError, "dependency": DependencyError, "bug": KeyError}[options["error"]]
            raise error("planner says no")
        events = tuple(AlertEvent.model_validate(item) for item in content["events"])
        return Plan(events=events, dropped=options.get("dropped", 0), unroutable=tuple(options.get("unroutable", ())))


@dataclass
class FakeSender:
    sent: list[AlertEvent] = field(default_factory=list)
    failures: dict[str, Exception] = field(default_factory=dict)
    before_accept: Callable[[AlertEvent], None] | None = None

    async def send(self, event: AlertEvent, *, deadline: float | None = None) -> object:
        await asyncio.sleep(0)
        failure = self.failures.get(f"{event.dedup_key}:{event.event_action.value}")
        if failure is not None:
            raise failure
        if self.before_accept is not None:
            self.before_accept(event)
        self.sent.append(event)
        return {"status": "success"}

    def sent_actions(self, dedup_key: str) -> list[str]:
        return [item.event_action.value for item in self.sent if item.dedup_key == dedup_key]


class RecordingAudit(AuditLogger):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[str, str, dict[str, object]]] = []

    def record(self, action: str, outcome: str, *, reason: str | None = None, **context: object) -> None:
        self.records.append((action, outcome, {"reason": reason, **context}))


@dataclass
class Harness:
    table: StateTable
    sender: FakeSender
    circuit: FakeCircuit
    metrics: RecordingMetrics
    ledger: DeliveryLedger
    dlq_url: str
    audit: RecordingAudit = field(default_factory=RecordingAudit)
    rate_limit: int = 120
    with_dlq: bool = True
    hold_age: float = 60.0  # seconds since the messages (sent at T0) entered the queue

    def forwarder(self) -> AlertForwarder:
        sqs = boto3.client("sqs")
        return AlertForwarder(
            ForwarderDependencies(
                planner=FakePlanner(),
                sender=self.sender,
                ledger=self.ledger,
                limiter=RateLimiter(self.table.name, limit_per_minute=self.rate_limit, client=self.table.client),
                circuit=self.circuit,
                metrics=self.metrics,
                dead_letters=DeadLetterQueue(self.dlq_url, client=lambda: sqs) if self.with_dlq else None,
                backoff=QueueBackoff(client=lambda: sqs),
                audit=self.audit,
                hold=HoldPolicy(clock=lambda: T0.timestamp() + self.hold_age),
            )
        )

    def run(self, *messages: InboundMessage, seconds_left: float = 30.0) -> BatchReport:
        forwarder = self.forwarder()
        return asyncio.run(forwarder.forward(list(messages), deadline=_monotonic() + seconds_left))

    def deliver_concurrently(self, newer: AlertEvent) -> None:
        """Another forwarder delivers ``newer`` while this one sends its own, older event of the same alert."""

        def record_newer(sent: AlertEvent) -> None:
            if sent.dedup_key == newer.dedup_key and sent.event_action is not newer.event_action:
                self.ledger.record(alert_key(newer), ledger_entry(newer, message("concurrent")))

        self.sender.before_accept = record_newer

    def dead_letters(self) -> list[dict[str, Any]]:
        response = boto3.client("sqs").receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        return [dict(item) for item in response.get("Messages", [])]


def _monotonic() -> float:
    return time.monotonic()


@pytest.fixture
def harness(in_process_state_table: StateTable) -> Harness:
    dlq_url = boto3.client("sqs").create_queue(QueueName="alerts-dlq")["QueueUrl"]
    ledger = DeliveryLedger(in_process_state_table.name, retention_seconds=3600, client=in_process_state_table.client)
    return Harness(in_process_state_table, FakeSender(), FakeCircuit(), RecordingMetrics(), ledger, dlq_url)


def test_healthy_batch_is_delivered_and_recorded(harness: Harness) -> None:
    report = harness.run(message("m1", event("a")), message("m2", event("b")), message("m3", event("c")))
    assert report.retried == []
    assert report.count(Verdict.DELIVERED) == 3
    assert sorted(item.dedup_key or "" for item in harness.sender.sent) == ["a", "b", "c"]
    assert harness.metrics.counts["Forwarded"] == 3
    assert harness.metrics.counts["DeliveryLatency"] == 3
    assert set(harness.ledger.latest([alert_key(event(key)) for key in "abc"])) == {
        alert_key(event(key)) for key in "abc"
    }


def test_redelivered_record_is_not_sent_again(harness: Harness) -> None:
    harness.run(message("m1", event("a")))
    report = harness.run(message("m1", event("a")))
    assert report.outcomes["m1"].verdict is Verdict.SKIPPED
    assert len(harness.sender.sent) == 1
    assert harness.metrics.counts["Skipped"] == 1


def test_same_key_is_sent_in_event_time_order(harness: Harness) -> None:
    resolve, trigger = event("a", EventAction.RESOLVE, minute=5), event("a", minute=1)
    report = harness.run(message("m1", resolve), message("m2", trigger))
    assert report.count(Verdict.DELIVERED) == 2
    assert harness.sender.sent_actions("a") == ["trigger", "resolve"]
    newest = harness.ledger.latest([alert_key(resolve)])[alert_key(resolve)]
    assert newest.action == "resolve"


def test_duplicates_within_a_batch_are_sent_once(harness: Harness) -> None:
    report = harness.run(message("m1", event("a")), message("m2", event("a")))
    assert harness.sender.sent_actions("a") == ["trigger"]
    assert {outcome.verdict for outcome in report.outcomes.values()} == {Verdict.DELIVERED, Verdict.SKIPPED}


def test_late_trigger_never_reopens_a_resolved_alert(harness: Harness) -> None:
    harness.run(message("m1", event("a", EventAction.RESOLVE, minute=10)))
    report = harness.run(message("m2", event("a", minute=3)))
    assert report.outcomes["m2"] == MessageOutcome(Verdict.SKIPPED, "stale")
    assert harness.sender.sent_actions("a") == ["resolve"]


def test_retryable_failure_holds_back_later_events_of_the_key(harness: Harness) -> None:
    harness.sender.failures["a:trigger"] = RateLimitedError("slow down", status=429, retry_after=7)
    report = harness.run(
        message("m1", event("a", minute=1)),
        message("m2", event("a", EventAction.RESOLVE, minute=2)),
        message("m3", event("b")),
    )
    assert report.retried == ["m1", "m2"]
    assert report.outcomes["m1"].retry_after == 7
    assert report.outcomes["m2"].reason == "ordering"
    assert harness.sender.sent_actions("a") == []
    assert harness.sender.sent_actions("b") == ["trigger"]
    assert harness.metrics.counts["Throttled"] == 1


def test_unavailable_pagerduty_is_retried(harness: Harness) -> None:
    harness.sender.failures["a:trigger"] = PagerDutyUnavailableError("boom", status=503)
    report = harness.run(message("m1", event("a")))
    assert report.retried == ["m1"]
    assert report.outcomes["m1"].reason == "unavailable"


def test_rejected_event_is_dead_lettered_with_its_reason_and_audited(harness: Harness) -> None:
    harness.sender.failures["a:trigger"] = InvalidEventError("bad event", status=400)
    report = harness.run(message("m1", event("a")), message("m2", event("b")))
    assert report.retried == []
    assert report.outcomes["m1"].verdict is Verdict.DEAD_LETTERED
    [letter] = harness.dead_letters()
    assert letter["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"] == "invalid_event"
    assert json.loads(letter["Body"])["events"][0]["dedup_key"] == "a"
    assert [(action, context["message_id"]) for action, _, context in harness.audit.records] == [
        ("alert.dead_letter", "m1")
    ]
    assert harness.metrics.counts["DeadLettered"] == 1


def test_an_alert_failing_just_inside_the_horizon_is_held_not_dead_lettered(harness: Harness) -> None:
    harness.hold_age = 24 * 3600 - 1
    harness.sender.failures["a:trigger"] = PagerDutyUnavailableError("boom", status=503)
    report = harness.run(message("m1", event("a")))
    assert report.retried == ["m1"]
    assert harness.dead_letters() == []


def test_an_alert_still_failing_at_the_horizon_is_dead_lettered_with_why(harness: Harness) -> None:
    harness.hold_age = 24 * 3600
    harness.circuit.open_seconds = 30
    report = harness.run(message("m1", event("a")))
    assert report.outcomes["m1"].verdict is Verdict.DEAD_LETTERED
    [letter] = harness.dead_letters()
    attributes = letter["MessageAttributes"]
    assert attributes[REASON_ATTRIBUTE]["StringValue"] == "held_past_horizon"
    assert attributes[DETAIL_ATTRIBUTE]["StringValue"] == (
        "held 24.0 h (horizon 24.0 h); last retry: circuit_open: PagerDuty circuit is open"
    )
    assert [(action, context["reason"]) for action, _, context in harness.audit.records] == [
        ("alert.dead_letter", "held_past_horizon")
    ]


@pytest.mark.parametrize(
    ("plan", "reason"),
    [({"unroutable": ["no rule matches"]}, "unroutable"), ({"error": "validation"}, "validation")],
)
def test_unprocessable_messages_are_dead_lettered(harness: Harness, plan: dict[str, Any], reason: str) -> None:
    report = harness.run(message("m1", **plan))
    assert report.outcomes["m1"].verdict is Verdict.DEAD_LETTERED
    assert report.outcomes["m1"].reason == reason
    assert len(harness.dead_letters()) == 1


def test_without_a_dead_letter_queue_permanent_failures_stay_queued(harness: Harness) -> None:
    harness.with_dlq = False
    report = harness.run(message("m1", unroutable=["no rule matches"]))
    assert report.retried == ["m1"]


@pytest.mark.parametrize("error", ["dependency", "bug"])
def test_planner_failure_retries_only_its_message(harness: Harness, error: str) -> None:
    report = harness.run(message("m1", error=error), message("m2", event("a")))
    assert report.retried == ["m1"]
    assert report.outcomes["m2"].verdict is Verdict.DELIVERED


def test_message_that_maps_to_nothing_is_skipped(harness: Harness) -> None:
    assert harness.run(message("m1")).outcomes["m1"] == MessageOutcome(Verdict.SKIPPED, "nothing to send")


def test_dropped_alerts_are_counted_not_sent(harness: Harness) -> None:
    report = harness.run(message("m1", dropped=2))
    assert report.outcomes["m1"].verdict is Verdict.DROPPED
    assert harness.metrics.counts["Dropped"] == 2
    assert harness.sender.sent == []


def test_open_circuit_hands_everything_back_without_calling(harness: Harness) -> None:
    harness.circuit.open_seconds = 42
    report = harness.run(message("m1", event("a")), message("m2", event("b")))
    assert report.retried == ["m1", "m2"]
    assert {outcome.retry_after for outcome in report.outcomes.values()} == {42}
    assert harness.sender.sent == []
    assert harness.metrics.counts["CircuitOpen"] == 2


def test_over_budget_events_are_retried_after_the_refill(harness: Harness) -> None:
    harness.rate_limit = 12  # burst 2
    report = harness.run(*(message(f"m{index}", event(f"k{index}")) for index in range(4)))
    assert report.count(Verdict.DELIVERED) == 2
    assert len(report.retried) == 2
    assert all(report.outcomes[item].reason == "rate_budget" for item in report.retried)
    assert all((report.outcomes[item].retry_after or 0) > 0 for item in report.retried)


def test_routing_keys_have_separate_budgets(harness: Harness) -> None:
    harness.rate_limit = 12
    batch = [message(f"m{index}", event(f"k{index}", routing_key=ROUTING_KEY)) for index in range(2)]
    batch += [message(f"n{index}", event(f"k{index}", routing_key=OTHER_ROUTING_KEY)) for index in range(2)]
    report = harness.run(*batch)
    assert report.count(Verdict.DELIVERED) == 4


def test_a_rate_limiter_failure_retries_only_the_events_of_its_routing_key(harness: Harness) -> None:
    failing_bucket = routing_fingerprint(OTHER_ROUTING_KEY)

    def fail_for_other_key(params: dict[str, Any], **_: Any) -> None:
        if params["Key"]["pk"]["S"].endswith(failing_bucket):
            raise EndpointConnectionError(endpoint_url="https://dynamodb.invalid")

    harness.table.client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", fail_for_other_key)
    report = harness.run(
        message("m1", event("a", routing_key=ROUTING_KEY)), message("n1", event("a", routing_key=OTHER_ROUTING_KEY))
    )
    assert report.outcomes["m1"].verdict is Verdict.DELIVERED
    assert report.retried == ["n1"]
    assert report.outcomes["n1"].reason == "dependency"


def test_no_time_left_hands_records_back(harness: Harness) -> None:
    report = harness.run(message("m1", event("a")), seconds_left=0.1)
    assert report.outcomes["m1"].reason == "deadline"
    assert harness.sender.sent == []


def test_ledger_outage_hands_the_batch_back(harness: Harness) -> None:
    harness.ledger = DeliveryLedger("no-such-table", retention_seconds=60, client=harness.table.client)
    report = harness.run(message("m1", event("a")))
    assert report.retried == ["m1"]
    assert harness.sender.sent == []


def test_trigger_that_lost_a_race_to_a_newer_resolve_is_resolved_again(harness: Harness) -> None:
    trigger = event("a", minute=1)
    newer_resolve = event("a", EventAction.RESOLVE, minute=2)

    harness.deliver_concurrently(newer_resolve)
    report = harness.run(message("m1", trigger))
    assert report.outcomes["m1"].verdict is Verdict.DELIVERED
    assert harness.sender.sent_actions("a") == ["trigger", "resolve"]


def test_resolve_that_lost_a_race_to_a_newer_trigger_triggers_again(harness: Harness) -> None:
    resolve = event("a", EventAction.RESOLVE, minute=1)
    newer_trigger = event("a", minute=2)

    harness.deliver_concurrently(newer_trigger)
    report = harness.run(message("m1", resolve))

    assert report.outcomes["m1"].verdict is Verdict.DELIVERED
    assert harness.sender.sent_actions("a") == ["resolve", "trigger"]
    assert harness.sender.sent[-1] == newer_trigger.model_copy(update={"occurred_at": None})
    assert harness.audit.records == []


def test_a_trigger_too_large_to_replay_leaves_an_audit_record_after_a_race(harness: Harness) -> None:
    resolve = event("a", EventAction.RESOLVE, minute=1)
    incompressible = os.urandom(24 * 1024).hex()
    newer_trigger = event("a", minute=2).model_copy(
        update={"payload": AlertPayload.model_validate({**PAYLOAD, "custom_details": {"blob": incompressible}})}
    )

    harness.deliver_concurrently(newer_trigger)
    harness.run(message("m1", resolve))

    assert harness.sender.sent_actions("a") == ["resolve"]
    [(action, outcome, context)] = harness.audit.records
    assert (action, outcome, context["newer_action"], context["message_id"]) == (
        "alert.repair_after_race",
        "failed",
        "trigger",
        "m1",
    )
    assert "too large" in str(context["reason"])


def test_retried_messages_are_hidden_for_their_backoff(harness: Harness) -> None:
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="x")
    received = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=0)["Messages"][0]
    harness.circuit.open_seconds = 600
    inbound = message("m1", event("a"))
    inbound = InboundMessage(
        message_id="m1",
        content=inbound.content,
        body=inbound.body,
        sent_at=T0,
        receipt_handle=received["ReceiptHandle"],
        queue_arn="arn:aws:sqs:us-east-1:123456789012:alerts",
    )
    harness.run(inbound)
    assert sqs.receive_message(QueueUrl=queue_url).get("Messages", []) == []
