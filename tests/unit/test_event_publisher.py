"""Bus and notification adapters: entries as EventBridge and SNS expect them, failures as retryable errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from pagerduty_utils.exceptions import DependencyError
from pagerduty_utils.webhook_processor.event_publisher import (
    EVENT_SOURCE,
    MAX_DETAIL_BYTES,
    PUT_EVENTS_CONFIG,
    EventBridgePublisher,
    SnsNotificationPublisher,
    detail_json,
    render_notification,
)
from pagerduty_utils.webhook_processor.models import WebhookEnvelope, parse_event_data
from pagerduty_utils.webhook_processor.normalized import NormalizedIncidentEvent, normalize
from pdutils.testing.webhook_fakes import incident_data, webhook_body

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def normalized(title: str = "Disk full on db-1") -> NormalizedIncidentEvent:
    event = WebhookEnvelope.model_validate_json(webhook_body(incident_data(title=title), occurred_at=NOW)).event
    data = parse_event_data(event.data)
    assert data is not None
    return normalize(event, data, webhook_id="wh-1", received_at=NOW, is_latest=True)


@pytest.fixture
def events_stub() -> Iterator[tuple[EventBridgePublisher, Stubber]]:
    client = boto3.client("events", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(client) as stubber:
        yield EventBridgePublisher("incidents", client=client), stubber


def test_publish_puts_one_entry_with_the_documented_detail(events_stub: tuple[EventBridgePublisher, Stubber]) -> None:
    publisher, stubber = events_stub
    event = normalized()
    stubber.add_response(
        "put_events",
        {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]},
        {
            "Entries": [
                {
                    "EventBusName": "incidents",
                    "Source": EVENT_SOURCE,
                    "DetailType": "incident.triggered",
                    "Detail": detail_json(event),
                    "Time": NOW,
                }
            ]
        },
    )
    publisher.publish(event)
    detail = json.loads(detail_json(event))
    assert detail["schema_version"] == "1"
    assert detail["incident"]["priority"] == "P1"
    assert detail["service"] == {"id": "PSVC001", "summary": "Checkout", "html_url": None}


def test_rejected_entry_is_retryable(events_stub: tuple[EventBridgePublisher, Stubber]) -> None:
    publisher, stubber = events_stub
    for _ in range(2):  # retried once: a rejected entry was not ingested
        stubber.add_response(
            "put_events", {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "x"}]}
        )
    with pytest.raises(DependencyError, match="InternalFailure"):
        publisher.publish(normalized())


def test_an_internal_error_is_retryable_by_pagerduty_not_resent_here(
    events_stub: tuple[EventBridgePublisher, Stubber],
) -> None:
    publisher, stubber = events_stub
    stubber.add_client_error("put_events", service_error_code="InternalException", http_status_code=500)
    with pytest.raises(DependencyError, match="InternalException"):
        publisher.publish(normalized())


def test_oversized_detail_drops_data_and_says_so() -> None:
    event = normalized().model_copy(update={"data": {"blob": "x" * MAX_DETAIL_BYTES}})
    detail = json.loads(detail_json(event))
    assert detail["data"] is None
    assert detail["data_truncated"] is True


def test_notification_is_rendered_for_email_slack_and_teams() -> None:
    rendered = render_notification(normalized(title="Caf\u00e9 <down> " + "x" * 200))
    assert rendered.subject.startswith("[TRIGGERED HIGH] Caf? <down>")
    assert len(rendered.subject) < 100
    assert rendered.subject.isascii()
    assert "Service: Checkout" in rendered.email_text
    document = rendered.document
    assert (document["event_type"], document["incident_id"]) == ("incident.triggered", "PINC001")
    assert "&lt;down&gt;" in json.dumps(document["slack"])
    assert document["teams"]["type"] == "message"
    assert "https://acme.pagerduty.com/incidents/PINC001" in document["text"]


def test_sns_message_has_a_rendering_per_protocol_and_the_event_type_attribute() -> None:
    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    event = normalized()
    rendered = render_notification(event)
    with Stubber(client) as stubber:
        stubber.add_response(
            "publish",
            {"MessageId": "m-1"},
            {
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:incidents",
                "Subject": rendered.subject,
                "Message": json.dumps({"default": json.dumps(rendered.document), "email": rendered.email_text}),
                "MessageStructure": "json",
                "MessageAttributes": {"event_type": {"DataType": "String", "StringValue": "incident.triggered"}},
            },
        )
        SnsNotificationPublisher("arn:aws:sns:us-east-1:123456789012:incidents", client=client).notify(event)
        stubber.assert_no_pending_responses()


class ScriptedEvents:
    """An EventBridge client answering each PutEvents with the next scripted outcome."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def put_events(self, **_: object) -> object:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


ACCEPTED = {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}


def publish_with(client: ScriptedEvents) -> None:
    EventBridgePublisher("incidents", client=cast("EventBridgeClient", client)).publish(normalized())


def test_a_slow_put_events_is_not_sent_twice() -> None:
    client = ScriptedEvents(ReadTimeoutError(endpoint_url="https://events"), ACCEPTED)
    with pytest.raises(DependencyError):
        publish_with(client)
    assert client.calls == 1


@pytest.mark.parametrize(
    "refused",
    [
        EndpointConnectionError(endpoint_url="https://events"),
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutEvents"),
        {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]},
    ],
)
def test_what_eventbridge_cannot_have_ingested_is_retried_once(refused: object) -> None:
    client = ScriptedEvents(refused, ACCEPTED)
    publish_with(client)
    assert client.calls == 2


def test_a_second_refusal_is_a_retryable_error() -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutEvents")
    client = ScriptedEvents(throttled, throttled)
    with pytest.raises(DependencyError):
        publish_with(client)
    assert client.calls == 2


def test_the_receivers_eventbridge_client_never_retries_on_its_own() -> None:
    client = boto3.client("events", region_name="us-east-1", config=PUT_EVENTS_CONFIG)
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}  # type: ignore[attr-defined]
