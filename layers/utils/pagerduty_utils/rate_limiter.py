"""A distributed rate limiter that keeps each PagerDuty routing key inside its budget.

PagerDuty accepts about 120 events per minute per routing key and answers 429 (event *not* ingested) beyond
that. Every forwarder process shares one bucket per routing key, kept in the state table under
``rate#<routing key fingerprint>``.

Algorithm: GCRA, the token bucket written as a single number, the *theoretical arrival time* ``tat`` (epoch
milliseconds). Taking ``n`` tokens moves ``tat`` forward by ``n * interval``; the bucket is full when ``tat``
is in the past and empty when ``tat`` is ``capacity * interval`` ahead of now. Why GCRA rather than a window:

- a fixed minute window lets through twice the budget across a window boundary, and a sliding window needs
  arithmetic in the condition, which DynamoDB condition expressions cannot do;
- GCRA's "advance" is ``SET tat = tat + :n`` guarded by ``tat`` bounds: one atomic conditional UpdateItem,
  correct under any number of concurrent writers, no read first and no optimistic retry loop;
- a whole batch takes its tokens in that one write (``n`` = number of events for the key);
- a batch spread over several routing keys takes every key's tokens at once (``acquire_many``): one write
  per key, all in flight together on a small thread pool, so the batch waits for one round trip, not one per
  key. A transaction cannot do this: it is all or nothing, and one drained bucket must not deny the others.

Budget guarantee: the bucket holds ``burst`` tokens and refills at ``limit - burst`` per minute, so no
60-second span ever admits more than ``limit`` events (burst + refill), whatever the interleaving.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import ConfigurationError, DependencyError, RetryableError
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, KeyPrefix, state_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_MS_PER_MINUTE = 60_000
# Items outlive the bucket's own horizon by this much, then TTL removes idle buckets.
_ITEM_TTL_SLACK_SECONDS = 3600
# A write can lose a race at most once per branch switch; three attempts always settle the grant.
_MAX_ATTEMPTS = 3
# Buckets written at once by ``acquire_many``: botocore's default connection pool, 10 connections per client.
_PARALLEL_BUCKETS = 10


@dataclass(frozen=True)
class Grant:
    """How many of the requested tokens were granted, and when the rest could be (seconds from now)."""

    requested: int
    granted: int
    retry_after: float

    @property
    def denied(self) -> int:
        return self.requested - self.granted


@dataclass(frozen=True)
class _Write:
    succeeded: bool
    tat: int


class RateLimiter:
    """Take tokens for a routing key: ``limiter.acquire(fingerprint, tokens=len(batch))``."""

    def __init__(
        self,
        table_name: str,
        *,
        limit_per_minute: int,
        burst: int | None = None,
        client: DynamoDBClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        burst = burst if burst is not None else max(1, limit_per_minute // 6)
        if not 0 < burst < limit_per_minute:
            raise ConfigurationError(
                f"RATE_LIMIT_BURST must be between 1 and RATE_LIMIT_PER_MINUTE - 1 ({limit_per_minute - 1})"
            )
        self._table = table_name
        self._client = client
        self._clock = clock
        self.capacity = burst
        self.interval_ms = math.ceil(_MS_PER_MINUTE / (limit_per_minute - burst))
        # Last tat seen per bucket: picks the branch most likely to succeed first (a guess, never trusted).
        self._last_tat: dict[str, int] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def acquire_many(self, tokens_by_bucket: Mapping[str, int]) -> dict[str, Grant | RetryableError]:
        """``acquire`` for several buckets at once, their writes in flight together.

        Each bucket gets its own grant or, when its write failed, the error: one bucket's failure retries only
        the events of that routing key.
        """
        if len(tokens_by_bucket) <= 1:
            return {bucket: self._acquire_or_error(bucket, tokens) for bucket, tokens in tokens_by_bucket.items()}
        futures = {
            bucket: self._workers().submit(self._acquire_or_error, bucket, tokens)
            for bucket, tokens in tokens_by_bucket.items()
        }
        return {bucket: future.result() for bucket, future in futures.items()}

    def _acquire_or_error(self, bucket_id: str, tokens: int) -> Grant | RetryableError:
        try:
            return self.acquire(bucket_id, tokens)
        except RetryableError as exc:
            return exc

    def _workers(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=_PARALLEL_BUCKETS, thread_name_prefix="rate-limiter")
            return self._executor

    def acquire(self, bucket_id: str, tokens: int) -> Grant:
        """Take up to ``tokens`` tokens at once; grant what the bucket holds (possibly 0), never more."""
        if tokens <= 0:
            return Grant(requested=tokens, granted=0, retry_after=0.0)
        wanted = min(tokens, self.capacity)
        key = state_key(KeyPrefix.RATE_LIMIT, bucket_id)
        with self._lock:
            known_tat = self._last_tat.get(key)
        for _ in range(_MAX_ATTEMPTS):
            now = self._now_ms()
            if known_tat is None or known_tat < now:
                outcome = self._refill_and_take(key, now, wanted)
            else:
                grantable = min(wanted, (now + self._horizon_ms - known_tat) // self.interval_ms)
                if grantable <= 0:
                    return self._grant(tokens, 0, known_tat, now)
                outcome = self._advance(key, now, grantable)
            granted, known_tat = outcome
            if granted:
                with self._lock:
                    self._last_tat[key] = known_tat
                return self._grant(tokens, granted, known_tat, now)
        return self._grant(tokens, 0, known_tat or self._now_ms(), self._now_ms())

    @property
    def _horizon_ms(self) -> int:
        return self.capacity * self.interval_ms

    def _grant(self, requested: int, granted: int, tat: int, now: int) -> Grant:
        """The rest (``requested - granted``) fits once tat has drained far enough below the horizon."""
        remainder = min(requested - granted, self.capacity)
        wait_ms = tat + remainder * self.interval_ms - (now + self._horizon_ms) if remainder else 0
        return Grant(requested=requested, granted=granted, retry_after=max(0.0, wait_ms / 1000))

    def _refill_and_take(self, key: str, now: int, tokens: int) -> tuple[int, int]:
        """The bucket is full (tat in the past or no item): restart it from now. Returns (granted, tat)."""
        new_tat = now + tokens * self.interval_ms
        write = self._update(
            key,
            "SET #tat = :tat, #exp = :exp",
            "attribute_not_exists(#tat) OR #tat < :now",
            {":tat": _n(new_tat), ":now": _n(now), ":exp": _n(self._expiry(new_tat))},
        )
        return (tokens, new_tat) if write.succeeded else (0, write.tat)

    def _advance(self, key: str, now: int, tokens: int) -> tuple[int, int]:
        """The bucket is partly drained: move tat forward if ``tokens`` still fit. Returns (granted, tat)."""
        step = tokens * self.interval_ms
        write = self._update(
            key,
            "SET #tat = #tat + :step, #exp = :exp",
            "#tat >= :now AND #tat <= :highest",
            {
                ":step": _n(step),
                ":now": _n(now),
                ":highest": _n(now + self._horizon_ms - step),
                ":exp": _n(self._expiry(now + self._horizon_ms)),
            },
        )
        return (tokens if write.succeeded else 0), write.tat

    def _update(self, key: str, update: str, condition: str, values: dict[str, Any]) -> _Write:
        """Run one conditional update; either way, learn the bucket's tat (new on success, stored on failure)."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={KEY_ATTRIBUTE: {"S": key}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#tat": "tat", "#exp": EXPIRY_ATTRIBUTE},
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") != "ConditionalCheckFailedException":
                raise DependencyError(f"rate limiter update failed: {error.get('Code', 'error')}") from exc
            stored: dict[str, Any] = exc.response.get("Item", {})  # type: ignore[assignment]
            return _Write(succeeded=False, tat=int(stored.get("tat", {}).get("N", "0")))
        except BotoCoreError as exc:
            raise DependencyError(f"rate limiter update failed: {type(exc).__name__}") from exc
        return _Write(succeeded=True, tat=int(response["Attributes"]["tat"]["N"]))

    def _expiry(self, tat_ms: int) -> int:
        return tat_ms // 1000 + _ITEM_TTL_SLACK_SECONDS

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}
