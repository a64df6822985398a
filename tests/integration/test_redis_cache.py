"""The cache's shared level in a real Redis server (started by the tests, with AUTH): same interface and TTL
semantics as the state table, failures degrade to misses, and the configuration picks the backend."""

from __future__ import annotations

import ssl
import time
import uuid
from dataclasses import dataclass

import boto3
import pytest
import redis

from pagerduty_utils import secrets
from pagerduty_utils.api_client import PagerDutyAPIClientSync
from pagerduty_utils.cache_manager import (
    REDIS_KEY_PREFIX,
    CachedItem,
    CacheManager,
    DynamoDBCacheStore,
    RedisCacheStore,
)
from pagerduty_utils.config_parser.settings_file import CacheOptions, UtilsConfig
from pdutils.moto_server import MotoEndpoint
from pdutils.redis_server import RedisEndpoint
from pdutils.simulator import DEFAULT_SERVICE_ID, DEV_TOKEN, SimulatorHandle

pytestmark = pytest.mark.integration


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now


def redis_cache(endpoint: RedisEndpoint, **options: float | Clock) -> CacheManager:
    """One container's cache on the shared Redis."""
    return CacheManager(RedisCacheStore(endpoint.url), **options)  # type: ignore[arg-type]


@pytest.fixture
def key() -> str:
    return f"services/{uuid.uuid4().hex[:8]}"


def test_a_new_container_reads_what_another_one_cached(redis_server: RedisEndpoint, key: str) -> None:
    redis_cache(redis_server).put(key, {"id": "S1", "name": "db"})
    assert redis_cache(redis_server).get(key) == {"id": "S1", "name": "db"}


def test_items_carry_their_expiry_and_a_redis_ttl(redis_server: RedisEndpoint, key: str) -> None:
    clock = Clock(time.time())
    redis_cache(redis_server, ttl_seconds=120, clock=clock).put(key, ["teams"])

    stored = RedisCacheStore(redis_server.url).load(key)
    assert stored == CachedItem('["teams"]', clock.now + 120)
    ttl = redis.Redis.from_url(redis_server.url).ttl(f"{REDIS_KEY_PREFIX}cache#{key}")
    assert 0 < ttl <= 121


def test_expired_items_are_misses_even_before_redis_deletes_them(redis_server: RedisEndpoint, key: str) -> None:
    clock = Clock(time.time())
    redis_cache(redis_server, ttl_seconds=30, clock=clock).put(key, ["teams"])
    assert redis_cache(redis_server, clock=Clock(clock.now + 29)).get(key) == ["teams"]
    assert redis_cache(redis_server, clock=Clock(clock.now + 31)).get(key) is None


def test_a_wrong_password_degrades_to_memory_only(
    redis_server: RedisEndpoint, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache = CacheManager(RedisCacheStore(redis_server.url.replace(redis_server.password, "wrong")))
    cache.put(key, "v")
    assert cache.get(key) == "v"
    assert redis_cache(redis_server).get(key) is None
    unauthenticated = CacheManager(RedisCacheStore(redis_server.url_without_password))
    assert unauthenticated.get(key) is None
    assert "cache write failed, kept in memory only" in caplog.text


def test_an_unreachable_server_is_a_miss() -> None:
    cache = CacheManager(RedisCacheStore("redis://127.0.0.1:9/0"))
    cache.put("k", "v")
    cache.clear_local()
    assert cache.get("k") is None


def test_rest_reads_are_served_from_redis(redis_server: RedisEndpoint, pd_sim: SimulatorHandle) -> None:
    redis.Redis.from_url(redis_server.url).flushdb()

    def container() -> PagerDutyAPIClientSync:
        return PagerDutyAPIClientSync(DEV_TOKEN, base_url=pd_sim.base_url, cache=redis_cache(redis_server))

    assert container().get_service(DEFAULT_SERVICE_ID)["id"] == DEFAULT_SERVICE_ID
    assert container().get_service(DEFAULT_SERVICE_ID)["id"] == DEFAULT_SERVICE_ID
    assert [request.path for request in pd_sim.state.requests] == [f"/services/{DEFAULT_SERVICE_ID}"]


def test_tls_urls_verify_the_server_certificate_and_authenticate() -> None:
    store = RedisCacheStore("rediss://:secret@cache.example.com:6379/0?ssl_ca_certs=/etc/ssl/private-ca.pem")
    connection = store.client.connection_pool.make_connection()  # built, not connected
    assert isinstance(connection, redis.SSLConnection)
    assert (connection.cert_reqs, connection.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert connection.ca_certs == "/etc/ssl/private-ca.pem"
    assert connection.password == "secret"


def test_the_configuration_picks_redis_and_its_ttl(redis_server: RedisEndpoint, key: str) -> None:
    config = UtilsConfig(cache=CacheOptions(redis_url=redis_server.url, default_ttl=45))
    cache = CacheManager.from_config(config)
    cache.put(key, "v")
    assert cache.ttl_seconds == 45
    assert redis_cache(redis_server).get(key) == "v"


def test_the_redis_url_may_be_a_secret_reference(aws: MotoEndpoint, redis_server: RedisEndpoint, key: str) -> None:
    secrets.clear_cache()
    boto3.client("ssm").put_parameter(Name="/pagerduty-utils/redis-url", Value=redis_server.url, Type="SecureString")
    config = UtilsConfig(cache=CacheOptions(redis_url="ssm:/pagerduty-utils/redis-url"))
    CacheManager.from_config(config).put(key, "from a referenced URL")
    assert redis_cache(redis_server).get(key) == "from a referenced URL"
    secrets.clear_cache()


def test_without_redis_the_state_table_is_the_store(aws: MotoEndpoint) -> None:
    boto3.client("dynamodb").create_table(
        TableName="pagerduty-state",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    CacheManager.from_config(UtilsConfig(state_table="pagerduty-state")).put("k", "in DynamoDB")
    assert CacheManager.for_table("pagerduty-state").get("k") == "in DynamoDB"
    assert DynamoDBCacheStore("pagerduty-state").load("k") is not None
    memory_only = CacheManager.from_config(UtilsConfig())
    memory_only.put("k", "here only")
    memory_only.clear_local()
    assert memory_only.get("k") is None
