"""The Events clients against the PagerDuty simulator over real HTTP: alert lifecycle, limits and every fault."""

from __future__ import annotations

import asyncio
import time

import pytest

from pagerduty_utils.api_client import (
    AsyncEventsClient,
    EventsClient,
    InvalidEventError,
    PagerDutyUnavailableError,
    RateLimitedError,
    RetryPolicy,
    Timeouts,
)
from pagerduty_utils.pagerduty_events import AlertEvent, ChangeEvent, EventAction
from pdutils.simulator import SimulatorHandle

pytestmark = pytest.mark.integration

ROUTING_KEY = "R" * 32
FAST_TIMEOUTS = Timeouts(connect=1.0, read=0.5)


def alert(
    action: EventAction = EventAction.TRIGGER, dedup_key: str | None = "disk-full", **payload: object
) -> AlertEvent:
    document: dict[str, object] = {"routing_key": ROUTING_KEY, "event_action": action, "dedup_key": dedup_key}
    if action is EventAction.TRIGGER:
        document["payload"] = {"summary": "Disk full on db-1", "source": "db-1", "severity": "critical", **payload}
    return AlertEvent.model_validate(document)


class Waits:
    """Records the retry waits the policy asks for instead of sleeping through them."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def retry(waits: Waits) -> RetryPolicy:
    return RetryPolicy(max_attempts=3, base_delay=0.2, max_delay=2.0, sleep=waits.sleep, async_sleep=waits.async_sleep)


@pytest.fixture
def client(pd_sim: SimulatorHandle, retry: RetryPolicy) -> EventsClient:
    return EventsClient(pd_sim.base_url, retry=retry, timeouts=FAST_TIMEOUTS)


def test_trigger_acknowledge_resolve_follow_the_alert(pd_sim: SimulatorHandle, client: EventsClient) -> None:
    result = client.send(alert())
    assert (result.dedup_key, result.status_code, result.attempts) == ("disk-full", 202, 1)
    assert pd_sim.state.alerts[(ROUTING_KEY, "disk-full")].status == "triggered"
    client.send(alert(EventAction.ACKNOWLEDGE))
    assert pd_sim.state.alerts[(ROUTING_KEY, "disk-full")].status == "acknowledged"
    client.send(alert(EventAction.RESOLVE))
    assert pd_sim.state.alerts[(ROUTING_KEY, "disk-full")].status == "resolved"


def test_generated_dedup_key_resolves_the_alert_it_opened(pd_sim: SimulatorHandle, client: EventsClient) -> None:
    dedup_key = client.send(alert(dedup_key=None)).dedup_key
    client.send(alert(EventAction.RESOLVE, dedup_key=dedup_key))
    assert pd_sim.state.alerts[(ROUTING_KEY, dedup_key)].status == "resolved"


def test_over_long_dedup_key_is_hashed_the_same_way_for_trigger_and_resolve(
    pd_sim: SimulatorHandle, client: EventsClient
) -> None:
    long_key = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:" + "a" * 400
    sent = client.send(alert(dedup_key=long_key)).dedup_key
    assert len(sent) <= 255
    client.send(alert(EventAction.RESOLVE, dedup_key=long_key))
    assert pd_sim.state.alerts[(ROUTING_KEY, sent)].status == "resolved"


def test_limits_are_applied_before_sending(pd_sim: SimulatorHandle, client: EventsClient) -> None:
    client.send(alert(summary="s" * 3000, custom_details={"log": "x" * 600_000}))
    body = pd_sim.state.requests[-1].body
    assert len(body["payload"]["summary"]) == 1024
    assert set(body["payload"]["custom_details"]) == {"notice"}
    assert pd_sim.state.requests[-1].status == 202


def test_resolve_without_dedup_key_never_reaches_pagerduty(pd_sim: SimulatorHandle, client: EventsClient) -> None:
    with pytest.raises(InvalidEventError):
        client.send(alert(EventAction.RESOLVE, dedup_key=None))
    assert pd_sim.state.requests == []


def test_change_event_is_accepted(pd_sim: SimulatorHandle, client: EventsClient) -> None:
    event = ChangeEvent.model_validate({"routing_key": ROUTING_KEY, "summary": "Deployed v2", "source": "ci"})
    assert client.send_change(event).status_code == 202
    assert pd_sim.state.requests[-1].path == "/v2/change/enqueue"


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retried(pd_sim: SimulatorHandle, client: EventsClient, status: int) -> None:
    pd_sim.faults.inject(status)
    assert client.send(alert()).attempts == 2
    assert [request.status for request in pd_sim.state.requests] == [status, 202]


def test_persistent_server_error_ends_with_a_retryable_error(
    pd_sim: SimulatorHandle, client: EventsClient, waits: Waits
) -> None:
    pd_sim.faults.inject(500, count=None)
    with pytest.raises(PagerDutyUnavailableError) as raised:
        client.send(alert())
    assert (raised.value.status, raised.value.retryable, len(pd_sim.state.requests)) == (500, True, 3)
    assert raised.value.request_id
    assert len(waits.seconds) == 2


def test_bare_429_is_retried_with_backoff(pd_sim: SimulatorHandle, client: EventsClient, waits: Waits) -> None:
    pd_sim.faults.inject(429, headers={})
    assert client.send(alert()).attempts == 2
    assert 0 <= waits.seconds[0] <= 0.2


def test_429_with_rate_limit_headers_waits_as_told(pd_sim: SimulatorHandle, client: EventsClient, waits: Waits) -> None:
    pd_sim.faults.inject(429)
    assert client.send(alert()).attempts == 2
    assert waits.seconds == [1.0]


def test_429_asking_for_a_long_wait_is_handed_back(pd_sim: SimulatorHandle, client: EventsClient) -> None:
    pd_sim.faults.inject(429, headers={"Retry-After": "30"})
    with pytest.raises(RateLimitedError) as raised:
        client.send(alert())
    assert (raised.value.retry_after, len(pd_sim.state.requests)) == (30.0, 1)


def test_simulated_rate_limit_per_routing_key(pd_sim: SimulatorHandle, client: EventsClient) -> None:
    pd_sim.events_rate_limit = 2
    client.send(alert(dedup_key="a"))
    client.send(alert(dedup_key="b"))
    with pytest.raises(RateLimitedError) as raised:
        client.send(alert(dedup_key="c"))
    assert raised.value.status == 429
    assert (ROUTING_KEY, "c") not in pd_sim.state.alerts


def test_400_is_never_retried(pd_sim: SimulatorHandle, client: EventsClient) -> None:
    pd_sim.faults.inject(400)
    with pytest.raises(InvalidEventError) as raised:
        client.send(alert())
    assert (raised.value.status, len(pd_sim.state.requests)) == (400, 1)


@pytest.mark.parametrize("fault", ["timeout", "drop"])
def test_timeouts_and_dropped_connections_are_retried(
    pd_sim: SimulatorHandle, client: EventsClient, fault: str
) -> None:
    pd_sim.faults.inject(timeout=fault == "timeout", drop=fault == "drop")
    assert client.send(alert()).attempts == 2
    assert pd_sim.state.alerts[(ROUTING_KEY, "disk-full")].status == "triggered"


def test_deadline_bounds_a_hanging_pagerduty(pd_sim: SimulatorHandle, retry: RetryPolicy) -> None:
    pd_sim.faults.inject(timeout=True, count=None)
    client = EventsClient(pd_sim.base_url, retry=retry, timeouts=Timeouts(connect=1.0, read=10.0))
    started = time.monotonic()
    with pytest.raises(PagerDutyUnavailableError) as raised:
        client.send(alert(), deadline=started + 0.8)
    assert time.monotonic() - started < pd_sim.simulator.config.timeout_hold_seconds / 2  # cut by the deadline
    assert raised.value.retryable
    assert raised.value.retry_after is not None


def test_slow_answers_within_the_timeout_succeed(pd_sim: SimulatorHandle, client: EventsClient) -> None:
    pd_sim.faults.inject(delay=0.2)
    assert client.send(alert()).attempts == 1


def test_async_client_sends_concurrently_and_retries(pd_sim: SimulatorHandle, retry: RetryPolicy) -> None:
    # Two faults against three attempts: whichever sends meet them, and in whatever order the
    # retries race the first attempts of the others, no send can run out of attempts.
    pd_sim.faults.inject(503, count=retry.max_attempts - 1)

    async def send_all() -> list[int]:
        client = AsyncEventsClient(pd_sim.base_url, retry=retry, timeouts=FAST_TIMEOUTS)
        results = await asyncio.gather(*(client.send(alert(dedup_key=f"k{index}")) for index in range(20)))
        return [result.status_code for result in results]

    assert asyncio.run(send_all()) == [202] * 20
    assert len(pd_sim.state.alerts) == 20
    assert len(pd_sim.state.requests) == 20 + retry.max_attempts - 1


def test_async_deadline_cuts_a_hanging_attempt(pd_sim: SimulatorHandle, retry: RetryPolicy) -> None:
    pd_sim.faults.inject(timeout=True, count=None)

    async def send() -> None:
        client = AsyncEventsClient(pd_sim.base_url, retry=retry, timeouts=Timeouts(connect=1.0, read=10.0))
        await client.send(alert(), deadline=time.monotonic() + 0.5)

    started = time.monotonic()
    with pytest.raises(PagerDutyUnavailableError):
        asyncio.run(send())
    assert time.monotonic() - started < pd_sim.simulator.config.timeout_hold_seconds / 2  # cut by the deadline
