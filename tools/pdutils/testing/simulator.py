"""pytest fixtures for the PagerDuty simulator: one server per session, clean state for every test, and a
local HTTP endpoint that receives the simulator's webhooks."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pdutils.simulator import SimulatorConfig, SimulatorHandle, running_simulator

TEST_CONFIG = SimulatorConfig(
    # Short webhook retry delays and timeouts so tests that exercise retries finish quickly.
    webhook_retry_delays=(0.05, 0.1, 0.2),
    webhook_timeout_seconds=2.0,
)


@dataclass(frozen=True)
class ReceivedWebhook:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookSink:
    """A local endpoint recording every POST; answers 200 unless told otherwise with ``respond_with``."""

    url: str = ""
    received: list[ReceivedWebhook] = field(default_factory=list)
    _answers: deque[tuple[int, float]] = field(default_factory=deque)
    _condition: threading.Condition = field(default_factory=threading.Condition)

    def respond_with(self, *statuses: int, delay: float = 0.0) -> None:
        """Answer the next deliveries with ``statuses`` in order (after ``delay`` seconds each), then 200."""
        with self._condition:
            self._answers.extend((status, delay) for status in statuses)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedWebhook]:
        """The first ``count`` deliveries, once they have arrived (AssertionError after ``timeout``)."""
        with self._condition:
            if not self._condition.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"expected {count} webhook deliveries, got {len(self.received)}")
            return self.received[:count]

    def record(self, headers: dict[str, str], body: bytes) -> tuple[int, float]:
        with self._condition:
            self.received.append(ReceivedWebhook(headers, body))
            self._condition.notify_all()
            return self._answers.popleft() if self._answers else (200, 0.0)


class _SinkHandler(BaseHTTPRequestHandler):
    server: _SinkServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, delay = self.server.sink.record({name.lower(): value for name, value in self.headers.items()}, body)
        if delay:
            time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Deliveries are recorded on the sink; the console stays quiet."""


class _SinkServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, sink: WebhookSink) -> None:
        super().__init__(("127.0.0.1", 0), _SinkHandler)
        self.sink = sink


@pytest.fixture(scope="session")
def pd_sim_server() -> Iterator[SimulatorHandle]:
    """The session's simulator (OpenAPI files parsed once); use ``pd_sim`` in tests for a clean one."""
    with running_simulator(config=TEST_CONFIG) as handle:
        yield handle


@pytest.fixture
def pd_sim(pd_sim_server: SimulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatorHandle]:
    """A clean PagerDuty simulator for one test, with PAGERDUTY_EVENTS_URL and PAGERDUTY_API_URL pointed at it.

    State, faults, webhook subscriptions, throttling history, limits and accepted tokens are reset before and
    after the test.
    """
    pd_sim_server.reset()
    monkeypatch.setenv("PAGERDUTY_EVENTS_URL", pd_sim_server.base_url)
    monkeypatch.setenv("PAGERDUTY_API_URL", pd_sim_server.base_url)
    yield pd_sim_server
    pd_sim_server.reset()


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    """A local HTTP endpoint to subscribe to the simulator's webhooks (``pd_sim.add_webhook_subscription``)."""
    sink = WebhookSink()
    server = _SinkServer(sink)
    host, port = server.server_address[:2]
    sink.url = f"http://{host!s}:{port}/webhooks"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="webhook-sink", daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
