"""Fault injection on the simulator: statuses, latency, timeouts, dropped connections, counts and fractions."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from pdutils.simulator import DEV_TOKEN, SimulatorHandle

pytestmark = pytest.mark.integration

ROUTING_KEY = "R" * 32
TRIGGER: dict[str, Any] = {
    "routing_key": ROUTING_KEY,
    "event_action": "trigger",
    "payload": {"summary": "s", "source": "h", "severity": "info"},
}
REST_HEADERS = {"Authorization": f"Token token={DEV_TOKEN}"}


def enqueue(pd_sim: SimulatorHandle, timeout: float = 5) -> httpx.Response:
    return httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=timeout)


def abilities(pd_sim: SimulatorHandle, timeout: float = 5) -> httpx.Response:
    return httpx.get(f"{pd_sim.base_url}/abilities", headers=REST_HEADERS, timeout=timeout)


@pytest.mark.parametrize("status", [400, 500, 502, 503, 504])
def test_injected_status_is_answered_in_the_apis_error_shape(pd_sim: SimulatorHandle, status: int) -> None:
    pd_sim.faults.inject(status, count=2)

    events_answer, rest_answer, healthy = enqueue(pd_sim), abilities(pd_sim), abilities(pd_sim)

    assert (events_answer.status_code, rest_answer.status_code, healthy.status_code) == (status, status, 200)
    assert set(events_answer.json()) >= {"status", "message"}
    assert set(rest_answer.json()["error"]) == {"message", "code"}
    assert pd_sim.state.alerts == {}


def test_injected_429_carries_rate_limit_headers_by_default(pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(429)

    response = abilities(pd_sim)

    assert response.status_code == 429
    assert response.json()["error"]["code"] == 2020
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.headers["ratelimit-reset"] == "1"


def test_injected_429_without_headers(pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(429, headers={})

    response = abilities(pd_sim)

    assert response.status_code == 429
    assert "ratelimit-reset" not in response.headers
    assert "retry-after" not in response.headers


def test_injected_headers_are_sent(pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(503, headers={"Retry-After": "2"})

    assert abilities(pd_sim).headers["retry-after"] == "2"


def test_added_latency_delays_the_normal_answer(pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(delay=0.3)

    started = time.monotonic()
    response = enqueue(pd_sim)

    assert response.status_code == 202
    assert time.monotonic() - started >= 0.3
    assert pd_sim.state.requests[0].fault == "delay"


def test_timeout_holds_the_connection_past_the_clients_read_timeout(pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(timeout=True)

    with pytest.raises(httpx.ReadTimeout):
        enqueue(pd_sim, timeout=0.3)

    assert pd_sim.state.alerts == {}
    [recorded] = pd_sim.state.requests
    assert (recorded.fault, recorded.status) == ("timeout", None)


def test_dropped_connection_closes_without_a_response(pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(drop=True)

    with pytest.raises(httpx.RemoteProtocolError):
        enqueue(pd_sim)

    assert pd_sim.state.alerts == {}
    assert enqueue(pd_sim).status_code == 202


def test_a_fault_applies_to_the_next_n_requests_only(pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(503, count=3)

    statuses = [abilities(pd_sim).status_code for _ in range(4)]

    assert statuses == [503, 503, 503, 200]


def test_a_fraction_of_requests_fails_repeatably(pd_sim: SimulatorHandle) -> None:
    def run() -> list[int]:
        pd_sim.reset()
        pd_sim.faults.inject(500, count=None, fraction=0.5)
        with httpx.Client(base_url=pd_sim.base_url, headers=REST_HEADERS, timeout=5) as client:
            return [client.get("/abilities").status_code for _ in range(20)]

    first, second = run(), run()

    assert first == second
    assert 0 < first.count(500) < 20
    assert set(first) == {200, 500}


def test_a_fault_can_target_a_path_prefix(pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(502, path_prefix="/v2/")

    assert abilities(pd_sim).status_code == 200
    assert enqueue(pd_sim).status_code == 502
    assert enqueue(pd_sim).status_code == 202


def test_clear_removes_pending_faults(pd_sim: SimulatorHandle) -> None:
    pd_sim.faults.inject(500, count=None)
    pd_sim.faults.clear()

    assert abilities(pd_sim).status_code == 200
