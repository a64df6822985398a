from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from pagerduty_utils.data_transformer.sources.alarms import CloudWatchAlarmMessage, CloudWatchAlarmStateChangeEvent
from pagerduty_utils.data_transformer.sources.base import Arn, AwsTimestamp, parse_source
from pagerduty_utils.data_transformer.sources.custom import CustomAlertEvent
from pagerduty_utils.data_transformer.sources.findings import (
    GuardDutyFindingEvent,
    SecurityHubFindingsEvent,
    SecurityHubSeverity,
)
from pagerduty_utils.data_transformer.sources.health import HealthEvent, HealthEventDetail
from pagerduty_utils.exceptions import ValidationError
from tests.unit.fixtures.alert_events import alarm_message, eventbridge_event, load_event


class Stamped(BaseModel):
    at: AwsTimestamp


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-27T04:26:13.012+0000",
        "2026-11-27T04:26:13.012Z",
        "2026-11-27T05:26:13.012+01:00",
        "2026-11-27T04:26:13.012",
        "Fri, 27 Nov 2026 04:26:13.012 GMT".replace(".012", ""),
    ],
)
def test_aws_timestamps_become_aware_utc(value: str) -> None:
    moment = Stamped.model_validate({"at": value}).at
    assert moment.tzinfo is UTC
    assert moment.replace(microsecond=0) == datetime(2026, 11, 27, 4, 26, 13, tzinfo=UTC)


def test_an_out_of_range_timestamp_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="at: timestamp out of range"):
        parse_source(Stamped, {"at": "9999-12-31T23:59:59-23:59"}, what="stamp")


@pytest.mark.parametrize(
    ("model", "event"),
    [
        (CloudWatchAlarmStateChangeEvent, load_event("eventbridge_alarm_state_change.json")),
        (GuardDutyFindingEvent, load_event("eventbridge_guardduty_finding.json")),
        (SecurityHubFindingsEvent, load_event("eventbridge_securityhub_finding.json")),
        (HealthEvent, load_event("eventbridge_health_event.json")),
        (CustomAlertEvent, load_event("eventbridge_custom_app_event.json")),
        (CloudWatchAlarmMessage, alarm_message()),
    ],
)
def test_each_model_accepts_its_sample(model: type[BaseModel], event: dict[str, Any]) -> None:
    parse_source(model, event, what=model.__name__)


def test_arns_are_parsed_into_their_parts() -> None:
    arn = Arn.parse("arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:a:b")
    assert arn is not None
    assert (arn.partition, arn.service, arn.region, arn.account, arn.resource) == (
        "aws-cn",
        "cloudwatch",
        "cn-north-1",
        "123456789012",
        "alarm:a:b",
    )
    assert arn.text == "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:a:b"
    assert Arn.parse("not an arn") is None
    assert Arn.parse(None) is None


def test_errors_name_the_path_and_leave_out_the_values() -> None:
    event = eventbridge_event("eventbridge_guardduty_finding.json", severity="secret-value", updatedAt=None)
    with pytest.raises(ValidationError) as caught:
        parse_source(GuardDutyFindingEvent, event, what="GuardDuty Finding event")
    message = str(caught.value)
    assert message.startswith("invalid GuardDuty Finding event: detail.severity: Input should be a valid number")
    assert "detail.updatedAt" in message
    assert "secret-value" not in message


def test_guardduty_resource_tags_and_id_come_from_any_resource_kind() -> None:
    finding = parse_source(GuardDutyFindingEvent, load_event("eventbridge_guardduty_finding.json"), what="x").detail
    assert (finding.resource_id, finding.resource_type) == ("i-0a1b2c3d4e5f67890", "Instance")
    bucket = {
        "resourceType": "S3Bucket",
        "s3BucketDetails": [{"name": "exports", "tags": [{"key": "team", "value": "data"}]}],
    }
    event = eventbridge_event("eventbridge_guardduty_finding.json", resource=bucket)
    finding = parse_source(GuardDutyFindingEvent, event, what="x").detail
    assert (finding.resource_id, finding.resource_tags) == ("exports", {"team": "data"})


@pytest.mark.parametrize(
    ("severity", "label"),
    [
        ({"Label": "LOW", "Normalized": 95}, "LOW"),
        ({"Normalized": 90}, "CRITICAL"),
        ({"Normalized": 70}, "HIGH"),
        ({"Normalized": 40}, "MEDIUM"),
        ({"Normalized": 1}, "LOW"),
        ({"Normalized": 0}, "INFORMATIONAL"),
        ({}, "INFORMATIONAL"),
    ],
)
def test_security_hub_label_prefers_label_then_the_normalized_score(severity: dict[str, Any], label: str) -> None:
    assert SecurityHubSeverity.model_validate(severity).effective_label == label


def test_health_description_prefers_english() -> None:
    detail = load_event("eventbridge_health_event.json")["detail"]
    detail["eventDescription"] = [
        {"language": "fr_FR", "latestDescription": "Nous enquêtons"},
        {"language": "en_US", "latestDescription": "We are investigating"},
    ]
    assert HealthEventDetail.model_validate(detail).description == "We are investigating"
    detail["eventDescription"] = []
    assert HealthEventDetail.model_validate(detail).description == ""
