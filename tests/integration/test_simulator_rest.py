"""REST API v2 on the simulator: auth, the From rule, incidents, notes, services, pagination, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pdutils.simulator import DEFAULT_SERVICE_ID, DEV_TOKEN, SimulatorConfig, SimulatorHandle, running_simulator

pytestmark = pytest.mark.integration

ROUTING_KEY = "R" * 32
READ_HEADERS = {"Authorization": f"Token token={DEV_TOKEN}", "Accept": "application/vnd.pagerduty+json;version=2"}
WRITE_HEADERS = {**READ_HEADERS, "From": "oncall@example.com"}


@pytest.fixture
def api(pd_sim: SimulatorHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=pd_sim.base_url, headers=WRITE_HEADERS, timeout=5) as client:
        yield client


def incident_document(title: str = "The server is on fire.", **extra: Any) -> dict[str, Any]:
    service = {"id": DEFAULT_SERVICE_ID, "type": "service_reference"}
    return {"incident": {"type": "incident", "title": title, "service": service, **extra}}


def create_incident(api: httpx.Client, title: str = "The server is on fire.", **extra: Any) -> dict[str, Any]:
    response = api.post("/incidents", json=incident_document(title, **extra))
    assert response.status_code == 201, response.text
    incident: dict[str, Any] = response.json()["incident"]
    return incident


@pytest.mark.parametrize(
    "authorization", [None, "Token token=wrong", f"Bearer {DEV_TOKEN}"], ids=["missing", "wrong", "scheme"]
)
def test_requests_without_a_valid_token_get_401(pd_sim: SimulatorHandle, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = httpx.get(f"{pd_sim.base_url}/abilities", headers=headers, timeout=5)

    assert response.status_code == 401
    assert response.json() == {"error": {"message": "Invalid Credentials", "code": 2006}}
    assert response.headers["x-request-id"]


def test_accepted_tokens_are_configurable_per_test(pd_sim: SimulatorHandle) -> None:
    pd_sim.valid_tokens.add("rotated-token")

    response = httpx.get(f"{pd_sim.base_url}/abilities", headers={"Authorization": "Token token=rotated-token"})

    assert response.status_code == 200


def test_successful_answers_carry_rate_limit_headers_and_a_request_id(api: httpx.Client) -> None:
    response = api.get("/abilities")

    assert response.status_code == 200
    assert "teams" in response.json()["abilities"]
    assert response.headers["ratelimit-limit"] == "960"
    assert int(response.headers["ratelimit-remaining"]) == 959
    assert int(response.headers["ratelimit-reset"]) >= 0
    assert response.headers["x-request-id"]


def test_rest_rate_limit_answers_429_with_reset(pd_sim: SimulatorHandle, api: httpx.Client) -> None:
    pd_sim.rest_rate_limit = 2

    statuses = [api.get("/abilities").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    refused = api.get("/abilities")
    assert refused.json()["error"] == {"message": "Rate Limit Exceeded", "code": 2020}
    assert refused.headers["ratelimit-remaining"] == "0"
    assert int(refused.headers["ratelimit-reset"]) > 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/incidents", incident_document()),
        ("PUT", "/incidents/{id}", {"incident": {"type": "incident_reference", "status": "resolved"}}),
        ("POST", "/incidents/{id}/notes", {"note": {"content": "hello"}}),
    ],
)
def test_incident_writes_without_from_get_400(
    pd_sim: SimulatorHandle, api: httpx.Client, method: str, path: str, body: dict[str, Any]
) -> None:
    url = pd_sim.base_url + path.format(id=create_incident(api)["id"])

    response = httpx.request(method, url, json=body, headers=READ_HEADERS, timeout=5)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 2001
    assert any("From" in message for message in error["errors"])


def test_create_get_acknowledge_and_resolve_an_incident(pd_sim: SimulatorHandle, api: httpx.Client) -> None:
    created = create_incident(api, urgency="low", body={"type": "incident_body", "details": "disk at 99%"})

    fetched = api.get(f"/incidents/{created['id']}").json()["incident"]
    assert fetched["title"] == "The server is on fire."
    assert fetched["status"] == "triggered"
    assert fetched["urgency"] == "low"
    assert fetched["service"]["id"] == DEFAULT_SERVICE_ID
    assert fetched["body"]["details"] == "disk at 99%"

    for status in ("acknowledged", "resolved"):
        update = {"incident": {"type": "incident_reference", "status": status}}
        response = api.put(f"/incidents/{created['id']}", json=update)
        assert response.status_code == 200
        assert response.json()["incident"]["status"] == status
    assert pd_sim.state.incidents[created["id"]].status == "resolved"


def test_resolving_through_rest_resolves_the_alert_behind_the_incident(
    pd_sim: SimulatorHandle, api: httpx.Client
) -> None:
    trigger = {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "k",
        "payload": {"summary": "s", "source": "h", "severity": "error"},
    }
    httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=trigger, timeout=5).raise_for_status()
    alert = pd_sim.state.alerts[(ROUTING_KEY, "k")]

    update = {"incident": {"type": "incident_reference", "status": "resolved"}}
    api.put(f"/incidents/{alert.incident_id}", json=update).raise_for_status()

    assert alert.status == "resolved"


def test_an_open_incident_key_on_the_same_service_is_refused(api: httpx.Client) -> None:
    create_incident(api, incident_key="baf7cf21")

    response = api.post("/incidents", json=incident_document(incident_key="baf7cf21"))

    assert response.status_code == 400
    assert response.json()["error"]["errors"] == [
        "Open incident with matching dedup key already exists on this service"
    ]


def test_unknown_service_and_unknown_incident(api: httpx.Client) -> None:
    document = incident_document()
    document["incident"]["service"]["id"] = "PNOPE00"

    assert api.post("/incidents", json=document).status_code == 400
    missing = api.get("/incidents/Q0000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 2100


def test_notes_are_added_and_listed(api: httpx.Client) -> None:
    incident = create_incident(api)

    created = api.post(f"/incidents/{incident['id']}/notes", json={"note": {"content": "Rebooted db-1"}})
    listed = api.get(f"/incidents/{incident['id']}/notes")

    assert created.status_code == 201
    assert created.json()["note"]["content"] == "Rebooted db-1"
    assert [note["content"] for note in listed.json()["notes"]] == ["Rebooted db-1"]


def test_list_incidents_filters_by_status(api: httpx.Client) -> None:
    first = create_incident(api, "first")
    create_incident(api, "second")
    api.put(f"/incidents/{first['id']}", json={"incident": {"type": "incident_reference", "status": "resolved"}})

    response = api.get("/incidents", params={"statuses[]": ["triggered", "acknowledged"]})

    assert [incident["title"] for incident in response.json()["incidents"]] == ["second"]


def test_classic_pagination_reports_more_and_total(api: httpx.Client) -> None:
    for number in range(5):
        create_incident(api, f"incident {number}")

    first = api.get("/incidents", params={"limit": 2, "offset": 0, "total": "true"}).json()
    last = api.get("/incidents", params={"limit": 2, "offset": 4}).json()

    assert [incident["title"] for incident in first["incidents"]] == ["incident 0", "incident 1"]
    assert (first["limit"], first["offset"], first["more"], first["total"]) == (2, 0, True, 5)
    assert [incident["title"] for incident in last["incidents"]] == ["incident 4"]
    assert (last["more"], last["total"]) == (False, None)


def test_classic_pagination_refuses_offsets_past_10000(api: httpx.Client) -> None:
    assert api.get("/incidents", params={"limit": 100, "offset": 9900}).status_code == 200

    response = api.get("/incidents", params={"limit": 100, "offset": 9901})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2001


def test_services_get_and_list(pd_sim: SimulatorHandle, api: httpx.Client) -> None:
    added = pd_sim.add_service("Checkout API")

    listed = api.get("/services", params={"total": "true"}).json()
    fetched = api.get(f"/services/{added.id}").json()["service"]

    assert {service["id"] for service in listed["services"]} == {DEFAULT_SERVICE_ID, added.id}
    assert listed["total"] == 2
    assert (fetched["name"], fetched["type"]) == ("Checkout API", "service")
    assert api.get("/services/PNOPE00").status_code == 404


def test_events_integrations_appear_as_services(pd_sim: SimulatorHandle, api: httpx.Client) -> None:
    trigger = {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "h", "severity": "info"},
    }
    httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=trigger, timeout=5).raise_for_status()

    [incident] = api.get("/incidents").json()["incidents"]

    assert api.get(f"/services/{incident['service']['id']}").status_code == 200
    assert incident["urgency"] == "low"


def test_cursor_pagination_walks_the_audit_trail(pd_sim: SimulatorHandle, api: httpx.Client) -> None:
    added = [pd_sim.add_service(f"service {number}").id for number in range(5)]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/audit/records", params=params).json()
        seen.extend(record["root_resource"]["id"] for record in page["records"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == added
    assert pages == 3
    assert api.get("/audit/records", params={"cursor": "not-a-cursor"}).status_code == 400
    service_records = api.get(f"/services/{added[0]}/audit/records").json()
    assert [record["action"] for record in service_records["records"]] == ["create"]


def test_current_user_and_unknown_paths(api: httpx.Client) -> None:
    user = api.get("/users/me").json()["user"]

    assert user["type"] == "user"
    assert user["email"]
    assert api.get("/escalation_policies").status_code == 404
    assert api.delete("/incidents").status_code == 405


def test_malformed_incident_is_refused_even_without_validation(tmp_path: Path) -> None:
    config = SimulatorConfig(spec_dir=tmp_path)
    with running_simulator(config=config) as handle, httpx.Client(headers=WRITE_HEADERS, timeout=5) as client:
        malformed = {"incident": {"type": "incident", "title": "t", "service": "PSIMSV1"}}

        response = client.post(f"{handle.base_url}/incidents", json=malformed)

        assert response.status_code == 400
        assert response.json()["error"]["errors"] == ["incident.service must be a service reference with an id"]
