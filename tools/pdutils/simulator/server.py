"""The simulator over real HTTP (stdlib ``ThreadingHTTPServer``), and the handle tests and tools hold.

Faults are applied here, at the transport, before the simulator sees the request: an injected status is
answered in the API's error shape, a timeout holds the connection unanswered, a drop closes it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from threading import Thread
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pdutils.http_handler import OneEntryRequestHandler
from pdutils.simulator.app import CONTROL_PREFIX, Simulator
from pdutils.simulator.config import SimulatorConfig
from pdutils.simulator.faults import FaultInjector
from pdutils.simulator.replies import Reply, error_reply
from pdutils.simulator.state import Service, SimulatorState, WebhookSubscription, new_id

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
SHUTDOWN_POLL_SECONDS = 0.05


class _SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog (5) resets connections when an async client opens dozens at once.
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        super().__init__(address, _RequestHandler)
        self.simulator = simulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (its own timeout, or after a fault) is normal here; anything else is shown."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(OneEntryRequestHandler):
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms to each.
    disable_nagle_algorithm = True
    server: _SimulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are recorded in the simulator's state; the console stays quiet."""

    def _serve(self) -> None:
        simulator = self.server.simulator
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        if url.path.startswith(CONTROL_PREFIX):
            self._send(simulator.control(self.command, url.path, headers, raw))
            return
        query = parse_qs(url.query, keep_blank_values=True)
        recorded = simulator.record(self.command, url.path, query, headers, raw)
        fault = simulator.faults.take(url.path)
        if fault is not None:
            recorded.fault = fault.kind
            if fault.delay:
                time.sleep(fault.delay)
            if fault.timeout:
                simulator.faults.hold(simulator.config.timeout_hold_seconds)
            if fault.timeout or fault.drop:
                self.close_connection = True
                return
            if fault.status is not None:
                reply = error_reply(url.path, fault.status, headers=fault.response_headers())
                recorded.status = reply.status
                self._send(reply)
                return
        try:
            reply = simulator.process(recorded, query, headers, raw)
        except Exception as error:
            # A simulator bug: answer (rather than drop the connection, which looks like a network fault) and show it.
            logger.exception("PagerDuty simulator failed on %s %s", self.command, url.path)
            reply = error_reply(url.path, 500, [f"simulator error: {type(error).__name__}: {error}"])
        recorded.status = reply.status
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-request-id", uuid.uuid4().hex)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


@dataclass
class SimulatorHandle:
    """A running simulator: where it listens and how to steer and inspect it from a test."""

    base_url: str
    simulator: Simulator

    @property
    def control_headers(self) -> dict[str, str]:
        """What a request to the ``/_sim/`` control plane must carry."""
        return self.simulator.config.control_headers

    @property
    def faults(self) -> FaultInjector:
        return self.simulator.faults

    @property
    def state(self) -> SimulatorState:
        return self.simulator.state

    @property
    def valid_tokens(self) -> set[str]:
        """REST tokens accepted now (mutable; back to the configured set on ``reset``)."""
        return self.simulator.valid_tokens

    @property
    def validation_enabled(self) -> bool:
        return self.simulator.validator is not None

    @property
    def events_rate_limit(self) -> int:
        """Events accepted per routing key per minute (settable; back to the configured value on ``reset``)."""
        return self.simulator.events_limiter.limit

    @events_rate_limit.setter
    def events_rate_limit(self, per_minute: int) -> None:
        self.simulator.events_limiter.limit = per_minute

    @property
    def rest_rate_limit(self) -> int:
        """REST requests accepted per token per minute (settable; back to the configured value on ``reset``)."""
        return self.simulator.rest_limiter.limit

    @rest_rate_limit.setter
    def rest_rate_limit(self, per_minute: int) -> None:
        self.simulator.rest_limiter.limit = per_minute

    def reset(self) -> None:
        self.simulator.reset()

    def add_service(self, name: str) -> Service:
        """Add a service to the account (incidents can be created on it; it appears in the audit trail)."""
        return self.state.add_service(Service(new_id("P", 7), name))

    def add_webhook_subscription(
        self, url: str, secret: str, event_types: Sequence[str] | None = None
    ) -> WebhookSubscription:
        """Deliver Webhooks v3 events (all, or only ``event_types``) to ``url``, signed with ``secret``."""
        return self.simulator.webhooks.subscribe(url, secret, event_types)

    def wait_for_webhooks(self, timeout: float = 10.0) -> bool:
        """Block until every queued webhook delivery (retries included) is done; False on timeout."""
        return self.simulator.webhooks.wait_idle(timeout)


@contextmanager
def running_simulator(
    port: int = 0, config: SimulatorConfig | None = None, *, host: str = "127.0.0.1"
) -> Iterator[SimulatorHandle]:
    """Serve a PagerDuty simulator on ``host:port`` (0: a free port) until the block exits."""
    simulator = Simulator(config or SimulatorConfig())
    server = _SimulatorHTTPServer((host, port), simulator)
    bound_host, bound_port = server.server_address[:2]
    base_url = f"http://{bound_host!s}:{bound_port}"
    simulator.set_public_url(base_url)
    simulator.webhooks.start()
    if simulator.validator is not None:
        # Parse the OpenAPI files while the caller gets going; a request arriving first waits for them.
        Thread(target=simulator.validator.preload, name="pd-sim-openapi", daemon=True).start()
    thread = Thread(target=server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,), name="pd-sim-http", daemon=True)
    thread.start()
    try:
        yield SimulatorHandle(base_url, simulator)
    finally:
        server.shutdown()
        simulator.faults.clear()
        simulator.webhooks.stop()
        server.server_close()
        thread.join(timeout=5)
