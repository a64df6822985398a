"""What every modelled AWS service event shares: its envelope's facts, and the trigger/resolve pairing.

A service that reports a resource's state (a job, a pipeline, a stack) pairs on one dedup key per resource: a
failure state triggers, a success state resolves what an earlier failure opened, other states (started,
running) send nothing. A success that is also a completed change (a deployment, a stack update) additionally
becomes a change event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from pagerduty_utils.data_transformer.assembly import build_alert
from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert
from pagerduty_utils.pagerduty_events import EventAction, Severity


def service_alert(
    event: EventBridgeModel,
    *,
    source: AlertSource,
    action: EventAction,
    dedup_key: str,
    name: str,
    summary: str,
    severity: Severity,
    component: str,
    details: Mapping[str, Any],
    payload_source: str | None = None,
    resources: Iterable[str] | None = None,
    occurred_at: datetime | None = None,
    tags: Mapping[str, str] | None = None,
    link: tuple[str | None, str] | None = None,
    change: bool = False,
) -> NormalizedAlert:
    """An alert of ``event``: account, region, time, resources and group come from its envelope."""
    url, link_text = link if link else (None, "")
    return build_alert(
        source=source,
        action=action,
        dedup_key=dedup_key,
        occurred_at=occurred_at or event.time,
        name=name,
        account=event.account,
        region=event.region,
        tags=tags,
        resources=event.resources if resources is None else resources,
        summary=summary,
        payload_source=payload_source or (event.resources[0] if event.resources else event.source),
        severity=severity,
        component=component,
        group=event.account,
        class_=event.detail_type,
        details={"event_id": event.id, **details},
        links=[(url, link_text)],
        client=component,
        client_url=url,
        change=change,
    )


def paired_alerts(
    event: EventBridgeModel,
    state: str,
    *,
    failures: Mapping[str, Severity],
    successes: Iterable[str],
    change_on_success: bool = False,
    **common: Any,
) -> list[NormalizedAlert]:
    """Trigger for a failure state, resolve (plus a change event if asked) for a success state, else nothing.

    ``common`` are ``service_alert``'s keyword arguments except action, severity and change.
    """
    if state in failures:
        return [service_alert(event, action=EventAction.TRIGGER, severity=failures[state], **common)]
    if state not in set(successes):
        return []
    alerts = [service_alert(event, action=EventAction.RESOLVE, severity=Severity.INFO, **common)]
    if change_on_success:
        change = {**common, "dedup_key": f"{common['dedup_key']}/change/{event.id}"}
        alerts.append(service_alert(event, action=EventAction.TRIGGER, severity=Severity.INFO, change=True, **change))
    return alerts
