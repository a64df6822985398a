"""REST clients over httpx.MockTransport: headers, request bodies, errors, pagination and caching."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pagerduty_utils.api_client import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PagerDutyAPIClient,
    PagerDutyAPIClientSync,
    PagerDutyUnavailableError,
    RateLimitedError,
    RetryPolicy,
)
from pagerduty_utils.api_client.rest_requests import MAX_OFFSET_WINDOW
from pagerduty_utils.cache_manager import CacheManager
from pagerduty_utils.exceptions import ConfigurationError

BASE_URL = "https://api.pagerduty.com"
TOKEN = "y_NbAkKc66ryYTWUXYEu"
Handler = Callable[[httpx.Request], httpx.Response]


class Server:
    """Routes requests to a handler and keeps them; the handler sees the parsed JSON body too."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Callable[..., PagerDutyAPIClientSync]:
    def build(server: Server, **options: Any) -> PagerDutyAPIClientSync:
        options.setdefault("from_email", "oncall@example.com")
        options.setdefault("retry", RetryPolicy(random_source=lambda: 1.0, sleep=sleeps.append))
        return PagerDutyAPIClientSync(
            TOKEN, base_url=BASE_URL, http_client=httpx.Client(transport=httpx.MockTransport(server)), **options
        )

    return build


def answer(status: int = 200, **body: Any) -> Handler:
    return lambda _request: httpx.Response(status, json=body)


def test_original_design_usage_builds_pagerdutys_incident_body(
    make_client: Callable[..., PagerDutyAPIClientSync],
) -> None:
    server = Server(answer(201, incident={"id": "Q1", "status": "triggered"}))
    incident = make_client(server).create_incident(
        {"title": "The server is on fire.", "service_id": "PWIXJZS", "urgency": "high", "details": "smoke"}
    )
    assert incident == {"id": "Q1", "status": "triggered"}
    request = server.requests[0]
    assert (request.method, str(request.url)) == ("POST", f"{BASE_URL}/incidents")
    assert request.headers["authorization"] == f"Token token={TOKEN}"
    assert request.headers["accept"] == "application/vnd.pagerduty+json;version=2"
    assert request.headers["from"] == "oncall@example.com"
    assert server.body() == {
        "incident": {
            "type": "incident",
            "title": "The server is on fire.",
            "service": {"id": "PWIXJZS", "type": "service_reference"},
            "urgency": "high",
            "body": {"type": "incident_body", "details": "smoke"},
        }
    }


