"""The delivery ledger: per (routing key, dedup key), the newest event PagerDuty has accepted.

One item per alert key (``alert#<routing key fingerprint>#<dedup key>``) holds the event's ``sequence``
(occurred_at in epoch microseconds), a hash of the event, its action and, for a trigger, what is needed to send it
again after a race (``race_repair``). It is both guards at once:

- duplicate guard: a redelivered record maps to the same (sequence, hash) and is not sent again;
- stale guard: an event older than the newest delivered is not sent, so a late trigger can never re-open what
  a newer resolve closed.

Cost: one BatchGetItem (up to 100 keys) for a whole batch before sending, and after PagerDuty accepted, one
conditional update per dedup key ("only if newer than stored"), all of a batch's in one TransactWriteItems call
(up to 100 keys). The condition keeps each item monotonic under any number of concurrent forwarders. A
transaction costs two write units per item instead of one, and buys one API call per batch instead of one per
key (fewer calls, less latency, less CPU in the function). If a condition fails, the whole transaction is
cancelled: the keys whose condition held are then written one by one, and the keys that lost report the newer
entry that beat them.

Within an invocation the writes overlap the sends (``PipelinedRecorder``): a batch larger than one round of
concurrent sends is recorded in transactions of about one round each, written while the next rounds are still
in flight, so only the last round's write is left after the last send. A batch of one round or less is still
one call.

Delivery is at-least-once: if the process dies between PagerDuty's 202 and the ledger write, the record comes
back and is sent again. That resend is harmless: PagerDuty folds a trigger into the open alert with the same
dedup key and a repeated resolve is a no-op.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from pagerduty_utils.exceptions import DependencyError, RetryableError
from pagerduty_utils.state_table import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, KeyPrefix, state_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_BATCH_GET_LIMIT = 100
_TRANSACTION_LIMIT = 100
_MAX_UNPROCESSED_ROUNDS = 5
_REPLAY_ATTRIBUTE = "replay"
_ENTRY_NAMES = {"#seq": "sequence", "#hash": "event_hash", "#action": "action", "#exp": EXPIRY_ATTRIBUTE}


@dataclass(frozen=True, order=True)
class LedgerEntry:
    """What the ledger knows of one delivered event. Ordered by ``sequence`` first."""

    sequence: int
    event_hash: str
    action: str
    replay: bytes | None = field(default=None, compare=False, repr=False)
    """The event as ``race_repair`` keeps it (triggers only); never read back by ``latest``."""

    def supersedes(self, stored: LedgerEntry | None) -> bool:
        """True when this event must still be sent: nothing stored, or newer, or same time but different."""
        if stored is None:
            return True
        if self.sequence != stored.sequence:
            return self.sequence > stored.sequence
        return self.event_hash != stored.event_hash


class DeliveryLedger:
    """Reads the newest delivered entries for a batch; records a delivery if it is still the newest."""

    def __init__(
        self,
        table_name: str,
        *,
        retention_seconds: int,
        client: DynamoDBClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._retention = retention_seconds
        self._client = client
        self._clock = clock

    def latest(self, alert_keys: Iterable[str]) -> dict[str, LedgerEntry]:
        """Newest delivered entry per alert key (strongly consistent); absent or expired keys are left out."""
        wanted = sorted(set(alert_keys))
        found: dict[str, LedgerEntry] = {}
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            chunk = wanted[start : start + _BATCH_GET_LIMIT]
            for item in self._batch_get([state_key(KeyPrefix.ALERT, key) for key in chunk]):
                entry = self._live_entry(item)
                if entry is not None:
                    found[item[KEY_ATTRIBUTE]["S"].removeprefix(f"{KeyPrefix.ALERT.value}#")] = entry
        return found

    def record(self, alert_key: str, entry: LedgerEntry) -> LedgerEntry | None:
        """Store ``entry`` if it supersedes the stored one. Returns None, or the newer entry that won instead."""
        try:
            self._client.update_item(**self._update(alert_key, entry), ReturnValuesOnConditionCheckFailure="ALL_OLD")
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ConditionalCheckFailedException":
                stored: dict[str, Any] = exc.response.get("Item", {})  # type: ignore[assignment]
                return _entry(stored) if stored else None
            raise DependencyError(f"delivery ledger write failed: {error.get('Code', 'error')}") from exc
        except BotoCoreError as exc:
            raise DependencyError(f"delivery ledger write failed: {type(exc).__name__}") from exc
        return None

    def record_many(self, entries: Mapping[str, LedgerEntry]) -> dict[str, LedgerEntry | None]:
        """``record`` for many keys in one transaction per 100; returns only the keys whose write lost."""
        lost: dict[str, LedgerEntry | None] = {}
        keys = list(entries)
        for start in range(0, len(keys), _TRANSACTION_LIMIT):
            lost.update(self._record_chunk({key: entries[key] for key in keys[start : start + _TRANSACTION_LIMIT]}))
        return lost

    def _record_chunk(self, entries: Mapping[str, LedgerEntry]) -> dict[str, LedgerEntry | None]:
        if len(entries) == 1:
            [(key, entry)] = entries.items()
            winner = self.record(key, entry)
            return {key: winner} if winner is not None else {}
        items = [
            {"Update": {**self._update(key, entry), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}
            for key, entry in entries.items()
        ]
        try:
            self._client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise DependencyError(
                    f"delivery ledger write failed: {exc.response.get('Error', {}).get('Code')}"
                ) from exc
            return self._after_cancellation(entries, exc.response.get("CancellationReasons", []))  # type: ignore[arg-type]
        except BotoCoreError as exc:
            raise DependencyError(f"delivery ledger write failed: {type(exc).__name__}") from exc
        return {}

    def _after_cancellation(
        self, entries: Mapping[str, LedgerEntry], reasons: list[Mapping[str, Any]]
    ) -> dict[str, LedgerEntry | None]:
        """Keys whose condition failed lost; the others were not written because of them: write those alone."""
        lost: dict[str, LedgerEntry | None] = {}
        for (key, entry), reason in zip(entries.items(), reasons, strict=False):
            if reason.get("Code") == "ConditionalCheckFailed":
                stored = reason.get("Item")
                lost[key] = _entry(stored) if stored else None
                continue
            winner = self.record(key, entry)
            if winner is not None:
                lost[key] = winner
        return lost

    def _update(self, alert_key: str, entry: LedgerEntry) -> dict[str, Any]:
        """The conditional update of one key: write only what is newer than (or differs at the same time from)
        the stored entry, or replaces an expired one."""
        now = int(self._clock())
        values: dict[str, Any] = {
            ":seq": {"N": str(entry.sequence)},
            ":hash": {"S": entry.event_hash},
            ":action": {"S": entry.action},
            ":exp": {"N": str(now + self._retention)},
            ":now": {"N": str(now)},
        }
        update = "SET #seq = :seq, #hash = :hash, #action = :action, #exp = :exp"
        if entry.replay is None:
            update += " REMOVE #replay"  # a resolve must not leave an older trigger to be replayed
        else:
            update += ", #replay = :replay"
            values[":replay"] = {"B": entry.replay}
        return {
            "TableName": self._table,
            "Key": {KEY_ATTRIBUTE: {"S": state_key(KeyPrefix.ALERT, alert_key)}},
            "UpdateExpression": update,
            "ConditionExpression": (
                "attribute_not_exists(#seq) OR #exp < :now OR #seq < :seq OR (#seq = :seq AND #hash <> :hash)"
            ),
            "ExpressionAttributeNames": {**_ENTRY_NAMES, "#replay": _REPLAY_ATTRIBUTE},
            "ExpressionAttributeValues": values,
        }

    def _batch_get(self, keys: list[str]) -> list[Mapping[str, Any]]:
        request: dict[str, Any] = {
            self._table: {
                "Keys": [{KEY_ATTRIBUTE: {"S": key}} for key in keys],
                "ConsistentRead": True,
                # Everything but the replay: the guards need no event content, and reads cost per 4 KiB.
                "ProjectionExpression": "#key, #seq, #hash, #action, #exp",
                "ExpressionAttributeNames": {**_ENTRY_NAMES, "#key": KEY_ATTRIBUTE},
            }
        }
        items: list[Mapping[str, Any]] = []
        try:
            for _ in range(_MAX_UNPROCESSED_ROUNDS):
                response = self._client.batch_get_item(RequestItems=request)
                items.extend(response.get("Responses", {}).get(self._table, []))
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    return items
        except (ClientError, BotoCoreError) as exc:
            raise DependencyError(f"delivery ledger read failed: {type(exc).__name__}") from exc
        raise DependencyError("delivery ledger read throttled: keys left unprocessed")

    def _live_entry(self, item: Mapping[str, Any]) -> LedgerEntry | None:
        """DynamoDB deletes expired items late: an expired entry counts as absent."""
        expiry = item.get(EXPIRY_ATTRIBUTE)
        if expiry is not None and int(expiry["N"]) < self._clock():
            return None
        return _entry(item)


@dataclass(frozen=True)
class RecordedBatch:
    """What became of a batch's ledger writes."""

    lost: dict[str, LedgerEntry | None]
    """Keys whose write lost to a newer stored entry (``record_many``'s answer, over every write)."""
    unrecorded: int = 0
    """Entries not written because their write failed; PagerDuty has the events, a redelivery resends them."""
    failure: str = ""


