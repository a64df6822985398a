"""Benchmark of the webhook receiver (a script, not a test).

1. AWS calls per webhook, counted with botocore ``before-call`` hooks against the embedded AWS (moto server):
   the normal path, a non-incident event, a duplicate and an out-of-order event; beside them, Powertools
   idempotency on the same table as a baseline. Target: <= 3 on the normal path.
2. CPU per webhook outside I/O: ``time.process_time`` over many signed webhooks with in-memory adapters, for the
   processor alone and through the whole handler (resolver, logger, metrics). Target: <= 2 ms.

The cold start of every handler is measured the same way by bench/bench_cold_start.py.

    POWERTOOLS_TRACE_DISABLED=true .venv/bin/python bench/bench_receiver.py [--webhooks 2000] [--aws-webhooks 50]

Log lines go to /dev/null while measuring so the console stays readable.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from pagerduty_utils import secrets
from pagerduty_utils.settings import ReceiverSettings, load_settings
from pagerduty_utils.webhook_processor.health_snapshot import HealthSnapshotReader
from pagerduty_utils.webhook_processor.processing import ReceiverPolicy, WebhookProcessor, WebhookRequest
from pagerduty_utils.webhook_processor.signature import sign
from pagerduty_utils.webhook_processor.wiring import ReceiverDependencies, build_dependencies
from pdutils.moto_server import running_moto_server
from pdutils.testing.aws_calls import AwsCallCounter
from pdutils.testing.bench_report import Figure, emit
from pdutils.testing.webhook_fakes import (
    InMemoryWebhookStateStore,
    RecordingAudit,
    RecordingCounter,
    RecordingPublisher,
    StaticSecrets,
    incident_data,
    webhook_body,
)

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"  # noqa: S105  # signs synthetic webhooks only
TABLE = "bench-state"
BUS = "bench-bus"
TARGETED_PATHS = {"incident event, normal path", "non-incident event (note)"}


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "webhook-receiver"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:webhook-receiver"
    aws_request_id: str = "bench"


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send fd 1 (Powertools log and EMF lines) to /dev/null for the duration."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def signed_request(
    index: int, *, minutes_ago: float = 1, status: str = "triggered", incident: str | None = None
) -> WebhookRequest:
    body = webhook_body(
        incident_data(incident or f"PINC{index:05d}", status=status),
        event_type=f"incident.{status}",
        event_id=f"E{index:08d}",
        occurred_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
    )
    return WebhookRequest(body=body, signature_header=sign(body, SECRET.encode()), webhook_id=None, request_id="r")


def note_request(index: int) -> WebhookRequest:
    note = {
        "type": "incident_note",
        "id": f"PNOTE{index:03d}",
        "content": "Rolled back",
        "incident": {"id": "PINC00001", "type": "incident_reference"},
    }
    body = webhook_body(note, event_type="incident.annotated", event_id=f"N{index:08d}")
    return WebhookRequest(body=body, signature_header=sign(body, SECRET.encode()), webhook_id=None, request_id="r")


# ---------------------------------------------------------------- 1. AWS calls


def measure_calls(counter: AwsCallCounter, action: Callable[[], object], repeat: int) -> tuple[float, str]:
    """AWS calls per ``action``, averaged over ``repeat`` runs, and their split by operation."""
    counter.take()
    for _ in range(repeat):
        action()
    calls = counter.take()
    detail = ", ".join(f"{name} {count / repeat:g}" for name, count in sorted(calls.items()))
    return sum(calls.values()) / repeat, detail


def provision_aws() -> None:
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("events").create_event_bus(Name=BUS)
    boto3.client("secretsmanager").create_secret(Name="bench/webhooks", SecretString=json.dumps([SECRET]))
    os.environ.update({"STATE_TABLE_NAME": TABLE, "EVENT_BUS_NAME": BUS, "WEBHOOK_SECRETS_SECRET_ID": "bench/webhooks"})


def powertools_idempotency_baseline(counter: AwsCallCounter, repeat: int) -> list[tuple[str, float, str]]:
    dynamodb = boto3.client("dynamodb")
    events = boto3.client("events")
    persistence = DynamoDBPersistenceLayer(
        table_name=TABLE, key_attr="pk", expiry_attr="expiration", boto3_client=dynamodb
    )
    config = IdempotencyConfig(event_key_jmespath="id", use_local_cache=False)

    @idempotent_function(data_keyword_argument="delivery", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def guard_only(delivery: dict[str, str]) -> dict[str, str]:
        return delivery

    @idempotent_function(data_keyword_argument="delivery", persistence_store=persistence, config=config)  # type: ignore[untyped-decorator]
    def full_path(delivery: dict[str, str]) -> dict[str, str]:
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"incident#{delivery['id']}"}})
        events.put_events(Entries=[{"EventBusName": BUS, "Source": "bench", "DetailType": "x", "Detail": "{}"}])
        return delivery

    sequence = iter(range(10**9))
    guard = measure_calls(counter, lambda: guard_only(delivery={"id": f"P{next(sequence)}"}), repeat)
    full = measure_calls(counter, lambda: full_path(delivery={"id": f"Q{next(sequence)}"}), repeat)
    return [
        ("Powertools idempotency alone (baseline)", *guard),
        ("Powertools idempotency + state + publish (baseline)", *full),
    ]


def count_aws_calls(repeat: int) -> list[tuple[str, float, str]]:
    """Every client the receiver builds (on its own session) and the baseline's are counted; provisioning is not."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with running_moto_server() as endpoint:
        os.environ.update(endpoint.environment)
        provision_aws()
        counter = AwsCallCounter()
        secrets.clear_cache()
        with counter.installed(), quiet_stdout():
            processor = build_dependencies(load_settings(ReceiverSettings), metrics=RecordingCounter()).processor
            processor.handle(signed_request(10**6))  # fetches and caches the secrets (once per cache period)
            requests = iter([signed_request(index) for index in range(repeat)])
            notes = iter([note_request(index) for index in range(repeat)])
            duplicate = signed_request(0)
            late = iter(
                [signed_request(10**5 + index, minutes_ago=30, incident="PINC00001") for index in range(repeat)]
            )
            rows = [
                (
                    "incident event, normal path",
                    *measure_calls(counter, lambda: processor.handle(next(requests)), repeat),
                ),
                ("non-incident event (note)", *measure_calls(counter, lambda: processor.handle(next(notes)), repeat)),
                ("duplicate", *measure_calls(counter, lambda: processor.handle(duplicate), repeat)),
                ("out-of-order incident event", *measure_calls(counter, lambda: processor.handle(next(late)), repeat)),
            ]
            rows += powertools_idempotency_baseline(counter, repeat)
    if not rows[0][1]:
        raise RuntimeError("no AWS call was counted: the receiver's clients escaped the counter")
    return rows


