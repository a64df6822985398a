"""Fan-out of normalized incident events: the EventBridge bus, and an optional human notification over SNS.

Both sit behind small interfaces so the webhook logic never sees boto3. A failed publish raises
``DependencyError`` (retryable): the webhook is answered 5xx and PagerDuty delivers it again.

One bus event per delivery: the EventBridge client makes a single attempt (``PUT_EVENTS_CONFIG``: botocore's
retries would resend an entry whose answer was only slow, and EventBridge has no idempotency token). The
publisher retries itself, once, only what EventBridge cannot have ingested: a connection never made, a
throttled request, an entry the answer reports as failed. A timeout after sending is answered 5xx; if the
event had in fact landed, PagerDuty's redelivery publishes it a second time with the same identity. So
delivery is at least once, as EventBridge's own is: consumers drop duplicates on ``detail.event_id`` (the
webhook event's id, the same in every copy), for example with a conditional put of that id or Powertools'
idempotency keyed on ``detail.event_id``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError

from pagerduty_utils.error_handler import dependency_error
from pagerduty_utils.exceptions import DependencyError
from pagerduty_utils.webhook_processor.normalized import NormalizedIncidentEvent

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef
    from mypy_boto3_sns import SNSClient

EVENT_SOURCE = "pagerduty.webhooks"
# EventBridge accepts 256 KB per entry (detail, detail-type, source and resources together).
MAX_DETAIL_BYTES = 240 * 1024
SNS_SUBJECT_LENGTH = 99
# One attempt per call, and a read timeout long enough for a slow PutEvents within PagerDuty's 5 s.
PUT_EVENTS_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 1})
_PUT_EVENTS_ATTEMPTS = 2
# Errors EventBridge answers before ingesting anything.
_REFUSED_CODES = frozenset({"ThrottlingException", "LimitExceededException"})


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
        entry: PutEventsRequestEntryTypeDef = {
            "EventBusName": self._bus_name,
            "Source": self._source,
            "DetailType": event.event_type,
            "Detail": detail_json(event),
            "Time": event.occurred_at,
        }
        for attempt in range(1, _PUT_EVENTS_ATTEMPTS + 1):
            last = attempt == _PUT_EVENTS_ATTEMPTS
            try:
                response = self._client.put_events(Entries=[entry])
            except (EndpointConnectionError, ConnectTimeoutError) as error:
                if last:
                    raise dependency_error("EventBridge PutEvents", error) from None
                continue
            except ClientError as error:
                if last or error.response.get("Error", {}).get("Code") not in _REFUSED_CODES:
                    raise dependency_error("EventBridge PutEvents", error) from None
                continue
            except BotoCoreError as error:  # a timeout or a dropped connection after sending: it may have landed
                raise dependency_error("EventBridge PutEvents", error) from None
            if not response.get("FailedEntryCount", 0):
                return
            if last:
                code = response["Entries"][0].get("ErrorCode", "error")
                raise DependencyError(f"EventBridge PutEvents rejected the event: {code}")


def detail_json(event: NormalizedIncidentEvent) -> str:
    """The event as bus ``detail``; when too large for EventBridge, without its ``data`` (flagged truncated)."""
    detail = event.model_dump_json()
    if len(detail.encode("utf-8")) <= MAX_DETAIL_BYTES:
        return detail
    return event.model_copy(update={"data": None, "data_truncated": True}).model_dump_json()


class SnsNotificationPublisher(NotificationPublisher):
    """One SNS message per notification, with a rendering per kind of subscriber (``MessageStructure=json``).

    E-mail subscribers get the plain-text e-mail body under the e-mail subject; every other protocol (SQS,
    Lambda, HTTPS: typically a relay into chat) gets the JSON document of ``render_notification``, with
    ready-made Slack and Teams payloads. The ``event_type`` message attribute lets subscriptions filter.
    """

    def __init__(self, topic_arn: str, *, client: SNSClient) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def notify(self, event: NormalizedIncidentEvent) -> None:
        rendered = render_notification(event)
        try:
            self._client.publish(
                TopicArn=self._topic_arn,
                Subject=rendered.subject,
                Message=json.dumps({"default": json.dumps(rendered.document), "email": rendered.email_text}),
                MessageStructure="json",
                MessageAttributes={"event_type": {"DataType": "String", "StringValue": event.event_type}},
            )
        except (ClientError, BotoCoreError) as error:
            raise dependency_error("SNS Publish", error) from None


@dataclass(frozen=True)
class RenderedNotification:
    subject: str
    email_text: str
    document: dict[str, Any]


def render_notification(event: NormalizedIncidentEvent) -> RenderedNotification:
    """The incident rendered by ``notification_builder`` for e-mail, Slack and Teams."""
    # Imported here: the renderers (and the alert models behind them) load only where a topic is configured.
    from pagerduty_utils import notification_builder  # noqa: PLC0415

    incident = event.incident
    notice = notification_builder.IncidentNotice(
        title=(incident.title if incident else None) or event.event_type,
        status=(incident.status if incident else None) or event.event_type.rsplit(".", 1)[-1],
        urgency=incident.urgency if incident else None,
        service=event.service.summary or event.service.id if event.service else None,
        url=incident.html_url if incident else None,
        occurred_at=event.occurred_at,
    )
    notification = notification_builder.notification_for_incident(notice)
    email = notification_builder.render_email(notification)
    # SNS subjects: ASCII, one line, under 100 characters.
    subject = email.subject.encode("ascii", "replace").decode("ascii")[:SNS_SUBJECT_LENGTH]
    document = {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "incident_id": incident.id if incident else None,
        "subject": email.subject,
        "text": email.text,
        "html": email.html,
        "slack": notification_builder.render_slack(notification),
        "teams": notification_builder.render_teams(notification),
    }
    return RenderedNotification(subject=subject, email_text=email.text, document=document)
