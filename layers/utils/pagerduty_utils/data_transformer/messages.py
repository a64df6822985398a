"""Messages that are not AWS service events: the custom "Application Alert", and any other SNS message."""

from __future__ import annotations

import hashlib
from typing import Any

from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel

from pagerduty_utils.data_transformer.assembly import FIELD_LIMIT, build_alert
from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert
from pagerduty_utils.data_transformer.provenance import check_custom_dedup_key
from pagerduty_utils.data_transformer.sources.base import Arn
from pagerduty_utils.data_transformer.sources.custom import CustomAlertEvent
from pagerduty_utils.formatters import clean_text, compose_summary, first_line
from pagerduty_utils.pagerduty_events import EventAction, Severity


def custom_alert(event: CustomAlertEvent) -> NormalizedAlert:
    detail = event.detail
    summary = clean_text(detail.summary, FIELD_LIMIT, single_line=True)
    return build_alert(
        source=AlertSource.CUSTOM,
        action=EventAction.RESOLVE if detail.state == "resolved" else EventAction.TRIGGER,
        dedup_key=check_custom_dedup_key(detail.dedup_key) if detail.dedup_key else f"app/{event.source}/{summary}",
        occurred_at=detail.timestamp or event.time,
        name=summary,
        account=event.account,
        region=event.region,
        tags=detail.tags,
        resources=event.resources,
        summary=summary,
        payload_source=event.source,
        severity=detail.severity,
        component=detail.component,
        group=detail.group,
        class_=detail.class_,
        details=detail.details,
        links=[(link.href, link.text) for link in detail.links],
        client=event.source,
        client_url=None,
    )


def generic_sns_alert(
    notification: SnsNotificationModel, message: str, parsed: dict[str, Any] | None
) -> NormalizedAlert:
    """A trigger for a message that is not an alarm or an event: it cannot be resolved automatically.

    The dedup key is the topic plus the subject (or a hash of the message when there is no subject), so
    repeats of the same problem update one alert instead of opening many. ``name`` is the topic name.
    """
    topic = Arn.parse(notification.TopicArn)
    subject = clean_text(notification.Subject or "", FIELD_LIMIT, single_line=True)
    fingerprint = subject or hashlib.sha256(message.encode("utf-8", "replace")).hexdigest()[:16]
    topic_name = topic.resource if topic else notification.TopicArn
    attributes = {name: attribute.Value for name, attribute in (notification.MessageAttributes or {}).items()}
    return build_alert(
        source=AlertSource.SNS,
        action=EventAction.TRIGGER,
        dedup_key=f"aws/sns/{notification.TopicArn}/{fingerprint}",
        occurred_at=notification.Timestamp,
        name=topic_name,
        account=topic.account if topic else None,
        region=topic.region if topic else None,
        resources=[notification.TopicArn],
        summary=compose_summary(subject or first_line(message) or f"Message on SNS topic {topic_name}"),
        payload_source=notification.TopicArn,
        severity=Severity.ERROR,
        class_="sns message",
        details={
            "subject": notification.Subject,
            "message": parsed if parsed is not None else message,
            "topic_arn": notification.TopicArn,
            "message_id": notification.MessageId,
            "message_attributes": attributes or None,
        },
    )
