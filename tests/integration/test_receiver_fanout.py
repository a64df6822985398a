"""A PagerDuty webhook through the handler and the real adapters on the embedded AWS: verified, recorded in the
state table, published on the bus (observed through a rule to an SQS queue) and notified over SNS; failures of
DynamoDB and EventBridge answered with a 5xx and recovered by the retry."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from functions.webhook_receiver.app import lambda_handler
from pagerduty_utils import secrets
from pagerduty_utils.exceptions import RetryableError
from pagerduty_utils.settings import ReceiverSettings, load_settings
from pagerduty_utils.webhook_processor.processing import Disposition, WebhookRequest
from pagerduty_utils.webhook_processor.signature import sign
from pagerduty_utils.webhook_processor.wiring import ReceiverDependencies, build_dependencies
from pdutils.moto_server import MotoEndpoint
from pdutils.testing.webhook_fakes import RecordingCounter, incident_data, webhook_body

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:No application metrics to publish")]

SECRET = "local-webhook-secret"
TABLE = "pagerduty-state"
BUS = "pagerduty-incidents"


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "webhook-receiver"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:webhook-receiver"
    aws_request_id: str = "c0ffee00-0000-4000-8000-000000000001"


@dataclass
class AwsReceiver:
    dependencies: ReceiverDependencies
    faults: AwsFaults
    bus_queue_url: str
    notification_queue_url: str

    def post(self, body: bytes, *, signature: str | None = None, base64_body: bool = False) -> tuple[int, Any]:
        headers = {"X-PagerDuty-Signature": signature or sign(body, SECRET.encode()), "X-Webhook-Id": "wh-1"}
        event = {
            "resource": "/webhooks/pagerduty",
            "path": "/webhooks/pagerduty",
            "httpMethod": "POST",
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "body": base64.b64encode(body).decode() if base64_body else body.decode(),
            "isBase64Encoded": base64_body,
            "requestContext": {"requestId": "req-42", "resourcePath": "/webhooks/pagerduty", "httpMethod": "POST"},
        }
        response = lambda_handler(event, FakeLambdaContext(), dependencies=self.dependencies)
        return response["statusCode"], json.loads(response["body"])

    def get_health(self) -> tuple[int, Any]:
        event = {
            "resource": "/health",
            "path": "/health",
            "httpMethod": "GET",
            "headers": {},
            "body": None,
            "isBase64Encoded": False,
            "requestContext": {"requestId": "req-43", "resourcePath": "/health", "httpMethod": "GET"},
        }
        response = lambda_handler(event, FakeLambdaContext(), dependencies=self.dependencies)
        return response["statusCode"], json.loads(response["body"])

    def bus_events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in drain(self.bus_queue_url)]

    def notifications(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in drain(self.notification_queue_url)]


def drain(queue_url: str) -> list[str]:
    """Every message now in the queue (moto delivers bus and topic targets during the publishing call)."""
    sqs = boto3.client("sqs")
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def provision(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("secretsmanager").create_secret(
        Name="pd/webhook-secrets", SecretString=json.dumps({"secrets": ["old", SECRET]})
    )
    sqs = boto3.client("sqs")
    bus_queue = sqs.create_queue(QueueName="bus-observer")["QueueUrl"]
    notification_queue = sqs.create_queue(QueueName="notification-observer")["QueueUrl"]

    def queue_arn(url: str) -> str:
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    events = boto3.client("events")
    events.create_event_bus(Name=BUS)
    events.put_rule(Name="all-pagerduty", EventBusName=BUS, EventPattern=json.dumps({"source": ["pagerduty.webhooks"]}))
    events.put_targets(
        Rule="all-pagerduty", EventBusName=BUS, Targets=[{"Id": "observer", "Arn": queue_arn(bus_queue)}]
    )
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="incident-notifications")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn(notification_queue),
        Attributes={"RawMessageDelivery": "false"},
    )
    for name, value in {
        "STATE_TABLE_NAME": TABLE,
        "WEBHOOK_SECRETS_SECRET_ID": "pd/webhook-secrets",
        "EVENT_BUS_NAME": BUS,
        "NOTIFICATION_TOPIC_ARN": topic,
        "WEBHOOK_REPLAY_WINDOW_SECONDS": "3600",
    }.items():
        monkeypatch.setenv(name, value)
    return bus_queue, notification_queue


@pytest.fixture
def receiver(aws: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsReceiver]:
    secrets.clear_cache()
    bus_queue, notification_queue = provision(monkeypatch)
    # Clients copy their session's hooks when created: register the faults before building the adapters.
    session = boto3.session.Session()
    faults = AwsFaults()
    hook = cast(Callable[..., None], faults)  # botocore's stubs omit that before-send hooks may return a response
    session.events.register("before-send", hook)
    dependencies = build_dependencies(load_settings(ReceiverSettings), metrics=RecordingCounter(), session=session)
    yield AwsReceiver(dependencies, faults, bus_queue, notification_queue)
    secrets.clear_cache()


def state_item(key: str) -> dict[str, Any]:
    item: dict[str, Any] = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": key}}).get("Item", {})
    return item


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


class AwsFaults:
    """Answers chosen AWS operations with an error, or holds them, through botocore's ``before-send`` hook."""

    def __init__(self) -> None:
        self.errors: dict[str, tuple[int, str]] = {}
        self.holds: dict[str, Callable[[], None]] = {}

    def __call__(self, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        if operation in self.holds:
            self.holds[operation]()
        if operation not in self.errors:
            return None
        status, code = self.errors[operation]
        body = json.dumps({"__type": code, "message": "injected"}).encode()
        headers = HTTPHeaders()
        headers["x-amzn-ErrorType"] = code
        return AWSResponse("https://aws.invalid", status, headers, _StaticRaw(body))


class _StaticRaw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def test_webhook_reaches_the_bus_the_state_table_and_the_topic(receiver: AwsReceiver) -> None:
    body = webhook_body(incident_data(), event_id="E-1", occurred_at=minutes_ago(1))
    assert receiver.post(body, base64_body=True) == (200, {"status": "processed", "event_id": "E-1"})

    [bus_event] = receiver.bus_events()
    assert (bus_event["source"], bus_event["detail-type"]) == ("pagerduty.webhooks", "incident.triggered")
    detail = bus_event["detail"]
    assert (detail["event_id"], detail["webhook_id"], detail["is_latest"]) == ("E-1", "wh-1", True)
    assert detail["incident"]["id"] == "PINC001"

    incident = state_item("incident#PINC001")
    assert (incident["incident_status"]["S"], incident["event_id"]["S"]) == ("triggered", "E-1")
    assert state_item("webhook#E-1")["delivery_status"]["S"] == "done"

    [notification] = receiver.notifications()
    assert notification["Subject"].startswith("[TRIGGERED HIGH] Disk full")
    assert notification["MessageAttributes"]["event_type"]["Value"] == "incident.triggered"
    rendering = json.loads(notification["Message"])
    assert (rendering["event_id"], rendering["incident_id"]) == ("E-1", "PINC001")
    assert rendering["slack"]["blocks"]


def test_duplicate_is_acknowledged_and_not_published_again(receiver: AwsReceiver) -> None:
    body = webhook_body(incident_data(), event_id="E-dup", occurred_at=minutes_ago(1))
    assert receiver.post(body)[0] == 200
    assert receiver.post(body) == (200, {"status": "duplicate", "event_id": "E-dup"})
    assert len(receiver.bus_events()) == 1


def test_out_of_order_event_does_not_overwrite_newer_state(receiver: AwsReceiver) -> None:
    resolved = webhook_body(
        incident_data(status="resolved"), event_type="incident.resolved", event_id="E-res", occurred_at=minutes_ago(1)
    )
    acked = webhook_body(
        incident_data(status="acknowledged"),
        event_type="incident.acknowledged",
        event_id="E-ack",
        occurred_at=minutes_ago(3),
    )
    assert receiver.post(resolved)[0] == 200
    assert receiver.post(acked)[0] == 200
    assert state_item("incident#PINC001")["incident_status"]["S"] == "resolved"
    assert state_item("webhook#E-ack")["delivery_status"]["S"] == "done"
    assert [(e["detail"]["event_id"], e["detail"]["is_latest"]) for e in receiver.bus_events()] == [
        ("E-res", True),
        ("E-ack", False),
    ]
    assert [json.loads(n["Message"])["event_id"] for n in receiver.notifications()] == ["E-res"]


def test_forged_request_touches_nothing(receiver: AwsReceiver) -> None:
    body = webhook_body(incident_data(), event_id="E-forged", occurred_at=minutes_ago(1))
    assert receiver.post(body, signature=sign(body, b"attacker"))[0] == 403
    assert receiver.bus_events() == []
    assert state_item("webhook#E-forged") == {}


def test_dynamodb_throttling_is_a_503_and_the_retry_succeeds(receiver: AwsReceiver) -> None:
    body = webhook_body(incident_data(), event_id="E-throttled", occurred_at=minutes_ago(1))
    receiver.faults.errors["TransactWriteItems"] = (400, "ProvisionedThroughputExceededException")
    status, problem = receiver.post(body)
    assert (status, problem["type"]) == (503, "urn:pagerduty-utils:problem:temporarily-unavailable")
    assert receiver.bus_events() == []
    receiver.faults.errors.clear()
    assert receiver.post(body)[0] == 200
    assert len(receiver.bus_events()) == 1


def test_eventbridge_failure_is_a_503_releases_the_claim_and_the_retry_publishes(receiver: AwsReceiver) -> None:
    body = webhook_body(incident_data(), event_id="E-busdown", occurred_at=minutes_ago(1))
    receiver.faults.errors["PutEvents"] = (500, "InternalException")
    assert receiver.post(body)[0] == 503
    assert state_item("webhook#E-busdown") == {}
    receiver.faults.errors.clear()
    assert receiver.post(body)[0] == 200
    assert [e["detail"]["event_id"] for e in receiver.bus_events()] == ["E-busdown"]


def test_missing_bus_is_a_5xx_not_a_4xx(receiver: AwsReceiver) -> None:
    boto3.client("events").remove_targets(Rule="all-pagerduty", EventBusName=BUS, Ids=["observer"])
    boto3.client("events").delete_rule(Name="all-pagerduty", EventBusName=BUS)
    boto3.client("events").delete_event_bus(Name=BUS)
    body = webhook_body(incident_data(), event_id="E-nobus", occurred_at=minutes_ago(1))
    assert receiver.post(body)[0] >= 500


def test_concurrent_duplicates_publish_once(receiver: AwsReceiver) -> None:
    """The first delivery is held inside PutEvents until the duplicate has been answered."""
    processor = receiver.dependencies.processor
    body = webhook_body(incident_data(), event_id="E-race", occurred_at=minutes_ago(1))
    request = WebhookRequest(body=body, signature_header=sign(body, SECRET.encode()), webhook_id=None, request_id="r")
    first_publishing = threading.Event()
    duplicate_answered = threading.Event()

    def hold(**_: Any) -> None:
        first_publishing.set()
        assert duplicate_answered.wait(timeout=10)

    receiver.faults.holds["PutEvents"] = hold

    def duplicate() -> type[Exception] | Disposition:
        assert first_publishing.wait(timeout=10)
        try:
            return processor.handle(request).disposition
        except RetryableError as error:
            return type(error)
        finally:
            duplicate_answered.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(processor.handle, request)
        second = pool.submit(duplicate)
        assert first.result(timeout=20).disposition is Disposition.PROCESSED
        assert second.result(timeout=20) is not Disposition.PROCESSED
    receiver.faults.holds.clear()
    assert len(receiver.bus_events()) == 1
    assert processor.handle(request).disposition is Disposition.DUPLICATE


def test_stale_delivery_is_acknowledged_and_not_processed(receiver: AwsReceiver) -> None:
    body = webhook_body(incident_data(), event_id="E-old", occurred_at=minutes_ago(90))
    assert receiver.post(body) == (200, {"status": "ignored", "event_id": "E-old", "reason": "stale"})
    assert receiver.bus_events() == []


@pytest.mark.parametrize(
    ("stored", "status"),
    [
        ({"report": {"S": json.dumps({"status": "healthy", "checked_at": "2026-11-27T04:00:00Z", "checks": []})}}, 200),
        (
            {"report": {"S": json.dumps({"status": "unhealthy", "checked_at": "2026-11-27T04:00:00Z", "checks": []})}},
            503,
        ),
        ({"report": {"S": json.dumps({"status": "healthy", "checks": []})}, "expiration": {"N": "1"}}, 503),
        ({"report": {"S": "not json"}}, 503),
        (None, 503),
    ],
)
def test_health_serves_the_stored_report(receiver: AwsReceiver, stored: dict[str, Any] | None, status: int) -> None:
    if stored is not None:
        boto3.client("dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": "health#latest"}, **stored})
    assert receiver.get_health()[0] == status
