"""Webhooks v3 from the simulator: envelope, PagerDuty's signature, retries and drops."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pdutils.simulator import DEV_TOKEN, SimulatorConfig, SimulatorHandle, running_simulator
from pdutils.testing.simulator import WebhookSink

pytestmark = pytest.mark.integration

ROUTING_KEY = "R" * 32
SECRET = "whsec-simulator-test"
REST_HEADERS = {
    "Authorization": f"Token token={DEV_TOKEN}",
    "Accept": "application/vnd.pagerduty+json;version=2",
    "From": "oncall@example.com",
}


def send_event(base_url: str, action: str, dedup_key: str = "db-1/disk") -> None:
    event: dict[str, Any] = {"routing_key": ROUTING_KEY, "event_action": action, "dedup_key": dedup_key}
    if action == "trigger":
        event["payload"] = {"summary": "Disk full on db-1", "source": "db-1", "severity": "critical"}
    httpx.post(f"{base_url}/v2/enqueue", json=event, timeout=5).raise_for_status()


def event_of(delivery_body: bytes) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(delivery_body)["event"]
    return event


def test_incident_lifecycle_is_delivered_as_signed_v3_events(
    pd_sim: SimulatorHandle, webhook_sink: WebhookSink
) -> None:
    subscription = pd_sim.add_webhook_subscription(webhook_sink.url, SECRET)

    for action in ("trigger", "acknowledge", "resolve"):
        send_event(pd_sim.base_url, action)

    deliveries = webhook_sink.wait_for(3)
    assert [event_of(d.body)["event_type"] for d in deliveries] == [
        "incident.triggered",
        "incident.acknowledged",
        "incident.resolved",
    ]
    for delivery in deliveries:
        expected = "v1=" + hmac.new(SECRET.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert delivery.headers["x-pagerduty-signature"] == expected
        assert delivery.headers["x-webhook-subscription"] == subscription.id
        assert delivery.headers["x-webhook-id"]
        assert delivery.headers["content-type"].startswith("application/json")
        assert delivery.headers["user-agent"].startswith("PagerDuty-Webhook/")
    assert len({d.headers["x-webhook-id"] for d in deliveries}) == 3


def test_envelope_carries_the_incident(pd_sim: SimulatorHandle, webhook_sink: WebhookSink) -> None:
    pd_sim.add_webhook_subscription(webhook_sink.url, SECRET)

    send_event(pd_sim.base_url, "trigger")

    [delivery] = webhook_sink.wait_for(1)
    event = event_of(delivery.body)
    assert set(event) == {"id", "event_type", "resource_type", "occurred_at", "agent", "client", "data"}
    assert event["resource_type"] == "incident"
    assert event["agent"]["type"] == "service_reference"
    incident = event["data"]
    assert incident["type"] == "incident"
    assert incident["status"] == "triggered"
    assert incident["incident_key"] == "db-1/disk"
    assert incident["title"] == "Disk full on db-1"
    assert incident["service"]["type"] == "service_reference"
    assert incident["id"] in pd_sim.state.incidents


def test_rest_changes_and_notes_are_delivered_with_the_user_as_agent(
    pd_sim: SimulatorHandle, webhook_sink: WebhookSink
) -> None:
    pd_sim.add_webhook_subscription(
        webhook_sink.url, SECRET, event_types=["incident.acknowledged", "incident.annotated"]
    )
    send_event(pd_sim.base_url, "trigger")
    [incident_id] = pd_sim.state.incidents
    url = f"{pd_sim.base_url}/incidents/{incident_id}"

    body = {"incident": {"type": "incident_reference", "status": "acknowledged"}}
    httpx.put(url, json=body, headers=REST_HEADERS, timeout=5).raise_for_status()
    httpx.post(
        f"{url}/notes", json={"note": {"content": "looking"}}, headers=REST_HEADERS, timeout=5
    ).raise_for_status()

    acknowledged, annotated = (event_of(d.body) for d in webhook_sink.wait_for(2))
    assert acknowledged["event_type"] == "incident.acknowledged"
    assert acknowledged["agent"]["type"] == "user_reference"
    assert annotated["event_type"] == "incident.annotated"
    assert annotated["data"]["content"] == "looking"
    assert annotated["data"]["incident"]["id"] == incident_id
    assert pd_sim.wait_for_webhooks(timeout=5)
    assert len(webhook_sink.received) == 2


def test_5xx_is_retried_with_the_same_body_and_webhook_id(pd_sim: SimulatorHandle, webhook_sink: WebhookSink) -> None:
    pd_sim.add_webhook_subscription(webhook_sink.url, SECRET)
    webhook_sink.respond_with(503, 500)

    send_event(pd_sim.base_url, "trigger")

    first, second, third = webhook_sink.wait_for(3)
    assert first.body == second.body == third.body
    assert first.headers["x-webhook-id"] == second.headers["x-webhook-id"] == third.headers["x-webhook-id"]
    assert pd_sim.wait_for_webhooks(timeout=5)
    assert [(d.attempt, d.status) for d in pd_sim.state.webhook_deliveries] == [(1, 503), (2, 500), (3, 200)]


def test_429_is_retried_but_other_4xx_is_dropped(pd_sim: SimulatorHandle, webhook_sink: WebhookSink) -> None:
    pd_sim.add_webhook_subscription(webhook_sink.url, SECRET)
    webhook_sink.respond_with(429, 404)

    send_event(pd_sim.base_url, "trigger")

    assert pd_sim.wait_for_webhooks(timeout=5)
    assert [d.status for d in pd_sim.state.webhook_deliveries] == [429, 404]
    assert len(webhook_sink.received) == 2


def test_gives_up_after_the_configured_attempts(pd_sim: SimulatorHandle, webhook_sink: WebhookSink) -> None:
    pd_sim.add_webhook_subscription(webhook_sink.url, SECRET)
    webhook_sink.respond_with(500, 500, 500, 500, 500)

    send_event(pd_sim.base_url, "trigger")

    assert pd_sim.wait_for_webhooks(timeout=5)
    assert [d.attempt for d in pd_sim.state.webhook_deliveries] == [1, 2, 3, 4]


@pytest.fixture
def impatient_simulator() -> Iterator[SimulatorHandle]:
    """A simulator whose webhook deliveries time out after 0.2 s, to prove timeouts are retried."""
    config = SimulatorConfig(webhook_retry_delays=(0.05,), webhook_timeout_seconds=0.2, validate=False)
    with running_simulator(config=config) as handle:
        yield handle


def test_timeout_is_retried(impatient_simulator: SimulatorHandle, webhook_sink: WebhookSink) -> None:
    impatient_simulator.add_webhook_subscription(webhook_sink.url, SECRET)
    webhook_sink.respond_with(200, delay=1.0)

    send_event(impatient_simulator.base_url, "trigger")

    assert impatient_simulator.wait_for_webhooks(timeout=5)
    first, second = impatient_simulator.state.webhook_deliveries
    assert first.status is None
    assert first.error is not None
    assert "Timeout" in first.error
    assert (second.attempt, second.status) == (2, 200)


def test_three_drops_in_a_row_disable_the_subscription(pd_sim: SimulatorHandle, webhook_sink: WebhookSink) -> None:
    subscription = pd_sim.add_webhook_subscription(webhook_sink.url, SECRET)
    webhook_sink.respond_with(400, 200, 400, 404, 410)

    for number in range(6):
        send_event(pd_sim.base_url, "trigger", dedup_key=f"alert-{number}")
        assert pd_sim.wait_for_webhooks(timeout=5)

    assert [d.status for d in pd_sim.state.webhook_deliveries] == [400, 200, 400, 404, 410]
    assert subscription.disabled
    state = httpx.get(f"{pd_sim.base_url}/_sim/state", headers=pd_sim.control_headers, timeout=5).json()
    assert state["subscriptions"] == [subscription.to_dict()]
    assert state["subscriptions"][0]["disabled"] is True
