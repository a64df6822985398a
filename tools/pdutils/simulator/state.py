"""What the simulator has seen and holds: requests, alerts, incidents, services, webhook deliveries.

Every object has ``to_dict()`` so the same state serves tests (Python objects) and other processes
(``GET /_sim/state``). The HTTP handler threads and the webhook worker share one ``SimulatorState``; callers
mutate it under ``state.lock``.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

AlertStatus = Literal["triggered", "acknowledged", "resolved"]
OPEN_STATUSES: frozenset[str] = frozenset({"triggered", "acknowledged"})
DEFAULT_SERVICE_ID = "PSIMSV1"
DEFAULT_SERVICE_NAME = "Simulated service"
WEB_HOST = "https://simulator.pagerduty.local"
DROPS_BEFORE_DISABLING = 3


def utc_now() -> str:
    """An ISO 8601 UTC timestamp with milliseconds, as PagerDuty writes them."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id(prefix: str = "Q", length: int = 14) -> str:
    """A PagerDuty-looking object id: uppercase, ``length`` characters (incidents 14, most objects 7)."""
    return prefix + uuid.uuid4().hex[: length - len(prefix)].upper()


@dataclass
class RecordedRequest:
    """One request as received, with its validation result and the answer given (``status`` None: none).

    ``validated`` is False when no OpenAPI validation ran (files absent, or validation disabled).
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    received_at: str
    validated: bool = False
    validation_errors: list[str] = field(default_factory=list)
    status: int | None = None
    fault: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Service:
    id: str
    name: str
    routing_key: str | None = None
    created_at: str = field(default_factory=utc_now)

    def reference(self, api_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "service_reference",
            "summary": self.name,
            "self": f"{api_url}/services/{self.id}",
            "html_url": f"{WEB_HOST}/services/{self.id}",
        }

    def to_dict(self, api_url: str = "") -> dict[str, Any]:
        return {
            **self.reference(api_url),
            "type": "service",
            "name": self.name,
            "description": self.name,
            "status": "active",
            "created_at": self.created_at,
            "alert_creation": "create_alerts_and_incidents",
        }


@dataclass
class AuditEntry:
    """A configuration change, as the audit trail (``/audit/records``, cursor-paginated) reports it."""

    id: str
    service_id: str
    action: str
    method: str
    execution_time: str = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Alert:
    """An Events API alert: one per open (routing_key, dedup_key); later events on it are appended."""

    routing_key: str
    dedup_key: str
    status: AlertStatus
    summary: str
    severity: str
    incident_id: str
    created_at: str = field(default_factory=utc_now)
    events: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Note:
    id: str
    content: str
    user_email: str
    created_at: str = field(default_factory=utc_now)


@dataclass
class Incident:
    id: str
    number: int
    title: str
    service_id: str
    incident_key: str
    urgency: str
    status: AlertStatus = "triggered"
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    resolved_at: str | None = None
    details: str | None = None
    notes: list[Note] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WebhookDelivery:
    """One attempt to deliver one webhook event (``status`` None: no answer, ``error`` says why)."""

    subscription_id: str
    webhook_id: str
    event_type: str
    url: str
    attempt: int
    status: int | None
    error: str | None
    delivered_at: str = field(default_factory=utc_now)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WebhookSubscription:
    """Where webhooks go. Like PagerDuty's, it is disabled after ``DROPS_BEFORE_DISABLING`` dropped deliveries
    in a row (PagerDuty re-enables it after 24 hours; here ``reset`` forgets it)."""

    id: str
    url: str
    secret: str = field(repr=False)
    event_types: frozenset[str] | None = None
    consecutive_drops: int = 0

    def wants(self, event_type: str) -> bool:
        return not self.disabled and (self.event_types is None or event_type in self.event_types)

    @property
    def disabled(self) -> bool:
        return self.consecutive_drops >= DROPS_BEFORE_DISABLING

    def to_dict(self) -> dict[str, Any]:
        types = sorted(self.event_types) if self.event_types is not None else None
        return {"id": self.id, "url": self.url, "event_types": types, "disabled": self.disabled}


def service_id_for(routing_key: str) -> str:
    """A stable, PagerDuty-looking service id for the integration a routing key belongs to."""
    return "P" + hashlib.sha256(routing_key.encode()).hexdigest()[:6].upper()


@dataclass
class SimulatorState:
    """Everything the simulator knows; reset between tests."""

    requests: list[RecordedRequest] = field(default_factory=list)
    alerts: dict[tuple[str, str], Alert] = field(default_factory=dict)
    closed_alerts: list[Alert] = field(default_factory=list)
    change_events: list[dict[str, Any]] = field(default_factory=list)
    incidents: dict[str, Incident] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    webhook_deliveries: list[WebhookDelivery] = field(default_factory=list)
    audit_trail: list[AuditEntry] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False, compare=False)

    def __post_init__(self) -> None:
        self.services.setdefault(DEFAULT_SERVICE_ID, Service(DEFAULT_SERVICE_ID, DEFAULT_SERVICE_NAME))

    def add_service(self, service: Service, method: str = "api_token") -> Service:
        """Register ``service`` and write its creation to the audit trail."""
        with self.lock:
            self.services[service.id] = service
            entry_id = f"{len(self.audit_trail) + 1:04d}{service.id}"
            self.audit_trail.append(AuditEntry(entry_id, service.id, "create", method))
        return service

    def next_number(self) -> int:
        return next(self._numbers)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.alerts.clear()
            self.closed_alerts.clear()
            self.change_events.clear()
            self.incidents.clear()
            self.services.clear()
            self.webhook_deliveries.clear()
            self.audit_trail.clear()
            self._numbers = itertools.count(1)
            self.__post_init__()

    def service_for_routing_key(self, routing_key: str) -> Service:
        """The service whose Events integration ``routing_key`` is, created the first time it is seen."""
        for service in self.services.values():
            if service.routing_key == routing_key:
                return service
        service = Service(service_id_for(routing_key), f"Events integration {routing_key[:6]}", routing_key)
        return self.add_service(service, method="other")

    def open_alert(self, routing_key: str, dedup_key: str) -> Alert | None:
        alert = self.alerts.get((routing_key, dedup_key))
        return alert if alert is not None and alert.status in OPEN_STATUSES else None

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": [request.to_dict() for request in self.requests],
                "alerts": [alert.to_dict() for alert in self.alerts.values()],
                "closed_alerts": [alert.to_dict() for alert in self.closed_alerts],
                "change_events": list(self.change_events),
                "incidents": [incident.to_dict() for incident in self.incidents.values()],
                "services": [service.to_dict() for service in self.services.values()],
                "webhook_deliveries": [delivery.to_dict() for delivery in self.webhook_deliveries],
                "audit_trail": [entry.to_dict() for entry in self.audit_trail],
            }
