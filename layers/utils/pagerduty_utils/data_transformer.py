"""Turn one AWS alert message into source-neutral ``NormalizedAlert`` objects, and those into PagerDuty events.

``normalize`` takes what a queue record body or a direct invocation record carries:
- an SQS record (its ``body`` is unwrapped) or an SNS record (its ``Sns`` notification is unwrapped);
- an SNS notification whose ``Message`` is a CloudWatch alarm notification, an EventBridge event (an SNS target
  of a rule), or anything else: other JSON or plain text becomes a generic trigger (see ``_generic_sns_alerts``);
- an EventBridge event: CloudWatch Alarm State Change, GuardDuty Finding, Security Hub Findings (one alert per
  finding), AWS Health Event, or a custom "Application Alert";
- a bare CloudWatch alarm notification (SNS raw message delivery) or the event of an alarm's Lambda action.

The mapping rules (actions, dedup keys, severities) are documented in docs/routing-rules.md. Input that can
never be processed raises ``ValidationError`` with the reason; input that intentionally yields nothing (an
INSUFFICIENT_DATA alarm with the "ignore" option) returns an empty list.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from pagerduty_utils.alert_sources import (
    AlarmState,
    AlarmStateChange,
    Arn,
    CloudWatchAlarmActionEvent,
    CloudWatchAlarmMessage,
    CloudWatchAlarmStateChangeEvent,
    CustomAlertEvent,
    GuardDutyFindingEvent,
    HealthEvent,
    SecurityHubFinding,
    SecurityHubFindingsEvent,
    SecurityHubLabel,
    SnsAlarmTrigger,
    as_utc,
    parse_source,
)
from pagerduty_utils.exceptions import ValidationError
from pagerduty_utils.formatters import (
    clean_details,
    clean_text,
    cloudwatch_alarm_url,
    compose_summary,
    first_line,
    guardduty_finding_url,
    health_event_url,
    securityhub_finding_url,
)
from pagerduty_utils.pagerduty_events import AlertEvent, AlertPayload, EventAction, Image, Link, Severity
from pagerduty_utils.validators import safe_url

MAX_MESSAGE_CHARS = 1024 * 1024  # above SQS's and EventBridge's own limits: anything larger is not an AWS event
_MAX_ENVELOPES = 4  # SQS record > SNS notification > EventBridge event > detail
_FIELD_LIMIT = 1024
_KEY_LIMIT = 4096  # dedup keys are hashed by the client above 255 characters; this only bounds memory
_SEVERITY_MARKER = re.compile(r"\[\s*severity\s*[:=]\s*(critical|error|warning|info)\s*\]", re.IGNORECASE)

ALARM_SEVERITY = Severity.ERROR
SECURITY_HUB_SEVERITY: Mapping[SecurityHubLabel, Severity] = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.ERROR,
    "MEDIUM": Severity.WARNING,
    "LOW": Severity.INFO,
    "INFORMATIONAL": Severity.INFO,
}
SECURITY_HUB_CLOSED_WORKFLOWS = frozenset({"RESOLVED", "SUPPRESSED"})
HEALTH_SEVERITY: Mapping[str, Severity] = {
    "issue": Severity.ERROR,
    "investigation": Severity.WARNING,
    "scheduledChange": Severity.WARNING,
    "accountNotification": Severity.INFO,
}


class AlertSource(StrEnum):
    CLOUDWATCH_ALARM = "cloudwatch_alarm"
    GUARDDUTY = "guardduty"
    SECURITY_HUB = "security_hub"
    HEALTH = "health"
    CUSTOM = "custom"
    SNS = "sns"  # a plain-text or unrecognised JSON message published to an SNS topic


class NormalizedAlert(BaseModel):
    """One alert from any source, ready for routing and for rendering as a PagerDuty event or a notification.

    ``name`` is what routing rules' ``name`` patterns match: the alarm name, the GuardDuty finding type, the
    Security Hub generator id, the AWS Health event type code, the custom event's summary, the SNS topic name.
    ``occurred_at`` is the source's own time of the change; the delivery side orders events by it.
    """

    model_config = ConfigDict(frozen=True)

    source: AlertSource
    action: EventAction
    dedup_key: str = Field(min_length=1)
    occurred_at: AwareDatetime
    name: str
    account: str | None = None
    region: str | None = None
    resource_tags: dict[str, str] = Field(default_factory=dict)
    resources: tuple[str, ...] = ()
    payload: AlertPayload
    links: tuple[Link, ...] = ()
    images: tuple[Image, ...] = ()
    client: str | None = None
    client_url: str | None = None


@dataclass(frozen=True)
class TransformOptions:
    """Choices the mapping leaves to the operator (``INSUFFICIENT_DATA_ACTION`` in the forwarder's settings)."""

    insufficient_data_action: Literal["ignore", "trigger", "resolve"] = "ignore"


def normalize(
    message: str | Mapping[str, Any], *, options: TransformOptions = TransformOptions()
) -> list[NormalizedAlert]:
    """The alerts one message stands for (several for a multi-finding Security Hub event, none when ignored)."""
    return _from_document(_decode_object(message, what="message"), options, depth=0)


def to_alert_event(alert: NormalizedAlert, *, routing_key: str, severity: Severity | None = None) -> AlertEvent:
    """The Events API v2 event for ``alert``; ``severity`` (a routing override) replaces the source's severity.

    Only triggers carry a payload, links, images and client: PagerDuty ignores them on acknowledge and resolve.
    """
    if alert.action is not EventAction.TRIGGER:
        return AlertEvent(
            routing_key=routing_key, event_action=alert.action, dedup_key=alert.dedup_key, occurred_at=alert.occurred_at
        )
    payload = alert.payload if severity is None else alert.payload.model_copy(update={"severity": severity})
    return AlertEvent(
        routing_key=routing_key,
        event_action=alert.action,
        dedup_key=alert.dedup_key,
        payload=payload,
        client=alert.client,
        client_url=alert.client_url,
        links=alert.links,
        images=alert.images,
        occurred_at=alert.occurred_at,
    )


# --- envelopes ---------------------------------------------------------------------------------------------------


def _decode_object(message: Any, *, what: str) -> Mapping[str, Any]:
    if isinstance(message, str):
        if len(message) > MAX_MESSAGE_CHARS:
            raise ValidationError(f"{what} is larger than {MAX_MESSAGE_CHARS} characters")
        try:
            message = json.loads(message)
        except (ValueError, RecursionError) as exc:
            raise ValidationError(f"{what} is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(message, Mapping):
        raise ValidationError(f"{what} is not a JSON object")
    return message


def _from_document(document: Mapping[str, Any], options: TransformOptions, *, depth: int) -> list[NormalizedAlert]:
    if depth >= _MAX_ENVELOPES:
        raise ValidationError("message nests envelopes too deeply")
    if "Records" in document:
        raise ValidationError("message is a whole batch: pass each of its Records separately")
    if document.get("eventSource") == "aws:sqs":
        return _from_document(_decode_object(document.get("body"), what="SQS record body"), options, depth=depth + 1)
    if document.get("EventSource") == "aws:sns":
        return _from_document(_decode_object(document.get("Sns"), what="SNS record"), options, depth=depth + 1)
    if document.get("Type") == "Notification":
        return _from_sns(document, options, depth=depth)
    if "detail-type" in document:
        return _from_eventbridge(document, options)
    if "alarmData" in document:
        action_event = parse_source(CloudWatchAlarmActionEvent, document, what="CloudWatch alarm action event")
        arn = _alarm_arn(action_event.alarm_arn)
        return _alarm_alerts(_state_change_facts(action_event.alarm_data, arn), options)
    if "AlarmName" in document:
        return _alarm_alerts(_sns_alarm_facts(parse_source(CloudWatchAlarmMessage, document, what="alarm")), options)
    keys = ", ".join(sorted(clean_text(str(key), 40, single_line=True) for key in document)[:8])
    raise ValidationError(
        f"unrecognised message (keys: {keys or 'none'}): expected an SNS notification, an EventBridge event "
        "or a CloudWatch alarm notification"
    )


def _from_sns(document: Mapping[str, Any], options: TransformOptions, *, depth: int) -> list[NormalizedAlert]:
    # dict(): Powertools' model renames the SQS-style URL keys in place and must not change the caller's record.
    notification = parse_source(SnsNotificationModel, dict(document), what="SNS notification")
    message = str(notification.Message)
    inner = _json_object(message)
    if inner is not None and "AlarmName" in inner and "NewStateValue" in inner:
        alarm = parse_source(CloudWatchAlarmMessage, inner, what="CloudWatch alarm notification in SNS message")
        return _alarm_alerts(_sns_alarm_facts(alarm), options)
    if inner is not None and "detail-type" in inner:
        return _from_document(inner, options, depth=depth + 1)
    return [_generic_sns_alert(notification, message, inner)]


def _from_eventbridge(document: Mapping[str, Any], options: TransformOptions) -> list[NormalizedAlert]:
    source, detail_type = document.get("source"), document.get("detail-type")
    if detail_type == "Application Alert":
        return [_custom_alert(parse_source(CustomAlertEvent, document, what="Application Alert event"))]
    convert = _AWS_EVENT_CONVERTERS.get((str(source), str(detail_type)))
    if convert is None:
        shown = [clean_text(str(value), 80, single_line=True) for value in (source, detail_type)]
        raise ValidationError(f"unsupported EventBridge event: source {shown[0]!r}, detail-type {shown[1]!r}")
    return convert(document, options)


def _json_object(text: str | None) -> dict[str, Any] | None:
    """``text`` parsed when it is a JSON object, else None (plain text is a legitimate SNS message)."""
    if not text or not text.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


# --- CloudWatch alarms -------------------------------------------------------------------------------------------


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
    details: dict[str, Any] = field(default_factory=dict)


def _alarm_arn(value: str) -> Arn:
    arn = Arn.parse(value)
    if arn is None:
        raise ValidationError("alarm ARN is malformed")
    return arn


def _sns_alarm_facts(message: CloudWatchAlarmMessage) -> _AlarmFacts:
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
        arn=_alarm_arn(message.alarm_arn),
        state=message.new_state_value,
        changed_at=message.state_change_time,
        description=message.alarm_description,
        reason=message.new_state_reason,
        namespace=trigger.namespace,
        metric_name=trigger.metric_name,
        dimensions=dimensions,
        is_composite=message.alarm_rule is not None,
        details=_compact(
            {
                "metric": _compact(metric) if metric else None,
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
                "state_history": [_compact(entry) for entry in history if entry["state"]],
            }
        ),
    )


def _state_change_facts(change: AlarmStateChange, arn: Arn) -> _AlarmFacts:
    queries = change.configuration.metrics
    single = queries[0].metric_stat if len(queries) == 1 and not queries[0].expression else None
    reason_data = _json_object(change.state.reason_data) or {}
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
        details=_compact(
            {
                "metric": _compact(metric) if metric else None,
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


def _state_change_alerts(document: Mapping[str, Any], options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(CloudWatchAlarmStateChangeEvent, document, what="CloudWatch Alarm State Change event")
    alarm_arns = [arn for arn in map(Arn.parse, event.resources) if arn is not None and arn.service == "cloudwatch"]
    arn = (
        alarm_arns[0]
        if alarm_arns
        else _alarm_arn(f"arn:aws:cloudwatch:{event.region}:{event.account}:alarm:{event.detail.alarm_name}")
    )
    return _alarm_alerts(_state_change_facts(event.detail, arn), options)


def _alarm_action(state: AlarmState, options: TransformOptions) -> EventAction | None:
    if state == "ALARM":
        return EventAction.TRIGGER
    if state == "OK":
        return EventAction.RESOLVE
    if options.insufficient_data_action == "ignore":
        return None
    return EventAction(options.insufficient_data_action)


def alarm_severity(description: str | None) -> Severity:
    """``[severity:<level>]`` in an alarm's description sets its severity; otherwise ``ALARM_SEVERITY``."""
    marker = _SEVERITY_MARKER.search(description or "")
    return Severity(marker.group(1).lower()) if marker else ALARM_SEVERITY


def _alarm_alerts(facts: _AlarmFacts, options: TransformOptions) -> list[NormalizedAlert]:
    action = _alarm_action(facts.state, options)
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
        _alert(
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
            class_="composite alarm" if facts.is_composite else facts.metric_name,
            details={"alarm": _compact(alarm), **facts.details},
            links=[(console_url, "View the alarm in CloudWatch")],
            client="Amazon CloudWatch",
            client_url=console_url,
        )
    ]


# --- GuardDuty, Security Hub, AWS Health, custom events ----------------------------------------------------------


def guardduty_severity(score: float) -> Severity:
    """GuardDuty's bands: 9-10 Critical, 7-8.9 High, 4-6.9 Medium, below 4 Low -> critical/error/warning/info."""
    if score >= 9:
        return Severity.CRITICAL
    if score >= 7:
        return Severity.ERROR
    if score >= 4:
        return Severity.WARNING
    return Severity.INFO


_GUARDDUTY_BANDS = {
    Severity.CRITICAL: "Critical",
    Severity.ERROR: "High",
    Severity.WARNING: "Medium",
    Severity.INFO: "Low",
}


def _guardduty_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(GuardDutyFindingEvent, document, what="GuardDuty Finding event")
    finding = event.detail
    severity = guardduty_severity(finding.severity)
    band = f"{_GUARDDUTY_BANDS[severity]} ({finding.severity:.1f})"
    console_url = guardduty_finding_url(finding.region, finding.id)
    service = finding.service
    return [
        _alert(
            source=AlertSource.GUARDDUTY,
            action=EventAction.RESOLVE if service.archived else EventAction.TRIGGER,
            dedup_key=f"aws/guardduty/{finding.account_id}/{finding.region}/{finding.id}",
            occurred_at=finding.updated_at,
            name=finding.type,
            account=finding.account_id,
            region=finding.region,
            tags=finding.resource_tags,
            resources=[*event.resources, *([finding.arn] if finding.arn else [])],
            summary=compose_summary(f"GuardDuty {band}: {finding.type}", finding.title),
            payload_source=finding.resource_id or finding.resource_type or finding.account_id,
            severity=severity,
            component=finding.resource_type,
            group=finding.account_id,
            class_=finding.type,
            details={
                "finding_id": finding.id,
                "finding_arn": finding.arn,
                "type": finding.type,
                "title": finding.title,
                "description": finding.description,
                "severity": finding.severity,
                "severity_band": _GUARDDUTY_BANDS[severity],
                "count": service.count,
                "created_at": finding.created_at,
                "first_seen": service.event_first_seen,
                "last_seen": service.event_last_seen,
                "archived": service.archived,
                "resource_role": service.resource_role,
                "resource": finding.resource,
                "action": service.action,
                "detector_id": service.detector_id,
            },
            links=[(console_url, "View the finding in GuardDuty")],
            client="Amazon GuardDuty",
            client_url=console_url,
        )
    ]


def _securityhub_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(SecurityHubFindingsEvent, document, what="Security Hub Findings event")
    return [_securityhub_alert(finding, event.region) for finding in event.detail.findings]


def securityhub_action(finding: SecurityHubFinding) -> EventAction:
    """Resolve when a person closed the finding (workflow RESOLVED or SUPPRESSED) or its record was archived.

    SUPPRESSED resolves too: it is an explicit decision that the finding needs no action, so leaving the
    incident open would page for something nobody will fix.
    """
    if finding.workflow_status in SECURITY_HUB_CLOSED_WORKFLOWS or finding.record_state == "ARCHIVED":
        return EventAction.RESOLVE
    return EventAction.TRIGGER


def _securityhub_alert(finding: SecurityHubFinding, event_region: str) -> NormalizedAlert:
    label = finding.severity.effective_label
    region = finding.region or event_region
    console_url = securityhub_finding_url(region, finding.id)
    recommendation = finding.remediation.recommendation if finding.remediation else None
    first_resource = finding.resources[0] if finding.resources else None
    tags: dict[str, str] = {}
    for resource in finding.resources:
        tags.update(resource.tags)
    return _alert(
        source=AlertSource.SECURITY_HUB,
        action=securityhub_action(finding),
        dedup_key=f"aws/securityhub/{finding.id}",
        occurred_at=finding.updated_at,
        name=finding.generator_id,
        account=finding.aws_account_id,
        region=region,
        tags=tags,
        resources=[resource.id for resource in finding.resources],
        summary=compose_summary(f"Security Hub {label}", finding.title or finding.generator_id),
        payload_source=first_resource.id if first_resource else finding.product_arn,
        severity=SECURITY_HUB_SEVERITY[label],
        component=first_resource.type if first_resource else None,
        group=finding.aws_account_id,
        class_=finding.types[0] if finding.types else None,
        details={
            "finding_id": finding.id,
            "product": finding.product_name or finding.product_arn,
            "generator_id": finding.generator_id,
            "title": finding.title,
            "description": finding.description,
            "severity_label": label,
            "types": finding.types,
            "workflow_status": finding.workflow_status,
            "record_state": finding.record_state,
            "compliance_status": finding.compliance.status if finding.compliance else None,
            "created_at": finding.created_at,
            "first_observed_at": finding.first_observed_at,
            "last_observed_at": finding.last_observed_at,
            "remediation": recommendation.text if recommendation else None,
            "resources": [
                resource.model_dump(exclude_none=True, exclude_defaults=True) for resource in finding.resources
            ],
        },
        links=[
            (console_url, "View the finding in Security Hub"),
            (recommendation.url if recommendation else None, "Remediation"),
            (finding.source_url, "Source"),
        ],
        client="AWS Security Hub",
        client_url=console_url,
    )


def _health_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(HealthEvent, document, what="AWS Health event")
    health = event.detail
    account = health.affected_account or event.account
    region = health.event_region or event.region
    # Account-specific events share one ARN across accounts: keep one alert per account. Public events get one
    # alert however many accounts report them.
    scope = f"{account}/" if health.event_scope_code == "ACCOUNT_SPECIFIC" else ""
    console_url = health_event_url(region, health.event_arn)
    tags: dict[str, str] = {}
    for entity in health.affected_entities:
        tags.update(entity.tags)
    entity_values = [entity.entity_value for entity in health.affected_entities if entity.entity_value]
    return [
        _alert(
            source=AlertSource.HEALTH,
            action=EventAction.RESOLVE if health.status_code == "closed" else EventAction.TRIGGER,
            dedup_key=f"aws/health/{scope}{health.event_arn}",
            occurred_at=health.last_updated_time or event.time,
            name=health.event_type_code,
            account=account,
            region=region,
            tags=tags,
            resources=list(dict.fromkeys([*event.resources, *entity_values])),
            summary=compose_summary(f"AWS Health {health.status_code}: {health.event_type_code}", health.description),
            payload_source=entity_values[0] if entity_values else f"{health.service} in {region}",
            severity=HEALTH_SEVERITY.get(health.event_type_category, Severity.WARNING),
            component=health.service,
            group=account,
            class_=health.event_type_category,
            details={
                "event_arn": health.event_arn,
                "service": health.service,
                "event_type_code": health.event_type_code,
                "event_type_category": health.event_type_category,
                "event_scope_code": health.event_scope_code,
                "status_code": health.status_code,
                "start_time": health.start_time,
                "end_time": health.end_time,
                "description": health.description,
                "affected_entities": entity_values,
            },
            links=[(console_url, "View the event in AWS Health")],
            client="AWS Health",
            client_url=console_url,
        )
    ]


def _custom_alert(event: CustomAlertEvent) -> NormalizedAlert:
    detail = event.detail
    summary = clean_text(detail.summary, _FIELD_LIMIT, single_line=True)
    return _alert(
        source=AlertSource.CUSTOM,
        action=EventAction.RESOLVE if detail.state == "resolved" else EventAction.TRIGGER,
        dedup_key=detail.dedup_key or f"app/{event.source}/{summary}",
        occurred_at=detail.timestamp or event.time,
        name=summary,
        account=event.account,
        region=event.region,
        tags=detail.tags,
        resources=event.resources,
        summary=summary,
        payload_source=event.source,
        severity=detail.severity,
        component=detail.component,
        group=detail.group,
        class_=detail.class_,
        details=detail.details,
        links=[(link.href, link.text) for link in detail.links],
        client=event.source,
        client_url=None,
    )


def _generic_sns_alert(
    notification: SnsNotificationModel, message: str, parsed: dict[str, Any] | None
) -> NormalizedAlert:
    """A trigger for a message that is not an alarm or an event: it cannot be resolved automatically.

    The dedup key is the topic plus the subject (or a hash of the message when there is no subject), so
    repeats of the same problem update one alert instead of opening many. ``name`` is the topic name.
    """
    topic = Arn.parse(notification.TopicArn)
    subject = clean_text(notification.Subject or "", _FIELD_LIMIT, single_line=True)
    fingerprint = subject or hashlib.sha256(message.encode("utf-8", "replace")).hexdigest()[:16]
    topic_name = topic.resource if topic else notification.TopicArn
    attributes = {name: attribute.Value for name, attribute in (notification.MessageAttributes or {}).items()}
    return _alert(
        source=AlertSource.SNS,
        action=EventAction.TRIGGER,
        dedup_key=f"aws/sns/{notification.TopicArn}/{fingerprint}",
        occurred_at=notification.Timestamp,
        name=topic_name,
        account=topic.account if topic else None,
        region=topic.region if topic else None,
        resources=[notification.TopicArn],
        summary=compose_summary(subject or first_line(message) or f"Message on SNS topic {topic_name}"),
        payload_source=notification.TopicArn,
        severity=ALARM_SEVERITY,
        class_="sns message",
        details={
            "subject": notification.Subject,
            "message": parsed if parsed is not None else message,
            "topic_arn": notification.TopicArn,
            "message_id": notification.MessageId,
            "message_attributes": attributes or None,
        },
    )


_AWS_EVENT_CONVERTERS: Mapping[
    tuple[str, str], Callable[[Mapping[str, Any], TransformOptions], list[NormalizedAlert]]
] = {
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): _state_change_alerts,
    ("aws.guardduty", "GuardDuty Finding"): _guardduty_alerts,
    ("aws.securityhub", "Security Hub Findings - Imported"): _securityhub_alerts,
    ("aws.securityhub", "Security Hub Findings - Custom Action"): _securityhub_alerts,
    ("aws.health", "AWS Health Event"): _health_alerts,
}


# --- assembly ----------------------------------------------------------------------------------------------------


def _alert(
    *,
    source: AlertSource,
    action: EventAction,
    dedup_key: str,
    occurred_at: datetime,
    name: str,
    account: str | None,
    region: str | None,
    resources: Iterable[str],
    summary: str,
    payload_source: str,
    severity: Severity,
    details: Mapping[str, Any],
    tags: Mapping[str, str] | None = None,
    component: str | None = None,
    group: str | None = None,
    class_: str | None = None,
    links: Iterable[tuple[str | None, str | None]] = (),
    client: str | None = None,
    client_url: str | None = None,
) -> NormalizedAlert:
    """Assemble a NormalizedAlert, cleaning every text field that may come from a user on the way."""
    occurred_at = _utc(occurred_at)
    payload = AlertPayload.model_validate(
        {
            "summary": summary or clean_text(name, _FIELD_LIMIT, single_line=True) or source.value,
            "source": _field(payload_source) or source.value,
            "severity": severity,
            "timestamp": occurred_at,
            "component": _field(component),
            "group": _field(group),
            "class": _field(class_),
            "custom_details": clean_details(_compact(dict(details))),
        }
    )
    return NormalizedAlert(
        source=source,
        action=action,
        dedup_key=clean_text(dedup_key, _KEY_LIMIT, single_line=True),
        occurred_at=occurred_at,
        name=clean_text(name, _FIELD_LIMIT, single_line=True),
        account=_field(account),
        region=_field(region),
        resource_tags={
            clean_text(key, 128, single_line=True): clean_text(value, 256, single_line=True)
            for key, value in (tags or {}).items()
        },
        resources=tuple(clean_text(resource, 2048, single_line=True) for resource in list(resources)[:50]),
        payload=payload,
        links=_links(links),
        client=_field(client),
        client_url=safe_url(client_url),
    )


def _links(links: Iterable[tuple[str | None, str | None]]) -> tuple[Link, ...]:
    """Links whose URL is a usable http(s) URL (a source may send any string), texts cleaned."""
    checked = ((safe_url(href), text) for href, text in links)
    return tuple(Link(href=url, text=_field(text)) for url, text in checked if url)


def _field(value: str | None) -> str | None:
    """A user-controlled one-line field, cleaned; None when nothing is left."""
    cleaned = clean_text(value or "", _FIELD_LIMIT, single_line=True)
    return cleaned or None


def _utc(value: datetime) -> datetime:
    try:
        return as_utc(value)
    except ValueError:
        raise ValidationError("event time is out of range") from None


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without None and empty containers, so custom_details show only what the source said."""
    return {key: value for key, value in values.items() if value is not None and value not in ([], {})}
