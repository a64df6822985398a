"""The index of alerts held through a PagerDuty outage, so they can be released the moment it answers again.

A held message hides in its queue for up to ``RETRY_MAX_BACKOFF_SECONDS`` (see ``holding``), and SQS offers no
way to list hidden messages. So each message held because PagerDuty failed is remembered here with the receipt
handle of its latest receive; on recovery, ``release`` makes every one of them visible at once
(``ChangeMessageVisibilityBatch`` with 0) and forgets it. A receipt handle that went stale (the message was
received again, or deleted) is refused by SQS and simply forgotten: that message is already on its way.

Layout in the state table: ``held#<shard>`` items (a fixed number of shards, the message id picks one), one
attribute per held message, ``m:<message id>`` -> ``{q: queue ARN, r: receipt handle, s: sent epoch}``. One
UpdateItem per shard a batch touches, no scan to list them (the table holds an item per alert), and the
whole index is one BatchGetItem. An entry takes about 1.2 KB at most (SQS receipt handles reach 1 KB) and an
item 400 KB, so the index holds at least 5,000 messages; past that a write fails, which is logged, and those
messages come back when their hide ends instead of at once. The same holds for a message held again, with a
new receipt handle, between a release's read and its removal of the entries it released.
"""

from __future__ import annotations

import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.alert_forwarder.queue_backoff import Deferral, QueueBackoff
from pagerduty_utils.exceptions import DependencyError
from pagerduty_utils.observability import logger
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, KeyPrefix, state_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_ENTRY_PREFIX = "m:"
DEFAULT_SHARDS = 16


@dataclass(frozen=True)
class HeldMessage:
    """One message hidden in its queue while PagerDuty fails; ``sent_at`` is epoch seconds."""

    message_id: str
    queue_arn: str
    receipt_handle: str
    sent_at: float


class HeldAlerts:
    """``remember`` held messages, ``snapshot`` them, ``release`` them all; ``retention`` bounds an entry's life."""

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient,
        retention_seconds: float,
        shards: int = DEFAULT_SHARDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._client = client
        self._retention = retention_seconds
        self._shards = shards
        self._clock = clock

    def remember(self, messages: Iterable[HeldMessage]) -> None:
        """Record (or refresh the receipt handle of) each message; a failed write is logged, never raised."""
        for shard, items in self._by_shard(messages).items():
            names = {f"#m{index}": _ENTRY_PREFIX + item.message_id for index, item in enumerate(items)}
            values: dict[str, Any] = {
                f":m{index}": {
                    "M": {
                        "q": {"S": item.queue_arn},
                        "r": {"S": item.receipt_handle},
                        "s": {"N": str(int(item.sent_at))},
                    }
                }
                for index, item in enumerate(items)
            }
            values[":expires"] = {"N": str(int(self._clock() + self._retention))}
            assignments = ", ".join(f"#m{index} = :m{index}" for index in range(len(items)))
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key={KEY_ATTRIBUTE: {"S": shard}},
                    UpdateExpression=f"SET {assignments}, #expiration = :expires",
                    ExpressionAttributeNames={**names, "#expiration": EXPIRY_ATTRIBUTE},
                    ExpressionAttributeValues=values,
                )
            except (ClientError, BotoCoreError) as exc:
                logger.warning(
                    "held alerts not indexed: they recover when their hide ends",
                    extra={"messages": len(items), "reason": type(exc).__name__},
                )

    def snapshot(self) -> list[HeldMessage]:
        """Every indexed message, oldest first (one strongly consistent BatchGetItem)."""
        keys = [{KEY_ATTRIBUTE: {"S": self._shard_key(index)}} for index in range(self._shards)]
        try:
            response = self._client.batch_get_item(RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}})
        except (ClientError, BotoCoreError) as exc:
            raise DependencyError(f"held alerts index unreadable: {type(exc).__name__}") from exc
        if response.get("UnprocessedKeys"):
            raise DependencyError("held alerts index read throttled: shards left unprocessed")
        held = [
            _entry(name, value)
            for item in response.get("Responses", {}).get(self._table, [])
            for name, value in item.items()
            if name.startswith(_ENTRY_PREFIX)
        ]
        return sorted(held, key=lambda message: message.sent_at)

    def forget(self, messages: Iterable[HeldMessage]) -> None:
        for shard, items in self._by_shard(messages).items():
            names = {f"#m{index}": _ENTRY_PREFIX + item.message_id for index, item in enumerate(items)}
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key={KEY_ATTRIBUTE: {"S": shard}},
                    UpdateExpression="REMOVE " + ", ".join(names),
                    ExpressionAttributeNames=names,
                )
            except (ClientError, BotoCoreError) as exc:
                logger.warning("released alerts not removed from the index", extra={"reason": type(exc).__name__})

    def release(self, backoff: QueueBackoff) -> list[HeldMessage]:
        """Make every held message visible now and forget it; returns what was released."""
        held = self.snapshot()
        if held:
            backoff.defer([Deferral(message.queue_arn, message.receipt_handle, 0) for message in held])
            self.forget(held)
            logger.info("held alerts released", extra={"messages": len(held)})
        return held

    def _by_shard(self, messages: Iterable[HeldMessage]) -> dict[str, list[HeldMessage]]:
        shards: dict[str, list[HeldMessage]] = defaultdict(list)
        for message in messages:
            shards[self._shard_key(zlib.crc32(message.message_id.encode()) % self._shards)].append(message)
        return dict(shards)

    def _shard_key(self, index: int) -> str:
        return state_key(KeyPrefix.HELD, str(index))


def _entry(name: str, value: Any) -> HeldMessage:
    fields = value["M"]
    return HeldMessage(
        message_id=name.removeprefix(_ENTRY_PREFIX),
        queue_arn=fields["q"]["S"],
        receipt_handle=fields["r"]["S"],
        sent_at=float(fields["s"]["N"]),
    )
