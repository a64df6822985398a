"""Property: any JSON object as an EventBridge ``detail`` and any string as an SNS message, through the whole
forwarder pipeline (mapping, routing, ledger, rate limiter, dead-letter queue), ends as a valid PagerDuty event
or a dead-letter record with its reason. Never an exception, never a lost record."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pagerduty_utils.alert_forwarder.batch import Verdict
from pagerduty_utils.alert_forwarder.change_delivery import ChangeDelivery
from pagerduty_utils.alert_forwarder.dead_letter import REASON_ATTRIBUTE, DeadLetterQueue
from pagerduty_utils.alert_forwarder.delivery_ledger import DeliveryLedger
from pagerduty_utils.alert_forwarder.forwarding import AlertForwarder, ForwarderDependencies
from pagerduty_utils.alert_forwarder.intake import Trigger, inbound_messages
from pagerduty_utils.alert_forwarder.routing import RoutingPlanner
from pagerduty_utils.config_parser import RoutingRules
from pagerduty_utils.data_transformer import TransformOptions
from pagerduty_utils.pagerduty_events import AlertEvent, ChangeEvent
from pagerduty_utils.rate_limiter import RateLimiter
from pdutils.testing.forwarder import StateTable
from tests.unit.fixtures.alert_events import load_event
from tests.unit.fixtures.events_api import change_validator, enqueue_validator
from tests.unit.fixtures.forwarder_fakes import RecordingMetrics

ROUTING_KEY = "R" * 32
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
# Keys that the mapping reads, so that examples reach the modelled paths as well as the generic one.
detail_keys = st.sampled_from(
    ["state", "status", "jobName", "message", "summary", "build-status", "eventName", "stack-id", "status-details"]
)
details = st.dictionaries(detail_keys | st.text(max_size=12), json_values, max_size=6)
detail_types = st.sampled_from(
    [
        "Glue Job State Change",
        "Step Functions Execution Status Change",
        "CodeDeploy Deployment State-change Notification",
        "CloudFormation Stack Status Change",
        "ECS Task State Change",
        "Config Rules Compliance Change",
        "AWS API Call via CloudTrail",
        "Something Nobody Modelled",
    ]
)
sources = st.sampled_from(["aws.glue", "aws.states", "aws.codedeploy", "aws.cloudformation", "aws.ecs", "com.example"])


@dataclass
class ValidatingSender:
    """Accepts what the Events API would accept: every body is checked against the official OpenAPI file."""

    check_alert: Callable[[AlertEvent], None]
    check_change: Callable[[ChangeEvent], None]
    sent: list[object] = field(default_factory=list)

    async def send(self, event: AlertEvent, *, deadline: float | None = None) -> object:
        self.check_alert(event)
        self.sent.append(event)
        return {"status": "success"}

    async def send_change(self, event: ChangeEvent, *, deadline: float | None = None) -> object:
        self.check_change(event)
        self.sent.append(event)
        return {"status": "success"}


class ClosedCircuit:
    def open_for(self) -> float | None:
        return None

    async def call_async(self, operation: Callable[[], Awaitable[object]]) -> object:
        return await operation()


@dataclass
class Pipeline:
    forwarder: AlertForwarder
    dead_letter_queue: str

    def run(self, event: dict[str, Any], trigger: Trigger) -> dict[str, Verdict]:
        messages = inbound_messages(event, trigger, now=lambda: NOW)
        report = asyncio.run(self.forwarder.forward(messages, deadline=time.monotonic() + 60))
        assert list(report.outcomes) == [message.message_id for message in messages], "every record has an outcome"
        return {message_id: outcome.verdict for message_id, outcome in report.outcomes.items()}

    def dead_letters(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        letters: list[dict[str, Any]] = []
        while batch := sqs.receive_message(
            QueueUrl=self.dead_letter_queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            for letter in batch:
                letters.append(dict(letter))
                sqs.delete_message(QueueUrl=self.dead_letter_queue, ReceiptHandle=letter["ReceiptHandle"])
        return letters


@pytest.fixture
def pipeline(in_process_state_table: StateTable) -> Pipeline:
    check_alert, check_change = enqueue_validator(), change_validator()
    table = in_process_state_table
    sender = ValidatingSender(check_alert, check_change)
    ledger = DeliveryLedger(table.name, retention_seconds=3600, client=table.client)
    limiter = RateLimiter(table.name, limit_per_minute=1_000_000, client=table.client)
    circuit, metrics = ClosedCircuit(), RecordingMetrics()
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="alerts-dlq")["QueueUrl"]
    planner = RoutingPlanner(
        RoutingRules.from_text("default: {routing_key: default}"), lambda: {"default": ROUTING_KEY}, TransformOptions()
    )
    dependencies = ForwarderDependencies(
        planner=planner,
        sender=sender,
        ledger=ledger,
        limiter=limiter,
        circuit=circuit,
        metrics=metrics,
        dead_letters=DeadLetterQueue(queue_url, client=lambda: sqs),
        changes=ChangeDelivery(sender=sender, ledger=ledger, limiter=limiter, circuit=circuit, metrics=metrics),
    )
    return Pipeline(AlertForwarder(dependencies), queue_url)


def assert_accounted_for(pipeline: Pipeline, verdicts: dict[str, Verdict]) -> None:
    """Sent (or a duplicate of what was sent), or dead-lettered with a reason: nothing retried, nothing lost."""
    assert set(verdicts.values()) <= {Verdict.DELIVERED, Verdict.SKIPPED, Verdict.DEAD_LETTERED}
    letters = pipeline.dead_letters()
    assert len(letters) == list(verdicts.values()).count(Verdict.DEAD_LETTERED)
    for letter in letters:
        assert letter["MessageAttributes"][REASON_ATTRIBUTE]["StringValue"]
        assert letter["Body"]


SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(detail=details, detail_type=detail_types, source=sources, event_id=st.uuids())
def test_any_eventbridge_detail_pages_or_is_dead_lettered_with_its_reason(
    pipeline: Pipeline, detail: dict[str, Any], detail_type: str, source: str, event_id: Any
) -> None:
    event = {
        **load_event("sources/eventbridge_ec2_instance_state_change.json"),
        "id": str(event_id),
        "source": source,
        "detail-type": detail_type,
        "detail": detail,
    }
    assert_accounted_for(pipeline, pipeline.run(event, Trigger.EVENTBRIDGE))


@SETTINGS
@given(messages=st.lists(st.text(max_size=200) | json_values.map(json.dumps), min_size=1, max_size=3))
def test_any_sns_message_pages_or_is_dead_lettered_with_its_reason(pipeline: Pipeline, messages: list[str]) -> None:
    event = load_event("sns_cloudwatch_alarm.json")
    template = event["Records"][0]
    event["Records"] = [{**template, "Sns": {**template["Sns"], "Message": message}} for message in messages]
    verdicts = pipeline.run(event, Trigger.SNS)
    assert len(verdicts) == len(messages), "records sharing a MessageId each have their own outcome"
    assert_accounted_for(pipeline, verdicts)
