from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pagerduty_utils.data_transformer import (
    AlertSource,
    NormalizedAlert,
    TransformOptions,
    guardduty_severity,
    normalize,
    to_alert_event,
)
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.pagerduty_events import AlertEvent, EventAction, Severity
from tests.unit.fixtures.alert_events import (
    alarm_action_event,
    alarm_message,
    composite_alarm_event,
    eventbridge_event,
    every_sample_message,
    load_event,
    securityhub_event,
    sns_notification,
    sns_with_message,
)
from tests.unit.fixtures.events_api import enqueue_body, enqueue_validator

ROUTING_KEY = "R" * 32
CHECKOUT_ALARM_KEY = "aws/cloudwatch/123456789012/us-east-1/checkout-api-high-cpu"


def only(alerts: list[NormalizedAlert]) -> NormalizedAlert:
    assert len(alerts) == 1
    return alerts[0]


@pytest.fixture
def check_enqueue_body() -> Callable[[AlertEvent], None]:
    return enqueue_validator()


# --- every sample event ------------------------------------------------------------------------------------------

EXPECTED_FROM_SAMPLES = {
    "sns_cloudwatch_alarm.json": (
        AlertSource.CLOUDWATCH_ALARM,
        EventAction.TRIGGER,
        CHECKOUT_ALARM_KEY,
        Severity.ERROR,
    ),
    "sns_cloudwatch_ok.json": (AlertSource.CLOUDWATCH_ALARM, EventAction.RESOLVE, CHECKOUT_ALARM_KEY, Severity.ERROR),
    "sqs_alert_batch.json[0]": (AlertSource.CLOUDWATCH_ALARM, EventAction.TRIGGER, CHECKOUT_ALARM_KEY, Severity.ERROR),
    "sqs_alert_batch.json[1]": (
        AlertSource.GUARDDUTY,
        EventAction.TRIGGER,
        "aws/guardduty/123456789012/us-east-1/a4c2e8b6d0f1a3c5e7b9d1f3a5c7e9b1",
        Severity.ERROR,
    ),
    "sqs_alert_batch.json[2]": (
        AlertSource.CUSTOM,
        EventAction.TRIGGER,
        "checkout/payment-gateway/timeouts",
        Severity.ERROR,
    ),
    "eventbridge_alarm_state_change.json": (
        AlertSource.CLOUDWATCH_ALARM,
        EventAction.TRIGGER,
        "aws/cloudwatch/123456789012/us-east-1/orders-db-replica-lag",
        Severity.ERROR,
    ),
    "eventbridge_guardduty_finding.json": (
        AlertSource.GUARDDUTY,
        EventAction.TRIGGER,
        "aws/guardduty/123456789012/us-east-1/a4c2e8b6d0f1a3c5e7b9d1f3a5c7e9b1",
        Severity.ERROR,
    ),
    "eventbridge_securityhub_finding.json": (
        AlertSource.SECURITY_HUB,
        EventAction.TRIGGER,
        "aws/securityhub/arn:aws:securityhub:us-east-1:123456789012:subscription/"
        "aws-foundational-security-best-practices/v/1.0.0/S3.8/finding/2b4d6f8a-0c2e-4a6c-8e0a-2c4e6a8c0e2a",
        Severity.ERROR,
    ),
    "eventbridge_health_event.json": (
        AlertSource.HEALTH,
        EventAction.TRIGGER,
        "aws/health/123456789012/arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/"
        "AWS_EC2_OPERATIONAL_ISSUE_7F35C8A3B9D",
        Severity.ERROR,
    ),
    "eventbridge_custom_app_event.json": (
        AlertSource.CUSTOM,
        EventAction.TRIGGER,
        "checkout/payment-gateway/timeouts",
        Severity.ERROR,
    ),
}


