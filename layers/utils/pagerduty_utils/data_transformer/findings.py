"""GuardDuty and Security Hub findings: severities, dedup keys by finding id, resolve when closed or archived."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pagerduty_utils.data_transformer.assembly import build_alert
from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.sources.base import parse_source
from pagerduty_utils.data_transformer.sources.findings import (
    GuardDutyFindingEvent,
    SecurityHubFinding,
    SecurityHubFindingsEvent,
    SecurityHubLabel,
)
from pagerduty_utils.formatters import compose_summary, guardduty_finding_url, securityhub_finding_url
from pagerduty_utils.pagerduty_events import EventAction, Severity

SECURITY_HUB_SEVERITY: Mapping[SecurityHubLabel, Severity] = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.ERROR,
    "MEDIUM": Severity.WARNING,
    "LOW": Severity.INFO,
    "INFORMATIONAL": Severity.INFO,
}
SECURITY_HUB_CLOSED_WORKFLOWS = frozenset({"RESOLVED", "SUPPRESSED"})


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


def guardduty_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    event = parse_source(GuardDutyFindingEvent, document, what="GuardDuty Finding event")
    finding = event.detail
    severity = guardduty_severity(finding.severity)
    band = f"{_GUARDDUTY_BANDS[severity]} ({finding.severity:.1f})"
    console_url = guardduty_finding_url(finding.region, finding.id)
    service = finding.service
    return [
        build_alert(
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


def securityhub_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
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
    return build_alert(
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
