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

    state = httpx.get(f"{pd_sim.base_url}/_sim/state", headers=pd_sim.control_headers, timeout=5).json()

    assert [(r["path"], r["status"]) for r in state["requests"]] == [("/v2/enqueue", 202)]
    assert [(a["dedup_key"], a["status"]) for a in state["alerts"]] == [("k", "triggered")]
    assert [i["incident_key"] for i in state["incidents"]] == ["k"]
    assert state["validation"]["enabled"] is pd_sim.validation_enabled


def test_reset_forgets_everything(pd_sim: SimulatorHandle) -> None:
    httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=5).raise_for_status()
    pd_sim.faults.inject(500, count=None, path_prefix="/incidents")

    assert httpx.post(f"{pd_sim.base_url}/_sim/reset", headers=pd_sim.control_headers, timeout=5).status_code == 200

    assert pd_sim.state.alerts == {}
    assert pd_sim.state.requests == []
    assert pd_sim.faults.pending == []


def test_faults_are_injected_listed_and_cleared_over_http(pd_sim: SimulatorHandle) -> None:
    control = f"{pd_sim.base_url}/_sim/faults"
    headers = pd_sim.control_headers

    created = httpx.post(control, json={"status": 503, "count": 2, "path_prefix": "/v2/"}, headers=headers, timeout=5)
    listed = httpx.get(control, headers=headers, timeout=5).json()["faults"]
    hit = httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=5)
    cleared = httpx.delete(control, headers=headers, timeout=5)

    assert created.status_code == 201
    assert [(f["status"], f["remaining"], f["path_prefix"]) for f in listed] == [(503, 2, "/v2/")]
    assert hit.status_code == 503
    assert cleared.json() == {"faults": []}
    assert httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=5).status_code == 202


@pytest.mark.parametrize("body", [{"status": 200}, {"bogus": True}, {}], ids=["not-an-error", "unknown", "empty"])
def test_invalid_fault_is_refused(pd_sim: SimulatorHandle, body: dict[str, Any]) -> None:
    response = httpx.post(f"{pd_sim.base_url}/_sim/faults", json=body, headers=pd_sim.control_headers, timeout=5)

    assert response.status_code == 400
    assert pd_sim.faults.pending == []


def test_webhook_subscriptions_over_http(pd_sim: SimulatorHandle, webhook_sink: WebhookSink) -> None:
    subscription = {"url": webhook_sink.url, "secret": "s3cret", "event_types": ["incident.triggered"]}

    created = httpx.post(
        f"{pd_sim.base_url}/_sim/webhooks", json=subscription, headers=pd_sim.control_headers, timeout=5
    )
    httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=5).raise_for_status()

    assert created.status_code == 201
    assert "secret" not in created.json()["subscription"]
    [delivery] = webhook_sink.wait_for(1)
    assert json.loads(delivery.body)["event"]["event_type"] == "incident.triggered"
    invalid = httpx.post(
        f"{pd_sim.base_url}/_sim/webhooks", json={"url": "x"}, headers=pd_sim.control_headers, timeout=5
    )
    assert invalid.status_code == 400


def test_unknown_control_route(pd_sim: SimulatorHandle) -> None:
    assert httpx.get(f"{pd_sim.base_url}/_sim/nothing", headers=pd_sim.control_headers, timeout=5).status_code == 404


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Pdutils-Sim-Token": "a-guess"}],
    ids=["no-token", "wrong-token"],
)
def test_control_requests_without_the_token_are_refused(pd_sim: SimulatorHandle, headers: dict[str, str]) -> None:
    httpx.post(f"{pd_sim.base_url}/v2/enqueue", json=TRIGGER, timeout=5).raise_for_status()

    state = httpx.get(f"{pd_sim.base_url}/_sim/state", headers=headers, timeout=5)
    reset = httpx.post(f"{pd_sim.base_url}/_sim/reset", headers=headers, timeout=5)
    fault = httpx.post(f"{pd_sim.base_url}/_sim/faults", json={"status": 503}, headers=headers, timeout=5)

    assert (state.status_code, reset.status_code, fault.status_code) == (401, 401, 401)
    assert "alerts" not in state.json()
    assert list(pd_sim.state.alerts) == [(ROUTING_KEY, "k")]
    assert pd_sim.faults.pending == []


@pytest.mark.parametrize(
    "browser",
    [
        {"Origin": "https://attacker.example"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"},
        {"Referer": "https://attacker.example/page"},
    ],
    ids=["origin", "fetch-metadata", "referer"],
)
def test_control_requests_from_a_browser_are_refused_even_with_the_token(
    pd_sim: SimulatorHandle, browser: dict[str, str]
) -> None:
    pd_sim.faults.inject(500, count=None)

    response = httpx.delete(f"{pd_sim.base_url}/_sim/faults", headers={**pd_sim.control_headers, **browser}, timeout=5)

    assert response.status_code == 403
    assert len(pd_sim.faults.pending) == 1


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "https://hooks.example.com/pd", "http://10.0.0.8:8080/x"]
)
def test_webhooks_cannot_be_pointed_at_other_hosts(pd_sim: SimulatorHandle, url: str) -> None:
    response = httpx.post(
        f"{pd_sim.base_url}/_sim/webhooks", json={"url": url, "secret": "s"}, headers=pd_sim.control_headers, timeout=5
    )

    assert response.status_code == 400
    assert "not a loopback address" in response.json()["error"]["message"]
    assert pd_sim.simulator.webhooks.subscriptions == []


def test_recorded_requests_keep_the_authorization_scheme_only(pd_sim: SimulatorHandle) -> None:
    token = next(iter(pd_sim.valid_tokens))
    httpx.get(f"{pd_sim.base_url}/abilities", headers={"Authorization": f"Token token={token}"}, timeout=5)

    [recorded] = pd_sim.state.requests
    shown = httpx.get(f"{pd_sim.base_url}/_sim/state", headers=pd_sim.control_headers, timeout=5).text

    assert recorded.headers["authorization"] == "Token [redacted]"
    assert token not in shown


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
    standalone_simulator: tuple[Child, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    child, url = standalone_simulator
    token = child.read_until(r"export PDUTILS_SIM_CONTROL_TOKEN=(\S+)").group(1)
    monkeypatch.delenv("PDUTILS_SIM_CONTROL_TOKEN", raising=False)

    assert main(["sim", "fault", "--status", "504", "--url", url]) == 2
    assert main(["sim", "fault", "--status", "504", "--url", url, "--control-token", token]) == 0
    monkeypatch.setenv("PDUTILS_SIM_CONTROL_TOKEN", token)
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
    monkeypatch.delenv("PDUTILS_SIM_CONTROL_TOKEN", raising=False)
    record = LocalStackRecord(
        endpoint_url="http://127.0.0.1:1",
        region="us-east-1",
        stack_name="s",
        simulator_url=pd_sim.base_url,
        api_url=None,
        simulator_control_token=pd_sim.simulator.config.control_token,
    )
    write_record(tmp_path, record)

    assert main(["sim", "fault", "--status", "503", "--template", str(tmp_path / "template.yaml")]) == 0

    assert [(fault.status, fault.remaining) for fault in pd_sim.faults.pending] == [(503, 1)]
