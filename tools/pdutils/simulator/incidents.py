"""Incident lifecycle shared by the Events API (alerts open incidents) and the REST API.

Every status change goes through ``IncidentLifecycle`` so the REST views, the alert that backs an incident
and the Webhooks v3 events always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pdutils.simulator.state import WEB_HOST, AlertStatus, Incident, Note, SimulatorState, new_id, utc_now
from pdutils.simulator.webhooks import WebhookDispatcher, envelope

DEFAULT_ESCALATION_POLICY_ID = "PSIMEP1"
SIMULATED_USER_ID = "PSIMUS1"
SIMULATED_USER_EMAIL = "simulated.user@example.com"
STATUS_EVENT_TYPES: dict[str, str] = {
    "triggered": "incident.triggered",
    "acknowledged": "incident.acknowledged",
    "resolved": "incident.resolved",
}


def _reference(kind: str, identifier: str, summary: str, api_url: str, collection: str) -> dict[str, Any]:
    return {
        "id": identifier,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"{api_url}/{collection}/{identifier}",
        "html_url": f"{WEB_HOST}/{collection}/{identifier}",
    }


def user_reference(api_url: str, email: str = SIMULATED_USER_EMAIL) -> dict[str, Any]:
    return _reference("user", SIMULATED_USER_ID, email.split("@", 1)[0], api_url, "users")


@dataclass
class IncidentLifecycle:
    """Creates incidents, changes their status and notes, and publishes the matching webhooks."""

    state: SimulatorState
    webhooks: WebhookDispatcher
    api_url: str = ""

    def open(
        self,
        *,
        title: str,
        service_id: str,
        incident_key: str,
        urgency: str = "high",
        details: str | None = None,
        agent: dict[str, Any] | None,
        client: dict[str, Any] | None = None,
    ) -> Incident:
        with self.state.lock:
            incident = Incident(
                id=new_id(),
                number=self.state.next_number(),
                title=title,
                service_id=service_id,
                incident_key=incident_key,
                urgency=urgency,
                details=details,
            )
            self.state.incidents[incident.id] = incident
            self._publish("incident.triggered", incident, agent, client)
        return incident

    def change_status(
        self,
        incident: Incident,
        status: AlertStatus,
        *,
        agent: dict[str, Any] | None,
        client: dict[str, Any] | None = None,
    ) -> None:
        """Move ``incident`` to ``status`` and announce it; nothing happens when that is no change, or when the
        incident is already resolved (PagerDuty's resolved incidents stay resolved)."""
        with self.state.lock:
            if incident.status in {status, "resolved"}:
                return
            incident.status = status
            incident.updated_at = utc_now()
            if status == "resolved":
                incident.resolved_at = incident.updated_at
            self._sync_backing_alert(incident, status)
            self._publish(STATUS_EVENT_TYPES[status], incident, agent, client)

    def add_note(self, incident: Incident, content: str, user_email: str) -> Note:
        with self.state.lock:
            note = Note(id=new_id("P", 7), content=content, user_email=user_email)
            incident.notes.append(note)
            data = {
                "id": note.id,
                "type": "incident_note",
                "content": note.content,
                "trimmed": False,
                "incident": _reference("incident", incident.id, incident.title, self.api_url, "incidents"),
            }
            agent = user_reference(self.api_url, user_email)
            self.webhooks.publish(envelope("incident.annotated", data, agent=agent, client=None))
        return note

    def _sync_backing_alert(self, incident: Incident, status: AlertStatus) -> None:
        """Keep the alert an incident came from in step when the incident changes through REST."""
        for alert in self.state.alerts.values():
            if alert.incident_id == incident.id and alert.status != "resolved":
                alert.status = status

    def _publish(
        self, event_type: str, incident: Incident, agent: dict[str, Any] | None, client: dict[str, Any] | None
    ) -> None:
        self.webhooks.publish(envelope(event_type, self.webhook_view(incident), agent=agent, client=client))

    def service_reference(self, service_id: str) -> dict[str, Any]:
        service = self.state.services.get(service_id)
        name = service.name if service is not None else service_id
        return _reference("service", service_id, name, self.api_url, "services")

    def escalation_policy_reference(self) -> dict[str, Any]:
        return _reference(
            "escalation_policy", DEFAULT_ESCALATION_POLICY_ID, "Default", self.api_url, "escalation_policies"
        )

    def webhook_view(self, incident: Incident) -> dict[str, Any]:
        """The incident as Webhooks v3 ``data`` carries it."""
        return {
            "id": incident.id,
            "type": "incident",
            "self": f"{self.api_url}/incidents/{incident.id}",
            "html_url": f"{WEB_HOST}/incidents/{incident.id}",
            "number": incident.number,
            "status": incident.status,
            "incident_key": incident.incident_key,
            "created_at": incident.created_at,
            "title": incident.title,
            "service": self.service_reference(incident.service_id),
            "assignees": [user_reference(self.api_url)],
            "escalation_policy": self.escalation_policy_reference(),
            "teams": [],
            "priority": None,
            "urgency": incident.urgency,
            "conference_bridge": None,
            "resolve_reason": None,
        }

    def rest_view(self, incident: Incident) -> dict[str, Any]:
        """The incident as the REST API returns it."""
        alerts = [alert for alert in self.state.alerts.values() if alert.incident_id == incident.id]
        resolved = sum(1 for alert in alerts if alert.status == "resolved")
        view: dict[str, Any] = {
            "id": incident.id,
            "type": "incident",
            "summary": f"[#{incident.number}] {incident.title}",
            "self": f"{self.api_url}/incidents/{incident.id}",
            "html_url": f"{WEB_HOST}/incidents/{incident.id}",
            "incident_number": incident.number,
            "title": incident.title,
            "status": incident.status,
            "incident_key": incident.incident_key,
            "urgency": incident.urgency,
            "created_at": incident.created_at,
            "updated_at": incident.updated_at,
            "last_status_change_at": incident.updated_at,
            "resolved_at": incident.resolved_at,
            "service": self.service_reference(incident.service_id),
            "assignments": [{"at": incident.created_at, "assignee": user_reference(self.api_url)}],
            "escalation_policy": self.escalation_policy_reference(),
            "teams": [],
            "priority": None,
            "alert_counts": {"all": len(alerts), "triggered": len(alerts) - resolved, "resolved": resolved},
        }
        if incident.details is not None:
            view["body"] = {"type": "incident_body", "details": incident.details}
        return view

    def note_view(self, note: Note) -> dict[str, Any]:
        return {
            "id": note.id,
            "content": note.content,
            "created_at": note.created_at,
            "user": user_reference(self.api_url, note.user_email),
            "channel": {"summary": "The PagerDuty website or APIs"},
        }
