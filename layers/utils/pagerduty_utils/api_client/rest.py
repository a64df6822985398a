"""REST API v2 clients: ``PagerDutyAPIClient`` (asyncio) and ``PagerDutyAPIClientSync``.

    incident = await PagerDutyAPIClient().create_incident(
        {"title": "The server is on fire.", "service_id": "PWIXJZS", "urgency": "high"}
    )

Without arguments a client reads ``RestClientSettings`` from the environment, its read timeout and attempts
from the utils configuration (``pagerduty.api_timeout``, ``pagerduty.retry_attempts``), and the token from the
secret named by PAGERDUTY_API_TOKEN_SECRET_ID. Every request carries ``Authorization: Token token=...`` and the
version ``Accept`` header; incident writes also carry ``From`` (PAGERDUTY_FROM_EMAIL), which PagerDuty
requires. Lists are iterators over every page: classic offset pagination stops at PagerDuty's cap
(offset + limit <= 10,000), cursor pagination follows ``next_cursor``. Reads of services and abilities are
cached when the client is given a ``CacheManager``. All the request shapes live in ``rest_requests``; the two
classes differ only in how they wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
from pydantic import Field

from pagerduty_utils import secrets
from pagerduty_utils.api_client import rest_requests
from pagerduty_utils.api_client.responses import rest_error
from pagerduty_utils.api_client.rest_requests import Pager, Params, RestRequest
from pagerduty_utils.api_client.retry import RetryPolicy
from pagerduty_utils.api_client.transport import (
    CallContext,
    Timeouts,
    asend_with_retry,
    send_with_retry,
    shared_async_client,
    shared_client,
)
from pagerduty_utils.cache_manager import CacheManager
from pagerduty_utils.exceptions import ConfigurationError
from pagerduty_utils.metrics_collector import MetricsCollector, metrics_collector
from pagerduty_utils.settings import PagerDutySettings, load_settings

REST_ACCEPT = "application/vnd.pagerduty+json;version=2"


class RestClientSettings(PagerDutySettings):
    """What a REST client needs from the environment: the token's secret and the ``From`` user."""

    api_token_secret_id: str | None = Field(default=None, alias="PAGERDUTY_API_TOKEN_SECRET_ID", min_length=1)
    from_email: str | None = Field(default=None, alias="PAGERDUTY_FROM_EMAIL")

    def api_token(self) -> str:
        """The REST API token, from the secret named by PAGERDUTY_API_TOKEN_SECRET_ID (cached per container)."""
        if not self.api_token_secret_id:
            raise ConfigurationError("PAGERDUTY_API_TOKEN_SECRET_ID: required when no token is given to the client")
        return secrets.get_secret(self.api_token_secret_id, max_age=self.secrets_cache_seconds)


class _RestClientBase:
    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        from_email: str | None = None,
        retry: RetryPolicy | None = None,
        metrics: MetricsCollector | None = None,
        timeouts: Timeouts | None = None,
        cache: CacheManager | None = None,
        settings: RestClientSettings | None = None,
    ) -> None:
        if token is None or base_url is None:
            if settings is None:
                # From the environment and the utils configuration file (environment first): the file's
                # pagerduty.api_timeout is the read timeout, pagerduty.retry_attempts the attempts.
                from pagerduty_utils.config_parser.settings_file import utils_config  # noqa: PLC0415  # here only

                options = utils_config().pagerduty
                settings = load_settings(RestClientSettings)
                timeouts = timeouts or Timeouts(connect=settings.http_connect_timeout, read=options.api_timeout)
                retry = retry or RetryPolicy(max_attempts=options.retry_attempts)
            token = token or settings.api_token()
            base_url = base_url or settings.api_base_url
            from_email = from_email or settings.from_email
            timeouts = timeouts or Timeouts(connect=settings.http_connect_timeout, read=settings.http_read_timeout)
        self.base_url = base_url.rstrip("/")
        self.from_email = from_email
        self.retry = retry or RetryPolicy()
        self.metrics = metrics or metrics_collector
        self.timeouts = timeouts or Timeouts()
        self.cache = cache
        self._headers = {"Authorization": f"Token token={token}", "Accept": REST_ACCEPT}
        self._cache_namespace = rest_requests.cache_namespace(self.base_url, token)

    def _http_request(self, client: httpx.Client | httpx.AsyncClient, request: RestRequest) -> httpx.Request:
        headers = dict(self._headers)
        if request.needs_from:
            if not self.from_email:
                raise ConfigurationError(
                    f"{request.operation} needs the From header: set PAGERDUTY_FROM_EMAIL to a user's email"
                )
            headers["From"] = self.from_email
        return client.build_request(
            request.method, self.base_url + request.path, params=request.params, json=request.body, headers=headers
        )

    def _call(self, request: RestRequest, deadline: float | None) -> CallContext:
        return CallContext(
            f"rest.{request.operation}", self.retry, deadline, rest_error, self.metrics, idempotent=request.idempotent
        )

    def _cache_key(self, request: RestRequest) -> str | None:
        if self.cache is None or not request.cacheable:
            return None
        return rest_requests.cache_key(self._cache_namespace, request)


