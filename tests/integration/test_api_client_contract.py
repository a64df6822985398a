"""Contract tests: every request the clients build is valid against PagerDuty's official OpenAPI files.

Requests are captured (no network) and checked with the simulator's validator over the files pdutils ships.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pagerduty_utils.api_client import EventsClient, PagerDutyAPIClient, PagerDutyAPIClientSync
from pagerduty_utils.pagerduty_events import AlertEvent, ChangeEvent
from pdutils.simulator import DEFAULT_SERVICE_ID, DEV_TOKEN, SimulatorHandle
from pdutils.simulator.openapi import validate_events_request, validate_rest_request

pytestmark = pytest.mark.integration

ROUTING_KEY = "R" * 32
REST_ANSWER = {
    "incident": {"id": "Q1"},
    "note": {"id": "N1"},
    "service": {"id": "S1"},
    "user": {"id": "U1"},
    "abilities": [],
    "incidents": [],
    "services": [],
    "records": [],
    "more": False,
}


class Captured:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.startswith("/v2/"):
            return httpx.Response(202, json={"status": "success", "dedup_key": "k"})
        return httpx.Response(200, json=REST_ANSWER)


@pytest.fixture
def captured() -> Captured:
    return Captured()


def rest_problems(request: httpx.Request) -> list[str]:
    body = request.content or None
    return validate_rest_request(
        request.method, request.url.path, request.url.params.multi_items(), dict(request.headers), body
    )


ALERTS: dict[str, dict[str, Any]] = {
    "minimal trigger": {
        "event_action": "trigger",
        "payload": {"summary": "CPU high", "source": "i-1", "severity": "info"},
    },
    "full trigger": {
        "event_action": "trigger",
        "dedup_key": "k" * 400,
        "client": "pagerduty-utils",
        "client_url": "https://console.aws.amazon.com/cloudwatch",
        "payload": {
            "summary": "s" * 2000,
            "source": "arn:aws:ec2:eu-west-1:123456789012:instance/i-1",
            "severity": "critical",
            "timestamp": "2026-11-27T04:00:00Z",
            "component": "db",
            "group": "prod",
            "class": "disk",
            "custom_details": {"threshold": 90, "nested": {"a": [1, 2]}},
        },
        "links": [{"href": "https://console.aws.amazon.com/", "text": "Console"}],
        "images": [{"src": "https://example.com/graph.png", "href": "https://example.com", "alt": "graph"}],
    },
    "acknowledge": {"event_action": "acknowledge", "dedup_key": "k"},
    "resolve": {"event_action": "resolve", "dedup_key": "k"},
}


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_alert_events_match_the_events_api(captured: Captured, name: str) -> None:
    client = EventsClient(
        "https://events.pagerduty.com", http_client=httpx.Client(transport=httpx.MockTransport(captured))
    )
    client.send(AlertEvent.model_validate({"routing_key": ROUTING_KEY, **ALERTS[name]}))
    [request] = captured.requests
    assert validate_events_request(request.url.path, json.loads(request.content)) == []


def test_change_events_match_the_events_api(captured: Captured) -> None:
    client = EventsClient(
        "https://events.pagerduty.com", http_client=httpx.Client(transport=httpx.MockTransport(captured))
    )
    event = {
        "routing_key": ROUTING_KEY,
        "summary": "Deployed v2",
        "source": "ci",
        "timestamp": "2026-11-27T04:00:00Z",
        "custom_details": {"build": 2},
        "links": [{"href": "https://ci.example.com/2", "text": "build"}],
    }
    client.send_change(ChangeEvent.model_validate(event))
    [request] = captured.requests
    assert validate_events_request(request.url.path, json.loads(request.content)) == []


SYNC_CALLS: dict[str, Callable[[PagerDutyAPIClientSync], object]] = {
    "create_incident (original design)": lambda client: client.create_incident(
        {"title": "The server is on fire.", "service_id": "PWIXJZS", "urgency": "high"}
    ),
    "create_incident (every shorthand)": lambda client: client.create_incident(
        {
            "title": "t",
            "service_id": "PWIXJZS",
            "escalation_policy_id": "PT20YPA",
            "priority_id": "P53ZZH5",
            "assignee_ids": ["PXPGF42"],
            "incident_key": "baf7cf21b1da41b4b0221008339ff357",
            "details": "smoke",
        }
    ),
    "get_incident": lambda client: client.get_incident("PT4KHLK"),
    "update_incident": lambda client: client.update_incident("PT4KHLK", {"status": "acknowledged"}),
    "add_note": lambda client: client.add_note("PT4KHLK", "Firefighters are on the scene."),
    "get_service": lambda client: client.get_service("PIJ90N7"),
    "get_abilities": lambda client: client.get_abilities(),
    "get_current_user": lambda client: client.get_current_user(),
    "list_incidents": lambda client: list(
        client.list_incidents({"statuses[]": ["triggered", "acknowledged"], "service_ids[]": ["PIJ90N7"]})
    ),
    "list_services": lambda client: list(client.list_services({"query": "db"})),
    "list_audit_records": lambda client: list(client.list_audit_records({"since": "2026-11-01T00:00:00Z"})),
}


@pytest.mark.parametrize("name", sorted(SYNC_CALLS))
def test_rest_requests_match_the_rest_api(captured: Captured, name: str) -> None:
    client = PagerDutyAPIClientSync(
        "y_NbAkKc66ryYTWUXYEu",
        base_url="https://api.pagerduty.com",
        from_email="oncall@example.com",
        http_client=httpx.Client(transport=httpx.MockTransport(captured)),
    )
    SYNC_CALLS[name](client)
    [request] = captured.requests
    assert rest_problems(request) == []


def test_the_contract_check_catches_a_missing_from_header(captured: Captured) -> None:
    client = PagerDutyAPIClientSync(
        "y_NbAkKc66ryYTWUXYEu",
        base_url="https://api.pagerduty.com",
        from_email="oncall@example.com",
        http_client=httpx.Client(transport=httpx.MockTransport(captured)),
    )
    client.add_note("PT4KHLK", "note")
    [request] = captured.requests
    del request.headers["From"]
    assert any("From" in problem for problem in rest_problems(request))


def test_async_client_sends_the_same_valid_requests(captured: Captured) -> None:
    async def calls() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(captured)) as http_client:
            client = PagerDutyAPIClient(
                "y_NbAkKc66ryYTWUXYEu",
                base_url="https://api.pagerduty.com",
                from_email="a@example.com",
                http_client=http_client,
            )
            await client.create_incident({"title": "t", "service_id": "PWIXJZS", "urgency": "low"})
            await client.add_note("PT4KHLK", "note")
            assert [incident async for incident in client.list_incidents()] == []

    asyncio.run(calls())
    assert [rest_problems(request) for request in captured.requests] == [[], [], []]


def test_simulator_validates_a_whole_client_session(pd_sim: SimulatorHandle) -> None:
    events = EventsClient(pd_sim.base_url)
    dedup_key = events.send(AlertEvent.model_validate({"routing_key": ROUTING_KEY, **ALERTS["full trigger"]})).dedup_key
    events.send(
        AlertEvent.model_validate({"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": dedup_key})
    )
    rest = PagerDutyAPIClientSync(DEV_TOKEN, base_url=pd_sim.base_url, from_email="oncall@example.com")
    incident = rest.create_incident({"title": "t", "service_id": DEFAULT_SERVICE_ID, "urgency": "low", "details": "d"})
    rest.add_note(incident["id"], "looking")
    rest.update_incident(incident["id"], {"status": "resolved"})
    list(rest.list_incidents({"statuses[]": ["resolved"]}))
    list(rest.list_audit_records())
    rest.get_service(DEFAULT_SERVICE_ID)
    assert pd_sim.validation_enabled
    assert all(request.validated for request in pd_sim.state.requests)
    assert [request.validation_errors for request in pd_sim.state.requests] == [[]] * len(pd_sim.state.requests)
    assert {request.status for request in pd_sim.state.requests} <= {200, 201, 202}
