"""The hold watch: nothing held costs one read; held alerts are released only once PagerDuty answers a probe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import boto3
import pytest
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.circuit_breaker import CircuitState

from pagerduty_utils.alert_forwarder.held_alerts import HeldAlerts, HeldMessage
from pagerduty_utils.alert_forwarder.hold_watch import HoldWatch, WatchResult
from pagerduty_utils.alert_forwarder.queue_backoff import QueueBackoff
from pagerduty_utils.api_client import InvalidEventError, PagerDutyUnavailableError, RateLimitedError
from pagerduty_utils.circuit_breaker import Circuit, SharedCircuitStore
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.state_table import circuit_key
from pdutils.testing.forwarder import StateTable

NOW = 1_800_000_000.0


@dataclass
class Probe:
    """Answers the watch's probes with ``failure`` (None: accepted) and counts them."""

    failure: Exception | None = None
    sent: int = 0

    async def __call__(self) -> object:
        self.sent += 1
        if self.failure is not None:
            raise self.failure
        return "accepted"


class RecordedMetrics(MetricsCollector):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, float] = {}

    def record(
        self,
        values: dict[str, tuple[MetricUnit, float]],
        dimensions: dict[str, str],
        *,
        metadata: dict[str, object] | None = None,
    ) -> None:
        self.values.update({name: value for name, (_, value) in values.items()})


@dataclass
class Scene:
    held: HeldAlerts
    circuit: Circuit
    probe: Probe
    metrics: RecordedMetrics
    queue_url: str
    hold: Callable[[int], None]

    def run(self) -> WatchResult:
        sqs = boto3.client("sqs")
        watch = HoldWatch(
            self.held, self.circuit, self.probe, QueueBackoff(client=lambda: sqs), self.metrics, clock=lambda: NOW
        )
        return asyncio.run(watch.run())

    def visible(self) -> int:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])


@pytest.fixture
def scene(in_process_state_table: StateTable) -> Scene:
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    table = in_process_state_table
    held = HeldAlerts(table.name, client=table.client, retention_seconds=3600)
    circuit = Circuit(
        circuit_key("events.example.com"),
        SharedCircuitStore(table.name, client=table.client),
        failure_types=(PagerDutyUnavailableError,),
        failure_threshold=1,
        recovery_seconds=60,
        cache_seconds=0,
    )

    def hold(count: int) -> None:
        for number in range(count):
            sqs.send_message(QueueUrl=queue_url, MessageBody=f"alert {number}")
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=900)["Messages"]
        held.remember(
            HeldMessage(message["MessageId"], arn, message["ReceiptHandle"], NOW - 600 + index)
            for index, message in enumerate(messages)
        )

    return Scene(held, circuit, Probe(), RecordedMetrics(), queue_url, hold)


def open_circuit(scene: Scene) -> None:
    def down() -> None:
        raise PagerDutyUnavailableError("down", status=503)

    with pytest.raises(PagerDutyUnavailableError):
        scene.circuit.call(down)


def test_nothing_held_sends_no_probe(scene: Scene) -> None:
    result = scene.run()
    assert (result.held, result.released, scene.probe.sent) == (0, 0, 0)
    assert scene.metrics.values == {"HeldAlerts": 0, "OldestHeldAgeSeconds": 0.0, "CircuitState": 0}


def test_held_alerts_are_released_when_pagerduty_answers(scene: Scene) -> None:
    scene.hold(3)
    result = scene.run()
    assert (result.held, result.released, scene.probe.sent) == (3, 3, 1)
    assert result.oldest_age_seconds == 600
    assert scene.visible() == 3
    assert scene.held.snapshot() == []


def test_a_refused_probe_is_still_an_answer(scene: Scene) -> None:
    scene.hold(2)
    scene.probe.failure = InvalidEventError("bad", status=400)
    assert scene.run().released == 2


@pytest.mark.parametrize(
    "failure",
    [PagerDutyUnavailableError("down", status=503), RateLimitedError("slow down", status=429, retry_after=30)],
)
def test_held_alerts_stay_held_while_pagerduty_fails(scene: Scene, failure: Exception) -> None:
    scene.hold(2)
    scene.probe.failure = failure
    result = scene.run()
    assert result.released == 0
    assert scene.visible() == 0
    assert len(scene.held.snapshot()) == 2
    assert scene.metrics.values["HeldAlerts"] == 2


def test_no_probe_before_the_open_circuit_allows_one(scene: Scene) -> None:
    scene.hold(1)
    open_circuit(scene)
    result = scene.run()
    assert (result.circuit, result.released, scene.probe.sent) == (CircuitState.OPEN, 0, 0)
    assert scene.metrics.values["CircuitState"] == 2
