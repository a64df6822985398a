"""Inspector findings, AWS Config compliance changes, console sign-ins and root activity.

- An Inspector finding triggers while ``ACTIVE`` and resolves when ``CLOSED`` or ``SUPPRESSED``, one alert per
  finding, severity from its label.
- A Config rule's evaluation of one resource triggers when ``NON_COMPLIANT`` and resolves when ``COMPLIANT`` or
  ``NOT_APPLICABLE``.
- A console sign-in pages when it is the root user (critical), when it failed, or when it succeeded without MFA
  (warning); an ordinary MFA sign-in sends nothing. Any API call made as the root user pages (critical). Each
  sign-in or call is its own alert: there is nothing to resolve it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.service_events import ServiceFacts, paired_alerts, service_alert
from pagerduty_utils.data_transformer.sources.base import parse_source
from pagerduty_utils.data_transformer.sources.security import (
    CloudTrailEvent,
    CloudTrailRecord,
    ConfigComplianceEvent,
    InspectorFindingEvent,
)
from pagerduty_utils.formatters import compose_summary, console_url
from pagerduty_utils.pagerduty_events import EventAction, Severity

INSPECTOR_SEVERITY = {"CRITICAL": Severity.CRITICAL, "HIGH": Severity.ERROR, "MEDIUM": Severity.WARNING}
INSPECTOR_CLOSED = frozenset({"CLOSED", "SUPPRESSED"})
CONFIG_COMPLIANT = frozenset({"COMPLIANT", "NOT_APPLICABLE"})


def inspector_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(InspectorFindingEvent, document, what="Inspector finding event")
    finding = event.detail
    tags: dict[str, str] = {}
    for resource in finding.resources:
        tags.update(resource.tags)
    resource_ids = [resource.id for resource in finding.resources if resource.id]
    return [
        service_alert(
            event,
            ServiceFacts(
                source=AlertSource.INSPECTOR,
                dedup_key=f"aws/inspector2/{finding.finding_arn}",
                name=finding.type or finding.title,
                summary=compose_summary(f"Inspector {finding.severity}: {finding.title}", *resource_ids[:1]),
                component="Amazon Inspector",
                payload_source=resource_ids[0] if resource_ids else finding.finding_arn,
                resources=resource_ids or [finding.finding_arn],
                tags=tags,
                details=finding.model_dump(by_alias=True, exclude_none=True),
                link=(
                    console_url(event.region, f"inspector/v2/home?region={event.region}#/findings/all"),
                    "View the findings in Amazon Inspector",
                ),
            ),
            EventAction.RESOLVE if finding.status in INSPECTOR_CLOSED else EventAction.TRIGGER,
            INSPECTOR_SEVERITY.get(finding.severity, Severity.INFO),
        )
    ]


def config_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(ConfigComplianceEvent, document, what="Config compliance event")
    change = event.detail
    compliance = change.new_evaluation_result.compliance_type
    rule = change.config_rule_name
    return paired_alerts(
        event,
        compliance,
        ServiceFacts(
            source=AlertSource.CONFIG,
            dedup_key=f"aws/config/{event.account}/{event.region}/{rule}/{change.resource_type}/{change.resource_id}",
            name=rule,
            summary=compose_summary(
                f"Config {compliance}: {rule} on {change.resource_type} {change.resource_id}",
                change.new_evaluation_result.annotation,
            ),
            component="AWS Config",
            payload_source=change.resource_id,
            occurred_at=change.new_evaluation_result.result_recorded_time,
            details=change.model_dump(by_alias=True, exclude_none=True),
            link=(
                console_url(
                    event.region, f"config/home?region={event.region}#/rules/details?configRuleName={quote(rule)}"
                ),
                "View the rule in AWS Config",
            ),
        ),
        failures={"NON_COMPLIANT": Severity.WARNING},
        successes=CONFIG_COMPLIANT,
    )


def signin_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(CloudTrailEvent, document, what="console sign-in event")
    record = event.detail
    identity = record.user_identity
    who = identity.user_name or identity.arn or identity.type or "unknown user"
    outcome = str(record.response_elements.get("ConsoleLogin") or "")
    without_mfa = record.additional_event_data.get("MFAUsed") == "No"
    if identity.type == "Root":
        severity, what = Severity.CRITICAL, f"Root user console sign-in ({outcome or 'attempt'})"
    elif outcome == "Failure":
        severity, what = Severity.WARNING, f"Failed console sign-in: {who}"
    elif without_mfa:
        severity, what = Severity.WARNING, f"Console sign-in without MFA: {who}"
    else:
        return []
    return [_cloudtrail_alert(event, record, severity, what, kind="signin")]


def root_activity_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(CloudTrailEvent, document, what="CloudTrail API call event")
    record = event.detail
    what = f"Root user activity: {record.event_name} on {record.event_source or event.source}"
    return [_cloudtrail_alert(event, record, Severity.CRITICAL, what, kind="root")]


def _cloudtrail_alert(
    event: CloudTrailEvent, record: CloudTrailRecord, severity: Severity, what: str, *, kind: str
) -> NormalizedAlert:
    return service_alert(
        event,
        ServiceFacts(
            source=AlertSource.SIGNIN,
            dedup_key=f"aws/cloudtrail/{kind}/{event.account}/{record.event_id}",
            name=record.event_name,
            summary=compose_summary(what, record.source_ip_address and f"from {record.source_ip_address}"),
            component="AWS CloudTrail",
            payload_source=record.user_identity.arn or event.account,
            occurred_at=record.event_time,
            details=record.model_dump(by_alias=True, exclude_none=True),
            link=(
                console_url(
                    event.region,
                    f"cloudtrail/home?region={event.region}#/events/{quote(record.event_id, safe='')}",
                ),
                "View the event in CloudTrail",
            ),
        ),
        EventAction.TRIGGER,
        severity,
    )
