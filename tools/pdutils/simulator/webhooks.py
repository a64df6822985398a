"""Webhooks v3 delivery: signed like PagerDuty, sent from a background worker, retried with backoff.

Each event is one JSON body, signed once (``X-PagerDuty-Signature: v1=<hex HMAC-SHA256(secret, body)>``) and
re-sent unchanged on retry with the same ``X-Webhook-Id`` (one per event and subscription). 2xx ends a
delivery; 5xx, 429, timeouts and network errors are retried after the configured delays; any other 4xx drops
it, as PagerDuty does, and three drops in a row disable the subscription. Every attempt is appended to
``state.webhook_deliveries``.

Deliveries go to loopback addresses only (``localhost``, ``127.0.0.0/8``, ``::1``) unless the subscription's host
is in ``allowed_hosts``: whoever can subscribe must not turn the simulator into a way to POST to other hosts.
Names other than ``localhost`` are not resolved, so a name that resolves to loopback must be allowed too.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import ipaddress
import itertools
import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from pdutils.simulator.state import SimulatorState, WebhookDelivery, WebhookSubscription, new_id, utc_now

USER_AGENT = "PagerDuty-Webhook/V3.0"
RETRYABLE_CLIENT_STATUSES = frozenset({408, 429})


def sign(secret: str, body: bytes) -> str:
    """The ``X-PagerDuty-Signature`` value PagerDuty sends for ``body`` under ``secret``."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(
    event_type: str, data: dict[str, Any], *, agent: dict[str, Any] | None, client: dict[str, Any] | None
) -> dict[str, Any]:
    """A Webhooks v3 envelope around ``data`` (an incident, a note ...)."""
    return {
        "event": {
            "id": str(uuid.uuid4()),
            "event_type": event_type,
            "resource_type": event_type.split(".", 1)[0],
            "occurred_at": utc_now(),
            "agent": agent,
            "client": client,
            "data": data,
        }
    }


def check_webhook_url(url: str, allowed_hosts: frozenset[str]) -> str:
    """``url`` when it is http(s) to a loopback address or an allowed host; ``ValueError`` otherwise."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"webhook url {url!r} is not an http(s) URL")
    if host == "localhost" or host in allowed_hosts or _is_loopback(host):
        return url
    raise ValueError(f"webhook host {host!r} is not a loopback address; allow it with --allow-webhook-host")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(order=True)
class _Job:
    due: float
    sequence: int
    subscription: WebhookSubscription = field(compare=False)
    event_type: str = field(compare=False)
    body: bytes = field(compare=False)
    webhook_id: str = field(compare=False)
    attempt: int = field(compare=False, default=1)


@dataclass
class WebhookDispatcher:
    """Queues webhook events and delivers them from one background thread."""

    state: SimulatorState
    retry_delays: Sequence[float] = (1.0, 5.0, 15.0)
    timeout_seconds: float = 5.0
    allowed_hosts: frozenset[str] = frozenset()
    subscriptions: list[WebhookSubscription] = field(default_factory=list)
    _jobs: list[_Job] = field(default_factory=list, repr=False)
    _sequence: itertools.count[int] = field(default_factory=itertools.count, repr=False)
    _condition: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _in_flight: int = 0
    _stopping: bool = False
    _thread: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pd-sim-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_seconds + 1)

    def subscribe(self, url: str, secret: str, event_types: Sequence[str] | None = None) -> WebhookSubscription:
        subscription = WebhookSubscription(
            id=new_id("P", 7),
            url=check_webhook_url(url, self.allowed_hosts),
            secret=secret,
            event_types=frozenset(event_types) if event_types is not None else None,
        )
        with self._condition:
            self.subscriptions.append(subscription)
        return subscription

    def reset(self) -> None:
        """Forget subscriptions and pending deliveries. An attempt already on the wire is waited for (up to the
        delivery timeout), so that it does not log itself, or schedule a retry, after the reset."""
        with self._condition:
            self.subscriptions.clear()
            self._jobs.clear()
            self._condition.wait_for(lambda: not self._in_flight, self.timeout_seconds + 1)
            self._jobs.clear()

    def publish(self, event: dict[str, Any]) -> None:
        """Queue ``event`` (an envelope) for every subscription that wants its type."""
        event_type = event["event"]["event_type"]
        body = json.dumps(event, separators=(",", ":")).encode()
        with self._condition:
            for subscription in self.subscriptions:
                if subscription.wants(event_type):
                    webhook_id = str(uuid.uuid4())
                    job = _Job(time.monotonic(), next(self._sequence), subscription, event_type, body, webhook_id)
                    heapq.heappush(self._jobs, job)
            self._condition.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued or in flight; False if ``timeout`` passed first."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._jobs and not self._in_flight, timeout)

    def _next_job(self) -> _Job | None:
        with self._condition:
            while not self._stopping:
                now = time.monotonic()
                if self._jobs and self._jobs[0].due <= now:
                    self._in_flight += 1
                    return heapq.heappop(self._jobs)
                wait = self._jobs[0].due - now if self._jobs else None
                self._condition.wait(wait)
            return None

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_seconds) as client:
            while (job := self._next_job()) is not None:
                try:
                    retry = self._attempt(client, job)
                finally:
                    with self._condition:
                        self._in_flight -= 1
                        if retry is not None and not self._stopping:
                            heapq.heappush(self._jobs, retry)
                        self._condition.notify_all()

    def _attempt(self, client: httpx.Client, job: _Job) -> _Job | None:
        """Send one attempt, record it, and return the retry to schedule (None when done)."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-PagerDuty-Signature": sign(job.subscription.secret, job.body),
            "X-Webhook-Id": job.webhook_id,
            "X-Webhook-Subscription": job.subscription.id,
        }
        status: int | None = None
        error: str | None = None
        try:
            status = client.post(job.subscription.url, content=job.body, headers=headers).status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self.state.lock:
            self.state.webhook_deliveries.append(
                WebhookDelivery(
                    job.subscription.id,
                    job.webhook_id,
                    job.event_type,
                    job.subscription.url,
                    job.attempt,
                    status,
                    error,
                )
            )
        retryable = status is None or status >= 500 or status in RETRYABLE_CLIENT_STATUSES
        with self._condition:
            if status is not None and 200 <= status < 300:
                job.subscription.consecutive_drops = 0
            elif not retryable:
                job.subscription.consecutive_drops += 1
        if not retryable or job.attempt > len(self.retry_delays):
            return None
        delay = self.retry_delays[job.attempt - 1]
        return _Job(
            time.monotonic() + delay,
            next(self._sequence),
            job.subscription,
            job.event_type,
            job.body,
            job.webhook_id,
            job.attempt + 1,
        )