class PipelinedRecorder:
    """Records a batch's deliveries while its later sends are still running.

    ``add`` collects each alert key's newest delivered entry as its sends finish; every ``wave`` entries (the
    sends' concurrency, about one round of sends) go out in one ``record_many`` on a worker thread, while the
    event loop goes on sending. ``finish`` writes the rest and waits for every write. The writes follow one
    another (one transaction in flight): they overlap the sends, not each other, so a batch never has more
    than one write waiting for the table. Must be used from the event loop that runs the sends.
    """

    def __init__(self, ledger: DeliveryLedger, *, wave: int) -> None:
        self._ledger = ledger
        self._wave = max(1, wave)
        self._pending: dict[str, LedgerEntry] = {}
        self._writes: list[asyncio.Task[RecordedBatch]] = []

    def add(self, alert_key: str, entry: LedgerEntry) -> None:
        self._pending[alert_key] = entry
        if len(self._pending) >= self._wave:
            self._flush()

    async def finish(self) -> RecordedBatch:
        if self._pending:
            self._flush()
        written = await asyncio.gather(*self._writes)
        self._writes = []
        failures = [batch.failure for batch in written if batch.failure]
        return RecordedBatch(
            lost={key: winner for batch in written for key, winner in batch.lost.items()},
            unrecorded=sum(batch.unrecorded for batch in written),
            failure=failures[0] if failures else "",
        )

    def _flush(self) -> None:
        chunk, self._pending = self._pending, {}
        previous = self._writes[-1] if self._writes else None
        self._writes.append(asyncio.create_task(self._write(chunk, after=previous)))

    async def _write(
        self, entries: dict[str, LedgerEntry], *, after: asyncio.Task[RecordedBatch] | None
    ) -> RecordedBatch:
        if after is not None:
            await asyncio.wait([after])
        try:
            return RecordedBatch(lost=await asyncio.to_thread(self._ledger.record_many, entries))
        except RetryableError as exc:
            return RecordedBatch(lost={}, unrecorded=len(entries), failure=str(exc))


def _entry(item: Mapping[str, Any]) -> LedgerEntry:
    replay = item.get(_REPLAY_ATTRIBUTE)
    return LedgerEntry(
        sequence=int(item["sequence"]["N"]),
        event_hash=item["event_hash"]["S"],
        action=item["action"]["S"],
        replay=replay["B"] if replay else None,
    )
