"""``pdutils start`` as a user runs it: the stack comes up, serves, is found by ``pdutils invoke``, stops on Ctrl-C."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pdutils.local.stack_record import record_path

FIXTURE_TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "local_stack" / "template.yaml"
READY_LINE = "Ctrl-C stops"

pytestmark = pytest.mark.integration


@pytest.fixture
def started() -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    command = [sys.executable, "-m", "pdutils.cli", "start", "--port", "0", "--template", str(FIXTURE_TEMPLATE)]
    process = subprocess.Popen(  # noqa: S603  # our own CLI
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


def test_start_serves_the_stack_until_interrupted(started: tuple[subprocess.Popen[str], list[str]]) -> None:
    process, summary = started
    record = json.loads(record_path(FIXTURE_TEMPLATE.parent).read_text())

    assert any("BatchFunction" in line and "SQS" in line for line in summary)
    response = httpx.post(f"{record['api_url']}/echo", content=b"ping", timeout=30)
    assert response.status_code == 201
    assert response.json()["environment"]["STATE_TABLE_NAME"].startswith("pdutils-local-StateTable-")

    invoked = subprocess.run(  # noqa: S603  # our own CLI
        [sys.executable, "-m", "pdutils.cli", "invoke", "EchoFunction", "-e", "-", "--template", str(FIXTURE_TEMPLATE)],
        input='{"httpMethod": "GET"}',
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    environment = json.loads(json.loads(invoked.stdout)["body"])["environment"]
    assert environment["QUEUE_ARN"].startswith("arn:aws:sqs:us-east-1:123456789012:pdutils-local-WorkQueue-")

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    assert not record_path(FIXTURE_TEMPLATE.parent).exists()
