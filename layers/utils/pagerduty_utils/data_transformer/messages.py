"""The custom "Application Alert" event that applications put on an event bus."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pagerduty_utils.data_transformer.assembly import FIELD_LIMIT, build_alert
from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert, TransformOptions
from pagerduty_utils.data_transformer.provenance import check_custom_dedup_key
from pagerduty_utils.data_transformer.sources.base import parse_source
from pagerduty_utils.data_transformer.sources.custom import CustomAlertEvent
from pagerduty_utils.formatters import clean_text
from pagerduty_utils.pagerduty_events import EventAction


def application_alerts(document: Mapping[str, Any], _options: TransformOptions) -> list[NormalizedAlert]:
    """An "Application Alert" EventBridge event, as an event converter of ``envelopes``."""
    return [custom_alert(parse_source(CustomAlertEvent, document, what="Application Alert event"))]


def custom_alert(event: CustomAlertEvent) -> NormalizedAlert:
    detail = event.detail
    summary = clean_text(detail.summary, FIELD_LIMIT, single_line=True)
    return build_alert(
        source=AlertSource.CUSTOM,
        action=EventAction.RESOLVE if detail.state == "resolved" else EventAction.TRIGGER,
        dedup_key=check_custom_dedup_key(detail.dedup_key) if detail.dedup_key else f"app/{event.source}/{summary}",
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
