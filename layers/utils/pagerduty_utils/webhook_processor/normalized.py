"""The normalized incident event: what the receiver publishes on the EventBridge bus, one schema for every type.

The ``detail`` of each bus event is a ``NormalizedIncidentEvent`` (schema version 1, documented in
docs/webhooks.md). ``incident`` is filled from whatever the event carries: the full snapshot for ``incident.*``
lifecycle events, only the reference (id, title, link) for notes, responders, tasks and the like, ``None`` for
service events. ``data`` is PagerDuty's ``data`` object, sanitized, for consumers that need type-specific fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, JsonValue

from pagerduty_utils.validators import sanitize_json
from pagerduty_utils.webhook_processor.incident_state import IncidentState
from pagerduty_utils.webhook_processor.models import EventData, IncidentData, Reference, WebhookEvent

SCHEMA_VERSION: Literal["1"] = "1"


class ObjectSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    summary: str | None = None
    html_url: str | None = None

    @classmethod
    def of(cls, reference: Reference | None) -> ObjectSummary | None:
        if reference is None:
            return None
        return cls(id=reference.id, summary=reference.summary, html_url=reference.html_url)

    @classmethod
    def all_of(cls, references: list[Reference]) -> list[ObjectSummary]:
        return [cls(id=ref.id, summary=ref.summary, html_url=ref.html_url) for ref in references]


class IncidentSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    number: int | None = None
    title: str | None = None
    status: str | None = None
    urgency: str | None = None
    priority: str | None = None
    incident_key: str | None = None
    html_url: str | None = None
    created_at: datetime | None = None
    service: ObjectSummary | None = None
    escalation_policy: ObjectSummary | None = None
    assignees: list[ObjectSummary] = []
    teams: list[ObjectSummary] = []


class NormalizedIncidentEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: Literal["1"] = SCHEMA_VERSION
    event_id: str
    webhook_id: str | None
    event_type: str
    resource_type: str | None
    data_type: str
    occurred_at: datetime
    received_at: datetime
    is_latest: bool | None
    agent: ObjectSummary | None
    incident: IncidentSummary | None
    service: ObjectSummary | None
    data: JsonValue
    data_truncated: bool = False


def normalize(
    event: WebhookEvent,
    data: EventData,
    *,
    webhook_id: str | None,
    received_at: datetime,
    is_latest: bool | None,
) -> NormalizedIncidentEvent:
    return NormalizedIncidentEvent(
        event_id=event.id,
        webhook_id=webhook_id,
        event_type=event.event_type,
        resource_type=event.resource_type,
        data_type=data.type,
        occurred_at=event.occurred_at,
        received_at=received_at,
        is_latest=is_latest,
        agent=ObjectSummary.of(event.agent),
        incident=_incident_summary(data),
        service=ObjectSummary.of(data.service_reference),
        data=sanitize_json(data.model_dump(mode="json", by_alias=True)),
    )


def incident_state_of(event: WebhookEvent, data: EventData) -> IncidentState | None:
    """The state to record for this event: only incident snapshots carry one."""
    if not isinstance(data, IncidentData):
        return None
    return IncidentState(
        incident_id=data.id,
        occurred_at=event.occurred_at,
        event_id=event.id,
        event_type=event.event_type,
        status=data.status,
        urgency=data.urgency,
        title=data.title,
        priority=data.priority.summary if data.priority else None,
        service_id=data.service.id if data.service else None,
        html_url=data.html_url,
    )


def _incident_summary(data: EventData) -> IncidentSummary | None:
    if isinstance(data, IncidentData):
        return IncidentSummary(
            id=data.id,
            number=data.number,
            title=data.title,
            status=data.status,
            urgency=data.urgency,
            priority=data.priority.summary if data.priority else None,
            incident_key=data.incident_key,
            html_url=data.html_url,
            created_at=data.created_at,
            service=ObjectSummary.of(data.service),
            escalation_policy=ObjectSummary.of(data.escalation_policy),
            assignees=ObjectSummary.all_of(data.assignees),
            teams=ObjectSummary.all_of(data.teams),
        )
    reference = data.incident_reference
    if reference is None:
        return None
    return IncidentSummary(id=reference.id, title=reference.summary, html_url=reference.html_url)
