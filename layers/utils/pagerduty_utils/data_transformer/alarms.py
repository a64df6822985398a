"""CloudWatch alarms: the SNS notification and the EventBridge state change, mapped through one shape.

Both paths give the same dedup key (account, region and alarm name, from the alarm ARN), so an OK resolves what an
ALARM opened whichever way each arrived. A notification without ``AlarmArn`` (older alarms, hand-written tests)
gets it rebuilt from its account, its region (the SNS topic's, else the region's display name in ``Region``) and
its name.

INSUFFICIENT_DATA follows ``INSUFFICIENT_DATA_ACTION``; every such state change is counted in the
``InsufficientData`` metric (dimension ``action``), and an ignored one is logged with the alarm's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import botocore.loaders

from pagerduty_utils.data_transformer.assembly import build_alert, compact, json_object
from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.sources.alarms import (
    AlarmState,
    AlarmStateChange,
    CloudWatchAlarmActionEvent,
    CloudWatchAlarmMessage,
    CloudWatchAlarmStateChangeEvent,
    SnsAlarmTrigger,
)
from pagerduty_utils.data_transformer.sources.base import Arn, parse_source
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.formatters import aws_partition, cloudwatch_alarm_url, compose_summary, first_line
from pagerduty_utils.metrics_collector import metrics_collector
from pagerduty_utils.observability import logger
from pagerduty_utils.pagerduty_events import EventAction, Severity

_SEVERITY_MARKER = re.compile(r"\[\s*severity\s*[:=]\s*(critical|error|warning|info)\s*\]", re.IGNORECASE)

ALARM_SEVERITY = Severity.ERROR


@dataclass(frozen=True)
class _AlarmFacts:
    """What the SNS notification and the EventBridge state change both say about an alarm, in one shape."""

    name: str
    arn: Arn
    state: AlarmState
    changed_at: datetime
    description: str | None
    reason: str
    namespace: str | None
    metric_name: str | None
    dimensions: dict[str, str]
    is_composite: bool
    is_anomaly_detection: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def _alarm_arn(value: str) -> Arn:
    arn = Arn.parse(value)
    if arn is None:
        raise ValidationError("alarm ARN is malformed")
    return arn


@cache
def _region_codes() -> dict[str, str]:
    """Region display names ("US East (N. Virginia)") to codes, from botocore's endpoint data."""
    endpoints = botocore.loaders.Loader().load_data("endpoints")
    return {
        str(region["description"]): code
        for partition in endpoints["partitions"]
        for code, region in partition["regions"].items()
    }


def _region_code(display_name: str) -> str | None:
    """CloudWatch still writes "EU (Ireland)" where botocore now says "Europe (Ireland)"."""
    codes = _region_codes()
    return codes.get(display_name) or codes.get(display_name.replace("EU (", "Europe (", 1))


def _sns_alarm_arn(message: CloudWatchAlarmMessage, topic_arn: str | None) -> Arn:
    if message.alarm_arn:
        return _alarm_arn(message.alarm_arn)
    topic = Arn.parse(topic_arn)
    region = topic.region if topic else _region_code(message.region or "")
    account = message.account_id or (topic.account if topic else None)
    if not region or not account:
        raise ValidationError(
            "alarm notification has no AlarmArn, and its account or region cannot be told "
            "(AWSAccountId, Region or the SNS topic)"
        )
    return _alarm_arn(f"arn:{aws_partition(region)}:cloudwatch:{region}:{account}:alarm:{message.alarm_name}")


def _sns_alarm_facts(message: CloudWatchAlarmMessage, topic_arn: str | None) -> _AlarmFacts:
    trigger = message.trigger or SnsAlarmTrigger()  # composite alarms have none
    dimensions = {dimension.name: dimension.value for dimension in trigger.dimensions}
    metric = None
    if trigger.metric_name:
        metric = {
            "namespace": trigger.namespace,
            "name": trigger.metric_name,
            "statistic": trigger.statistic or trigger.extended_statistic,
            "period": trigger.period,
            "unit": trigger.unit,
        }
    history: list[dict[str, Any]] = [
        {"state": message.old_state_value},
        {"state": message.new_state_value, "since": message.state_change_time},
    ]
    return _AlarmFacts(
        name=message.alarm_name,
        arn=_sns_alarm_arn(message, topic_arn),
        state=message.new_state_value,
        changed_at=message.state_change_time,
        description=message.alarm_description,
        reason=message.new_state_reason,
        namespace=trigger.namespace,
        metric_name=trigger.metric_name,
        dimensions=dimensions,
        is_composite=message.alarm_rule is not None,
        is_anomaly_detection=trigger.threshold_metric_id is not None,
        details=compact(
            {
                "metric": compact(metric) if metric else None,
                "metrics": trigger.metrics,
                "threshold": trigger.threshold,
                "threshold_metric_id": trigger.threshold_metric_id,
                "comparison_operator": trigger.comparison_operator,
                "evaluation_periods": trigger.evaluation_periods,
                "datapoints_to_alarm": trigger.datapoints_to_alarm,
                "treat_missing_data": trigger.treat_missing_data,
                "dimensions": dimensions,
                "alarm_rule": message.alarm_rule,
                "triggering_children": message.triggering_children,
                "state_history": [compact(entry) for entry in history if entry["state"]],
            }
        ),
    )


