"""What the forwarder is invoked with, turned into ``InboundMessage``s, and the answer each trigger expects.

Three triggers, told apart by shape:

- an SQS batch (the normal path: SNS topics and EventBridge rules feed the alert queue). Answer: the
  partial-batch response ``{"batchItemFailures": [...]}`` (ReportBatchItemFailures) naming the retried records;
- a direct SNS invocation, and a direct EventBridge invocation (both asynchronous). There is no queue to hand a
  record back to, so a retryable failure raises: Lambda retries the invocation, then its on-failure destination
  gets it. Permanent failures are dead-lettered like queued ones, in the SQS body shape, so redrive works.

Lambda builds the SQS batch, which is checked with Powertools' parser model. Direct SNS and EventBridge records
come from publishers and are read record by record, leniently: a malformed one is left for the mapping to reject
alone (``inbound_messages``).

The whole record (SQS record, SNS record, EventBridge event) is what the mapping reads: ``normalize`` unwraps
its envelopes itself.

``ChannelTrust`` decides, from the record alone, whether the channel a message came through proves the AWS
source its document claims (docs/security.md, "Channel trust"):

- an EventBridge event at the top of a queue record, or a direct EventBridge invocation: a rule delivered it,
  and only AWS may put events with an ``aws.`` source on a bus. Trusted;
- an SNS notification (in a queue record, or a direct SNS invocation): trusted only when it is a CloudWatch
  alarm notification on a topic named in ``ALARM_TOPIC_ARNS`` (topics nobody but CloudWatch may publish to).
  CloudWatch publishes nothing else, and any other topic's publishers could write any document;
- anything else in a queue record (a bare alarm notification, an alarm action's event, ...): neither the stack's
  subscription (which keeps the SNS envelope) nor a rule sends that, so someone sent it to the queue directly.

The record cannot prove more than this: SQS's ``SenderId`` of a service delivery is an undocumented AWS-owned
id, and an SNS envelope's signature proves SNS signed it, not who published. That a direct sender cannot
disguise itself as a rule or a topic is the queue policy's job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.utilities.parser.models import SqsModel
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils.alert_forwarder.batch import BatchReport, InboundMessage
from pagerduty_utils.alert_forwarder.dead_letter import sqs_attributes
from pagerduty_utils.data_transformer.assembly import json_object
from pagerduty_utils.exceptions import RetryableError, ValidationError

_TIMESTAMP: TypeAdapter[datetime] = TypeAdapter(datetime)

EVENTBRIDGE_CHANNEL = "eventbridge"


@dataclass(frozen=True)
class Channel:
    """Where a message came from, as far as its record tells: ``name`` scopes its unverified alerts' dedup keys."""

    name: str
    trusted: bool


class ChannelTrust:
    """Which channels prove the AWS source a message claims (see the module's docstring)."""

    def __init__(self, alarm_topic_arns: Iterable[str] = ()) -> None:
        self._alarm_topics = frozenset(alarm_topic_arns)

    def channel_of(self, content: str | Mapping[str, Any]) -> Channel:
        if not isinstance(content, Mapping):
            return Channel("direct", trusted=False)
        if content.get("eventSource") == "aws:sqs":
            return self._queued(content)
        if content.get("EventSource") == "aws:sns":
            sns = content.get("Sns")
            return self._topic(sns if isinstance(sns, Mapping) else {})
        if "detail-type" in content:
            return Channel(EVENTBRIDGE_CHANNEL, trusted=True)
        return Channel("direct", trusted=False)

    def _queued(self, record: Mapping[str, Any]) -> Channel:
        body = record.get("body")
        document = json_object(body) if isinstance(body, str) else None
        if document is not None and document.get("Type") == "Notification":
            return self._topic(document)
        if document is not None and "detail-type" in document:
            return Channel(EVENTBRIDGE_CHANNEL, trusted=True)
        return Channel(f"sqs:{record.get('eventSourceARN') or 'unknown'}", trusted=False)

    def _topic(self, notification: Mapping[str, Any]) -> Channel:
        topic_arn = notification.get("TopicArn")
        arn = topic_arn if isinstance(topic_arn, str) and topic_arn else "unknown"
        if arn not in self._alarm_topics:
            return Channel(f"sns:{arn}", trusted=False)
        message = notification.get("Message")
        document = json_object(message) if isinstance(message, str) else None
        is_alarm = document is not None and "AlarmName" in document and "NewStateValue" in document
        return Channel(f"sns:{arn}", trusted=is_alarm)


