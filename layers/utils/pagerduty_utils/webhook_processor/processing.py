"""The webhook receiver's rules: verify, parse, refuse replays, process each event once, fan out.

``WebhookProcessor.handle`` either returns an outcome (always answered 2xx) or raises a domain error that
``error_handler`` maps to a status. The rules that keep a PagerDuty subscription alive live here:

- forgeries are refused (400 malformed header, 403 no matching signature), audited and counted;
- everything validly signed that we cannot or need not process is acknowledged with 2xx: ``pagey.ping``,
  unknown event types, a ``data`` shape that drifted from the documentation, stale events (replays), duplicates;
- a failure on our side (DynamoDB, EventBridge, SNS, secrets) raises a retryable error: 5xx, PagerDuty retries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from pydantic import ValidationError as PydanticValidationError

from pagerduty_utils.audit_logger import AuditLogger
from pagerduty_utils.exceptions import (
    DeliveryInProgressError,
    MalformedSignatureError,
    PagerDutyUtilsError,
    SignatureError,
    ValidationError,
)
from pagerduty_utils.observability import logger
from pagerduty_utils.validators import is_identifier
from pagerduty_utils.webhook_processor.event_publisher import EventPublisher, NotificationPublisher
from pagerduty_utils.webhook_processor.incident_state import ClaimStatus, DeliveryClaim, WebhookStateStore
from pagerduty_utils.webhook_processor.models import (
    PING_EVENT_TYPE,
    DataShapeError,
    EventData,
    IncidentData,
    WebhookEnvelope,
    WebhookEvent,
    parse_event_data,
)
from pagerduty_utils.webhook_processor.normalized import incident_state_of, normalize
from pagerduty_utils.webhook_processor.signature import (
    WebhookSecretSource,
    is_authentic,
    parse_signature_header,
)


class MetricsCounter(Protocol):
    """What the processor needs of ``pagerduty_utils.metrics_collector.MetricsCollector``."""

    def count(self, name: str, value: float = 1, **dimensions: str) -> None: ...


@dataclass(frozen=True)
class WebhookRequest:
    """One delivery as received: the raw body bytes exactly as signed, and the headers we use."""

    body: bytes
    signature_header: str | None
    webhook_id: str | None
    request_id: str


class Disposition(StrEnum):
    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True)
class WebhookOutcome:
    disposition: Disposition
    event_id: str | None = None
    reason: str | None = None

    def body(self) -> dict[str, str]:
        document = {"status": self.disposition.value}
        if self.event_id:
            document["event_id"] = self.event_id
        if self.reason:
            document["reason"] = self.reason
        return document


@dataclass(frozen=True)
class ReceiverPolicy:
    replay_window_seconds: int
    lease_seconds: int
    max_clock_skew_seconds: int = 300

    @property
    def done_retention_seconds(self) -> int:
        """How long a processed delivery is remembered: as long as a replay of it would still be accepted.

        An event up to ``max_clock_skew_seconds`` in the future is accepted, and is then accepted until it is
        ``replay_window_seconds`` old: up to window + skew after it was processed. The lease covers the time
        between claiming the delivery and marking it done.
        """
        return self.replay_window_seconds + self.max_clock_skew_seconds + self.lease_seconds


def utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookProcessor:
    def __init__(
        self,
        *,
        secrets: WebhookSecretSource,
        store: WebhookStateStore,
        publisher: EventPublisher,
        policy: ReceiverPolicy,
        audit: AuditLogger,
        metrics: MetricsCounter,
        notifier: NotificationPublisher | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._secrets = secrets
        self._store = store
        self._publisher = publisher
        self._notifier = notifier
        self._policy = policy
        self._audit = audit
        self._metrics = metrics
        self._clock = clock

    def handle(self, request: WebhookRequest) -> WebhookOutcome:
        self._authenticate(request)
        event = _parse_envelope(request.body).event
        if event.event_type == PING_EVENT_TYPE:
            logger.info("ping received", extra={"event_id": event.id})
            return self._ignored(event, "ping")
        stale_reason = self._staleness(event)
        if stale_reason:
            self._audit.record(
                "webhook.replay", "ignored", reason=stale_reason, event_id=event.id, request_id=request.request_id
            )
            return self._ignored(event, "stale")
        data = self._typed_data(event)
        if data is None:
            return self._ignored(event, "unsupported")
        return self._process_once(request, event, data)

    def _authenticate(self, request: WebhookRequest) -> None:
        if not request.body:
            raise ValidationError("body is empty")
        try:
            signatures = parse_signature_header(request.signature_header)
        except MalformedSignatureError as error:
            self._refuse_signature("malformed", str(error), request)
            raise
        if not is_authentic(request.body, signatures, self._secrets.active_secrets()):
            self._refuse_signature("rejected", "no signature matches an active secret", request)
            raise SignatureError("no signature matches an active secret")

    def _refuse_signature(self, outcome: str, reason: str, request: WebhookRequest) -> None:
        self._audit.record(
            "webhook.signature",
            outcome,
            reason=reason,
            request_id=request.request_id,
            webhook_id=_safe_identifier(request.webhook_id),
        )
        self._count(f"WebhookSignature{outcome.capitalize()}")

    def _staleness(self, event: WebhookEvent) -> str | None:
        age = (self._clock() - event.occurred_at).total_seconds()
        if age > self._policy.replay_window_seconds:
            return f"occurred_at is {int(age)} s old, beyond the {self._policy.replay_window_seconds} s window"
        if -age > self._policy.max_clock_skew_seconds:
            return f"occurred_at is {int(-age)} s in the future"
        return None

    def _typed_data(self, event: WebhookEvent) -> EventData | None:
        try:
            data = parse_event_data(event.data)
        except DataShapeError as error:
            logger.error(
                "event data does not match its documented shape", extra={"event_id": event.id, "reason": str(error)}
            )
            self._count("WebhookDataShapeInvalid")
            return None
        if data is None:
            logger.info("event type not supported", extra={"event_id": event.id, "event_type": event.event_type})
        return data

    def _process_once(self, request: WebhookRequest, event: WebhookEvent, data: EventData) -> WebhookOutcome:
        result = self._store.claim_delivery(event.id, incident_state=incident_state_of(event, data))
        if result.status is ClaimStatus.DUPLICATE:
            logger.info("duplicate delivery acknowledged", extra={"event_id": event.id})
            self._count("WebhookDuplicate")
            return WebhookOutcome(Disposition.DUPLICATE, event_id=event.id)
        if result.status is ClaimStatus.IN_PROGRESS or result.claim is None:
            self._count("WebhookInProgress")
            raise DeliveryInProgressError(
                "the same event is being processed by another request", retry_after=self._policy.lease_seconds
            )
        try:
            normalized = normalize(
                event,
                data,
                webhook_id=_safe_identifier(request.webhook_id),
                received_at=self._clock(),
                is_latest=result.is_latest,
            )
            self._publisher.publish(normalized)
            if self._notifier is not None and isinstance(data, IncidentData) and result.is_latest is not False:
                self._notifier.notify(normalized)
        except Exception:
            self._release(result.claim)
            raise
        self._complete(result.claim)
        self._count("WebhookProcessed")
        logger.info(
            "event published",
            extra={"event_id": event.id, "event_type": event.event_type, "is_latest": result.is_latest},
        )
        return WebhookOutcome(Disposition.PROCESSED, event_id=event.id)

    def _release(self, claim: DeliveryClaim) -> None:
        try:
            self._store.release_delivery(claim)
        except PagerDutyUtilsError as error:
            logger.warning("claim not released; it expires with its lease", extra={"reason": str(error)})

    def _complete(self, claim: DeliveryClaim) -> None:
        # The event is out: answering 5xx now would only publish it again. An unmarked claim expires with its
        # lease, and PagerDuty does not redeliver what we acknowledged.
        try:
            self._store.complete_delivery(claim)
        except PagerDutyUtilsError as error:
            logger.warning("delivery not marked done", extra={"reason": str(error), "event_id": claim.delivery_id})
            self._count("WebhookCompletionFailed")

    def _ignored(self, event: WebhookEvent, reason: str) -> WebhookOutcome:
        self._count(f"WebhookIgnored{reason.capitalize()}")
        return WebhookOutcome(Disposition.IGNORED, event_id=event.id, reason=reason)

    def _count(self, name: str) -> None:
        self._metrics.count(name)


def _parse_envelope(body: bytes) -> WebhookEnvelope:
    try:
        return WebhookEnvelope.model_validate_json(body)
    except PydanticValidationError as error:
        fields = sorted({".".join(str(part) for part in item["loc"]) or "body" for item in error.errors()})
        raise ValidationError(f"payload is not a valid webhook envelope (at: {', '.join(fields)[:200]})") from None


def _safe_identifier(value: str | None) -> str | None:
    return value if value and is_identifier(value) else None
