"""The receiver's rules with in-memory ports: authenticity, replays, once-only processing, fan-out, failures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from pagerduty_utils.exceptions import (
    ConfigurationError,
    DeliveryInProgressError,
    DependencyError,
    MalformedSignatureError,
    SignatureError,
    ValidationError,
)
from pagerduty_utils.webhook_processor.processing import (
    Disposition,
    ReceiverPolicy,
    WebhookProcessor,
    WebhookRequest,
)
from pagerduty_utils.webhook_processor.signature import WebhookSecretSource, sign
from pdutils.testing.webhook_fakes import (
    InMemoryWebhookStateStore,
    RecordingAudit,
    RecordingCounter,
    RecordingPublisher,
    StaticSecrets,
    incident_data,
    webhook_body,
)

SECRET = "current-secret"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass
class Receiver:
    processor: WebhookProcessor
    store: InMemoryWebhookStateStore
    bus: RecordingPublisher
    audit: RecordingAudit
    metrics: RecordingCounter

    def deliver(self, body: bytes, *, signature: str | None = None, webhook_id: str | None = "wh-1") -> Disposition:
        header = signature if signature is not None else sign(body, SECRET.encode())
        request = WebhookRequest(body=body, signature_header=header, webhook_id=webhook_id, request_id="req-1")
        return self.processor.handle(request).disposition


def build_receiver(
    secrets: WebhookSecretSource | None = None, *, store_clock: Callable[[], float] = NOW.timestamp
) -> Receiver:
    store = InMemoryWebhookStateStore(lease_seconds=30, clock=store_clock)
    bus = RecordingPublisher()
    audit = RecordingAudit()
    metrics = RecordingCounter()
    processor = WebhookProcessor(
        secrets=secrets or StaticSecrets(SECRET),
        store=store,
        publisher=bus,
        notifier=bus,
        policy=ReceiverPolicy(replay_window_seconds=3600, lease_seconds=30),
        audit=audit,
        metrics=metrics,
        clock=lambda: NOW,
    )
    return Receiver(processor, store, bus, audit, metrics)


@pytest.fixture
def receiver() -> Receiver:
    return build_receiver()


def body_at(minutes_ago: float, *, event_id: str = "01EVENTA", status: str = "triggered") -> bytes:
    return webhook_body(
        incident_data(status=status),
        event_type=f"incident.{status}",
        event_id=event_id,
        occurred_at=NOW - timedelta(minutes=minutes_ago),
    )


def test_valid_delivery_is_published_recorded_and_notified(receiver: Receiver) -> None:
    assert receiver.deliver(body_at(1)) is Disposition.PROCESSED
    [event] = receiver.bus.published
    assert (event.event_type, event.webhook_id, event.is_latest) == ("incident.triggered", "wh-1", True)
    assert event.incident is not None
    assert event.incident.status == "triggered"
    assert receiver.bus.notified == [event]
    assert receiver.store.incidents["PINC001"].status == "triggered"
    assert receiver.metrics.counts["WebhookProcessed"] == 1


def test_rotation_header_with_one_matching_signature_is_accepted() -> None:
    receiver = build_receiver(StaticSecrets("old-secret", "new-secret"))
    body = body_at(1)
    header = f"{sign(body, b'unknown')},{sign(body, b'new-secret')}"
    assert receiver.deliver(body, signature=header) is Disposition.PROCESSED


@pytest.mark.parametrize(
    "header", ["", "   ", "v1", "v1=abc", "v2=" + "0" * 64, "v1=" + "z" * 64, ",".join(["v1=" + "0" * 64] * 9)]
)
def test_malformed_signature_header_is_refused_audited_and_counted(receiver: Receiver, header: str) -> None:
    with pytest.raises(MalformedSignatureError):
        receiver.deliver(body_at(1), signature=header)
    [record] = receiver.audit.records
    assert (record.action, record.outcome, record.context["request_id"]) == ("webhook.signature", "malformed", "req-1")
    assert receiver.metrics.counts["WebhookSignatureMalformed"] == 1
    assert receiver.bus.published == []


def test_tampered_body_is_refused_audited_and_counted(receiver: Receiver) -> None:
    body = body_at(1)
    tampered = body.replace(b"Disk full", b"Disk fine")
    with pytest.raises(SignatureError) as raised:
        receiver.deliver(tampered, signature=sign(body, SECRET.encode()))
    assert not isinstance(raised.value, MalformedSignatureError)
    assert [(r.action, r.outcome) for r in receiver.audit.records] == [("webhook.signature", "rejected")]
    assert receiver.metrics.counts["WebhookSignatureRejected"] == 1
    assert receiver.bus.published == []
    assert SECRET not in repr(receiver.audit.records)


def test_empty_body_can_never_succeed(receiver: Receiver) -> None:
    with pytest.raises(ValidationError):
        receiver.deliver(b"", signature=sign(b"", SECRET.encode()))


def test_signed_invalid_json_is_a_validation_error(receiver: Receiver) -> None:
    with pytest.raises(ValidationError, match="not a valid webhook envelope"):
        receiver.deliver(b"{not json")


def test_secret_misconfiguration_propagates_as_configuration_error() -> None:
    class BrokenSecrets(WebhookSecretSource):
        def active_secrets(self) -> tuple[bytes, ...]:
            raise ConfigurationError("secret 'pd/webhooks' must be a non-empty JSON list")

    receiver = build_receiver(BrokenSecrets())
    with pytest.raises(ConfigurationError):
        receiver.deliver(body_at(1))


@pytest.mark.parametrize(("minutes_ago", "reason"), [(61, "beyond"), (-6, "in the future")])
def test_stale_or_future_events_are_acknowledged_audited_and_not_processed(
    receiver: Receiver, minutes_ago: float, reason: str
) -> None:
    assert receiver.deliver(body_at(minutes_ago)) is Disposition.IGNORED
    [record] = receiver.audit.records
    assert record.action == "webhook.replay"
    assert reason in (record.reason or "")
    assert receiver.bus.published == []
    assert receiver.store.claims == {}
    assert receiver.metrics.counts["WebhookIgnoredStale"] == 1


@dataclass
class MovableClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()


def test_a_future_event_replayed_at_the_windows_edge_is_not_processed_twice() -> None:
    """An event from a clock running ahead is accepted until it is a window old: done must outlive that."""
    policy = ReceiverPolicy(replay_window_seconds=3600, lease_seconds=30)
    clock = MovableClock(NOW)
    store = InMemoryWebhookStateStore(
        lease_seconds=30, retention_seconds=policy.done_retention_seconds, clock=clock.timestamp
    )
    bus = RecordingPublisher()
    processor = WebhookProcessor(
        secrets=StaticSecrets(SECRET),
        store=store,
        publisher=bus,
        policy=policy,
        audit=RecordingAudit(),
        metrics=RecordingCounter(),
        clock=clock,
    )
    occurred_at = NOW + timedelta(seconds=policy.max_clock_skew_seconds - 1)
    body = webhook_body(incident_data(), event_type="incident.triggered", occurred_at=occurred_at)
    request = WebhookRequest(body, sign(body, SECRET.encode()), webhook_id="wh-1", request_id="req-1")

    assert processor.handle(request).disposition is Disposition.PROCESSED
    clock.now = occurred_at + timedelta(seconds=policy.replay_window_seconds - 1)
    assert processor.handle(request).disposition is Disposition.DUPLICATE
    assert len(bus.published) == 1


def test_ping_and_unknown_types_are_acknowledged_without_processing(receiver: Receiver) -> None:
    ping = webhook_body(None, event_type="pagey.ping", resource_type="pagey", occurred_at=NOW)
    unknown = webhook_body({"id": "X1", "type": "something_new"}, event_type="something.new", occurred_at=NOW)
    assert receiver.deliver(ping) is Disposition.IGNORED
    assert receiver.deliver(unknown) is Disposition.IGNORED
    assert receiver.bus.published == []
    assert receiver.metrics.counts["WebhookIgnoredPing"] == 1
    assert receiver.metrics.counts["WebhookIgnoredUnsupported"] == 1


def test_known_type_with_drifted_shape_is_acknowledged_and_counted(receiver: Receiver) -> None:
    drifted = webhook_body({"type": "incident_note", "id": "N1"}, event_type="incident.annotated", occurred_at=NOW)
    assert receiver.deliver(drifted) is Disposition.IGNORED
    assert receiver.metrics.counts["WebhookDataShapeInvalid"] == 1


def test_sequential_duplicate_is_acknowledged_without_publishing_again(receiver: Receiver) -> None:
    body = body_at(1)
    assert receiver.deliver(body, webhook_id="wh-1") is Disposition.PROCESSED
    # A replay with a fresh (unsigned) X-Webhook-Id header is still the same signed event.
    assert receiver.deliver(body, webhook_id="wh-2") is Disposition.DUPLICATE
    assert len(receiver.bus.published) == 1
    assert receiver.metrics.counts["WebhookDuplicate"] == 1


def test_concurrent_duplicates_publish_once_and_the_other_is_asked_to_retry(receiver: Receiver) -> None:
    body = body_at(1)
    first_is_publishing = threading.Event()
    duplicate_answered = threading.Event()

    def hold_first_publish() -> None:
        first_is_publishing.set()
        assert duplicate_answered.wait(timeout=10)

    receiver.bus.before_publish = hold_first_publish

    def duplicate() -> BaseException | None:
        assert first_is_publishing.wait(timeout=10)
        try:
            receiver.deliver(body)
        except DeliveryInProgressError as error:
            return error
        finally:
            duplicate_answered.set()
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(receiver.deliver, body)
        second = pool.submit(duplicate)
        assert first.result(timeout=10) is Disposition.PROCESSED
        error = second.result(timeout=10)
    assert isinstance(error, DeliveryInProgressError)
    assert error.retry_after == 30
    assert len(receiver.bus.published) == 1
    receiver.bus.before_publish = None
    assert receiver.deliver(body) is Disposition.DUPLICATE


def test_out_of_order_event_is_published_as_not_latest_and_keeps_newer_state(receiver: Receiver) -> None:
    assert receiver.deliver(body_at(1, event_id="E-RESOLVED", status="resolved")) is Disposition.PROCESSED
    assert receiver.deliver(body_at(5, event_id="E-ACKED", status="acknowledged")) is Disposition.PROCESSED
    assert receiver.store.incidents["PINC001"].status == "resolved"
    assert [event.is_latest for event in receiver.bus.published] == [True, False]
    # A stale state is not worth waking anyone up for.
    assert [event.event_id for event in receiver.bus.notified] == ["E-RESOLVED"]


def test_failed_publish_releases_the_claim_so_the_retry_is_processed(receiver: Receiver) -> None:
    body = body_at(1)
    receiver.bus.fail_with = DependencyError("EventBridge PutEvents failed: ThrottlingException")
    with pytest.raises(DependencyError):
        receiver.deliver(body)
    assert receiver.store.claims == {}
    receiver.bus.fail_with = None
    assert receiver.deliver(body) is Disposition.PROCESSED


def test_retry_after_a_crash_is_processed_once_the_lease_expired() -> None:
    clock = [NOW.timestamp()]
    receiver = build_receiver(store_clock=lambda: clock[0])
    body = body_at(1)
    # A crashed invocation: claimed, never completed nor released.
    receiver.store.claim_delivery("01EVENTA")
    with pytest.raises(DeliveryInProgressError):
        receiver.deliver(body)
    clock[0] += 31
    assert receiver.deliver(body) is Disposition.PROCESSED


def test_failure_to_mark_done_still_acknowledges(receiver: Receiver) -> None:
    receiver.store.fail_completion_with = DependencyError("DynamoDB UpdateItem failed: InternalServerError")
    assert receiver.deliver(body_at(1)) is Disposition.PROCESSED
    assert receiver.metrics.counts["WebhookCompletionFailed"] == 1


def test_state_store_failure_is_retryable(receiver: Receiver) -> None:
    receiver.store.fail_with = DependencyError("DynamoDB TransactWriteItems failed: ThrottlingException")
    with pytest.raises(DependencyError):
        receiver.deliver(body_at(1))
    assert receiver.bus.published == []


def test_non_incident_events_are_published_without_state(receiver: Receiver) -> None:
    note = {
        "type": "incident_note",
        "id": "PNOTE01",
        "content": "Rolled back\x07 <b>v2</b>",
        "incident": {"id": "PINC001", "type": "incident_reference", "summary": "Disk full"},
    }
    assert (
        receiver.deliver(webhook_body(note, event_type="incident.annotated", occurred_at=NOW)) is Disposition.PROCESSED
    )
    [event] = receiver.bus.published
    assert event.is_latest is None
    assert receiver.store.incidents == {}
    assert event.incident is not None
    assert event.incident.id == "PINC001"
    assert isinstance(event.data, dict)
    assert event.data["content"] == "Rolled back <b>v2</b>"
    assert receiver.bus.notified == []
