"""CloudWatch alarms: the SNS notification, the EventBridge state change and the direct alarm action."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BeforeValidator, Field, FiniteFloat

from pagerduty_utils.data_transformer.sources.base import DEFERRED, AwsTimestamp, SourceModel

AlarmState = Literal["ALARM", "OK", "INSUFFICIENT_DATA"]


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
    alarm_arn: str | None = Field(
        default=None, alias="AlarmArn", pattern=r"^arn:[\w-]+:cloudwatch:[\w-]+:\d{12}:alarm:.+$"
    )
    region: str | None = Field(default=None, alias="Region")  # the region's display name: "US East (N. Virginia)"
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
    # A factory, not an instance: a default built here would build the model's validator at import.
    configuration: AlarmConfiguration = Field(default_factory=AlarmConfiguration)


class CloudWatchAlarmStateChangeEvent(EventBridgeModel):
    model_config = DEFERRED

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
