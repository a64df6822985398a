"""Forwarder 'containers' in separate processes, sharing the state table and queue on the moto server.

Each function runs in a child process (``multiprocessing`` spawn): it builds what a fresh Lambda container
builds from the environment it inherited, waits for the common start signal, does its work and reports on a
result queue. Module-level functions so that spawned children can import them.
"""

from __future__ import annotations

import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

import boto3

from pagerduty_utils.alert_forwarder.wiring import build_forwarder
from pagerduty_utils.api_client import EventsClient, PagerDutyUnavailableError
from pagerduty_utils.circuit_breaker import Circuit, CircuitOpenError, SharedCircuitStore
from pagerduty_utils.pagerduty_events import AlertEvent, EventAction
from pagerduty_utils.settings import ForwarderSettings, load_settings
from pagerduty_utils.state_table import circuit_key
from pdutils.testing.forwarder import LambdaContextStub, lambda_sqs_record

_START_TIMEOUT_SECONDS = 60


def drain_queue(queue_url: str, queue_arn: str, seconds: float, start: Event, results: Queue[Any]) -> None:
    """Receive and forward batches until ``seconds`` have passed; report how many records were handled."""
    forwarder = build_forwarder(load_settings(ForwarderSettings))
    sqs = boto3.client("sqs")
    if not start.wait(_START_TIMEOUT_SECONDS):
        raise TimeoutError("no start signal")
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


def probe_once(table_name: str, events_url: str, routing_key: str, start: Event, results: Queue[Any]) -> None:
    """Send one event through the (open, recovery elapsed) circuit; report "sent" or "held"."""
    store = SharedCircuitStore(table_name, client=boto3.client("dynamodb"))
    host = events_url.split("://", 1)[1].rstrip("/")
    circuit = Circuit(
        circuit_key(host),
        store,
        failure_types=(PagerDutyUnavailableError,),
        failure_threshold=5,
        recovery_seconds=60,
        cache_seconds=0,
    )
    client = EventsClient(events_url)
    event = AlertEvent(routing_key=routing_key, event_action=EventAction.RESOLVE, dedup_key="probe", occurred_at=None)
    if not start.wait(_START_TIMEOUT_SECONDS):
        raise TimeoutError("no start signal")
    try:
        circuit.call(lambda: client.send(event))
    except CircuitOpenError:
        results.put("held")
    else:
        results.put("sent")
