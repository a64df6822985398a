"""The cache's shared level in DynamoDB (moto server), and the REST client reading through it."""

from __future__ import annotations

import time
from dataclasses import dataclass

import boto3
import pytest

from pagerduty_utils.api_client import PagerDutyAPIClientSync
from pagerduty_utils.cache_manager import CachedItem, CacheManager, DynamoDBCacheStore
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE
from pdutils.moto_server import MotoEndpoint
from pdutils.simulator import DEFAULT_SERVICE_ID, DEV_TOKEN, SimulatorHandle

pytestmark = pytest.mark.integration

TABLE = "pagerduty-state"


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def table(aws: MotoEndpoint) -> str:
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return TABLE


def test_items_are_stored_under_the_cache_prefix_with_an_expiration(table: str) -> None:
    clock = Clock(time.time())
    CacheManager.for_table(table, ttl_seconds=120, clock=clock).put("abilities", ["teams"])
    item = boto3.client("dynamodb").get_item(TableName=table, Key={KEY_ATTRIBUTE: {"S": "cache#abilities"}})["Item"]
    assert int(item[EXPIRY_ATTRIBUTE]["N"]) >= clock.now + 120
    assert DynamoDBCacheStore(table).load("abilities") == CachedItem('["teams"]', float(item[EXPIRY_ATTRIBUTE]["N"]))


def test_a_new_container_reads_what_another_one_cached(table: str) -> None:
    CacheManager.for_table(table).put("services/S1", {"id": "S1", "name": "db"})
    assert CacheManager.for_table(table).get("services/S1") == {"id": "S1", "name": "db"}


def test_expired_items_are_misses_even_before_dynamodb_deletes_them(table: str) -> None:
    clock = Clock(time.time())
    CacheManager.for_table(table, ttl_seconds=30, clock=clock).put("abilities", ["teams"])
    later = Clock(clock.now + 31)
    assert CacheManager.for_table(table, clock=later).get("abilities") is None


def test_missing_table_degrades_to_memory_only(aws: MotoEndpoint) -> None:
    cache = CacheManager.for_table("no-such-table")
    cache.put("k", "v")
    assert cache.get("k") == "v"
    assert CacheManager.for_table("no-such-table").get("k") is None


def test_rest_reads_are_served_from_the_shared_cache(table: str, pd_sim: SimulatorHandle) -> None:
    def container() -> PagerDutyAPIClientSync:
        return PagerDutyAPIClientSync(DEV_TOKEN, base_url=pd_sim.base_url, cache=CacheManager.for_table(table))

    assert container().get_service(DEFAULT_SERVICE_ID)["id"] == DEFAULT_SERVICE_ID
    assert container().get_service(DEFAULT_SERVICE_ID)["id"] == DEFAULT_SERVICE_ID
    assert container().get_abilities() == container().get_abilities()
    assert [request.path for request in pd_sim.state.requests] == [f"/services/{DEFAULT_SERVICE_ID}", "/abilities"]
