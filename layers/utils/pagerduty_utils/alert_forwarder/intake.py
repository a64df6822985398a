"""What the forwarder is invoked with, turned into ``InboundMessage``s, and the answer each trigger expects.

Three triggers, told apart by shape and checked with Powertools' parser models:

- an SQS batch (the normal path: SNS topics and EventBridge rules feed the alert queue). Answer: the
  partial-batch response ``{"batchItemFailures": [...]}`` (ReportBatchItemFailures) naming the retried records;
- a direct SNS invocation, and a direct EventBridge invocation (both asynchronous). There is no queue to hand a
  record back to, so a retryable failure raises: Lambda retries the invocation, then its on-failure destination
  gets it. Permanent failures are dead-lettered like queued ones, in the SQS body shape, so redrive works;
- the hold watch's schedule (``{"pdutilsTask": "release-held-alerts"}``, see ``hold_watch``). Answer: None.

The whole record (SQS record, SNS record, EventBridge event) is what the mapping reads: ``normalize`` unwraps
its envelopes itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsModel
from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils.alert_forwarder.batch import BatchReport, InboundMessage
from pagerduty_utils.alert_forwarder.dead_letter import sqs_attributes
from pagerduty_utils.exceptions import RetryableError, ValidationError

# The hold watch schedule's Input (template.yaml, ``HeldAlertsWatch``): what tells its runs apart from alerts.
WATCH_EVENT_KEY = "pdutilsTask"
WATCH_TASK = "release-held-alerts"


class Trigger(StrEnum):
    SQS = "sqs"
    SNS = "sns"
    EVENTBRIDGE = "eventbridge"
    HOLD_WATCH = "hold_watch"


def trigger_of(event: Mapping[str, Any]) -> Trigger:
    if event.get(WATCH_EVENT_KEY) == WATCH_TASK:
        return Trigger.HOLD_WATCH
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


def inbound_messages(event: Mapping[str, Any], trigger: Trigger) -> list[InboundMessage]:
    """The messages of one invocation."""
    try:
        if trigger is Trigger.SQS:
            return _from_sqs(event)
        if trigger is Trigger.SNS:
            return _from_sns(event)
        return [_from_eventbridge(event)]
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


def _from_sns(event: Mapping[str, Any]) -> list[InboundMessage]:
    # Deferred: direct SNS invocations are the rare trigger (the queue is the normal one), and Powertools builds
    # the model's validator when it is first imported.
    from aws_lambda_powertools.utilities.parser.models import SnsModel  # noqa: PLC0415

    parsed = SnsModel.model_validate(event)
    return [
        InboundMessage(
            message_id=record.Sns.MessageId,
            content=raw,
            body=json.dumps(raw["Sns"]),
            sent_at=_aware(record.Sns.Timestamp),
        )
        for record, raw in zip(parsed.Records, event["Records"], strict=True)
    ]


def _from_eventbridge(event: Mapping[str, Any]) -> InboundMessage:
    parsed = EventBridgeModel.model_validate(event)
    return InboundMessage(message_id=parsed.id, content=event, body=json.dumps(event), sent_at=_aware(parsed.time))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
