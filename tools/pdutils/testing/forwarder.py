"""pytest fixtures for the alert forwarder's state: the state table in-process (unit) or on the moto server."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from pagerduty_utils import secrets
from pagerduty_utils.observability import metrics
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE
from pdutils.moto_server import MotoEndpoint

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_sqs.client import SQSClient

STATE_TABLE_NAME = "pdutils-state"


@dataclass(frozen=True)
class StateTable:
    client: DynamoDBClient
    name: str


def create_state_table(client: DynamoDBClient, name: str = STATE_TABLE_NAME) -> StateTable:
    """The shared state table as template.yaml declares it: partition key ``pk``, TTL on ``expiration``."""
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE}
    )
    return StateTable(client=client, name=name)


@pytest.fixture
def in_process_state_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[StateTable]:
    """The state table in moto's in-process mock: no network, for unit tests of the DynamoDB adapters."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield create_state_table(boto3.client("dynamodb"))


ROUTING_KEYS = {"default": "R" * 32, "security": "S" * 32}
# Alerts tagged team=security go to the "security" routing key, everything else to "default".
ROUTING_RULES = (
    "rules:\n  - match: {tags: {team: security}}\n    routing_key: security\ndefault: {routing_key: default}\n"
)
SAMPLE_EVENTS = Path(__file__).resolve().parents[3] / "events"
_EPOCH = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def application_alert(
    dedup_key: str, *, state: str = "triggered", second: int = 0, team: str = "checkout"
) -> dict[str, Any]:
    """The sample "Application Alert" EventBridge event for ``dedup_key``, at ``second`` past a fixed time."""
    event: dict[str, Any] = json.loads((SAMPLE_EVENTS / "eventbridge_custom_app_event.json").read_text())
    moment = (_EPOCH + timedelta(seconds=second)).isoformat().replace("+00:00", "Z")
    event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{dedup_key}/{state}/{second}"))
    event["time"] = moment
    event["detail"].update(
        dedup_key=dedup_key, state=state, timestamp=moment, summary=f"{dedup_key} {state}", tags={"team": team}
    )
    return event


ROUTING_KEYS_SECRET_ID = "pdutils/routing-keys"  # a secret name, not a value  # noqa: S105  # nosec B105
ALERT_QUEUE = "pdutils-alerts"
DEAD_LETTER_QUEUE = "pdutils-alerts-dlq"


@dataclass(frozen=True)
class LambdaContextStub:
    """The part of the Lambda context the forwarder reads, with the time left it is given."""

    seconds_left: float = 30.0
    function_name: str = "alert-forwarder"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:alert-forwarder"
    aws_request_id: str = "local-request"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds_left * 1000)


@dataclass(frozen=True)
class ForwarderStack:
    """The forwarder's AWS resources on the moto server: state table, alert queue, DLQ, routing keys secret.

    The environment (``STATE_TABLE_NAME``, ``ROUTING_KEYS_SECRET_ID``, ``DEAD_LETTER_QUEUE_URL`` ...) is set, so
    ``load_settings(ForwarderSettings)`` builds the settings a deployed forwarder would get.
    """

    table: StateTable
    sqs: SQSClient
    queue_url: str
    queue_arn: str
    dead_letter_queue_url: str

    def publish(self, body: str) -> str:
        return self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)["MessageId"]

    def receive_batch(self, max_records: int = 10, visibility: int = 30) -> dict[str, Any]:
        """Up to ``max_records`` queued messages as the Lambda SQS event source would deliver them."""
        records: list[dict[str, Any]] = []
        while len(records) < max_records:
            received = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, max_records - len(records)),
                VisibilityTimeout=visibility,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            records.extend(lambda_sqs_record(dict(message), self.queue_arn) for message in received)
        return {"Records": records}

    def settle(
        self, event: Mapping[str, Any], response: Mapping[str, Any] | None, *, skip_backoff: bool = False
    ) -> int:
        """What the event source mapping does with the answer: delete every record not reported as failed.

        With ``skip_backoff`` the failed records become receivable at once instead of after their backoff.
        Returns how many records failed.
        """
        failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
        for record in event["Records"]:
            if record["messageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])
            elif skip_backoff:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
                )
        return len(failed)

    def queued(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def dead_letters(self) -> list[dict[str, Any]]:
        letters: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(
            QueueUrl=self.dead_letter_queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=300,
        ).get("Messages", []):
            letters.extend(dict(message) for message in batch)
        return letters


def lambda_sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS ReceiveMessage message in the shape of a Lambda SQS event record."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "dataType": value["DataType"],
            "stringListValues": [],
            "binaryListValues": [],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def provision_forwarder_stack(
    endpoint_url: str, *, routing_keys: Mapping[str, str] = ROUTING_KEYS, routing_rules: str = ROUTING_RULES
) -> tuple[ForwarderStack, dict[str, str]]:
    """Create the forwarder's resources on the AWS at ``endpoint_url``; returns them and the forwarder's env."""
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url)
    sqs = boto3.client("sqs", endpoint_url=endpoint_url)
    table = create_state_table(dynamodb)
    dead_letter_queue_url = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    queue_url = sqs.create_queue(QueueName=ALERT_QUEUE, Attributes={"VisibilityTimeout": "180"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("secretsmanager", endpoint_url=endpoint_url).create_secret(
        Name=ROUTING_KEYS_SECRET_ID, SecretString=json.dumps(dict(routing_keys))
    )
    environment = {
        "STATE_TABLE_NAME": table.name,
        "ROUTING_KEYS_SECRET_ID": ROUTING_KEYS_SECRET_ID,
        "ROUTING_RULES": routing_rules,
        "DEAD_LETTER_QUEUE_URL": dead_letter_queue_url,
        "POWERTOOLS_METRICS_NAMESPACE": "PagerDutyUtilsTests",
        "POWERTOOLS_SERVICE_NAME": "alert-forwarder",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    return ForwarderStack(table, sqs, queue_url, queue_arn, dead_letter_queue_url), environment


@pytest.fixture
def forwarder_stack(aws: MotoEndpoint, monkeypatch: pytest.MonkeyPatch) -> ForwarderStack:
    """The forwarder's resources on a clean moto server, and its environment (use with ``pd_sim``)."""
    stack, environment = provision_forwarder_stack(aws.url)
    secrets.clear_cache()
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # The shared Metrics object read its namespace when first imported; give it the deployed one.
    monkeypatch.setattr(metrics, "namespace", environment["POWERTOOLS_METRICS_NAMESPACE"])
    return stack
