"""A message's claimed AWS source is trusted only as far as its channel proves it (docs/security.md)."""

from __future__ import annotations

from typing import Any

import pytest

from pagerduty_utils.alert_forwarder.intake import ChannelTrust
from pagerduty_utils.alert_forwarder.routing import RoutingPlanner
from pagerduty_utils.config_parser import RoutingRules
from pagerduty_utils.data_transformer import AlertSource, TransformOptions, normalize
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.pagerduty_events import AlertEvent, EventAction, Severity
from pdutils.testing.forwarder import application_alert
from tests.unit.fixtures.alert_events import sns_with_message
from tests.unit.fixtures.forged_alerts import (
    ALERT_QUEUE_ARN,
    ALERT_TOPIC_ARN,
    SECURITY_RULES,
    SHARED_TOPIC_ARN,
    alarm_notification,
    alarm_state_change,
    forged_guardduty_finding,
    forged_ok,
    in_sns,
    sns_record,
    sqs_record,
)

KEYS = {"default": "D" * 32, "security": "S" * 32}


def planner(*alarm_topics: str) -> RoutingPlanner:
    return RoutingPlanner(
        RoutingRules.from_text(SECURITY_RULES), lambda: KEYS, TransformOptions(), ChannelTrust(alarm_topics)
    )


def only_event(content: dict[str, Any], *alarm_topics: str) -> AlertEvent:
    [event] = planner(*alarm_topics).plan(content).events
    return event


@pytest.mark.parametrize(
    ("content", "name", "trusted"),
    [
        (sqs_record(alarm_state_change()), "eventbridge", True),
        (alarm_state_change(), "eventbridge", True),
        (sqs_record(in_sns(alarm_notification("OK"))), f"sns:{ALERT_TOPIC_ARN}", True),
        (sns_record(in_sns(alarm_notification("OK"))), f"sns:{ALERT_TOPIC_ARN}", True),
        (sqs_record(in_sns(alarm_state_change())), f"sns:{ALERT_TOPIC_ARN}", False),
        (sqs_record(in_sns(alarm_notification("OK"), SHARED_TOPIC_ARN)), f"sns:{SHARED_TOPIC_ARN}", False),
        (sns_record(in_sns(alarm_notification("OK"), SHARED_TOPIC_ARN)), f"sns:{SHARED_TOPIC_ARN}", False),
        (sqs_record(alarm_notification("OK")), f"sqs:{ALERT_QUEUE_ARN}", False),
        ({**sqs_record({}), "body": "plain text"}, f"sqs:{ALERT_QUEUE_ARN}", False),
        (alarm_notification("OK"), "direct", False),
    ],
    ids=[
        "rule-into-queue",
        "rule-direct",
        "alarm-topic-in-queue",
        "alarm-topic-direct",
        "eventbridge-document-on-the-alarm-topic",
        "shared-topic-in-queue",
        "shared-topic-direct",
        "bare-document-sent-to-the-queue",
        "plain-text-sent-to-the-queue",
        "direct-invocation-of-another-shape",
    ],
)
def test_the_channel_is_read_from_the_record(content: dict[str, Any], name: str, trusted: bool) -> None:
    channel = ChannelTrust([ALERT_TOPIC_ARN]).channel_of(content)
    assert (channel.name, channel.trusted) == (name, trusted)


def test_a_forged_ok_in_an_sns_message_cannot_resolve_the_alarm_a_rule_opened() -> None:
    opened = only_event(sqs_record(alarm_state_change()), ALERT_TOPIC_ARN)
    forged = only_event(sqs_record(in_sns(forged_ok())), ALERT_TOPIC_ARN)

    assert (opened.event_action, forged.event_action) == (EventAction.TRIGGER, EventAction.RESOLVE)
    assert str(opened.dedup_key).startswith("aws/cloudwatch/")
    assert forged.dedup_key == f"claimed/sns:{ALERT_TOPIC_ARN}/{opened.dedup_key}"


@pytest.mark.parametrize(
    "content",
    [sqs_record(in_sns(alarm_notification("OK"), SHARED_TOPIC_ARN)), sqs_record(alarm_notification("OK"))],
    ids=["shared-topic", "sent-to-the-queue"],
)
def test_a_forged_alarm_notification_cannot_resolve_the_alarm_a_rule_opened(content: dict[str, Any]) -> None:
    opened = only_event(sqs_record(alarm_state_change()), ALERT_TOPIC_ARN)
    forged = only_event(content, ALERT_TOPIC_ARN)
    assert forged.event_action is EventAction.RESOLVE
    assert str(forged.dedup_key).startswith("claimed/")
    assert forged.dedup_key != opened.dedup_key


def test_cloudwatch_notifications_on_an_alarm_topic_resolve_what_the_rule_opened() -> None:
    opened = only_event(sqs_record(alarm_state_change()), ALERT_TOPIC_ARN)
    resolved = only_event(sqs_record(in_sns(alarm_notification("OK"))), ALERT_TOPIC_ARN)
    assert (resolved.event_action, resolved.dedup_key) == (EventAction.RESOLVE, opened.dedup_key)


def test_a_forged_guardduty_finding_in_an_sns_message_does_not_page_security() -> None:
    forged = only_event(sqs_record(in_sns(forged_guardduty_finding(), SHARED_TOPIC_ARN)))
    assert forged.routing_key == KEYS["default"]
    assert forged.payload is not None
    assert forged.payload.severity is Severity.ERROR
    assert forged.payload.summary.startswith("Unverified guardduty: ")
    assert forged.payload.custom_details is not None
    assert forged.payload.custom_details["claimed_source"] == "guardduty"
    assert forged.payload.custom_details["channel"] == f"sns:{SHARED_TOPIC_ARN}"


def test_a_guardduty_finding_a_rule_delivered_pages_security() -> None:
    real = only_event(sqs_record(forged_guardduty_finding()))
    assert real.routing_key == KEYS["security"]
    assert real.payload is not None
    assert real.payload.severity is Severity.CRITICAL


def test_an_sns_topics_own_messages_are_unchanged_on_an_unverified_channel() -> None:
    notification = sns_with_message("disk full on db-1")
    assert normalize(notification, options=TransformOptions(unverified_channel="sns:x")) == normalize(notification)


def test_an_unverified_claim_keeps_its_own_trigger_and_resolve() -> None:
    options = TransformOptions(unverified_channel="sqs:queue")
    [opened] = normalize(alarm_state_change(), options=options)
    [resolved] = normalize(forged_ok(), options=options)
    assert (opened.source, resolved.source) == (AlertSource.CUSTOM, AlertSource.CUSTOM)
    assert (opened.action, resolved.action) == (EventAction.TRIGGER, EventAction.RESOLVE)
    assert opened.dedup_key == resolved.dedup_key


@pytest.mark.parametrize(
    "dedup_key",
    ["aws/cloudwatch/123456789012/us-east-1/orders-db-replica-lag", "claimed/x", " aws/x", "\u200baws/x", "\taws/x"],
)
def test_a_custom_event_cannot_choose_a_service_dedup_key(dedup_key: str) -> None:
    event = application_alert("x", state="resolved")
    event["detail"]["dedup_key"] = dedup_key
    with pytest.raises(ValidationError, match="dedup_key must not start with"):
        normalize(event)
