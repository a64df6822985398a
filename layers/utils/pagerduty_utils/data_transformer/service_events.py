"""What every modelled AWS service event shares: its envelope's facts, and the trigger/resolve pairing.

A service that reports a resource's state (a job, a pipeline, a stack) pairs on one dedup key per resource: a
failure state triggers, a success state resolves what an earlier failure opened, other states (started,
running) send nothing. A success that is also a completed change (a deployment, a stack update) additionally
becomes a change event.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel

from pagerduty_utils.data_transformer.assembly import build_alert
from pagerduty_utils.data_transformer.model import AlertSource, NormalizedAlert
from pagerduty_utils.pagerduty_events import EventAction, Severity


@dataclass(frozen=True)
class ServiceFacts:
    """What a mapping says about one service event, whatever its action and severity.

    ``component`` is the service's name (also the event's client); ``link`` its console page and the link's text;
    ``payload_source``, ``resources`` and ``occurred_at`` default to the envelope's first resource, resources and
    time.
    """

    source: AlertSource
    dedup_key: str
    name: str
    summary: str
    component: str
    details: Mapping[str, Any]
    link: tuple[str | None, str]
    payload_source: str | None = None
    resources: Iterable[str] | None = None
    occurred_at: datetime | None = None
    tags: Mapping[str, str] | None = None


def service_alert(
    event: EventBridgeModel, facts: ServiceFacts, action: EventAction, severity: Severity, *, change: bool = False
) -> NormalizedAlert:
    """An alert of ``event``: account, region, group, and unless ``facts`` say otherwise time and resources, come
    from its envelope."""
    url, link_text = facts.link
    return build_alert(
        source=facts.source,
        action=action,
        dedup_key=facts.dedup_key,
        occurred_at=facts.occurred_at or event.time,
        name=facts.name,
        account=event.account,
        region=event.region,
        tags=facts.tags,
        resources=event.resources if facts.resources is None else facts.resources,
        summary=facts.summary,
        payload_source=facts.payload_source or (event.resources[0] if event.resources else event.source),
        severity=severity,
        component=facts.component,
        group=event.account,
        class_=event.detail_type,
        details={"event_id": event.id, **facts.details},
        links=[(url, link_text)],
        client=facts.component,
        client_url=url,
        change=change,
    )


def paired_alerts(
    event: EventBridgeModel,
    state: str,
    facts: ServiceFacts,
    *,
    failures: Mapping[str, Severity],
    successes: Collection[str],
    change_on_success: bool = False,
) -> list[NormalizedAlert]:
    """Trigger for a failure state, resolve (plus a change event if asked) for a success state, else nothing."""
    if state in failures:
        return [service_alert(event, facts, EventAction.TRIGGER, failures[state])]
    if state not in successes:
        return []
    alerts = [service_alert(event, facts, EventAction.RESOLVE, Severity.INFO)]
    if change_on_success:
        # its own key: a rule that sends the change as an alert must not re-open what the resolve closed
        change = replace(facts, dedup_key=f"{facts.dedup_key}/change/{event.id}")
        alerts.append(service_alert(event, change, EventAction.TRIGGER, Severity.INFO, change=True))
    return alerts
