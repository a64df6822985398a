from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from pagerduty_utils.exceptions import ConfigurationError, DependencyError
from pagerduty_utils.rate_limiter import Grant, RateLimiter
from pdutils.testing.forwarder import StateTable


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_limiter(in_process_state_table: StateTable, clock: FakeClock) -> Callable[..., RateLimiter]:
    def make(limit: int = 120, burst: int | None = None) -> RateLimiter:
        return RateLimiter(
            in_process_state_table.name,
            limit_per_minute=limit,
            burst=burst,
            client=in_process_state_table.client,
            clock=clock,
        )

    return make


def count_updates(table: StateTable) -> list[str]:
    calls: list[str] = []

    def record(**kwargs: Any) -> None:
        calls.append("UpdateItem")

    table.client.meta.events.register("before-call.dynamodb.UpdateItem", record)
    return calls


def test_budget_splits_into_burst_and_refill(make_limiter: Callable[..., RateLimiter]) -> None:
    limiter = make_limiter(limit=120)
    assert limiter.capacity == 20
    assert limiter.interval_ms == 600  # 100 per minute of refill: burst + refill never exceeds 120 a minute


def test_whole_batch_takes_its_tokens_in_one_write(
    make_limiter: Callable[..., RateLimiter], in_process_state_table: StateTable
) -> None:
    limiter = make_limiter()
    updates = count_updates(in_process_state_table)
    grant = limiter.acquire("key-a", 10)
    assert (grant.granted, grant.denied, grant.retry_after) == (10, 0, 0.0)
    assert len(updates) == 1
    assert limiter.acquire("key-a", 10).granted == 10
    assert len(updates) == 2


def test_empty_bucket_denies_with_the_wait_until_tokens_return(
    make_limiter: Callable[..., RateLimiter], clock: FakeClock
) -> None:
    limiter = make_limiter()
    assert limiter.acquire("key-a", 20).granted == 20
    denied = limiter.acquire("key-a", 3)
    assert denied.granted == 0
    assert denied.retry_after == pytest.approx(3 * 0.6)
    clock.advance(denied.retry_after)
    assert limiter.acquire("key-a", 3).granted == 3


def test_partial_grant_gives_what_is_left(make_limiter: Callable[..., RateLimiter], clock: FakeClock) -> None:
    limiter = make_limiter()
    assert limiter.acquire("key-a", 15).granted == 15
    grant = limiter.acquire("key-a", 10)
    assert (grant.granted, grant.denied) == (5, 5)
    assert grant.retry_after == pytest.approx(5 * 0.6)


def test_buckets_are_per_routing_key(make_limiter: Callable[..., RateLimiter]) -> None:
    limiter = make_limiter()
    assert limiter.acquire("key-a", 20).granted == 20
    assert limiter.acquire("key-b", 20).granted == 20


def test_instances_share_one_bucket_through_the_table(make_limiter: Callable[..., RateLimiter]) -> None:
    first, second = make_limiter(), make_limiter()
    granted = [first.acquire("key-a", 8).granted, second.acquire("key-a", 8).granted]
    granted += [first.acquire("key-a", 8).granted, second.acquire("key-a", 8).granted]
    assert sum(granted) == 20


def test_idle_bucket_refills_to_capacity_only(make_limiter: Callable[..., RateLimiter], clock: FakeClock) -> None:
    limiter = make_limiter()
    assert limiter.acquire("key-a", 20).granted == 20
    clock.advance(3600)
    assert limiter.acquire("key-a", 50).granted == 20


@pytest.mark.parametrize("burst", [0, 120, 500])
def test_burst_must_leave_room_for_refill(make_limiter: Callable[..., RateLimiter], burst: int) -> None:
    with pytest.raises(ConfigurationError, match="RATE_LIMIT_BURST"):
        make_limiter(limit=120, burst=burst)


class BarrierClient:
    """A DynamoDB client whose UpdateItem calls wait for each other: sequential calls break the barrier."""

    def __init__(self, client: Any, parties: int) -> None:
        self._client = client
        self._barrier = threading.Barrier(parties, timeout=30)  # a guard against a hang, never a measure
        self.meta = client.meta

    def update_item(self, **kwargs: Any) -> Any:
        self._barrier.wait()
        return self._client.update_item(**kwargs)


def test_many_buckets_are_written_together(in_process_state_table: StateTable, clock: FakeClock) -> None:
    client = BarrierClient(in_process_state_table.client, parties=3)
    limiter = RateLimiter(in_process_state_table.name, limit_per_minute=120, client=client, clock=clock)  # type: ignore[arg-type]
    grants = limiter.acquire_many({"key-a": 5, "key-b": 25, "key-c": 1})
    assert {bucket: (grant.granted, grant.denied) for bucket, grant in grants.items() if isinstance(grant, Grant)} == {
        "key-a": (5, 0),
        "key-b": (20, 5),
        "key-c": (1, 0),
    }


def test_many_buckets_take_one_write_each(
    make_limiter: Callable[..., RateLimiter], in_process_state_table: StateTable
) -> None:
    updates = count_updates(in_process_state_table)
    make_limiter().acquire_many({f"key-{index}": 3 for index in range(10)})
    assert len(updates) == 10


def test_one_failing_bucket_leaves_the_others_granted(in_process_state_table: StateTable, clock: FakeClock) -> None:
    def fail_for_key_b(params: dict[str, Any], **_: Any) -> None:
        if params["Key"]["pk"]["S"].endswith("key-b"):
            raise EndpointConnectionError(endpoint_url="https://dynamodb.invalid")

    in_process_state_table.client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", fail_for_key_b)
    limiter = RateLimiter(
        in_process_state_table.name, limit_per_minute=120, client=in_process_state_table.client, clock=clock
    )
    grants = limiter.acquire_many({"key-a": 2, "key-b": 2})
    assert isinstance(grants["key-b"], DependencyError)
    assert isinstance(grants["key-a"], Grant)
    assert grants["key-a"].granted == 2
