"""pytest fixtures for the health checker: every resource it watches, in the embedded AWS, plus the simulator."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from typing_extensions import override

from pagerduty_utils import secrets
from pagerduty_utils.health_monitor.report import CheckOutcome, HealthReport
from pagerduty_utils.health_monitor.runner import HealthCheck
from pagerduty_utils.health_monitor.snapshot import SNAPSHOT_KEY
from pagerduty_utils.settings import HealthSettings, load_settings
from pdutils.moto_server import MotoEndpoint
from pdutils.simulator import SimulatorHandle
from pdutils.simulator.config import DEV_TOKEN
from pdutils.testing.forwarder import STATE_TABLE_NAME, create_state_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_sqs.client import SQSClient

# Names of secrets (Secrets Manager references), not their values.
TOKEN_SECRET_ID = "pd/api-token"  # noqa: S105  # nosec B105
ROUTING_KEYS_SECRET_ID = "pd/routing-keys"  # noqa: S105  # nosec B105


class HangingCheck(HealthCheck):
    """A dependency that hangs until the test releases it."""

    name = "hanging_dependency"

    def __init__(self, release: threading.Event) -> None:
        self._release = release

    @override
    def run(self, deadline: float) -> CheckOutcome:
        self._release.wait()
        return CheckOutcome.healthy("released")


@dataclass(frozen=True)
class HealthStack:
    """The resources the health checker watches, and the environment that points the checker at them."""

    dynamodb: DynamoDBClient
    sqs: SQSClient
    environment: dict[str, str]
    dead_letter_queue_url: str
    operations_topic_arn: str
    operations_inbox_url: str

    def settings(self) -> HealthSettings:
        """The checker's settings from the process environment (the fixture's variables, plus any a test set)."""
        return load_settings(HealthSettings)

    def announcements(self) -> list[dict[str, Any]]:
        """Messages that reached the operations topic (through its SQS subscriber) since the last call."""
        received = self.sqs.receive_message(QueueUrl=self.operations_inbox_url, MaxNumberOfMessages=10)
        messages = received.get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.operations_inbox_url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(message["Body"]) for message in messages]

    def fill_dead_letter_queue(self, count: int) -> None:
        for index in range(count):
            self.sqs.send_message(QueueUrl=self.dead_letter_queue_url, MessageBody=f"undelivered alert {index}")

    def drain_dead_letter_queue(self) -> None:
        self.sqs.purge_queue(QueueUrl=self.dead_letter_queue_url)

    def stored_report(self) -> HealthReport:
        item = self.dynamodb.get_item(TableName=STATE_TABLE_NAME, Key={"pk": {"S": SNAPSHOT_KEY}})["Item"]
        return HealthReport.model_validate_json(item["report"]["S"])


def create_health_resources(simulator_url: str) -> HealthStack:
    """State table, REST token and routing-key secrets, KMS key, alert queue and DLQ, and an operations topic
    with an SQS subscriber, created through boto3's current endpoint; PagerDuty is the simulator at
    ``simulator_url`` (whose development token the token secret holds)."""
    dynamodb = boto3.client("dynamodb")
    create_state_table(dynamodb)
    secretsmanager = boto3.client("secretsmanager")
    secretsmanager.create_secret(Name=TOKEN_SECRET_ID, SecretString=DEV_TOKEN)
    secretsmanager.create_secret(Name=ROUTING_KEYS_SECRET_ID, SecretString=json.dumps({"default": "R" * 32}))
    key_id = boto3.client("kms").create_key(Description="health checker test key")["KeyMetadata"]["KeyId"]
    sqs = boto3.client("sqs")
    alert_queue_url = sqs.create_queue(QueueName="pd-alerts")["QueueUrl"]
    dead_letter_queue_url = sqs.create_queue(QueueName="pd-alerts-dlq")["QueueUrl"]
    inbox_url = sqs.create_queue(QueueName="operations-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns = boto3.client("sns")
    topic_arn = sns.create_topic(Name="pd-operations")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=inbox_arn)
    environment = {
        "STATE_TABLE_NAME": STATE_TABLE_NAME,
        "PAGERDUTY_API_URL": simulator_url,
        "PAGERDUTY_EVENTS_URL": simulator_url,
        "PAGERDUTY_API_TOKEN_SECRET_ID": TOKEN_SECRET_ID,
        "HEALTH_SECRET_IDS": ROUTING_KEYS_SECRET_ID,
        "KMS_KEY_ID": key_id,
        "ALERT_QUEUE_URL": alert_queue_url,
        "DEAD_LETTER_QUEUE_URL": dead_letter_queue_url,
        "OPERATIONS_TOPIC_ARN": topic_arn,
        "HEALTH_DEADLINE_SECONDS": "5",
    }
    return HealthStack(dynamodb, sqs, environment, dead_letter_queue_url, topic_arn, inbox_url)


@pytest.fixture
def health_stack(
    aws: MotoEndpoint,  # noqa: ARG001  # requested for its effect: a clean embedded AWS, boto3 pointed at it
    pd_sim: SimulatorHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[HealthStack]:
    """Every resource the health checker watches, in a clean embedded AWS, with the checker's variables set."""
    stack = create_health_resources(pd_sim.base_url)
    for name, value in stack.environment.items():
        monkeypatch.setenv(name, value)
    secrets.clear_cache()
    yield stack
    secrets.clear_cache()
