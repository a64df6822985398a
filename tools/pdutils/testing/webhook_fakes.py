"""In-memory stand-ins for the webhook receiver's outbound ports, for tests and the receiver benchmark.

``InMemoryWebhookStateStore`` keeps the same promises as the DynamoDB adapter (atomic claim, lease, stale state
refused) under a lock, so concurrency tests exercise the processor's rules without a network.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pagerduty_utils.audit_logger import AuditField, AuditLogger
from pagerduty_utils.jwt_tokens import SigningKeys
from pagerduty_utils.webhook_processor.event_publisher import EventPublisher, NotificationPublisher
from pagerduty_utils.webhook_processor.incident_state import (
    ClaimResult,
    ClaimStatus,
    DeliveryClaim,
    IncidentState,
    WebhookStateStore,
)
from pagerduty_utils.webhook_processor.normalized import NormalizedIncidentEvent
from pagerduty_utils.webhook_processor.signature import WebhookSecretSource

JsonObject = dict[str, Any]


class StaticSecrets(WebhookSecretSource):
    def __init__(self, *values: str) -> None:
        self._values = tuple(value.encode() for value in values)

    def active_secrets(self) -> tuple[bytes, ...]:
        return self._values


class StaticSigningKeys(SigningKeys):
    """Health token keys, the signing key first."""

    def __init__(self, *keys: str) -> None:
        self._keys = tuple(key.encode() for key in keys)

    def active(self) -> tuple[bytes, ...]:
        return self._keys


@dataclass
class _Claim:
    token: str
    done: bool
    expires: float


class InMemoryWebhookStateStore(WebhookStateStore):
    def __init__(
        self,
        *,
        lease_seconds: float = 30,
        retention_seconds: float = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.claims: dict[str, _Claim] = {}
        self.incidents: dict[str, IncidentState] = {}
        self.fail_with: Exception | None = None
        self.fail_completion_with: Exception | None = None
        self._lease_seconds = lease_seconds
        self._retention_seconds = retention_seconds
        self._clock = clock
        self._lock = threading.Lock()

    def claim_delivery(self, delivery_id: str, *, incident_state: IncidentState | None = None) -> ClaimResult:
        if self.fail_with is not None:
            raise self.fail_with
        with self._lock:
            now = self._clock()
            existing = self.claims.get(delivery_id)
            if existing is not None and existing.expires >= now:
                return ClaimResult(ClaimStatus.DUPLICATE if existing.done else ClaimStatus.IN_PROGRESS)
            is_latest = None
            if incident_state is not None:
                stored = self.incidents.get(incident_state.incident_id)
                is_latest = stored is None or stored.occurred_at <= incident_state.occurred_at
                if is_latest:
                    self.incidents[incident_state.incident_id] = incident_state
            claim = DeliveryClaim(delivery_id=delivery_id, token=uuid.uuid4().hex)
            self.claims[delivery_id] = _Claim(token=claim.token, done=False, expires=now + self._lease_seconds)
            return ClaimResult(ClaimStatus.CLAIMED, claim=claim, is_latest=is_latest)

    def complete_delivery(self, claim: DeliveryClaim) -> None:
        if self.fail_completion_with is not None:
            raise self.fail_completion_with
        with self._lock:
            stored = self.claims.get(claim.delivery_id)
            if stored is not None and stored.token == claim.token:
                stored.done = True
                stored.expires = self._clock() + self._retention_seconds

    def release_delivery(self, claim: DeliveryClaim) -> None:
        with self._lock:
            stored = self.claims.get(claim.delivery_id)
            if stored is not None and stored.token == claim.token:
                del self.claims[claim.delivery_id]


class RecordingPublisher(EventPublisher, NotificationPublisher):
    """Records what it is asked to publish or notify; ``fail_with`` makes the next calls raise."""

    def __init__(self) -> None:
        self.published: list[NormalizedIncidentEvent] = []
        self.notified: list[NormalizedIncidentEvent] = []
        self.fail_with: Exception | None = None
        self.before_publish: Callable[[], None] | None = None

    def publish(self, event: NormalizedIncidentEvent) -> None:
        if self.before_publish is not None:
            self.before_publish()
        if self.fail_with is not None:
            raise self.fail_with
        self.published.append(event)

    def notify(self, event: NormalizedIncidentEvent) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.notified.append(event)


@dataclass(frozen=True)
class AuditRecord:
    action: str
    outcome: str
    reason: str | None
    context: dict[str, AuditField]


class RecordingAudit(AuditLogger):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[AuditRecord] = []

    def record(self, action: str, outcome: str, *, reason: str | None = None, **context: AuditField) -> None:
        self.records.append(AuditRecord(action, outcome, reason, dict(context)))


@dataclass
class RecordingCounter:
    counts: Counter[str] = field(default_factory=Counter)

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:  # noqa: ARG002  # same signature
        self.counts[name] += int(value)


def incident_data(incident_id: str = "PINC001", *, status: str = "triggered", title: str = "Disk full") -> JsonObject:
    """A minimal ``data`` of type ``incident`` (an incident snapshot)."""
    return {
        "id": incident_id,
        "type": "incident",
        "html_url": f"https://acme.pagerduty.com/incidents/{incident_id}",
        "number": 7,
        "status": status,
        "title": title,
        "urgency": "high",
        "service": {"id": "PSVC001", "type": "service_reference", "summary": "Checkout"},
        "priority": {"id": "PPRI001", "type": "priority_reference", "summary": "P1"},
    }


def webhook_body(
    data: JsonObject | None,
    *,
    event_type: str = "incident.triggered",
    event_id: str = "01EVENT0000000000000000001",
    occurred_at: datetime | None = None,
    resource_type: str = "incident",
) -> bytes:
    """A Webhooks v3 body, serialized once: sign these exact bytes."""
    moment = occurred_at or datetime.now(UTC)
    envelope = {
        "event": {
            "id": event_id,
            "event_type": event_type,
            "resource_type": resource_type,
            "occurred_at": moment.isoformat().replace("+00:00", "Z"),
            "agent": {"id": "PUSER01", "type": "user_reference", "summary": "Ada"},
            "client": None,
            "data": data,
        }
    }
    return json.dumps(envelope, separators=(",", ":")).encode()
