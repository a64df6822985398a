"""Events API v2 clients (sync and async): trigger, acknowledge, resolve and change events.

    client = EventsClient.from_settings(settings)
    result = client.send(event, deadline=deadline_from_context(context))
    result.dedup_key  # what PagerDuty deduplicates on; keep it to resolve the alert later

Events are made to fit PagerDuty's limits before sending (``limits``); failures are typed
(``InvalidEventError`` never retried, ``RateLimitedError``/``PagerDutyUnavailableError`` retryable with
``retry_after``) and each call emits one ``api_call`` metric.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Self

import httpx

from pagerduty_utils.api_client import limits
from pagerduty_utils.api_client.responses import events_error
from pagerduty_utils.api_client.retry import RetryPolicy
from pagerduty_utils.api_client.transport import (
    CallContext,
    Exchange,
    Timeouts,
    asend_with_retry,
    prepare_async_client,
    send_with_retry,
    shared_async_client,
    shared_client,
)
from pagerduty_utils.metrics_collector import MetricsCollector, metrics_collector
from pagerduty_utils.pagerduty_events import AlertEvent, ChangeEvent
from pagerduty_utils.settings import PagerDutySettings, load_settings

ENQUEUE_PATH = "/v2/enqueue"
CHANGE_ENQUEUE_PATH = "/v2/change/enqueue"
_JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class EventResult:
    """PagerDuty accepted the event. ``dedup_key`` is empty for change events, which have none."""

    dedup_key: str
    status_code: int
    attempts: int
    message: str = ""


@dataclass(frozen=True)
class _PreparedEvent:
    operation: str
    url: str
    content: bytes
    dedup_key: str


class _EventsClientBase:
    def __init__(
        self,
        base_url: str,
        *,
        retry: RetryPolicy | None = None,
        metrics: MetricsCollector | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.metrics = metrics or metrics_collector
        self.timeouts = timeouts or Timeouts()

    @classmethod
    def from_settings(cls, settings: PagerDutySettings, **options: Any) -> Self:
        """A client for the configured region or URL, with the configured connect/read timeouts."""
        timeouts = Timeouts(connect=settings.http_connect_timeout, read=settings.http_read_timeout)
        return cls(settings.events_base_url, timeouts=timeouts, **options)

    @classmethod
    def from_environment(cls, **options: Any) -> Self:
        """A client configured by PAGERDUTY_REGION / PAGERDUTY_EVENTS_URL and the timeout variables."""
        return cls.from_settings(load_settings(PagerDutySettings), **options)

    def _prepare_alert(self, event: AlertEvent) -> _PreparedEvent:
        fitted = limits.fit_alert(event)
        operation = f"events.{event.event_action.value}"
        return _PreparedEvent(operation, self.base_url + ENQUEUE_PATH, fitted.content, fitted.body["dedup_key"])

    def _prepare_change(self, event: ChangeEvent) -> _PreparedEvent:
        return _PreparedEvent(
            "events.change", self.base_url + CHANGE_ENQUEUE_PATH, limits.fit_change(event).content, ""
        )

    def _request(self, client: httpx.Client | httpx.AsyncClient, prepared: _PreparedEvent) -> httpx.Request:
        return client.build_request("POST", prepared.url, content=prepared.content, headers=_JSON_HEADERS)

    def _call(self, prepared: _PreparedEvent, deadline: float | None) -> CallContext:
        return CallContext(prepared.operation, self.retry, deadline, events_error, self.metrics)

    @staticmethod
    def _result(prepared: _PreparedEvent, exchange: Exchange) -> EventResult:
        try:
            body = json.loads(exchange.response.content)
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        return EventResult(
            dedup_key=str(body.get("dedup_key") or prepared.dedup_key),
            status_code=exchange.response.status_code,
            attempts=exchange.attempts,
            message=str(body.get("message") or ""),
        )


class EventsClient(_EventsClientBase):
    """Blocking Events API client; without ``http_client`` it uses the container's pooled connections."""

    def __init__(self, base_url: str, *, http_client: httpx.Client | None = None, **options: Any) -> None:
        super().__init__(base_url, **options)
        self._http_client = http_client

    def send(self, event: AlertEvent, *, deadline: float | None = None) -> EventResult:
        """Send a trigger, acknowledge or resolve; ``deadline`` is a ``time.monotonic()`` value."""
        return self._send(self._prepare_alert(event), deadline)

    def send_change(self, event: ChangeEvent, *, deadline: float | None = None) -> EventResult:
        return self._send(self._prepare_change(event), deadline)

    def _send(self, prepared: _PreparedEvent, deadline: float | None) -> EventResult:
        client = self._http_client or shared_client(self.timeouts)
        exchange = send_with_retry(
            client, self._request(client, prepared), self.timeouts, self._call(prepared, deadline)
        )
        return self._result(prepared, exchange)


class AsyncEventsClient(_EventsClientBase):
    """asyncio Events API client: send many events concurrently (``asyncio.gather``) within one deadline."""

    def __init__(self, base_url: str, *, http_client: httpx.AsyncClient | None = None, **options: Any) -> None:
        super().__init__(base_url, **options)
        self._http_client = http_client

    def prepare(self) -> None:
        """Create the pooled client the first send would create (``prepare_async_client``); call it outside any
        running event loop, as a handler's builder runs."""
        if self._http_client is None:
            prepare_async_client(self.timeouts)

    async def send(self, event: AlertEvent, *, deadline: float | None = None) -> EventResult:
        return await self._send(self._prepare_alert(event), deadline)

    async def send_change(self, event: ChangeEvent, *, deadline: float | None = None) -> EventResult:
        return await self._send(self._prepare_change(event), deadline)

    async def _send(self, prepared: _PreparedEvent, deadline: float | None) -> EventResult:
        client = self._http_client or shared_async_client(self.timeouts)
        request = self._request(client, prepared)
        exchange = await asend_with_retry(client, request, self.timeouts, self._call(prepared, deadline))
        return self._result(prepared, exchange)
