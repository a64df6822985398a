"""The dead-letter queue: where alerts that can never be delivered as sent are parked, and how they come back.

A dead letter is the original message body, unchanged, with the original message attributes plus the reason
(``pdutils.dlq.*`` attributes), so an operator can see why and, after fixing the cause (a routing rule, a
routing key, a mapping), ``redrive`` it to the alert queue, where it is processed like a new message.

Redrive is receive / send / delete rather than SQS ``StartMessageMoveTask``: the move task only accepts a DLQ
that is some queue's redrive target and keeps every attribute (ours included), and the embedded AWS used
locally does not implement it. Each message is deleted from the DLQ only after the alert queue accepted it:
a crash in between re-sends it, and the forwarder's delivery ledger skips what was already delivered.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import DependencyError

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

ATTRIBUTE_PREFIX = "pdutils.dlq."
REASON_ATTRIBUTE = f"{ATTRIBUTE_PREFIX}reason"
DETAIL_ATTRIBUTE = f"{ATTRIBUTE_PREFIX}detail"
SOURCE_MESSAGE_ATTRIBUTE = f"{ATTRIBUTE_PREFIX}source_message_id"
PARKED_AT_ATTRIBUTE = f"{ATTRIBUTE_PREFIX}parked_at"

_SQS_BATCH_LIMIT = 10
_SQS_MAX_ATTRIBUTES = 10
_OWN_ATTRIBUTES = 4
_DETAIL_LIMIT = 1000


@dataclass(frozen=True)
class DeadLetter:
    """One message to park: its id, its body as received, its attributes (SendMessage shape) and why."""

    message_id: str
    body: str
    reason: str
    detail: str
    attributes: Mapping[str, MessageAttributeValueTypeDef] = field(default_factory=dict)


class DeadLetterQueue:
    """Parks dead letters in the DLQ, ten per SendMessageBatch call; the SQS client comes from ``client`` on
    first use (the healthy path never needs one)."""

    def __init__(self, queue_url: str, *, client: Callable[[], SQSClient]) -> None:
        self.queue_url = queue_url
        self._client = client

    def park(self, letters: Sequence[DeadLetter]) -> list[str]:
        """Send every letter; return the ids SQS did not accept (the caller keeps those for a retry)."""
        rejected: list[str] = []
        for start in range(0, len(letters), _SQS_BATCH_LIMIT):
            chunk = letters[start : start + _SQS_BATCH_LIMIT]
            entries = [
                {"Id": str(index), "MessageBody": letter.body, "MessageAttributes": _with_reason(letter)}
                for index, letter in enumerate(chunk)
            ]
            try:
                response = self._client().send_message_batch(QueueUrl=self.queue_url, Entries=entries)  # type: ignore[arg-type]
            except (ClientError, BotoCoreError):
                rejected.extend(letter.message_id for letter in chunk)
                continue
            rejected.extend(chunk[int(failure["Id"])].message_id for failure in response.get("Failed", []))
        return rejected


@dataclass
class RedriveReport:
    """What a redrive did (or, dry, would do): messages per reason, moved, and failed to move."""

    seen: Counter[str] = field(default_factory=Counter)
    moved: int = 0
    failed: int = 0


def redrive(
    source_url: str,
    target_url: str,
    *,
    client: SQSClient,
    max_messages: int | None = None,
    dry_run: bool = False,
    visibility_seconds: int = 30,
) -> RedriveReport:
    """Move dead letters back to the alert queue, bodies and original attributes unchanged, reasons removed.

    A dry run receives and counts without moving (what it received stays invisible until the end, so nothing
    is counted twice), then makes it all visible again at once.
    """
    report = RedriveReport()
    held: list[dict[str, Any]] = []
    try:
        while (left := _left(max_messages, report)) > 0:
            messages = _receive(client, source_url, left, visibility_seconds)
            if not messages:
                break
            for message in messages:
                attributes = message.get("MessageAttributes", {})
                report.seen[attributes.get(REASON_ATTRIBUTE, {}).get("StringValue", "unknown")] += 1
            if dry_run:
                held.extend(messages)
                continue
            for message in messages:
                if _move(client, message, source_url, target_url):
                    report.moved += 1
                else:
                    report.failed += 1
    finally:
        _release(client, source_url, held)
    return report


def sqs_attributes(record_attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, MessageAttributeValueTypeDef]:
    """Message attributes as a Lambda SQS record carries them (camelCase) in the SendMessage shape."""
    converted: dict[str, MessageAttributeValueTypeDef] = {}
    for name, value in record_attributes.items():
        data_type = str(value.get("dataType") or value.get("DataType") or "String")
        if data_type.startswith("Binary"):
            binary = value.get("binaryValue") or value.get("BinaryValue") or b""
            converted[name] = {"DataType": data_type, "BinaryValue": _as_bytes(binary)}
        else:
            text = value.get("stringValue") or value.get("StringValue") or ""
            converted[name] = {"DataType": data_type, "StringValue": str(text)}
    return converted


def _left(max_messages: int | None, report: RedriveReport) -> int:
    """How many to receive next: a batch, or fewer when close to ``max_messages``."""
    if max_messages is None:
        return _SQS_BATCH_LIMIT
    return min(_SQS_BATCH_LIMIT, max_messages - report.seen.total())


def _with_reason(letter: DeadLetter) -> dict[str, MessageAttributeValueTypeDef]:
    kept = dict(list(letter.attributes.items())[: _SQS_MAX_ATTRIBUTES - _OWN_ATTRIBUTES])
    kept[REASON_ATTRIBUTE] = {"DataType": "String", "StringValue": letter.reason}
    kept[DETAIL_ATTRIBUTE] = {"DataType": "String", "StringValue": letter.detail[:_DETAIL_LIMIT] or "-"}
    kept[SOURCE_MESSAGE_ATTRIBUTE] = {"DataType": "String", "StringValue": letter.message_id}
    kept[PARKED_AT_ATTRIBUTE] = {"DataType": "Number", "StringValue": str(int(time.time()))}
    return kept


def _receive(client: SQSClient, queue_url: str, count: int, visibility: int) -> list[dict[str, Any]]:
    try:
        response = client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=count,
            MessageAttributeNames=["All"],
            VisibilityTimeout=visibility,
            WaitTimeSeconds=0,
        )
    except (ClientError, BotoCoreError) as exc:
        raise DependencyError(f"cannot receive from {queue_url}: {type(exc).__name__}") from exc
    return [dict(message) for message in response.get("Messages", [])]


def _release(client: SQSClient, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    for start in range(0, len(messages), _SQS_BATCH_LIMIT):
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": 0}
            for index, message in enumerate(messages[start : start + _SQS_BATCH_LIMIT])
        ]
        client.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]


def _move(client: SQSClient, message: Mapping[str, Any], source_url: str, target_url: str) -> bool:
    attributes = {
        name: value
        for name, value in message.get("MessageAttributes", {}).items()
        if not name.startswith(ATTRIBUTE_PREFIX)
    }
    try:
        if attributes:
            client.send_message(QueueUrl=target_url, MessageBody=message["Body"], MessageAttributes=attributes)
        else:
            client.send_message(QueueUrl=target_url, MessageBody=message["Body"])
        client.delete_message(QueueUrl=source_url, ReceiptHandle=message["ReceiptHandle"])
    except (ClientError, BotoCoreError):
        return False
    return True


def _as_bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else base64.b64decode(value)
