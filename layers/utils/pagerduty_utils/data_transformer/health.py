"""AWS Health events: open and upcoming trigger, closed resolves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pagerduty_utils.data_transformer.assembly import build_alert
from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.sources.base import parse_source
from pagerduty_utils.data_transformer.sources.health import HealthEvent
from pagerduty_utils.formatters import compose_summary, health_event_url
from pagerduty_utils.pagerduty_events import EventAction, Severity

HEALTH_SEVERITY: Mapping[str, Severity] = {
    "issue": Severity.ERROR,
    "investigation": Severity.WARNING,
    "scheduledChange": Severity.WARNING,
    "accountNotification": Severity.INFO,
}


def health_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
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
        build_alert(
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