# ---------------------------------------------------------------- 2. CPU


class NoHealthReport(HealthSnapshotReader):
    def latest(self) -> dict[str, Any] | None:
        return None


def in_memory_processor() -> tuple[WebhookProcessor, ReceiverDependencies]:
    bus = RecordingPublisher()
    processor = WebhookProcessor(
        secrets=StaticSecrets("rotated-out", SECRET),
        store=InMemoryWebhookStateStore(),
        publisher=bus,
        notifier=bus,
        policy=ReceiverPolicy(replay_window_seconds=3600, lease_seconds=30),
        audit=RecordingAudit(),
        metrics=RecordingCounter(),
    )

    dependencies = ReceiverDependencies(processor=processor, health=NoHealthReport(), max_body_bytes=256 * 1024)
    return processor, dependencies


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "webhook_receiver_app", REPO / "functions" / "webhook_receiver" / "app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def api_gateway_event(request: WebhookRequest) -> dict[str, Any]:
    headers = {"X-PagerDuty-Signature": request.signature_header or "", "Content-Type": "application/json"}
    return {
        "resource": "/webhooks/pagerduty",
        "path": "/webhooks/pagerduty",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "body": request.body.decode(),
        "isBase64Encoded": False,
        "requestContext": {"requestId": "bench", "resourcePath": "/webhooks/pagerduty", "httpMethod": "POST"},
    }


def cpu_per_webhook(webhooks: int) -> list[tuple[str, float]]:
    handler = load_handler()
    processor, _ = in_memory_processor()
    _, dependencies = in_memory_processor()
    direct = [signed_request(index) for index in range(webhooks)]
    through_handler = [api_gateway_event(signed_request(index)) for index in range(webhooks)]
    with quiet_stdout():
        processor.handle(signed_request(-1))  # first use builds the lazily built models
        start = time.process_time()
        for request in direct:
            processor.handle(request)
        processor_ms = (time.process_time() - start) * 1000 / webhooks
        start = time.process_time()
        for event in through_handler:
            handler.lambda_handler(event, FakeLambdaContext(), dependencies=dependencies)
        handler_ms = (time.process_time() - start) * 1000 / webhooks
    return [
        ("processor (verify, parse, claim, normalize, publish)", processor_ms),
        ("whole handler (+ resolver, logger, metrics)", handler_ms),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--webhooks", type=int, default=2000, help="webhooks for the CPU measurement")
    parser.add_argument("--aws-webhooks", type=int, default=50, help="webhooks per AWS-call scenario")
    parser.add_argument("--quick", action="store_true", help="500 webhooks for CPU, 20 per AWS-call scenario")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for bench/run_all.py)")
    args = parser.parse_args()
    webhooks, aws_webhooks = (500, 20) if args.quick else (args.webhooks, args.aws_webhooks)
    # Powertools warns about empty metric flushes and about idempotency outside Lambda: both expected here.
    warnings.filterwarnings("ignore", category=UserWarning, module="aws_lambda_powertools")
    calls = {name: (value, detail) for name, value, detail in count_aws_calls(aws_webhooks)}
    peer_name = "Powertools idempotency + state + publish (baseline)"
    figures = [
        Figure(
            f"AWS calls per webhook, {name}",
            value,
            "calls",
            "Powertools idempotency + state + publish",
            calls[peer_name][0],
            "<= 3" if name in TARGETED_PATHS else "",
            value <= 3 if name in TARGETED_PATHS else None,
            detail,
        )
        for name, (value, detail) in calls.items()
        if "baseline" not in name
    ]
    figures += [
        Figure(f"CPU per webhook, {name}", milliseconds, "ms", target="<= 2 ms", met=milliseconds <= 2)
        for name, milliseconds in cpu_per_webhook(webhooks)
    ]
    emit(figures, as_json=args.json)


if __name__ == "__main__":
    main()
