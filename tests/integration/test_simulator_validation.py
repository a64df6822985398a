"""Requests the official OpenAPI files reject are answered 400 in PagerDuty's shape, with the reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from pdutils.simulator import DEFAULT_SERVICE_ID, DEV_TOKEN, SimulatorConfig, SimulatorHandle, running_simulator

pytestmark = pytest.mark.integration

ROUTING_KEY = "R" * 32
REST_HEADERS = {"Authorization": f"Token token={DEV_TOKEN}", "From": "oncall@example.com"}


@pytest.fixture
def validating_sim(pd_sim: SimulatorHandle) -> SimulatorHandle:
    assert pd_sim.validation_enabled, "the OpenAPI files pdutils ships were not found"
    return pd_sim


def trigger(**payload_changes: Any) -> dict[str, Any]:
    payload = {"summary": "s", "source": "h", "severity": "info", **payload_changes}
    return {"routing_key": ROUTING_KEY, "event_action": "trigger", "payload": payload}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (trigger(severity="fatal"), "payload.severity"),
        (trigger(custom_details="not an object"), "payload.custom_details"),
        (trigger(timestamp="yesterday"), "payload.timestamp"),
        ({"routing_key": ROUTING_KEY, "event_action": "trigger"}, "payload"),
        ({"routing_key": ROUTING_KEY, "event_action": "resolve"}, "dedup_key"),
        ({"routing_key": ROUTING_KEY, "event_action": "escalate", "dedup_key": "k"}, "event_action"),
        ({"event_action": "trigger", "payload": trigger()["payload"]}, "routing_key"),
    ],
    ids=["severity", "custom_details", "timestamp", "no-payload", "no-dedup-key", "action", "no-routing-key"],
)
def test_invalid_events_are_refused_with_the_reason(
    validating_sim: SimulatorHandle, event: dict[str, Any], expected: str
) -> None:
    response = httpx.post(f"{validating_sim.base_url}/v2/enqueue", json=event, timeout=5)

    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["message"]) == ("invalid event", "Event object is invalid")
    assert any(expected in error for error in body["errors"]), body["errors"]
    assert validating_sim.state.alerts == {}
    [recorded] = validating_sim.state.requests
    assert recorded.validated
    assert recorded.validation_errors == body["errors"]


def test_unparseable_event_is_refused(validating_sim: SimulatorHandle) -> None:
    response = httpx.post(f"{validating_sim.base_url}/v2/enqueue", content=b"{not json", timeout=5)

    assert response.status_code == 400
    assert response.json()["message"] == "Event object format is unrecognized"


def test_invalid_rest_request_is_refused_in_the_rest_error_shape(validating_sim: SimulatorHandle) -> None:
    document = {
        "incident": {
            "type": "incident",
            "title": 42,
            "urgency": "urgent",
            "service": {"id": DEFAULT_SERVICE_ID, "type": "service_reference"},
        }
    }

    response = httpx.post(f"{validating_sim.base_url}/incidents", json=document, headers=REST_HEADERS, timeout=5)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["message"], error["code"]) == ("Invalid Input Provided", 2001)
    assert any("incident.title" in message for message in error["errors"])
    assert any("incident.urgency" in message for message in error["errors"])
    assert validating_sim.state.incidents == {}


def test_invalid_query_parameters_are_refused(validating_sim: SimulatorHandle) -> None:
    response = httpx.get(
        f"{validating_sim.base_url}/incidents", params={"statuses[]": "sleeping"}, headers=REST_HEADERS, timeout=5
    )

    assert response.status_code == 400
    assert any("sleeping" in message for message in response.json()["error"]["errors"])


def test_valid_requests_are_recorded_as_validated_without_errors(validating_sim: SimulatorHandle) -> None:
    httpx.post(f"{validating_sim.base_url}/v2/enqueue", json=trigger(), timeout=5).raise_for_status()
    httpx.get(f"{validating_sim.base_url}/incidents", headers=REST_HEADERS, timeout=5).raise_for_status()

    assert [(r.validated, r.validation_errors) for r in validating_sim.state.requests] == [(True, []), (True, [])]


def test_without_the_openapi_files_the_simulator_runs_unvalidated(tmp_path: Path) -> None:
    with running_simulator(config=SimulatorConfig(spec_dir=tmp_path)) as handle:
        response = httpx.post(f"{handle.base_url}/v2/enqueue", json=trigger(), timeout=5)
        state = httpx.get(f"{handle.base_url}/_sim/state", headers=handle.control_headers, timeout=5).json()

        assert response.status_code == 202
        assert not handle.validation_enabled
        assert state["validation"] == {"enabled": False}
        assert [(r.validated, r.validation_errors) for r in handle.state.requests] == [(False, [])]


def test_prose_rules_hold_even_without_the_openapi_files(tmp_path: Path) -> None:
    with running_simulator(config=SimulatorConfig(spec_dir=tmp_path)) as handle:
        response = httpx.post(
            f"{handle.base_url}/v2/enqueue", json={"routing_key": ROUTING_KEY, "event_action": "resolve"}, timeout=5
        )

        assert response.status_code == 400
        assert any("dedup_key" in error for error in response.json()["errors"])
