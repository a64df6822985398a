"""Pooled clients reused across warm invocations, and per-attempt timeouts."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

import httpx
import pytest

from pagerduty_utils.api_client import Timeouts, run_async
from pagerduty_utils.api_client.transport import (
    prepare_async_client,
    shared_async_client,
    shared_client,
    tls_context,
)


def test_sync_client_is_shared_per_timeout_configuration() -> None:
    timeouts = Timeouts(connect=1.25, read=4.5)
    client = shared_client(timeouts)
    assert shared_client(Timeouts(connect=1.25, read=4.5)) is client
    assert shared_client(Timeouts(connect=1.25, read=5.5)) is not client
    assert (client.timeout.connect, client.timeout.read) == (1.25, 4.5)
    client.close()
    assert shared_client(timeouts) is not client


DEFAULT_TIMEOUTS = Timeouts(connect=2.5, read=6.0)


async def current_client(timeouts: Timeouts = DEFAULT_TIMEOUTS) -> httpx.AsyncClient:
    return shared_async_client(timeouts)


def test_run_async_keeps_one_loop_so_async_connections_survive_invocations() -> None:
    first = run_async(current_client())
    assert run_async(current_client()) is first
    assert run_async(asyncio.sleep(0, result=1)) == 1


def test_a_prepared_client_is_the_one_later_sends_use() -> None:
    timeouts = Timeouts(connect=3.25, read=7.5)
    prepared = prepare_async_client(timeouts)
    assert run_async(current_client(timeouts)) is prepared
    assert prepare_async_client(timeouts) is prepared
    assert not prepared.is_closed


def test_async_clients_belong_to_their_event_loop() -> None:
    assert asyncio.run(current_client()) is not asyncio.run(current_client())


@pytest.fixture
def counted_tls_contexts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ssl.SSLContext]]:
    """Every TLS context httpx creates while the test runs, from a fresh ``tls_context`` cache."""
    created: list[ssl.SSLContext] = []
    create = httpx.create_ssl_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        created.append(create(*args, **kwargs))  # type: ignore[arg-type]
        return created[-1]

    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    tls_context.cache_clear()
    yield created
    tls_context.cache_clear()


def test_every_pooled_client_shares_one_tls_context(counted_tls_contexts: list[ssl.SSLContext]) -> None:
    sync_clients = [shared_client(Timeouts(connect=1.0, read=read)) for read in (7.25, 8.25)]
    async_clients = [asyncio.run(current_client()), asyncio.run(current_client())]

    assert counted_tls_contexts == [tls_context()]
    assert tls_context().verify_mode == ssl.CERT_REQUIRED
    assert tls_context().check_hostname
    for client in (*sync_clients, *async_clients):
        pool = client._transport._pool  # type: ignore[attr-defined]  # httpcore's pool holds the context
        assert pool._ssl_context is tls_context()


def test_attempt_timeouts_are_clipped_to_the_time_left() -> None:
    timeouts = Timeouts(connect=3.0, read=10.0)
    assert timeouts.for_attempt(None) == {"connect": 3.0, "read": 10.0, "write": 10.0, "pool": 3.0}
    assert timeouts.for_attempt(2.0) == {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}
    assert timeouts.for_attempt(5.0) == {"connect": 3.0, "read": 5.0, "write": 5.0, "pool": 3.0}
