"""Forwarder 'containers' in separate processes, sharing the state table and queue on the moto server.

Each function runs in a child process (``multiprocessing`` spawn): it builds what a fresh Lambda container
builds from the environment it inherited, waits for the common start signal, does its work and reports on a
result queue. The start signal is a barrier the parent also waits at, so no child begins before every child
is ready: a slow import in one child does not let the others finish their work before it starts. Module-level
functions so that spawned children can import them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import TYPE_CHECKING, Any

import boto3

from pagerduty_utils.alert_forwarder.wiring import build_forwarder
from pagerduty_utils.api_client import EventsClient, PagerDutyUnavailableError, RetryPolicy
from pagerduty_utils.circuit_breaker import Circuit, CircuitOpenError, SharedCircuitStore
from pagerduty_utils.pagerduty_events import AlertEvent, EventAction
from pagerduty_utils.settings import ForwarderSettings, load_settings
from pagerduty_utils.state_table import circuit_key
from pdutils.testing.forwarder import LambdaContextStub, lambda_sqs_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

START_TIMEOUT_SECONDS = 300  # twenty spawned interpreters importing boto3 on a loaded 2-core machine


def drain_queue(queue_url: str, queue_arn: str, seconds: float, start: Barrier, results: Queue[Any]) -> None:
    """Receive and forward batches until ``seconds`` have passed; report how many records were handled."""
    forwarder = build_forwarder(load_settings(ForwarderSettings))
    sqs = boto3.client("sqs")
    start.wait(START_TIMEOUT_SECONDS)
    handled = 0
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=1
        ).get("Messages", [])
        if not messages:
            continue
        event = {"Records": [lambda_sqs_record(dict(message), queue_arn) for message in messages]}
        response = forwarder.handle(event, LambdaContextStub()) or {}
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        for record in event["Records"]:
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])
        handled += len(messages)
    results.put(handled)


def probe_once(table_name: str, events_url: str, routing_key: str, start: Barrier, results: Queue[Any]) -> None:
    """Send one event through the (open, recovery elapsed) circuit; report "sent" or "held"."""
    circuit = _circuit(table_name, events_url, threshold=5, cache_seconds=0)
    client = EventsClient(events_url)
    event = AlertEvent(routing_key=routing_key, event_action=EventAction.RESOLVE, dedup_key="probe", occurred_at=None)
    start.wait(START_TIMEOUT_SECONDS)
    try:
        circuit.call(lambda: client.send(event))
    except CircuitOpenError:
        results.put("held")
    else:
        results.put("sent")


@dataclass(frozen=True)
class FailurePlan:
    """``attempts`` sends through a circuit of ``threshold`` failures, PagerDuty at ``events_url`` failing."""

    table_name: str
    events_url: str
    routing_key: str
    attempts: int
    threshold: int


@dataclass(frozen=True)
class ReadPlan:
    """Ask the circuit's state for ``seconds``, its container cache lasting ``cache_seconds``."""

    table_name: str
    events_url: str
    seconds: float
    cache_seconds: int


def fail_through_circuit(plan: FailurePlan, start: Barrier, results: Queue[Any]) -> None:
    """Send through the shared circuit while PagerDuty fails; report how many sends were made."""
    circuit = _circuit(plan.table_name, plan.events_url, threshold=plan.threshold, cache_seconds=0)
    client = EventsClient(plan.events_url, retry=RetryPolicy(max_attempts=1))
    event = AlertEvent(
        routing_key=plan.routing_key, event_action=EventAction.RESOLVE, dedup_key="down", occurred_at=None
    )
    start.wait(START_TIMEOUT_SECONDS)
    sent = 0
    for _ in range(plan.attempts):
        try:
            circuit.call(lambda: client.send(event))
        except PagerDutyUnavailableError:
            sent += 1
        except CircuitOpenError:
            pass
    results.put(sent)


def read_circuit_state(plan: ReadPlan, start: Barrier, results: Queue[Any]) -> None:
    """Ask the circuit's state from 10 threads; report when this container read the table."""
    dynamodb = boto3.client("dynamodb")
    reads: list[float] = []
    dynamodb.meta.events.register("before-call.dynamodb.GetItem", lambda **_: reads.append(time.time()))
    circuit = _circuit(plan.table_name, plan.events_url, threshold=5, cache_seconds=plan.cache_seconds, client=dynamodb)
    start.wait(START_TIMEOUT_SECONDS)
    stop_at = time.monotonic() + plan.seconds

    def ask() -> None:
        while time.monotonic() < stop_at:
            circuit.state()
            time.sleep(0.01)  # a busy container asks about every 10 ms per thread

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(reads)


def _circuit(
    table_name: str, events_url: str, *, threshold: int, cache_seconds: int, client: DynamoDBClient | None = None
) -> Circuit:
    host = events_url.split("://", 1)[1].rstrip("/")
    return Circuit(
        circuit_key(host),
        SharedCircuitStore(table_name, client=client or boto3.client("dynamodb")),
        failure_types=(PagerDutyUnavailableError,),
        failure_threshold=threshold,
        recovery_seconds=60,
        cache_seconds=cache_seconds,
    )
