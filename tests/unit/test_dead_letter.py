from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from pagerduty_utils.alert_forwarder.dead_letter import (
    DETAIL_ATTRIBUTE,
    REASON_ATTRIBUTE,
    DeadLetter,
    DeadLetterQueue,
    redrive,
    sqs_attributes,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient


@dataclass(frozen=True)
class Queues:
    client: SQSClient
    alerts: str
    dead_letters: str

    def drain(self, url: str) -> list[dict[str, object]]:
        messages: list[dict[str, object]] = []
        while batch := self.client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=60
        ).get("Messages", []):
            messages.extend(dict(message) for message in batch)
        return messages


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[Queues]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("sqs")
        yield Queues(
            client,
            client.create_queue(QueueName="alerts")["QueueUrl"],
            client.create_queue(QueueName="alerts-dlq")["QueueUrl"],
        )


def letter(index: int, reason: str = "unroutable") -> DeadLetter:
    return DeadLetter(
        message_id=f"m{index}",
        body=f'{{"alert": {index}}}',
        reason=reason,
        detail="no routing rule matches source aws.guardduty",
        attributes={"tenant": {"DataType": "String", "StringValue": "blue"}},
    )


def test_park_keeps_body_and_attributes_and_adds_the_reason(queues: Queues) -> None:
    dlq = DeadLetterQueue(queues.dead_letters, client=lambda: queues.client)
    assert dlq.park([letter(1)]) == []
    [parked] = queues.drain(queues.dead_letters)
    attributes = parked["MessageAttributes"]
    assert isinstance(attributes, dict)
    assert parked["Body"] == '{"alert": 1}'
    assert attributes["tenant"]["StringValue"] == "blue"
    assert attributes[REASON_ATTRIBUTE]["StringValue"] == "unroutable"
    assert attributes[DETAIL_ATTRIBUTE]["StringValue"].startswith("no routing rule")


def test_park_reports_what_sqs_refused(queues: Queues) -> None:
    dlq = DeadLetterQueue(queues.dead_letters + "-missing", client=lambda: queues.client)
    assert dlq.park([letter(1), letter(2)]) == ["m1", "m2"]


def test_redrive_moves_everything_back_without_the_reasons(queues: Queues) -> None:
    DeadLetterQueue(queues.dead_letters, client=lambda: queues.client).park([letter(index) for index in range(13)])
    report = redrive(queues.dead_letters, queues.alerts, client=queues.client)
    assert (report.moved, report.failed, dict(report.seen)) == (13, 0, {"unroutable": 13})
    moved = queues.drain(queues.alerts)
    assert sorted(str(message["Body"]) for message in moved) == sorted(letter(i).body for i in range(13))
    for message in moved:
        assert message["MessageAttributes"] == {"tenant": {"StringValue": "blue", "DataType": "String"}}
    assert queues.drain(queues.dead_letters) == []


def test_redrive_stops_at_max(queues: Queues) -> None:
    DeadLetterQueue(queues.dead_letters, client=lambda: queues.client).park([letter(index) for index in range(5)])
    assert redrive(queues.dead_letters, queues.alerts, client=queues.client, max_messages=3).moved == 3
    assert len(queues.drain(queues.alerts)) == 3


def test_dry_run_counts_by_reason_and_moves_nothing(queues: Queues) -> None:
    dlq = DeadLetterQueue(queues.dead_letters, client=lambda: queues.client)
    dlq.park([letter(1), letter(2), letter(3, reason="invalid_event")])
    report = redrive(queues.dead_letters, queues.alerts, client=queues.client, dry_run=True)
    assert (report.moved, dict(report.seen)) == (0, {"unroutable": 2, "invalid_event": 1})
    assert len(queues.drain(queues.dead_letters)) == 3
    assert queues.drain(queues.alerts) == []


def test_lambda_record_attributes_convert_to_send_shape() -> None:
    record = {
        "tenant": {"stringValue": "blue", "dataType": "String"},
        "blob": {"binaryValue": "aGk=", "dataType": "Binary"},
    }
    assert sqs_attributes(record) == {
        "tenant": {"DataType": "String", "StringValue": "blue"},
        "blob": {"DataType": "Binary", "BinaryValue": b"hi"},
    }