@pytest.mark.parametrize(("label", "message"), every_sample_message(), ids=lambda value: str(value)[:40])
def test_every_sample_event_maps_to_the_expected_alert(label: str, message: Any) -> None:
    alert = only(normalize(message))
    assert (alert.source, alert.action, alert.dedup_key, alert.payload.severity) == EXPECTED_FROM_SAMPLES[label]
    assert alert.occurred_at.tzinfo is not None
    assert alert.payload.summary
    assert alert.links, "every AWS alert links to its console page"


def test_every_sample_has_an_expectation() -> None:
    assert sorted(label for label, _ in every_sample_message()) == sorted(EXPECTED_FROM_SAMPLES)


@pytest.mark.parametrize("severity", [None, Severity.CRITICAL])
def test_every_event_produced_from_the_samples_is_valid_for_the_events_api(
    check_enqueue_body: Callable[[AlertEvent], None], severity: Severity | None
) -> None:
    messages = [message for _, message in every_sample_message()]
    messages += [composite_alarm_event(), alarm_action_event(), sns_with_message("disk full on db-1")]
    messages += [securityhub_event({"Workflow": {"Status": "RESOLVED"}})]
    for message in messages:
        for alert in normalize(message):
            check_enqueue_body(to_alert_event(alert, routing_key=ROUTING_KEY, severity=severity))


# --- envelopes ---------------------------------------------------------------------------------------------------


def test_the_same_alarm_notification_maps_identically_through_every_envelope() -> None:
    record = load_event("sns_cloudwatch_alarm.json")["Records"][0]
    sqs_body = load_event("sqs_alert_batch.json")["Records"][0]["body"]
    envelopes = [
        record,
        record["Sns"],
        json.dumps(record["Sns"]),
        sqs_body,
        alarm_message(),
        json.dumps(alarm_message()),
    ]
    alerts = [only(normalize(envelope)) for envelope in envelopes]
    assert all(alert == alerts[0] for alert in alerts)


def test_a_whole_sqs_record_is_unwrapped() -> None:
    record = load_event("sqs_alert_batch.json")["Records"][1]
    assert only(normalize(record)).source is AlertSource.GUARDDUTY


def test_the_callers_record_is_not_modified() -> None:
    notification = json.loads(load_event("sqs_alert_batch.json")["Records"][0]["body"])
    before = json.dumps(notification, sort_keys=True)
    normalize(notification)
    assert json.dumps(notification, sort_keys=True) == before


def test_an_eventbridge_event_delivered_through_sns_is_unwrapped() -> None:
    alert = only(normalize(sns_with_message(load_event("eventbridge_guardduty_finding.json"))))
    assert alert.source is AlertSource.GUARDDUTY


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ("[" * 100_000, "not valid JSON"),
        ({"Records": []}, "pass each of its Records separately"),
        ({"hello": "world"}, "unrecognised message (keys: hello)"),
        ({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification"}, "keys: detail-type, source"),
        ({"eventSource": "aws:sqs", "body": "{}"}, "SQS record has no SentTimestamp"),
        ({"eventSource": "aws:sqs", "body": 7}, "SQS record body is not a string"),
        ({"EventSource": "aws:sns", "Sns": "text"}, "SNS record is not valid JSON"),
        ({"EventSource": "aws:sns", "Sns": 7}, "SNS record is not a JSON object"),
    ],
)
def test_input_that_can_never_be_processed_is_rejected_with_the_reason(message: Any, reason: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(reason)):
        normalize(message)


def test_an_oversized_message_is_rejected() -> None:
    with pytest.raises(ValidationError, match="larger than"):
        normalize(json.dumps({"padding": "x" * (1024 * 1024)}))


def test_a_malformed_alarm_names_the_bad_field_but_not_its_value() -> None:
    notification = sns_with_message(alarm_message(StateChangeTime="yesterday-ish"))
    with pytest.raises(ValidationError, match="StateChangeTime") as caught:
        normalize(notification)
    assert "yesterday-ish" not in str(caught.value)


# --- CloudWatch alarms -------------------------------------------------------------------------------------------


