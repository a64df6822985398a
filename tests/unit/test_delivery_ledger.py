from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pagerduty_utils.alert_forwarder.delivery_ledger import (
    DeliveryLedger,
    LedgerEntry,
    PipelinedRecorder,
    RecordedBatch,
)
from pdutils.testing.forwarder import StateTable

RETENTION = 3600
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(in_process_state_table: StateTable, clock: Clock) -> DeliveryLedger:
    return DeliveryLedger(
        in_process_state_table.name, retention_seconds=RETENTION, client=in_process_state_table.client, clock=clock
    )


TRIGGER = LedgerEntry(sequence=100, event_hash="h-trigger", action="trigger")
RESOLVE = LedgerEntry(sequence=200, event_hash="h-resolve", action="resolve")


@pytest.mark.parametrize(
    ("candidate", "stored", "expected"),
    [
        (TRIGGER, None, True),
        (RESOLVE, TRIGGER, True),
        (TRIGGER, RESOLVE, False),
        (TRIGGER, TRIGGER, False),
        (LedgerEntry(100, "other", "trigger"), TRIGGER, True),
    ],
    ids=["first", "newer", "stale", "duplicate", "same-time-different-event"],
)
def test_supersedes(candidate: LedgerEntry, stored: LedgerEntry | None, expected: bool) -> None:
    assert candidate.supersedes(stored) is expected


def test_latest_reads_only_delivered_keys(ledger: DeliveryLedger) -> None:
    assert ledger.record("rk#alarm-1", TRIGGER) is None
    assert ledger.latest(["rk#alarm-1", "rk#alarm-2"]) == {"rk#alarm-1": TRIGGER}


def test_latest_reads_more_keys_than_one_batch_get(ledger: DeliveryLedger) -> None:
    keys = [f"rk#alarm-{index}" for index in range(130)]
    for key in keys[::10]:
        ledger.record(key, TRIGGER)
    assert set(ledger.latest(keys)) == set(keys[::10])


def test_record_only_moves_forward(ledger: DeliveryLedger) -> None:
    assert ledger.record("rk#alarm-1", RESOLVE) is None
    assert ledger.record("rk#alarm-1", TRIGGER) == RESOLVE
    assert ledger.latest(["rk#alarm-1"]) == {"rk#alarm-1": RESOLVE}


def test_recording_the_same_event_twice_reports_it_stored(ledger: DeliveryLedger) -> None:
    assert ledger.record("rk#alarm-1", TRIGGER) is None
    assert ledger.record("rk#alarm-1", TRIGGER) == TRIGGER


def test_expired_entry_counts_as_absent_even_before_ttl_deletes_it(ledger: DeliveryLedger, clock: Clock) -> None:
    ledger.record("rk#alarm-1", RESOLVE)
    clock.now += RETENTION + 1
    assert ledger.latest(["rk#alarm-1"]) == {}
    assert ledger.record("rk#alarm-1", TRIGGER) is None


def count_calls(table: StateTable) -> list[str]:
    calls: list[str] = []

    def record(model: object, **kwargs: object) -> None:
        calls.append(getattr(model, "name", "?"))

    table.client.meta.events.register("before-call.dynamodb", record)
    return calls


def test_record_many_writes_a_batch_in_one_call(ledger: DeliveryLedger, in_process_state_table: StateTable) -> None:
    calls = count_calls(in_process_state_table)
    entries = {f"rk#alarm-{index}": TRIGGER for index in range(10)}
    assert ledger.record_many(entries) == {}
    assert calls == ["TransactWriteItems"]
    assert ledger.latest(entries) == entries


def test_record_many_writes_the_rest_when_one_key_lost(ledger: DeliveryLedger) -> None:
    ledger.record("rk#alarm-1", RESOLVE)
    entries = {"rk#alarm-0": TRIGGER, "rk#alarm-1": TRIGGER, "rk#alarm-2": TRIGGER}
    assert ledger.record_many(entries) == {"rk#alarm-1": RESOLVE}
    assert ledger.latest(entries) == {"rk#alarm-0": TRIGGER, "rk#alarm-1": RESOLVE, "rk#alarm-2": TRIGGER}


