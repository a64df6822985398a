"""``pdutils start`` and ``start-api`` as a user runs them: they come up, serve, and stop on Ctrl-C."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from pdutils.local.stack_record import record_path
from pdutils.local.target import AwsTarget
from tests.integration.fixture_stack import copy_of_fixture_stack

READY_LINE = "Ctrl-C stops"

pytestmark = pytest.mark.integration


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return copy_of_fixture_stack(tmp_path)


@contextmanager
def running_command(*arguments: str, template: Path | None = None) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """Run ``pdutils <arguments>`` on ``template`` (by default a copy of the fixture stack of its own) until it
    prints that it is ready; yields the process and what it printed."""
    scratch = tempfile.TemporaryDirectory()
    template = template or copy_of_fixture_stack(Path(scratch.name))
    command = [sys.executable, "-m", "pdutils.cli", *arguments, "--template", str(template)]
    process = subprocess.Popen(  # our own CLI
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    try:
        while READY_LINE not in (line := lines.get(timeout=60)):
            seen.append(line)
        yield process, seen
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        scratch.cleanup()


WEBHOOK_SECRET = "s3cret-from-the-command-line"


@pytest.fixture
def started(template: Path) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    with running_command("start", "--port", "0", "--webhook-secret", WEBHOOK_SECRET, template=template) as running:
        yield running


def interrupt_and_wait(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=30)


def test_start_serves_the_stack_until_interrupted(
    template: Path, started: tuple[subprocess.Popen[str], list[str]]
) -> None:
    process, summary = started
    record = json.loads(record_path(template.parent).read_text())

    assert any("BatchFunction" in line and "SQS" in line for line in summary)
    assert f"status file       {record_path(template.parent)} " in "".join(summary)
    response = httpx.post(f"{record['api_url']}/echo", content=b"ping", timeout=30)
    assert response.status_code == 201
    assert response.json()["environment"]["STATE_TABLE_NAME"].startswith("pdutils-local-StateTable-")
    assert any(line.startswith("metrics") and f"{record['api_url']}/metrics" in line for line in summary)
    metrics = httpx.get(f"{record['api_url']}/metrics", timeout=30)
    assert (metrics.status_code, metrics.headers["Content-Type"]) == (200, "text/plain; version=0.0.4; charset=utf-8")

    invoked = subprocess.run(  # our own CLI
        [sys.executable, "-m", "pdutils.cli", "invoke", "EchoFunction", "-e", "-", "--template", str(template)],
        input='{"httpMethod": "GET"}',
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    environment = json.loads(json.loads(invoked.stdout)["body"])["environment"]
    steered = subprocess.run(  # our own CLI: the simulator's URL and control token come from the status file
        [sys.executable, "-m", "pdutils.cli", "sim", "state", "--template", str(template)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "requests" in json.loads(steered.stdout)
    assert environment["QUEUE_ARN"].startswith("arn:aws:sqs:us-east-1:123456789012:pdutils-local-WorkQueue-")
    secrets = AwsTarget.embedded(record["endpoint_url"]).client("secretsmanager")
    assert secrets.get_secret_value(SecretId="probe/webhook-secret")["SecretString"] == json.dumps([WEBHOOK_SECRET])

    assert interrupt_and_wait(process) == 0
    assert not record_path(template.parent).exists()


def test_start_api_serves_the_routes_until_interrupted() -> None:
    with running_command("start-api", "--port", "0") as (process, routes):
        echo_url = next(line.split()[1] for line in routes if line.startswith("POST") and "/echo" in line)

        response = httpx.post(echo_url, content=b"ping", timeout=30)

        assert response.status_code == 201
        assert response.json()["body"] == "ping"
        assert interrupt_and_wait(process) == 0
