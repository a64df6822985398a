"""``start-api``'s server: HTTP requests in as API Gateway proxy events, function responses back as HTTP."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from pagerduty_utils.prometheus import CONTENT_TYPE, PrometheusRegistry
from pdutils.local.api_server import ApiHandle, Route, api_routes, serving_api
from pdutils.local.intrinsics import IntrinsicResolver
from pdutils.local.runner import FunctionRunner
from pdutils.local.template import SamTemplate

FIXTURE_TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "local_stack" / "template.yaml"
CONCURRENT_DELIVERIES = 50

pytestmark = pytest.mark.integration


class CountingRegistry(PrometheusRegistry):
    """Tells how many EMF documents it has read: the functions' logs are read on threads of their own."""

    def __init__(self, namespace: str) -> None:
        super().__init__(namespace)
        self.documents = 0
        self.read = threading.Condition()

    def observe_emf(self, document: Mapping[str, Any]) -> None:
        super().observe_emf(document)
        with self.read:
            self.documents += 1
            self.read.notify_all()


@pytest.fixture(scope="module")
def api() -> Iterator[ApiHandle]:
    template = SamTemplate.load(FIXTURE_TEMPLATE)
    resolver = IntrinsicResolver(parameters=template.parameter_values(), resources={}, conditions=template.conditions)
    runners = {
        function_id: FunctionRunner(template.function(function_id), {"GREETING": "hello"})
        for function_id in ("EchoFunction", "FailingFunction")
    }
    routes = [*api_routes(template.functions(), resolver.resolve), Route("POST", "/fail", "FailingFunction")]
    try:
        with serving_api(routes, lambda function_id, event: runners[function_id].invoke(event)) as handle:
            yield handle
    finally:
        for runner in runners.values():
            runner.close()


def echoed(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


def test_routes_come_from_the_functions_api_events(api: ApiHandle) -> None:
    assert {(route.method, route.path, route.function_id) for route in api.routes} >= {
        ("POST", "/echo", "EchoFunction"),
        ("GET", "/items/{item_id}", "EchoFunction"),
    }


def test_post_round_trip_with_the_response_status_headers_and_body(api: ApiHandle) -> None:
    response = httpx.post(f"{api.url}/echo", json={"hello": "world"}, timeout=30)

    assert response.status_code == 201
    assert response.headers["X-Probe"] == "yes"
    body = echoed(response)
    assert (body["method"], body["path"], body["is_base64"]) == ("POST", "/echo", False)
    assert json.loads(body["body"]) == {"hello": "world"}
    assert body["content_type"] == "application/json"


def test_path_parameters_and_query_strings_reach_the_event(api: ApiHandle) -> None:
    response = httpx.get(f"{api.url}/items/42", params={"verbose": "1"}, timeout=30)

    body = echoed(response)
    assert body["path_parameters"] == {"item_id": "42"}
    assert body["query"] == {"verbose": "1"}


def test_a_binary_body_arrives_base64_encoded(api: ApiHandle) -> None:
    payload = bytes([0, 159, 146, 150, 255])

    body = echoed(httpx.post(f"{api.url}/echo", content=payload, timeout=30))

    assert body["is_base64"] is True
    assert base64.b64decode(body["body"]) == payload


def test_an_unknown_route_is_refused_like_api_gateway(api: ApiHandle) -> None:
    response = httpx.get(f"{api.url}/echo", timeout=30)  # /echo exists for POST only

    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


def test_a_failing_function_answers_502(api: ApiHandle) -> None:
    response = httpx.post(f"{api.url}/fail", content=b"{}", timeout=30)

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_fifty_concurrent_deliveries_are_all_answered(api: ApiHandle) -> None:
    """A burst of webhook deliveries, all connecting at once: none is refused or lost."""
    deliveries = [{"delivery": number} for number in range(CONCURRENT_DELIVERIES)]
    all_connected = threading.Barrier(CONCURRENT_DELIVERIES)

    def deliver(delivery: dict[str, int]) -> tuple[int, Any]:
        all_connected.wait(timeout=60)
        response = httpx.post(f"{api.url}/echo", json=delivery, timeout=60)
        return response.status_code, json.loads(echoed(response)["body"])

    with ThreadPoolExecutor(max_workers=CONCURRENT_DELIVERIES) as pool:
        answers = list(pool.map(deliver, deliveries))

    assert [status for status, _ in answers] == [201] * CONCURRENT_DELIVERIES
    assert [body for _, body in answers] == deliveries


def test_metrics_serves_the_functions_emf_documents_as_prometheus_text() -> None:
    metrics = CountingRegistry("Local")
    function = SamTemplate.load(FIXTURE_TEMPLATE).function("EchoFunction")
    with (
        FunctionRunner(function, {"GREETING": "hello"}, metrics=metrics) as runner,
        serving_api(
            [Route("POST", "/echo", "EchoFunction")], lambda _, event: runner.invoke(event), metrics=metrics
        ) as handle,
    ):
        for _ in range(2):
            assert httpx.post(f"{handle.url}/echo", content=b"x", timeout=30).status_code == 201
        with metrics.read:
            assert metrics.read.wait_for(lambda: metrics.documents == 2, timeout=30)

        response = httpx.get(f"{handle.url}/metrics", timeout=30)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE
    assert 'local_echo_requests_total{method="POST"} 2' in response.text.splitlines()
    assert "# TYPE local_echo_requests_total counter" in response.text


def test_without_a_registry_metrics_is_not_a_route(api: ApiHandle) -> None:
    assert httpx.get(f"{api.url}/metrics", timeout=30).status_code == 403