def test_alarm_and_ok_share_the_dedup_key_so_ok_resolves_what_alarm_opened() -> None:
    opened = only(normalize(load_event("sns_cloudwatch_alarm.json")["Records"][0]))
    closed = only(normalize(load_event("sns_cloudwatch_ok.json")["Records"][0]))
    assert (opened.action, closed.action) == (EventAction.TRIGGER, EventAction.RESOLVE)
    assert opened.dedup_key == closed.dedup_key
    assert closed.occurred_at > opened.occurred_at


def test_sns_and_eventbridge_paths_give_the_same_dedup_key_for_one_alarm() -> None:
    sns_alert = only(normalize(sns_notification()))
    event = eventbridge_event("eventbridge_alarm_state_change.json", alarmName="checkout-api-high-cpu")
    event["resources"] = ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-high-cpu"]
    assert only(normalize(event)).dedup_key == sns_alert.dedup_key == CHECKOUT_ALARM_KEY


def test_without_resources_the_alarm_arn_is_rebuilt_in_the_regions_partition() -> None:
    event = load_event("eventbridge_alarm_state_change.json")
    event["resources"] = []
    event["region"] = "cn-north-1"
    alert = only(normalize(event))
    assert alert.dedup_key == "aws/cloudwatch/123456789012/cn-north-1/orders-db-replica-lag"
    assert alert.resources == ("arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:orders-db-replica-lag",)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("ignore", None), ("trigger", EventAction.TRIGGER), ("resolve", EventAction.RESOLVE)],
)
def test_insufficient_data_follows_the_option(choice: Any, expected: EventAction | None) -> None:
    message = alarm_message(NewStateValue="INSUFFICIENT_DATA")
    alerts = normalize(message, options=TransformOptions(insufficient_data_action=choice))
    assert [alert.action for alert in alerts] == ([] if expected is None else [expected])


def test_sns_alarm_details_carry_metric_threshold_dimensions_and_history() -> None:
    alert = only(normalize(sns_notification()))
    details = alert.payload.custom_details or {}
    assert details["metric"] == {
        "namespace": "AWS/EC2",
        "name": "CPUUtilization",
        "statistic": "AVERAGE",
        "period": 300,
    }
    assert (details["threshold"], details["comparison_operator"]) == (80.0, "GreaterThanThreshold")
    assert details["dimensions"] == {"AutoScalingGroupName": "checkout-api-asg"}
    assert [entry["state"] for entry in details["state_history"]] == ["OK", "ALARM"]
    assert details["alarm"]["reason"].startswith("Threshold Crossed")
    assert alert.payload.source == "AutoScalingGroupName=checkout-api-asg"
    assert (alert.payload.component, alert.payload.class_) == ("AWS/EC2", "CPUUtilization")


def test_summary_is_built_from_state_name_description_and_reason() -> None:
    summary = only(normalize(sns_notification())).payload.summary
    assert summary.startswith("ALARM: checkout-api-high-cpu — Average CPU of the checkout API fleet")
    assert "Threshold Crossed" in summary


def test_eventbridge_alarm_details_carry_previous_state_and_datapoints() -> None:
    details = only(normalize(load_event("eventbridge_alarm_state_change.json"))).payload.custom_details or {}
    assert [entry["state"] for entry in details["state_history"]] == ["OK", "ALARM"]
    assert details["state_history"][0]["since"].startswith("2026-11-26T22:02:41")
    assert (details["threshold"], details["recent_datapoints"]) == (30.0, [37.0, 41.0, 48.0])
    assert details["metric"]["name"] == "ReplicaLag"
    assert details["dimensions"] == {"DBInstanceIdentifier": "orders-db-replica-1"}


