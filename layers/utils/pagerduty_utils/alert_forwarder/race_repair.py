"""What to send when two forwarders raced on one alert and the older event reached PagerDuty last.

Both read the ledger before sending and both saw nothing newer; the older one's ledger write then loses to the
newer entry (``DeliveryLedger.record_many`` returns it), which is how the race is detected. PagerDuty now holds
the older state, so the newer event is sent again:

- an older trigger landed after a newer resolve and re-opened the alert: resolve it again;
- an older resolve landed after a newer trigger and closed an alert that should page: trigger it again. A
  resolved alert cannot be re-opened, so PagerDuty opens a new one for the same dedup key, which is what the
  newer trigger meant. Its content comes from the ledger: each trigger's entry carries the event compressed,
  without its routing key (a secret, and the loser holds the same one).

Two triggers or two resolves need nothing: PagerDuty folds a trigger into the open alert and ignores a repeated
resolve.
"""

from __future__ import annotations

import json
import zlib

from pagerduty_utils.alert_forwarder.delivery_ledger import LedgerEntry
from pagerduty_utils.exceptions import PagerDutyUtilsError
from pagerduty_utils.pagerduty_events import AlertEvent, EventAction

REPLAY_LIMIT_BYTES = 16 * 1024
"""Largest compressed trigger kept in the ledger: ledger writes cost a write unit per KiB, and an alert event is
typically one or two KiB before compression. A larger trigger is delivered as usual but cannot be replayed."""


class RaceRepairError(PagerDutyUtilsError):
    """The newer event cannot be rebuilt (its trigger was too large to keep)."""


def replay_of(event: AlertEvent) -> bytes | None:
    """What the ledger keeps of a trigger to send it again: the event without its routing key, compressed."""
    if event.event_action is not EventAction.TRIGGER:
        return None
    replay = zlib.compress(event.model_dump_json(exclude={"routing_key"}).encode())
    return replay if len(replay) <= REPLAY_LIMIT_BYTES else None


def needs_repair(sent: LedgerEntry, newer: LedgerEntry) -> bool:
    """True when ``sent`` reached PagerDuty after ``newer`` and undid it (a trigger after a resolve or the
    reverse)."""
    actions = {sent.action, newer.action}
    return newer > sent and actions == {EventAction.TRIGGER.value, EventAction.RESOLVE.value}


def repair_event(sent: AlertEvent, newer: LedgerEntry) -> AlertEvent:
    """The newer event again, for the routing key and dedup key of ``sent``."""
    if newer.action == EventAction.RESOLVE:
        return AlertEvent(routing_key=sent.routing_key, event_action=EventAction.RESOLVE, dedup_key=sent.dedup_key)
    if newer.replay is None:
        raise RaceRepairError("the newer trigger was too large to keep in the ledger and cannot be sent again")
    try:
        stored = json.loads(zlib.decompress(newer.replay))
        return AlertEvent.model_validate({**stored, "routing_key": sent.routing_key})
    except (zlib.error, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise RaceRepairError(f"the newer trigger kept in the ledger cannot be read: {type(exc).__name__}") from exc