def test_references_and_assignees_are_shaped(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(answer(201, incident={"id": "Q1"}))
    make_client(server).create_incident(
        {
            "title": "t",
            "service_id": "S1",
            "escalation_policy_id": "E1",
            "priority_id": "P1",
            "assignee_ids": ["U1"],
            "incident_key": "k",
        }
    )
    incident = server.body()["incident"]
    assert incident["escalation_policy"] == {"id": "E1", "type": "escalation_policy_reference"}
    assert incident["priority"] == {"id": "P1", "type": "priority_reference"}
    assert incident["assignments"] == [{"assignee": {"id": "U1", "type": "user_reference"}}]
    assert incident["incident_key"] == "k"


def test_incident_without_service_is_refused_before_sending(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(answer(201))
    with pytest.raises(InvalidRequestError, match="service"):
        make_client(server).create_incident({"title": "no service"})
    assert server.requests == []


def test_writes_without_a_from_address_are_refused(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(answer(200, incident={"id": "Q1"}))
    client = make_client(server, from_email=None)
    with pytest.raises(ConfigurationError, match="PAGERDUTY_FROM_EMAIL"):
        client.update_incident("Q1", {"status": "acknowledged"})
    assert client.get_incident("Q1") == {"id": "Q1"}
    assert "from" not in server.requests[0].headers


def test_update_and_note_requests(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(answer(200, incident={"id": "Q 1"}, note={"id": "N1", "content": "on it"}))
    client = make_client(server)
    client.update_incident("Q 1", {"status": "resolved"})
    assert (server.requests[0].method, server.requests[0].url.raw_path) == ("PUT", b"/incidents/Q%201")
    assert server.body(0) == {"incident": {"type": "incident_reference", "status": "resolved"}}
    assert client.add_note("Q1", "on it") == {"id": "N1", "content": "on it"}
    assert server.body(1) == {"note": {"content": "on it"}}


def test_reads(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(answer(200, abilities=["teams", "urgencies"], service={"id": "S1"}, user={"id": "U1"}))
    client = make_client(server)
    assert client.get_abilities() == ["teams", "urgencies"]
    assert client.get_service("S1") == {"id": "S1"}
    assert client.get_current_user() == {"id": "U1"}
    assert [request.url.path for request in server.requests] == ["/abilities", "/services/S1", "/users/me"]


def test_unauthorized_on_the_us_host_hints_at_the_region(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(answer(401, error={"message": "Unauthorized", "code": 2006}))
    with pytest.raises(AuthenticationError) as raised:
        make_client(server).get_abilities()
    assert (raised.value.status, raised.value.code, raised.value.retryable) == (401, 2006, False)
    assert "PAGERDUTY_REGION=eu" in raised.value.message
    assert len(server.requests) == 1


def test_bad_request_carries_pagerdutys_code_details_and_request_id(
    make_client: Callable[..., PagerDutyAPIClientSync], sleeps: list[float]
) -> None:
    body = {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": ["Service not found"]}}
    server = Server(lambda _request: httpx.Response(400, json=body, headers={"x-request-id": "abc"}))
    with pytest.raises(InvalidRequestError) as raised:
        make_client(server).create_incident({"title": "t", "service_id": "nope"})
    error = raised.value
    assert (error.status, error.code, error.request_id, error.details) == (400, 2001, "abc", ("Service not found",))
    assert (len(server.requests), sleeps) == (1, [])


def test_not_found_is_not_retried(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(answer(404, error={"message": "Not Found", "code": 2100}))
    with pytest.raises(NotFoundError):
        make_client(server).get_incident("missing")
    assert len(server.requests) == 1


def test_ratelimit_reset_is_honored(make_client: Callable[..., PagerDutyAPIClientSync], sleeps: list[float]) -> None:
    responses = iter(
        [httpx.Response(429, headers={"ratelimit-reset": "2"}), httpx.Response(200, json={"abilities": []})]
    )
    server = Server(lambda _request: next(responses))
    make_client(server).get_abilities()
    assert sleeps == [2.0]


def test_long_rate_limit_wait_is_handed_back(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(lambda _request: httpx.Response(429, headers={"ratelimit-reset": "20"}))
    with pytest.raises(RateLimitedError) as raised:
        make_client(server).get_abilities()
    assert (raised.value.retry_after, len(server.requests)) == (20.0, 1)


def test_note_is_not_resent_after_a_lost_response(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    def lost(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    server = Server(lost)
    with pytest.raises(PagerDutyUnavailableError):
        make_client(server).add_note("Q1", "once")
    assert len(server.requests) == 1


def test_refused_connection_is_retried_even_for_notes(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    attempts = iter([httpx.ConnectError("refused"), None])

    def flaky(request: httpx.Request) -> httpx.Response:
        failure = next(attempts)
        if failure is not None:
            raise failure
        return httpx.Response(201, json={"note": {"id": "N1"}})

    server = Server(flaky)
    assert make_client(server).add_note("Q1", "once") == {"id": "N1"}
    assert len(server.requests) == 2


def offset_collection(total: int | None, name: str) -> Handler:
    """A collection of ``total`` items (None: endless, always ``more``) served with classic pagination."""

    def serve(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        end = offset + limit if total is None else min(offset + limit, total)
        items = [{"id": str(index)} for index in range(offset, end)]
        more = total is None or end < total
        return httpx.Response(200, json={name: items, "offset": offset, "limit": limit, "more": more})

    return serve


def test_offset_pagination_reads_every_page(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(offset_collection(250, "incidents"))
    incidents = list(make_client(server).list_incidents({"statuses[]": ["triggered", "acknowledged"]}))
    assert [item["id"] for item in incidents] == [str(index) for index in range(250)]
    assert [request.url.params["offset"] for request in server.requests] == ["0", "100", "200"]
    assert server.requests[0].url.params.get_list("statuses[]") == ["triggered", "acknowledged"]


def test_offset_pagination_stops_at_the_10000_window(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(offset_collection(None, "services"))
    services = list(make_client(server).list_services(page_size=30))
    assert len(services) == MAX_OFFSET_WINDOW
    last = server.requests[-1].url.params
    assert (int(last["offset"]), int(last["limit"])) == (9990, 10)


def test_pages_are_fetched_lazily(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(offset_collection(500, "incidents"))
    pages: Iterator[dict[str, Any]] = make_client(server).list_incidents(page_size=10)
    first_five = [next(pages) for _ in range(5)]
    assert (len(first_five), len(server.requests)) == (5, 1)


def test_cursor_pagination_follows_next_cursor(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    pages = {None: (["a", "b"], "c1"), "c1": (["c"], "c2"), "c2": (["d"], None)}

    def serve(request: httpx.Request) -> httpx.Response:
        records, next_cursor = pages[request.url.params.get("cursor")]
        return httpx.Response(200, json={"records": [{"id": r} for r in records], "next_cursor": next_cursor})

    server = Server(serve)
    records = list(make_client(server).list_audit_records({"since": "2026-01-01"}, page_size=2))
    assert [record["id"] for record in records] == ["a", "b", "c", "d"]
    assert [request.url.params.get("cursor") for request in server.requests] == [None, "c1", "c2"]
    assert all(request.url.params["since"] == "2026-01-01" for request in server.requests)


def test_reads_of_services_and_abilities_are_cached(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(answer(200, abilities=["teams"], service={"id": "S1"}, incident={"id": "Q1"}))
    client = make_client(server, cache=CacheManager())
    for _ in range(3):
        client.get_service("S1")
        client.get_abilities()
        client.get_incident("Q1")
    assert [request.url.path for request in server.requests].count("/services/S1") == 1
    assert [request.url.path for request in server.requests].count("/abilities") == 1
    assert [request.url.path for request in server.requests].count("/incidents/Q1") == 3


def test_service_lists_are_cached_page_by_page(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(offset_collection(5, "services"))
    client = make_client(server, cache=CacheManager())
    first = list(client.list_services({"query": "db"}, page_size=2))
    assert list(client.list_services({"query": "db"}, page_size=2)) == first
    assert list(client.list_services({"query": "web"}, page_size=2)) == first
    assert len(server.requests) == 6


def test_settings_from_the_environment_pick_host_and_from(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "STATE_TABLE_NAME": "state",
        "PAGERDUTY_REGION": "eu",
        "PAGERDUTY_API_TOKEN_SECRET_ID": "pd/token",
        "PAGERDUTY_FROM_EMAIL": "bot@example.com",
        "PAGERDUTY_READ_TIMEOUT_SECONDS": "4",
    }.items():
        monkeypatch.setenv(name, value)
    client = PagerDutyAPIClientSync(TOKEN)
    assert (client.base_url, client.from_email, client.timeouts.read) == (
        "https://api.eu.pagerduty.com",
        "bot@example.com",
        4.0,
    )


def test_async_client_creates_and_lists() -> None:
    def serve(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, json={"incident": json.loads(request.content)["incident"] | {"id": "Q9"}})
        return offset_collection(3, "incidents")(request)

    async def scenario() -> tuple[dict[str, Any], list[str]]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as http_client:
            client = PagerDutyAPIClient(TOKEN, base_url=BASE_URL, from_email="a@example.com", http_client=http_client)
            incident = await client.create_incident({"title": "t", "service_id": "S1", "urgency": "high"})
            listed = [item["id"] async for item in client.list_incidents(page_size=2)]
        return incident, listed

    incident, listed = asyncio.run(scenario())
    assert (incident["id"], incident["service"]["type"]) == ("Q9", "service_reference")
    assert listed == ["0", "1", "2"]


def test_async_reads_use_the_cache() -> None:
    server = Server(answer(200, service={"id": "S1"}))

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(server)) as http_client:
            client = PagerDutyAPIClient(TOKEN, base_url=BASE_URL, http_client=http_client, cache=CacheManager())
            for _ in range(3):
                assert await client.get_service("S1") == {"id": "S1"}

    asyncio.run(scenario())
    assert len(server.requests) == 1


def test_without_token_or_secret_the_missing_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_TABLE_NAME", "state")
    monkeypatch.delenv("PAGERDUTY_API_TOKEN_SECRET_ID", raising=False)
    with pytest.raises(ConfigurationError, match="PAGERDUTY_API_TOKEN_SECRET_ID"):
        PagerDutyAPIClientSync()


def test_a_ready_body_object_is_sent_as_given(make_client: Callable[..., PagerDutyAPIClientSync]) -> None:
    server = Server(answer(201, incident={"id": "Q1"}))
    body = {"type": "incident_body", "details": "smoke"}
    make_client(server).create_incident({"title": "t", "service_id": "S1", "body": body})
    assert server.body()["incident"]["body"] == body


def test_the_configuration_file_sets_the_read_timeout_and_attempts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "utils.yaml"
    config.write_text("pagerduty:\n  api_timeout: 30\n  retry_attempts: 5\n")
    monkeypatch.setenv("PAGERDUTY_UTILS_CONFIG", str(config))
    monkeypatch.delenv("PAGERDUTY_READ_TIMEOUT_SECONDS", raising=False)
    monkeypatch.delenv("PAGERDUTY_RETRY_ATTEMPTS", raising=False)
    client = PagerDutyAPIClient(TOKEN)
    assert (client.timeouts.read, client.retry.max_attempts) == (30.0, 5)

    monkeypatch.setenv("PAGERDUTY_RETRY_ATTEMPTS", "2")  # the environment wins over the file
    assert PagerDutyAPIClientSync(TOKEN).retry.max_attempts == 2
    explicit = PagerDutyAPIClientSync(TOKEN, base_url=BASE_URL)
    assert (explicit.timeouts.read, explicit.retry.max_attempts) == (10.0, 3)  # explicit clients keep their own
