"""AWS Health events: open and upcoming trigger, closed resolves (derived from the times when ``statusCode`` is
absent)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pagerduty_utils.data_transformer.assembly import build_alert
from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.sources.base import parse_source
from pagerduty_utils.data_transformer.sources.health import HealthEvent, HealthEventDetail
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
    status = health.status_code or _derived_status(health, event.time)
    return [
        build_alert(
            source=AlertSource.HEALTH,
            action=EventAction.RESOLVE if status == "closed" else EventAction.TRIGGER,
            dedup_key=f"aws/health/{scope}{health.event_arn}",
            occurred_at=health.last_updated_time or event.time,
            name=health.event_type_code,
            account=account,
            region=region,
            tags=tags,
            resources=list(dict.fromkeys([*event.resources, *entity_values])),
            summary=compose_summary(f"AWS Health {status}: {health.event_type_code}", health.description),
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
                "status_code": status,
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


def _derived_status(health: HealthEventDetail, event_time: datetime) -> str:
    """``statusCode`` when the event has none: closed once ended, upcoming before it starts, else open."""
    event_time = event_time if event_time.tzinfo else event_time.replace(tzinfo=UTC)
    if health.end_time is not None and health.end_time <= event_time:
        return "closed"
    if health.start_time is not None and health.start_time > event_time:
        return "upcoming"
    return "open"
