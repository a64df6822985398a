"""The REST clients against the PagerDuty simulator over real HTTP: incidents, reads, pagination, errors, faults."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import pytest

from pagerduty_utils import secrets
from pagerduty_utils.api_client import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PagerDutyAPIClient,
    PagerDutyAPIClientSync,
    PagerDutyUnavailableError,
    RateLimitedError,
    RetryPolicy,
    Timeouts,
)
from pdutils.moto_server import MotoEndpoint
from pdutils.simulator import DEFAULT_SERVICE_ID, DEV_TOKEN, SimulatorHandle

pytestmark = pytest.mark.integration

FROM_EMAIL = "oncall@example.com"


class Waits:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def client(pd_sim: SimulatorHandle, waits: Waits) -> PagerDutyAPIClientSync:
    return PagerDutyAPIClientSync(
        DEV_TOKEN,
        base_url=pd_sim.base_url,
        from_email=FROM_EMAIL,
        retry=RetryPolicy(base_delay=0.1, max_delay=2.0, sleep=waits.sleep),
        timeouts=Timeouts(connect=1.0, read=0.5),
    )


def new_incident(client: PagerDutyAPIClientSync, title: str = "The server is on fire.") -> dict[str, Any]:
    return client.create_incident({"title": title, "service_id": DEFAULT_SERVICE_ID, "urgency": "high"})


def test_incident_lifecycle(pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync) -> None:
    incident = new_incident(client)
    assert pd_sim.state.incidents[incident["id"]].title == "The server is on fire."
    assert client.get_incident(incident["id"])["id"] == incident["id"]
    assert client.update_incident(incident["id"], {"status": "acknowledged"})["status"] == "acknowledged"
    note = client.add_note(incident["id"], "Firefighters are on the scene.")
    assert note["content"] == "Firefighters are on the scene."
    assert client.update_incident(incident["id"], {"status": "resolved"})["status"] == "resolved"
    assert pd_sim.state.incidents[incident["id"]].status == "resolved"
    writes = [request for request in pd_sim.state.requests if request.method in {"POST", "PUT"}]
    assert all(request.headers["from"] == FROM_EMAIL for request in writes)


def test_reads(pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync) -> None:
    assert client.get_abilities()
    assert client.get_service(DEFAULT_SERVICE_ID)["id"] == DEFAULT_SERVICE_ID
    assert client.get_current_user()["type"] == "user"
    assert {service["id"] for service in client.list_services()} >= {DEFAULT_SERVICE_ID}


def test_incidents_are_listed_across_pages(pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync) -> None:
    created = {new_incident(client, f"incident {index}")["id"] for index in range(5)}
    listed = [incident["id"] for incident in client.list_incidents({"statuses[]": ["triggered"]}, page_size=2)]
    assert set(listed) == created
    assert len(listed) == 5
    pages = [request for request in pd_sim.state.requests if request.method == "GET"]
    assert [request.query["offset"] for request in pages] == [["0"], ["2"], ["4"]]


def test_audit_records_follow_the_cursor(pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync) -> None:
    for index in range(3):
        pd_sim.add_service(f"service {index}")
    records = list(client.list_audit_records(page_size=1))
    assert len(records) >= 3
    cursors = [request.query.get("cursor") for request in pd_sim.state.requests]
    assert cursors[0] is None
    assert all(cursor for cursor in cursors[1:])


def test_wrong_token_is_an_authentication_error(pd_sim: SimulatorHandle) -> None:
    client = PagerDutyAPIClientSync("not-a-token", base_url=pd_sim.base_url)
    with pytest.raises(AuthenticationError) as raised:
        client.get_abilities()
    assert (raised.value.status, raised.value.retryable) == (401, False)
    assert "region" in raised.value.message
    assert raised.value.request_id
    assert len(pd_sim.state.requests) == 1


def test_unknown_incident_is_not_found(client: PagerDutyAPIClientSync) -> None:
    with pytest.raises(NotFoundError):
        client.get_incident("QNOPE")


def test_unknown_service_is_an_invalid_request(client: PagerDutyAPIClientSync) -> None:
    with pytest.raises(InvalidRequestError) as raised:
        client.create_incident({"title": "t", "service_id": "PNOPE"})
    assert raised.value.status == 400
    assert raised.value.details


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync, status: int) -> None:
    pd_sim.faults.inject(status, path_prefix="/abilities")
    assert client.get_abilities()
    assert [request.status for request in pd_sim.state.requests] == [status, 200]


def test_rate_limit_headers_are_honored(pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync, waits: Waits) -> None:
    pd_sim.faults.inject(429, path_prefix="/services")
    assert client.get_service(DEFAULT_SERVICE_ID)
    assert waits.seconds == [1.0]


def test_bare_429_is_retried_with_backoff(
    pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync, waits: Waits
) -> None:
    pd_sim.faults.inject(429, headers={})
    assert client.get_abilities()
    assert 0 <= waits.seconds[0] <= 0.1


def test_simulated_rest_rate_limit_hands_back_a_long_wait(
    pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync
) -> None:
    pd_sim.rest_rate_limit = 1
    client.get_abilities()
    with pytest.raises(RateLimitedError) as raised:
        client.get_abilities()
    assert raised.value.retry_after is not None


def test_400_is_never_retried(pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync) -> None:
    pd_sim.faults.inject(400)
    with pytest.raises(InvalidRequestError):
        client.get_abilities()
    assert len(pd_sim.state.requests) == 1


@pytest.mark.parametrize("fault", ["timeout", "drop"])
def test_reads_survive_timeouts_and_dropped_connections(
    pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync, fault: str
) -> None:
    pd_sim.faults.inject(timeout=fault == "timeout", drop=fault == "drop")
    assert client.get_abilities()
    assert len(pd_sim.state.requests) == 2


def test_note_is_not_resent_when_the_answer_is_lost(pd_sim: SimulatorHandle, client: PagerDutyAPIClientSync) -> None:
    incident = new_incident(client)
    pd_sim.faults.inject(drop=True, path_prefix=f"/incidents/{incident['id']}/notes")
    with pytest.raises(PagerDutyUnavailableError):
        client.add_note(incident["id"], "once")
    assert len([request for request in pd_sim.state.requests if request.path.endswith("/notes")]) == 1


def test_original_design_usage_with_settings_and_secret(
    pd_sim: SimulatorHandle, aws: MotoEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("secretsmanager").create_secret(Name="pd/rest-token", SecretString=DEV_TOKEN)
    monkeypatch.setenv("STATE_TABLE_NAME", "state")
    monkeypatch.setenv("PAGERDUTY_API_TOKEN_SECRET_ID", "pd/rest-token")
    monkeypatch.setenv("PAGERDUTY_FROM_EMAIL", FROM_EMAIL)
    secrets.clear_cache()

    async def create() -> dict[str, Any]:
        return await PagerDutyAPIClient().create_incident(
            {"title": "The server is on fire.", "service_id": DEFAULT_SERVICE_ID, "urgency": "high"}
        )

    try:
        incident = asyncio.run(create())
    finally:
        secrets.clear_cache()
    assert pd_sim.state.incidents[incident["id"]].urgency == "high"