def test_a_composite_alarm_carries_its_rule_and_triggering_alarms() -> None:
    alert = only(normalize(composite_alarm_event()))
    details = alert.payload.custom_details or {}
    assert details["alarm_rule"] == "ALARM(checkout-api-high-cpu) OR ALARM(orders-db-replica-lag)"
    assert details["triggering_alarms"][0]["state"]["value"] == "ALARM"
    assert alert.payload.class_ == "composite alarm"
    assert "metric" not in details


def test_a_metric_math_alarm_lists_its_queries() -> None:
    event = load_event("eventbridge_alarm_state_change.json")
    query = event["detail"]["configuration"]["metrics"][0]
    event["detail"]["configuration"]["metrics"] = [{"id": "e1", "expression": "m1 * 2", "returnData": True}, query]
    details = only(normalize(event)).payload.custom_details or {}
    assert [item["id"] for item in details["metrics"]] == ["e1", "m1"]


def test_an_alarm_lambda_action_maps_like_the_eventbridge_state_change() -> None:
    direct = only(normalize(alarm_action_event()))
    via_eventbridge = only(normalize(load_event("eventbridge_alarm_state_change.json")))
    assert direct == via_eventbridge


@pytest.mark.parametrize(
    ("description", "severity"),
    [
        ("Disk full [severity:critical] see runbook", Severity.CRITICAL),
        ("[Severity = Warning] slow", Severity.WARNING),
        ("no marker", Severity.ERROR),
        (None, Severity.ERROR),
    ],
)
def test_a_description_marker_sets_the_alarm_severity(description: str | None, severity: Severity) -> None:
    alert = only(normalize(alarm_message(AlarmDescription=description)))
    assert alert.payload.severity is severity
    assert "severity" not in alert.payload.summary.lower()


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("eu-west-1", "https://eu-west-1.console.aws.amazon.com/"),
        ("cn-north-1", "https://cn-north-1.console.amazonaws.cn/"),
        ("us-gov-west-1", "https://console.amazonaws-us-gov.com/"),
    ],
)
def test_the_console_link_points_at_the_alarms_region(region: str, host: str) -> None:
    arn = f"arn:aws:cloudwatch:{region}:123456789012:alarm:db cpu/high"
    alert = only(normalize(alarm_message(AlarmArn=arn, AlarmName="db cpu/high")))
    assert alert.client_url is not None
    assert alert.client_url.startswith(host)
    assert alert.client_url.endswith(f"?region={region}#alarmsV2:alarm/db%20cpu%2Fhigh")
    assert alert.region == region


# --- GuardDuty ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        *((10, "critical"), (9.0, "critical"), (8.9, "error"), (7.0, "error"), (6.9, "warning")),
        *((4.0, "warning"), (3.9, "info"), (1.0, "info"), (0, "info")),
    ],
)
def test_guardduty_severity_bands(score: float, severity: str) -> None:
    assert guardduty_severity(score) == severity
    alert = only(normalize(eventbridge_event("eventbridge_guardduty_finding.json", severity=score)))
    assert alert.payload.severity == severity


def test_updates_of_one_guardduty_finding_share_its_dedup_key_and_an_archive_resolves_it() -> None:
    first = only(normalize(load_event("eventbridge_guardduty_finding.json")))
    service = load_event("eventbridge_guardduty_finding.json")["detail"]["service"]
    updated = eventbridge_event("eventbridge_guardduty_finding.json", updatedAt="2026-11-27T05:00:00Z")
    archived = eventbridge_event("eventbridge_guardduty_finding.json", service={**service, "archived": True})
    assert only(normalize(updated)).dedup_key == first.dedup_key
    assert only(normalize(updated)).occurred_at == datetime(2026, 11, 27, 5, tzinfo=UTC)
    assert only(normalize(archived)).action is EventAction.RESOLVE


def test_a_guardduty_alert_carries_the_resource_tags_and_identity() -> None:
    alert = only(normalize(load_event("eventbridge_guardduty_finding.json")))
    assert alert.resource_tags == {"Name": "bastion-1", "team": "platform"}
    assert (alert.name, alert.payload.source, alert.payload.component) == (
        "UnauthorizedAccess:EC2/SSHBruteForce",
        "i-0a1b2c3d4e5f67890",
        "Instance",
    )
    assert (alert.payload.custom_details or {})["count"] == 214


