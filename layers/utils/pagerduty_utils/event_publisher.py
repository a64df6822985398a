"""Fan-out of normalized incident events: the EventBridge bus, and an optional human notification over SNS.

Both sit behind small interfaces so the webhook logic never sees boto3. A failed publish raises
``DependencyError`` (retryable): the webhook is answered 5xx and PagerDuty delivers it again. Delivery is
therefore at least once, as EventBridge itself is: consumers deduplicate on ``detail.event_id``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.error_handler import dependency_error
from pagerduty_utils.exceptions import DependencyError
from pagerduty_utils.validators import clean_text
from pagerduty_utils.webhook_processor.normalized import NormalizedIncidentEvent

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sns import SNSClient

EVENT_SOURCE = "pagerduty.webhooks"
# EventBridge accepts 256 KB per entry (detail, detail-type, source and resources together).
MAX_DETAIL_BYTES = 240 * 1024
SNS_SUBJECT_LENGTH = 99


class EventPublisher(ABC):
    @abstractmethod
    def publish(self, event: NormalizedIncidentEvent) -> None:
        """Put ``event`` on the bus, or raise ``DependencyError``."""


class NotificationPublisher(ABC):
    @abstractmethod
    def notify(self, event: NormalizedIncidentEvent) -> None:
        """Send a human-readable notification about ``event``, or raise ``DependencyError``."""


class EventBridgePublisher(EventPublisher):
    def __init__(self, bus_name: str, *, client: EventBridgeClient, source: str = EVENT_SOURCE) -> None:
        self._bus_name = bus_name
        self._client = client
        self._source = source

    def publish(self, event: NormalizedIncidentEvent) -> None:
        try:
            response = self._client.put_events(
                Entries=[
                    {
                        "EventBusName": self._bus_name,
                        "Source": self._source,
                        "DetailType": event.event_type,
                        "Detail": detail_json(event),
                        "Time": event.occurred_at,
                    }
                ]
            )
        except (ClientError, BotoCoreError) as error:
            raise dependency_error("EventBridge PutEvents", error) from None
        if response.get("FailedEntryCount", 0):
            code = response["Entries"][0].get("ErrorCode", "error")
            raise DependencyError(f"EventBridge PutEvents rejected the event: {code}")


def detail_json(event: NormalizedIncidentEvent) -> str:
    """The event as bus ``detail``; when too large for EventBridge, without its ``data`` (flagged truncated)."""
    detail = event.model_dump_json()
    if len(detail.encode("utf-8")) <= MAX_DETAIL_BYTES:
        return detail
    return event.model_copy(update={"data": None, "data_truncated": True}).model_dump_json()


class SnsNotificationPublisher(NotificationPublisher):
    """Publishes a plain-text rendering; the ``event_type`` message attribute lets subscribers filter."""

    def __init__(self, topic_arn: str, *, client: SNSClient) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def notify(self, event: NormalizedIncidentEvent) -> None:
        subject, message = render_plain_text(event)
        try:
            self._client.publish(
                TopicArn=self._topic_arn,
                Subject=subject,
                Message=message,
                MessageAttributes={"event_type": {"DataType": "String", "StringValue": event.event_type}},
            )
        except (ClientError, BotoCoreError) as error:
            raise dependency_error("SNS Publish", error) from None


def render_plain_text(event: NormalizedIncidentEvent) -> tuple[str, str]:
    """Subject and body of a plain-text notification (SNS subjects: ASCII, one line, under 100 characters)."""
    incident = event.incident
    title = (incident.title if incident else None) or event.event_type
    status = (incident.status if incident else None) or event.event_type.rsplit(".", 1)[-1]
    headline = clean_text(f"[{status.upper()}] {title}", max_length=512)
    subject = headline.encode("ascii", "replace").decode("ascii")[:SNS_SUBJECT_LENGTH]
    lines = [headline]
    if incident:
        urgency = f", {incident.urgency} urgency" if incident.urgency else ""
        priority = f", {incident.priority}" if incident.priority else ""
        number = f"#{incident.number} " if incident.number is not None else ""
        lines.append(f"Incident: {number}{incident.id}{urgency}{priority}")
    if event.service:
        lines.append(f"Service: {event.service.summary or event.service.id}")
    lines.append(f"Event: {event.event_type} at {event.occurred_at.isoformat()}")
    if event.agent:
        lines.append(f"By: {event.agent.summary or event.agent.id}")
    link = incident.html_url if incident else None
    if link:
        lines.append(f"Link: {link}")
    return subject, "\n".join(clean_text(line, max_length=1024) for line in lines)
