"""Steering the simulator from another process: the /_sim/ HTTP control plane and `pdutils sim`."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from pdutils.cli import main
from pdutils.commands.sim import URL_ENV
from pdutils.local.stack_record import LocalStackRecord, write_record
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


@dataclass
class Child:
    """A `pdutils sim` child process and the lines it printed, read by a background thread."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str]

    def read_until(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"`pdutils sim` never printed {pattern!r}")


def copy_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


@contextmanager
def pdutils_sim(*options: str) -> Iterator[Child]:
    """`pdutils sim --port 0 OPTIONS` in a child process, killed if the test leaves it running."""
    command = [sys.executable, "-m", "pdutils.cli", "sim", "--port", "0", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    reader = threading.Thread(target=copy_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        yield Child(process, lines)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        reader.join(timeout=10)
        process.stdout.close()


@pytest.fixture
def standalone_simulator() -> Iterator[tuple[Child, str]]:
    with pdutils_sim("--rate-limit", "1") as child:
        yield child, child.read_until(r"listening on (http://\S+)").group(1)


def test_pdutils_sim_runs_standalone_and_obeys_the_cli(
    standalone_simulator: tuple[Child, str], capsys: pytest.CaptureFixture[str]
) -> None:
    child, url = standalone_simulator

    assert main(["sim", "fault", "--status", "504", "--url", url]) == 0
    assert httpx.post(f"{url}/v2/enqueue", json=TRIGGER, timeout=5).status_code == 504
    assert httpx.post(f"{url}/v2/enqueue", json=TRIGGER, timeout=5).status_code == 202
    assert httpx.post(f"{url}/v2/enqueue", json=TRIGGER, timeout=5).status_code == 429
    capsys.readouterr()
    assert main(["sim", "state", "--url", url]) == 0
    state = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in state["requests"]] == [504, 202, 429]
    assert main(["sim", "reset", "--url", url]) == 0

    child.process.send_signal(signal.SIGINT)

    assert child.process.wait(timeout=10) == 0
    child.read_until("stopped")


def test_pdutils_sim_without_validation_says_so_and_sends_webhooks(webhook_sink: WebhookSink) -> None:
    options = ("--no-validate", "--webhook", webhook_sink.url, "--webhook-secret", "s3cret")
    with pdutils_sim(*options) as child:
        child.read_until(r"webhooks -> ")
        url = child.read_until(r"listening on (http://\S+)").group(1)
        child.read_until(r"OpenAPI validation: OFF \(--no-validate\)")

        httpx.post(f"{url}/v2/enqueue", json=TRIGGER, timeout=5).raise_for_status()

        [delivery] = webhook_sink.wait_for(1)
        assert delivery.headers["x-pagerduty-signature"].startswith("v1=")
        child.process.send_signal(signal.SIGTERM)
        assert child.process.wait(timeout=10) == 0


def test_pdutils_sim_fault_reaches_the_running_stacks_simulator_by_default(
    pd_sim: SimulatorHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    record = LocalStackRecord(
        endpoint_url="http://127.0.0.1:1",
        region="us-east-1",
        stack_name="s",
        simulator_url=pd_sim.base_url,
        api_url=None,
    )
    write_record(tmp_path, record)

    assert main(["sim", "fault", "--status", "503", "--template", str(tmp_path / "template.yaml")]) == 0

    assert [(fault.status, fault.remaining) for fault in pd_sim.faults.pending] == [(503, 1)]