# --- Security Hub ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "severity"),
    [("CRITICAL", "critical"), ("HIGH", "error"), ("MEDIUM", "warning"), ("LOW", "info"), ("INFORMATIONAL", "info")],
)
def test_security_hub_labels_map_to_severities(label: str, severity: str) -> None:
    alert = only(normalize(securityhub_event({"Severity": {"Label": label}})))
    assert alert.payload.severity == severity


def test_security_hub_falls_back_to_the_normalized_score() -> None:
    alert = only(normalize(securityhub_event({"Severity": {"Normalized": 95}})))
    assert alert.payload.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("changes", "action"),
    [
        ({"Workflow": {"Status": "RESOLVED"}}, EventAction.RESOLVE),
        ({"Workflow": {"Status": "SUPPRESSED"}}, EventAction.RESOLVE),
        ({"RecordState": "ARCHIVED"}, EventAction.RESOLVE),
        ({"Workflow": {"Status": "NOTIFIED"}}, EventAction.TRIGGER),
        ({"Workflow": None, "WorkflowState": "RESOLVED"}, EventAction.RESOLVE),
    ],
)
def test_security_hub_findings_resolve_when_closed_or_archived(changes: dict[str, Any], action: EventAction) -> None:
    assert only(normalize(securityhub_event(changes))).action is action


def test_each_security_hub_finding_becomes_its_own_alert() -> None:
    alerts = normalize(securityhub_event({}, {"Workflow": {"Status": "RESOLVED"}}, {"Severity": {"Label": "LOW"}}))
    assert [(alert.action, alert.payload.severity) for alert in alerts] == [
        (EventAction.TRIGGER, Severity.ERROR),
        (EventAction.RESOLVE, Severity.ERROR),
        (EventAction.TRIGGER, Severity.INFO),
    ]
    assert len({alert.dedup_key for alert in alerts}) == 3


def test_a_security_hub_alert_links_the_finding_and_its_remediation() -> None:
    alert = only(normalize(load_event("eventbridge_securityhub_finding.json")))
    assert [link.text for link in alert.links] == ["View the finding in Security Hub", "Remediation"]
    assert alert.name == "aws-foundational-security-best-practices/v/1.0.0/S3.8"
    assert alert.resources == ("arn:aws:s3:::example-checkout-exports",)


# --- AWS Health --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action"),
    [("open", EventAction.TRIGGER), ("upcoming", EventAction.TRIGGER), ("closed", EventAction.RESOLVE)],
)
def test_health_status_maps_to_actions_on_one_dedup_key(status: str, action: EventAction) -> None:
    original = only(normalize(load_event("eventbridge_health_event.json")))
    alert = only(normalize(eventbridge_event("eventbridge_health_event.json", statusCode=status)))
    assert (alert.action, alert.dedup_key) == (action, original.dedup_key)


def test_health_event_time_is_its_last_update_parsed_from_rfc_1123() -> None:
    alert = only(normalize(load_event("eventbridge_health_event.json")))
    assert alert.occurred_at == datetime(2026, 11, 27, 4, 5, tzinfo=UTC)
    assert alert.name == "AWS_EC2_OPERATIONAL_ISSUE"


def test_a_public_health_event_has_one_alert_across_accounts() -> None:
    keys = set()
    for account in ("111111111111", "222222222222"):
        event = eventbridge_event("eventbridge_health_event.json", eventScopeCode="PUBLIC", affectedAccount=account)
        keys.add(only(normalize(event)).dedup_key)
    assert keys == {
        "aws/health/arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_7F35C8A3B9D"
    }


# --- custom application events -----------------------------------------------------------------------------------


