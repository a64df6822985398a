"""Holding through an outage, with an injected clock: receive counts per hour, the horizon, the held index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
import pytest

from pagerduty_utils.alert_forwarder.batch import InboundMessage, MessageOutcome, Verdict
from pagerduty_utils.alert_forwarder.held_alerts import HeldAlerts, HeldMessage
from pagerduty_utils.alert_forwarder.holding import HORIZON_REASON, HoldPolicy, plan_holds
from pagerduty_utils.alert_forwarder.queue_backoff import QueueBackoff
from pdutils.testing.forwarder import StateTable

SENT = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:alerts"
UNAVAILABLE = MessageOutcome(Verdict.RETRY, "unavailable", "503 from PagerDuty")
HOUR = 3600.0


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now


def held_message(message_id: str = "m1", receive_count: int = 1, sent: datetime = SENT) -> InboundMessage:
    return InboundMessage(
        message_id=message_id,
        content={},
        body="{}",
        sent_at=sent,
        receipt_handle=f"receipt-{message_id}-{receive_count}",
        queue_arn=QUEUE_ARN,
        receive_count=receive_count,
    )


def receive_times(policy: HoldPolicy, clock: Clock, outcome: MessageOutcome, until: float) -> list[float]:
    """Drive one message through an outage: each receive fails with ``outcome`` until the horizon ends it."""
    times: list[float] = []
    while clock.now - SENT.timestamp() < until:
        message = held_message(receive_count=len(times) + 1)
        times.append(clock.now - SENT.timestamp())
        if policy.past_horizon(message):
            break
        clock.now += policy.hide_seconds(message, outcome)
    return times


@pytest.mark.parametrize("jitter", [0.0, 1.0])
def test_an_outage_costs_at_most_twelve_receives_per_hour(jitter: float) -> None:
    clock = Clock(SENT.timestamp())
    policy = HoldPolicy(clock=clock, random_source=lambda: jitter)
    times = receive_times(policy, clock, UNAVAILABLE, until=24 * HOUR)
    for hour in range(24):
        in_hour = [moment for moment in times if hour * HOUR <= moment < (hour + 1) * HOUR]
        assert len(in_hour) <= 12, (hour, in_hour)
    assert len(times) <= 12 + 23 * 5  # then at most one receive per 0.9 x 15 minutes


def test_nothing_is_dead_lettered_inside_the_horizon_and_the_last_receive_is_at_it() -> None:
    clock = Clock(SENT.timestamp())
    policy = HoldPolicy(horizon=24 * HOUR, clock=clock, random_source=lambda: 0.5)
    times = receive_times(policy, clock, UNAVAILABLE, until=30 * HOUR)
    assert times[-1] == 24 * HOUR
    assert all(moment < 24 * HOUR for moment in times[:-1])
    assert policy.past_horizon(held_message())
    assert len(times) < 1000  # the queue's maxReceiveCount backstop (template) never fires first


def test_a_configured_longer_horizon_holds_longer() -> None:
    clock = Clock(SENT.timestamp() + 3 * 24 * HOUR)
    assert not HoldPolicy(horizon=4 * 24 * HOUR, clock=clock).past_horizon(held_message())
    assert HoldPolicy(horizon=24 * HOUR, clock=clock).past_horizon(held_message())


def test_a_hide_follows_the_hold_age_between_the_first_hide_and_the_cap() -> None:
    clock = Clock(SENT.timestamp())
    policy = HoldPolicy(first_hide=30, max_hide=900, clock=clock, random_source=lambda: 0.0)
    assert policy.hide_seconds(held_message(), UNAVAILABLE) == 30
    clock.now += 200
    assert policy.hide_seconds(held_message(), UNAVAILABLE) == 200
    clock.now += 5000
    assert policy.hide_seconds(held_message(), UNAVAILABLE) == 900


def test_a_known_longer_wait_is_respected() -> None:
    policy = HoldPolicy(clock=Clock(SENT.timestamp()), random_source=lambda: 0.0)
    outcome = MessageOutcome(Verdict.RETRY, "circuit_open", "open", retry_after=55)
    assert policy.hide_seconds(held_message(), outcome) == 55


def test_the_rate_budget_retries_at_its_refill_whatever_the_age() -> None:
    """A released backlog drains at the routing key's budget, not at the hold's growing hides."""
    policy = HoldPolicy(clock=Clock(SENT.timestamp() + 2 * HOUR), random_source=lambda: 0.0)
    outcome = MessageOutcome(Verdict.RETRY, "rate_budget", "over budget", retry_after=3.0)
    assert policy.hide_seconds(held_message(), outcome) == 3


def test_holds_remember_only_messages_pagerduty_holds() -> None:
    policy = HoldPolicy(clock=Clock(SENT.timestamp()))
    holds = plan_holds(
        policy,
        [
            (held_message("m1"), UNAVAILABLE),
            (held_message("m2"), MessageOutcome(Verdict.RETRY, "rate_budget", retry_after=2)),
            (held_message("m3"), MessageOutcome(Verdict.RETRY, "circuit_open", retry_after=40)),
        ],
    )
    assert [deferral.receipt_handle for deferral in holds.deferrals] == ["receipt-m1-1", "receipt-m2-1", "receipt-m3-1"]
    assert [held.message_id for held in holds.held] == ["m1", "m3"]


def test_expiry_detail_says_how_long_and_why() -> None:
    policy = HoldPolicy(clock=Clock(SENT.timestamp() + 25 * HOUR))
    assert policy.expiry_detail(held_message(), UNAVAILABLE) == (
        "held 25.0 h (horizon 24.0 h); last retry: unavailable: 503 from PagerDuty"
    )
    assert HORIZON_REASON == "held_past_horizon"


def test_the_index_remembers_refreshes_and_releases(in_process_state_table: StateTable) -> None:
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for number in range(12):
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"alert {number}")
    received = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=900).get(
        "Messages", []
    ):
        received.extend(batch)
    index = HeldAlerts(in_process_state_table.name, client=in_process_state_table.client, retention_seconds=HOUR)
    held = [
        HeldMessage(message["MessageId"], arn, message["ReceiptHandle"], 1000.0 + position)
        for position, message in enumerate(received)
    ]
    index.remember(held[:6])
    index.remember(held)  # the same messages again (a later receive) overwrite, never duplicate
    assert [item.message_id for item in index.snapshot()] == [item.message_id for item in held]

    released = index.release(QueueBackoff(client=lambda: sqs))

    assert len(released) == 12
    assert index.snapshot() == []
    visible = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        visible.extend(batch)
    assert len(visible) == 12
