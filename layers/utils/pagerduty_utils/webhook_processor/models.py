"""pydantic models of PagerDuty Webhooks v3: the envelope and each documented ``data`` shape.

PagerDuty adds fields over time, so every model allows extra fields, and only what the receiver relies on is
required. Text is sanitized while parsing (``pagerduty_utils.validators``). ``data`` is parsed separately from
the envelope (``parse_event_data``) so that an unknown or drifted ``data`` shape never makes a validly signed
delivery fail: the caller decides what to do with ``None``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue
from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils.validators import Identifier, LongText, SafeUrl, ShortText

PING_EVENT_TYPE = "pagey.ping"


class WebhookModel(BaseModel):
    # Built on first use, not at import: a container pays only for the data types it actually receives.
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True, defer_build=True)


class Reference(WebhookModel):
    """A PagerDuty object reference (``*_reference``): enough to name and link the object."""

    id: Identifier
    type: ShortText | None = None
    summary: ShortText | None = None
    self_url: SafeUrl = Field(default=None, validation_alias="self", serialization_alias="self")
    html_url: SafeUrl = None


class EventDataModel(WebhookModel):
    """Base of every ``data`` model: which incident and which service the object belongs to, if any."""

    @property
    def incident_reference(self) -> Reference | None:
        return None

    @property
    def service_reference(self) -> Reference | None:
        return None


class IncidentLinked(EventDataModel):
    """A ``data`` object that belongs to one incident."""

    incident: Reference

    @property
    def incident_reference(self) -> Reference | None:
        return self.incident


class ConferenceBridge(WebhookModel):
    conference_number: ShortText | None = None
    conference_url: SafeUrl = None


class IncidentTypeName(WebhookModel):
    name: ShortText | None = None


class IncidentData(EventDataModel):
    """``data`` of ``incident.*`` lifecycle events: a snapshot of the incident after the change."""

    type: Literal["incident"]
    id: Identifier
    self_url: SafeUrl = Field(default=None, validation_alias="self", serialization_alias="self")
    html_url: SafeUrl = None
    number: int | None = None
    status: ShortText | None = None
    incident_key: ShortText | None = None
    created_at: AwareDatetime | None = None
    reopened_at: AwareDatetime | None = None
    title: ShortText | None = None
    incident_type: IncidentTypeName | None = None
    service: Reference | None = None
    assignees: list[Reference] = Field(default_factory=list)
    escalation_policy: Reference | None = None
    teams: list[Reference] = Field(default_factory=list)
    priority: Reference | None = None
    urgency: ShortText | None = None
    conference_bridge: ConferenceBridge | None = None
    resolve_reason: JsonValue = None

    @property
    def incident_reference(self) -> Reference | None:
        return Reference(id=self.id, type="incident_reference", summary=self.title, html_url=self.html_url)

    @property
    def service_reference(self) -> Reference | None:
        return self.service


class IncidentNoteData(IncidentLinked):
    type: Literal["incident_note"]
    id: Identifier
    content: LongText = ""
    trimmed: bool = False


class IncidentResponderData(IncidentLinked):
    type: Literal["incident_responder"]
    user: Reference | None = None
    escalation_policy: Reference | None = None
    message: LongText | None = None
    state: ShortText | None = None


class IncidentStatusUpdateData(IncidentLinked):
    type: Literal["incident_status_update"]
    id: Identifier
    message: LongText = ""
    trimmed: bool = False


class ConferenceNumber(WebhookModel):
    label: ShortText | None = None
    number: ShortText | None = None


class IncidentConferenceBridgeData(IncidentLinked):
    type: Literal["incident_conference_bridge"]
    conference_numbers: list[ConferenceNumber] = Field(default_factory=list)
    conference_url: SafeUrl = None


class FieldValue(WebhookModel):
    """A custom field value; ``value`` is a string, number, boolean or list depending on ``field_type``."""

    id: Identifier
    name: ShortText
    type: ShortText | None = None
    namespace: ShortText | None = None
    data_type: ShortText | None = None
    field_type: ShortText | None = None
    value: JsonValue = None


class IncidentFieldValuesData(IncidentLinked):
    type: Literal["incident_field_values"]
    custom_fields: list[FieldValue] = Field(default_factory=list)
    changed_custom_fields: list[FieldValue] = Field(default_factory=list)


class RoleAssignment(WebhookModel):
    id: Identifier
    incident: Reference
    role: Reference
    assignee: Reference | None = None
    old_assignee: Reference | None = None
    status: ShortText | None = None
    type: ShortText | None = None


class IncidentRoleAssignmentData(EventDataModel):
    type: Literal["incident_role_assignment"]
    incident_role_assignments: list[RoleAssignment] = Field(min_length=1)

    @property
    def incident_reference(self) -> Reference | None:
        return self.incident_role_assignments[0].incident


class IncidentTaskData(IncidentLinked):
    type: Literal["incident_task"]
    id: Identifier
    name: ShortText | None = None
    description: LongText | None = None
    summary: ShortText | None = None
    status: ShortText | None = None
    assignees: list[Reference] = Field(default_factory=list)


class IncidentWorkflowInstanceData(IncidentLinked):
    type: Literal["incident_workflow_instance"]
    id: Identifier
    summary: ShortText | None = None
    incident_workflow: Reference | None = None
    workflow_trigger: Reference | None = None
    service: Reference | None = None

    @property
    def service_reference(self) -> Reference | None:
        return self.service


class IncidentActionInvocationData(IncidentLinked):
    type: Literal["incident_action_invocation"]
    id: Identifier
    self_url: SafeUrl = Field(default=None, validation_alias="self", serialization_alias="self")
    html_url: SafeUrl = None
    action: Reference | None = None
    state: ShortText | None = None


class ServiceData(EventDataModel):
    type: Literal["service"]
    id: Identifier
    summary: ShortText | None = None
    self_url: SafeUrl = Field(default=None, validation_alias="self", serialization_alias="self")
    html_url: SafeUrl = None
    alert_creation: ShortText | None = None
    teams: list[Reference] = Field(default_factory=list)

    @property
    def service_reference(self) -> Reference | None:
        return Reference(id=self.id, type="service_reference", summary=self.summary, html_url=self.html_url)


class ServiceFieldValuesData(EventDataModel):
    type: Literal["service_field_values"]
    service: Reference
    custom_fields: list[FieldValue] = Field(default_factory=list)
    changed_custom_fields: list[FieldValue] = Field(default_factory=list)

    @property
    def service_reference(self) -> Reference | None:
        return self.service


EventData = (
    IncidentData
    | IncidentNoteData
    | IncidentResponderData
    | IncidentStatusUpdateData
    | IncidentConferenceBridgeData
    | IncidentFieldValuesData
    | IncidentRoleAssignmentData
    | IncidentTaskData
    | IncidentWorkflowInstanceData
    | IncidentActionInvocationData
    | ServiceData
    | ServiceFieldValuesData
)

DATA_MODELS: dict[str, type[EventData]] = {
    "incident": IncidentData,
    "incident_note": IncidentNoteData,
    "incident_responder": IncidentResponderData,
    "incident_status_update": IncidentStatusUpdateData,
    "incident_conference_bridge": IncidentConferenceBridgeData,
    "incident_field_values": IncidentFieldValuesData,
    "incident_role_assignment": IncidentRoleAssignmentData,
    "incident_task": IncidentTaskData,
    "incident_workflow_instance": IncidentWorkflowInstanceData,
    "incident_action_invocation": IncidentActionInvocationData,
    "service": ServiceData,
    "service_field_values": ServiceFieldValuesData,
}


class WebhookClient(WebhookModel):
    name: ShortText | None = None


class WebhookEvent(WebhookModel):
    """``event``: what happened (``event_type``), to what (``resource_type``, ``data``), when and by whom."""

    id: Identifier
    event_type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=128)]
    resource_type: ShortText | None = None
    occurred_at: AwareDatetime
    agent: Reference | None = None
    client: WebhookClient | None = None
    data: dict[str, JsonValue] | None = None


class WebhookEnvelope(WebhookModel):
    event: WebhookEvent


class DataShapeError(ValueError):
    """``data`` names a documented type but does not have its documented shape."""


def parse_event_data(data: dict[str, JsonValue] | None) -> EventData | None:
    """The typed ``data``, or ``None`` when its ``type`` is not one we model (unknown types are not errors).

    Raises ``DataShapeError`` when the type is known but the shape is not (schema drift on PagerDuty's side).
    """
    model = DATA_MODELS.get(str(data.get("type"))) if data is not None else None
    if data is None or model is None:
        return None
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        fields = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
        raise DataShapeError(f"data of type {data.get('type')!r} is invalid at: {', '.join(fields)}") from None