def _state_change_facts(change: AlarmStateChange, arn: Arn) -> _AlarmFacts:
    queries = change.configuration.metrics
    single = queries[0].metric_stat if len(queries) == 1 and not queries[0].expression else None
    reason_data = json_object(change.state.reason_data) or {}
    metric = None
    if single is not None:
        metric = {
            "namespace": single.metric.namespace,
            "name": single.metric.name,
            "statistic": single.stat,
            "period": single.period,
            "unit": single.unit,
        }
    snapshots = [change.previous_state, change.state]
    history = [
        {"state": snapshot.value, "since": snapshot.timestamp, "reason": snapshot.reason}
        for snapshot in snapshots
        if snapshot is not None
    ]
    return _AlarmFacts(
        name=change.alarm_name,
        arn=arn,
        state=change.state.value,
        changed_at=change.state.timestamp,
        description=change.configuration.description,
        reason=change.state.reason,
        namespace=single.metric.namespace if single else None,
        metric_name=single.metric.name if single else None,
        dimensions=dict(single.metric.dimensions) if single else {},
        is_composite=change.configuration.alarm_rule is not None,
        is_anomaly_detection=any(
            "ANOMALY_DETECTION_BAND" in (query.expression or "") for query in change.configuration.metrics
        ),
        details=compact(
            {
                "metric": compact(metric) if metric else None,
                "metrics": None if single else [query.model_dump(exclude_none=True) for query in queries],
                "threshold": reason_data.get("threshold"),
                "recent_datapoints": reason_data.get("recentDatapoints"),
                "dimensions": dict(single.metric.dimensions) if single else None,
                "alarm_rule": change.configuration.alarm_rule,
                "triggering_alarms": reason_data.get("triggeringAlarms"),
                "actions_suppressed_by": change.state.actions_suppressed_by,
                "actions_suppressor": change.configuration.actions_suppressor,
                "state_history": history,
            }
        ),
    )


def state_change_alerts(document: Mapping[str, Any], options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(CloudWatchAlarmStateChangeEvent, document, what="CloudWatch Alarm State Change event")
    alarm_arns = [arn for arn in map(Arn.parse, event.resources) if arn is not None and arn.service == "cloudwatch"]
    if alarm_arns:
        arn = alarm_arns[0]
    else:  # rebuilt from the event's own account and region when the event lists no resources
        partition = aws_partition(event.region)
        arn = _alarm_arn(f"arn:{partition}:cloudwatch:{event.region}:{event.account}:alarm:{event.detail.alarm_name}")
    return _alarm_alerts(_state_change_facts(event.detail, arn), options)


def _alarm_action(facts: _AlarmFacts, options: TransformOptions) -> EventAction | None:
    if facts.state == "ALARM":
        return EventAction.TRIGGER
    if facts.state == "OK":
        return EventAction.RESOLVE
    choice = options.insufficient_data_action
    metrics_collector.count("InsufficientData", action=choice)
    if choice == "ignore":
        logger.info(
            "INSUFFICIENT_DATA ignored (INSUFFICIENT_DATA_ACTION=ignore)",
            extra={"alarm_name": facts.name, "alarm_arn": facts.arn.text},
        )
        return None
    return EventAction(choice)


def alarm_severity(description: str | None) -> Severity:
    """``[severity:<level>]`` in an alarm's description sets its severity; otherwise ``ALARM_SEVERITY``."""
    marker = _SEVERITY_MARKER.search(description or "")
    return Severity(marker.group(1).lower()) if marker else ALARM_SEVERITY


def alarm_message_alerts(
    document: Mapping[str, Any], options: TransformOptions, *, what: str, topic_arn: str | None = None
) -> list[NormalizedAlert]:
    """Alerts of a CloudWatch alarm notification (the JSON message CloudWatch publishes to SNS)."""
    message = parse_source(CloudWatchAlarmMessage, document, what=what)
    return _alarm_alerts(_sns_alarm_facts(message, topic_arn), options)


def alarm_action_alerts(document: Mapping[str, Any], options: TransformOptions) -> list[NormalizedAlert]:
    """Alerts of the event an alarm's Lambda action sends (the state change detail as ``alarmData``)."""
    event = parse_source(CloudWatchAlarmActionEvent, document, what="CloudWatch alarm action event")
    return _alarm_alerts(_state_change_facts(event.alarm_data, _alarm_arn(event.alarm_arn)), options)


def _alarm_alerts(facts: _AlarmFacts, options: TransformOptions) -> list[NormalizedAlert]:
    action = _alarm_action(facts, options)
    if action is None:
        return []
    arn, region = facts.arn, facts.arn.region
    console_url = cloudwatch_alarm_url(region, facts.name)
    description = _SEVERITY_MARKER.sub("", facts.description or "").strip()
    dimension_text = ", ".join(f"{name}={value}" for name, value in facts.dimensions.items())
    alarm = {
        "name": facts.name,
        "arn": arn.text,
        "description": facts.description,
        "state": facts.state,
        "reason": facts.reason,
        "account": arn.account,
        "region": region,
    }
    return [
        build_alert(
            source=AlertSource.CLOUDWATCH_ALARM,
            action=action,
            dedup_key=f"aws/cloudwatch/{arn.account}/{region}/{facts.name}",
            occurred_at=facts.changed_at,
            name=facts.name,
            account=arn.account,
            region=region,
            resources=[arn.text],
            summary=compose_summary(f"{facts.state}: {facts.name}", first_line(description), facts.reason),
            payload_source=dimension_text or arn.text,
            severity=alarm_severity(facts.description),
            component=facts.namespace,
            group=arn.account,
            class_=_alarm_class(facts),
            details={"alarm": compact(alarm), **facts.details},
            links=[(console_url, "View the alarm in CloudWatch")],
            client="Amazon CloudWatch",
            client_url=console_url,
        )
    ]


def _alarm_class(facts: _AlarmFacts) -> str | None:
    if facts.is_composite:
        return "composite alarm"
    if facts.is_anomaly_detection:
        return "anomaly detection alarm"
    return facts.metric_name or ("metric math alarm" if facts.details.get("metrics") else None)
