"""Pydantic models of the AWS alert sources the forwarder understands, and of the custom application event.

Envelopes come from Powertools (``EventBridgeModel``, ``SnsNotificationModel``); the ``detail`` of each event and
the CloudWatch alarm notification are modelled here because Powertools has no parser model for them. Models
accept unknown fields (AWS adds fields over time) except the custom application event, whose documented fields
are a contract: a misspelt ``dedup_key`` must fail loudly rather than open an alert that never resolves.

Every timestamp becomes an aware UTC datetime: AWS mixes ISO 8601 (``...Z``, ``...+0000``) and, in AWS Health,
RFC 1123 (``Fri, 27 Nov 2026 03:52:00 GMT``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal, TypeVar

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, FiniteFloat, field_validator
from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.pagerduty_events import Severity

ModelT = TypeVar("ModelT", bound=BaseModel)

_RFC1123 = re.compile(r"^[A-Za-z]{3}, ")
_ARN = re.compile(
    r"^arn:(?P<partition>[\w-]+):(?P<service>[\w-]+):(?P<region>[\w-]*):(?P<account>\d*):(?P<resource>.+)$"
)


def _parse_rfc1123(value: Any) -> Any:
    if isinstance(value, str) and _RFC1123.match(value):
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return value
    return value


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken as UTC (AWS times are)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp out of range") from None


AwsTimestamp = Annotated[datetime, BeforeValidator(_parse_rfc1123), AfterValidator(as_utc)]
AlarmState = Literal["ALARM", "OK", "INSUFFICIENT_DATA"]


# defer_build: a model's validator is built when it first validates, so a cold start pays only for the sources
# that actually arrive (building every model up front costs tens of milliseconds).
_DEFERRED = ConfigDict(defer_build=True)


class SourceModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)


class Arn(BaseModel):
    """The parts of an ARN that the mapping needs (account and region of alarms, topics and findings)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @property
    def text(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @classmethod
    def parse(cls, value: str | None) -> Arn | None:
        match = _ARN.match(value or "")
        return cls(**match.groupdict()) if match else None


def parse_source(model: type[ModelT], data: Any, *, what: str) -> ModelT:
    """Validate ``data`` into ``model``; a failure becomes a ``ValidationError`` naming the bad fields (no values)."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationError(f"invalid {what}: {describe_errors(exc)}") from None


def describe_errors(exc: PydanticValidationError, *, limit: int = 3) -> str:
    """``path: message`` for the first ``limit`` errors; input values are left out (they may be large or private)."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False)[:limit]:
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
        path = path.replace(".[key]", "[key]").lstrip(".")
        problems.append(f"{path or '(root)'}: {error['msg'].removeprefix('Value error, ')}")
    remaining = exc.error_count() - limit
    return "; ".join(problems) + (f" (and {remaining} more)" if remaining > 0 else "")


# --- CloudWatch alarm notification published to SNS -------------------------------------------------------------


class SnsAlarmDimension(SourceModel):
    name: str
    value: str


class SnsAlarmTrigger(SourceModel):
    """``Trigger`` of an SNS alarm notification: the metric (or metric math queries) and the threshold."""

    metric_name: str | None = Field(default=None, alias="MetricName")
    namespace: str | None = Field(default=None, alias="Namespace")
    statistic: str | None = Field(default=None, alias="Statistic")
    extended_statistic: str | None = Field(default=None, alias="ExtendedStatistic")
    unit: str | None = Field(default=None, alias="Unit")
    dimensions: Annotated[list[SnsAlarmDimension], BeforeValidator(lambda v: v or [])] = Field(
        default_factory=list, alias="Dimensions"
    )
    period: int | None = Field(default=None, alias="Period")
    evaluation_periods: int | None = Field(default=None, alias="EvaluationPeriods")
    datapoints_to_alarm: int | None = Field(default=None, alias="DatapointsToAlarm")
    comparison_operator: str | None = Field(default=None, alias="ComparisonOperator")
    threshold: FiniteFloat | None = Field(default=None, alias="Threshold")
    threshold_metric_id: str | None = Field(default=None, alias="ThresholdMetricId")
    treat_missing_data: str | None = Field(default=None, alias="TreatMissingData")
    metrics: Annotated[list[dict[str, Any]], BeforeValidator(lambda v: v or [])] = Field(
        default_factory=list, alias="Metrics"
    )


class CloudWatchAlarmMessage(SourceModel):
    """The JSON ``Message`` CloudWatch publishes to SNS on a state change (metric and composite alarms)."""

    alarm_name: str = Field(alias="AlarmName", min_length=1)
    alarm_description: str | None = Field(default=None, alias="AlarmDescription")
    account_id: str | None = Field(default=None, alias="AWSAccountId")
    new_state_value: AlarmState = Field(alias="NewStateValue")
    new_state_reason: str = Field(default="", alias="NewStateReason")
    state_change_time: AwsTimestamp = Field(alias="StateChangeTime")
    alarm_arn: str = Field(alias="AlarmArn", pattern=r"^arn:[\w-]+:cloudwatch:[\w-]+:\d{12}:alarm:.+$")
    old_state_value: AlarmState | None = Field(default=None, alias="OldStateValue")
    trigger: SnsAlarmTrigger | None = Field(default=None, alias="Trigger")
    alarm_rule: str | None = Field(default=None, alias="AlarmRule")
    triggering_children: Annotated[list[dict[str, Any]], BeforeValidator(lambda v: v or [])] = Field(
        default_factory=list, alias="TriggeringChildren"
    )


# --- CloudWatch "Alarm State Change" (EventBridge) and alarm actions invoking Lambda directly --------------------


class AlarmStateSnapshot(SourceModel):
    value: AlarmState
    reason: str = ""
    reason_data: str | None = Field(default=None, alias="reasonData")
    timestamp: AwsTimestamp
    actions_suppressed_by: str | None = Field(default=None, alias="actionsSuppressedBy")


class AlarmMetric(SourceModel):
    namespace: str | None = None
    name: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)


