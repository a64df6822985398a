"""Which races need a repair, and the event each repair sends."""

from __future__ import annotations

import os
import zlib

import pytest

from pagerduty_utils.alert_forwarder.delivery_ledger import LedgerEntry
from pagerduty_utils.alert_forwarder.race_repair import (
    REPLAY_LIMIT_BYTES,
    RaceRepairError,
    needs_repair,
    repair_event,
    replay_of,
)
from pagerduty_utils.pagerduty_events import AlertEvent, EventAction

ROUTING_KEY = "R" * 32
TRIGGER = AlertEvent.model_validate(
    {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "alarm/cpu",
        "payload": {"summary": "CPU high", "source": "i-0abc", "severity": "critical", "custom_details": {"n": 1}},
    }
)
RESOLVE = AlertEvent(routing_key=ROUTING_KEY, event_action=EventAction.RESOLVE, dedup_key="alarm/cpu")


def entry(sequence: int, action: str, replay: bytes | None = None) -> LedgerEntry:
    return LedgerEntry(sequence=sequence, event_hash=f"{action}-{sequence}", action=action, replay=replay)


@pytest.mark.parametrize(
    ("sent", "newer", "expected"),
    [
        (entry(1, "trigger"), entry(2, "resolve"), True),
        (entry(1, "resolve"), entry(2, "trigger"), True),
        (entry(1, "trigger"), entry(2, "trigger"), False),
        (entry(1, "resolve"), entry(2, "resolve"), False),
        (entry(2, "resolve"), entry(1, "trigger"), False),
    ],
    ids=["trigger-after-resolve", "resolve-after-trigger", "two-triggers", "two-resolves", "not-newer"],
)
def test_only_an_undone_state_change_needs_a_repair(sent: LedgerEntry, newer: LedgerEntry, expected: bool) -> None:
    assert needs_repair(sent, newer) is expected


def test_a_trigger_is_replayed_whole_without_its_routing_key_in_the_ledger() -> None:
    replay = replay_of(TRIGGER)

    assert replay is not None
    assert ROUTING_KEY.encode() not in zlib.decompress(replay)
    assert repair_event(RESOLVE, entry(2, "trigger", replay)) == TRIGGER
    assert replay_of(RESOLVE) is None


def test_a_newer_resolve_is_sent_again_for_the_same_alert() -> None:
    assert repair_event(TRIGGER, entry(2, "resolve")) == RESOLVE


def test_a_trigger_too_large_is_not_kept_and_cannot_be_replayed() -> None:
    blob = os.urandom(REPLAY_LIMIT_BYTES).hex()
    large = TRIGGER.model_copy(update={"payload": TRIGGER.payload.model_copy(update={"custom_details": {"b": blob}})})  # type: ignore[union-attr]

    assert replay_of(large) is None
    with pytest.raises(RaceRepairError, match="too large"):
        repair_event(RESOLVE, entry(2, "trigger"))


def test_an_unreadable_replay_is_a_repair_error() -> None:
    with pytest.raises(RaceRepairError, match="cannot be read"):
        repair_event(RESOLVE, entry(2, "trigger", b"not zlib"))
