"""What the forwarder's pipeline takes and gives: messages in, one outcome per message out, and the seams
(planner, sender, circuit) that the handler wires to real adapters and tests to fakes."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pagerduty_utils.pagerduty_events import AlertEvent, ChangeEvent


class Verdict(StrEnum):
    DELIVERED = "delivered"
    SKIPPED = "skipped"
    DROPPED = "dropped"
    DEAD_LETTERED = "dead_lettered"
    RETRY = "retry"


@dataclass(frozen=True)
class InboundMessage:
    """One received message: ``content`` is what the mapping reads, ``body`` what the DLQ keeps verbatim.

    ``sent_at`` orders events whose source gives no time of its own.
    """

    message_id: str
    content: str | Mapping[str, Any]
    body: str
    sent_at: datetime
    attributes: Mapping[str, Any] = field(default_factory=dict)
    receipt_handle: str | None = None
    queue_arn: str | None = None
    receive_count: int = 1


@dataclass(frozen=True)
class Plan:
    """What one message turns into: alert events and change events to send, alerts dropped by rule, alerts that
    cannot be routed."""

    events: tuple[AlertEvent, ...] = ()
    changes: tuple[ChangeEvent, ...] = ()
    dropped: int = 0
    unroutable: tuple[str, ...] = ()


class Planner(Protocol):
    """Maps and routes one message. Raises ``ValidationError``/``ConfigurationError`` (permanent) or
    ``RetryableError`` (transient, e.g. the routing-key secret could not be read)."""

    def plan(self, content: str | Mapping[str, Any]) -> Plan: ...


class AlertSender(Protocol):
    """Sends one event to PagerDuty by the deadline (``time.monotonic()``); raises the client's typed errors."""

    def send(self, event: AlertEvent, *, deadline: float | None = None) -> Awaitable[object]: ...


class ChangeSender(Protocol):
    """Sends one change event to PagerDuty by the deadline (``time.monotonic()``); raises the client's typed errors."""

    def send_change(self, event: ChangeEvent, *, deadline: float | None = None) -> Awaitable[object]: ...


class CircuitGuard(Protocol):
    def open_for(self) -> float | None: ...

    def call_async(self, operation: Callable[[], Awaitable[object]]) -> Awaitable[object]: ...


@dataclass
class MessageOutcome:
    verdict: Verdict
    reason: str = ""
    detail: str = ""
    retry_after: float | None = None


@dataclass
class BatchReport:
    """Outcome per message id, in the order received."""

    outcomes: dict[str, MessageOutcome]

    @property
    def retried(self) -> list[str]:
        return [message_id for message_id, outcome in self.outcomes.items() if outcome.verdict is Verdict.RETRY]

    def count(self, verdict: Verdict) -> int:
        return sum(1 for outcome in self.outcomes.values() if outcome.verdict is verdict)


def routing_fingerprint(routing_key: str) -> str:
    """A stable, non-secret name for a routing key, for state-table keys and logs."""
    return hashlib.sha256(routing_key.encode()).hexdigest()[:24]


def reason_code(exc: Exception) -> str:
    """Short, stable reason codes for the DLQ attribute and metrics."""
    status = getattr(exc, "status", None)
    if status == 400:
        return "invalid_event"
    if status is not None:
        return f"rejected_{status}"
    return type(exc).__name__.removesuffix("Error").lower() or "invalid"