class AlarmMetricStat(SourceModel):
    metric: AlarmMetric
    period: int | None = None
    stat: str | None = None
    unit: str | None = None


class AlarmMetricQuery(SourceModel):
    id: str
    metric_stat: AlarmMetricStat | None = Field(default=None, alias="metricStat")
    expression: str | None = None
    label: str | None = None
    return_data: bool | None = Field(default=None, alias="returnData")


class AlarmConfiguration(SourceModel):
    description: str | None = None
    metrics: list[AlarmMetricQuery] = Field(default_factory=list)
    alarm_rule: str | None = Field(default=None, alias="alarmRule")
    actions_suppressor: str | None = Field(default=None, alias="actionsSuppressor")


class AlarmStateChange(SourceModel):
    """``detail`` of "CloudWatch Alarm State Change", and ``alarmData`` of an alarm's Lambda action."""

    alarm_name: str = Field(alias="alarmName", min_length=1)
    state: AlarmStateSnapshot
    previous_state: AlarmStateSnapshot | None = Field(default=None, alias="previousState")
    configuration: AlarmConfiguration = AlarmConfiguration()


class CloudWatchAlarmStateChangeEvent(EventBridgeModel):
    model_config = _DEFERRED

    detail_type: Literal["CloudWatch Alarm State Change"] = Field(alias="detail-type")
    detail: AlarmStateChange  # narrows Powertools' detail, as its docs show


class CloudWatchAlarmActionEvent(SourceModel):
    """The event a CloudWatch alarm sends when its action invokes a Lambda function directly."""

    source: Literal["aws.cloudwatch"]
    alarm_arn: str = Field(alias="alarmArn", pattern=r"^arn:[\w-]+:cloudwatch:[\w-]+:\d{12}:alarm:.+$")
    account_id: str = Field(alias="accountId")
    region: str
    time: AwsTimestamp
    alarm_data: AlarmStateChange = Field(alias="alarmData")


# --- GuardDuty ---------------------------------------------------------------------------------------------------


class GuardDutyService(SourceModel):
    archived: bool = False
    count: int | None = None
    event_first_seen: AwsTimestamp | None = Field(default=None, alias="eventFirstSeen")
    event_last_seen: AwsTimestamp | None = Field(default=None, alias="eventLastSeen")
    action: dict[str, Any] | None = None
    resource_role: str | None = Field(default=None, alias="resourceRole")
    detector_id: str | None = Field(default=None, alias="detectorId")


