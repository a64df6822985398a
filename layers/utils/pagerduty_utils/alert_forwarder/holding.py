"""Holding alerts while PagerDuty fails: how long a retried message hides, and when holding ends.

A message the forwarder must retry goes back to its queue hidden (``ChangeMessageVisibility``). Every receive
counts towards the queue's ``maxReceiveCount``, so during an outage the hide grows with the *hold age* (time
since the message entered the queue, SQS's ``SentTimestamp``): roughly the age itself, at least
``first_hide`` seconds (or the wait PagerDuty or the circuit announced), at most ``max_hide``. Receive times
then double until the cap: about ten receives in the first hour of an outage, then ``3600 / max_hide`` per
hour. Recovery does not wait for the hide: the held messages are released at once when PagerDuty answers
again (``held_alerts``).

Two retries keep the short, known wait instead: ``rate_budget`` (the routing key's own budget refills in
seconds; a released backlog drains at the budget) and ``deadline`` (the invocation ran out of time).

Holding ends at ``horizon`` seconds of hold age: the message is dead-lettered by the forwarder with the reason
``held_past_horizon`` and the last retry reason in its detail, never by the queue's redrive policy.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pagerduty_utils.alert_forwarder.batch import InboundMessage, MessageOutcome
from pagerduty_utils.alert_forwarder.held_alerts import HeldMessage
from pagerduty_utils.alert_forwarder.queue_backoff import Deferral, backoff_seconds

HORIZON_REASON = "held_past_horizon"
# Retries whose wait is known and short; every other retry is held with a growing hide.
PROMPT_RETRY_REASONS = frozenset({"rate_budget", "deadline"})
# Retries caused by PagerDuty itself failing: these messages are released at once when it answers again.
OUTAGE_REASONS = frozenset({"unavailable", "circuit_open", "throttled", "ordering"})
# A hide is shortened by up to this fraction so that messages held together come back spread out.
_JITTER_FRACTION = 0.1


@dataclass(frozen=True)
class HoldPolicy:
    """Hide durations for retried messages and the hold horizon; ``clock`` is epoch seconds."""

    horizon: float = 86_400.0
    first_hide: float = 30.0
    max_hide: float = 900.0
    clock: Callable[[], float] = time.time
    random_source: Callable[[], float] = random.random

    def hold_age(self, message: InboundMessage) -> float:
        return max(0.0, self.clock() - message.sent_at.timestamp())

    def past_horizon(self, message: InboundMessage) -> bool:
        return self.hold_age(message) >= self.horizon

    def hide_seconds(self, message: InboundMessage, outcome: MessageOutcome) -> int:
        """Seconds the retried ``message`` stays invisible; never beyond the horizon (decided on that receive)."""
        if outcome.reason in PROMPT_RETRY_REASONS:
            return backoff_seconds(
                outcome.retry_after, message.receive_count, maximum=self.max_hide, random_source=self.random_source
            )
        age = self.hold_age(message)
        step = min(self.max_hide, max(self.first_hide, age, outcome.retry_after or 0.0))
        jittered = step * (1.0 - _JITTER_FRACTION * self.random_source())
        until_horizon = self.horizon - age
        return max(1, math.ceil(min(jittered, until_horizon)))

    def expiry_detail(self, message: InboundMessage, outcome: MessageOutcome) -> str:
        held, horizon = self.hold_age(message) / 3600, self.horizon / 3600
        return f"held {held:.1f} h (horizon {horizon:.1f} h); last retry: {outcome.reason}: {outcome.detail}"


@dataclass(frozen=True)
class Holds:
    """What to do with a batch's retried messages: hide each one, and remember those PagerDuty's failure holds."""

    deferrals: list[Deferral] = field(default_factory=list)
    held: list[HeldMessage] = field(default_factory=list)


def plan_holds(policy: HoldPolicy, retried: Iterable[tuple[InboundMessage, MessageOutcome]]) -> Holds:
    holds = Holds()
    for message, outcome in retried:
        if not (message.queue_arn and message.receipt_handle):
            continue
        seconds = policy.hide_seconds(message, outcome)
        holds.deferrals.append(Deferral(message.queue_arn, message.receipt_handle, seconds))
        if outcome.reason in OUTAGE_REASONS:
            holds.held.append(
                HeldMessage(message.message_id, message.queue_arn, message.receipt_handle, message.sent_at.timestamp())
            )
    return holds
