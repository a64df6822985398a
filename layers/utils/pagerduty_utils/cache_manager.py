"""Opt-in caching of read calls (services, abilities): in memory per container, then in a shared store.

Two levels: a small in-memory LRU that lives as long as the Lambda container, and a store shared by every
container. The store is the state table by default (DynamoDB items ``cache#<key>``, each with an ``expiration``
in epoch seconds; DynamoDB deletes expired items late, so expiry is always compared here), or Redis / Valkey
(ElastiCache) when a Redis URL is configured (``RedisCacheStore``, keys expiring with Redis's own TTL).
``CacheManager.from_config()`` picks it from the utils configuration: ``cache.redis_url``, else
``state_table``, else memory only, with ``cache.default_ttl``. The cache is an optimisation: a store failure is
logged and treated as a miss (or a skipped write), never raised to the caller.

Values must be JSON-serialisable; ``get`` returns None on a miss, so None itself is not cached.
"""

from __future__ import annotations

import json
import math
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import DependencyError
from pagerduty_utils.observability import logger
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, KeyPrefix, state_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from redis import Redis

    from pagerduty_utils.config_parser.settings_file import UtilsConfig

VALUE_ATTRIBUTE = "value"
DEFAULT_TTL_SECONDS = 300
DEFAULT_LOCAL_ENTRIES = 256
REDIS_KEY_PREFIX = "pagerduty-utils:"
# A cache that stalls is worse than none: a Redis call gets this long before it counts as a miss.
REDIS_TIMEOUT_SECONDS = 1.0


class CacheUnavailableError(DependencyError):
    """The shared cache store could not be reached or answered an error."""


@dataclass(frozen=True)
class CachedItem:
    """A serialised value and the epoch second after which it is stale."""

    value: str
    expires_at: float


class CacheStore(ABC):
    """The shared (second) level: where cached items outlive one container."""

    @abstractmethod
    def load(self, key: str) -> CachedItem | None: ...

    @abstractmethod
    def save(self, key: str, item: CachedItem) -> None: ...


class DynamoDBCacheStore(CacheStore):
    """Cached items in the state table under ``cache#<key>``, with the table's TTL attribute."""

    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = client or boto3.client("dynamodb")

    def load(self, key: str) -> CachedItem | None:
        response = self._client.get_item(
            TableName=self.table_name,
            Key={KEY_ATTRIBUTE: {"S": state_key(KeyPrefix.CACHE, key)}},
            ProjectionExpression="#value, #expiration",
            ExpressionAttributeNames={"#value": VALUE_ATTRIBUTE, "#expiration": EXPIRY_ATTRIBUTE},
        )
        item = response.get("Item")
        if not item or VALUE_ATTRIBUTE not in item or EXPIRY_ATTRIBUTE not in item:
            return None
        return CachedItem(item[VALUE_ATTRIBUTE]["S"], float(item[EXPIRY_ATTRIBUTE]["N"]))

    def save(self, key: str, item: CachedItem) -> None:
        self._client.put_item(
            TableName=self.table_name,
            Item={
                KEY_ATTRIBUTE: {"S": state_key(KeyPrefix.CACHE, key)},
                VALUE_ATTRIBUTE: {"S": item.value},
                EXPIRY_ATTRIBUTE: {"N": str(math.ceil(item.expires_at))},
            },
        )


class RedisCacheStore(CacheStore):
    """Cached items in Redis or Valkey under ``pagerduty-utils:cache#<key>``, expiring with Redis's own TTL.

    ``rediss://`` URLs use TLS with the server's certificate verified (redis-py's URL options such as
    ``ssl_ca_certs=/path/ca.pem`` apply); a user and password in the URL are sent with AUTH
    (``rediss://:password@host:6379/0``, or ``user:password@`` with ACLs). redis-py is imported only when a
    store is built: install it with the ``redis`` extra.
    """

    def __init__(self, url: str, *, client: Redis | None = None, key_prefix: str = REDIS_KEY_PREFIX) -> None:
        self._key_prefix = key_prefix
        if client is None:
            import redis  # noqa: PLC0415  # optional dependency, only when a Redis URL is configured

            client = redis.Redis.from_url(
                url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
            )
        self._client = client

    @property
    def client(self) -> Redis:
        return self._client

    def load(self, key: str) -> CachedItem | None:
        with _redis_errors("GET"):
            raw = self._client.get(self._name(key))
        if raw is None:
            return None
        expires_at, value = json.loads(raw)
        return CachedItem(value, float(expires_at))

    def save(self, key: str, item: CachedItem) -> None:
        payload = json.dumps([item.expires_at, item.value], separators=(",", ":"))
        with _redis_errors("SET"):
            self._client.set(self._name(key), payload, exat=max(1, math.ceil(item.expires_at)))

    def _name(self, key: str) -> str:
        return self._key_prefix + state_key(KeyPrefix.CACHE, key)


