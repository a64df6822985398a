from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from botocore.exceptions import EndpointConnectionError

from pagerduty_utils.cache_manager import CachedItem, CacheManager, CacheStore


@dataclass
class FakeClock:
    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class MemoryStore(CacheStore):
    items: dict[str, CachedItem] = field(default_factory=dict)
    loads: int = 0
    failing: bool = False

    def load(self, key: str) -> CachedItem | None:
        self.loads += 1
        if self.failing:
            raise EndpointConnectionError(endpoint_url="http://dynamodb")
        return self.items.get(key)

    def save(self, key: str, item: CachedItem) -> None:
        if self.failing:
            raise EndpointConnectionError(endpoint_url="http://dynamodb")
        self.items[key] = item


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


def test_put_then_get_serves_from_memory(clock: FakeClock, store: MemoryStore) -> None:
    cache = CacheManager(store, ttl_seconds=60, clock=clock)
    cache.put("services/S1", {"id": "S1"})
    assert cache.get("services/S1") == {"id": "S1"}
    assert store.loads == 0
    assert store.items["services/S1"] == CachedItem('{"id":"S1"}', clock.now + 60)


def test_another_container_reads_the_shared_level(clock: FakeClock, store: MemoryStore) -> None:
    CacheManager(store, clock=clock).put("abilities", ["teams"])
    other = CacheManager(store, clock=clock)
    assert other.get_local("abilities") is None
    assert other.get("abilities") == ["teams"]
    assert other.get_local("abilities") == ["teams"]


def test_expiry_is_checked_here_not_left_to_dynamodb(clock: FakeClock, store: MemoryStore) -> None:
    cache = CacheManager(store, ttl_seconds=60, clock=clock)
    cache.put("abilities", ["teams"])
    clock.now += 61
    assert cache.get("abilities") is None
    assert "abilities" in store.items


def test_explicit_ttl_overrides_the_default(clock: FakeClock, store: MemoryStore) -> None:
    cache = CacheManager(store, ttl_seconds=60, clock=clock)
    cache.put("short", 1, ttl_seconds=5)
    clock.now += 6
    assert cache.get("short") is None


def test_memory_level_is_bounded_least_recently_used_first(clock: FakeClock) -> None:
    cache = CacheManager(None, max_local_entries=2, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_store_failures_are_misses_not_errors(clock: FakeClock, store: MemoryStore) -> None:
    store.failing = True
    cache = CacheManager(store, clock=clock)
    cache.put("k", "v")
    assert cache.get("k") == "v"
    cache.clear_local()
    assert cache.get("k") is None


def test_changing_a_returned_value_does_not_change_the_cache(clock: FakeClock) -> None:
    cache = CacheManager(None, clock=clock)
    cache.put("services/S1", {"id": "S1", "teams": []})
    returned = cache.get("services/S1")
    assert returned is not None
    returned["teams"].append("mutated")
    assert cache.get("services/S1") == {"id": "S1", "teams": []}