class Trigger(StrEnum):
    SQS = "sqs"
    SNS = "sns"
    EVENTBRIDGE = "eventbridge"


def trigger_of(event: Mapping[str, Any]) -> Trigger:
    records = event.get("Records")
    if isinstance(records, list) and records:
        first = records[0] if isinstance(records[0], Mapping) else {}
        if first.get("eventSource") == "aws:sqs":
            return Trigger.SQS
        if first.get("EventSource") == "aws:sns":
            return Trigger.SNS
    if "detail-type" in event:
        return Trigger.EVENTBRIDGE
    raise ValidationError("unsupported invocation: expected an SQS batch, an SNS event or an EventBridge event")


def inbound_messages(
    event: Mapping[str, Any], trigger: Trigger, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> list[InboundMessage]:
    """The messages of one invocation.

    A direct SNS or EventBridge record is read leniently: one with a malformed field still becomes a message
    (its id and time from what is readable, else its position and ``now``), so the mapping rejects it alone with
    the reason and it is dead-lettered; the other records of the invocation go on.
    """
    try:
        if trigger is Trigger.SQS:
            return _from_sqs(event)
        if trigger is Trigger.SNS:
            return _from_sns(event, now)
        return [_from_eventbridge(event, now)]
    except PydanticValidationError as exc:
        raise ValidationError(f"malformed {trigger.value} invocation: {exc.error_count()} invalid fields") from None


def response_for(trigger: Trigger, report: BatchReport) -> dict[str, Any] | None:
    """The partial-batch response for SQS; for direct invocations, raise so Lambda retries what must be."""
    if trigger is Trigger.SQS:
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in report.retried]}
    if report.retried:
        retried = [report.outcomes[message_id] for message_id in report.retried]
        waits = [outcome.retry_after for outcome in retried if outcome.retry_after is not None]
        raise RetryableError(
            f"{len(retried)} message(s) must be retried: {retried[0].reason}", retry_after=max(waits, default=None)
        )
    return None


def _from_sqs(event: Mapping[str, Any]) -> list[InboundMessage]:
    batch = SqsModel.model_validate(event)
    messages = []
    for parsed, raw in zip(batch.Records, event["Records"], strict=True):
        messages.append(
            InboundMessage(
                message_id=parsed.messageId,
                content=raw,
                body=str(raw["body"]),
                sent_at=_aware(parsed.attributes.SentTimestamp),
                attributes=sqs_attributes(raw.get("messageAttributes") or {}),
                receipt_handle=parsed.receiptHandle,
                queue_arn=parsed.eventSourceARN,
                receive_count=int(parsed.attributes.ApproximateReceiveCount),
            )
        )
    return messages


def _from_sns(event: Mapping[str, Any], now: Callable[[], datetime]) -> list[InboundMessage]:
    """One message per record. Records sharing a MessageId (SNS redelivers, producers repeat ids) each keep
    their own outcome: a repeat's id gets its position (``<MessageId>#2``), and the delivery ledger, not the id,
    decides whether it is a duplicate."""
    messages = []
    seen: set[str] = set()
    for position, raw in enumerate(event["Records"], start=1):
        record = raw if isinstance(raw, Mapping) else {}
        notification = record.get("Sns")
        fields = notification if isinstance(notification, Mapping) else {}
        message_id = _text_field(fields, "MessageId") or f"record-{position}"
        if message_id in seen:
            message_id = f"{message_id}#{position}"
        seen.add(message_id)
        messages.append(
            InboundMessage(
                message_id=message_id,
                content=raw,
                body=json.dumps(notification if notification is not None else raw, default=str),
                sent_at=_timestamp(fields.get("Timestamp"), now),
            )
        )
    return messages


def _from_eventbridge(event: Mapping[str, Any], now: Callable[[], datetime]) -> InboundMessage:
    return InboundMessage(
        message_id=_text_field(event, "id") or "eventbridge-event",
        content=event,
        body=json.dumps(event, default=str),
        sent_at=_timestamp(event.get("time"), now),
    )


def _text_field(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    return value if isinstance(value, str) and value else None


def _timestamp(value: Any, now: Callable[[], datetime]) -> datetime:
    try:
        return _aware(_TIMESTAMP.validate_python(value))
    except PydanticValidationError:
        return now()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