def test_a_resolved_custom_event_resolves_its_dedup_key() -> None:
    alert = only(normalize(eventbridge_event("eventbridge_custom_app_event.json", state="resolved")))
    assert (alert.action, alert.dedup_key) == (EventAction.RESOLVE, "checkout/payment-gateway/timeouts")


def test_a_custom_event_without_a_dedup_key_gets_a_stable_one_from_source_and_summary() -> None:
    event = load_event("eventbridge_custom_app_event.json")
    del event["detail"]["dedup_key"]
    assert (
        only(normalize(event)).dedup_key == "app/com.example.checkout/Payment gateway timeouts above 5% for 3 minutes"
    )


def test_custom_event_fields_pass_through() -> None:
    alert = only(normalize(load_event("eventbridge_custom_app_event.json")))
    assert (alert.payload.component, alert.payload.group, alert.payload.class_) == (
        "payment-gateway",
        "checkout",
        "latency",
    )
    assert (alert.payload.custom_details or {})["p99_latency_ms"] == 4210
    assert [link.text for link in alert.links] == ["Payments dashboard", "Runbook"]
    assert alert.client == "com.example.checkout"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"source": "aws.fake"}, "source: custom application events must not use an 'aws.' source"),
        ({"detail": {"summary": "x", "dedupkey": "typo"}}, r"detail.dedupkey: Extra inputs"),
        ({"detail": {"summary": "x", "links": [{"href": "javascript:alert(1)"}]}}, r"detail.links\[0\].href"),
        ({"detail": {"summary": "x", "state": "acknowledged"}}, "detail.state"),
        ({"detail": {"severity": "error"}}, "detail.summary: Field required"),
    ],
)
def test_invalid_custom_events_are_rejected_precisely(change: dict[str, Any], reason: str) -> None:
    event = {**load_event("eventbridge_custom_app_event.json"), **change}
    with pytest.raises(ValidationError, match=reason):
        normalize(event)


# --- other SNS messages ------------------------------------------------------------------------------------------


def test_a_plain_text_sns_message_becomes_a_trigger_keyed_by_its_message_id() -> None:
    notification = sns_with_message("Disk full on db-1\nmore text", subject="db-1 disk")
    alert = only(normalize(notification))
    assert (alert.source, alert.action) == (AlertSource.SNS, EventAction.TRIGGER)
    topic = "arn:aws:sns:us-east-1:123456789012:pagerduty-alerts"
    assert alert.dedup_key == f"aws/sns/{topic}/{notification['MessageId']}"
    assert (alert.name, alert.payload.summary) == ("pagerduty-alerts", "db-1 disk — Disk full on db-1")
    assert (alert.payload.custom_details or {})["message"] == "Disk full on db-1\nmore text"


def test_unrelated_sns_messages_with_one_subject_never_fold_into_one_alert() -> None:
    first = sns_with_message("Backup of vol-1 completed", subject="Notification from AWS Backup")
    second = {**sns_with_message("Backup of vol-2 failed", subject="Notification from AWS Backup"), "MessageId": "m-2"}
    keys = {only(normalize(message)).dedup_key for message in (first, second)}
    assert len(keys) == 2


def test_an_unrecognised_json_sns_message_is_kept_as_structured_details() -> None:
    alert = only(normalize(sns_with_message({"service": "billing", "error_rate": 0.2})))
    assert (alert.payload.custom_details or {})["message"] == {"service": "billing", "error_rate": 0.2}


# --- sanitizing user-controlled text -----------------------------------------------------------------------------


def test_user_text_loses_control_characters_and_is_bounded() -> None:
    description = "Bad\x00 \x1b[31mcolour\u202e and\u200b hidden\n" + "long " * 500
    alert = only(normalize(alarm_message(AlarmDescription=description)))
    details = alert.payload.custom_details or {}
    assert len(alert.payload.summary) <= 1024
    for text in (alert.payload.summary, details["alarm"]["description"]):
        assert not any(character in text for character in "\x00\x1b\u202e\u200b")
    assert "Bad [31mcolour and hidden" in alert.payload.summary