class PagerDutyAPIClientSync(_RestClientBase):
    """Blocking REST client; without ``http_client`` it uses the container's pooled connections."""

    def __init__(self, token: str | None = None, *, http_client: httpx.Client | None = None, **options: Any) -> None:
        super().__init__(token, **options)
        self._http_client = http_client

    def create_incident(self, incident: Mapping[str, Any], *, deadline: float | None = None) -> dict[str, Any]:
        return self.fetch(rest_requests.create_incident(incident), deadline=deadline)

    def get_incident(self, incident_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        return self.fetch(rest_requests.get_incident(incident_id), deadline=deadline)

    def update_incident(
        self, incident_id: str, changes: Mapping[str, Any], *, deadline: float | None = None
    ) -> dict[str, Any]:
        return self.fetch(rest_requests.update_incident(incident_id, changes), deadline=deadline)

    def add_note(self, incident_id: str, content: str, *, deadline: float | None = None) -> dict[str, Any]:
        return self.fetch(rest_requests.add_note(incident_id, content), deadline=deadline)

    def get_service(self, service_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        return self.fetch(rest_requests.get_service(service_id), deadline=deadline)

    def get_abilities(self, *, deadline: float | None = None) -> list[str]:
        return rest_requests.abilities(self.request(rest_requests.get_abilities(), deadline=deadline))

    def get_current_user(self, *, deadline: float | None = None) -> dict[str, Any]:
        return self.fetch(rest_requests.get_current_user(), deadline=deadline)

    def list_incidents(
        self, params: Params | None = None, *, page_size: int = 100, deadline: float | None = None
    ) -> Iterator[dict[str, Any]]:
        return self.paginate(rest_requests.incidents_pager(params, page_size), deadline=deadline)

    def list_services(
        self, params: Params | None = None, *, page_size: int = 100, deadline: float | None = None
    ) -> Iterator[dict[str, Any]]:
        return self.paginate(rest_requests.services_pager(params, page_size), deadline=deadline)

    def list_audit_records(
        self, params: Params | None = None, *, page_size: int = 100, deadline: float | None = None
    ) -> Iterator[dict[str, Any]]:
        return self.paginate(rest_requests.audit_records_pager(params, page_size), deadline=deadline)

    def paginate(self, pager: Pager, *, deadline: float | None = None) -> Iterator[dict[str, Any]]:
        """Every item of every page, fetching a page only when the previous one is consumed."""
        page: RestRequest | None = pager.first()
        while page is not None:
            items, page = pager.advance(self.request(page, deadline=deadline))
            yield from items

    def fetch(self, request: RestRequest, *, deadline: float | None = None) -> dict[str, Any]:
        """The object ``request`` returns (``incident``, ``service``...), out of PagerDuty's envelope."""
        return rest_requests.unwrap(self.request(request, deadline=deadline), request)

    def request(self, request: RestRequest, *, deadline: float | None = None) -> dict[str, Any]:
        """Send one REST request (cached if cacheable and a cache is set); the decoded JSON body."""
        cache_key = self._cache_key(request)
        if cache_key is not None and self.cache is not None:
            cached: dict[str, Any] | None = self.cache.get(cache_key)
            if cached is not None:
                return cached
        client = self._http_client or shared_client(self.timeouts)
        exchange = send_with_retry(
            client, self._http_request(client, request), self.timeouts, self._call(request, deadline)
        )
        body = rest_requests.decode(exchange.response)
        if cache_key is not None and self.cache is not None:
            self.cache.put(cache_key, body)
        return body


class PagerDutyAPIClient(_RestClientBase):
    """asyncio REST client, the original design's ``PagerDutyAPIClient``."""

    def __init__(
        self, token: str | None = None, *, http_client: httpx.AsyncClient | None = None, **options: Any
    ) -> None:
        super().__init__(token, **options)
        self._http_client = http_client

    async def create_incident(self, incident: Mapping[str, Any], *, deadline: float | None = None) -> dict[str, Any]:
        return await self.fetch(rest_requests.create_incident(incident), deadline=deadline)

    async def get_incident(self, incident_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        return await self.fetch(rest_requests.get_incident(incident_id), deadline=deadline)

    async def update_incident(
        self, incident_id: str, changes: Mapping[str, Any], *, deadline: float | None = None
    ) -> dict[str, Any]:
        return await self.fetch(rest_requests.update_incident(incident_id, changes), deadline=deadline)

    async def add_note(self, incident_id: str, content: str, *, deadline: float | None = None) -> dict[str, Any]:
        return await self.fetch(rest_requests.add_note(incident_id, content), deadline=deadline)

    async def get_service(self, service_id: str, *, deadline: float | None = None) -> dict[str, Any]:
        return await self.fetch(rest_requests.get_service(service_id), deadline=deadline)

    async def get_abilities(self, *, deadline: float | None = None) -> list[str]:
        return rest_requests.abilities(await self.request(rest_requests.get_abilities(), deadline=deadline))

    async def get_current_user(self, *, deadline: float | None = None) -> dict[str, Any]:
        return await self.fetch(rest_requests.get_current_user(), deadline=deadline)

    def list_incidents(
        self, params: Params | None = None, *, page_size: int = 100, deadline: float | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        return self.paginate(rest_requests.incidents_pager(params, page_size), deadline=deadline)

    def list_services(
        self, params: Params | None = None, *, page_size: int = 100, deadline: float | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        return self.paginate(rest_requests.services_pager(params, page_size), deadline=deadline)

    def list_audit_records(
        self, params: Params | None = None, *, page_size: int = 100, deadline: float | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        return self.paginate(rest_requests.audit_records_pager(params, page_size), deadline=deadline)

    async def paginate(self, pager: Pager, *, deadline: float | None = None) -> AsyncIterator[dict[str, Any]]:
        page: RestRequest | None = pager.first()
        while page is not None:
            items, page = pager.advance(await self.request(page, deadline=deadline))
            for item in items:
                yield item

    async def fetch(self, request: RestRequest, *, deadline: float | None = None) -> dict[str, Any]:
        return rest_requests.unwrap(await self.request(request, deadline=deadline), request)

    async def request(self, request: RestRequest, *, deadline: float | None = None) -> dict[str, Any]:
        """Send one REST request; cache reads that miss memory go to DynamoDB on a worker thread."""
        cache_key = self._cache_key(request)
        if cache_key is not None and self.cache is not None:
            cached: dict[str, Any] | None = self.cache.get_local(cache_key)
            if cached is None:
                cached = await asyncio.to_thread(self.cache.get, cache_key)
            if cached is not None:
                return cached
        client = self._http_client or shared_async_client(self.timeouts)
        call = self._call(request, deadline)
        exchange = await asend_with_retry(client, self._http_request(client, request), self.timeouts, call)
        body = rest_requests.decode(exchange.response)
        if cache_key is not None and self.cache is not None:
            await asyncio.to_thread(self.cache.put, cache_key, body)
        return body
