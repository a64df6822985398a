"""Events clients over httpx.MockTransport: request shapes, results, retries, deadlines and metrics."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from pagerduty_utils.api_client import (
    AsyncEventsClient,
    DeadlineExceededError,
    EventsClient,
    InvalidEventError,
    PagerDutyUnavailableError,
    RateLimitedError,
    RetryPolicy,
)
from pagerduty_utils.metrics_collector import MetricsCollector
from pagerduty_utils.pagerduty_events import AlertEvent, AlertPayload, ChangeEvent, EventAction, Severity
from pagerduty_utils.settings import CommonSettings

BASE_URL = "https://events.example.test"
ROUTING_KEY = "R" * 32
Handler = Callable[[httpx.Request], httpx.Response]


class RecordedMetrics(MetricsCollector):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int | None, int]] = []

    def api_call(self, operation: str, status_code: int | None, latency_ms: float, retries: int) -> None:
        self.calls.append((operation, status_code, retries))


@dataclass
class Recorder:
    """Answers with the queued responses (the last one repeats) and keeps every request."""

    responses: list[httpx.Response | Exception]
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def accepted(dedup_key: str = "pd-key") -> httpx.Response:
    return httpx.Response(202, json={"status": "success", "message": "Event processed", "dedup_key": dedup_key})


def trigger(dedup_key: str | None = "alarm/cpu") -> AlertEvent:
    payload = AlertPayload.model_validate({"summary": "CPU high", "source": "i-123", "severity": Severity.WARNING})
    return AlertEvent.model_validate(
        {"routing_key": ROUTING_KEY, "event_action": EventAction.TRIGGER, "dedup_key": dedup_key, "payload": payload}
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def metrics() -> RecordedMetrics:
    return RecordedMetrics()


@pytest.fixture
def make_client(sleeps: list[float], metrics: RecordedMetrics) -> Callable[[Recorder], EventsClient]:
    def build(recorder: Recorder) -> EventsClient:
        retry = RetryPolicy(
            max_attempts=3, base_delay=1.0, max_delay=4.0, random_source=lambda: 1.0, sleep=sleeps.append
        )
        http_client = httpx.Client(transport=httpx.MockTransport(recorder))
        return EventsClient(BASE_URL + "/", http_client=http_client, retry=retry, metrics=metrics)

    return build


def test_trigger_is_posted_as_json_and_returns_pagerdutys_dedup_key(
    make_client: Callable[[Recorder], EventsClient], metrics: RecordedMetrics
) -> None:
    recorder = Recorder([accepted("returned-key")])
    result = make_client(recorder).send(trigger())
    [request] = recorder.requests
    assert (request.method, str(request.url)) == ("POST", f"{BASE_URL}/v2/enqueue")
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    assert json.loads(request.content)["payload"]["severity"] == "warning"
    assert (result.dedup_key, result.status_code, result.attempts) == ("returned-key", 202, 1)
    assert metrics.calls == [("events.trigger", 202, 0)]


def test_sent_dedup_key_is_returned_when_pagerduty_echoes_none(make_client: Callable[[Recorder], EventsClient]) -> None:
    result = make_client(Recorder([httpx.Response(202, text="accepted")])).send(trigger("mine"))
    assert result.dedup_key == "mine"


def test_change_event_goes_to_its_own_path(make_client: Callable[[Recorder], EventsClient]) -> None:
    recorder = Recorder([httpx.Response(202, json={"status": "success", "message": "Change event processed"})])
    result = make_client(recorder).send_change(ChangeEvent(routing_key=ROUTING_KEY, summary="deployed v2"))
    assert recorder.requests[0].url.path == "/v2/change/enqueue"
    assert (result.dedup_key, result.message) == ("", "Change event processed")


def test_resolve_without_dedup_key_sends_nothing(make_client: Callable[[Recorder], EventsClient]) -> None:
    recorder = Recorder([accepted()])
    with pytest.raises(InvalidEventError):
        make_client(recorder).send(
            AlertEvent.model_validate({"routing_key": ROUTING_KEY, "event_action": EventAction.RESOLVE})
        )
    assert recorder.requests == []


def test_throttling_is_retried_with_backoff_then_succeeds(
    make_client: Callable[[Recorder], EventsClient], sleeps: list[float], metrics: RecordedMetrics
) -> None:
    recorder = Recorder([httpx.Response(429), httpx.Response(503), accepted()])
    result = make_client(recorder).send(trigger())
    assert (result.attempts, len(recorder.requests), sleeps) == (3, 3, [1.0, 2.0])
    assert metrics.calls == [("events.trigger", 202, 2)]
    assert recorder.requests[0].content == recorder.requests[2].content


def test_retry_after_header_sets_the_wait(make_client: Callable[[Recorder], EventsClient], sleeps: list[float]) -> None:
    recorder = Recorder([httpx.Response(429, headers={"Retry-After": "3"}), accepted()])
    make_client(recorder).send(trigger())
    assert sleeps == [3.0]


def test_persistent_throttling_ends_with_a_retryable_error(
    make_client: Callable[[Recorder], EventsClient], metrics: RecordedMetrics
) -> None:
    recorder = Recorder([httpx.Response(429, headers={"x-request-id": "req-1"})])
    with pytest.raises(RateLimitedError) as raised:
        make_client(recorder).send(trigger())
    assert len(recorder.requests) == 3
    assert (raised.value.status, raised.value.request_id, raised.value.retryable) == (429, "req-1", True)
    assert raised.value.retry_after == 4.0
    assert metrics.calls == [("events.trigger", 429, 2)]


def test_invalid_event_is_never_retried(make_client: Callable[[Recorder], EventsClient], sleeps: list[float]) -> None:
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": ["'payload.source' is missing"]}
    recorder = Recorder([httpx.Response(400, json=body)])
    with pytest.raises(InvalidEventError) as raised:
        make_client(recorder).send(trigger())
    assert (len(recorder.requests), sleeps) == (1, [])
    assert raised.value.details == ("'payload.source' is missing",)
    assert not raised.value.retryable


def test_network_errors_are_retried(make_client: Callable[[Recorder], EventsClient], metrics: RecordedMetrics) -> None:
    recorder = Recorder([httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), accepted()])
    assert make_client(recorder).send(trigger()).attempts == 3
    recorder = Recorder([httpx.RemoteProtocolError("dropped")])
    with pytest.raises(PagerDutyUnavailableError, match="network error"):
        make_client(recorder).send(trigger())
    assert metrics.calls[-1] == ("events.trigger", None, 2)


def test_attempt_timeouts_are_clipped_to_the_deadline(make_client: Callable[[Recorder], EventsClient]) -> None:
    recorder = Recorder([accepted()])
    make_client(recorder).send(trigger(), deadline=time.monotonic() + 2.0)
    timeout = recorder.requests[0].extensions["timeout"]
    assert 1.5 < timeout["read"] <= 2.0
    assert timeout["connect"] <= 2.0


def test_no_request_once_the_deadline_has_passed(make_client: Callable[[Recorder], EventsClient]) -> None:
    recorder = Recorder([accepted()])
    with pytest.raises(DeadlineExceededError):
        make_client(recorder).send(trigger(), deadline=time.monotonic() - 1)
    assert recorder.requests == []


def test_from_settings_picks_the_region_host_and_timeouts() -> None:
    settings = CommonSettings.model_validate(
        {"STATE_TABLE_NAME": "state", "PAGERDUTY_REGION": "eu", "PAGERDUTY_CONNECT_TIMEOUT_SECONDS": "1.5"}
    )
    client = EventsClient.from_settings(settings)
    assert client.base_url == "https://events.eu.pagerduty.com"
    assert (client.timeouts.connect, client.timeouts.read) == (1.5, 10.0)


def test_async_client_sends_concurrently(metrics: RecordedMetrics) -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return accepted(json.loads(request.content)["dedup_key"])

    async def send_all() -> list[str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http_client:
            client = AsyncEventsClient(BASE_URL, http_client=http_client, metrics=metrics)
            results = await asyncio.gather(*(client.send(trigger(f"k{index}")) for index in range(10)))
        return [result.dedup_key for result in results]

    assert asyncio.run(send_all()) == [f"k{index}" for index in range(10)]
    assert peak == 10
    assert len(metrics.calls) == 10


def test_async_attempt_is_cut_at_the_deadline(metrics: RecordedMetrics) -> None:
    async def hanging(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send() -> None:
        retry = RetryPolicy(minimum_attempt_seconds=0.05)
        async with httpx.AsyncClient(transport=httpx.MockTransport(hanging)) as http_client:
            client = AsyncEventsClient(BASE_URL, http_client=http_client, retry=retry, metrics=metrics)
            with pytest.raises(PagerDutyUnavailableError) as raised:
                await client.send(trigger(), deadline=time.monotonic() + 0.3)
            assert raised.value.retryable

    # The transport hangs forever: returning at all proves the deadline cut the attempt (the outer timeout only
    # turns a regression into a failure instead of a hung suite).
    asyncio.run(asyncio.wait_for(send(), timeout=30))
    assert metrics.calls == [("events.trigger", None, 0)]
