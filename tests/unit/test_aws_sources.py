"""The AWS sources beyond the first five, the generic path, severity by words, grouping and tolerant models."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from pagerduty_utils.data_transformer import (
    AlertSource,
    NormalizedAlert,
    TransformOptions,
    grouped,
    normalize,
    to_alert_event,
    to_change_event,
    verdict_of,
)
from pagerduty_utils.data_transformer import alarms as alarm_mapping
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.pagerduty_events import AlertEvent, ChangeEvent, EventAction, Severity
from tests.unit.fixtures.alert_events import (
    alarm_message,
    load_event,
    records_of,
    sns_notification,
    sns_with_message,
    source_sample_names,
)
from tests.unit.fixtures.events_api import change_validator, enqueue_validator

ROUTING_KEY = "R" * 32
ACCOUNT_REGION = "123456789012/us-east-1"

T, R = EventAction.TRIGGER, EventAction.RESOLVE
CRITICAL, ERROR, WARNING, INFO = Severity.CRITICAL, Severity.ERROR, Severity.WARNING, Severity.INFO

# (source, action, severity, change, dedup key) of every alert each sample maps to, in order.
EXPECTED: dict[str, list[tuple[AlertSource, EventAction, Severity, bool, str]]] = {
    "sources/eventbridge_autoscaling_launch_unsuccessful.json": [
        (AlertSource.AUTOSCALING, T, ERROR, False, f"aws/autoscaling/{ACCOUNT_REGION}/checkout-api-asg/launch")
    ],
    "sources/eventbridge_backup_job_failed.json": [
        (
            AlertSource.BACKUP,
            T,
            ERROR,
            False,
            f"aws/backup/{ACCOUNT_REGION}/arn:aws:rds:us-east-1:123456789012:db:orders-db",
        )
    ],
    "sources/eventbridge_cloudformation_stack_update_complete.json": [
        (AlertSource.CLOUDFORMATION, R, INFO, False, "aws/cloudformation/{stack}"),
        (AlertSource.CLOUDFORMATION, T, INFO, True, "aws/cloudformation/{stack}/change/{id}"),
    ],
    "sources/eventbridge_cloudtrail_root_activity.json": [
        (
            AlertSource.SIGNIN,
            T,
            CRITICAL,
            False,
            "aws/cloudtrail/root/123456789012/c5d6e7f8-0a1b-4c2d-9e3f-4a5b6c7d8e9f",
        )
    ],
    "sources/eventbridge_cloudwatch_composite_alarm.json": [
        (AlertSource.CLOUDWATCH_ALARM, T, ERROR, False, f"aws/cloudwatch/{ACCOUNT_REGION}/checkout-service-degraded")
    ],
    "sources/eventbridge_codebuild_build_failed.json": [
        (AlertSource.CODEBUILD, T, ERROR, False, f"aws/codebuild/{ACCOUNT_REGION}/checkout-api-tests")
    ],
    "sources/eventbridge_codedeploy_deployment_succeeded.json": [
        (AlertSource.CODEDEPLOY, R, INFO, False, f"aws/codedeploy/{ACCOUNT_REGION}/checkout-api/production"),
        (
            AlertSource.CODEDEPLOY,
            T,
            INFO,
            True,
            f"aws/codedeploy/{ACCOUNT_REGION}/checkout-api/production/change/{{id}}",
        ),
    ],
    "sources/eventbridge_codepipeline_execution_succeeded.json": [
        (AlertSource.CODEPIPELINE, R, INFO, False, f"aws/codepipeline/{ACCOUNT_REGION}/checkout-api-release"),
        (
            AlertSource.CODEPIPELINE,
            T,
            INFO,
            True,
            f"aws/codepipeline/{ACCOUNT_REGION}/checkout-api-release/change/{{id}}",
        ),
    ],
    "sources/eventbridge_config_compliance_change.json": [
        (
            AlertSource.CONFIG,
            T,
            WARNING,
            False,
            f"aws/config/{ACCOUNT_REGION}/s3-bucket-public-read-prohibited/AWS::S3::Bucket/checkout-artifacts-prod",
        )
    ],
    "sources/eventbridge_console_signin_root.json": [
        (
            AlertSource.SIGNIN,
            T,
            CRITICAL,
            False,
            "aws/cloudtrail/signin/123456789012/3d1f9e2a-5b7c-4d8e-9f0a-1b2c3d4e5f6a",
        )
    ],
    "sources/eventbridge_ec2_instance_state_change.json": [
        (AlertSource.EVENTBRIDGE, T, WARNING, False, "aws/events/aws.ec2/{id}")
    ],
    "sources/eventbridge_ecs_deployment_completed.json": [
        (
            AlertSource.ECS,
            R,
            INFO,
            False,
            "aws/ecs/arn:aws:ecs:us-east-1:123456789012:service/production/checkout-api/deployment",
        ),
        (
            AlertSource.ECS,
            T,
            INFO,
            True,
            "aws/ecs/arn:aws:ecs:us-east-1:123456789012:service/production/checkout-api/deployment/change/{id}",
        ),
    ],
    "sources/eventbridge_ecs_task_stopped.json": [
        (
            AlertSource.ECS,
            T,
            ERROR,
            False,
            "aws/ecs/arn:aws:ecs:us-east-1:123456789012:cluster/production/service:checkout-api",
        )
    ],
    "sources/eventbridge_glue_job_failed.json": [
        (AlertSource.GLUE, T, ERROR, False, f"aws/glue/{ACCOUNT_REGION}/nightly-orders-etl")
    ],
    "sources/eventbridge_inspector2_finding.json": [
        (
            AlertSource.INSPECTOR,
            T,
            CRITICAL,
            False,
            "aws/inspector2/arn:aws:inspector2:us-east-1:123456789012:finding/0ac5f9b3e8d24a1c9f7e6d5c4b3a2f1e",
        )
    ],
    "sources/eventbridge_rds_instance_event.json": [
        (AlertSource.RDS, T, WARNING, False, "aws/rds/arn:aws:rds:us-east-1:123456789012:db:orders-db/failover")
    ],
    "sources/eventbridge_stepfunctions_execution_failed.json": [
        (
            AlertSource.STEP_FUNCTIONS,
            T,
            ERROR,
            False,
            "aws/states/arn:aws:states:us-east-1:123456789012:stateMachine:order-fulfilment",
        )
    ],
    "sources/sns_aws_backup_notification.json": [
        (
            AlertSource.SNS,
            T,
            ERROR,
            False,
            "aws/sns/arn:aws:sns:us-east-1:123456789012:backup-notifications/5c6d7e8f-9a0b-5c1d-8e2f-3a4b5c6d7e8f",
        )
    ],
    "sources/sns_cloudwatch_anomaly_detection_alarm.json": [
        (AlertSource.CLOUDWATCH_ALARM, T, ERROR, False, f"aws/cloudwatch/{ACCOUNT_REGION}/orders-queue-depth-anomaly")
    ],
    "sources/sns_cloudwatch_metric_math_alarm.json": [
        (AlertSource.CLOUDWATCH_ALARM, T, CRITICAL, False, f"aws/cloudwatch/{ACCOUNT_REGION}/checkout-api-error-rate")
    ],
    "sources/sns_guardduty_malware_scan_via_eventbridge.json": [
        (AlertSource.EVENTBRIDGE, T, ERROR, False, "aws/events/aws.guardduty/{id}")
    ],
}


def alerts_of(name: str) -> list[NormalizedAlert]:
    return [alert for record in records_of(load_event(name)) for alert in normalize(record)]


def event_id_of(name: str) -> str:
    event = load_event(name)
    if "Records" in event:
        event = json.loads(event["Records"][0]["Sns"]["Message"])
    return str(event["id"])


def test_every_source_sample_has_an_expectation() -> None:
    assert source_sample_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_source_sample_maps_to_its_alerts(name: str) -> None:
    alerts = alerts_of(name)
    stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/checkout-api/5b9c3e20-9d1c-11f0-8f3a-0affd3c1b2a7"
    expected = [
        (source, action, severity, change, key.format(id=event_id_of(name), stack=stack) if "{" in key else key)
        for source, action, severity, change, key in EXPECTED[name]
    ]
    assert [
        (alert.source, alert.action, alert.payload.severity, alert.change, alert.dedup_key) for alert in alerts
    ] == expected
    for alert in alerts:
        assert alert.payload.summary
        assert alert.occurred_at.tzinfo is not None
        if alert.source not in (AlertSource.SNS, AlertSource.EVENTBRIDGE):
            assert alert.links, "every modelled AWS alert links to its console page"


@pytest.fixture
def check_bodies() -> tuple[Callable[[AlertEvent], None], Callable[[ChangeEvent], None]]:
    return enqueue_validator(), change_validator()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_event_from_the_source_samples_is_valid_for_the_events_api(
    name: str, check_bodies: tuple[Callable[[AlertEvent], None], Callable[[ChangeEvent], None]]
) -> None:
    check_alert, check_change = check_bodies
    for alert in alerts_of(name):
        if alert.change:
            check_change(to_change_event(alert, routing_key=ROUTING_KEY))
        else:
            check_alert(to_alert_event(alert, routing_key=ROUTING_KEY))


def test_unknown_fields_are_accepted_everywhere() -> None:
    for name in sorted(EXPECTED):
        event = load_event(name)
        if "detail" in event:
            event["detail"]["fieldAddedByAwsLater"] = {"nested": [1, 2]}
        event["fieldAddedByAwsLater"] = "x"
        before = [(alert.action, alert.dedup_key) for alert in alerts_of(name)]
        after = [(alert.action, alert.dedup_key) for record in records_of(event) for alert in normalize(record)]
        assert after == before, name


# --- pairing ----------------------------------------------------------------------------------------------------


def with_detail(name: str, **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(name))
    event["detail"].update(changes)
    return event


@pytest.mark.parametrize(
    ("name", "failed", "succeeded", "quiet"),
    [
        (
            "sources/eventbridge_stepfunctions_execution_failed.json",
            {"status": "TIMED_OUT"},
            {"status": "SUCCEEDED"},
            {"status": "RUNNING"},
        ),
        (
            "sources/eventbridge_glue_job_failed.json",
            {"state": "TIMEOUT"},
            {"state": "SUCCEEDED"},
            {"state": "STOPPED"},
        ),
        (
            "sources/eventbridge_backup_job_failed.json",
            {"state": "ABORTED"},
            {"state": "COMPLETED"},
            {"state": "RUNNING"},
        ),
        (
            "sources/eventbridge_codebuild_build_failed.json",
            {"build-status": "TIMED_OUT"},
            {"build-status": "SUCCEEDED"},
            {"build-status": "IN_PROGRESS"},
        ),
        (
            "sources/eventbridge_codepipeline_execution_succeeded.json",
            {"state": "FAILED"},
            {"state": "SUCCEEDED"},
            {"state": "STARTED"},
        ),
        (
            "sources/eventbridge_codedeploy_deployment_succeeded.json",
            {"state": "FAILURE"},
            {"state": "SUCCESS"},
            {"state": "START"},
        ),
        (
            "sources/eventbridge_ecs_deployment_completed.json",
            {"eventName": "SERVICE_DEPLOYMENT_FAILED"},
            {"eventName": "SERVICE_DEPLOYMENT_COMPLETED"},
            {"eventName": "SERVICE_DEPLOYMENT_IN_PROGRESS"},
        ),
        (
            "sources/eventbridge_config_compliance_change.json",
            {},
            {"newEvaluationResult": {"complianceType": "COMPLIANT"}},
            {"newEvaluationResult": {"complianceType": "INSUFFICIENT_DATA"}},
        ),
    ],
)
def test_a_success_resolves_what_a_failure_opened_and_other_states_send_nothing(
    name: str, failed: dict[str, Any], succeeded: dict[str, Any], quiet: dict[str, Any]
) -> None:
    [opened] = normalize(with_detail(name, **failed))
    closing = [alert for alert in normalize(with_detail(name, **succeeded)) if not alert.change]
    assert (opened.action, [alert.action for alert in closing]) == (EventAction.TRIGGER, [EventAction.RESOLVE])
    assert closing[0].dedup_key == opened.dedup_key
    assert normalize(with_detail(name, **quiet)) == []


def test_a_failed_stack_rollback_is_critical_and_an_update_complete_is_a_change() -> None:
    name = "sources/eventbridge_cloudformation_stack_update_complete.json"
    [stuck] = normalize(with_detail(name, **{"status-details": {"status": "UPDATE_ROLLBACK_FAILED"}}))
    assert (stuck.action, stuck.payload.severity) == (EventAction.TRIGGER, Severity.CRITICAL)
    assert [alert.change for alert in alerts_of(name)] == [False, True]
    assert normalize(with_detail(name, **{"status-details": {"status": "UPDATE_IN_PROGRESS"}})) == []


def test_an_ecs_task_stopping_normally_sends_nothing() -> None:
    name = "sources/eventbridge_ecs_task_stopped.json"
    event = load_event(name)
    event["detail"]["containers"][0]["exitCode"] = 0
    event["detail"]["stopCode"] = "ServiceSchedulerInitiated"
    assert normalize(event) == []
    assert normalize(with_detail(name, lastStatus="RUNNING")) == []


@pytest.mark.parametrize(
    ("event_id", "message", "action"),
    [
        ("RDS-EVENT-0004", "DB instance shutdown", EventAction.TRIGGER),
        ("RDS-EVENT-0006", "DB instance restarted", EventAction.RESOLVE),
        ("RDS-EVENT-0015", "Multi-AZ failover completed.", EventAction.RESOLVE),
    ],
)
def test_rds_availability_and_failover_events_pair(event_id: str, message: str, action: EventAction) -> None:
    category = "failover" if "failover" in message else "availability"
    event = with_detail(
        "sources/eventbridge_rds_instance_event.json", EventID=event_id, Message=message, EventCategories=[category]
    )
    [alert] = normalize(event)
    assert (alert.action, alert.dedup_key.rsplit("/", 1)[-1]) == (action, category)


def test_an_rds_configuration_change_is_a_change_event() -> None:
    event = with_detail(
        "sources/eventbridge_rds_instance_event.json",
        EventID="RDS-EVENT-0016",
        Message="Reset master credentials",
        EventCategories=["configuration change"],
    )
    [alert] = normalize(event)
    assert alert.change


def test_an_auto_scaling_launch_success_resolves_the_groups_launch_failure() -> None:
    failure = load_event("sources/eventbridge_autoscaling_launch_unsuccessful.json")
    success = {**copy.deepcopy(failure), "detail-type": "EC2 Instance Launch Successful"}
    success["detail"]["StatusCode"] = "InProgress"
    [opened], [closed] = normalize(failure), normalize(success)
    assert (opened.dedup_key, closed.action) == (closed.dedup_key, EventAction.RESOLVE)


@pytest.mark.parametrize(
    ("identity", "outcome", "mfa", "severity"),
    [
        ("IAMUser", "Failure", "No", Severity.WARNING),
        ("IAMUser", "Success", "No", Severity.WARNING),
        ("IAMUser", "Success", "Yes", None),
        ("Root", "Failure", "Yes", Severity.CRITICAL),
    ],
)
def test_console_sign_ins_page_for_root_failures_and_missing_mfa(
    identity: str, outcome: str, mfa: str, severity: Severity | None
) -> None:
    event = load_event("sources/eventbridge_console_signin_root.json")
    event["detail"]["userIdentity"] = {
        "type": identity,
        "userName": "alice",
        "arn": "arn:aws:iam::123456789012:user/alice",
    }
    event["detail"]["responseElements"] = {"ConsoleLogin": outcome}
    event["detail"]["additionalEventData"]["MFAUsed"] = mfa
    assert [alert.payload.severity for alert in normalize(event)] == ([] if severity is None else [severity])


def test_an_api_call_by_a_service_for_the_root_user_is_not_root_activity() -> None:
    event = load_event("sources/eventbridge_cloudtrail_root_activity.json")
    event["detail"]["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"
    assert only_source(event) is AlertSource.EVENTBRIDGE


def test_an_inspector_finding_resolves_when_closed_or_suppressed() -> None:
    name = "sources/eventbridge_inspector2_finding.json"
    for status in ("CLOSED", "SUPPRESSED"):
        [alert] = normalize(with_detail(name, status=status))
        assert alert.action is EventAction.RESOLVE
    [medium] = normalize(with_detail(name, severity="MEDIUM"))
    assert (medium.payload.severity, medium.resource_tags) == (Severity.WARNING, {"team": "checkout"})


def test_a_known_source_with_a_malformed_field_is_rejected_with_the_reason() -> None:
    event = with_detail("sources/eventbridge_stepfunctions_execution_failed.json", status=7)
    with pytest.raises(ValidationError, match=r"invalid Step Functions execution event: detail\.status"):
        normalize(event)


def only_source(message: Any) -> AlertSource:
    [alert] = normalize(message)
    return alert.source


# --- the generic path ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "severity", "succeeded"),
    [
        (["Glue Job State Change", "FAILED"], Severity.ERROR, False),
        (["JOB_TIMED_OUT"], Severity.ERROR, False),
        (["Database is CRITICAL"], Severity.CRITICAL, False),
        (["Backup COMPLETED with errors"], Severity.ERROR, False),
        (["Replication degraded"], Severity.WARNING, False),
        (["Deployment SUCCEEDED"], Severity.INFO, True),
        (["all ok"], Severity.INFO, True),
        (["UNSUCCESSFUL"], Severity.WARNING, False),
        (["Instance launched", None], Severity.WARNING, False),
    ],
)
def test_severity_comes_from_the_words_that_report_a_state(
    texts: list[str | None], severity: Severity, succeeded: bool
) -> None:
    verdict = verdict_of(texts)
    assert (verdict.severity, verdict.succeeded) == (severity, succeeded)


def test_any_eventbridge_event_takes_the_generic_path() -> None:
    event = {
        **load_event("sources/eventbridge_ec2_instance_state_change.json"),
        "detail": {"anything": [1, {"x": None}]},
    }
    [alert] = normalize(event)
    assert (alert.source, alert.name) == (AlertSource.EVENTBRIDGE, "aws.ec2/EC2 Instance State-change Notification")
    assert (alert.payload.custom_details or {})["detail"] == {"anything": [1, {"x": None}]}


def test_a_generic_event_is_keyed_by_its_id_and_summarised_from_its_best_fields() -> None:
    event = {
        **load_event("sources/eventbridge_ec2_instance_state_change.json"),
        "source": "com.example.billing",
        "detail-type": "Invoice Run",
        "detail": {"runStatus": "FAILED", "jobName": "invoices-eu", "message": "3 invoices could not be rendered"},
    }
    [alert] = normalize(event)
    assert alert.dedup_key == f"aws/events/com.example.billing/{event['id']}"
    assert alert.payload.summary == "Invoice Run FAILED invoices-eu — 3 invoices could not be rendered"
    assert alert.payload.severity is Severity.ERROR


def test_an_eventbridge_event_through_sns_through_sqs_takes_the_generic_path() -> None:
    notification = sns_notification("sources/sns_guardduty_malware_scan_via_eventbridge.json")
    record = {
        "eventSource": "aws:sqs",
        "messageId": "q-1",
        "attributes": {"SentTimestamp": "1795844720000"},
        "body": json.dumps(notification),
    }
    assert only_source(record) is AlertSource.EVENTBRIDGE


def test_a_message_with_a_detail_type_but_no_event_envelope_is_a_generic_message() -> None:
    transformed = {"detail-type": "Glue Job State Change", "state": "FAILED", "job": "etl"}  # an input transformer's
    alert = single(sns_with_message(transformed))
    assert (alert.source, alert.payload.severity) == (AlertSource.SNS, Severity.ERROR)
    record = {"eventSource": "aws:sqs", "messageId": "q-7", "attributes": {"SentTimestamp": "1"}}
    assert single({**record, "body": json.dumps(transformed)}).dedup_key.endswith("/q-7")


@pytest.mark.parametrize("body", ["Disk full on db-1 (FAILED)", '{"service": "billing", "status": "ERROR"}'])
def test_a_queue_message_of_no_known_shape_is_keyed_by_its_message_id(body: str) -> None:
    record = {
        "eventSource": "aws:sqs",
        "messageId": "q-42",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:alerts",
        "attributes": {"SentTimestamp": "1795844720000"},
        "body": body,
    }
    [alert] = normalize(record)
    assert alert.dedup_key == "aws/sqs/arn:aws:sqs:us-east-1:123456789012:alerts/q-42"
    assert (alert.payload.severity, alert.name) == (Severity.ERROR, "alerts")


def test_group_by_folds_related_messages_and_a_success_resolves_the_group() -> None:
    glue = load_event("sources/eventbridge_ec2_instance_state_change.json")
    failed = {**glue, "id": "e-1", "detail": {"jobName": "etl", "state": "FAILED"}}
    succeeded = {**glue, "id": "e-2", "detail": {"jobName": "etl", "state": "SUCCEEDED"}}
    other = {**glue, "id": "e-3", "detail": {"jobName": "other", "state": "FAILED"}}
    opened, closed, unrelated = (
        grouped(alert, ["detail.jobName"]) for alert in map(single, (failed, succeeded, other))
    )
    assert opened.dedup_key == closed.dedup_key != unrelated.dedup_key
    assert (opened.action, closed.action) == (EventAction.TRIGGER, EventAction.RESOLVE)
    assert opened.dedup_key == "group/eventbridge/aws.ec2/EC2 Instance State-change Notification/detail.jobName=etl"


def single(message: Any) -> NormalizedAlert:
    [alert] = normalize(message)
    return alert


# --- tolerant models ----------------------------------------------------------------------------------------------


def test_an_alarm_notification_without_its_arn_gets_it_rebuilt_from_the_topic() -> None:
    message = alarm_message()
    del message["AlarmArn"]
    alert = single(sns_with_message(message))
    assert alert.dedup_key == "aws/cloudwatch/123456789012/us-east-1/checkout-api-high-cpu"
    assert alert.resources == ("arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-api-high-cpu",)


def test_a_bare_alarm_notification_without_its_arn_takes_the_region_from_its_display_name() -> None:
    message = {**alarm_message(), "Region": "EU (Ireland)"}
    del message["AlarmArn"]
    assert single(message).dedup_key == "aws/cloudwatch/123456789012/eu-west-1/checkout-api-high-cpu"
    message["Region"] = "Somewhere"
    with pytest.raises(ValidationError, match="no AlarmArn"):
        normalize(message)


@pytest.mark.parametrize(
    ("times", "action", "status"),
    [
        ({"startTime": "Fri, 27 Nov 2026 03:52:00 GMT"}, EventAction.TRIGGER, "open"),
        ({"startTime": "Sat, 28 Dec 2030 03:52:00 GMT"}, EventAction.TRIGGER, "upcoming"),
        ({"endTime": "Fri, 27 Nov 2026 03:55:00 GMT"}, EventAction.RESOLVE, "closed"),
    ],
)
def test_a_health_event_without_status_code_has_it_derived(
    times: dict[str, str], action: EventAction, status: str
) -> None:
    event = load_event("eventbridge_health_event.json")
    del event["detail"]["statusCode"]
    event["detail"].pop("endTime", None)
    event["detail"].update(times)
    alert = single(event)
    assert (alert.action, (alert.payload.custom_details or {})["status_code"]) == (action, status)


def test_an_sns_notification_with_a_malformed_url_still_maps() -> None:
    notification = {**sns_notification(), "SigningCertUrl": "not a url", "UnsubscribeUrl": "::"}
    assert single(notification).source is AlertSource.CLOUDWATCH_ALARM


# --- INSUFFICIENT_DATA --------------------------------------------------------------------------------------------


class CountingMetrics:
    def __init__(self) -> None:
        self.counts: list[tuple[str, float, dict[str, str]]] = []

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        self.counts.append((name, value, dimensions))


@pytest.mark.parametrize("choice", ["ignore", "trigger", "resolve"])
def test_insufficient_data_is_counted_and_logged_when_ignored(
    choice: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = CountingMetrics()
    monkeypatch.setattr(alarm_mapping, "metrics_collector", metrics)
    alerts = normalize(
        alarm_message(NewStateValue="INSUFFICIENT_DATA"), options=TransformOptions(insufficient_data_action=choice)
    )
    assert metrics.counts == [("InsufficientData", 1, {"action": choice})]
    ignored_lines = [record for record in caplog.records if re.search("INSUFFICIENT_DATA ignored", record.getMessage())]
    assert (len(alerts), len(ignored_lines)) == ((0, 1) if choice == "ignore" else (1, 0))


@pytest.mark.parametrize(
    ("name", "alarm_class"),
    [
        ("sources/eventbridge_cloudwatch_composite_alarm.json", "composite alarm"),
        ("sources/sns_cloudwatch_metric_math_alarm.json", "metric math alarm"),
        ("sources/sns_cloudwatch_anomaly_detection_alarm.json", "anomaly detection alarm"),
        ("sns_cloudwatch_alarm.json", "CPUUtilization"),
    ],
)
def test_each_kind_of_alarm_names_its_class(name: str, alarm_class: str) -> None:
    [alert] = alerts_of(name)
    assert alert.payload.class_ == alarm_class


def test_a_failed_build_is_summarised_by_its_failed_phase() -> None:
    [alert] = alerts_of("sources/eventbridge_codebuild_build_failed.json")
    assert alert.payload.summary == (
        "CodeBuild FAILED: checkout-api-tests — COMMAND_EXECUTION_ERROR: Error while executing command: make test. "
        "Reason: exit status 2"
    )