def test_custom_details_are_json_safe() -> None:
    alert = only(
        normalize(sns_with_message('{"value": NaN, "text": "lone \\ud800 surrogate", "deep": [[[[[[[[[[1]]]]]]]]]]}'))
    )
    details = alert.payload.custom_details or {}
    assert details["message"]["value"] == "nan"
    assert details["message"]["text"] == "lone  surrogate"
    assert details["message"]["deep"] == [[[[[["…"]]]]]]  # depth bounded under payload > message
    json.dumps(details, ensure_ascii=False, allow_nan=False).encode()


# --- to_alert_event ----------------------------------------------------------------------------------------------


def test_a_trigger_event_carries_the_payload_and_a_routed_severity_override() -> None:
    alert = only(normalize(sns_notification()))
    event = to_alert_event(alert, routing_key=ROUTING_KEY, severity=Severity.CRITICAL)
    assert event.payload is not None
    assert (event.event_action, event.dedup_key, event.payload.severity) == ("trigger", alert.dedup_key, "critical")
    assert (event.client, event.links, event.occurred_at) == (alert.client, alert.links, alert.occurred_at)
    assert to_alert_event(alert, routing_key=ROUTING_KEY).payload == alert.payload


def test_a_resolve_event_carries_only_the_dedup_key() -> None:
    alert = only(normalize(sns_notification("sns_cloudwatch_ok.json")))
    body = to_alert_event(alert, routing_key=ROUTING_KEY).model_dump(mode="json", by_alias=True, exclude_none=True)
    assert body == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": CHECKOUT_ALARM_KEY,
        "links": [],
        "images": [],
    }


# --- robustness --------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
envelope_keys = st.sampled_from(
    [
        *("Records", "eventSource", "EventSource", "Sns", "body", "Type", "Message", "TopicArn", "detail-type"),
        *("source", "detail", "alarmData", "AlarmName", "NewStateValue", "findings", "statusCode", "summary", "state"),
    ]
)


def _sample_messages_as_documents() -> list[dict[str, Any]]:
    documents = []
    for _, message in every_sample_message():
        documents.append(json.loads(message) if isinstance(message, str) else message)
    return documents


def _replace_leaf(document: Any, path: list[int], value: Any) -> Any:
    """``document`` with the leaf reached by ``path`` (indexes into keys/items, wrapped) set to ``value``."""
    if not path or not isinstance(document, dict | list) or not document:
        return value
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path[0] % len(keys)]
    copied = dict(document) if isinstance(document, dict) else list(document)
    copied[key] = _replace_leaf(document[key], path[1:], value)
    return copied


def _normalize_or_reject(message: Any) -> None:
    try:
        alerts = normalize(message)
    except ValidationError:
        return
    for alert in alerts:
        body = enqueue_body(to_alert_event(alert, routing_key=ROUTING_KEY))
        json.dumps(body, ensure_ascii=False, allow_nan=False).encode()  # as the client encodes it


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(envelope_keys | st.text(max_size=12), json_values, max_size=6) | json_values)
def test_arbitrary_json_raises_nothing_but_validation_error(document: Any) -> None:
    _normalize_or_reject(document)
    _normalize_or_reject(json.dumps(document))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_sample_messages_as_documents()),
    st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6),
    json_values,
)
def test_sample_events_with_any_field_replaced_raise_nothing_but_validation_error(
    document: dict[str, Any], path: list[int], value: Any
) -> None:
    _normalize_or_reject(_replace_leaf(document, path, value))


def test_a_finding_with_an_unusable_source_url_still_maps_without_that_link() -> None:
    alert = only(normalize(securityhub_event({"SourceUrl": "s3://bucket/report", "Remediation": {}})))
    assert [link.text for link in alert.links] == ["View the finding in Security Hub"]