class GuardDutyFinding(SourceModel):
    id: str = Field(min_length=1, max_length=300)
    arn: str | None = None
    type: str = Field(min_length=1)
    account_id: str = Field(alias="accountId")
    region: str
    severity: FiniteFloat = Field(ge=0, le=10)
    title: str = ""
    description: str = ""
    created_at: AwsTimestamp | None = Field(default=None, alias="createdAt")
    updated_at: AwsTimestamp = Field(alias="updatedAt")
    resource: dict[str, Any] = Field(default_factory=dict)
    service: GuardDutyService = GuardDutyService()

    @property
    def resource_type(self) -> str | None:
        value = self.resource.get("resourceType")
        return value if isinstance(value, str) else None

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags of the affected resource: GuardDuty lists them as ``[{key, value}]`` under ``<kind>Details``."""
        tags: dict[str, str] = {}
        for details in self.resource.values():
            for entry in details if isinstance(details, list) else [details]:
                if isinstance(entry, dict) and isinstance(entry.get("tags"), list):
                    tags.update(_key_value_tags(entry["tags"]))
        return tags

    @property
    def resource_id(self) -> str | None:
        """The most specific identifier GuardDuty gives for the affected resource (instance, bucket, key, ...)."""
        for details, key in _GUARDDUTY_RESOURCE_IDS:
            entry = self.resource.get(details)
            entry = entry[0] if isinstance(entry, list) and entry else entry
            if isinstance(entry, dict) and isinstance(entry.get(key), str):
                return str(entry[key])
        return None


_GUARDDUTY_RESOURCE_IDS = (
    ("instanceDetails", "instanceId"),
    ("s3BucketDetails", "name"),
    ("accessKeyDetails", "userName"),
    ("eksClusterDetails", "name"),
    ("rdsDbInstanceDetails", "dbInstanceIdentifier"),
    ("lambdaDetails", "functionName"),
    ("ecsClusterDetails", "name"),
)


def _key_value_tags(entries: list[Any]) -> dict[str, str]:
    return {
        str(entry["key"]): str(entry.get("value") or "")
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("key"), str)
    }


class GuardDutyFindingEvent(EventBridgeModel):
    model_config = _DEFERRED

    detail_type: Literal["GuardDuty Finding"] = Field(alias="detail-type")
    detail: GuardDutyFinding


# --- Security Hub (AWS Security Finding Format) ------------------------------------------------------------------

SecurityHubLabel = Literal["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


class SecurityHubSeverity(SourceModel):
    label: SecurityHubLabel | None = Field(default=None, alias="Label")
    normalized: int | None = Field(default=None, alias="Normalized", ge=0, le=100)

    @property
    def effective_label(self) -> SecurityHubLabel:
        """``Label``, or the label ASFF assigns to the deprecated ``Normalized`` score when only that is present."""
        if self.label is not None:
            return self.label
        score = self.normalized or 0
        for floor, label in _NORMALIZED_FLOORS:
            if score >= floor:
                return label
        return "INFORMATIONAL"


_NORMALIZED_FLOORS: tuple[tuple[int, SecurityHubLabel], ...] = (
    (90, "CRITICAL"),
    (70, "HIGH"),
    (40, "MEDIUM"),
    (1, "LOW"),
)


class SecurityHubResource(SourceModel):
    type: str = Field(alias="Type")
    id: str = Field(alias="Id")
    region: str | None = Field(default=None, alias="Region")
    tags: dict[str, str] = Field(default_factory=dict, alias="Tags")


class SecurityHubWorkflow(SourceModel):
    status: str | None = Field(default=None, alias="Status")


class SecurityHubRecommendation(SourceModel):
    text: str | None = Field(default=None, alias="Text")
    url: str | None = Field(default=None, alias="Url")


class SecurityHubRemediation(SourceModel):
    recommendation: SecurityHubRecommendation | None = Field(default=None, alias="Recommendation")


class SecurityHubCompliance(SourceModel):
    status: str | None = Field(default=None, alias="Status")


class SecurityHubFinding(SourceModel):
    id: str = Field(alias="Id", min_length=1)
    product_arn: str = Field(alias="ProductArn")
    product_name: str | None = Field(default=None, alias="ProductName")
    generator_id: str = Field(alias="GeneratorId")
    aws_account_id: str = Field(alias="AwsAccountId")
    region: str | None = Field(default=None, alias="Region")
    types: list[str] = Field(default_factory=list, alias="Types")
    title: str = Field(default="", alias="Title")
    description: str = Field(default="", alias="Description")
    created_at: AwsTimestamp | None = Field(default=None, alias="CreatedAt")
    updated_at: AwsTimestamp = Field(alias="UpdatedAt")
    first_observed_at: AwsTimestamp | None = Field(default=None, alias="FirstObservedAt")
    last_observed_at: AwsTimestamp | None = Field(default=None, alias="LastObservedAt")
    severity: SecurityHubSeverity = Field(alias="Severity")
    resources: list[SecurityHubResource] = Field(default_factory=list, alias="Resources")
    workflow: SecurityHubWorkflow | None = Field(default=None, alias="Workflow")
    workflow_state: str | None = Field(default=None, alias="WorkflowState")
    record_state: str | None = Field(default=None, alias="RecordState")
    compliance: SecurityHubCompliance | None = Field(default=None, alias="Compliance")
    remediation: SecurityHubRemediation | None = Field(default=None, alias="Remediation")
    source_url: str | None = Field(default=None, alias="SourceUrl")

    @property
    def workflow_status(self) -> str | None:
        """``Workflow.Status``, falling back to the deprecated ``WorkflowState`` that older producers send."""
        if self.workflow is not None and self.workflow.status:
            return self.workflow.status
        return self.workflow_state


class SecurityHubFindings(SourceModel):
    findings: list[SecurityHubFinding] = Field(min_length=1)


class SecurityHubFindingsEvent(EventBridgeModel):
    model_config = _DEFERRED

    detail_type: Literal["Security Hub Findings - Imported", "Security Hub Findings - Custom Action"] = Field(
        alias="detail-type"
    )
    detail: SecurityHubFindings


# --- AWS Health --------------------------------------------------------------------------------------------------


class HealthEventDescription(SourceModel):
    language: str | None = None
    latest_description: str = Field(default="", alias="latestDescription")


class HealthAffectedEntity(SourceModel):
    entity_value: str = Field(default="", alias="entityValue")
    tags: dict[str, str] = Field(default_factory=dict)


class HealthEventDetail(SourceModel):
    event_arn: str = Field(alias="eventArn", pattern=r"^arn:[\w-]+:health:")
    service: str
    event_type_code: str = Field(alias="eventTypeCode", min_length=1)
    event_type_category: str = Field(alias="eventTypeCategory")
    event_scope_code: str | None = Field(default=None, alias="eventScopeCode")
    status_code: Literal["open", "upcoming", "closed"] = Field(alias="statusCode")
    start_time: AwsTimestamp | None = Field(default=None, alias="startTime")
    end_time: AwsTimestamp | None = Field(default=None, alias="endTime")
    last_updated_time: AwsTimestamp | None = Field(default=None, alias="lastUpdatedTime")
    event_region: str | None = Field(default=None, alias="eventRegion")
    event_description: list[HealthEventDescription] = Field(default_factory=list, alias="eventDescription")
    affected_entities: list[HealthAffectedEntity] = Field(default_factory=list, alias="affectedEntities")
    affected_account: str | None = Field(default=None, alias="affectedAccount")

    @property
    def description(self) -> str:
        """The English description when there is one, else the first."""
        english = [item for item in self.event_description if (item.language or "").startswith("en")]
        chosen = english or self.event_description
        return chosen[0].latest_description if chosen else ""


class HealthEvent(EventBridgeModel):
    model_config = _DEFERRED

    detail_type: Literal["AWS Health Event"] = Field(alias="detail-type")
    detail: HealthEventDetail


# --- Custom application event (documented in docs/routing-rules.md) ----------------------------------------------


class CustomAlertLink(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    href: str = Field(pattern=r"^https?://[^\s]+$", max_length=2048)
    text: str | None = Field(default=None, max_length=1024)


class CustomAlertDetail(BaseModel):
    """``detail`` of an "Application Alert" event that an application puts on an event bus."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    summary: str = Field(min_length=1, max_length=16 * 1024)
    severity: Severity = Severity.ERROR
    state: Literal["triggered", "resolved"] = "triggered"
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    component: str | None = Field(default=None, max_length=1024)
    group: str | None = Field(default=None, max_length=1024)
    class_: str | None = Field(default=None, alias="class", max_length=1024)
    links: list[CustomAlertLink] = Field(default_factory=list, max_length=20)
    details: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    timestamp: AwsTimestamp | None = None


class CustomAlertEvent(EventBridgeModel):
    model_config = _DEFERRED

    detail_type: Literal["Application Alert"] = Field(alias="detail-type")
    detail: CustomAlertDetail

    @field_validator("source")
    @classmethod
    def _not_an_aws_source(cls, value: str) -> str:
        if value.startswith("aws."):
            raise ValueError("custom application events must not use an 'aws.' source (EventBridge reserves it)")
        return value