def test_record_many_of_one_key_is_a_plain_conditional_update(
    ledger: DeliveryLedger, in_process_state_table: StateTable
) -> None:
    calls = count_calls(in_process_state_table)
    assert ledger.record_many({"rk#alarm-0": TRIGGER}) == {}
    assert calls == ["UpdateItem"]


def test_a_trigger_keeps_its_replay_for_the_writer_it_beats(ledger: DeliveryLedger) -> None:
    newer_trigger = LedgerEntry(sequence=300, event_hash="h-newer", action="trigger", replay=b"compressed event")
    ledger.record("rk#alarm-1", newer_trigger)

    winner = ledger.record_many({"rk#alarm-1": RESOLVE, "rk#alarm-2": TRIGGER})["rk#alarm-1"]

    assert winner is not None
    assert winner.replay == b"compressed event"
    assert ledger.latest(["rk#alarm-1"])["rk#alarm-1"].replay is None  # the guards' reads leave it out


def test_a_newer_resolve_removes_the_replay_of_the_trigger_it_replaces(ledger: DeliveryLedger) -> None:
    ledger.record("rk#alarm-1", LedgerEntry(sequence=100, event_hash="h", action="trigger", replay=b"event"))
    ledger.record("rk#alarm-1", RESOLVE)

    winner = ledger.record("rk#alarm-1", LedgerEntry(sequence=150, event_hash="h-old", action="trigger"))

    assert winner == RESOLVE
    assert winner.replay is None


def record_pipelined(ledger: DeliveryLedger, entries: dict[str, LedgerEntry], wave: int) -> RecordedBatch:
    async def run() -> RecordedBatch:
        recorder = PipelinedRecorder(ledger, wave=wave)
        for key, entry in entries.items():
            recorder.add(key, entry)
        return await recorder.finish()

    return asyncio.run(run())


def test_pipelined_batch_of_one_wave_is_one_call(ledger: DeliveryLedger, in_process_state_table: StateTable) -> None:
    calls = count_calls(in_process_state_table)
    entries = {f"rk#alarm-{index}": TRIGGER for index in range(10)}
    assert record_pipelined(ledger, entries, wave=10) == RecordedBatch(lost={})
    assert calls == ["TransactWriteItems"]
    assert ledger.latest(entries) == entries


def test_pipelined_batch_is_written_a_wave_at_a_time_one_write_after_another(
    ledger: DeliveryLedger, in_process_state_table: StateTable
) -> None:
    in_flight: list[int] = [0]
    most_in_flight: list[int] = [0]

    def started(**_: Any) -> None:
        in_flight[0] += 1
        most_in_flight[0] = max(most_in_flight[0], in_flight[0])

    def ended(**_: Any) -> None:
        in_flight[0] -= 1

    in_process_state_table.client.meta.events.register("before-call.dynamodb", started)
    in_process_state_table.client.meta.events.register("after-call.dynamodb", ended)
    calls = count_calls(in_process_state_table)
    entries = {f"rk#alarm-{index}": TRIGGER for index in range(5)}

    assert record_pipelined(ledger, entries, wave=2) == RecordedBatch(lost={})

    assert calls == ["TransactWriteItems", "TransactWriteItems", "UpdateItem"]
    assert most_in_flight == [1]
    assert ledger.latest(entries) == entries


def test_pipelined_batch_reports_the_keys_that_lost_across_its_writes(ledger: DeliveryLedger) -> None:
    ledger.record("rk#alarm-3", RESOLVE)
    entries = {f"rk#alarm-{index}": TRIGGER for index in range(5)}
    assert record_pipelined(ledger, entries, wave=2) == RecordedBatch(lost={"rk#alarm-3": RESOLVE})


def test_pipelined_write_that_fails_counts_its_entries_as_unrecorded(in_process_state_table: StateTable) -> None:
    missing = DeliveryLedger("no-such-table", retention_seconds=RETENTION, client=in_process_state_table.client)
    recorded = record_pipelined(missing, {f"rk#alarm-{index}": TRIGGER for index in range(3)}, wave=2)
    assert (recorded.lost, recorded.unrecorded) == ({}, 3)
    assert "delivery ledger write failed" in recorded.failure
