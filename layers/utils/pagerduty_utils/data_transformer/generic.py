"""Messages no model describes: any SNS message, any EventBridge event, any other queue message.

Each becomes a trigger that pages sensibly (docs/forwarder.md, "The generic path"):
- its summary comes from the best fields it has (subject, a ``summary``/``message``-like field, the first line);
- its severity from the words that report its state (``wording``);
- its dedup key from its own identity: the EventBridge event id, the SNS MessageId, the SQS messageId, so
  unrelated messages never fold into one alert. A routing rule's ``group_by`` folds related ones instead
  (``grouping``), and then a message reporting success resolves the group's alert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from pagerduty_utils.data_transformer.assembly import build_alert, clean_field
from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert
from pagerduty_utils.data_transformer.sources.base import Arn
from pagerduty_utils.data_transformer.sources.sns import SnsNotification
from pagerduty_utils.data_transformer.wording import status_texts, verdict_of
from pagerduty_utils.formatters import compose_summary, first_line
from pagerduty_utils.pagerduty_events import EventAction

_SUMMARY_KEYS = ("summary", "title", "subject", "message", "description", "reason", "errormessage", "error")
_NAME_KEY_ENDINGS = (("name",), ("arn", "identifier"), ("id",))


def _best_summary_field(document: Mapping[str, Any]) -> str | None:
    """The first top-level string among ``summary``, ``title``, ``subject``, ``message``, ``description``, ...."""
    by_key = {str(key).lower(): value for key, value in document.items() if isinstance(value, str) and value.strip()}
    return next((by_key[key] for key in _SUMMARY_KEYS if key in by_key), None)


def _subject_of(document: Mapping[str, Any]) -> str | None:
    """The top-level string naming what the event is about: a ``...name`` field (``jobName``), else an ARN or
    identifier, else an id (``instance-id``)."""
    named = {str(key).lower(): value for key, value in document.items() if isinstance(value, str) and value.strip()}
    for endings in _NAME_KEY_ENDINGS:
        found = next((value for key, value in named.items() if key.endswith(endings)), None)
        if found is not None:
            return found
    return None


def generic_sns_alert(notification: SnsNotification, parsed: dict[str, Any] | None) -> NormalizedAlert:
    """A trigger for an SNS message that is neither an alarm notification nor an EventBridge event."""
    topic = Arn.parse(notification.topic_arn)
    topic_name = topic.resource if topic else notification.topic_arn
    message = notification.message
    headline = _best_summary_field(parsed) if parsed is not None else first_line(message)
    word_sources = [notification.subject, headline, *(status_texts(parsed) if parsed is not None else [])]
    verdict = verdict_of(word_sources)
    return build_alert(
        source=AlertSource.SNS,
        action=EventAction.TRIGGER,
        dedup_key=f"aws/sns/{notification.topic_arn}/{notification.message_id}",
        occurred_at=notification.timestamp,
        name=topic_name,
        account=topic.account if topic else None,
        region=topic.region if topic else None,
        resources=[notification.topic_arn],
        summary=compose_summary(notification.subject, headline) or f"Message on SNS topic {topic_name}",
        payload_source=notification.topic_arn,
        severity=verdict.severity,
        class_="sns message",
        details={
            "subject": notification.subject,
            "message": parsed if parsed is not None else message,
            "topic_arn": notification.topic_arn,
            "message_id": notification.message_id,
            "message_attributes": notification.attributes or None,
        },
        succeeded=verdict.succeeded,
    )


def generic_event_alert(event: EventBridgeModel) -> NormalizedAlert:
    """A trigger for an EventBridge event of a type without a model of its own."""
    detail: Mapping[str, Any] = event.detail if isinstance(event.detail, Mapping) else {}
    states = status_texts(detail)
    verdict = verdict_of([event.detail_type, *states])
    headline = " ".join(part for part in (event.detail_type, *states[:2], _subject_of(detail)) if part)
    return build_alert(
        source=AlertSource.EVENTBRIDGE,
        action=EventAction.TRIGGER,
        dedup_key=f"aws/events/{event.source}/{event.id}",
        occurred_at=event.time,
        name=f"{event.source}/{event.detail_type}",
        account=event.account,
        region=event.region,
        resources=event.resources,
        summary=compose_summary(headline, _best_summary_field(detail)),
        payload_source=event.resources[0] if event.resources else event.source,
        severity=verdict.severity,
        component=event.source,
        group=event.account,
        class_=event.detail_type,
        details={
            "event": {
                "id": event.id,
                "source": event.source,
                "detail_type": event.detail_type,
                "account": event.account,
                "region": event.region,
                "resources": event.resources,
            },
            "detail": dict(detail),
        },
        client=clean_field(event.source),
        succeeded=verdict.succeeded,
    )


def queue_message_alert(
    body: str, parsed: dict[str, Any] | None, *, message_id: str | None, queue_arn: str | None, sent_at: datetime
) -> NormalizedAlert:
    """A trigger for a queue message of no known shape (an SNS message with raw delivery, any producer's text).

    Its identity is the SQS messageId; without one, the SHA-256 of the body (identical bodies fold).
    """
    identity = message_id or hashlib.sha256(body.encode("utf-8", "replace")).hexdigest()[:32]
    queue = Arn.parse(queue_arn)
    queue_name = queue.resource if queue else "queue"
    headline = _best_summary_field(parsed) if parsed is not None else first_line(body)
    verdict = verdict_of([headline, *(status_texts(parsed) if parsed is not None else [])])
    return build_alert(
        source=AlertSource.SNS,
        action=EventAction.TRIGGER,
        dedup_key=f"aws/sqs/{queue_arn or queue_name}/{identity}",
        occurred_at=sent_at,
        name=queue_name,
        account=queue.account if queue else None,
        region=queue.region if queue else None,
        resources=[queue_arn] if queue_arn else [],
        summary=compose_summary(headline or f"Message on queue {queue_name}"),
        payload_source=queue_arn or queue_name,
        severity=verdict.severity,
        class_="queue message",
        details={"message": parsed if parsed is not None else body, "message_id": message_id},
        succeeded=verdict.succeeded,
    )
