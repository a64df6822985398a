"""Steering the simulator from another process: the /_sim/ HTTP control plane and `pdutils sim`."""

from __future__ import annotations

import json
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pdutils.cli import main
from pdutils.simulator import SimulatorHandle
from pdutils.testing.simulator import WebhookSink

pytestmark = pytest.mark.integration

ROUTING_KEY = "R" * 32
TRIGGER: dict[str, Any] = {
    "routing_key": ROUTING_KEY,
    "event_action": "trigger",
    "dedup_key": "k",
    "payload": {"summary": "s", "source": "h", "severity": "info"},
}


def test_state_shows_requests_alerts_and_incidents(pd_sim: SimulatorHandle) -> None:
    httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=5).raise_for_status()

    state = httpx.get(f"{pd_sim.base_url}/_sim/state", timeout=5).json()

    assert [(r["path"], r["status"]) for r in state["requests"]] == [("/v2/enqueue", 202)]
    assert [(a["dedup_key"], a["status"]) for a in state["alerts"]] == [("k", "triggered")]
    assert [i["incident_key"] for i in state["incidents"]] == ["k"]
    assert state["validation"]["enabled"] is pd_sim.validation_enabled


def test_reset_forgets_everything(pd_sim: SimulatorHandle) -> None:
    httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=5).raise_for_status()
    pd_sim.faults.inject(500, count=None, path_prefix="/incidents")

    assert httpx.post(f"{pd_sim.base_url}/_sim/reset", timeout=5).status_code == 200

    assert pd_sim.state.alerts == {}
    assert pd_sim.state.requests == []
    assert pd_sim.faults.pending == []


def test_faults_are_injected_listed_and_cleared_over_http(pd_sim: SimulatorHandle) -> None:
    control = f"{pd_sim.base_url}/_sim/faults"

    created = httpx.post(control, json={"status": 503, "count": 2, "path_prefix": "/v2/"}, timeout=5)
    listed = httpx.get(control, timeout=5).json()["faults"]
    hit = httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=5)
    cleared = httpx.delete(control, timeout=5)

    assert created.status_code == 201
    assert [(f["status"], f["remaining"], f["path_prefix"]) for f in listed] == [(503, 2, "/v2/")]
    assert hit.status_code == 503
    assert cleared.json() == {"faults": []}
    assert httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=5).status_code == 202


@pytest.mark.parametrize("body", [{"status": 200}, {"bogus": True}, {}], ids=["not-an-error", "unknown", "empty"])
def test_invalid_fault_is_refused(pd_sim: SimulatorHandle, body: dict[str, Any]) -> None:
    response = httpx.post(f"{pd_sim.base_url}/_sim/faults", json=body, timeout=5)

    assert response.status_code == 400
    assert pd_sim.faults.pending == []


def test_webhook_subscriptions_over_http(pd_sim: SimulatorHandle, webhook_sink: WebhookSink) -> None:
    subscription = {"url": webhook_sink.url, "secret": "s3cret", "event_types": ["incident.triggered"]}

    created = httpx.post(f"{pd_sim.base_url}/_sim/webhooks", json=subscription, timeout=5)
    httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=5).raise_for_status()

    assert created.status_code == 201
    assert "secret" not in created.json()["subscription"]
    [delivery] = webhook_sink.wait_for(1)
    assert json.loads(delivery.body)["event"]["event_type"] == "incident.triggered"
    assert httpx.post(f"{pd_sim.base_url}/_sim/webhooks", json={"url": "x"}, timeout=5).status_code == 400


def test_unknown_control_route(pd_sim: SimulatorHandle) -> None:
    assert httpx.get(f"{pd_sim.base_url}/_sim/nothing", timeout=5).status_code == 404


def read_until(process: subprocess.Popen[str], pattern: str, timeout: float = 20) -> re.Match[str]:
    """Read the child's stdout until a line matches ``pattern``."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while (remaining := deadline - time.monotonic()) > 0:
            if not selector.select(remaining):
                break
            line = process.stdout.readline()
            if not line:
                break
            if match := re.search(pattern, line):
                return match
    raise AssertionError(f"`pdutils sim` never printed {pattern!r}")


@pytest.fixture
def standalone_simulator() -> Iterator[tuple[subprocess.Popen[str], str]]:
    command = [sys.executable, "-m", "pdutils.cli", "sim", "--port", "0", "--rate-limit", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603 - our own CLI
    try:
        url = read_until(process, r"listening on (http://\S+)").group(1)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def test_pdutils_sim_runs_standalone_and_obeys_the_cli(
    standalone_simulator: tuple[subprocess.Popen[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    process, url = standalone_simulator

    assert main(["sim", "fault", "--status", "504", "--url", url]) == 0
    assert httpx.post(f"{url}/v2/enqueue", json=TRIGGER, timeout=5).status_code == 504
    assert httpx.post(f"{url}/v2/enqueue", json=TRIGGER, timeout=5).status_code == 202
    assert httpx.post(f"{url}/v2/enqueue", json=TRIGGER, timeout=5).status_code == 429
    capsys.readouterr()
    assert main(["sim", "state", "--url", url]) == 0
    state = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in state["requests"]] == [504, 202, 429]
    assert main(["sim", "reset", "--url", url]) == 0

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=10) == 0
    read_until(process, "stopped")
