"""Several forwarder processes at once, sharing the rate limiter and the circuit through the moto server."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from pagerduty_utils.state_table import circuit_key
from pdutils.simulator import SimulatorHandle
from pdutils.testing.forwarder import ROUTING_KEYS, ForwarderStack, application_alert
from pdutils.testing.forwarder_processes import (
    START_TIMEOUT_SECONDS,
    FailurePlan,
    ReadPlan,
    drain_queue,
    fail_through_circuit,
    probe_once,
    read_circuit_state,
)

pytestmark = pytest.mark.integration

PROCESSES = 3
RATE_LIMIT = 30  # per minute: burst 5, refill 25 a minute
BURST = RATE_LIMIT // 6
ALERTS_PER_KEY = 12
RUN_SECONDS = 6.0

context = multiprocessing.get_context("spawn")


def run_processes(target: Callable[..., None], args: tuple[Any, ...], count: int) -> tuple[list[Any], float]:
    """Start ``count`` processes, release them together once all are ready, collect one result each.

    Returns the results and the seconds from the release to the last result.
    """
    start, results = context.Barrier(count + 1), context.Queue()
    processes = [context.Process(target=target, args=(*args, start, results)) for _ in range(count)]
    for process in processes:
        process.start()
    start.wait(timeout=START_TIMEOUT_SECONDS)
    started = time.monotonic()
    collected = [results.get(timeout=120) for _ in processes]
    elapsed = time.monotonic() - started
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return collected, elapsed


def test_processes_keep_each_routing_key_within_budget(
    forwarder_stack: ForwarderStack, pd_sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", str(RATE_LIMIT))
    pd_sim.events_rate_limit = RATE_LIMIT
    for index in range(ALERTS_PER_KEY):
        for team in ("checkout", "security"):
            forwarder_stack.publish(json.dumps(application_alert(f"{team}-{index}", team=team)))

    handled, elapsed = run_processes(
        drain_queue, (forwarder_stack.queue_url, forwarder_stack.queue_arn, RUN_SECONDS), PROCESSES
    )

    assert sum(handled) > 0
    accepted = [
        request.body for request in pd_sim.state.requests if request.path == "/v2/enqueue" and request.status == 202
    ]
    refused = [request for request in pd_sim.state.requests if request.status == 429]
    assert refused == [], "PagerDuty had to refuse events: a routing key went over its budget"
    per_key = Counter(body["routing_key"] for body in accepted)
    budget = BURST + int(elapsed * (RATE_LIMIT - BURST) / 60) + 1
    sent = Counter((body["routing_key"], body["dedup_key"]) for body in accepted)
    timeline = [
        (request.received_at, request.body["routing_key"][:1], request.body["dedup_key"])
        for request in pd_sim.state.requests
        if request.path == "/v2/enqueue" and request.status == 202
    ]
    assert set(per_key) == set(ROUTING_KEYS.values())
    assert all(count <= budget for count in per_key.values()), (per_key, budget, elapsed, timeline)
    assert [alert for alert, count in sent.items() if count > 1] == [], "an alert was sent twice"
    queued = forwarder_stack.queued()
    assert queued > 0, ("the budget should have held some alerts back", per_key, elapsed)
    dead_letters = forwarder_stack.dead_letters()
    assert len(sent) + len(dead_letters) + queued == 2 * ALERTS_PER_KEY, (len(sent), dead_letters, queued)


def test_one_half_open_probe_at_a_time_across_processes(
    forwarder_stack: ForwarderStack, pd_sim: SimulatorHandle
) -> None:
    host = pd_sim.base_url.split("://", 1)[1].rstrip("/")
    forwarder_stack.table.client.put_item(
        TableName=forwarder_stack.table.name,
        Item={
            "pk": {"S": circuit_key(host)},
            "state": {"S": "OPEN"},
            "failure_count": {"N": "5"},
            "opened_at": {"N": str(int(time.time()) - 3600)},
            "expiration": {"N": str(int(time.time()) + 3600)},
        },
    )
    pd_sim.faults.inject(delay=2.0, count=None, path_prefix="/v2/enqueue")  # the probe holds its lease a while

    outcomes, _ = run_processes(probe_once, (forwarder_stack.table.name, pd_sim.base_url, ROUTING_KEYS["default"]), 4)

    assert sorted(outcomes) == ["held", "held", "held", "sent"]
    assert len([request for request in pd_sim.state.requests if request.path == "/v2/enqueue"]) == 1
    item = forwarder_stack.table.client.get_item(
        TableName=forwarder_stack.table.name, Key={"pk": {"S": circuit_key(host)}}
    )["Item"]
    assert item["state"]["S"] == "CLOSED"


def test_failures_add_up_across_processes(forwarder_stack: ForwarderStack, pd_sim: SimulatorHandle) -> None:
    """Two containers seeing three failures each open a circuit whose threshold is five."""
    pd_sim.faults.inject(503, count=None, path_prefix="/v2/enqueue")
    plan = FailurePlan(forwarder_stack.table.name, pd_sim.base_url, ROUTING_KEYS["default"], attempts=3, threshold=5)

    sent, _ = run_processes(fail_through_circuit, (plan,), 2)

    host = pd_sim.base_url.split("://", 1)[1].rstrip("/")
    item = forwarder_stack.table.client.get_item(
        TableName=forwarder_stack.table.name, Key={"pk": {"S": circuit_key(host)}}, ConsistentRead=True
    )["Item"]
    assert item["state"]["S"] == "OPEN"
    # Neither process saw five failures of its own: the circuit opened on their sum. The two processes' last
    # attempts may both read the circuit closed at four failures before either records its fifth, so the
    # sixth is either refused by the open circuit or already on its way: never more than one past the threshold.
    assert sorted(sent) in ([2, 3], [3, 3])
    # Every failure seen while the circuit was closed is counted, whichever process saw it. A sixth failure that
    # is recorded after the fifth opened the circuit has nothing left to count (the write is conditional on
    # CLOSED), so the count is the threshold or every failure sent, never less than the threshold.
    assert plan.threshold <= int(item["failure_count"]["N"]) <= sum(sent)


CONTAINERS = 20
CACHE_SECONDS = 2
READ_SECONDS = 7.0


def test_twenty_containers_read_the_circuit_once_per_cache_period_and_not_all_at_once(
    forwarder_stack: ForwarderStack, pd_sim: SimulatorHandle
) -> None:
    plan = ReadPlan(forwarder_stack.table.name, pd_sim.base_url, READ_SECONDS, CACHE_SECONDS)

    reads_per_container, _ = run_processes(read_circuit_state, (plan,), CONTAINERS)

    for reads in reads_per_container:
        gaps = [later - earlier for earlier, later in itertools.pairwise(reads)]
        assert all(gap >= CACHE_SECONDS for gap in gaps), gaps  # ten threads each, one read per period
    first = min(reads[0] for reads in reads_per_container)
    later = sorted(moment for reads in reads_per_container for moment in reads[1:])
    window = CACHE_SECONDS / 10
    burst = max(sum(1 for moment in later if start <= moment < start + window) for start in later)
    print(f"{len(later)} reads after the first, busiest {window:.1f} s: {burst} (of {CONTAINERS} containers)")
    assert later[0] - first >= CACHE_SECONDS
    # Each container keeps a read for the cache period lengthened by up to half of it, at random, so their
    # second reads come at offsets spread over that extra half period; without the jitter they would all come
    # at the cache period itself, together. Twenty uniform offsets span about 90 % of the spread: the 25 % asked
    # here leaves room for a loaded machine delaying some reads, which only spreads them further.
    assert all(len(reads) >= 2 for reads in reads_per_container), reads_per_container
    offsets = [reads[1] - reads[0] for reads in reads_per_container]
    assert max(offsets) - min(offsets) >= 0.25 * CACHE_SECONDS / 2, offsets
    # A loaded machine can still bunch reads that were due apart (a starved process runs its due threads when it
    # gets the CPU back), so the burst bound leaves that room; all twenty at once is what the jitter prevents.
    assert burst <= CONTAINERS * 3 // 4
