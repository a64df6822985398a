"""Events API v2 on the simulator: PagerDuty's alert semantics over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pdutils.simulator import SimulatorHandle

ROUTING_KEY = "R" * 32
OTHER_ROUTING_KEY = "S" * 32

pytestmark = pytest.mark.integration


def trigger(dedup_key: str | None = "disk-full", routing_key: str = ROUTING_KEY) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "critical"},
    }
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    return event


def follow_up(action: str, dedup_key: str = "disk-full", routing_key: str = ROUTING_KEY) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": action, "dedup_key": dedup_key}


def send(pd_sim: SimulatorHandle, event: dict[str, Any], path: str = "/v2/enqueue") -> httpx.Response:
    return httpx.post(f"{pd_sim.base_url}{path}", json=event, timeout=5)


def test_trigger_is_accepted_and_opens_an_alert_and_an_incident(pd_sim: SimulatorHandle) -> None:
    response = send(pd_sim, trigger())

    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": "disk-full"}
    assert response.headers["x-request-id"]
    alert = pd_sim.state.alerts[(ROUTING_KEY, "disk-full")]
    assert alert.status == "triggered"
    incident = pd_sim.state.incidents[alert.incident_id]
    assert (incident.title, incident.incident_key, incident.status) == ("Disk full on db-1", "disk-full", "triggered")


def test_trigger_without_dedup_key_gets_a_generated_one(pd_sim: SimulatorHandle) -> None:
    dedup_key = send(pd_sim, trigger(dedup_key=None)).json()["dedup_key"]

    assert dedup_key
    assert (ROUTING_KEY, dedup_key) in pd_sim.state.alerts


def test_trigger_for_an_open_alert_is_appended_not_duplicated(pd_sim: SimulatorHandle) -> None:
    send(pd_sim, trigger())
    send(pd_sim, trigger())

    assert len(pd_sim.state.alerts) == 1
    assert len(pd_sim.state.incidents) == 1
    assert len(pd_sim.state.alerts[(ROUTING_KEY, "disk-full")].events) == 2


@pytest.mark.parametrize(("action", "status"), [("acknowledge", "acknowledged"), ("resolve", "resolved")])
def test_follow_up_reaches_the_open_alert_with_the_same_routing_key(
    pd_sim: SimulatorHandle, action: str, status: str
) -> None:
    send(pd_sim, trigger())

    response = send(pd_sim, follow_up(action))

    assert response.status_code == 202
    alert = pd_sim.state.alerts[(ROUTING_KEY, "disk-full")]
    assert alert.status == status
    assert pd_sim.state.incidents[alert.incident_id].status == status


def test_follow_up_through_another_routing_key_is_accepted_but_changes_nothing(pd_sim: SimulatorHandle) -> None:
    send(pd_sim, trigger())

    response = send(pd_sim, follow_up("resolve", routing_key=OTHER_ROUTING_KEY))

    assert response.status_code == 202
    assert pd_sim.state.alerts[(ROUTING_KEY, "disk-full")].status == "triggered"
    assert (OTHER_ROUTING_KEY, "disk-full") not in pd_sim.state.alerts


def test_follow_up_for_an_unknown_dedup_key_changes_nothing(pd_sim: SimulatorHandle) -> None:
    response = send(pd_sim, follow_up("acknowledge", dedup_key="never-triggered"))

    assert response.status_code == 202
    assert pd_sim.state.alerts == {}


def test_trigger_after_resolve_opens_a_new_incident(pd_sim: SimulatorHandle) -> None:
    send(pd_sim, trigger())
    send(pd_sim, follow_up("resolve"))
    send(pd_sim, trigger())

    assert pd_sim.state.alerts[(ROUTING_KEY, "disk-full")].status == "triggered"
    assert [alert.status for alert in pd_sim.state.closed_alerts] == ["resolved"]
    assert sorted(incident.status for incident in pd_sim.state.incidents.values()) == ["resolved", "triggered"]


def test_change_event_is_accepted_and_recorded(pd_sim: SimulatorHandle) -> None:
    change = {"routing_key": ROUTING_KEY, "payload": {"summary": "Deployed v2", "source": "ci"}}

    response = send(pd_sim, change, path="/v2/change/enqueue")

    assert response.status_code == 202
    assert response.json()["status"] == "success"
    assert [event["payload"]["summary"] for event in pd_sim.state.change_events] == ["Deployed v2"]
    assert pd_sim.state.incidents == {}


def test_routing_key_of_the_wrong_length_is_refused(pd_sim: SimulatorHandle) -> None:
    response = send(pd_sim, trigger(routing_key="short"))

    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"
    assert "32 characters" in response.json()["errors"][0]


def test_every_request_is_recorded_with_its_answer(pd_sim: SimulatorHandle) -> None:
    send(pd_sim, trigger())

    [recorded] = pd_sim.state.requests
    assert (recorded.method, recorded.path, recorded.status) == ("POST", "/v2/enqueue", 202)
    assert recorded.body["routing_key"] == ROUTING_KEY


def test_routing_key_budget_is_120_per_minute_then_429(pd_sim: SimulatorHandle) -> None:
    with httpx.Client(base_url=pd_sim.base_url, timeout=5) as client:
        statuses = [client.post("/v2/enqueue", json=trigger(f"key-{n}")).status_code for n in range(121)]
        other_key = client.post("/v2/enqueue", json=trigger("key-0", routing_key=OTHER_ROUTING_KEY))

    assert statuses == [202] * 120 + [429]
    assert other_key.status_code == 202
    assert (ROUTING_KEY, "key-120") not in pd_sim.state.alerts


def test_throttled_answer_says_when_to_retry(pd_sim: SimulatorHandle) -> None:
    pd_sim.events_rate_limit = 1
    accepted = send(pd_sim, trigger("first"))

    refused = send(pd_sim, trigger("second"))

    assert accepted.headers["ratelimit-remaining"] == "0"
    assert refused.status_code == 429
    assert refused.json()["status"] == "throttle event"
    assert int(refused.headers["ratelimit-reset"]) > 0
    assert (ROUTING_KEY, "second") not in pd_sim.state.alerts


def test_pagerdutys_documented_limits_are_enforced(pd_sim: SimulatorHandle) -> None:
    oversized = trigger()
    oversized["payload"]["custom_details"] = {"blob": "x" * (512 * 1024)}

    assert send(pd_sim, trigger(dedup_key="d" * 256)).status_code == 400
    assert send(pd_sim, oversized).status_code == 400
    assert send(pd_sim, trigger(dedup_key="d" * 255)).status_code == 202


def test_unknown_events_path_is_404(pd_sim: SimulatorHandle) -> None:
    response = send(pd_sim, trigger(), path="/v2/enqueue/extra")

    assert response.status_code == 404
    assert response.json()["status"] == "error"
