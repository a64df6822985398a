"""Events API v2 semantics: alerts deduplicated by key, per-routing-key throttling, change events.

- A trigger with no dedup_key gets a generated one; a trigger for an open alert (same routing key and
  dedup_key) is appended to it and opens nothing new; otherwise it opens an alert and its incident.
- acknowledge and resolve reach only an open alert through the same routing key; otherwise they are
  accepted (202) and change nothing, as PagerDuty does.
- Over the per-routing-key budget the event is refused with 429 and not ingested.
- PagerDuty's documented limits are enforced: a 32-character routing key, a dedup_key of at most 255
  characters, an event of at most 512 KB.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pdutils.simulator.incidents import IncidentLifecycle
from pdutils.simulator.openapi import events_prose_rules
from pdutils.simulator.ratelimit import SlidingWindowLimiter
from pdutils.simulator.replies import APIError, Reply
from pdutils.simulator.state import Alert, SimulatorState, utc_now

ROUTING_KEY_LENGTH = 32
MAX_DEDUP_KEY_LENGTH = 255
MAX_EVENT_BYTES = 512 * 1024
EVENT_ACTIONS = frozenset({"trigger", "acknowledge", "resolve"})
SEVERITY_URGENCY = {"critical": "high", "error": "high", "warning": "low", "info": "low"}


def accepted(dedup_key: str | None = None, message: str = "Event processed") -> Reply:
    body: dict[str, Any] = {"status": "success", "message": message}
    if dedup_key is not None:
        body["dedup_key"] = dedup_key
    return Reply(202, body)


@dataclass
class EventsAPI:
    state: SimulatorState
    lifecycle: IncidentLifecycle
    limiter: SlidingWindowLimiter

    def _admit(self, event: Any, size: int) -> str:
        """The event's routing key, once it passes the checks PagerDuty makes before ingesting anything."""
        if not isinstance(event, dict):
            raise APIError(400, ["Event object format is unrecognized"])
        if size > MAX_EVENT_BYTES:
            raise APIError(400, [f"Event is {size} bytes; the limit is {MAX_EVENT_BYTES} (512 KB)"])
        routing_key = event.get("routing_key")
        if not isinstance(routing_key, str) or len(routing_key) != ROUTING_KEY_LENGTH:
            raise APIError(400, [f"Length of 'routing_key' is incorrect (should be {ROUTING_KEY_LENGTH} characters)"])
        return routing_key

    def _throttle(self, routing_key: str) -> dict[str, str]:
        """The rate-limit headers for an admitted event; 429 (event not ingested) when over budget."""
        decision = self.limiter.check(routing_key)
        if not decision.allowed:
            raise APIError(429, headers=decision.headers())
        return decision.headers()

    def enqueue(self, event: Any, size: int) -> Reply:
        """Apply one alert event (``size``: its body in bytes)."""
        routing_key = self._admit(event, size)
        action = event.get("event_action")
        problems = events_prose_rules("/v2/enqueue", event)
        if action not in EVENT_ACTIONS:
            problems.append(f"event_action: must be one of {sorted(EVENT_ACTIONS)}")
        if len(str(event.get("dedup_key") or "")) > MAX_DEDUP_KEY_LENGTH:
            problems.append(f"dedup_key: longer than {MAX_DEDUP_KEY_LENGTH} characters")
        if problems:
            raise APIError(400, problems)
        headers = self._throttle(routing_key)
        reply = self._trigger(routing_key, event) if action == "trigger" else self._follow_up(routing_key, event)
        reply.headers.update(headers)
        return reply

    def _follow_up(self, routing_key: str, event: dict[str, Any]) -> Reply:
        action = event["event_action"]
        dedup_key: str = event["dedup_key"]
        with self.state.lock:
            alert = self.state.open_alert(routing_key, dedup_key)
            if alert is None:
                return accepted(dedup_key)
            alert.events.append({**event, "received_at": utc_now()})
            alert.status = "acknowledged" if action == "acknowledge" else "resolved"
            incident = self.state.incidents.get(alert.incident_id)
            if incident is not None:
                self.lifecycle.change_status(incident, alert.status, agent=self._agent(routing_key), client=None)
        return accepted(dedup_key)

    def _trigger(self, routing_key: str, event: dict[str, Any]) -> Reply:
        dedup_key = event.get("dedup_key") or uuid.uuid4().hex
        payload = event["payload"] if isinstance(event["payload"], dict) else {}
        record = {**event, "dedup_key": dedup_key, "received_at": utc_now()}
        summary = str(payload.get("summary", ""))
        severity = str(payload.get("severity", ""))
        with self.state.lock:
            alert = self.state.open_alert(routing_key, dedup_key)
            if alert is not None:
                alert.events.append(record)
                return accepted(dedup_key)
            previous = self.state.alerts.get((routing_key, dedup_key))
            if previous is not None:
                self.state.closed_alerts.append(previous)
            service = self.state.service_for_routing_key(routing_key)
            client = {"name": event["client"]} if event.get("client") else None
            incident = self.lifecycle.open(
                title=summary,
                service_id=service.id,
                incident_key=dedup_key,
                urgency=SEVERITY_URGENCY.get(severity, "high"),
                agent=self._agent(routing_key),
                client=client,
            )
            self.state.alerts[(routing_key, dedup_key)] = Alert(
                routing_key=routing_key,
                dedup_key=dedup_key,
                status="triggered",
                summary=summary,
                severity=severity,
                incident_id=incident.id,
                events=[record],
            )
        return accepted(dedup_key)

    def change(self, event: Any, size: int) -> Reply:
        """Record one change event (``size``: its body in bytes)."""
        headers = self._throttle(self._admit(event, size))
        with self.state.lock:
            self.state.change_events.append({**event, "received_at": utc_now()})
        reply = accepted(message="Change event processed")
        reply.headers.update(headers)
        return reply

    def _agent(self, routing_key: str) -> dict[str, Any]:
        """Events-driven changes are made by the service's integration, as PagerDuty reports them."""
        service = self.state.service_for_routing_key(routing_key)
        return self.lifecycle.service_reference(service.id)