@contextmanager
def _redis_errors(operation: str) -> Iterator[None]:
    import redis  # noqa: PLC0415  # already loaded by the store

    try:
        yield
    except redis.RedisError as exc:
        raise CacheUnavailableError(f"Redis {operation} failed: {type(exc).__name__}") from None


_STORE_ERRORS = (BotoCoreError, ClientError, CacheUnavailableError)


class CacheManager:
    """``cache.get(key)`` / ``cache.put(key, value)``: memory first, then the shared store."""

    def __init__(
        self,
        store: CacheStore | None = None,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_local_entries: int = DEFAULT_LOCAL_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.ttl_seconds = ttl_seconds
        self._max_local_entries = max_local_entries
        self._clock = clock
        # Values are kept serialised, so a caller changing what it got back cannot change the cache.
        self._local: OrderedDict[str, CachedItem] = OrderedDict()
        # The async REST client reads and writes through worker threads (asyncio.to_thread).
        self._lock = threading.Lock()

    @classmethod
    def for_table(cls, table_name: str, **options: Any) -> CacheManager:
        return cls(DynamoDBCacheStore(table_name), **options)

    @classmethod
    def from_config(cls, config: UtilsConfig | None = None, **options: Any) -> CacheManager:
        """The configured cache: Redis when ``cache.redis_url`` is set (a secret reference is read first), else
        the state table, else memory only; entries live ``cache.default_ttl`` seconds unless told otherwise."""
        from pagerduty_utils.config_parser.settings_file import resolve_secret, utils_config  # noqa: PLC0415

        config = config or utils_config()
        store: CacheStore | None = None
        if config.cache.redis_url:
            store = RedisCacheStore(resolve_secret(config.cache.redis_url))
        elif config.state_table:
            store = DynamoDBCacheStore(config.state_table)
        return cls(store, **{"ttl_seconds": config.cache.default_ttl, **options})

    @property
    def store(self) -> CacheStore | None:
        """The shared level (None: memory only)."""
        return self._store

    def get_local(self, key: str) -> Any | None:
        """The value from this container's memory, without touching the shared store."""
        with self._lock:
            item = self._local.get(key)
            if item is None:
                return None
            if item.expires_at <= self._clock():
                del self._local[key]
                return None
            self._local.move_to_end(key)
        return json.loads(item.value)

    def get(self, key: str) -> Any | None:
        value = self.get_local(key)
        if value is not None or self._store is None:
            return value
        try:
            item = self._store.load(key)
        except _STORE_ERRORS as exc:
            logger.warning("cache read failed, treated as a miss", extra={"reason": type(exc).__name__})
            return None
        if item is None or item.expires_at <= self._clock():
            return None
        self._remember(key, item)
        return json.loads(item.value)

    def put(self, key: str, value: Any, *, ttl_seconds: float | None = None) -> None:
        expires_at = self._clock() + (self.ttl_seconds if ttl_seconds is None else ttl_seconds)
        item = CachedItem(json.dumps(value, separators=(",", ":")), expires_at)
        self._remember(key, item)
        if self._store is None:
            return
        try:
            self._store.save(key, item)
        except _STORE_ERRORS as exc:
            logger.warning("cache write failed, kept in memory only", extra={"reason": type(exc).__name__})

    def clear_local(self) -> None:
        with self._lock:
            self._local.clear()

    def _remember(self, key: str, item: CachedItem) -> None:
        with self._lock:
            self._local[key] = item
            self._local.move_to_end(key)
            while len(self._local) > self._max_local_entries:
                self._local.popitem(last=False)
