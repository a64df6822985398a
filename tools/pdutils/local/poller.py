"""Poll an SQS queue into a function with Lambda's event source mapping semantics.

- batches of up to ``BatchSize`` messages, gathered while more are waiting, for at most
  ``MaximumBatchingWindowInSeconds`` (locally a batch goes as soon as the queue has nothing more to give);
- a function error leaves the whole batch on the queue (redelivered when its visibility timeout ends);
- with ``ReportBatchItemFailures``, only the records the function lists in ``batchItemFailures`` stay; a
  response naming a record that was not in the batch fails the whole batch, as Lambda does;
- the queue's own redrive policy moves a message to its dead-letter queue after ``maxReceiveCount``
  receives (the embedded AWS and real SQS both apply it on receive).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pdutils.local.runner import FunctionRunner, Invocation

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

MAX_MESSAGES_PER_RECEIVE = 10
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"


@dataclass(frozen=True)
class SqsEventSource:
    queue_arn: str
    queue_url: str
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False

    @classmethod
    def from_event_properties(cls, properties: Mapping[str, Any], queue_url: str) -> SqsEventSource:
        """From a SAM ``SQS`` event's properties, intrinsics already resolved."""
        return cls(
            queue_arn=str(properties["Queue"]),
            queue_url=queue_url,
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES in (properties.get("FunctionResponseTypes") or []),
        )


@dataclass(frozen=True)
class BatchOutcome:
    """One invocation of the function with a batch: which message ids were deleted and which stay."""

    function_id: str
    invocation: Invocation
    deleted: tuple[str, ...]
    kept: tuple[str, ...]


def lambda_sqs_record(message: MessageTypeDef, source: SqsEventSource, region: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": list(value.get("StringListValues") or []),
                "binaryListValues": list(value.get("BinaryListValues") or []),
                "dataType": value["DataType"],
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": source.queue_arn,
        "awsRegion": region,
    }


def failed_message_ids(invocation: Invocation, batch_ids: list[str], *, report_failures: bool) -> set[str]:
    """The messages of the batch that must stay on the queue after ``invocation``."""
    if invocation.failed:
        return set(batch_ids)
    if not report_failures:
        return set()
    result = invocation.result
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(batch_ids)
    identifiers = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]
    known = {identifier for identifier in identifiers if isinstance(identifier, str) and identifier in batch_ids}
    return known if len(known) == len(set(identifiers)) else set(batch_ids)


class SqsPoller:
    """A thread feeding ``source`` into ``runner`` until ``stop()``; ``on_batch`` hears every outcome."""

    def __init__(
        self,
        sqs: SQSClient,
        source: SqsEventSource,
        runner: FunctionRunner,
        *,
        region: str,
        on_batch: Callable[[BatchOutcome], None] | None = None,
        wait_seconds: int = 1,
    ) -> None:
        self._sqs = sqs
        self.source = source
        self.runner = runner
        self._region = region
        self._on_batch = on_batch
        self._wait_seconds = wait_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sqs-poller-{runner.function.logical_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=self._wait_seconds + self.runner.function.timeout_seconds + 5)

    def poll_once(self) -> BatchOutcome | None:
        """Receive one batch and deliver it; None when the queue had nothing."""
        messages = self._receive_batch()
        if not messages:
            return None
        records = [lambda_sqs_record(message, self.source, self._region) for message in messages]
        invocation = self.runner.invoke({"Records": records})
        batch_ids = [message["MessageId"] for message in messages]
        kept = failed_message_ids(invocation, batch_ids, report_failures=self.source.report_batch_item_failures)
        to_delete = [message for message in messages if message["MessageId"] not in kept]
        for start in range(0, len(to_delete), MAX_MESSAGES_PER_RECEIVE):
            chunk = to_delete[start : start + MAX_MESSAGES_PER_RECEIVE]
            self._sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(chunk)
                ],
            )
        outcome = BatchOutcome(
            function_id=self.runner.function.logical_id,
            invocation=invocation,
            deleted=tuple(message["MessageId"] for message in to_delete),
            kept=tuple(message_id for message_id in batch_ids if message_id in kept),
        )
        if self._on_batch is not None:
            self._on_batch(outcome)
        return outcome

    def _receive_batch(self) -> list[MessageTypeDef]:
        messages: list[MessageTypeDef] = []
        window_ends = time.monotonic() + self.source.batching_window_seconds
        while len(messages) < self.source.batch_size and not self._stopping.is_set():
            wanted = min(MAX_MESSAGES_PER_RECEIVE, self.source.batch_size - len(messages))
            received = self._sqs.receive_message(
                QueueUrl=self.source.queue_url,
                MaxNumberOfMessages=wanted,
                WaitTimeSeconds=0 if messages else self._wait_seconds,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(received)
            if not received and (messages or time.monotonic() >= window_ends):
                break
            if messages and time.monotonic() >= window_ends:
                break
        return messages

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except (BotoCoreError, ClientError) as exc:  # the queue is unreachable: retry, as Lambda's poller does
                print(f"[{self.runner.function.logical_id}] SQS poll failed: {exc}", file=sys.stderr)
                self._stopping.wait(self._wait_seconds)
