"""Builds the alert forwarder from its settings: the one place that knows every concrete adapter.

Everything here runs once per container, without network I/O (in Lambda during Init, see ``init_phase``;
elsewhere on the first invocation): boto3 clients, the secrets provider, the Powertools circuit persistence, the
pooled PagerDuty client and its TLS context, the routing rules. Tests and the local runtime call
``build_forwarder`` with the same settings pointed at the embedded AWS and the PagerDuty simulator, or pass their
own ``ForwarderDependencies`` to ``Forwarder``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3

from pagerduty_utils import secrets
from pagerduty_utils.alert_forwarder.change_delivery import ChangeDelivery
from pagerduty_utils.alert_forwarder.dead_letter import DeadLetterQueue
from pagerduty_utils.alert_forwarder.delivery_ledger import DeliveryLedger
from pagerduty_utils.alert_forwarder.forwarding import AlertForwarder, ForwarderDependencies
from pagerduty_utils.alert_forwarder.held_alerts import HeldAlerts
from pagerduty_utils.alert_forwarder.hold_watch import PROBE_DEDUP_KEY, HoldWatch
from pagerduty_utils.alert_forwarder.holding import HoldPolicy
from pagerduty_utils.alert_forwarder.intake import ChannelTrust, Trigger, inbound_messages, response_for, trigger_of
from pagerduty_utils.alert_forwarder.queue_backoff import QueueBackoff
from pagerduty_utils.alert_forwarder.routing import RoutingKeys, RoutingPlanner, secret_routing_keys
from pagerduty_utils.api_client import (
    AsyncEventsClient,
    DeadlineExceededError,
    EventResult,
    PagerDutyUnavailableError,
    deadline_from_context,
    run_async,
)
from pagerduty_utils.api_client.retry import LambdaContextLike, RetryPolicy
from pagerduty_utils.circuit_breaker import Circuit, SharedCircuitStore
from pagerduty_utils.config_parser import RoutingRules
from pagerduty_utils.data_transformer import TransformOptions
from pagerduty_utils.exceptions import RetryableError
from pagerduty_utils.metrics_collector import metrics_collector
from pagerduty_utils.pagerduty_events import AlertEvent, ChangeEvent, EventAction
from pagerduty_utils.rate_limiter import RateLimiter
from pagerduty_utils.settings import ForwarderSettings
from pagerduty_utils.state_table import circuit_key_for_url

# Time kept back from the invocation for what follows the sends: ledger writes, DLQ, visibility, metrics.
DEADLINE_MARGIN_SECONDS = 3.0
# A probe is a send bounded by its invocation, so the probe lease outlasts the forwarder's timeout (template.yaml).
FUNCTION_TIMEOUT_SECONDS = 30
PROBE_LEASE_SECONDS = FUNCTION_TIMEOUT_SECONDS + 5
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Forwarder:
    """A ready forwarder: reads an invocation, runs the pipeline, answers as the trigger expects."""

    pipeline: AlertForwarder
    watch: HoldWatch | None = None
    deadline_margin: float = DEADLINE_MARGIN_SECONDS

    def handle(self, event: Mapping[str, Any], context: LambdaContextLike) -> dict[str, Any] | None:
        trigger = trigger_of(event)
        if trigger is Trigger.HOLD_WATCH:
            if self.watch is not None:
                run_async(self.watch.run())
            return None
        messages = inbound_messages(event, trigger)
        deadline = deadline_from_context(context, safety_margin=self.deadline_margin)
        report = run_async(self.pipeline.forward(messages, deadline=deadline))
        return response_for(trigger, report)


class PagerDutySender:
    """The Events API client as the pipeline's ``AlertSender`` and ``ChangeSender``.

    Running out of invocation time is not PagerDuty failing: ``DeadlineExceededError`` is re-raised as a plain
    ``RetryableError`` so that it never counts towards opening the circuit.
    """

    def __init__(self, client: AsyncEventsClient) -> None:
        self._client = client

    async def send(self, event: AlertEvent, *, deadline: float | None = None) -> EventResult:
        try:
            return await self._client.send(event, deadline=deadline)
        except DeadlineExceededError as exc:
            raise RetryableError(str(exc), retry_after=exc.retry_after) from None

    async def send_change(self, event: ChangeEvent, *, deadline: float | None = None) -> EventResult:
        try:
            return await self._client.send_change(event, deadline=deadline)
        except DeadlineExceededError as exc:
            raise RetryableError(str(exc), retry_after=exc.retry_after) from None


def build_forwarder(settings: ForwarderSettings, *, sender: PagerDutySender | None = None) -> Forwarder:
    """The production forwarder for ``settings`` (``sender`` replaces the PagerDuty client, e.g. in benchmarks)."""
    if sender is None:
        client = AsyncEventsClient.from_settings(settings)
        client.prepare()  # the pooled client and its CA bundle now (during Init in Lambda), not in the first send
        sender = PagerDutySender(client)
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb")
    secrets.prepare([settings.routing_keys_secret_id], session=session)
    sqs = cache(lambda: session.client("sqs"))  # only retries and dead letters need it
    table = settings.state_table_name
    store = SharedCircuitStore(table, client=dynamodb, probe_lease_seconds=PROBE_LEASE_SECONDS)
    routing_keys = secret_routing_keys(settings.routing_keys_secret_id, max_age=settings.secrets_cache_seconds)
    circuit = Circuit(
        circuit_key_for_url(settings.events_base_url),
        store,
        failure_types=(PagerDutyUnavailableError,),
        failure_threshold=settings.circuit_failure_threshold,
        recovery_seconds=settings.circuit_recovery_seconds,
        max_workers=settings.delivery_concurrency,
    )
    backoff = QueueBackoff(client=sqs)
    hold = HoldPolicy(
        horizon=settings.hold_horizon_seconds,
        first_hide=settings.hold_first_hide_seconds,
        max_hide=settings.retry_max_backoff_seconds,
    )
    held_alerts = HeldAlerts(
        table, client=dynamodb, retention_seconds=settings.hold_horizon_seconds + settings.retry_max_backoff_seconds
    )
    ledger = DeliveryLedger(table, retention_seconds=settings.ledger_retention_days * _SECONDS_PER_DAY, client=dynamodb)
    limiter = RateLimiter(
        table, limit_per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst, client=dynamodb
    )
    dependencies = ForwarderDependencies(
        planner=RoutingPlanner(
            RoutingRules.from_settings(settings),
            routing_keys,
            TransformOptions(insufficient_data_action=settings.insufficient_data_action),
            ChannelTrust(settings.alarm_topic_arn_list),
        ),
        sender=sender,
        ledger=ledger,
        limiter=limiter,
        circuit=circuit,
        metrics=metrics_collector,
        dead_letters=DeadLetterQueue(settings.dead_letter_queue_url, client=sqs)
        if settings.dead_letter_queue_url
        else None,
        backoff=backoff,
        held_alerts=held_alerts,
        concurrency=settings.delivery_concurrency,
        hold=hold,
        changes=ChangeDelivery(
            sender=sender,
            ledger=ledger,
            limiter=limiter,
            circuit=circuit,
            metrics=metrics_collector,
            concurrency=settings.delivery_concurrency,
        ),
    )
    # The probe is one attempt: its result is the circuit's evidence, and a retry would outlast the probe lease.
    probe_client = AsyncEventsClient.from_settings(settings, retry=RetryPolicy(max_attempts=1))
    watch = HoldWatch(held_alerts, circuit, _probe(probe_client, routing_keys), backoff, metrics_collector)
    return Forwarder(AlertForwarder(dependencies), watch)


def _probe(client: AsyncEventsClient, routing_keys: RoutingKeys) -> Callable[[], Awaitable[object]]:
    """The hold watch's probe: a resolve nobody's alert carries, on the first configured routing key."""

    async def send_probe() -> EventResult:
        keys = routing_keys()
        event = AlertEvent(
            routing_key=keys[min(keys)], event_action=EventAction.RESOLVE, dedup_key=PROBE_DEDUP_KEY, occurred_at=None
        )
        return await client.send(event)

    return send_probe
